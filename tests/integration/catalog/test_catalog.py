"""EcwidCatalogSyncOperator against the emulator: idempotent by SKU, frugal, safe with missing products."""

from __future__ import annotations

import time
from typing import Any

import pandas as pd
import pytest

from airflow_provider_ecwid.errors import (
    EcwidConfigError,
    EcwidSyncRefusedError,
    EcwidValidationError,
    EcwidWaitError,
)
from airflow_provider_ecwid.operators.catalog import EcwidCatalogSyncOperator
from airflow_provider_ecwid.testing import EcwidEmulator
from tests.integration.fakes import FakeTaskInstance, TaskLogs, make_context
from tests.integration.helpers import fails_without_retry, wait_for_batches


def feed(count: int, price: float = 10.0) -> pd.DataFrame:
    frame: pd.DataFrame = pd.DataFrame(
        {
            "sku": [f"SKU-{n:04d}" for n in range(count)],
            "name": [f"Product {n}" for n in range(count)],
            "price": [price + n for n in range(count)],
            "quantity": list(range(count)),
        }
    )
    return frame


def sync(data: Any, run_id: str = "run-1", **options: Any) -> tuple[list[str], dict[str, Any]]:
    ti = FakeTaskInstance(run_id=run_id)
    tickets = EcwidCatalogSyncOperator(task_id="sync", data=data, **options).execute(make_context(ti))
    return tickets, ti.xcom["sync_summary"]


@pytest.mark.parametrize("lookup", ["scan", "batch", "auto"])
def test_same_feed_twice_creates_once_and_then_sends_nothing(emulator_conn: EcwidEmulator, lookup: str) -> None:
    products = feed(230)
    _, first = sync(products, lookup=lookup)
    assert (first["new"], first["changed"], first["unchanged"]) == (230, 0, 0)
    wait_for_batches(emulator_conn)
    stored = {p["sku"]: p for p in emulator_conn.products()}
    assert set(stored) == set(products["sku"])
    assert all(p["enabled"] is True for p in stored.values())  # enabled sent explicitly
    posts_before = emulator_conn.call_count(scope="inner", method="POST", endpoint="/products")

    tickets, second = sync(products, run_id="run-2", lookup=lookup)
    assert (second["new"], second["changed"], second["unchanged"]) == (0, 0, 230)
    assert tickets == []
    assert emulator_conn.call_count(scope="inner", method="POST", endpoint="/products") == posts_before
    assert len(emulator_conn.products()) == 230


def test_a_changed_price_changes_only_that_product(emulator_conn: EcwidEmulator) -> None:
    products = feed(50)
    sync(products)
    wait_for_batches(emulator_conn)
    before = {p["sku"]: p for p in emulator_conn.products()}
    products.loc[7, "price"] = 999.5
    products = pd.concat([products, feed(51).tail(1)], ignore_index=True)  # and one new SKU
    tickets, summary = sync(products, run_id="run-2")
    assert (summary["new"], summary["changed"], summary["unchanged"]) == (1, 1, 49)
    assert len(tickets) == 1
    wait_for_batches(emulator_conn)
    after = {p["sku"]: p for p in emulator_conn.products()}
    assert after["SKU-0007"]["price"] == 999.5
    assert {sku: p for sku, p in after.items() if sku not in ("SKU-0007", "SKU-0050")} == {
        sku: p for sku, p in before.items() if sku != "SKU-0007"
    }
    assert emulator_conn.call_count(scope="inner", method="PUT", endpoint="/products/{id}") == 1


def test_integral_floats_and_ints_compare_equal(emulator_conn: EcwidEmulator) -> None:
    products = feed(3)
    sync(products)
    wait_for_batches(emulator_conn)
    products["quantity"] = products["quantity"].astype(float)  # 1.0 in the feed, 1 in the store
    assert sync(products, run_id="run-2")[1]["changed"] == 0


def test_on_missing_disable_and_delete_with_a_safety_cap(emulator_conn: EcwidEmulator) -> None:
    sync(feed(40))
    wait_for_batches(emulator_conn)
    with fails_without_retry(EcwidSyncRefusedError, match="would touch 10 of 40"):
        sync(feed(30), run_id="run-2", on_missing="disable")
    calls = emulator_conn.call_count(method="POST", endpoint="/batch")
    _, summary = sync(feed(30), run_id="run-3", on_missing="disable", max_missing_share=0.5)
    assert summary["missing"] == 10
    wait_for_batches(emulator_conn)
    stored = {p["sku"]: p for p in emulator_conn.products()}
    assert [stored[f"SKU-{n:04d}"]["enabled"] for n in range(30, 40)] == [False] * 10
    assert stored["SKU-0000"]["enabled"] is True
    assert emulator_conn.call_count(method="POST", endpoint="/batch") == calls + 1
    # disabled products are not disabled again
    assert sync(feed(30), run_id="run-4", on_missing="disable", max_missing_share=0.5)[1]["missing"] == 0
    sync(feed(35), run_id="run-5", on_missing="delete", max_missing_share=None)
    wait_for_batches(emulator_conn)
    assert sorted(p["sku"] for p in emulator_conn.products()) == [f"SKU-{n:04d}" for n in range(35)]


def test_duplicate_and_missing_skus_are_errors(emulator_conn: EcwidEmulator) -> None:
    duplicated = pd.concat([feed(3), feed(2)], ignore_index=True)
    with fails_without_retry(EcwidValidationError, match="row 3 \\(id 'SKU-0000'\\), column 'id': duplicate id"):
        sync(duplicated)
    empty_sku = feed(2)
    empty_sku.loc[1, "sku"] = None
    with fails_without_retry(EcwidValidationError, match="request id is empty"):
        sync(empty_sku)
    with fails_without_retry(EcwidConfigError, match="no 'sku' column"):
        sync(feed(2).rename(columns={"sku": "code"}))
    assert emulator_conn.call_count() == 0
    sync(feed(2).rename(columns={"sku": "code"}), sku_column="code")
    wait_for_batches(emulator_conn)
    assert sorted(p["sku"] for p in emulator_conn.products()) == ["SKU-0000", "SKU-0001"]


def test_auto_lookup_picks_the_cheaper_way(emulator_conn: EcwidEmulator, task_logs: TaskLogs) -> None:
    sync(feed(450))  # a catalog of 450 products
    wait_for_batches(emulator_conn)
    _, small_feed = sync(feed(3), run_id="run-2")
    assert small_feed["lookup"] == "batch"  # 3 SKUs: one lookup batch (about 3 calls) beats 5 catalog pages
    assert small_feed["lookup_calls"] <= 4
    _, big_feed = sync(feed(1600), run_id="run-3")
    assert big_feed["lookup"] == "scan"  # 1,600 SKUs: 4 lookup batches (about 12 calls) lose to 5 pages
    assert big_feed["lookup_calls"] == 6  # the size probe and 5 pages
    logs = task_logs.text()
    assert "paging costs about 5 call(s), batched lookups about 3: using batch" in logs
    assert "paging costs about 5 call(s), batched lookups about 12: using scan" in logs


def test_dry_run_reports_what_would_change(emulator_conn: EcwidEmulator) -> None:
    sync(feed(5))
    wait_for_batches(emulator_conn)
    changed = feed(6)
    changed.loc[0, "name"] = "Renamed"
    result = EcwidCatalogSyncOperator(task_id="s", data=changed, dry_run=True).execute(make_context())
    assert result["by_pattern"] == {"POST /products": 1, "PUT /products/{id}": 1}
    assert len(emulator_conn.products()) == 5


def test_batched_lookups_wait_within_the_operators_own_limits(emulator_conn: EcwidEmulator) -> None:
    """A store that never runs the lookups fails the sync at the operator's wait_timeout, not an hour later."""
    emulator_conn.hold_processing()  # the lookup batches stay queued
    started = time.monotonic()
    try:
        with pytest.raises(EcwidWaitError, match="Timed out waiting for Ecwid batches") as raised:
            sync(feed(3), lookup="batch", wait_timeout=1.0)
    finally:
        emulator_conn.release_processing()
    assert raised.value.reason == "timeout"
    assert time.monotonic() - started < 60  # one poll after the deadline (the lookups poll every 2 s)
    assert emulator_conn.call_count(scope="inner", method="GET", endpoint="/products") == 0
