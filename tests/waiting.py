"""The one way the tests wait for something that happens in its own time (a batch, a DAG run, a server).

No test sleeps a fixed time to let something finish: it names a condition and waits for it here.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimedOut(AssertionError):
    """
    A condition did not hold in time; the message names what was awaited and the last value seen.

    :param what: what the test waited for, in words.
    :param timeout: how many seconds it waited.
    :param last: the condition's last value.
    """

    def __init__(self, what: str, timeout: float, last: object) -> None:
        super().__init__(f"timed out after {timeout:g} s waiting for {what}; last seen: {last!r:.2000}")
        self.what = what
        self.timeout = timeout
        self.last = last


def wait_until(
    condition: Callable[[], T],
    *,
    what: str,
    timeout: float = 20.0,
    interval: float = 0.02,
    satisfied: Callable[[T], object] = bool,
) -> T:
    """
    Call ``condition`` until its value satisfies ``satisfied`` (by default: is truthy), and return that value.

    :param condition: called at once, then every ``interval`` seconds; it may raise to stop the wait at once.
    :param what: what is awaited, for the failure message ("batch t-1 to complete").
    :param timeout: seconds before failing with :class:`WaitTimedOut`.
    :param interval: seconds between two calls.
    :param satisfied: whether a value is the one awaited; lets ``condition`` return what it saw (a status, a
        state) so that a timeout shows it.
    """
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if satisfied(value):
            return value
        if time.monotonic() >= deadline:
            raise WaitTimedOut(what, timeout, value)
        time.sleep(interval)
