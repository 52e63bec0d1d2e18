"""A finished batch's answer must account for every request sent; a short answer is a failure, never green."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
from airflow.providers.common.compat.sdk import DAG, AirflowException

from airflow_provider_ecwid.batch.models import BatchState, BatchStatus
from airflow_provider_ecwid.operators.batch import EcwidBatchOperator
from airflow_provider_ecwid.sensors.batch import EcwidBatchSensor
from airflow_provider_ecwid.testing import EcwidEmulator
from tests.integration.fakes import FakeTaskInstance, make_context

ROWS = pd.DataFrame({"sku": [f"ACC-{n:04d}" for n in range(1000)], "name": "p", "enabled": True})


def submit_and_wait(**options: Any) -> dict[str, Any]:
    operator = EcwidBatchOperator(
        task_id="t", data=ROWS, path="/products", wait_for_completion=True, deferrable=False, poll_interval=0.05
    )
    for name, value in options.items():
        setattr(operator, name, value)
    report: dict[str, Any] = operator.execute(make_context())
    return report


@pytest.mark.parametrize("mode", ["no_counters", "half", "total_one", "total_negative", "foreign_ids"])
def test_a_short_completed_answer_fails_the_waiting_operator(emulator_conn: EcwidEmulator, mode: str) -> None:
    emulator_conn.state.config.short_status = mode
    with pytest.raises(AirflowException, match="do not account for every request sent"):
        submit_and_wait()
    emulator_conn.state.config.short_status = None  # the store itself did all the work
    assert len(emulator_conn.products()) == 1000


@pytest.mark.parametrize("fail_on", ["never", 0.9])
def test_fail_on_does_not_turn_a_short_answer_green(emulator_conn: EcwidEmulator, fail_on: Any) -> None:
    emulator_conn.state.config.short_status = "half"
    with pytest.raises(AirflowException, match="counts 250 request"):
        submit_and_wait(fail_on=fail_on)


def test_the_sensor_checks_answers_against_what_its_upstream_task_sent(emulator_conn: EcwidEmulator) -> None:
    ti = FakeTaskInstance()
    with DAG("accounting", schedule=None):
        operator = EcwidBatchOperator(task_id="submit", data=ROWS, path="/products")
        sensor = EcwidBatchSensor(task_id="wait", tickets=operator.output, poke_interval=0.05, deferrable=False)
    tickets = operator.execute(make_context(ti))
    assert set(ti.xcom["ticket_expectations"]) == set(tickets)
    assert [entry["requests"] for entry in ti.xcom["ticket_expectations"].values()] == [500, 500]
    assert sensor.submitted_by == "submit"
    sensor.tickets = tickets  # what rendering the template does in a real run
    emulator_conn.state.config.short_status = "half"  # consistent with itself: only the expectation catches it
    with pytest.raises(AirflowException, match="counts 250 request"):
        sensor.execute(make_context(ti))


def test_without_expectations_an_answer_is_still_checked_against_itself(emulator_conn: EcwidEmulator) -> None:
    tickets = EcwidBatchOperator(task_id="submit", data=ROWS, path="/products").execute(make_context())
    emulator_conn.state.config.short_status = "no_counters"
    sensor = EcwidBatchSensor(task_id="wait", tickets=tickets, poke_interval=0.05, deferrable=False)
    with pytest.raises(AirflowException, match="reports 0 request"):
        sensor.execute(make_context())


def test_a_full_answer_passes_and_counts_what_was_sent(emulator_conn: EcwidEmulator) -> None:
    report = submit_and_wait()
    assert (report["total"], report["completed"], report["discrepancies"]) == (1000, 1000, [])


class StuckClient:
    """A store whose batch stays in a state nobody knows."""

    def get_batch(self, ticket: str) -> BatchStatus:
        return BatchStatus(ticket, BatchState.UNKNOWN, "PAUSED", 10, 0)


def test_a_sensor_with_defaults_gives_up_on_a_batch_stuck_in_an_unknown_state() -> None:
    sensor = EcwidBatchSensor(task_id="wait", tickets=["t-1"], deferrable=False)
    sensor.__dict__["hook"] = type("Hook", (), {"get_conn": lambda self: StuckClient()})()
    assert sensor.poke(make_context()) is False
    assert sensor._poller is not None
    started = sensor._poller.last_progress_at or 0.0
    sensor._poller.clock = lambda: started + 3601  # an hour without progress later
    with pytest.raises(AirflowException, match="No batch request completed for 3601 s"):
        sensor.poke(make_context())
