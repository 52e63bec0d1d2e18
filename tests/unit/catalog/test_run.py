"""CatalogRun without Airflow: a whole-catalog sync driven through its small protocols (an outbox for XCom, a task
state store, the image memory), against a store in memory (tests/unit/catalog/memory_store.py).

What an operator does around the run is done here by hand: start and advance it; when it waits for a phase (a
deferral), make a new run from its saved record and resume it with the phase's answers; when a try is lost, make a
new run on the same state store.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import IO, Any

import pandas as pd
import pytest

from airflow_provider_ecwid.batch.sources import make_source
from airflow_provider_ecwid.catalog.image_memory import ImageMemory
from airflow_provider_ecwid.catalog.progress import PROGRESS_KEY, SyncProgress
from airflow_provider_ecwid.catalog.run import CatalogRun, LazyMemory, RunSettings, read_checked
from airflow_provider_ecwid.catalog.settings import FeedShape, Lookup, ProductSettings
from tests.unit.catalog.memory_store import STORE_ID, MemoryStore

SHAPE = FeedShape(
    category_column="category",
    parent_sku_column="parent_sku",
    option_columns=("Size",),
    image_column="image",
    gallery_column="gallery",
)
#: What the store must hold after a clean sync of :func:`feed`.
PRODUCTS, VARIATIONS, CATEGORIES, IMAGES = 6, 4, 4, 6 + 2


def feed() -> pd.DataFrame:
    """Six products under two category paths, each with a main image; two with two sizes; one with a gallery."""
    products = pd.DataFrame(
        {
            "sku": [f"P{n}" for n in range(PRODUCTS)],
            "name": [f"Product {n}" for n in range(PRODUCTS)],
            "price": [10.0 + n for n in range(PRODUCTS)],
            "category": ["Bikes > Road", "Bikes > Road", "Bikes > Gravel", "Shoes", "Shoes", "Shoes"],
            "image": [f"https://images.example/P{n}.jpg" for n in range(PRODUCTS)],
            "gallery": ["https://images.example/P0-a.jpg|https://images.example/P0-b.jpg", *[None] * 5],
        }
    )
    variations = pd.DataFrame(
        {
            "sku": ["P0-S", "P0-M", "P1-S", "P1-M"],
            "parent_sku": ["P0", "P0", "P1", "P1"],
            "price": [10.0, 11.0, 12.0, 13.0],
            "Size": ["S", "M", "S", "M"],
        }
    )
    frame: pd.DataFrame = pd.concat([products, variations], ignore_index=True)
    return frame


class Outbox:
    """The task instance's XCom, as far as the run uses it."""

    def __init__(self) -> None:
        self.pushed: dict[str, Any] = {}

    def xcom_push(self, key: str, value: Any) -> None:
        self.pushed[key] = value


class StateStore:
    """Airflow 3.3's task state store, in a dict: what survives from one try to the next."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any) -> None:
        self.values[key] = value

    def delete(self, key: str) -> None:
        self.values.pop(key, None)


def local_open(url: str, mode: str) -> IO[Any]:
    return open(url, mode, encoding="utf-8")


class Sync:
    """Makes the runs of one task: the same store, feed, image memory and settings for each."""

    def __init__(
        self,
        store: MemoryStore,
        folder: Path,
        *,
        deferrable: bool,
        state: StateStore | None = None,
        shape: FeedShape = SHAPE,
    ):
        self.store, self.folder, self.state, self.shape = store, folder, state, shape
        self.client = store.client()
        self.settings = RunSettings(
            identity="dag|run-1|sync|-1",
            group_id="group-1",
            lookup=Lookup("scan"),
            chunk_size=500,
            poll_interval=0.01,
            progress_timeout=60.0,
            deferrable=deferrable,
        )

    def run(self, progress: SyncProgress | None = None) -> CatalogRun:
        memory = ImageMemory(str(self.folder / f"store-{STORE_ID}.json"), STORE_ID, local_open)
        return CatalogRun(
            read_checked(
                make_source(feed()), self.shape, products=ProductSettings(), chunk_size=500, allow_parallel_mode=False
            ),
            self.client,
            self.settings,
            outbox=Outbox(),
            memory=LazyMemory(wanted=True, refresh=False, opener=memory.load),
            state=self.state,
            sleep=lambda seconds: None,  # the store in memory answers at once
            progress=progress,
        )

    def answers(self, run: CatalogRun) -> list[Any]:
        """The final statuses of the phase the run waits for (what the resumed task reads once)."""
        assert run.progress.pending is not None
        return [self.client.get_batch(ticket) for ticket in run.progress.pending.tickets]


def assert_the_store_holds_the_feed_once(store: MemoryStore) -> None:
    products = {product["sku"]: product for product in store.products()}
    assert sorted(products) == [f"P{n}" for n in range(PRODUCTS)]
    assert sorted(c["sku"] for p in products.values() for c in p.get("combinations") or []) == [
        "P0-M",
        "P0-S",
        "P1-M",
        "P1-S",
    ]
    assert len(store.categories()) == CATEGORIES  # Bikes, Road, Gravel, Shoes
    # each thing the store holds was created once: nothing was sent twice, nothing refused
    assert store.inner("POST", "/products") == PRODUCTS
    assert store.inner("POST", "/products/{id}/combinations") == VARIATIONS
    assert store.inner("POST", "/categories") == CATEGORIES
    images = store.inner("POST", "/products/{id}/image") + store.inner("POST", "/products/{id}/gallery")
    assert images == IMAGES
    assert not any(status >= 400 for (_, _, _, status) in store.state.inner_calls)


def test_it_runs_without_airflow(tmp_path: Path) -> None:
    """A deferred sync, run in a fresh interpreter that must not import Airflow on the way."""
    code = (
        "import pathlib, sys\n"
        "from tests.unit.catalog import test_run\n"
        "test_run.test_a_deferred_sync_resumes_from_its_record_in_a_new_run_each_time(pathlib.Path(sys.argv[1]))\n"
        "loaded = sorted(name for name in sys.modules if name.split('.')[0] == 'airflow')\n"
        "assert not loaded, loaded[:5]\n"
    )
    repository = Path(__file__).resolve().parents[3]
    ran = subprocess.run([sys.executable, "-c", code, str(tmp_path)], cwd=repository, capture_output=True, text=True)
    assert ran.returncode == 0, ran.stderr[-3000:]


def test_one_stint_syncs_the_whole_catalog_and_a_second_sends_nothing(tmp_path: Path) -> None:
    store = MemoryStore()
    first = Sync(store, tmp_path, deferrable=False).run()
    first.start()
    assert first.advance() is True
    summary = first.finish()
    assert summary["failed_count"] == 0
    assert summary["sent"]["products"] == PRODUCTS
    assert_the_store_holds_the_feed_once(store)

    second = Sync(store, tmp_path, deferrable=False).run()
    second.start()
    assert second.advance() is True
    assert sum(second.finish()["sent"].values()) == 0  # the store and the image memory say it is all there
    assert_the_store_holds_the_feed_once(store)


def test_a_deferred_sync_resumes_from_its_record_in_a_new_run_each_time(tmp_path: Path) -> None:
    store = MemoryStore()
    sync = Sync(store, tmp_path, deferrable=True)
    run = sync.run()
    run.start()
    deferrals = 0
    while not run.advance():  # the task defers with the record in XCom; the trigger waits for the phase
        deferrals += 1
        record = run.record()
        assert record["pending"]["tickets"]
        run = sync.run(progress=SyncProgress.from_json(record))  # the resumed task: a new operator, a new run
        assert not run.feed_changed()
        run.resume(sync.answers(run))
    assert deferrals >= 4  # categories (two levels), products, variations and images each waited
    assert run.finish()["failed_count"] == 0
    assert_the_store_holds_the_feed_once(store)


def test_a_retried_try_resumes_at_the_phase_it_reached_and_sends_nothing_twice(tmp_path: Path) -> None:
    store, state = MemoryStore(), StateStore()
    sync = Sync(store, tmp_path, deferrable=True, state=state)
    lost = sync.run()
    lost.start()
    assert lost.advance() is False
    lost.resume(sync.answers(lost))
    assert lost.advance() is False  # the try is lost here, a phase in flight (its worker died)
    reached = lost.progress.step
    assert state.get(PROGRESS_KEY)  # what the retry finds

    retry = sync.run()
    retry.start()
    assert retry.progress.run_key == lost.progress.run_key  # the same sync, resumed
    assert retry.progress.step == reached
    while not retry.advance():
        retry.resume(sync.answers(retry))
    assert retry.finish()["failed_count"] == 0
    assert state.values == {}  # a finished sync leaves nothing for a later try
    assert_the_store_holds_the_feed_once(store)


@pytest.mark.parametrize("deferrable", [False, True])
def test_a_failed_category_fails_its_phase_and_holds_back_its_products(tmp_path: Path, deferrable: bool) -> None:
    store = MemoryStore(refuse_inner=r'^POST /categories .*"name":"Shoes"')
    sync = Sync(store, tmp_path, deferrable=deferrable)
    run = sync.run()
    run.start()
    while not run.advance():
        run = sync.run(progress=SyncProgress.from_json(run.record()))
        run.resume(sync.answers(run))
    summary = run.finish()
    assert summary["failed_count"] >= 1
    failed = summary["failed"][0]
    assert failed["phase"].startswith("categories")
    assert failed["http_status"] == 400
    verdict = run.verdict(summary)
    assert verdict is not None
    assert "INJECTED_REFUSAL" in verdict
    assert "P3" in verdict  # a product the failed category held back is named
    assert sorted(product["sku"] for product in store.products()) == ["P0", "P1", "P2"]  # Shoes' products wait


def test_unused_categories_are_counted_apart_from_the_created_ones(tmp_path: Path) -> None:
    """``sent`` has a key per phase: deleting unused categories is not creating categories."""
    store = MemoryStore()
    store.add_category("Old")
    shape = FeedShape(**{**SHAPE.__dict__, "on_missing_categories": "delete"})
    run = Sync(store, tmp_path, deferrable=False, shape=shape).run()
    run.start()
    assert run.advance() is True
    summary = run.finish()
    assert summary["failed_count"] == 0
    assert summary["sent"]["categories"] == CATEGORIES
    assert summary["sent"]["categories-unused"] == 1
    assert sorted(category["name"] for category in store.categories()) == ["Bikes", "Gravel", "Road", "Shoes"]
