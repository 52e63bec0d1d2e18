"""The example DAGs on CeleryExecutor with PostgreSQL and Redis: two workers, a triggerer, one API budget per token.

The nightly import (deferrable: every phase waits in the triggerer, and a worker picks the task up again after each
deferral, not necessarily the same one), the manual DAG and the multi-store fan-out all run through the REST API.
Every store must match its feed and the emulator must never have answered 429.
"""

from __future__ import annotations

import json
import time

import pytest

from tests.catalog_checks import assert_store_matches, expected_catalog
from tests.deployment.celery.conftest import FAN_OUT_STORES
from tests.deployment.dag_runs import assert_succeeded, trigger, wait_for_dags, wait_for_run, xcom
from tests.deployment.deployment import Deployment

pytestmark = pytest.mark.deployment

NIGHTLY, MANUAL, FAN_OUT = "ecwid_nightly_catalog_import", "ecwid_manual_batch", "ecwid_multi_store_sync"


def test_example_dags_on_celery_with_postgres_and_redis(celery_deployment: Deployment) -> None:
    deployment = celery_deployment
    started = time.monotonic()
    wait_for_dags(deployment, {NIGHTLY, MANUAL, FAN_OUT})
    stores = [f"ecwid_store_{store_id}" for store_id in FAN_OUT_STORES]
    deployment.api("POST", "/variables", json={"key": "ecwid_store_connections", "value": json.dumps(stores)})
    for dag_id in (NIGHTLY, MANUAL, FAN_OUT):
        deployment.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False})

    # the fan-out and the nightly import at once: four mapped syncs and the nightly share two workers
    first_store = min(FAN_OUT_STORES)
    trigger(deployment, FAN_OUT, "fan-out-1", {"accessories_conn_id": f"ecwid_store_{first_store}"})
    trigger(deployment, NIGHTLY, "nightly-1")
    for dag_id, run_id in ((FAN_OUT, "fan-out-1"), (NIGHTLY, "nightly-1")):
        run, _ = wait_for_run(deployment, dag_id, run_id)
        assert_succeeded(deployment, run)

    feed = expected_catalog("catalog.csv")
    assert_store_matches(deployment, feed)  # the nightly's store, ecwid_default
    for store_id in FAN_OUT_STORES:
        assert_store_matches(deployment, feed, store_id=store_id, ignore_sku_prefix="ACC-")
    accessories = [p for p in deployment.products(first_store) if str(p["sku"]).startswith("ACC-")]
    assert len(accessories) == 120  # both halves, written at once into one store
    summary = xcom(deployment, NIGHTLY, "nightly-1", "sync_catalog", key="sync_summary")
    assert summary["failed_count"] == 0, summary["failed"]

    # the manual DAG with params: its sensor waits in the triggerer
    request = [{"method": "POST", "path": "/products", "body": {"sku": "CELERY-1", "name": "Sent by hand"}}]
    trigger(deployment, MANUAL, "manual-1", {"requests_json": json.dumps(request), "dry_run": False})
    manual, _ = wait_for_run(deployment, MANUAL, "manual-1")
    assert_succeeded(deployment, manual)
    assert "CELERY-1" in {product["sku"] for product in deployment.products()}

    assert deployment.calls(status=429) == 0
    print(f"Celery scenario: {time.monotonic() - started:.1f} s")  # noqa: T201
