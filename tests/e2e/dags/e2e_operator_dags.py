"""DAGs that the end-to-end tests run with `airflow dags test` against the emulator.

Each reads its sizes from environment variables set by the test, so that one file serves several cases.
"""

from __future__ import annotations

import os

import pandas as pd
import pendulum
from airflow.providers.common.compat.sdk import dag, task

from airflow_provider_ecwid.operators.batch import EcwidBatchOperator
from airflow_provider_ecwid.sensors.batch import EcwidBatchSensor

START = pendulum.datetime(2026, 1, 1, tz="UTC")
DEFERRABLE = os.environ.get("E2E_DEFERRABLE", "false") == "true"
#: These DAGs test deferring itself: no grace in the worker first (the example DAGs keep the default)
NO_GRACE = 0


@dag(schedule=None, start_date=START, catchup=False)
def e2e_mapped_import() -> None:
    """An upstream task returns DataFrames; a mapped operator submits each; a sensor waits on them all."""

    @task
    def feeds() -> list[pd.DataFrame]:
        sizes = [int(size) for size in os.environ.get("E2E_FEED_SIZES", "30,20").split(",")]
        return [
            pd.DataFrame({"sku": [f"F{feed}-{n}" for n in range(size)], "name": "item", "enabled": True, "price": 1.5})
            for feed, size in enumerate(sizes)
        ]

    submitted = EcwidBatchOperator.partial(task_id="submit", path="/products", id_column="sku", chunk_size=10).expand(
        data=feeds()
    )
    EcwidBatchSensor(
        task_id="wait", tickets=submitted.output, deferrable=DEFERRABLE, poke_interval=0.2, defer_grace=NO_GRACE
    )


@dag(schedule=None, start_date=START, catchup=False)
def e2e_wait_in_operator() -> None:
    """The operator waits itself and returns the report."""

    @task
    def feed() -> pd.DataFrame:
        frame: pd.DataFrame = pd.DataFrame({"sku": [f"W{n}" for n in range(25)], "name": "item", "enabled": True})
        return frame

    EcwidBatchOperator(
        task_id="submit_and_wait",
        data=feed(),
        path="/products",
        chunk_size=10,
        wait_for_completion=True,
        deferrable=DEFERRABLE,
        defer_grace=NO_GRACE,
        poll_interval=0.2,
    )


@dag(schedule=None, start_date=START, catchup=False, default_args={"retries": 1, "retry_delay": 3})
def e2e_retry_resumes() -> None:
    """The first try fails part-way (429 with no client retries); the retry must not resubmit what was sent."""
    EcwidBatchOperator(
        task_id="submit",
        data=[{"sku": f"R{n}", "name": "item"} for n in range(50)],
        path="/products",
        chunk_size=10,
    )


e2e_mapped_import()
e2e_wait_in_operator()
e2e_retry_resumes()
