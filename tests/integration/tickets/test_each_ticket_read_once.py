"""Each ticket's answer is read once: waiting polls the newest ticket, the answers are read when the wait is over.

Counted on the emulator's own counters (``GET /batch`` is a status read, or a page of the store's batch list):
status reads <= tickets + waiting polls, where the waiting polls grow with the time waited, not with tickets.
"""

from __future__ import annotations

import functools
import math
import time
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from airflow.providers.common.compat.sdk import TaskDeferred

from airflow_provider_ecwid.operators.batch import EcwidBatchOperator
from airflow_provider_ecwid.sensors.batch import EcwidBatchSensor
from airflow_provider_ecwid.testing import EcwidEmulator
from airflow_provider_ecwid.triggers.batch import EcwidBatchTrigger
from tests.integration.catalog.test_whole_catalog import feed, sync_operator
from tests.integration.fakes import FakeTaskInstance, make_context
from tests.integration.helpers import wait_for_batches

INTERVAL = 0.1


def status_reads(emulator: EcwidEmulator) -> int:
    return emulator.call_count(method="GET", endpoint="/batch")


def waiting_bound(elapsed: float, tickets: int) -> float:
    """What one wait may cost: a poll per interval (and the last), and the first probe of the oldest ticket."""
    return elapsed / INTERVAL + 2 + 1 + 2 * math.log2(max(tickets, 2))


async def trigger_reads(emulator: EcwidEmulator, trigger: EcwidBatchTrigger) -> tuple[dict[str, Any], int, float]:
    """Run a trigger to its one event; return the event, the status reads it made and the seconds it took."""
    before, started = status_reads(emulator), time.monotonic()
    events = [event async for event in trigger.run()]
    assert len(events) == 1
    return events[0].payload, status_reads(emulator) - before, time.monotonic() - started


def products(count: int) -> pd.DataFrame:
    frame: pd.DataFrame = pd.DataFrame([{"sku": f"S{n:03d}", "name": f"p{n}", "enabled": True} for n in range(count)])
    return frame


@pytest.mark.ecwid_emulator(processing_time=0.01)
async def test_a_deferred_batch_wait_reads_each_ticket_once_after_the_trigger(emulator_conn: EcwidEmulator) -> None:
    ti = FakeTaskInstance()
    operator = EcwidBatchOperator(
        task_id="submit",
        data=products(200),
        path="/products",
        chunk_size=10,  # 20 tickets, about 2 s of work
        wait_for_completion=True,
        deferrable=True,
        defer_grace=0,  # defer at once: the trigger's reads are what is counted
        poll_interval=INTERVAL,
    )
    before = status_reads(emulator_conn)
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(make_context(ti))
    assert status_reads(emulator_conn) - before == 0  # no grace: the worker defers without a poll
    event, in_trigger, elapsed = await trigger_reads(emulator_conn, deferred.value.trigger)
    assert event["status"] == "success"
    assert event["status_calls"] == in_trigger
    # the trigger waits on the newest ticket only: no read per ticket (before: 20 and more, one as each finished)
    assert in_trigger <= waiting_bound(elapsed, 20), (in_trigger, elapsed)
    before = status_reads(emulator_conn)
    report = operator.execute_complete(make_context(ti), event)
    assert status_reads(emulator_conn) - before == 20  # every answer, once
    assert (report["total"], report["completed"], report["created_count"]) == (200, 200, 200)


@pytest.mark.ecwid_emulator(processing_time=0.005)
def test_a_sensor_waiting_on_20_tickets_reads_each_answer_once(emulator_conn: EcwidEmulator) -> None:
    operator = EcwidBatchOperator(task_id="submit", data=products(200), path="/products", chunk_size=10)
    tickets = operator.execute(make_context())
    assert len(tickets) == 20
    # the newest ticket's answer comes last: while the others run it is queued
    before, started = status_reads(emulator_conn), time.monotonic()
    sensor = EcwidBatchSensor(task_id="wait", tickets=tickets, poke_interval=INTERVAL, deferrable=False)
    report = sensor.execute(make_context())
    elapsed = time.monotonic() - started
    reads = status_reads(emulator_conn) - before
    assert report["completed"] == 200
    polls = reads - 20  # the rest are the waiting polls: they grow with the time waited
    assert 1 <= polls <= waiting_bound(elapsed, 20), (reads, elapsed)


async def run_counting(
    emulator: EcwidEmulator, tmp_path: Path, *, settle: bool
) -> tuple[dict[str, Any], list[int], list[int], int]:
    """
    A deferrable sync of the sample feed, every request its own ticket, each trigger run to its event (after the
    store finished the phase, when ``settle``). Returns the summary, each phase's tickets, each trigger's status
    reads, and the status reads of the task's own stints.
    """
    ti = FakeTaskInstance()
    operator = sync_operator(feed(), tmp_path, deferrable=True, chunk_size=1)
    call = functools.partial(operator.execute, make_context(ti))
    phases: list[int] = []
    in_triggers: list[int] = []
    in_task = 0
    while True:
        before = status_reads(emulator)
        try:
            summary: dict[str, Any] = call()
            return summary, phases, in_triggers, in_task + status_reads(emulator) - before
        except TaskDeferred as raised:
            in_task += status_reads(emulator) - before
            trigger, method = raised.trigger, raised.method_name
        phases.append(len(trigger.tickets))
        if settle:
            wait_for_batches(emulator)
        event, reads, elapsed = await trigger_reads(emulator, trigger)
        assert event["status"] == "success"
        assert reads <= waiting_bound(elapsed, phases[-1]), (len(phases), reads, elapsed)
        in_triggers.append(reads)
        call = functools.partial(getattr(operator, method), make_context(ti), event)


LISTING = 2  # before the first phase: the store's unfinished batches (IN_PROGRESS, QUEUED), a page each


@pytest.mark.ecwid_emulator(processing_time=0.02)
async def test_a_deferrable_whole_catalog_sync_reads_each_ticket_once(
    emulator_conn: EcwidEmulator, tmp_path: Path
) -> None:
    started = status_reads(emulator_conn)
    summary, phases, in_triggers, in_task = await run_counting(emulator_conn, tmp_path, settle=False)
    assert summary["failed_count"] == 0
    assert summary["sent"] == {"categories": 5, "products": 3, "options": 0, "variations": 3, "images": 6}
    tickets = sum(phases)
    assert tickets == len(emulator_conn.batches()) == 17
    # the resumed stints read each answer once (and the worker polled nothing before deferring); before, the
    # triggers had read every ticket too
    assert in_task == LISTING + tickets
    assert status_reads(emulator_conn) - started == LISTING + tickets + sum(in_triggers)


async def test_a_trigger_whose_phase_already_ran_reads_the_newest_ticket_only(
    emulator_conn: EcwidEmulator, tmp_path: Path
) -> None:
    summary, phases, in_triggers, in_task = await run_counting(emulator_conn, tmp_path, settle=True)
    assert summary["failed_count"] == 0
    assert phases == [2, 2, 1, 3, 3, 6]
    assert in_triggers == [1] * 6  # before: a read per ticket, 17 in all
    assert in_task == LISTING + 17
