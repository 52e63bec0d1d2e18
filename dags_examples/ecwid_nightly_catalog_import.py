"""Nightly catalog import: the product feed -> Ecwid, idempotent by SKU.

Every night at 02:00 this DAG reads the product feed (a CSV shipped in ``data/``), shapes it into Ecwid's
product fields with pandas, makes sure its categories exist, and syncs it into the store with
``EcwidCatalogSyncOperator``: new SKUs are created, changed products updated, unchanged ones left alone, so
running it twice never creates a duplicate. ``EcwidBatchSensor`` waits in the triggerer (deferrable), and the
last task logs the report and fails the run when any row did not make it, naming each one.

Connection: ``ecwid_default`` (Store ID + secret token; see the README). Trigger it by hand with
``{"feed": "catalog_bad_rows.csv"}`` to see how rows that Ecwid rejects are reported.

When the report is clean, ``check_report`` marks the store's catalog Asset (``ecwid://{store_id}/products``)
as updated, which starts ``ecwid_catalog_changed``. The store ID is named here as well as in the connection
(``ECWID_STORE_ID``, default the emulator's demo store 1002): outlets are fixed when this file is parsed.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import Param, dag, task

from airflow_provider_ecwid.hooks.ecwid import EcwidHook
from airflow_provider_ecwid.lineage import ecwid_catalog_asset
from airflow_provider_ecwid.operators.catalog import EcwidCatalogSyncOperator
from airflow_provider_ecwid.sensors.batch import EcwidBatchSensor

log = logging.getLogger(__name__)
DATA = Path(__file__).parent / "data"
CATALOG = ecwid_catalog_asset(os.environ.get("ECWID_STORE_ID", "1002"))  # the store of connection ecwid_default
FEED_TO_ECWID = {
    "product_code": "sku",
    "title": "name",
    "price": "price",
    "list_price": "compareToPrice",
    "stock": "quantity",
    "weight_kg": "weight",
    "description": "description",
}


@dag(
    schedule="0 2 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["ecwid", "example"],
    params={"feed": Param("catalog.csv", type="string", description="A file in dags_examples/data/.")},
    doc_md=__doc__,
)
def ecwid_nightly_catalog_import() -> None:
    @task(multiple_outputs=False)  # one XCom: the name -> id map, not one per category
    def ensure_categories(params: dict[str, Any] | None = None) -> dict[str, int]:
        """Create the feed's categories that the store does not have yet; return name -> category id."""
        assert params is not None
        import pandas as pd  # in the task: DAG files are parsed often and should import little

        names = set(pd.read_csv(DATA / params["feed"], usecols=["category"])["category"].dropna())
        client = EcwidHook().get_conn()
        known = {category["name"]: category["id"] for category in client.iter_categories()}
        for name in sorted(names - set(known)):
            known[name] = client.request("POST", "/categories", json_body={"name": name, "enabled": True})["id"]
        return {name: known[name] for name in names}

    # shape_feed returns a pandas DataFrame, and Airflow's XCom carries it to the sync task as Parquet (through
    # pyarrow, which this provider requires). Airflow 2.11 to 3.2 know a DataFrame only by pandas 2's class path;
    # importing the provider's operators (as this file does) registers Airflow's own pandas serializer for
    # pandas 3's `pandas.DataFrame` too, as Airflow 3.3 does itself: see airflow_provider_ecwid/compat.py.
    @task
    def shape_feed(category_ids: dict[str, int], params: dict[str, Any] | None = None) -> Any:
        """Feed columns -> Ecwid product fields; categories -> categoryIds; 'yes'/'no' -> enabled (a DataFrame)."""
        assert params is not None
        import pandas as pd

        feed = pd.read_csv(DATA / params["feed"])
        products = feed.rename(columns=FEED_TO_ECWID)[list(FEED_TO_ECWID.values())]
        products["enabled"] = feed["active"].str.lower().eq("yes")
        products["categoryIds"] = [[category_ids[name]] for name in feed["category"]]
        return products

    sync = EcwidCatalogSyncOperator(
        task_id="sync_catalog",
        data=shape_feed(ensure_categories()),
        stop_on_first_failure=False,  # one bad product must not hold back the rest of its batch
    )

    wait = EcwidBatchSensor(
        task_id="wait_for_import",
        tickets=sync.output,
        deferrable=True,  # waits in the triggerer, not in a worker slot (Airflow's own default is False)
        poke_interval=2,
        progress_timeout=1800,
        fail_on="never",  # the next task decides, with the whole report in hand
    )

    @task(outlets=[CATALOG])  # the catalog has changed once the batches are done and the report is clean
    def check_report(report: dict[str, Any]) -> None:
        """Log the outcome; fail the run when rows did not complete, naming each one."""
        log.info(
            "%s of %s request(s) completed; %s failed, %s not executed",
            f"{report['completed']:,}",
            f"{report['total']:,}",
            f"{report['failed_count']:,}",
            f"{report['not_executed_count']:,}",
        )
        if report["failed_count"] or report["not_executed_count"]:
            lines = [
                f"  {row['id']}: HTTP {row['http_status']} {row['error_code'] or ''} {row['error_message'] or ''}"
                for row in report["failed"]
            ]
            lines += [f"  {row_id}: not executed" for row_id in report["not_executed"]]
            raise ValueError("These products did not reach Ecwid:\n" + "\n".join(lines))

    check_report(wait.output)


ecwid_nightly_catalog_import()
