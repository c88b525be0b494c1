"""The per-request latency option of both sandboxes: every API request waits this long before it is answered,
holding its concurrency slot meanwhile, as a round trip to the real service does (benchmarks use NetSuite
0.15 s, JAGGAER 0.1 s). Unlike a latency fault it is a standing condition, not a count of requests."""

import threading

# A held request never outlives this, so a mistyped latency cannot wedge a server thread or a test run.
MAX_LATENCY_SECONDS = 30.0


class Latency:
    def __init__(self, seconds: float = 0.0) -> None:
        self._lock = threading.Lock()
        self._seconds = self.checked(seconds)
        self._released = threading.Event()

    @staticmethod
    def checked(seconds: float) -> float:
        if not 0 <= seconds <= MAX_LATENCY_SECONDS:
            raise ValueError(f"latency must be between 0 and {MAX_LATENCY_SECONDS:g} seconds")
        return float(seconds)

    @property
    def seconds(self) -> float:
        with self._lock:
            return self._seconds

    def set(self, seconds: float) -> None:
        """A new latency; the requests held under the old one go at once (tests hold requests this way)."""
        checked = self.checked(seconds)
        with self._lock:
            self._seconds = checked
            released, self._released = self._released, threading.Event()
        released.set()

    def hold(self) -> None:
        with self._lock:
            seconds, released = self._seconds, self._released
        if seconds:
            released.wait(seconds)
