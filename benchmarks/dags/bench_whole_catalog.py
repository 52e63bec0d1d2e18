"""The DAG the whole-catalog scale benchmark runs: a deferrable whole-catalog sync of a generated Parquet feed."""

from __future__ import annotations

import os

import pendulum
from airflow.providers.common.compat.sdk import dag

from airflow_provider_ecwid.operators.catalog import EcwidCatalogSyncOperator


@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False)
def bench_whole_catalog() -> None:
    EcwidCatalogSyncOperator(
        task_id="sync",
        data=os.environ.get("BENCH_FEED", "/nonexistent.parquet"),
        category_column="category",
        parent_sku_column="parent_sku",
        option_columns=["Size"],
        image_column="image",
        gallery_column="gallery",
        memory_path=os.environ.get("BENCH_MEMORY", "/nonexistent"),
        deferrable=True,
        poll_interval=1,
        progress_timeout=1800,
        fail_on="never",
    )


bench_whole_catalog()
