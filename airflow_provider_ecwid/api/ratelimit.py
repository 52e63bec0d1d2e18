"""A thread-safe token bucket that keeps one client under its per-minute request budget."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class TokenBucket:
    """
    Allow ``per_minute`` calls a minute on average, with bursts of at most ``burst`` calls.

    In any 60-second window at most ``per_minute + burst`` calls pass, so the defaults of the hook (500 a
    minute, bursts of 50) stay under Ecwid's 600. Safe to share between threads: callers queue on a lock and
    each takes the next free slot.

    :param per_minute: the sustained budget, in calls per minute (> 0).
    :param burst: how many calls may pass at once after a quiet spell; default a tenth of the budget.
    :param clock: a monotonic clock in seconds (injectable for tests).
    :param sleep: the function that waits (injectable for tests).
    """

    def __init__(
        self,
        per_minute: float,
        burst: int | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if per_minute <= 0:
            raise ValueError(f"per_minute must be positive, got {per_minute}")
        self.rate = per_minute / 60.0
        self.capacity = float(burst if burst is not None else max(1, int(per_minute // 10)))
        if self.capacity < 1:
            raise ValueError(f"burst must be at least 1, got {burst}")
        self._clock = clock
        self._sleep = sleep
        self._tokens = self.capacity
        self._updated = clock()
        self._lock = threading.Lock()

    def _reserve(self) -> float:
        """Take one token (possibly going into debt) and return how long the caller must wait for it."""
        with self._lock:
            now = self._clock()
            self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
            self._updated = now
            self._tokens -= 1.0
            return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    def acquire(self) -> float:
        """Block until a call may go out; return the seconds waited."""
        delay = self._reserve()
        if delay > 0:
            self._sleep(delay)
        return delay
