"""The grace before a deferral is a turn of the one wait: its deadlines hold, and batches done by then are read."""

from __future__ import annotations

import logging
from typing import Any, cast

import pytest
from airflow.providers.common.compat.sdk import AirflowException

from airflow_provider_ecwid.runtime.wait_or_defer import WaitOrDefer
from tests.unit.tickets.test_waiting import Store


class Task:
    """The part of an operator the waiter uses: its log, and a deferral that the test sees."""

    log = logging.getLogger("test")

    def __init__(self) -> None:
        self.deferred = 0

    def defer(self, **_: Any) -> None:
        self.deferred += 1
        raise AssertionError("deferred")


def waiter(task: Task, *, timeout: float | None = None, progress_timeout: float | None = None) -> WaitOrDefer:
    return WaitOrDefer(
        task=cast(Any, task),
        conn_id="ecwid_default",
        poll_interval=10.0,
        timeout=timeout,
        progress_timeout=progress_timeout,
        fail_on="any_failed",
        results_path=None,
    )


def test_batches_done_within_the_grace_are_read_without_a_deferral() -> None:
    store, task = Store(3, seconds=1.0), Task()
    statuses = waiter(task).wait_briefly_or_defer(store.poller(), sleep=store.sleep)
    assert [status.ticket for status in statuses] == store.tickets
    assert task.deferred == 0


def test_a_longer_wait_defers_after_the_grace() -> None:
    store, task = Store(3, seconds=60.0), Task()
    with pytest.raises(AssertionError, match="deferred"):
        waiter(task, timeout=3600, progress_timeout=3600).wait_briefly_or_defer(store.poller(), sleep=store.sleep)
    assert task.deferred == 1
    assert 9.9 <= store.now <= 10.1  # the grace, spent in quick polls


@pytest.mark.parametrize(
    ("limits", "message"),
    [({"timeout": 2.0}, "Timed out"), ({"progress_timeout": 2.0}, "No batch request completed")],
)
def test_a_deadline_that_passes_within_the_grace_fails_there(limits: dict[str, float], message: str) -> None:
    store, task = Store(3, seconds=1.0, stall_at=0.0), Task()  # the store never moves
    with pytest.raises(AirflowException, match=message):
        waiter(task, **limits).wait_briefly_or_defer(store.poller(), sleep=store.sleep)
    assert task.deferred == 0
    assert store.now < 10  # within the grace
