"""Mapping the feed's SKUs to the store's products: by paging the catalog or by batched lookups, the same index."""

from __future__ import annotations

import pytest

from airflow_provider_ecwid.catalog.lookup import build_index
from airflow_provider_ecwid.catalog.settings import Lookup, LookupMode
from tests.unit.catalog.memory_store import MemoryStore


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
