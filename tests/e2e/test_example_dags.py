"""The example DAGs in real Airflow runs against the emulator: they import, sync, stay idempotent, report."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from airflow_provider_ecwid.testing import EcwidEmulator
from tests.catalog_checks import assert_store_matches, expected_catalog
from tests.e2e.conftest import AIRFLOW, AirflowHome, RunRecord, without_airflows_mask_requests
from tests.integration.helpers import Api

EXAMPLES = Path(__file__).resolve().parents[2] / "dags_examples"


@pytest.fixture
def examples(airflow_home: AirflowHome) -> AirflowHome:
    return AirflowHome(airflow_home.home, EXAMPLES)


def output_of(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def assert_dry_run(run: RunRecord, requests: int) -> None:
    """The run succeeded as a dry run: the send task validated ``requests`` requests, the report saw no ticket."""
    assert set(run.task_states().values()) == {"success"}
    preview = run.xcom("send_requests")
    assert (preview["dry_run"], preview["requests"], preview["chunks"]) == (True, requests, 1)
    assert run.xcom("report")["total"] == 0


def test_example_dags_import_without_errors() -> None:
    try:
        from airflow.dag_processing.dagbag import DagBag  # Airflow 3.1+
    except ImportError:  # older Airflow
        from airflow.models.dagbag import DagBag  # type: ignore[no-redef]  # the same class, where Airflow < 3.1 has it

    sys.path.insert(0, str(EXAMPLES))  # as Airflow does for its DAG folder: the examples share ecwid_sample_feed.py
    try:
        bag = DagBag(dag_folder=str(EXAMPLES))
    finally:
        sys.path.remove(str(EXAMPLES))
    assert bag.import_errors == {}
    assert {
        "ecwid_nightly_catalog_import",
        "ecwid_manual_batch",
        "ecwid_catalog_changed",
        "ecwid_multi_store_sync",
        "ecwid_orders_export",
    } <= set(bag.dag_ids)
    nightly = bag.dags["ecwid_nightly_catalog_import"]
    assert nightly is not None
    assert nightly.doc_md
    # the nightly import's last task updates the catalog Asset that the downstream DAG is scheduled on
    from airflow_provider_ecwid.compat import OUTLET_ASSETS_RUN_IN_DAGS_TEST

    outlets = [getattr(outlet, "uri", None) for outlet in nightly.get_task("check_report").outlets]
    assert outlets == (["ecwid://1002/products"] if OUTLET_ASSETS_RUN_IN_DAGS_TEST else [])
    downstream = bag.dags["ecwid_catalog_changed"]
    timetable = downstream.timetable
    condition = getattr(timetable, "asset_condition", None) or getattr(timetable, "dataset_condition", None)
    assert [getattr(asset, "uri", None) for asset in getattr(condition, "objects", [condition])] == [
        "ecwid://1002/products"
    ]


@pytest.mark.ecwid_emulator(processing_time=0.001)
def test_nightly_import_twice_then_a_changed_feed(examples: AirflowHome, ecwid_emulator: EcwidEmulator) -> None:
    first = examples.dags_test("ecwid_nightly_catalog_import", ecwid_emulator)
    assert first.returncode == 0, output_of(first)[-5000:]
    assert_store_matches(ecwid_emulator, expected_catalog("catalog.csv"))
    run = examples.latest_run("ecwid_nightly_catalog_import")
    # three tasks, all done: no hand-written category task, the sync makes the categories itself
    assert run.task_states() == dict.fromkeys(("shape_feed", "sync_catalog", "check_report"), "success")
    summary = run.xcom("sync_catalog", key="sync_summary")
    assert summary["failed_count"] == 0, summary["failed"]
    assert summary["sent"]["products"] == summary["products"] == len(ecwid_emulator.products())
    inner = ecwid_emulator.stats()["inner_total"]

    second = examples.dags_test("ecwid_nightly_catalog_import", ecwid_emulator)
    assert second.returncode == 0, output_of(second)[-5000:]
    assert ecwid_emulator.stats()["inner_total"] == inner  # not one inner request: categories, products, images
    again = examples.latest_run("ecwid_nightly_catalog_import")
    assert again.run_id != run.run_id
    assert sum(again.xcom("sync_catalog", key="sync_summary")["sent"].values()) == 0

    before = {
        (r["method"], r["endpoint"]): r["count"] for r in ecwid_emulator.stats()["calls"] if r["scope"] == "inner"
    }
    third = examples.dags_test_with_conf(
        "ecwid_nightly_catalog_import", ecwid_emulator, {"feed": "catalog_changed.csv"}
    )
    assert third.returncode == 0, output_of(third)[-5000:]
    after = {(r["method"], r["endpoint"]): r["count"] for r in ecwid_emulator.stats()["calls"] if r["scope"] == "inner"}
    assert {key: n - before.get(key, 0) for key, n in after.items() if n != before.get(key, 0)} == {
        ("PUT", "/products/{id}/combinations/{id}"): 1,  # one variation's price
        ("POST", "/products/{id}/combinations"): 1,  # one new variation
        ("POST", "/products/{id}/image"): 1,  # one product's main image
    }
    assert_store_matches(ecwid_emulator, expected_catalog("catalog_changed.csv"))


@pytest.mark.ecwid_emulator(processing_time=0.001)
def test_bad_rows_fail_the_run_and_are_named(examples: AirflowHome, ecwid_emulator: EcwidEmulator) -> None:
    result = examples.dags_test_with_conf(
        "ecwid_nightly_catalog_import", ecwid_emulator, {"feed": "catalog_bad_rows.csv"}
    )
    output = output_of(result)
    assert result.returncode != 0
    run = examples.latest_run("ecwid_nightly_catalog_import")
    assert run.task_states() == {"shape_feed": "success", "sync_catalog": "success", "check_report": "failed"}
    summary = run.xcom("sync_catalog", key="sync_summary")
    assert {row["sku"] for row in summary["failed"]} == {"BAD-00005", "BAD-00017", "BAD-00031"}
    assert summary["failed_count"] == 3
    # the check task's failure names each SKU at the start of a line (its message is the example's product)
    failed_lines = {line.strip().split(":")[0] for line in output.splitlines() if line.strip().startswith("BAD-")}
    assert {"BAD-00005", "BAD-00017", "BAD-00031"} <= failed_lines
    feed = expected_catalog("catalog_bad_rows.csv")
    good = set(feed["product_code"]) - {"BAD-00005", "BAD-00017", "BAD-00031"}
    assert {p["sku"] for p in ecwid_emulator.products()} == good


@pytest.mark.ecwid_emulator(
    processing_time=0.001,
    error_rate=0.1,
    seed=5,
    rate_limit_per_minute=4,
    rate_limit_window=2,
    import_lock_windows=[(0, 10)],  # the sync reads the store first (rate-limited here); its first write comes later
)
def test_nightly_import_under_faults(examples: AirflowHome, ecwid_emulator: EcwidEmulator) -> None:
    result = examples.dags_test("ecwid_nightly_catalog_import", ecwid_emulator)
    output = output_of(result)
    assert result.returncode == 0, output[-5000:]
    assert ecwid_emulator.call_count(status=503) > 0
    assert ecwid_emulator.call_count(status=429) > 0
    assert ecwid_emulator.call_count(status=449) > 0
    assert_store_matches(ecwid_emulator, expected_catalog("catalog.csv"))
    assert len(ecwid_emulator.batches()) == len({b["deduplication_key"] for b in ecwid_emulator.batches()})


def test_manual_batch_dry_run_then_real(examples: AirflowHome, ecwid_emulator: EcwidEmulator) -> None:
    request = '[{"method": "POST", "path": "/products", "body": {"sku": "HAND-1", "name": "By hand", "enabled": true}}]'
    dry = examples.dags_test_with_conf("ecwid_manual_batch", ecwid_emulator, {"requests_json": request})
    assert dry.returncode == 0, output_of(dry)[-5000:]
    assert_dry_run(examples.latest_run("ecwid_manual_batch"), requests=1)
    assert ecwid_emulator.products() == []
    assert ecwid_emulator.call_count() == 0
    real = examples.dags_test_with_conf(
        "ecwid_manual_batch", ecwid_emulator, {"requests_json": request, "dry_run": False}
    )
    assert real.returncode == 0, output_of(real)[-5000:]
    assert [p["sku"] for p in ecwid_emulator.products()] == ["HAND-1"]


def test_manual_batch_from_a_file(examples: AirflowHome, ecwid_emulator: EcwidEmulator, tmp_path: Path) -> None:
    file = tmp_path / "fix.jsonl"
    file.write_text(
        '{"id": "a", "method": "POST", "path": "/products", "body": {"sku": "F-1", "name": "one"}}\n'
        '{"id": "b", "method": "POST", "path": "/products", "body": {"sku": "F-2", "name": "two"}}\n'
    )
    result = examples.dags_test_with_conf(
        "ecwid_manual_batch", ecwid_emulator, {"file_path": str(file), "dry_run": False}
    )
    assert result.returncode == 0, output_of(result)[-5000:]
    assert sorted(p["sku"] for p in ecwid_emulator.products()) == ["F-1", "F-2"]


def test_manual_batch_runs_with_the_forms_defaults(examples: AirflowHome, ecwid_emulator: EcwidEmulator) -> None:
    """What "Trigger" with an untouched form does: no file, the sample inline list, dry run on."""
    result = examples.dags_test_with_conf("ecwid_manual_batch", ecwid_emulator, None)
    assert result.returncode == 0, output_of(result)[-5000:]
    assert_dry_run(examples.latest_run("ecwid_manual_batch"), requests=1)  # the form's sample: one request
    assert ecwid_emulator.batches() == []
    assert ecwid_emulator.call_count() == 0


def test_a_connection_saved_with_its_password_encrypted_runs_the_manual_dag(
    examples: AirflowHome, ecwid_emulator: EcwidEmulator
) -> None:
    """What a real deployment does: a Fernet key is set, the connection is saved in the metadata database (its
    token encrypted there) and an Ecwid task reads it back. Airflow 2.11 with cryptography 51 failed right here."""
    token = ecwid_emulator.token()
    env = examples.env(ecwid_emulator)
    saved = subprocess.run(
        [
            *(AIRFLOW, "connections", "add", "ecwid_saved", "--conn-type", "ecwid"),
            *("--conn-login", str(ecwid_emulator.store_id), "--conn-password", token),
            *("--conn-extra", json.dumps({"base_url": ecwid_emulator.base_url})),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert saved.returncode == 0, output_of(saved)[-5000:]
    with contextlib.closing(sqlite3.connect(examples.home / "airflow.db")) as database:
        [(stored, encrypted)] = database.execute(
            "SELECT password, is_encrypted FROM connection WHERE conn_id = 'ecwid_saved'"
        ).fetchall()
    assert encrypted
    assert token not in stored

    request = '[{"method": "POST", "path": "/products", "body": {"sku": "SAVED-1", "name": "Saved connection"}}]'
    conf = {"requests_json": request, "dry_run": False, "ecwid_conn_id": "ecwid_saved"}
    result = examples.dags_test_with_conf("ecwid_manual_batch", ecwid_emulator, conf)
    assert result.returncode == 0, output_of(result)[-5000:]
    assert [p["sku"] for p in ecwid_emulator.products()] == ["SAVED-1"]
    assert token not in without_airflows_mask_requests(output_of(result))  # Airflow 3.0 logs its own MaskSecret lines


@pytest.mark.ecwid_emulator(processing_time=0.001, stores={1002: ["secret_demo"], 2002: ["secret_other"]})
def test_multi_store_sync_fills_every_store_and_two_tasks_share_one(
    examples: AirflowHome, ecwid_emulator: EcwidEmulator
) -> None:
    """The fan-out example: the Variable names two stores, each gets the whole feed; the two accessory tasks write
    their halves into the first store at once."""
    result = examples.dags_test(
        "ecwid_multi_store_sync",
        ecwid_emulator,
        AIRFLOW_VAR_ECWID_STORE_CONNECTIONS='["ecwid_default", "ecwid_other"]',
        AIRFLOW_CONN_ECWID_OTHER=ecwid_emulator.connection_json(2002),
    )
    assert result.returncode == 0, output_of(result)[-5000:]
    states = examples.latest_run("ecwid_multi_store_sync").task_states()
    assert {task for task, state in states.items() if state != "success"} == set(), states
    assert {"sync_store[0]", "sync_store[1]", "sync_accessories[0]", "sync_accessories[1]"} <= set(states)
    expected = expected_catalog("catalog.csv")
    assert_store_matches(ecwid_emulator, expected, store_id=2002)
    accessories = [p for p in ecwid_emulator.products(1002) if p["sku"].startswith("ACC-")]
    assert len(accessories) == 120
    assert_store_matches(ecwid_emulator, expected, store_id=1002, ignore_sku_prefix="ACC-")
    assert ecwid_emulator.call_count(status=429) == 0


@pytest.mark.ecwid_emulator(processing_time=0.001)
def test_orders_export_writes_its_days_orders_and_the_revenue_task_reads_them(
    examples: AirflowHome, ecwid_emulator: EcwidEmulator, tmp_path: Path
) -> None:
    ecwid_emulator.seed_customers(100, updated_from="2026-11-01", updated_to="2026-11-02", seed=1)
    ecwid_emulator.seed_orders(3_000, updated_from="2026-11-28", updated_to="2026-12-03 23:59:59", seed=2)
    # a manual run names its day (its own interval is empty on Airflow 3), as the DAG's doc says
    result = examples.dags_test_with_conf(
        "ecwid_orders_export", ecwid_emulator, {"day": "2026-12-01"}, ECWID_EXPORT_FOLDER=str(tmp_path)
    )
    assert result.returncode == 0, output_of(result)[-5000:]
    run = examples.latest_run("ecwid_orders_export")
    assert run.task_states() == dict.fromkeys(("export_orders", "daily_revenue"), "success")
    exported = run.xcom("export_orders")
    start, end = exported["window"]["start"], exported["window"]["end"]
    assert (start, end) == (1_796_083_200, 1_796_169_600)  # 2026-12-01, the whole day
    assert Path(exported["output"]).name == "2026-12-01.parquet"
    query = {"updatedFrom": start, "updatedTo": end - 1, "paymentStatus": "PAID,AWAITING_PAYMENT", "limit": 1}
    expected = Api(ecwid_emulator).call("GET", "/orders", params=query).json()["total"]
    assert expected > 0
    assert pq.read_table(exported["output"]).num_rows == exported["rows"] == expected
    assert Path(exported["output"]).parent == tmp_path / "orders"
    assert exported["calls"] <= 6  # a day of orders: a count, a batch or two, their status reads
    revenue = run.xcom("daily_revenue")
    assert revenue["orders"] == expected
    assert revenue["revenue"] > 0
