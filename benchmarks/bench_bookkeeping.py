"""6. What a submission's bookkeeping costs: 1,000,000 requests in 2,000 batches, the real Submission code.

The plan's chunks are posted by :class:`~airflow_provider_ecwid.tickets.submission.Submission` with the real client
to the emulator in its own process (no rate limit). The task instance and the task state store are stand-ins
that do what Airflow does before it writes (serialize the value to JSON) and time it; the round trip to the
metadata database or the API server per call is not included, so the number of calls is printed beside it.
Bar: XCom and state-store writes under 5% of the submit time.
"""

from __future__ import annotations

import json
import os
import time
import uuid
from typing import Any

from airflow_provider_ecwid.api.client import EcwidClient
from airflow_provider_ecwid.batch.build import RequestBuilder
from airflow_provider_ecwid.batch.plan import BatchPlan
from airflow_provider_ecwid.batch.sources import make_source
from airflow_provider_ecwid.tickets.submission import Submission
from benchmarks.common import STORE, TOKEN, Figure, emulator_process, product_frame

ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))  # fewer for a quick look


class Recorder:
    """XCom or a state store: keeps each value as JSON, as Airflow writes it, and times the writes."""

    def __init__(self) -> None:
        self.saved: dict[str, str] = {}
        self.seconds = 0.0
        self.calls = 0
        self.values = 0

    def _write(self, key: str, value: Any) -> None:
        started = time.perf_counter()
        self.saved[key] = json.dumps(value)
        self.seconds += time.perf_counter() - started
        self.calls += 1
        self.values += len(value) if isinstance(value, list | dict) else 1

    def xcom_push(self, key: str, value: Any) -> None:
        self._write(key, value)

    def set(self, key: str, value: Any) -> None:
        self._write(key, value)

    def get(self, key: str, default: Any = None) -> Any:
        started = time.perf_counter()
        found = self.saved.get(key)
        value = default if found is None else json.loads(found)
        self.seconds += time.perf_counter() - started
        return value

    def delete(self, key: str) -> None:
        self.saved.pop(key, None)


def run() -> list[Figure]:
    plan = BatchPlan(make_source(product_frame(ROWS)), RequestBuilder(path="/products/{ecwid_id}", method="PUT"))
    summary = plan.validate()
    xcom, state = Recorder(), Recorder()
    with emulator_process("--rate-limit", "0") as emulator:
        client = EcwidClient(STORE, TOKEN, base_url=emulator.base_url, rate_limit_per_minute=10**7)
        submission = Submission(
            client,
            identity="bench|run|task|-1",
            group_id=str(uuid.uuid4()),
            ti=xcom,
            state_store=state,
            stop_on_first_failure=False,
            allow_parallel_mode=False,
        )
        started = time.perf_counter()
        tickets = submission.run(plan.chunks(), summary.chunks, summary.requests)
        submit_s = time.perf_counter() - started
    share = (xcom.seconds + state.seconds) / submit_s
    chunks = len(tickets)
    return [
        Figure(
            "bookkeep",
            f"XCom + state store share of submit ({ROWS:,} rows)",
            100 * share,
            "%",
            "",
            None,
            "< 5% of submit time",
            share < 0.05,
            {
                "submit_s": round(submit_s, 2),
                "xcom_s": round(xcom.seconds, 4),
                "state_store_s": round(state.seconds, 4),
                "chunks": chunks,
                "xcom_pushes": xcom.calls,
                "values_written_to_xcom": xcom.values,
                "tickets_one_push_per_chunk_would_write": chunks * (chunks + 1) // 2,
                "state_store_writes": state.calls,
            },
        )
    ]


if __name__ == "__main__":
    from benchmarks.common import print_table

    figures = run()
    print_table(figures)
    print(json.dumps(figures[0].notes))
