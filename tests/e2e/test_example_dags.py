"""The example DAGs in real Airflow runs against the emulator: they import, sync, stay idempotent, report."""

from __future__ import annotations

import contextlib
import json
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from airflow_provider_ecwid.testing import EcwidEmulator
from tests.e2e.conftest import AIRFLOW, AirflowHome, RunRecord

EXAMPLES = Path(__file__).resolve().parents[2] / "dags_examples"


@pytest.fixture
def examples(airflow_home: AirflowHome) -> AirflowHome:
    return AirflowHome(airflow_home.home, EXAMPLES)


def output_of(result: subprocess.CompletedProcess[str]) -> str:
    return result.stdout + result.stderr


def expected_catalog(feed: str) -> pd.DataFrame:
    return pd.read_csv(EXAMPLES / "data" / feed, dtype={"product_code": str, "parent_code": str})


def category_paths(emulator: EcwidEmulator) -> dict[int, str]:
    categories = {c["id"]: c for c in emulator.categories()}

    def path(category_id: int) -> str:
        parent = categories[category_id].get("parentId")
        name = str(categories[category_id]["name"])
        return f"{path(parent)} > {name}" if parent else name

    return {category_id: path(category_id) for category_id in categories}


def assert_store_matches(emulator: EcwidEmulator, feed: pd.DataFrame) -> None:
    """Products, their category paths, variations (price, stock, choices) and images, as the feed says."""
    if "parent_code" not in feed:
        feed = feed.assign(parent_code=None)
    products = feed[feed["parent_code"].isna()]
    variations = feed[feed["parent_code"].notna()]
    stored = {p["sku"]: p for p in emulator.products()}
    assert set(stored) == set(products["product_code"])
    paths = category_paths(emulator)
    # itertuples' fields: pandas-stubs types them as any scalar (Period, Interval...), which pd.isna does not take
    row: Any
    for row in products.itertuples():
        product = stored[row.product_code]
        assert product["name"] == row.title
        assert product["price"] == row.price
        assert product["quantity"] == row.stock
        assert product["enabled"] is (row.active == "yes")
        assert [paths[c] for c in product["categoryIds"]] == [row.category]
    combinations = {c["sku"]: c for p in stored.values() for c in p.get("combinations", [])}
    assert set(combinations) == set(variations["product_code"])
    for row in variations.itertuples():
        combination = combinations[row.product_code]
        assert (combination["price"], combination["quantity"]) == (row.price, row.stock)
        chosen = {option["name"]: option["value"] for option in combination["options"]}
        assert chosen == {
            name: getattr(row, name) for name in ("Size", "Color", "Material") if pd.notna(getattr(row, name))
        }
    if "image_url" in feed:
        images = {(i["sku"], i["kind"], i["position"]): i["url"] for i in emulator.images()}
        for row in feed.itertuples():
            kind = "variation" if pd.notna(row.parent_code) else "main"
            assert images.get((row.product_code, kind, 0)) == (row.image_url if pd.notna(row.image_url) else None)


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

    bag = DagBag(dag_folder=str(EXAMPLES))
    assert bag.import_errors == {}
    assert {"ecwid_nightly_catalog_import", "ecwid_manual_batch", "ecwid_catalog_changed"} <= set(bag.dag_ids)
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
    assert token not in output_of(result)
