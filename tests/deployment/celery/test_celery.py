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

pytestmark = [pytest.mark.deployment, pytest.mark.needs("redis-server", "postgresql")]


def redis_keys(deployment: Deployment) -> list[str]:
    """The keys in the Redis database that the connections' rate_limit_storage names."""
    import redis

    assert deployment.redis is not None
    client = redis.Redis.from_url(deployment.redis.url(1), decode_responses=True)
    keys: list[str] = client.keys("*")  # type: ignore[assignment]  # redis types sync and async answers as one
    return keys


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
    # every process drew on the budgets kept in Redis: one per store token, named without the token
    budgets = redis_keys(deployment)
    assert any(f"ecwid_{store_id}_" in key for key in budgets for store_id in (1002, *FAN_OUT_STORES)), budgets
    assert not any("secret" in key for key in budgets), budgets
    print(f"Celery scenario: {time.monotonic() - started:.1f} s")  # noqa: T201


#: How many nightly runs the race check makes. It was 20 while the race could happen; since a deferrable task polls
#: for ``defer_grace`` before deferring, these small runs finish their phases in the worker and never defer, so the
#: check now guards that grace (a regression would bring the deferrals, and the race, back): 8 runs are enough for
#: that, and they spare CI about two minutes.
RACE_RUNS = 8


def test_no_try_is_lost_to_the_deferral_race(celery_deployment: Deployment) -> None:
    """Nightly runs that each send a little (the feed alternates between the sample and its changed copy),
    so each phase's batches finish quickly, the race that lost tries before: a deferred task's exit against its
    trigger's early event ("state changed externally"). The fan-out's syncs run at the same time, keeping the
    workers busy. Every run must succeed with every task in its first try."""
    deployment = celery_deployment
    started = time.monotonic()
    wait_for_dags(deployment, {NIGHTLY, FAN_OUT})
    for dag_id in (NIGHTLY, FAN_OUT):
        deployment.api("PATCH", f"/dags/{dag_id}", json={"is_paused": False})
    feeds = ("catalog_changed.csv", "catalog.csv")
    run_ids = [f"race-{number:02d}" for number in range(RACE_RUNS)]
    for number, run_id in enumerate(run_ids):
        trigger(deployment, NIGHTLY, run_id, {"feed": feeds[number % 2]})
    trigger(deployment, FAN_OUT, "fan-out-busy", {"accessories_conn_id": f"ecwid_store_{min(FAN_OUT_STORES)}"})

    lost: dict[str, list[str]] = {}
    for run_id in run_ids:
        run, _ = wait_for_run(deployment, NIGHTLY, run_id, timeout=300)
        tries = deployment.api("GET", f"/dags/{NIGHTLY}/dagRuns/{run_id}/taskInstances/sync_catalog/tries")
        states = [attempt["state"] for attempt in tries["task_instances"]]
        if run["state"] != "success" or states != ["success"]:
            lost[run_id] = states
    busy, _ = wait_for_run(deployment, FAN_OUT, "fan-out-busy")
    assert_succeeded(deployment, busy)
    print(f"race check: {RACE_RUNS} runs in {time.monotonic() - started:.1f} s, {len(lost)} with a lost try")  # noqa: T201
    assert lost == {}, f"runs whose sync did not succeed in its first try: {lost}\n{deployment.where_to_look()}"
    assert deployment.calls(status=429) == 0
