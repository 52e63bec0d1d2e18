"""The DAG the export benchmark runs: one window of orders out of the emulator into Parquet, through batches."""

from __future__ import annotations

import os

import pendulum
from airflow.providers.common.compat.sdk import dag

from airflow_provider_ecwid.operators.export import EcwidExportOperator


@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False)
def bench_orders_export() -> None:
    EcwidExportOperator(
        task_id="export",
        entity="orders",
        updated_from=os.environ.get("BENCH_FROM", "2026-10-01T00:00:00+00:00"),
        updated_to=os.environ.get("BENCH_TO", "2026-12-01T00:00:00+00:00"),
        output=os.environ.get("BENCH_OUTPUT", "/nonexistent.parquet"),
        poll_interval=1,
        progress_timeout=1800,
    )


bench_orders_export()
