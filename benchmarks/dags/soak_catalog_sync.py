"""The DAG the soak runs: a catalog sync of a generated feed against a faulty emulator, waiting in the task."""

from __future__ import annotations

import os

import pendulum
from airflow.providers.common.compat.sdk import dag

from airflow_provider_ecwid.operators.catalog import EcwidCatalogSyncOperator


@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False)
def soak_catalog_sync() -> None:
    EcwidCatalogSyncOperator(
        task_id="sync",
        data=os.environ.get("SOAK_FEED", "/nonexistent.parquet"),
        stop_on_first_failure=False,
        wait_for_completion=True,
        deferrable=False,
        poll_interval=1,
        progress_timeout=600,
    )


soak_catalog_sync()
