"""The request budget: a thread-safe token bucket per client, and one budget per token shared by every process.

:class:`TokenBucket` keeps one client under ``rate_limit_per_minute`` with bursts, as it always has.
:class:`SharedBudget` holds the same budget for every client of a token at once (the tasks in any worker, a
deferred task's stints, the trigger, the sensor, the UI's Test button) in pyrate-limiter's shared buckets, and
carries a 429's ``Retry-After`` to all of them. :mod:`.ratestorage` opens the storage the connection names.
"""

from __future__ import annotations

import hashlib
import logging
import threading
import time
from collections.abc import Callable
from typing import Protocol

from pyrate_limiter import AbstractBucket, Limiter, Rate, SingleBucketFactory

log = logging.getLogger(__name__)


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


#: How often a shared bucket drops the calls that left its longest window (pyrate-limiter's own default interval).
LEAK_INTERVAL = 10.0

#: Seconds between two tries to reach the shared storage again while it is out.
OUTAGE_RETRY_INTERVAL = 15.0


class PauseStore(Protocol):
    """Where the clients of one token agree until when nobody calls: a wall-clock epoch, in seconds."""

    def until(self) -> float:
        """The moment the pause ends (0 or a past moment: no pause)."""

    def extend(self, until: float) -> None:
        """Pause every client until ``until``, unless a longer pause is already set."""

    def close(self) -> None:
        """Release the storage's connection."""


def budget_key(store_id: str, token: str, base_url: str) -> str:
    """
    The name of a token's shared budget: the store id and a hash of the base URL and token, never the token.

    The same token on another API (an emulator on another port) gets its own budget, so tests do not share one.
    The result is a plain identifier (letters, digits, ``_``), usable as a table, file or Redis key name.
    """
    digest = hashlib.sha256(f"{base_url}\n{token}".encode()).hexdigest()[:24]
    return f"ecwid_{store_id}_{digest}"


def budget_rates(per_minute: float) -> list[Rate]:
    """
    The token bucket's promise as pyrate-limiter's sliding-window rates: bursts of at most a tenth of the budget,
    and never more than the budget in any rolling minute (so 500 a minute stays under Ecwid's 600 together).

    :param per_minute: the budget in calls per minute (> 0).
    """
    if per_minute <= 0:
        raise ValueError(f"per_minute must be positive, got {per_minute}")
    limit = max(1, int(per_minute))
    window_ms = int(60_000 * limit / per_minute)
    burst = max(1, limit // 10)
    if burst >= limit:
        return [Rate(limit, window_ms)]
    # floor, so the burst window's density is not below the minute's (pyrate-limiter's rule for a rate list)
    return [Rate(burst, window_ms * burst // limit), Rate(limit, window_ms)]


class SharedBudget:
    """
    One token's rate budget, shared through storage by every process and thread that calls with the token.

    :meth:`acquire` first waits out a pause that a 429 set (through :meth:`pause`, by any client of the token),
    then takes a place in pyrate-limiter's bucket, blocking while the budget is spent.

    When the storage goes away mid-run (Redis or PostgreSQL restarted, a network cut), a call is not failed for it:
    this client keeps to ``fallback``, a budget of its own at the same rate, logs a warning that says so once, and
    tries the storage again every :data:`OUTAGE_RETRY_INTERVAL` seconds, logging again when it is back. Meanwhile the
    other processes' calls are not counted here, and a 429 pauses only the process that got it; Ecwid's 429 and its
    ``Retry-After``, which every client honours, remain the backstop.

    :param bucket: a pyrate-limiter bucket on shared storage (SQLite, Redis or PostgreSQL).
    :param pauses: the token's shared pause, in the same storage.
    :param key: the budget's name (from :func:`budget_key`; never the token).
    :param fallback: this process's own budget while the storage cannot be reached (default: the bucket's minute
        rate, from ``per_minute``).
    :param reopen: makes the bucket anew when the storage is back (a restarted Redis has forgotten the bucket's
        script): tried once at the first error, before an outage is declared; None: the bucket is used as it is.
    :param storage_errors: the exceptions that mean the storage cannot be reached (the storage's client library's
        connection errors); any other error is a bug and is raised.
    :param storage: the storage as the logs name it (a URL with its password masked).
    :param per_minute: the budget, for the default ``fallback``.
    :param sleep: the function that waits out a pause (injectable for tests).
    :param clock: a wall clock in epoch seconds, the same on every process (injectable for tests).
    """

    def __init__(
        self,
        bucket: AbstractBucket,
        pauses: PauseStore,
        key: str,
        *,
        fallback: TokenBucket | None = None,
        reopen: Callable[[], AbstractBucket] | None = None,
        storage_errors: tuple[type[BaseException], ...] = (OSError,),
        storage: str = "the shared storage",
        per_minute: float = 500.0,
        sleep: Callable[[float], None] = time.sleep,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.bucket = bucket
        self.pauses = pauses
        self.key = key
        self.storage = storage
        self.fallback = fallback or TokenBucket(per_minute, sleep=sleep)
        self._reopen = reopen
        self._storage_errors = storage_errors
        self._sleep = sleep
        self._clock = clock
        # no background leak thread per client: acquire() leaks now and then itself
        self._limiter = Limiter(SingleBucketFactory(bucket, schedule_leak=False))
        self._leaked_at = time.monotonic()
        #: when the running outage began (monotonic), and when the storage is tried next; None: no outage
        self._outage_since: float | None = None
        self._retry_at = 0.0
        #: calls this process made on its own budget during outages, and how many outages it saw
        self.calls_during_outages = 0
        self.outages = 0

    def __repr__(self) -> str:
        return f"SharedBudget(key={self.key!r}, bucket={type(self.bucket).__name__})"

    @property
    def in_outage(self) -> bool:
        """Whether the storage could not be reached at the last try (this process is on its own budget)."""
        return self._outage_since is not None

    def acquire(self) -> float:
        """Block until a call may go out; return the seconds waited (a pause included)."""
        if self._outage_since is not None and time.monotonic() < self._retry_at:
            return self._acquire_alone()
        try:
            if self._outage_since is not None and self._reopen is not None:
                self._use(self._reopen())
            waited = self._acquire_shared()
        except self._storage_errors as err:
            if self._outage_since is not None or self._reopen is None:
                self._storage_lost(err)
                return self._acquire_alone()
            try:  # a restarted Redis forgot the bucket's script between two calls: load it again
                self._use(self._reopen())
                waited = self._acquire_shared()
            except self._storage_errors as again:  # the storage went away: see the class's doc
                self._storage_lost(again)
                return self._acquire_alone()
        self._storage_back()
        self._leak_now_and_then()
        return waited

    def _acquire_shared(self) -> float:
        paused = self.wait_for_pause()
        started = time.monotonic()
        self._limiter.try_acquire(self.key)
        return paused + time.monotonic() - started

    def _use(self, bucket: AbstractBucket) -> None:
        self._limiter.close()
        self.bucket = bucket
        self._limiter = Limiter(SingleBucketFactory(bucket, schedule_leak=False))

    def _acquire_alone(self) -> float:
        self.calls_during_outages += 1
        return self.fallback.acquire()

    def _storage_lost(self, err: BaseException) -> None:
        now = time.monotonic()
        self._retry_at = now + OUTAGE_RETRY_INTERVAL
        if self._outage_since is not None:
            log.debug("The shared rate budget in %s is still out: %s", self.storage, type(err).__name__)
            return
        self._outage_since = now
        self.outages += 1
        log.warning(
            "The shared rate budget %s in %s cannot be reached (%s): this client keeps to a budget of its own at "
            "the same rate until it is back (other clients' calls are not counted meanwhile, and a 429 pauses "
            "this client only). Trying it again every %.0f s.",
            self.key,
            self.storage,
            type(err).__name__,
            OUTAGE_RETRY_INTERVAL,
        )

    def _storage_back(self) -> None:
        if self._outage_since is None:
            return
        log.warning(
            "The shared rate budget %s in %s is reachable again after %.0f s; %d call(s) of this client were "
            "counted by its own budget meanwhile.",
            self.key,
            self.storage,
            time.monotonic() - self._outage_since,
            self.calls_during_outages,
        )
        self._outage_since = None

    def wait_for_pause(self) -> float:
        """Wait until a pause set by any client of the token has passed; return the seconds waited."""
        left = self.pauses.until() - self._clock()
        if left <= 0:
            return 0.0
        log.info("Ecwid rate limit: another client of this token was answered 429; pausing %.1f s", left)
        self._sleep(left)
        return left

    def pause(self, seconds: float) -> None:
        """Ask every client of the token to call nothing for ``seconds`` (a 429's Retry-After).

        While the storage is out, only this process pauses (its caller waits out the Retry-After itself).
        """
        if seconds <= 0:
            return
        try:
            self.pauses.extend(self._clock() + seconds)
        except self._storage_errors as err:  # the storage went away: the caller still waits; see the class's doc
            self._storage_lost(err)

    def _leak_now_and_then(self) -> None:
        if time.monotonic() - self._leaked_at < LEAK_INTERVAL:
            return
        self._leaked_at = time.monotonic()
        try:
            self.bucket.leak(self.bucket.now())
        except Exception as err:  # a busy database: the next leak catches up, the budget stays exact meanwhile
            log.debug("Could not trim the shared rate budget %s: %s", self.key, type(err).__name__)

    def close(self) -> None:
        """Release the storage's connections (quietly when the storage is gone)."""
        for release in (self._limiter.close, self.pauses.close):
            try:
                release()
            except Exception as err:
                log.debug("Closing the shared rate budget %s: %s", self.key, type(err).__name__)
