"""Exponential back-off with full jitter, for in-call retries and for record retries alike, so that
many workers hit by the same limit never retry in lock-step (NetSuite spec section 6)."""

import logging
import random
from collections.abc import Callable

logger = logging.getLogger(__name__)


def backoff_delay(*, attempt: int, base: float, cap: float, rng: Callable[[], float] = random.random) -> float:
    """Seconds to wait before retry number `attempt` (1 for the first retry): uniform in
    [0, min(cap, base * 2**(attempt-1))], with a floor of a tenth of the window so it never spins."""
    window = min(cap, base * (2 ** max(0, attempt - 1)))
    return window * (0.1 + 0.9 * rng())


def wait_to_retry(*, system: str, request: str, error: Exception, attempt: int, max_attempts: int, seconds: float,
                  sleep: Callable[[float], None]) -> None:
    """Says what a caller is waiting for and how long, in the words a person running `sync_now` reads, then
    waits exactly that long: the log line and the wait are one number."""
    logger.info("%s did not take %s (%s): waiting %.0f s before try %d of %d", system, request, error, seconds,
                attempt + 1, max_attempts)
    sleep(seconds)
