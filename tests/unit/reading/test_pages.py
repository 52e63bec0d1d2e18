"""Reading a list endpoint through batches: every item in the window once, none lost to pages that shift.

The store is the emulator's, in memory (tests/unit/catalog/memory_store.py), behind the real client; its clock is
the test's, so that update times are known and a change made during the read moves an item out of the window.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest

from airflow_provider_ecwid.batch.models import BatchStatus
from airflow_provider_ecwid.errors import EcwidApiError
from airflow_provider_ecwid.reading.inline import InlineTickets
from airflow_provider_ecwid.reading.pages import BatchedReader, ListEndpoint
from airflow_provider_ecwid.reading.seen import SeenIds
from airflow_provider_ecwid.reading.window import Window
from airflow_provider_ecwid.testing import catalog
from tests.unit.catalog.memory_store import STORE_ID, MemoryStore

PRODUCTS = ListEndpoint("/products", {"responseFields": "total,items(id,sku,updateTimestamp)"})


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def seeded(count: int, start: int = 1_000) -> tuple[MemoryStore, Clock]:
    """``count`` products, one updated each second from ``start``."""
    store, clock = MemoryStore(), Clock(start)
    store.state.stores[STORE_ID].changes.clock = clock
    for number in range(count):
        clock.now = start + number
        store.add_product(f"P{number:05}", name=f"Product {number}", price=1.0)
    return store, clock


def tickets(store: MemoryStore) -> InlineTickets:
    return InlineTickets(store.client(), identity="dag|run|export|-1", group_id="group", poll_interval=0.0)


def read(reader: BatchedReader, window: Window | None) -> list[dict[str, Any]]:
    return [item for page in reader.read(window) for item in page]


def test_a_window_is_read_whole_in_batches_each_item_once() -> None:
    store, _ = seeded(1_050)
    reader = BatchedReader(store.client(), PRODUCTS, tickets(store), pages_per_batch=3)
    items = read(reader, Window(None, 2_050))
    assert sorted(item["sku"] for item in items) == [f"P{number:05}" for number in range(1_050)]
    assert (reader.stats.counts, reader.stats.batches, reader.stats.pages) == (1, 4, 11)  # 11 pages in 3s
    assert reader.stats.rereads == 0


def test_the_window_keeps_its_start_and_not_its_end() -> None:
    store, _ = seeded(20)  # updated at 1000 ... 1019
    reader = BatchedReader(store.client(), PRODUCTS, tickets(store))
    items = read(reader, Window(1_005, 1_010))
    assert sorted(item["updateTimestamp"] for item in items) == [1_005, 1_006, 1_007, 1_008, 1_009]


class Churning:
    """
    The store holds each batch until its ticket is asked for; before running it, it updates some products (out of
    the window) and deletes some: the pages shift between every two batches.
    """

    def __init__(self, store: MemoryStore, clock: Clock, seed: int, updates: int = 3, deletes: int = 2) -> None:
        self.inner, self.store, self.clock = tickets(store), store, clock
        self.random = random.Random(seed)
        self.updates, self.deletes = updates, deletes
        self.changed: set[str] = set()

    def send(self, name: str, requests: Sequence[dict[str, Any]], per_batch: int) -> list[str]:
        self.store.hold()
        return self.inner.send(name, requests, per_batch)

    def answer(self, ticket: str) -> BatchStatus:
        shop = self.store.state.stores[STORE_ID]
        self.clock.now = 9_000  # after the window's end
        for product_id in self.random.sample(sorted(shop.products), self.updates + self.deletes):
            self.changed.add(shop.products[product_id]["sku"])
            method, body = ("PUT", {"price": 2.0}) if len(self.changed) % 2 else ("DELETE", None)
            catalog.handle(shop, method, f"/products/{product_id}", {}, body)
        self.store.run_next()
        return self.inner.answer(ticket)


@pytest.mark.parametrize("seed", range(20))
def test_items_that_leave_the_window_during_the_read_lose_no_unchanged_item(seed: int) -> None:
    store, clock = seeded(2_000)
    churn = Churning(store, clock, seed)
    reader = BatchedReader(store.client(), PRODUCTS, churn, pages_per_batch=1)  # a change between every two pages
    items = read(reader, Window(None, 3_000))
    skus = Counter(item["sku"] for item in items)
    assert max(skus.values()) == 1  # no item twice
    unchanged = {f"P{number:05}" for number in range(2_000)} - churn.changed
    assert unchanged <= set(skus)  # every unchanged item is there
    assert reader.stats.rereads >= 1  # the shifted pages were noticed, and the window read again


def test_a_page_that_fails_fails_the_read_with_ecwids_answer() -> None:
    store, _ = seeded(5)
    endpoint = ListEndpoint("/products", {"sortBy": "NO_SUCH_ORDER"})
    reader = BatchedReader(store.client(), endpoint, tickets(store))
    with pytest.raises(EcwidApiError, match="400 to GET /products"):
        read(reader, None)


def test_seen_ids_keep_each_id_once_across_merges(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("airflow_provider_ecwid.reading.seen.MERGE_EVERY", 10)
    seen = SeenIds()
    assert seen.add_new(range(25)) == [True] * 25
    assert seen.add_new([3, 30, 30, "3", 24]) == [False, True, False, False, False]  # "3" and 3 are one id
    assert len(seen) == 26
    assert 17 in seen
    assert 99 not in seen
