"""OpenLineage from real operator runs against the emulator: the feed file in, the store's catalog out, row counts.

The OpenLineage provider is installed on the newest row only (the ``deployment`` extra); elsewhere these tests
are skipped, and the provider's own import of the operators (without OpenLineage) is covered by every other test.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from airflow_provider_ecwid.operators.batch import EcwidBatchOperator
from airflow_provider_ecwid.operators.catalog import EcwidCatalogSyncOperator
from airflow_provider_ecwid.testing import EcwidEmulator
from tests.integration.fakes import FakeTaskInstance, make_context
from tests.integration.helpers import wait_for_batches

pytest.importorskip(
    "airflow.providers.openlineage",
    reason="the OpenLineage provider is not installed in this row (only the newest row's venv has it)",
)


def feed_file(tmp_path: Path, count: int) -> Path:
    path = tmp_path / "feed.csv"
    pd.DataFrame(
        {"sku": [f"SKU-{n:03d}" for n in range(count)], "name": [f"P{n}" for n in range(count)], "price": 1.5}
    ).to_csv(path, index=False)
    return path


def test_sync_from_a_file_reports_file_in_and_catalog_out(emulator_conn: EcwidEmulator, tmp_path: Path) -> None:
    path = feed_file(tmp_path, 7)
    operator = EcwidCatalogSyncOperator(task_id="sync", data=str(path), wait_for_completion=True, poll_interval=0.05)
    operator.execute(make_context(FakeTaskInstance()))
    lineage = operator.get_openlineage_facets_on_complete(None)

    [source] = lineage.inputs
    assert (source.namespace, source.name) == ("file", str(path))
    assert source.inputFacets["inputStatistics"].rowCount == 7
    [catalog] = lineage.outputs
    assert (catalog.namespace, catalog.name) == ("ecwid://1002", "products")
    assert catalog.outputFacets["outputStatistics"].rowCount == 7  # all seven completed

    # the same feed again changes nothing: the catalog is still the output, with no row written
    again = EcwidCatalogSyncOperator(task_id="sync", data=str(path), wait_for_completion=True, poll_interval=0.05)
    again.execute(make_context(FakeTaskInstance(run_id="run-2")))
    [catalog] = again.get_openlineage_facets_on_complete(None).outputs
    assert catalog.outputFacets["outputStatistics"].rowCount == 0


def test_in_memory_data_has_no_input_dataset_and_counts_what_was_sent(emulator_conn: EcwidEmulator) -> None:
    rows = [{"sku": f"S{n}", "name": f"N{n}"} for n in range(3)]
    operator = EcwidBatchOperator(task_id="send", data=rows, path="/products")
    tickets = operator.execute(make_context(FakeTaskInstance()))
    assert len(tickets) == 1
    lineage = operator.get_openlineage_facets_on_complete(None)
    assert lineage.inputs == []
    [catalog] = lineage.outputs
    assert catalog.namespace == "ecwid://1002"
    assert catalog.outputFacets["outputStatistics"].rowCount == 3  # sent, not waited for
    wait_for_batches(emulator_conn)


def test_a_dry_run_writes_no_catalog(emulator_conn: EcwidEmulator, tmp_path: Path) -> None:
    path = feed_file(tmp_path, 2)
    operator = EcwidBatchOperator(task_id="send", data=str(path), path="/products", dry_run=True)
    operator.execute(make_context(FakeTaskInstance()))
    lineage = operator.get_openlineage_facets_on_complete(None)
    assert [dataset.name for dataset in lineage.inputs] == [str(path)]
    assert lineage.outputs == []
    assert emulator_conn.products() == []
