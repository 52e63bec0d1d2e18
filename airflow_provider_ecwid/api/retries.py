"""When and how long the client retries: the one place that decides it.

429 waits what ``Retry-After`` says (seconds or an HTTP date; 10 s when absent, as Ecwid's own client does);
449, 5xx, connection errors and time-outs back off exponentially with jitter (1, 2, 4... s, at most 30 s).

Two kinds of failure, two bounds:

- 429 (rate limited) and 449 (an import is in progress) say "not now", not "broken": they are retried until
  the waiting budget ``max_retry_wait`` is spent, however many attempts that takes, so a long import lock is
  waited out when the budget allows it (the last wait is cut to what the budget has left).
- 5xx, connection errors and time-outs are also bounded by the attempt count ``max_retries``.

``max_retries=0`` turns every retry off. Every retry is logged with its reason, and giving up raises
:class:`EcwidRetriesExhaustedError` chained to the last error.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any

import requests
import tenacity

from airflow_provider_ecwid.errors import EcwidApiError, EcwidRetriesExhaustedError

log = logging.getLogger("airflow_provider_ecwid.api.client")

#: Ecwid's own client waits this long on a 429 without Retry-After.
DEFAULT_RETRY_AFTER = 10.0
RETRYABLE_STATUS = frozenset({429, 449})
#: "Not now" answers: bounded by the waiting budget only, not by the attempt count.
BUDGET_BOUND_STATUS = frozenset({429, 449})
#: The shortest wait before retrying a 429, so that ``Retry-After: 0`` still spends the budget.
MIN_RETRY_AFTER = 1.0
#: Backoff of 449, 5xx, time-outs and connection errors.
_BACKOFF = tenacity.wait_exponential_jitter(initial=1, max=30, jitter=1)


def is_retryable(status: int) -> bool:
    """429, 449 and 5xx are worth another attempt; every other error is final."""
    return status in RETRYABLE_STATUS or status >= 500


class RetryableAnswer(Exception):
    """An answer worth another attempt (429, 449, 5xx), raised inside the retry loop only."""

    def __init__(self, error: EcwidApiError, retry_after: float | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after

    @property
    def budget_bound(self) -> bool:
        """True for 429 and 449, which only the waiting budget bounds."""
        return self.error.status_code in BUDGET_BOUND_STATUS


def parse_retry_after(value: str | None, now: Callable[[], float] = time.time) -> float | None:
    """Read a ``Retry-After`` header given in seconds or as an HTTP date; None when absent or unreadable."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        moment = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return max(0.0, moment.timestamp() - now())


def retry_after_of(status: int, header: str | None) -> float | None:
    """The wait a 429 asks for (10 s when it does not say); None for other answers (they back off)."""
    if status != 429:
        return None
    wait = parse_retry_after(header)
    return DEFAULT_RETRY_AFTER if wait is None else wait


@dataclass
class RetryPolicy:
    """
    The client's retry rules.

    :param max_retries: how many times a 5xx, a time-out or a connection error is tried again (0 disables
        every retry, 429 and 449 included).
    :param max_retry_wait: the most seconds of waiting between the attempts of one call, in total; the only
        bound of 429 and 449 retries.
    :param sleep: the function that waits (injectable for tests).
    """

    max_retries: int
    max_retry_wait: float
    sleep: Callable[[float], None] = time.sleep

    def retrying(self, method: str, shown_path: str) -> tenacity.Retrying:
        """A tenacity loop for one call, logging and giving up in the call's own words."""
        tally = _Tally()
        return tenacity.Retrying(
            retry=tenacity.retry_if_exception_type((RetryableAnswer, requests.ConnectionError, requests.Timeout)),
            after=tally.count,
            wait=self._wait,
            stop=lambda state: self._stop(state, tally),
            before_sleep=lambda state: self._log_retry(method, shown_path, state, tally),
            retry_error_callback=lambda state: self._give_up(method, shown_path, state, tally),
            sleep=self.sleep,
            reraise=False,
        )

    def _wait(self, state: tenacity.RetryCallState) -> float:
        error = _error_of(state)
        if isinstance(error, RetryableAnswer) and error.retry_after is not None:
            return max(error.retry_after, MIN_RETRY_AFTER)
        backoff = float(_BACKOFF(state))
        left = self.max_retry_wait - state.idle_for
        return backoff if backoff <= left else max(left, 0.0)  # the last wait uses what the budget has left

    def _stop(self, state: tenacity.RetryCallState, tally: _Tally) -> bool:
        if self.max_retries <= 0:
            return True
        error = _error_of(state)
        if not (isinstance(error, RetryableAnswer) and error.budget_bound) and tally.transient > self.max_retries:
            return True
        left = self.max_retry_wait - state.idle_for
        return left <= 0 or state.upcoming_sleep > left

    def _log_retry(self, method: str, shown_path: str, state: tenacity.RetryCallState, tally: _Tally) -> None:
        error = _error_of(state)
        if isinstance(error, RetryableAnswer) and error.budget_bound:
            log.warning(
                "Ecwid %s %s failed (%s); retry %d in %.1f s (%.0f of max_retry_wait %.0f s spent by then)",
                method,
                shown_path,
                _reason(error),
                state.attempt_number,
                state.upcoming_sleep,
                state.idle_for,
                self.max_retry_wait,
            )
        else:
            log.warning(
                "Ecwid %s %s failed (%s); retry %d of %d in %.1f s",
                method,
                shown_path,
                _reason(error),
                tally.transient,
                self.max_retries,
                state.upcoming_sleep,
            )

    def _give_up(self, method: str, shown_path: str, state: tenacity.RetryCallState, tally: _Tally) -> Any:
        error = _error_of(state)
        assert error is not None
        last = error.error if isinstance(error, RetryableAnswer) else error
        if self.max_retries > 0 and tally.transient <= self.max_retries:
            log.error(
                "Ecwid %s %s: giving up (%s); waiting more would pass max_retry_wait of %.1f s (%.1f s spent)",
                method,
                shown_path,
                _reason(error),
                self.max_retry_wait,
                state.idle_for,
            )
        raise EcwidRetriesExhaustedError(method, shown_path, state.attempt_number, state.idle_for, last) from last


@dataclass
class _Tally:
    """The failures of one call that the attempt count bounds: 5xx, time-outs and connection errors."""

    transient: int = 0

    def count(self, state: tenacity.RetryCallState) -> None:
        error = _error_of(state)
        if not (isinstance(error, RetryableAnswer) and error.budget_bound):
            self.transient += 1


def _error_of(state: tenacity.RetryCallState) -> BaseException | None:
    return state.outcome.exception() if state.outcome else None


def _reason(error: BaseException | None) -> str:
    if isinstance(error, RetryableAnswer):
        if error.error.status_code == 449 and "import" not in str(error.error).lower():
            return f"{error.error}; 449: an import is in progress"
        return str(error.error)
    if isinstance(error, requests.Timeout):
        return f"time-out: {type(error).__name__}"
    if isinstance(error, requests.ConnectionError):
        return f"connection error: {type(error).__name__}"
    return repr(error)
