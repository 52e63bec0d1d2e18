"""EcwidExportOperator against the emulator over HTTP: a store's products out through batches, into a file or XCom."""

from __future__ import annotations

import time
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from airflow_provider_ecwid.errors import EcwidConfigError
from airflow_provider_ecwid.export.schema import PRODUCTS
from airflow_provider_ecwid.operators.export import EcwidExportOperator
from airflow_provider_ecwid.testing import EcwidEmulator
from tests.integration.catalog.test_catalog import feed, sync
from tests.integration.fakes import FakeTaskInstance, make_context
from tests.integration.helpers import fails_without_retry, wait_for_batches


@pytest.fixture
def store(emulator_conn: EcwidEmulator) -> EcwidEmulator:
    sync(feed(250))
    wait_for_batches(emulator_conn)
    time.sleep(1.1)  # the whole entity is what was updated before the export's second: the products are
    return emulator_conn


def test_the_whole_catalog_goes_to_parquet_in_a_few_calls(store: EcwidEmulator, tmp_path: Path) -> None:
    output = tmp_path / "products.parquet"
    operator = EcwidExportOperator(
        task_id="export", entity="products", updated_from=None, updated_to=None, output=str(output)
    )
    result = operator.execute(make_context(FakeTaskInstance(run_id="export-1")))
    table = pq.read_table(output)
    assert table.schema == PRODUCTS
    assert sorted(table.column("sku").to_pylist()) == [f"SKU-{n:04d}" for n in range(250)]
    assert result["rows"] == 250
    assert result["calls"] <= 5  # the store's time, one count, one batch of 3 pages, its status


def test_without_output_a_small_export_comes_back_as_a_dataframe(store: EcwidEmulator) -> None:
    operator = EcwidExportOperator(task_id="export", entity="products", updated_from=None, updated_to=None)
    frame = operator.execute(make_context(FakeTaskInstance(run_id="export-2")))
    assert len(frame) == 250
    assert list(frame.columns) == PRODUCTS.names


def test_without_output_a_large_export_is_refused_before_it_is_read(store: EcwidEmulator) -> None:
    operator = EcwidExportOperator(
        task_id="export", entity="products", updated_from=None, updated_to=None, max_xcom_rows=100
    )
    match = "more than max_xcom_rows=100 can return through XCom: give output="
    with fails_without_retry(EcwidConfigError, match=match):
        operator.execute(make_context(FakeTaskInstance(run_id="export-3")))
