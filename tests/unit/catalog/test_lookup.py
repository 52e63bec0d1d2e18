"""Mapping the feed's SKUs to the store's products: by paging the catalog or by batched lookups, the same index."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_ecwid.catalog.lookup import build_index
from airflow_provider_ecwid.catalog.settings import Lookup, LookupMode
from tests.unit.catalog.memory_store import STORE_ID, MemoryStore


@pytest.fixture
def store() -> MemoryStore:
    store = MemoryStore()
    for number in range(3):
        store.add_product(f"SKU-{number}", name=f"Product {number}", price=10.0 + number)
    return store


@pytest.mark.parametrize("mode", ["scan", "batch"])
def test_either_way_finds_the_same_products(store: MemoryStore, mode: LookupMode) -> None:
    index = build_index(
        store.client(), ["price"], ["SKU-0", "SKU-2", "NEW"], Lookup(mode, poll_interval=0.0), need_complete=False
    )
    assert index.way == mode
    assert set(index.products) >= {"SKU-0", "SKU-2"}
    assert "NEW" not in index.products
    assert not index.differs("SKU-2", {"price": 12.0})
    assert index.differs("SKU-2", {"price": 13.0})


def test_auto_pages_a_small_catalog_and_when_the_whole_catalog_is_needed(store: MemoryStore) -> None:
    client = store.client()
    assert build_index(client, ["price"], ["SKU-0"], Lookup("auto"), need_complete=False).way == "scan"
    index = build_index(client, ["price"], ["SKU-0"], Lookup("auto"), need_complete=True)
    assert index.way == "scan"
    assert index.complete
    assert sorted(index.products) == ["SKU-0", "SKU-1", "SKU-2"]


def catalog(count: int) -> MemoryStore:
    """``count`` products, updated one a second long ago."""
    store = MemoryStore()
    clock = [1_000.0]
    store.state.stores[STORE_ID].changes.clock = lambda: clock[0]
    for number in range(count):
        clock[0] = 1_000 + number
        store.add_product(f"BIG-{number:05}", name=f"Product {number}", price=1.0)
    return store


def test_a_large_catalog_is_read_through_batches_whole_and_cheaper_than_paging() -> None:
    store = catalog(1_500)  # 15 pages: read through batches
    client = store.client()
    index = build_index(client, ["price"], ["BIG-00001"], Lookup("scan", poll_interval=0.0), need_complete=True)
    assert len(index.products) == 1_500
    assert index.complete
    assert index.calls == client.http_calls <= 7  # paging would cost 16
    assert not index.differs("BIG-01499", {"price": 1.0})


def test_products_updated_while_the_catalog_is_read_are_in_the_index(monkeypatch: pytest.MonkeyPatch) -> None:
    store = catalog(1_200)
    late = "LATE-1"

    from airflow_provider_ecwid.catalog import lookup
    from airflow_provider_ecwid.reading.pages import BatchedReader
    from airflow_provider_ecwid.reading.window import Window

    read = BatchedReader.read

    def read_then_a_product_is_created(reader: BatchedReader, window: Window | None) -> Any:
        yield from read(reader, window)
        store.state.stores[STORE_ID].changes.clock = lambda: 9_000  # after the window's end
        store.add_product(late, name="Created during the read", price=2.0)

    monkeypatch.setattr(BatchedReader, "read", read_then_a_product_is_created)
    monkeypatch.setattr(lookup, "_store_time", lambda client: 5_000)
    index = build_index(store.client(), ["price"], [], Lookup("scan", poll_interval=0.0), need_complete=True)
    assert late in index.products
    assert len(index.products) == 1_201
