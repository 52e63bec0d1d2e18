"""The DAG that benchmark 4 runs: a catalog sync of a generated feed, waiting in the task (poke)."""

from __future__ import annotations

import os

import pendulum
from airflow.providers.common.compat.sdk import dag

from airflow_provider_ecwid.operators.catalog import EcwidCatalogSyncOperator


@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False)
def bench_catalog_sync() -> None:
    EcwidCatalogSyncOperator(
        task_id="sync",
        data=os.environ.get("BENCH_FEED", "/nonexistent.parquet"),
        allow_parallel_mode=os.environ.get("BENCH_PARALLEL") == "true",
        stop_on_first_failure=False,
        wait_for_completion=True,
        deferrable=False,
        poll_interval=1,
        progress_timeout=600,
    )


bench_catalog_sync()
