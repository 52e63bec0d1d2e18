"""The example DAGs in a real deployment, driven through Airflow's REST API (v2) as a user's tooling would.

Unpausing the nightly import starts its latest scheduled run (``catchup=False`` still runs the last interval),
which syncs the whole sample catalog in phases; the two runs triggered by hand queue behind it and send nothing.
Each clean report updates the catalog Asset, which starts the downstream DAG. The manual DAG sends inline
requests given as params, and its sensor waits in the triggerer.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.deployment.dag_runs import (
    FINISHED,
    RUN_TIMEOUT,
    assert_deferred,
    assert_succeeded,
    trigger,
    wait_for_dags,
    wait_for_run,
    xcom,
)
from tests.deployment.deployment import Deployment

pytestmark = pytest.mark.deployment

NIGHTLY, MANUAL, DOWNSTREAM = "ecwid_nightly_catalog_import", "ecwid_manual_batch", "ecwid_catalog_changed"


def scheduled_run(deployment: Deployment) -> str | None:
    runs = deployment.api("GET", f"/dags/{NIGHTLY}/dagRuns", params={"run_type": "scheduled"})["dag_runs"]
    return runs[0]["dag_run_id"] if runs else None


def test_example_dags_through_the_rest_api(deployment: Deployment) -> None:
    started = time.monotonic()
    posted = deployment.calls(scope="inner", method="POST", endpoint="/products")  # the browser test's, if first
    put = deployment.calls(scope="inner", method="PUT")
    wait_for_dags(deployment, {NIGHTLY, MANUAL, DOWNSTREAM})
    for dag_id in (NIGHTLY, MANUAL, DOWNSTREAM):
        assert deployment.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False})["is_paused"] is False

    # -- unpausing starts the nightly import's latest scheduled run (catchup=False): it creates the catalog ------
    scheduled = deployment.wait_for("the nightly import's scheduled run", lambda: scheduled_run(deployment), 60)
    # the two runs triggered by hand queue behind it (max_active_runs=1) and send nothing
    trigger(deployment, NIGHTLY, "nightly-1")
    trigger(deployment, NIGHTLY, "nightly-2")
    first, sync_states = wait_for_run(deployment, NIGHTLY, scheduled, watch="sync_catalog")
    assert_succeeded(deployment, first)
    # the phases longer than the 10 s grace (the images) waited in the triggerer; the shorter ones in the worker
    assert_deferred(deployment, NIGHTLY, scheduled, "sync_catalog", sync_states, once=False)
    # the whole catalog: categories, products, options, variations and images, each phase waited for
    summary = xcom(deployment, NIGHTLY, scheduled, "sync_catalog", key="sync_summary")
    assert summary["failed_count"] == 0, summary["failed"]
    assert summary["sent"]["products"] == summary["products"] > 0, summary
    assert summary["sent"]["variations"] > 0, summary
    assert summary["sent"]["images"] > 0, summary
    products = deployment.products()
    assert len(products) == summary["products"]
    assert len({product["sku"] for product in products}) == len(products)
    assert deployment.calls(scope="inner", method="POST", endpoint="/products") == posted + len(products)

    # -- the two triggered runs: the same feed sends nothing ----------------------------------------------------
    for run_id in ("nightly-1", "nightly-2"):
        run, _ = wait_for_run(deployment, NIGHTLY, run_id)
        assert_succeeded(deployment, run)
        again = xcom(deployment, NIGHTLY, run_id, "sync_catalog", key="sync_summary")
        assert sum(again["sent"].values()) == 0, again
    assert deployment.calls(scope="inner", method="POST", endpoint="/products") == posted + len(products)
    assert deployment.calls(scope="inner", method="PUT") == put
    assert len(deployment.products()) == len(products)

    # -- the downstream DAG, scheduled on the catalog Asset that each clean report updated ----------------------
    def downstream_done() -> list[dict[str, Any]] | None:
        runs = deployment.api("GET", f"/dags/{DOWNSTREAM}/dagRuns")["dag_runs"]
        return runs if runs and all(run["state"] in FINISHED for run in runs) else None

    downstream_runs = deployment.wait_for("the catalog-changed DAG to run", downstream_done, timeout=RUN_TIMEOUT)
    nightly_runs = {scheduled, "nightly-1", "nightly-2"}
    for run in downstream_runs:
        assert_succeeded(deployment, run)
        assert run["run_type"] == "asset_triggered"
        # started by the catalog Asset events of the nightly runs
        consumed = deployment.api("GET", f"/dags/{DOWNSTREAM}/dagRuns/{run['dag_run_id']}/upstreamAssetEvents")
        assert consumed["asset_events"], f"run {run['dag_run_id']} consumed no asset event"
        for event in consumed["asset_events"]:
            assert (event["uri"], event["source_dag_id"]) == ("ecwid://1002/products", NIGHTLY)
            assert event["source_run_id"] in nightly_runs
        assert xcom(deployment, DOWNSTREAM, run["dag_run_id"], "count_products") == {
            "products": len(products),
            "enabled": sum(product["enabled"] for product in products),
        }
    events = deployment.api("GET", "/assets/events", params={"source_dag_id": NIGHTLY})["asset_events"]
    assert len(events) == 3  # one per clean nightly run
    assert {event["uri"] for event in events} == {"ecwid://1002/products"}

    # -- the manual DAG with params: inline requests, dry run off; its sensor waits in the triggerer ------------
    request = [
        {"method": "POST", "path": "/products", "body": {"sku": f"MANUAL-{n:04d}", "name": "Sent by hand"}}
        for n in range(1000)  # 20 s of the store's time: more than the sensor's 10 s grace, so it defers
    ]
    trigger(deployment, MANUAL, "manual-1", {"requests_json": json.dumps(request), "dry_run": False})
    manual, sensor_states = wait_for_run(deployment, MANUAL, "manual-1", watch="report")
    assert_succeeded(deployment, manual)
    assert_deferred(deployment, MANUAL, "manual-1", "report", sensor_states)
    assert len(xcom(deployment, MANUAL, "manual-1", "send_requests")) == 10  # 100 requests a ticket
    manual_report = xcom(deployment, MANUAL, "manual-1", "report")
    assert (manual_report["total"], manual_report["completed"]) == (1000, 1000)
    names = {product["sku"]: product["name"] for product in deployment.products()}
    assert names["MANUAL-0999"] == "Sent by hand"
    assert deployment.calls(scope="inner", method="POST", endpoint="/products") == posted + len(products) + 1000
    print(f"REST API scenario: {time.monotonic() - started:.1f} s")  # noqa: T201
