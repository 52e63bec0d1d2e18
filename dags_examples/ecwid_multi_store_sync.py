"""Several stores in one DAG: the same catalog synced into each store, one mapped task per store connection.

An agency's shape: one product feed, several Ecwid stores (one connection each, with its own token). The list
of connections is the Variable ``ecwid_store_connections`` (a JSON list, e.g. ``["ecwid_eu", "ecwid_us"]``;
without it: ``["ecwid_default"]``), read when the DAG runs, so adding a store is one edit in the UI, not a
deploy. ``sync_store`` is mapped over that list (dynamic task mapping): each store is one task instance, synced,
retried and reported on its own, every phase waiting in the triggerer.

``sync_accessories`` shows two mapped tasks writing to ONE store at once (the connection in the param
``accessories_conn_id``): the accessory products are cut in two halves, each synced by its own task. They share
the store's API budget: with ``rate_limit_storage`` on the connection (see the README, "Running on many
workers"), every worker's client draws from one budget per token, so parallel tasks cannot exceed Ecwid's limit
together. The halves name disjoint SKUs and the syncs keep products they do not name (``on_missing="keep"``), so
neither task touches the other's products.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import Param, Variable, dag, task

from airflow_provider_ecwid.operators.catalog import EcwidCatalogSyncOperator

# ecwid_sample_feed.py lies beside this file. Airflow puts the DAG folder on sys.path, but Airflow 3.0's
# `airflow dags test` does not: make sure, so the file imports wherever it is parsed.
if str(Path(__file__).parent) not in sys.path:
    sys.path.append(str(Path(__file__).parent))
from ecwid_sample_feed import CATALOG_COLUMNS, shaped_feed

#: How many accessory products each of the two parallel tasks syncs into the one store.
ACCESSORIES_PER_HALF = 60


@dag(
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["ecwid", "example"],
    params={
        "feed": Param("catalog.csv", type="string", description="A file in dags_examples/data/, for every store."),
        "accessories_conn_id": Param(
            "ecwid_default", type="string", description="The one store the two accessory tasks write to at once."
        ),
    },
    doc_md=__doc__,
)
def ecwid_multi_store_sync() -> None:
    @task
    def store_connections() -> list[str]:
        """The stores to sync: the Variable ``ecwid_store_connections`` (a JSON list of connection ids)."""
        stores = Variable.get("ecwid_store_connections", ["ecwid_default"], deserialize_json=True)
        if not isinstance(stores, list) or not all(isinstance(conn_id, str) for conn_id in stores):
            raise ValueError(f"ecwid_store_connections must be a JSON list of connection ids, got {stores!r}")
        return stores

    @task
    def shape_feed(params: dict[str, Any] | None = None) -> Any:
        """The feed every store gets, as Ecwid product fields (a DataFrame)."""
        assert params is not None
        return shaped_feed(params["feed"])

    EcwidCatalogSyncOperator.partial(
        task_id="sync_store",
        data=shape_feed(),
        **CATALOG_COLUMNS,
        poll_interval=2,
        deferrable=True,  # each store's phases wait in the triggerer, not in a worker slot
    ).expand(ecwid_conn_id=store_connections())

    @task
    def accessory_halves() -> list[list[dict[str, Any]]]:
        """Two disjoint halves of a plain product list (no categories, variations or images)."""
        products = [
            {"sku": f"ACC-{number:04d}", "name": f"Accessory {number}", "price": 5 + number % 20, "enabled": True}
            for number in range(2 * ACCESSORIES_PER_HALF)
        ]
        return [products[:ACCESSORIES_PER_HALF], products[ACCESSORIES_PER_HALF:]]

    EcwidCatalogSyncOperator.partial(
        task_id="sync_accessories",
        ecwid_conn_id="{{ params.accessories_conn_id }}",
        poll_interval=2,
        deferrable=True,
    ).expand(data=accessory_halves())


ecwid_multi_store_sync()
