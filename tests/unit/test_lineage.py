"""The catalog Asset and the OpenLineage datasets of the batch and sync operators (no Ecwid needed)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd
import pytest
from airflow.providers.common.compat.assets import Asset

from airflow_provider_ecwid.errors import EcwidConfigError
from airflow_provider_ecwid.lineage import (
    ecwid_catalog_asset,
    ecwid_catalog_uri,
    feed_dataset_name,
    foreign_catalog_outlets,
)

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import DAG

    from tests.integration.fakes import TaskLogs


def test_catalog_uri_and_asset() -> None:
    assert ecwid_catalog_uri(1002) == "ecwid://1002/products"
    assert ecwid_catalog_uri(" 1002 ") == "ecwid://1002/products"
    asset = ecwid_catalog_asset("1002")
    assert isinstance(asset, Asset)  # an Asset on Airflow 3, a Dataset on 2.11
    assert asset.uri == "ecwid://1002/products"
    assert asset == ecwid_catalog_asset(1002)  # the same asset however the id is written


@pytest.mark.parametrize("bad", ["", "abc", "12/34", "1002 products"])
def test_catalog_uri_wants_a_numeric_store_id(bad: str) -> None:
    with pytest.raises(EcwidConfigError, match="store id must be a number"):
        ecwid_catalog_uri(bad)


def test_asset_schedules_a_dag() -> None:
    import pendulum
    from airflow.providers.common.compat.sdk import DAG

    start = pendulum.datetime(2026, 1, 1, tz="UTC")  # Airflow 2.11 wants one
    dag = DAG("downstream", schedule=[ecwid_catalog_asset(1002)], start_date=start)
    uris = {getattr(asset, "uri", None) for asset in _assets_of(dag)}
    assert "ecwid://1002/products" in uris


def _assets_of(dag: DAG) -> list[object]:
    """The assets a DAG is scheduled on: its timetable's asset (3) or dataset (2.11) condition."""
    timetable = dag.timetable
    condition = getattr(timetable, "asset_condition", None) or getattr(timetable, "dataset_condition", None)
    objects = getattr(condition, "objects", None)
    return list(objects) if objects is not None else [condition]


def test_foreign_catalog_outlets() -> None:
    outlets = [ecwid_catalog_asset(1002), ecwid_catalog_asset(2002), Asset(uri="s3://bucket/key"), "not an asset"]
    assert foreign_catalog_outlets(outlets, "1002") == ["ecwid://2002/products"]
    assert foreign_catalog_outlets([], "1002") == []


def test_feed_dataset_names(tmp_path: Path) -> None:
    feed = tmp_path / "feed.csv"
    assert feed_dataset_name(str(feed)) == ("file", str(feed))
    assert feed_dataset_name(feed) == ("file", str(feed))
    assert feed_dataset_name(f"file://{feed}") == ("file", str(feed))
    assert feed_dataset_name("s3://bucket/feeds/catalog.csv") == ("s3://bucket", "feeds/catalog.csv")
    # data handed over in memory has no dataset of its own
    assert feed_dataset_name(pd.DataFrame({"sku": ["A"]})) is None
    assert feed_dataset_name([{"sku": "A"}]) is None


def test_the_operator_warns_about_a_catalog_outlet_of_another_store(
    monkeypatch: pytest.MonkeyPatch, task_logs: TaskLogs
) -> None:
    from airflow_provider_ecwid.operators.batch import EcwidBatchOperator
    from tests.integration.fakes import make_context

    monkeypatch.setenv("AIRFLOW_CONN_ECWID_DEFAULT", "ecwid://1002:secret_x@/")
    outlets = [ecwid_catalog_asset(2002), ecwid_catalog_asset(1002)]
    operator = EcwidBatchOperator(task_id="t", data=[{"sku": "A"}], path="/products", dry_run=True, outlets=outlets)
    operator.execute(make_context())  # a dry run: nothing is sent, the connection is only read
    logged = task_logs.text()
    assert "Outlet ecwid://2002/products names another store than connection 'ecwid_default' (store 1002)" in logged
    assert "Outlet ecwid://1002/products" not in logged
