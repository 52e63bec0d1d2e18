"""When and how long the client retries: the one place that decides it.

429 waits what ``Retry-After`` says (seconds or an HTTP date; 10 s when absent, as Ecwid's own client does);
449, 5xx, connection errors and time-outs back off exponentially with jitter. Attempts and the total planned
waiting are both bounded, every retry is logged with its reason, and giving up raises
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

log = logging.getLogger("airflow_provider_ecwid.client")

#: Ecwid's own client waits this long on a 429 without Retry-After.
DEFAULT_RETRY_AFTER = 10.0
RETRYABLE_STATUS = frozenset({429, 449})


def is_retryable(status: int) -> bool:
    """429, 449 and 5xx are worth another attempt; every other error is final."""
    return status in RETRYABLE_STATUS or status >= 500


class RetryableAnswer(Exception):
    """An answer worth another attempt (429, 449, 5xx), raised inside the retry loop only."""

    def __init__(self, error: EcwidApiError, retry_after: float | None) -> None:
        super().__init__(str(error))
        self.error = error
        self.retry_after = retry_after


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

    :param max_retries: how many times a retryable failure is tried again (0 disables retries).
    :param max_retry_wait: the most seconds of waiting between the attempts of one call, in total.
    :param sleep: the function that waits (injectable for tests).
    """

    max_retries: int
    max_retry_wait: float
    sleep: Callable[[float], None] = time.sleep

    def retrying(self, method: str, shown_path: str) -> tenacity.Retrying:
        """A tenacity loop for one call, logging and giving up in the call's own words."""
        return tenacity.Retrying(
            retry=tenacity.retry_if_exception_type((RetryableAnswer, requests.ConnectionError, requests.Timeout)),
            wait=self._wait,
            stop=self._stop,
            before_sleep=lambda state: self._log_retry(method, shown_path, state),
            retry_error_callback=lambda state: self._give_up(method, shown_path, state),
            sleep=self.sleep,
            reraise=False,
        )

    @staticmethod
    def _wait(state: tenacity.RetryCallState) -> float:
        error = state.outcome.exception() if state.outcome else None
        if isinstance(error, RetryableAnswer) and error.retry_after is not None:
            return error.retry_after
        backoff = tenacity.wait_exponential_jitter(initial=1, max=30, jitter=1)
        return float(backoff(state))

    def _stop(self, state: tenacity.RetryCallState) -> bool:
        if state.attempt_number > self.max_retries:
            return True
        return state.idle_for + state.upcoming_sleep > self.max_retry_wait

    def _log_retry(self, method: str, shown_path: str, state: tenacity.RetryCallState) -> None:
        error = state.outcome.exception() if state.outcome else None
        log.warning(
            "Ecwid %s %s failed (%s); retry %d of %d in %.1f s",
            method,
            shown_path,
            _reason(error),
            state.attempt_number,
            self.max_retries,
            state.upcoming_sleep,
        )

    def _give_up(self, method: str, shown_path: str, state: tenacity.RetryCallState) -> Any:
        error = state.outcome.exception() if state.outcome else None
        assert error is not None
        last = error.error if isinstance(error, RetryableAnswer) else error
        if state.attempt_number <= self.max_retries:
            log.error(
                "Ecwid %s %s: the next wait of %.1f s would pass the retry budget of %.1f s",
                method,
                shown_path,
                state.upcoming_sleep,
                self.max_retry_wait,
            )
        raise EcwidRetriesExhaustedError(method, shown_path, state.attempt_number, state.idle_for, last) from last


def _reason(error: BaseException | None) -> str:
    if isinstance(error, RetryableAnswer):
        return str(error.error)
    if isinstance(error, requests.Timeout):
        return f"time-out: {type(error).__name__}"
    if isinstance(error, requests.ConnectionError):
        return f"connection error: {type(error).__name__}"
    return repr(error)
