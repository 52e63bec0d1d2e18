"""Daily orders export: the day's paid and awaiting orders out of the store into Parquet, and the day's revenue.

Each run exports the orders updated in its data interval (the previous day for a daily schedule), through
batches: one call counts the day, its pages go into batches of ``GET`` requests, and each batch's answer is
written as it arrives, so a busy day costs a handful of calls instead of one per 100 orders. A backfill or a
re-run of a day writes that day's file again; an order updated during the export is in this day's file or the
next one's, and no order that stayed unchanged is ever missing.

The file goes under ``$AIRFLOW_HOME/ecwid-exports/orders/<ds>.parquet`` here (``ECWID_EXPORT_FOLDER`` moves
it). In production point ``output`` at object storage, e.g. ``s3://lake/ecwid/orders/{{ ds }}.parquet`` (any
ObjectStoragePath URL, with its Airflow connection). ``daily_revenue`` then reads the file with pandas and logs
the day's paid revenue.

A manual run has no interval of its own (on Airflow 3 its interval is empty), so give it a day with the
param ``day``: ``airflow dags test ecwid_orders_export -c '{"day": "2026-12-01"}'`` exports that day's orders
(a manual run without it is refused, with that advice, rather than writing an empty file).

Connection: ``ecwid_default`` (Store ID + secret token, with the ``read_orders`` scope).
"""

from __future__ import annotations

import logging
import os
from datetime import timedelta
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import Param, dag, task

from airflow_provider_ecwid.operators.export import EcwidExportOperator

log = logging.getLogger(__name__)
#: The window: the param ``day`` when given (a manual run), else the run's data interval.
DAY_START = "{{ params.day ~ 'T00:00:00+00:00' if params.day else data_interval_start }}"
DAY_END = "{{ macros.ds_add(params.day, 1) ~ 'T00:00:00+00:00' if params.day else data_interval_end }}"
EXPORTS = os.environ.get("ECWID_EXPORT_FOLDER") or os.path.join(
    os.environ.get("AIRFLOW_HOME") or os.path.expanduser("~/airflow"), "ecwid-exports"
)


@dag(
    schedule="@daily",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30)},
    params={
        "day": Param(
            None,
            type=["null", "string"],
            format="date",
            description="A day to export (YYYY-MM-DD), for a manual run; scheduled runs export their interval",
        )
    },
    tags=["ecwid", "example"],
    doc_md=__doc__,
)
def ecwid_orders_export() -> None:
    export = EcwidExportOperator(
        task_id="export_orders",
        entity="orders",
        filters={"paymentStatus": "PAID,AWAITING_PAYMENT"},
        updated_from=DAY_START,
        updated_to=DAY_END,
        output=os.path.join(EXPORTS, "orders", "{{ params.day or ds }}.parquet"),
    )

    @task
    def daily_revenue(result: dict[str, Any]) -> dict[str, Any]:
        """Read the day's file with pandas: how many orders, and the revenue of the paid ones."""
        import pandas as pd

        orders = pd.read_parquet(result["output"], columns=["id", "total", "paymentStatus"])
        paid = orders.loc[orders["paymentStatus"] == "PAID", "total"]
        revenue = round(float(paid.sum()), 2)
        log.info(
            "%s order(s) updated in the day, %s paid: revenue %.2f (exported in %s call(s))",
            f"{len(orders):,}",
            f"{len(paid):,}",
            revenue,
            result["calls"],
        )
        return {"orders": len(orders), "paid": len(paid), "revenue": revenue, "calls": result["calls"]}

    daily_revenue(export.output)  # type: ignore[arg-type]  # an XComArg: Airflow passes the result it resolves to


ecwid_orders_export()
