"""Per-client rate limits (spec section 2): at most `rate_per_second` requests in any 1 s window of the
sandbox clock and at most `max_in_flight` at once; over either, the client gets 429 with Retry-After."""

import math
import threading
from collections import deque
from dataclasses import dataclass

from sandbox.clock import Clock

_WINDOW_SECONDS = 1.0


@dataclass(frozen=True)
class Admission:
    """A request let in; hand it back to `leave` when it is answered."""

    client_id: str
    generation: int


class RateLimiter:
    def __init__(self, *, clock: Clock, rate_per_second: float, max_in_flight: int) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self.rate_per_second = rate_per_second
        self.max_in_flight = max_in_flight
        self._recent: dict[str, deque[float]] = {}
        self._in_flight: dict[str, int] = {}
        self._peak = 0
        # Bumped by reset(): requests admitted before it must not release slots counted after it.
        self._generation = 0

    @property
    def peak_in_flight(self) -> int:
        """The most requests one client had in flight at once since the last reset or reset_peak(), counting a
        request refused for going over max_in_flight: it is above the limit exactly when a client sent one
        request too many at once."""
        with self._lock:
            return self._peak

    @property
    def in_flight(self) -> int:
        """Requests in flight, all clients together."""
        with self._lock:
            return sum(self._in_flight.values())

    def reset_peak(self) -> None:
        with self._lock:
            self._peak = max(self._in_flight.values(), default=0)

    def reset(self, *, rate_per_second: float, max_in_flight: int) -> None:
        with self._lock:
            self.rate_per_second = rate_per_second
            self.max_in_flight = max_in_flight
            self._recent.clear()
            self._in_flight.clear()
            self._peak = 0
            self._generation += 1

    def enter(self, client_id: str) -> Admission | int:
        """An Admission, or the Retry-After seconds of a refusal (refused requests are not counted)."""
        now = self._clock.now()
        with self._lock:
            recent = self._recent.setdefault(client_id, deque())
            while recent and recent[0] <= now - _WINDOW_SECONDS:
                recent.popleft()
            if len(recent) >= self.rate_per_second:
                return max(1, math.ceil(recent[0] + _WINDOW_SECONDS - now))
            in_flight = self._in_flight.get(client_id, 0)
            self._peak = max(self._peak, in_flight + 1)
            if in_flight >= self.max_in_flight:
                return 1
            recent.append(now)
            self._in_flight[client_id] = self._in_flight.get(client_id, 0) + 1
            return Admission(client_id=client_id, generation=self._generation)

    def leave(self, admission: Admission) -> None:
        with self._lock:
            if admission.generation == self._generation:
                self._in_flight[admission.client_id] -= 1
