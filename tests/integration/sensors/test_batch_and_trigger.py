"""EcwidBatchSensor and EcwidBatchTrigger against the emulator over HTTP."""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
import requests_mock as requests_mock_lib
from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, TaskDeferred

from airflow_provider_ecwid.operators.batch import EcwidBatchOperator
from airflow_provider_ecwid.sensors.batch import EcwidBatchSensor
from airflow_provider_ecwid.testing import EcwidEmulator
from airflow_provider_ecwid.triggers.batch import EcwidBatchTrigger
from tests.integration.fakes import FakeStateStore, FakeTaskInstance, TaskLogs, make_context
from tests.integration.helpers import reschedule_exception, wait_for_batches
from tests.waiting import wait_until


def submit(rows: list[dict[str, Any]], **options: Any) -> list[str]:
    options.setdefault("defer_grace", 0)  # these tests are about deferring: no grace in the worker first
    operator = EcwidBatchOperator(task_id="submit", data=pd.DataFrame(rows), path="/products", **options)
    tickets: list[str] = operator.execute(make_context())
    return tickets


def products(count: int, duplicate_at: int | None = None) -> list[dict[str, Any]]:
    rows = [{"sku": f"S{n:03d}", "name": f"p{n}", "enabled": True} for n in range(count)]
    if duplicate_at is not None:
        rows[duplicate_at]["sku"] = "S000"
    return rows


def sensor(tickets: Any, **options: Any) -> EcwidBatchSensor:
    options.setdefault("poke_interval", 0.05)
    options.setdefault("defer_grace", 0)  # these tests are about deferring: no grace in the worker first
    return EcwidBatchSensor(task_id="wait", tickets=tickets, **options)


# -- the sensor -------------------------------------------------------------------------------------------------


@pytest.mark.ecwid_emulator(processing_time=0.002)
def test_poke_mode_reports_every_row(emulator_conn: EcwidEmulator) -> None:
    tickets = submit(products(120), chunk_size=25)
    report = sensor(tickets, deferrable=False).execute(make_context())
    assert (report["total"], report["completed"], report["failed_count"]) == (120, 120, 0)
    assert report["created_count"] == 120
    assert [t["ticket"] for t in report["tickets"]] == tickets


@pytest.mark.ecwid_emulator(processing_time=0.01)
def test_status_calls_grow_with_time_not_with_tickets(emulator_conn: EcwidEmulator) -> None:
    tickets = submit(products(200), chunk_size=10)  # 20 tickets, about 2 s of work
    before = emulator_conn.call_count(method="GET", endpoint="/batch")
    started = time.monotonic()
    sensor(tickets, deferrable=False, poke_interval=0.1).execute(make_context())
    elapsed = time.monotonic() - started
    status_calls = emulator_conn.call_count(method="GET", endpoint="/batch") - before
    polls = elapsed / 0.1
    # at most one call per poke for the ticket in progress, plus one per ticket that completes
    assert status_calls <= polls + len(tickets) + 2
    # polling every unfinished ticket each poke would cost about tickets x polls / 2
    assert status_calls < len(tickets) * polls / 4


@pytest.mark.ecwid_emulator(processing_time=0.05)
@pytest.mark.usefixtures("airflow_2_metadata_db")
def test_reschedule_mode_frees_the_slot_until_done(emulator_conn: EcwidEmulator) -> None:
    tickets = submit(products(10), chunk_size=5)  # about half a second of work
    with pytest.raises(reschedule_exception()):
        sensor(tickets, deferrable=False, mode="reschedule", poke_interval=5).execute(make_context())
    wait_for_batches(emulator_conn)
    # Airflow runs a fresh instance at the rescheduled time
    report = sensor(tickets, deferrable=False, mode="reschedule", poke_interval=5).execute(make_context())
    assert (report["total"], report["completed"]) == (10, 10)


def status_calls_of(emulator: EcwidEmulator, wait: Callable[[], dict[str, Any]]) -> tuple[int, dict[str, Any]]:
    before = emulator.call_count(method="GET", endpoint="/batch")
    report = wait()
    return emulator.call_count(method="GET", endpoint="/batch") - before, report


def reschedule_until_done(tickets: list[str], state_store: FakeStateStore | None, interval: float) -> dict[str, Any]:
    """What Airflow does in reschedule mode: a new sensor instance for every poke, until one returns."""
    rescheduled = reschedule_exception()

    def one_try() -> dict[str, Any] | None:
        try:
            waiting = sensor(tickets, deferrable=False, mode="reschedule", poke_interval=interval)
            report: dict[str, Any] = waiting.execute(make_context(state_store=state_store))
            return report
        except rescheduled:
            return None

    report = wait_until(one_try, what="a reschedule-mode try to return the report", timeout=60, interval=interval)
    assert report is not None  # wait_until returns only a truthy value
    return report


@pytest.mark.ecwid_emulator(processing_time=0.004)
@pytest.mark.usefixtures("airflow_2_metadata_db")
@pytest.mark.parametrize("with_state_store", [True, False], ids=["airflow-3.3-state-store", "no-state-store"])
def test_reschedule_mode_costs_the_status_calls_of_poke_mode(
    emulator_conn: EcwidEmulator, with_state_store: bool
) -> None:
    rows = [{"sku": f"R{n:04d}", "name": f"p{n}", "enabled": True} for n in range(1000)]
    first, second = submit(rows[:500], chunk_size=5), submit(rows[500:], chunk_size=5)  # 100 tickets each
    poke_calls, poke_report = status_calls_of(
        emulator_conn, lambda: sensor(first, deferrable=False, poke_interval=0.05).execute(make_context())
    )
    store = FakeStateStore() if with_state_store else None
    reschedule_calls, reschedule_report = status_calls_of(
        emulator_conn, lambda: reschedule_until_done(second, store, 0.05)
    )
    assert (poke_report["completed"], reschedule_report["completed"]) == (500, 500)
    assert reschedule_report["created_count"] == 500
    assert poke_calls >= 100  # every ticket read at least once
    assert reschedule_calls <= 1.2 * poke_calls, (reschedule_calls, poke_calls)


@pytest.mark.ecwid_emulator
def test_failed_rows_fail_the_task_by_default_and_are_written(
    emulator_conn: EcwidEmulator, tmp_path: Path, task_logs: TaskLogs
) -> None:
    tickets = submit(products(5, duplicate_at=2), stop_on_first_failure=True)
    results = tmp_path / "results.csv"
    with pytest.raises(AirflowException, match="3 of 5 rows did not complete"):
        sensor(tickets, deferrable=False, results_path=str(results)).execute(make_context())
    logs = task_logs.text()
    assert "SKU_ALREADY_EXISTS" in logs
    written = pd.read_csv(results)
    assert list(written["status"]) == ["COMPLETED", "COMPLETED", "FAILED", "NOT_EXECUTED", "NOT_EXECUTED"]
    assert written.loc[2, "error_code"] == "SKU_ALREADY_EXISTS"


def test_fail_on_never_and_a_fraction(emulator_conn: EcwidEmulator, tmp_path: Path) -> None:
    tickets = submit(products(10, duplicate_at=5), stop_on_first_failure=False)
    report = sensor(tickets, deferrable=False, fail_on="never", results_path=str(tmp_path / "r.jsonl")).execute(
        make_context()
    )
    assert report["failed_count"] == 1
    assert report["failed"][0]["id"] == "5"
    assert report["failed"][0]["http_status"] == 409
    lines = [json.loads(line) for line in (tmp_path / "r.jsonl").read_text().splitlines()]
    assert len(lines) == 10
    assert sensor(tickets, deferrable=False, fail_on=0.1).execute(make_context())["failed_count"] == 1
    with pytest.raises(AirflowException):
        sensor(tickets, deferrable=False, fail_on=0.05).execute(make_context())


def test_unknown_ticket_fails_closed(emulator_conn: EcwidEmulator) -> None:
    with pytest.raises(AirflowException, match="does not know ticket no-such-ticket"):
        sensor(["no-such-ticket"], deferrable=False).execute(make_context())


@pytest.mark.ecwid_emulator(processing_time=5)
def test_progress_timeout_fails_closed(emulator_conn: EcwidEmulator) -> None:
    tickets = submit(products(3))
    with pytest.raises(AirflowException, match="No batch request completed"):
        sensor(tickets, deferrable=False, progress_timeout=0.3).execute(make_context())


def test_no_tickets_is_an_empty_report(emulator_conn: EcwidEmulator) -> None:
    assert sensor([], deferrable=False).execute(make_context())["total"] == 0
    assert emulator_conn.call_count() == 0


@pytest.mark.ecwid_emulator(processing_time=1)
def test_deferrable_sensor_defers_with_json_kwargs(emulator_conn: EcwidEmulator) -> None:
    tickets = submit(products(3))
    waiting = sensor(tickets, deferrable=True, timeout=600, progress_timeout=60)
    with pytest.raises(TaskDeferred) as deferred:
        waiting.execute(make_context())
    trigger = deferred.value.trigger
    assert isinstance(trigger, EcwidBatchTrigger)
    classpath, kwargs = trigger.serialize()
    assert classpath == "airflow_provider_ecwid.triggers.batch.EcwidBatchTrigger"
    again = EcwidBatchTrigger(**json.loads(json.dumps(kwargs)))
    assert again.serialize() == (classpath, kwargs)
    assert kwargs["tickets"] == tickets
    assert time.time() + 590 < kwargs["deadline"] <= time.time() + 600
    assert emulator_conn.token() not in json.dumps(kwargs)


def test_execute_complete_fails_closed_on_bad_events(emulator_conn: EcwidEmulator) -> None:
    tickets = submit(products(2))
    waiting = sensor(tickets)
    for event in (None, "done", {}, {"status": "weird", "tickets": tickets}, {"status": "success", "tickets": ["x"]}):
        with pytest.raises(AirflowException):
            waiting.execute_complete(make_context(), event)
    with pytest.raises(AirflowException, match="Timed out"):
        waiting.execute_complete(
            make_context(), {"status": "error", "message": "Timed out waiting", "tickets": tickets}
        )
    wait_for_batches(emulator_conn)  # a success event comes when the batches are done
    report = waiting.execute_complete(make_context(), {"status": "success", "tickets": tickets})
    assert report["completed"] == 2


# -- the trigger -----------------------------------------------------------------------------------------------


async def first_event(trigger: EcwidBatchTrigger) -> dict[str, Any]:
    events = [event async for event in trigger.run()]
    assert len(events) == 1  # exactly one terminal event
    payload: dict[str, Any] = events[0].payload
    return payload


def trigger_for(tickets: list[str], **options: Any) -> EcwidBatchTrigger:
    options.setdefault("poll_interval", 0.05)
    return EcwidBatchTrigger(conn_id="ecwid_default", tickets=tickets, **options)


@pytest.mark.ecwid_emulator(processing_time=0.005)
async def test_trigger_success_and_partial_failure(emulator_conn: EcwidEmulator) -> None:
    tickets = submit(products(60, duplicate_at=30), chunk_size=20, stop_on_first_failure=True)
    event = await first_event(trigger_for(tickets))
    assert event["status"] == "success"
    assert event["tickets"] == tickets
    assert event["status_calls"] >= 3
    assert emulator_conn.token() not in json.dumps(event)


async def test_trigger_unknown_ticket(emulator_conn: EcwidEmulator) -> None:
    event = await first_event(trigger_for(["missing"]))
    assert (event["status"], event["reason"]) == ("error", "unknown_ticket")


@pytest.mark.ecwid_emulator(processing_time=5)
async def test_trigger_progress_timeout(emulator_conn: EcwidEmulator) -> None:
    tickets = submit(products(2))
    event = await first_event(trigger_for(tickets, progress_timeout=0.3, last_progress_at=time.time()))
    assert (event["status"], event["reason"]) == ("error", "progress_timeout")


@pytest.mark.ecwid_emulator(processing_time=5)
async def test_trigger_deadline(emulator_conn: EcwidEmulator) -> None:
    tickets = submit(products(2))
    event = await first_event(trigger_for(tickets, deadline=time.time() + 0.3))
    assert (event["status"], event["reason"]) == ("error", "timeout")


@pytest.mark.ecwid_emulator(rate_limit_per_minute=4, rate_limit_window=1, processing_time=0.01)
async def test_trigger_rides_out_a_429_storm(emulator_conn: EcwidEmulator) -> None:
    tickets = submit(products(40), chunk_size=5)
    event = await first_event(trigger_for(tickets, poll_interval=0.01))
    assert event["status"] == "success"
    assert emulator_conn.call_count(status=429) > 0


@pytest.mark.ecwid_emulator(processing_time=0.05)
async def test_trigger_on_kill_cancels_the_group(emulator_conn: EcwidEmulator) -> None:
    operator = EcwidBatchOperator(task_id="submit", data=pd.DataFrame(products(40)), path="/products", chunk_size=10)
    tickets = operator.execute(make_context(FakeTaskInstance()))
    await trigger_for(tickets, group_id=operator.group_id, cancel_on_kill=True).on_kill()
    assert emulator_conn.call_count(method="POST", endpoint="/batch/cancel-group") == 1
    await trigger_for(tickets, group_id=operator.group_id, cancel_on_kill=False).on_kill()
    assert emulator_conn.call_count(method="POST", endpoint="/batch/cancel-group") == 1


# -- the operator waiting ---------------------------------------------------------------------------------------


def test_operator_waits_and_returns_the_report(emulator_conn: EcwidEmulator) -> None:
    operator = EcwidBatchOperator(
        task_id="w",
        data=pd.DataFrame(products(30)),
        path="/products",
        chunk_size=10,
        wait_for_completion=True,
        poll_interval=0.05,
        deferrable=False,
    )
    report = operator.execute(make_context())
    assert (report["total"], report["completed"]) == (30, 30)


def deferrable_operator(count: int, **options: Any) -> EcwidBatchOperator:
    """A deferrable batch operator that waits for its ``count`` products."""
    return EcwidBatchOperator(
        task_id="w",
        data=pd.DataFrame(products(count)),
        path="/products",
        wait_for_completion=True,
        deferrable=True,
        **options,
    )


@pytest.mark.ecwid_emulator(processing_time=0.5)
def test_operator_defers_when_deferrable(emulator_conn: EcwidEmulator) -> None:
    ti = FakeTaskInstance()
    operator = deferrable_operator(3, defer_grace=0)
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(make_context(ti))
    kwargs = deferred.value.trigger.serialize()[1]
    assert kwargs["tickets"] == ti.xcom["tickets"]  # the tickets were in XCom before waiting
    assert kwargs["cancel_on_kill"] is True
    assert kwargs["group_id"] == operator.group_id
    assert kwargs["first_read_at"] is None  # no grace: the trigger reads at once


@pytest.mark.ecwid_emulator(processing_time=0.5)
def test_batches_done_within_the_grace_are_waited_for_in_the_worker(
    emulator_conn: EcwidEmulator, task_logs: TaskLogs
) -> None:
    """3 requests x 0.5 s: done well within the default 10 s grace, so the task reports without deferring."""
    report = deferrable_operator(3).execute(make_context())
    assert (report["total"], report["completed"]) == (3, 3)
    assert "no deferral" in task_logs.text()
    assert emulator_conn.call_count(method="GET", endpoint="/batch") <= 6  # the grace's polls: at most 6 reads


@pytest.mark.ecwid_emulator(processing_time=0.5)
def test_a_wait_longer_than_the_grace_defers_and_its_trigger_reads_later(emulator_conn: EcwidEmulator) -> None:
    """10 requests x 0.5 s outlast a 1 s grace: the task defers, and the trigger reads no status before the task
    has left its worker (a second after deferring here: the grace bounds the delay, 5 s at most)."""
    with pytest.raises(TaskDeferred) as deferred:
        deferrable_operator(10, defer_grace=1).execute(make_context())
    deferred_at = time.time()
    kwargs = deferred.value.trigger.serialize()[1]
    assert deferred_at < kwargs["first_read_at"] <= deferred_at + 1


@pytest.mark.ecwid_emulator(processing_time=0.001)
async def test_the_trigger_reads_no_status_before_its_first_read_time(emulator_conn: EcwidEmulator) -> None:
    tickets = submit(products(5))
    reads_before = emulator_conn.call_count(method="GET", endpoint="/batch")
    started = time.time()
    event = await first_event(trigger_for(tickets, first_read_at=started + 1.0))
    assert event["status"] == "success"
    assert time.time() - started >= 1.0  # it slept until its first read time, though the batch was long done
    assert emulator_conn.call_count(method="GET", endpoint="/batch") - reads_before == event["status_calls"]


@pytest.mark.parametrize(
    ("answer", "reason", "failure", "message"),
    [
        ({"text": "<html>down for maintenance</html>"}, "api_error", AirflowException, "not JSON"),
        ({"json": None}, "api_error", AirflowException, "not a JSON object"),
        (
            {"status_code": 403, "json": {"errorCode": "INVALID_API_TOKEN", "errorMessage": "bad token"}},
            "not_retryable",
            AirflowFailException,
            "INVALID_API_TOKEN",
        ),
    ],
    ids=["html", "null", "403"],
)
async def test_an_unusable_status_answer_fails_the_task_through_the_trigger(
    emulator_conn: EcwidEmulator,
    requests_mock: requests_mock_lib.Mocker,
    answer: dict[str, Any],
    reason: str,
    failure: type[Exception],
    message: str,
) -> None:
    requests_mock.get(re.compile(r"/batch\?ticket=t-1"), **answer)
    event = await first_event(trigger_for(["t-1"], poll_interval=0.01))
    assert (event["status"], event["reason"]) == ("error", reason)
    assert message in event["message"]
    with pytest.raises(failure, match=message) as caught:
        sensor(["t-1"]).execute_complete(make_context(), event)
    assert (type(caught.value) is AirflowFailException) == (reason == "not_retryable")
