"""Nightly catalog import: the whole product feed -> Ecwid, idempotent by SKU.

Every night at 02:00 this DAG reads the product feed (a CSV shipped in ``data/``), renames its columns to
Ecwid's product fields with pandas, and syncs the whole catalog with ``EcwidCatalogSyncOperator``: category
paths (``Apparel > Tops > Shirts``; missing categories are created, parents first), products, their options
and variations (a long feed: each variation row names its product in ``parent_sku``), and images by URL (a main
image, a gallery, a variation's own image). Only what differs from the store is sent, in phases that each wait
for their batches (the last one, the images, in the triggerer), so running it twice sends nothing the second
time. The image memory (what was last sent,
per SKU) lives under ``$AIRFLOW_HOME/ecwid/image-memory`` unless ``memory_path`` says otherwise. The last
task logs the summary and fails the run when any row did not make it, naming each one by SKU and phase.

Connection: ``ecwid_default`` (Store ID + secret token; see the README), or the one the param ``conn_id`` names.
Trigger it by hand with ``{"feed": "catalog_changed.csv"}`` to send one changed price, one changed image and one
new variation, or with ``{"feed": "catalog_bad_rows.csv"}`` to see how rows that Ecwid rejects are reported.

The feed and the sync are retried twice, 30 s apart: a try lost with its worker (killed, or its machine gone) is
found by the scheduler once its heartbeat is older than ``[scheduler] task_instance_heartbeat_timeout`` (300 s by
default) and tried again; the retry resumes the sync at the phase it reached (on Airflow 3.3, from the task's state
store) and sends nothing twice. See the README's "When things fail". ``check_report`` is not retried: it judges a
summary that another try would judge the same way.

When the report is clean, ``check_report`` marks the store's catalog Asset (``ecwid://{store_id}/products``)
as updated, which starts ``ecwid_catalog_changed``. The store ID is named here as well as in the connection
(``ECWID_STORE_ID``, default the emulator's demo store 1002): outlets are fixed when this file is parsed, so a run
with another ``conn_id`` (the fault tests use one) still marks this Asset: a DAG that syncs several stores should
name one Asset per store, or none.
"""

from __future__ import annotations

import logging
import os
import sys
from datetime import timedelta
from pathlib import Path
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import Param, dag, task

from airflow_provider_ecwid.compat import OUTLET_ASSETS_RUN_IN_DAGS_TEST
from airflow_provider_ecwid.lineage import ecwid_catalog_asset
from airflow_provider_ecwid.operators.catalog import EcwidCatalogSyncOperator

# ecwid_sample_feed.py lies beside this file. Airflow puts the DAG folder on sys.path, but Airflow 3.0's
# `airflow dags test` does not: make sure, so the file imports wherever it is parsed.
if str(Path(__file__).parent) not in sys.path:
    sys.path.append(str(Path(__file__).parent))
from ecwid_sample_feed import CATALOG_COLUMNS, shaped_feed

log = logging.getLogger(__name__)
CATALOG = ecwid_catalog_asset(os.environ.get("ECWID_STORE_ID", "1002"))  # the store of connection ecwid_default


@dag(
    schedule="0 2 * * *",
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["ecwid", "example"],
    params={
        "feed": Param(
            "catalog.csv",
            type="string",
            description="A file in dags_examples/data/, or the absolute path of a CSV with the same columns.",
        ),
        "conn_id": Param("ecwid_default", type="string", description="The Ecwid connection (store) to sync."),
    },
    # a try lost with its worker is tried again, and resumes where it was: see the module's doc
    default_args={"retries": 2, "retry_delay": timedelta(seconds=30)},
    doc_md=__doc__,
)
def ecwid_nightly_catalog_import() -> None:
    # shape_feed returns a pandas DataFrame, and Airflow's XCom carries it to the sync task as Parquet (through
    # pyarrow, which this provider requires). Airflow 2.11 to 3.2 know a DataFrame only by pandas 2's class path;
    # importing the provider's operators (as this file does) registers Airflow's own pandas serializer for
    # pandas 3's `pandas.DataFrame` too, as Airflow 3.3 does itself: see airflow_provider_ecwid/compat.py.
    @task
    def shape_feed(params: dict[str, Any] | None = None) -> Any:
        """Feed columns -> Ecwid product fields; 'yes'/'no' -> enabled (a DataFrame); absent columns stay empty."""
        assert params is not None
        return shaped_feed(params["feed"])

    sync = EcwidCatalogSyncOperator(
        task_id="sync_catalog",
        ecwid_conn_id="{{ params.conn_id }}",
        data=shape_feed(),
        **CATALOG_COLUMNS,  # category paths, parent SKUs, option columns, image and gallery (ecwid_sample_feed.py)
        poll_interval=2,  # seconds between status reads while a phase's batches run
        deferrable=True,  # every phase waits in the triggerer, not in a worker slot (Airflow's default: False)
        fail_on="never",  # the next task decides, with the whole summary in hand
    )

    @task(
        retries=0,  # a verdict on the summary: another try would reach the same one, 30 s later
        outlets=[CATALOG] if OUTLET_ASSETS_RUN_IN_DAGS_TEST else [],  # changed once every phase ran cleanly
    )
    def check_report(summary: dict[str, Any]) -> None:
        """Log what each phase sent; fail the run when rows did not complete, naming each by SKU and phase."""
        log.info("Sent per phase: %s; %s request(s) did not complete", summary["sent"], summary["failed_count"])
        if summary["failed_count"]:
            lines = [
                f"  {row['sku']}: {row['phase']} HTTP {row['http_status']} {row['error_code'] or ''} "
                f"{row['error_message'] or ''}"
                for row in summary["failed"]
            ]
            raise ValueError("These rows did not reach Ecwid:\n" + "\n".join(lines))

    check_report(sync.output)  # type: ignore[arg-type]  # an XComArg: Airflow passes the summary it resolves to


ecwid_nightly_catalog_import()
