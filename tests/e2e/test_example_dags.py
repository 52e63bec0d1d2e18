"""The example DAGs in real Airflow runs against the emulator: they import, sync, stay idempotent, report."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from airflow_provider_ecwid.testing import EcwidEmulator
from tests.e2e.conftest import AirflowHome, deferred

EXAMPLES = Path(__file__).resolve().parents[2] / "dags_examples"


@pytest.fixture
def examples(airflow_home: AirflowHome) -> AirflowHome:
    return AirflowHome(airflow_home.home, EXAMPLES)


def output_of(result) -> str:  # type: ignore[no-untyped-def]
    return result.stdout + result.stderr  # type: ignore[no-any-return]


def expected_catalog(feed: str) -> pd.DataFrame:
    return pd.read_csv(EXAMPLES / "data" / feed)


def assert_store_matches(emulator: EcwidEmulator, feed: pd.DataFrame) -> None:
    stored = {p["sku"]: p for p in emulator.products()}
    assert set(stored) == set(feed["product_code"])
    categories = {c["id"]: c["name"] for c in emulator.categories()}
    for row in feed.itertuples():
        product = stored[row.product_code]
        assert product["name"] == row.title
        assert product["price"] == row.price
        assert product["quantity"] == row.stock
        assert product["enabled"] is (row.active == "yes")
        assert [categories[c] for c in product["categoryIds"]] == [row.category]


def test_example_dags_import_without_errors() -> None:
    try:
        from airflow.dag_processing.dagbag import DagBag  # Airflow 3.1+
    except ImportError:  # older Airflow
        from airflow.models.dagbag import DagBag

    bag = DagBag(dag_folder=str(EXAMPLES))
    assert bag.import_errors == {}
    assert {"ecwid_nightly_catalog_import", "ecwid_manual_batch", "ecwid_catalog_changed"} <= set(bag.dag_ids)
    nightly = bag.dags["ecwid_nightly_catalog_import"]
    assert nightly is not None
    assert nightly.doc_md
    # the nightly import's last task updates the catalog Asset that the downstream DAG is scheduled on
    outlets = [getattr(outlet, "uri", None) for outlet in nightly.get_task("check_report").outlets]
    assert outlets == ["ecwid://1002/products"]
    downstream = bag.dags["ecwid_catalog_changed"]
    timetable = downstream.timetable
    condition = getattr(timetable, "asset_condition", None) or getattr(timetable, "dataset_condition", None)
    assert [getattr(asset, "uri", None) for asset in getattr(condition, "objects", [condition])] == outlets


# 1,000 products x 5 ms: the batches still run when the sensor first looks, so that it has to wait (and defer)
@pytest.mark.ecwid_emulator(processing_time=0.005)
def test_nightly_import_twice(examples: AirflowHome, ecwid_emulator: EcwidEmulator) -> None:
    # Airflow's own default_deferrable is False: the example must defer anyway, as its docstring says
    env = {"AIRFLOW__OPERATORS__DEFAULT_DEFERRABLE": "False"}
    first = examples.dags_test("ecwid_nightly_catalog_import", ecwid_emulator, **env)
    assert first.returncode == 0, output_of(first)[-5000:]
    assert deferred(output_of(first))
    assert_store_matches(ecwid_emulator, expected_catalog("catalog.csv"))
    posts = ecwid_emulator.call_count(scope="inner", method="POST", endpoint="/products")
    assert posts == 1000

    second = examples.dags_test("ecwid_nightly_catalog_import", ecwid_emulator, **env)
    assert second.returncode == 0, output_of(second)[-5000:]
    assert ecwid_emulator.call_count(scope="inner", method="POST", endpoint="/products") == posts  # no POST
    assert ecwid_emulator.call_count(scope="inner", method="PUT") == 0
    assert len(ecwid_emulator.products()) == 1000  # no duplicates
    assert "1,000 unchanged (nothing sent)" in output_of(second)


@pytest.mark.ecwid_emulator(processing_time=0.001)
def test_bad_rows_fail_the_run_and_are_named(examples: AirflowHome, ecwid_emulator: EcwidEmulator) -> None:
    result = examples.dags_test_with_conf(
        "ecwid_nightly_catalog_import", ecwid_emulator, {"feed": "catalog_bad_rows.csv"}
    )
    output = output_of(result)
    assert result.returncode != 0
    assert "These products did not reach Ecwid" in output
    failed_lines = {line.strip().split(":")[0] for line in output.splitlines() if line.strip().startswith("BAD-")}
    assert {"BAD-00005", "BAD-00017", "BAD-00031"} <= failed_lines
    assert "37 completed, 3 failed" in output
    feed = expected_catalog("catalog_bad_rows.csv")
    good = set(feed["product_code"]) - {"BAD-00005", "BAD-00017", "BAD-00031"}
    assert {p["sku"] for p in ecwid_emulator.products()} == good


@pytest.mark.ecwid_emulator(
    processing_time=0.001,
    error_rate=0.1,
    seed=5,
    rate_limit_per_minute=4,
    rate_limit_window=2,
    import_lock_windows=[(0, 2)],
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
    assert "Dry run: nothing was sent" in output_of(dry)
    assert ecwid_emulator.products() == []
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
    assert "Dry run: nothing was sent" in output_of(result)
    assert ecwid_emulator.batches() == []
