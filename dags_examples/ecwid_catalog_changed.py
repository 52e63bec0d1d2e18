"""Downstream of the nightly import: runs whenever the store's catalog Asset is updated.

``ecwid_nightly_catalog_import`` declares the catalog ``ecwid://{store_id}/products`` as an outlet of its last
task, so this DAG runs after each clean import, with no time schedule of its own. Here it only counts the
store's products (a stand-in for a real consumer: a search index refresh, a price export, a report).
``ECWID_STORE_ID`` names the store, as in the nightly DAG (default the emulator's demo store 1002).
"""

from __future__ import annotations

import logging
import os
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import dag, task

from airflow_provider_ecwid.hooks.ecwid import EcwidHook
from airflow_provider_ecwid.lineage import ecwid_catalog_asset

log = logging.getLogger(__name__)
CATALOG = ecwid_catalog_asset(os.environ.get("ECWID_STORE_ID", "1002"))  # the store of connection ecwid_default


@dag(
    schedule=[CATALOG],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["ecwid", "example"],
    doc_md=__doc__,
)
def ecwid_catalog_changed() -> None:
    @task
    def count_products() -> dict[str, Any]:
        """Count the store's products, and how many of them are enabled."""
        client = EcwidHook().get_conn()
        total = enabled = 0
        for product in client.iter_products(responseFields="total,count,items(id,enabled)"):
            total += 1
            enabled += bool(product.get("enabled"))
        log.info("The catalog changed: %s product(s), %s enabled", f"{total:,}", f"{enabled:,}")
        return {"products": total, "enabled": enabled}

    count_products()


ecwid_catalog_changed()
