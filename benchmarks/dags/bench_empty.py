"""The baseline of benchmark 4: a DAG whose one task does nothing, for Airflow's own cost of a run."""

from __future__ import annotations

import pendulum
from airflow.providers.common.compat.sdk import dag, task


@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False)
def bench_empty() -> None:
    @task
    def nothing() -> None:
        return None

    nothing()


bench_empty()
