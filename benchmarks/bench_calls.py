"""3. HTTP calls for 100,000 requests (200 tickets) against the emulator with a per-request processing time.

Submission through the operator and waiting with the poller the operator and the sensor use (the newest
unfinished ticket, every answer read once at the end; ``progress_timeout`` one hour, their default), both with
the connection's default client rate limit (500/min), against an emulator that enforces Ecwid's 600/min. The
baseline, polling every unfinished ticket each interval, is counted from the same run's batch timings: at each
interval, one call per ticket not yet finished, plus the call that sees it finished. Then the same submission
again, waited for the deferrable way: ``EcwidBatchTrigger`` to its event, and the sensor's ``execute_complete``
reading the answers. Bars: one POST per chunk, zero 429s, status calls that grow with the time waited, not with
tickets x time, and a deferred wait that reads each ticket once (at most tickets + the worker's waiting polls).
"""

from __future__ import annotations

import asyncio
import math
import os
import tempfile
import time
from typing import Any

from airflow_provider_ecwid.api.client import EcwidClient
from airflow_provider_ecwid.operators.batch import EcwidBatchOperator
from airflow_provider_ecwid.sensors.batch import EcwidBatchSensor
from airflow_provider_ecwid.tickets.waiting import TicketPoller, wait_for_tickets
from airflow_provider_ecwid.triggers.batch import EcwidBatchTrigger
from benchmarks.common import TOKEN, Figure, emulator_process, product_frame
from tests.integration.fakes import FakeTaskInstance, make_context

REQUESTS = 100_000
PROCESSING = 0.0006  # seconds per inner request: 60 s of work for the store, longer than the submission
INTERVAL = 1.0


def submit(emulator_connection: str) -> list[str]:
    os.environ["AIRFLOW_CONN_ECWID_DEFAULT"] = emulator_connection
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp())
    frame = product_frame(REQUESTS).drop(columns=["ecwid_id"])
    ti = FakeTaskInstance()
    ti.xcom_push = lambda key, value: None  # type: ignore[method-assign]  # no XCom copies in the timings
    tickets = EcwidBatchOperator(task_id="c", data=frame, path="/products", id_column="sku").execute(make_context(ti))
    return list(tickets)


def order_aware(client: EcwidClient, tickets: list[str]) -> int:
    poller = TicketPoller(tickets, client.get_batch)
    wait_for_tickets(poller, poll_interval=INTERVAL, deadline=None, progress_timeout=3600.0)
    return poller.calls


def deferred() -> dict[str, Any]:
    """A fresh store, the same submission, waited for by the trigger and reported by the resumed sensor."""
    with emulator_process("--processing-time", str(PROCESSING)) as emulator:
        tickets = submit(emulator.connection())
        before = emulator.calls(method="GET", endpoint="/batch")
        wait_started = max(batch["created_at"] for batch in emulator.batches())
        trigger = EcwidBatchTrigger(
            conn_id="ecwid_default", tickets=tickets, poll_interval=INTERVAL, progress_timeout=3600.0
        )
        event = asyncio.run(first_event(trigger))
        in_trigger = emulator.calls(method="GET", endpoint="/batch") - before
        report = EcwidBatchSensor(task_id="wait", tickets=tickets).execute_complete(make_context(), event)
        return {
            "tickets": len(tickets),
            "waited_seconds": max(b["finished_at"] for b in emulator.batches()) - wait_started,
            "completed": report["completed"],
            "in_trigger": in_trigger,
            "resumed_task": emulator.calls(method="GET", endpoint="/batch") - before - in_trigger,
        }


async def first_event(trigger: EcwidBatchTrigger) -> dict[str, Any]:
    events = [event async for event in trigger.run()]
    payload: dict[str, Any] = events[0].payload
    return payload


def naive_calls(batches: list[dict[str, Any]], wait_started: float) -> int:
    """Calls that polling every unfinished ticket each INTERVAL would have made over the same timings."""
    finished = sorted(batch["finished_at"] for batch in batches)
    calls, moment = 0, wait_started
    while True:
        unfinished = sum(1 for end in finished if end > moment)
        done_since = sum(1 for end in finished if moment - INTERVAL < end <= moment)
        calls += unfinished + done_since
        if not unfinished:
            return calls
        moment += INTERVAL


def run() -> list[Figure]:
    with emulator_process("--processing-time", str(PROCESSING)) as emulator:
        started = time.monotonic()
        tickets = submit(emulator.connection())
        client = EcwidClient(1002, TOKEN, base_url=emulator.base_url)  # the default 500/min budget
        before = emulator.calls(method="GET", endpoint="/batch")
        wait_started = max(batch["created_at"] for batch in emulator.batches())  # the emulator's clock
        polls = order_aware(client, tickets)
        batches = emulator.batches()
        ours = {
            "tickets": len(tickets),
            "posts": emulator.calls(method="POST", endpoint="/batch"),
            "status_calls": emulator.calls(method="GET", endpoint="/batch") - before,
            "counted_by_waiter": polls,
            "http_429": emulator.calls(status=429),
            "seconds": time.monotonic() - started,
            "waited_seconds": max(b["finished_at"] for b in batches) - wait_started,
        }
    naive = naive_calls(batches, wait_started)
    later = deferred()
    later_calls = later["in_trigger"] + later["resumed_task"]
    chunks = REQUESTS // 500
    return [
        Figure(
            "calls",
            "POSTs for 100,000 requests",
            ours["posts"],
            "",
            "chunks",
            chunks,
            "one per chunk",
            ours["posts"] == chunks,
            ours,
        ),
        Figure(
            "calls", "429s at the default rate limit", ours["http_429"], "", "", None, "zero", ours["http_429"] == 0
        ),
        Figure(
            "calls",
            "status calls, order-aware polling",
            ours["status_calls"],
            "",
            "poll every ticket",
            naive,
            "grows with time, not tickets x time",
            ours["status_calls"] <= ours["waited_seconds"] / INTERVAL + ours["tickets"] + 5
            and ours["status_calls"] * 3 < naive,
        ),
        Figure(
            "calls",
            "status calls, deferred wait (trigger + resumed task)",
            later_calls,
            "",
            "the same wait in the worker",
            ours["status_calls"],
            "each ticket read once: <= tickets + polls + one probe",
            later["completed"] == REQUESTS
            and later_calls
            <= later["tickets"] + later["waited_seconds"] / INTERVAL + 5 + 2 * math.log2(later["tickets"]),
            later,
        ),
    ]


if __name__ == "__main__":
    from benchmarks.common import print_table

    print_table(run())
