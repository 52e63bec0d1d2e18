"""The whole-catalog sync against the emulator: categories, products, options, variations and images by SKU."""

from __future__ import annotations

import csv
import functools
import json
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from airflow_provider_ecwid.catalog.phase_runner import OUTCOME_FIELDS
from airflow_provider_ecwid.catalog.progress import PROGRESS_KEY
from airflow_provider_ecwid.errors import EcwidValidationError
from airflow_provider_ecwid.operators.catalog import EcwidCatalogSyncOperator
from airflow_provider_ecwid.testing import EcwidEmulator
from tests.integration.fakes import FakeStateStore, FakeTaskInstance, make_context
from tests.integration.helpers import fails_without_retry

IMG = "https://img.example"
ROWS: list[dict[str, Any]] = [
    # sku, parent_sku, name, price, quantity, category, Size, Color, image, gallery
    {
        "sku": "BIKE",
        "name": "Road bike",
        "price": 1500.0,
        "category": "Bikes > Road > Carbon",
        "image": f"{IMG}/bike.jpg",
        "gallery": f"{IMG}/bike-1.jpg|{IMG}/bike-2.jpg",
    },
    {"sku": "TEE", "name": "Tee", "price": 20.0, "category": "Apparel > Tees", "image": f"{IMG}/tee.jpg"},
    {
        "sku": "TEE-S-RED",
        "parent_sku": "TEE",
        "price": 20.0,
        "quantity": 5,
        "Size": "S",
        "Color": "Red",
        "image": f"{IMG}/tee-red.jpg",
    },
    {"sku": "TEE-M-RED", "parent_sku": "TEE", "price": 21.0, "quantity": 3, "Size": "M", "Color": "Red"},
    {"sku": "TEE-S-BLUE", "parent_sku": "TEE", "price": 20.0, "quantity": 0, "Size": "S", "Color": "Blue"},
    {"sku": "CAP", "name": "Cap", "price": 9.0, "category": "Apparel", "gallery": f"{IMG}/cap-1.jpg"},
]


def feed(rows: list[dict[str, Any]] | None = None) -> pd.DataFrame:
    frame: pd.DataFrame = pd.DataFrame(rows or ROWS)
    return frame


def sync_operator(data: Any, memory: Path, **options: Any) -> EcwidCatalogSyncOperator:
    """The sample feed's whole-catalog sync; a deferrable one defers at once (``defer_grace=0``), unless told."""
    options.setdefault("defer_grace", 0)
    return EcwidCatalogSyncOperator(
        task_id="sync",
        data=data,
        category_column="category",
        parent_sku_column="parent_sku",
        option_columns=["Size", "Color"],
        image_column="image",
        gallery_column="gallery",
        memory_path=str(memory),
        poll_interval=0.05,
        **options,
    )


def sync(data: Any, memory: Path, run_id: str = "run-1", **options: Any) -> dict[str, Any]:
    ti = FakeTaskInstance(run_id=run_id)
    result = sync_operator(data, memory, **options).execute(make_context(ti))
    summary: dict[str, Any] = result if options.get("dry_run") else ti.xcom["sync_summary"]
    return summary


def inner(emulator: EcwidEmulator) -> int:
    return int(emulator.stats()["inner_total"])


def test_a_feed_lands_whole_and_a_second_run_sends_no_inner_request(
    emulator_conn: EcwidEmulator, tmp_path: Path
) -> None:
    first = sync(feed(), tmp_path)
    assert first["failed_count"] == 0
    categories = {c["id"]: c for c in emulator_conn.categories()}
    by_name = {c["name"]: c for c in categories.values()}
    assert by_name["Carbon"]["parentId"] == by_name["Road"]["id"]
    assert by_name["Road"]["parentId"] == by_name["Bikes"]["id"]
    assert by_name["Tees"]["parentId"] == by_name["Apparel"]["id"]
    assert "parentId" not in by_name["Apparel"]
    products = {p["sku"]: p for p in emulator_conn.products()}
    assert set(products) == {"BIKE", "TEE", "CAP"}  # variations are not products
    assert products["BIKE"]["categoryIds"] == [by_name["Carbon"]["id"]]
    assert products["TEE"]["options"] == [
        {"type": "SELECT", "name": "Size", "required": True, "choices": [{"text": "S"}, {"text": "M"}]},
        {"type": "SELECT", "name": "Color", "required": True, "choices": [{"text": "Red"}, {"text": "Blue"}]},
    ]
    combos = {c["sku"]: c for c in products["TEE"]["combinations"]}
    assert set(combos) == {"TEE-S-RED", "TEE-M-RED", "TEE-S-BLUE"}
    assert (combos["TEE-M-RED"]["price"], combos["TEE-M-RED"]["quantity"]) == (21.0, 3)
    assert combos["TEE-S-RED"]["options"] == [{"name": "Size", "value": "S"}, {"name": "Color", "value": "Red"}]
    images = {(row["sku"], row["kind"], row["position"]): row["url"] for row in emulator_conn.images()}
    assert images == {
        ("BIKE", "main", 0): f"{IMG}/bike.jpg",
        ("BIKE", "gallery", 1): f"{IMG}/bike-1.jpg",
        ("BIKE", "gallery", 2): f"{IMG}/bike-2.jpg",
        ("TEE", "main", 0): f"{IMG}/tee.jpg",
        ("TEE-S-RED", "variation", 0): f"{IMG}/tee-red.jpg",
        ("CAP", "gallery", 1): f"{IMG}/cap-1.jpg",
    }
    assert (tmp_path / "store-1002.json").exists()

    before = inner(emulator_conn)
    second = sync(feed(), tmp_path, run_id="run-2")
    assert inner(emulator_conn) == before  # categories, products, variations and images alike
    assert sum(second["sent"].values()) == 0
    assert emulator_conn.call_count(method="POST", endpoint="/batch") == sum(1 for _ in emulator_conn.batches())


def test_a_changed_feed_sends_exactly_the_changes(emulator_conn: EcwidEmulator, tmp_path: Path) -> None:
    sync(feed(), tmp_path)
    rows = [dict(row) for row in ROWS]
    rows[3]["price"] = 22.5  # one variation's price
    rows[0]["image"] = f"{IMG}/bike-new.jpg"  # one image
    rows.append({"sku": "TEE-M-BLUE", "parent_sku": "TEE", "price": 21.0, "quantity": 1, "Size": "M", "Color": "Blue"})
    stats_before = emulator_conn.stats()["calls"]
    summary = sync(feed(rows), tmp_path, run_id="run-2")
    assert summary["sent"] == {"products": 0, "options": 0, "variations": 2, "images": 1}
    sent = {
        (row["method"], row["endpoint"]): row["count"]
        for row in emulator_conn.stats()["calls"]
        if row["scope"] == "inner"
    }
    was = {(row["method"], row["endpoint"]): row["count"] for row in stats_before if row["scope"] == "inner"}
    delta = {key: count - was.get(key, 0) for key, count in sent.items() if count != was.get(key, 0)}
    assert delta == {
        ("PUT", "/products/{id}/combinations/{id}"): 1,
        ("POST", "/products/{id}/combinations"): 1,
        ("POST", "/products/{id}/image"): 1,
    }
    combos = {c["sku"]: c for p in emulator_conn.products() for c in p.get("combinations", [])}
    assert combos["TEE-M-RED"]["price"] == 22.5
    assert combos["TEE-M-BLUE"]["options"] == [{"name": "Size", "value": "M"}, {"name": "Color", "value": "Blue"}]
    assert {row["url"] for row in emulator_conn.images() if row["sku"] == "BIKE" and row["kind"] == "main"} == {
        f"{IMG}/bike-new.jpg"
    }


def test_a_changed_gallery_is_replaced_in_order(emulator_conn: EcwidEmulator, tmp_path: Path) -> None:
    sync(feed(), tmp_path)
    rows = [dict(row) for row in ROWS]
    rows[0]["gallery"] = f"{IMG}/bike-3.jpg|{IMG}/bike-1.jpg"
    sync(feed(rows), tmp_path, run_id="run-2")
    gallery = [row["url"] for row in emulator_conn.images() if row["sku"] == "BIKE" and row["kind"] == "gallery"]
    assert gallery == [f"{IMG}/bike-3.jpg", f"{IMG}/bike-1.jpg"]
    assert emulator_conn.call_count(scope="inner", method="DELETE", endpoint="/products/{id}/gallery") == 1


def test_a_failed_image_is_reported_on_its_row_and_stops_nothing_else(
    emulator_conn: EcwidEmulator, tmp_path: Path
) -> None:
    rows = [dict(row) for row in ROWS]
    rows[1]["image"] = "https://missing.invalid/tee.jpg"
    with pytest.raises(Exception, match="images") as err:
        sync(feed(rows), tmp_path)
    assert "TEE" in str(err.value)
    assert "IMAGE_UPLOAD_FAILED" in str(err.value)
    products = {p["sku"]: p for p in emulator_conn.products()}
    assert len(products["TEE"]["combinations"]) == 3  # the product's other changes landed
    assert ("TEE-S-RED", "variation") in {(row["sku"], row["kind"]) for row in emulator_conn.images()}
    # the failed image is not remembered: the next run sends it again, and only it
    rows[1]["image"] = f"{IMG}/tee.jpg"
    before = inner(emulator_conn)
    summary = sync(feed(rows), tmp_path, run_id="run-2")
    assert summary["sent"] == {"products": 0, "options": 0, "variations": 0, "images": 1}
    assert inner(emulator_conn) == before + 1


def test_a_bad_feed_is_refused_before_any_call_with_every_problem_named(
    emulator_conn: EcwidEmulator, tmp_path: Path
) -> None:
    rows = [dict(row) for row in ROWS]
    rows.append({"sku": "ORPHAN", "parent_sku": "NOPE", "Size": "S", "Color": "Red"})  # row 6
    rows.append({"sku": "TEE-L", "parent_sku": "TEE", "Size": "L"})  # row 7: Color missing
    rows.append({"sku": "TEE-S-RED", "parent_sku": "TEE", "Size": "M", "Color": "Blue"})  # row 8: duplicate SKU
    rows.append({"sku": "HAT", "name": "Hat", "category": "Hats >  > Wool"})  # row 9: empty level
    rows.append({"sku": "SOCK", "name": "Sock", "image": "ftp://img.example/sock.jpg"})  # row 10
    with fails_without_retry(EcwidValidationError) as err:
        sync(feed(rows), tmp_path)
    found = {(p.row, p.column) for p in err.value.problems}
    assert found == {(6, "parent_sku"), (7, "Color"), (8, "sku"), (9, "category"), (10, "image")}
    reasons = " | ".join(p.reason for p in err.value.problems)
    assert "no product row" in reasons
    assert "disagree" in reasons
    assert "empty level" in reasons
    assert "http(s)" in reasons
    assert emulator_conn.call_count() == 0  # not even a lookup


def test_removed_variations_and_categories_go_only_when_asked(emulator_conn: EcwidEmulator, tmp_path: Path) -> None:
    sync(feed(), tmp_path)
    rows = [dict(row) for row in ROWS if row["sku"] != "TEE-S-BLUE"]
    rows[0]["category"] = "Bikes > Road"
    kept = sync(feed(rows), tmp_path, run_id="run-2")
    assert kept["sent"]["variations"] == 0
    assert "Carbon" in {c["name"] for c in emulator_conn.categories()}
    sync(feed(rows), tmp_path, run_id="run-3", on_missing_variations="delete", on_missing_categories="delete")
    skus = {c["sku"] for p in emulator_conn.products() for c in p.get("combinations", [])}
    assert skus == {"TEE-S-RED", "TEE-M-RED"}
    assert {c["name"] for c in emulator_conn.categories()} == {"Bikes", "Road", "Apparel", "Tees"}


def test_a_retried_task_starts_over_without_a_state_store_and_sends_nothing_twice(
    emulator_conn: EcwidEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_ecwid.catalog.phase_runner import PhaseRunner

    real = PhaseRunner.submit

    def dies_at_variations(self: PhaseRunner, phase: str, *args: Any, **kwargs: Any) -> Any:
        if phase == "variations":
            raise RuntimeError("the worker died")
        return real(self, phase, *args, **kwargs)

    monkeypatch.setattr(PhaseRunner, "submit", dies_at_variations)
    with pytest.raises(RuntimeError, match="worker died"):
        sync(feed(), tmp_path)
    assert len(emulator_conn.categories()) == 5
    assert len(emulator_conn.products()) == 3
    posted_before = emulator_conn.call_count(scope="inner", method="POST")
    monkeypatch.setattr(PhaseRunner, "submit", real)
    retry = sync(feed(), tmp_path)  # the same run: a second try, on Airflow 2.11 to 3.2 (no state store)
    # it reads the store again: images are 6 adds, and the two galleries cleared first (this try did not
    # create those products itself)
    assert retry["sent"] == {"products": 0, "options": 0, "variations": 3, "images": 8}
    assert emulator_conn.call_count(scope="inner", method="POST", endpoint="/categories") == 5  # none twice
    assert emulator_conn.call_count(scope="inner", method="POST", endpoint="/products") == 3
    assert emulator_conn.call_count(scope="inner", method="POST") == posted_before + 3 + 6


@pytest.mark.parametrize("dies", ["after-submitting", "while-waiting"])
def test_a_retried_task_resumes_from_the_state_store_at_the_phase_and_chunk_it_reached(
    emulator_conn: EcwidEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dies: str
) -> None:
    from airflow_provider_ecwid.catalog.phase_runner import PhaseRunner

    submit, wait = PhaseRunner.submit, PhaseRunner.wait
    submitted: list[str] = []

    def submits(self: PhaseRunner, phase: str, *args: Any, **kwargs: Any) -> Any:
        tickets = submit(self, phase, *args, **kwargs)
        submitted.append(phase)
        if phase == "variations" and dies == "after-submitting":
            raise RuntimeError("the worker died")  # its ticket is in the state store, the phase is not
        return tickets

    def waits(self: PhaseRunner, tickets: list[str]) -> Any:
        if submitted[-1] == "variations" and dies == "while-waiting":
            raise RuntimeError("the worker died")  # the phase and its tickets are in the progress
        return wait(self, tickets)

    monkeypatch.setattr(PhaseRunner, "submit", submits)
    monkeypatch.setattr(PhaseRunner, "wait", waits)
    state = FakeStateStore()
    operator = sync_operator(feed(), tmp_path, chunk_size=2)
    with pytest.raises(RuntimeError, match="worker died"):
        operator.execute(make_context(FakeTaskInstance(), state))
    batches_before = emulator_conn.call_count(method="POST", endpoint="/batch")
    reads_before = emulator_conn.call_count(scope="http", method="GET", endpoint="/products")
    dies = "never"
    ti = FakeTaskInstance()  # the second try of the same task run
    sync_operator(feed(), tmp_path, chunk_size=2).execute(make_context(ti, state))
    summary = ti.xcom["sync_summary"]
    # the whole run's summary: what both tries sent, every request once
    assert summary["sent"] == {"categories": 5, "products": 3, "options": 0, "variations": 3, "images": 6}
    assert summary["failed_count"] == 0
    inner_calls = {
        (row["method"], row["endpoint"]): row["count"]
        for row in emulator_conn.stats()["calls"]
        if row["scope"] == "inner"
    }
    assert inner_calls == {
        ("POST", "/categories"): 5,
        ("POST", "/products"): 3,
        ("POST", "/products/{id}/combinations"): 3,
        ("POST", "/products/{id}/image"): 2,
        ("POST", "/products/{id}/gallery"): 3,
        ("POST", "/products/{id}/combinations/{id}/image"): 1,
    }
    # the retry did not read the store's products again, nor post the variations' two batches again
    assert emulator_conn.call_count(scope="http", method="GET", endpoint="/products") == reads_before
    assert emulator_conn.call_count(method="POST", endpoint="/batch") == batches_before + 3  # the images only
    assert PROGRESS_KEY not in {key for key, value in state.values.items() if value}  # done: a later try starts over


def test_a_parquet_feed_with_gallery_lists_after_a_dry_run(emulator_conn: EcwidEmulator, tmp_path: Path) -> None:
    rows = [dict(row) for row in ROWS]
    for row in rows:
        gallery = row.pop("gallery", None)
        row["gallery"] = gallery.split("|") if gallery else []
    path = tmp_path / "feed.parquet"
    feed(rows).to_parquet(path)
    preview = sync(str(path), tmp_path / "memory", dry_run=True)
    assert preview["categories_to_create"] == 5
    assert preview["products"] == {"new": 3, "changed": 0, "unchanged": 0}
    assert emulator_conn.stats()["inner_total"] == 0
    sync(str(path), tmp_path / "memory")
    gallery = [row["url"] for row in emulator_conn.images() if row["sku"] == "BIKE" and row["kind"] == "gallery"]
    assert gallery == [f"{IMG}/bike-1.jpg", f"{IMG}/bike-2.jpg"]


def test_new_products_get_their_images_whatever_a_stale_memory_says(
    emulator_conn: EcwidEmulator, tmp_path: Path
) -> None:
    sync(feed(), tmp_path)
    emulator_conn.reset()  # the store loses everything; the memory still says every image was sent
    sync(feed(), tmp_path, run_id="run-2")
    assert len(emulator_conn.images()) == 6


def test_a_product_that_cannot_be_created_is_named_and_its_variations_skipped(
    emulator_conn: EcwidEmulator, tmp_path: Path
) -> None:
    rows = [dict(row) for row in ROWS]
    rows[1]["price"] = -1.0  # the store refuses TEE (400)
    summary = sync(feed(rows), tmp_path, fail_on="never")
    assert [(f["sku"], f["phase"], f["http_status"]) for f in summary["failed"]] == [("TEE", "products", 400)]
    assert summary["skipped"] == {
        sku: "the product could not be created" for sku in ("TEE-S-RED", "TEE-M-RED", "TEE-S-BLUE")
    } | {"TEE": "the product could not be created"}
    assert {p["sku"] for p in emulator_conn.products()} == {"BIKE", "CAP"}
    assert {row["sku"] for row in emulator_conn.images()} == {"BIKE", "CAP"}


async def run_deferring(operator: EcwidCatalogSyncOperator, ti: FakeTaskInstance) -> tuple[Any, list[str]]:
    """execute(), then for each deferral: run its trigger to its event and call the resume method it names."""
    from airflow.providers.common.compat.sdk import TaskDeferred

    deferred_phases: list[str] = []
    call = functools.partial(operator.execute, make_context(ti))
    while True:
        try:
            return call(), deferred_phases
        except TaskDeferred as raised:
            deferred = raised
        pending = ti.xcom["ecwid_sync_progress"]["pending"]
        assert deferred.trigger.tickets == pending["tickets"]
        deferred_phases.append(pending["phase"])
        events = [event async for event in deferred.trigger.run()]
        assert [event.payload["status"] for event in events] == ["success"]
        resume = getattr(operator, deferred.method_name)
        call = functools.partial(resume, make_context(ti), events[0].payload)


async def test_a_deferrable_sync_defers_every_phase_that_sends_something(
    emulator_conn: EcwidEmulator, tmp_path: Path
) -> None:
    ti = FakeTaskInstance()
    summary, phases = await run_deferring(sync_operator(feed(), tmp_path, deferrable=True), ti)
    assert phases == ["categories-1", "categories-2", "categories-3", "products", "variations", "images"]
    assert summary == ti.xcom["sync_summary"]
    assert summary["sent"] == {"categories": 5, "products": 3, "options": 0, "variations": 3, "images": 6}
    assert summary["failed_count"] == 0
    # the whole sample feed landed, as a sync that waits in the worker lands it
    by_name = {c["name"]: c for c in emulator_conn.categories()}
    assert by_name["Carbon"]["parentId"] == by_name["Road"]["id"]
    products = {p["sku"]: p for p in emulator_conn.products()}
    assert products["BIKE"]["categoryIds"] == [by_name["Carbon"]["id"]]
    assert {c["sku"] for c in products["TEE"]["combinations"]} == {"TEE-S-RED", "TEE-M-RED", "TEE-S-BLUE"}
    assert len(emulator_conn.images()) == 6
    # the store was listed once: its categories before the first level, its products before the products phase
    assert emulator_conn.call_count(scope="http", method="GET", endpoint="/categories") == 1
    assert emulator_conn.call_count(scope="http", method="GET", endpoint="/products") == 2  # its size, then a page
    assert (tmp_path / "store-1002.json").exists()

    before = inner(emulator_conn)
    second, deferred = await run_deferring(
        sync_operator(feed(), tmp_path, deferrable=True), FakeTaskInstance("dag", "run-2")
    )
    assert deferred == []  # nothing sent, nothing to wait for
    assert sum(second["sent"].values()) == 0
    assert inner(emulator_conn) == before


async def test_a_deferrable_sync_does_not_plan_on_rows_an_earlier_phase_failed(
    emulator_conn: EcwidEmulator, tmp_path: Path
) -> None:
    rows = [dict(row) for row in ROWS]
    rows[1]["price"] = -1.0  # the store refuses TEE (400): its variations and images must not be planned
    summary, phases = await run_deferring(
        sync_operator(feed(rows), tmp_path, deferrable=True, fail_on="never"), FakeTaskInstance()
    )
    assert phases == ["categories-1", "categories-2", "categories-3", "products", "images"]
    assert [(f["sku"], f["phase"], f["http_status"]) for f in summary["failed"]] == [("TEE", "products", 400)]
    assert set(summary["skipped"]) == {"TEE", "TEE-S-RED", "TEE-M-RED", "TEE-S-BLUE"}
    assert emulator_conn.call_count(scope="inner", endpoint="/products/{id}/combinations") == 0
    assert {row["sku"] for row in emulator_conn.images()} == {"BIKE", "CAP"}


def test_a_refused_category_is_named_its_products_wait_and_the_next_run_sends_only_them(
    emulator_conn: EcwidEmulator, tmp_path: Path
) -> None:
    emulator_conn.state.config.refuse_inner = r'^POST /categories \{"name":"Road"'
    summary = sync(feed(), tmp_path, fail_on="never")
    assert [(f["sku"], f["phase"], f["http_status"]) for f in summary["failed"]] == [
        ("Bikes > Road", "categories", 400)
    ]
    assert summary["failed"][0]["rows"] == ["BIKE"]  # the feed rows that name the category
    assert summary["skipped"] == {"BIKE": "category 'Bikes > Road > Carbon' could not be created"}
    assert {c["name"] for c in emulator_conn.categories()} == {"Bikes", "Apparel", "Tees"}  # Carbon waits too
    assert {p["sku"] for p in emulator_conn.products()} == {"TEE", "CAP"}  # BIKE is not sent without it
    assert {row["sku"] for row in emulator_conn.images()} == {"TEE", "TEE-S-RED", "CAP"}

    emulator_conn.state.config.refuse_inner = None
    posted = emulator_conn.call_count(scope="inner", method="POST", endpoint="/categories")
    second = sync(feed(), tmp_path, run_id="run-2")
    assert second["failed_count"] == 0
    assert second["sent"] == {"categories": 2, "products": 1, "options": 0, "variations": 0, "images": 3}
    assert emulator_conn.call_count(scope="inner", method="POST", endpoint="/categories") == posted + 2
    by_name = {c["name"]: c for c in emulator_conn.categories()}
    products = {p["sku"]: p for p in emulator_conn.products()}
    assert products["BIKE"]["categoryIds"] == [by_name["Carbon"]["id"]]
    assert by_name["Carbon"]["parentId"] == by_name["Road"]["id"]


def test_the_category_verdict_names_the_category_and_its_rows(emulator_conn: EcwidEmulator, tmp_path: Path) -> None:
    emulator_conn.state.config.refuse_inner = r'^POST /categories \{"name":"Tees"'
    with pytest.raises(Exception, match="categories") as err:
        sync(feed(), tmp_path)
    assert "Apparel > Tees" in str(err.value)
    assert "TEE" in str(err.value)  # the product row held back with it


def test_a_retry_after_the_verdict_sends_again_what_failed(emulator_conn: EcwidEmulator, tmp_path: Path) -> None:
    """Airflow 3.3: a try that failed on its verdict left nothing in the state store that a retry would take for
    its own; the retry starts over under a new key and sends the refused category again."""
    emulator_conn.state.config.refuse_inner = r'^POST /categories \{"name":"Road"'
    state = FakeStateStore()
    with pytest.raises(Exception, match="categories"):
        sync_operator(feed(), tmp_path).execute(make_context(FakeTaskInstance(), state))
    assert not {key for key, value in state.values.items() if value}  # the sync cleaned up after itself

    emulator_conn.state.config.refuse_inner = None
    ti = FakeTaskInstance()  # the second try of the same task run
    sync_operator(feed(), tmp_path).execute(make_context(ti, state))
    assert ti.xcom["sync_summary"]["failed_count"] == 0
    assert ti.xcom["sync_summary"]["sent"]["categories"] == 2  # Road, then Carbon under it
    assert {p["sku"] for p in emulator_conn.products()} == {"BIKE", "TEE", "CAP"}


@pytest.mark.ecwid_emulator(processing_time=0.3)
def test_a_retry_after_a_kill_sends_what_the_kill_cancelled_and_nothing_twice(
    emulator_conn: EcwidEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Airflow 3.3: killed while its products batch waits in the store's queue, the task cancels it; the retry
    sends the cancelled products again (once each) and goes on from there."""
    from airflow_provider_ecwid.catalog.phase_runner import PhaseRunner

    submit = PhaseRunner.submit
    killed = sync_operator(feed(), tmp_path)

    def submits(self: PhaseRunner, phase: str, *args: Any, **kwargs: Any) -> Any:
        tickets = submit(self, phase, *args, **kwargs)
        if phase == "products":
            killed.on_kill()  # what Airflow calls when the task is killed
        return tickets

    monkeypatch.setattr(PhaseRunner, "submit", submits)
    state = FakeStateStore()
    with pytest.raises(Exception, match="killed"):
        killed.execute(make_context(FakeTaskInstance(), state))
    assert len(emulator_conn.products()) < 3  # the kill's cancel stopped some of them

    monkeypatch.setattr(PhaseRunner, "submit", submit)
    ti = FakeTaskInstance()
    sync_operator(feed(), tmp_path).execute(make_context(ti, state))
    assert ti.xcom["sync_summary"]["failed_count"] == 0
    assert {p["sku"] for p in emulator_conn.products()} == {"BIKE", "TEE", "CAP"}
    created = [
        row["count"]
        for row in emulator_conn.stats()["calls"]
        if (row["scope"], row["method"], row["endpoint"], row["status"]) == ("inner", "POST", "/products", 200)
    ]
    assert created == [3]  # each product created exactly once over both tries


async def test_a_feed_that_changes_while_a_phase_waits_fails_the_resume(
    emulator_conn: EcwidEmulator, tmp_path: Path
) -> None:
    from airflow.providers.common.compat.sdk import TaskDeferred

    ti = FakeTaskInstance()
    operator = sync_operator(feed(), tmp_path, deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(make_context(ti))
    events = [event async for event in deferred.value.trigger.run()]
    changed = [dict(row) for row in ROWS]
    changed[0]["price"] = 1499.0  # regenerated between the deferral and the resume
    operator.data = feed(changed)
    posts = emulator_conn.call_count(method="POST", endpoint="/batch")
    with pytest.raises(Exception, match="feed changed while the sync waited"):
        operator.execute_complete(make_context(ti), events[0].payload)
    assert emulator_conn.call_count(method="POST", endpoint="/batch") == posts  # nothing planned on the new feed


def read_outcomes(path: Path) -> list[dict[str, Any]]:
    """A results file's rows (CSV values are text: the HTTP status too)."""
    with path.open(encoding="utf-8") as handle:
        if path.suffix == ".csv":
            return [dict(row) for row in csv.DictReader(handle)]
        return [json.loads(line) for line in handle]


@pytest.mark.parametrize("suffix", [".csv", ".jsonl"])
def test_results_path_gets_every_requests_outcome_on_the_whole_catalog_path(
    emulator_conn: EcwidEmulator, tmp_path: Path, suffix: str
) -> None:
    rows = [dict(row) for row in ROWS]
    rows[1]["price"] = -1.0  # the store refuses TEE (400)
    results = tmp_path / f"outcomes{suffix}"
    summary = sync(feed(rows), tmp_path, fail_on="never", results_path=str(results))
    outcomes = read_outcomes(results)
    assert len(outcomes) == sum(summary["sent"].values())  # every request sent, every phase
    assert tuple(outcomes[0]) == OUTCOME_FIELDS  # phase, SKU, method, path, status, ..., Ecwid's message
    assert {row["phase"] for row in outcomes} == {"categories-1", "categories-2", "categories-3", "products", "images"}
    (tee,) = [row for row in outcomes if row["sku"] == "TEE"]
    assert (tee["phase"], tee["method"], tee["path"], tee["status"]) == ("products", "POST", "/products", "FAILED")
    assert str(tee["http_status"]) == "400"
    assert tee["error_message"]  # Ecwid's own words
    (bike,) = [row for row in outcomes if row["sku"] == "BIKE" and row["phase"] == "products"]
    assert (bike["method"], bike["path"], bike["status"]) == ("POST", "/products", "COMPLETED")
    gallery = [row for row in outcomes if row["id"].startswith("gallery-image:BIKE:")]
    assert [row["method"] for row in gallery] == ["POST", "POST"]
    assert all(row["path"].startswith("/products/") and "/gallery?externalUrl=" in row["path"] for row in gallery)


async def test_a_deferrable_sync_writes_the_outcomes_of_every_phase_it_deferred(
    emulator_conn: EcwidEmulator, tmp_path: Path
) -> None:
    results = tmp_path / "outcomes.jsonl"
    ti = FakeTaskInstance()
    operator = sync_operator(feed(), tmp_path, deferrable=True, results_path=str(results))
    summary, phases = await run_deferring(operator, ti)
    outcomes = read_outcomes(results)
    assert len(outcomes) == sum(summary["sent"].values()) == 5 + 3 + 3 + 6
    assert [row["phase"] for row in outcomes if row["phase"] in phases][:1] == ["categories-1"]
    assert {row["phase"] for row in outcomes} == set(phases)
    assert {row["status"] for row in outcomes} == {"COMPLETED"}


def test_a_deferrable_sync_whose_phases_finish_within_the_grace_never_defers(
    emulator_conn: EcwidEmulator, tmp_path: Path
) -> None:
    """The sample feed's phases take the store milliseconds: each is waited for in the worker (the default 10 s
    grace), so the deferrable sync ends in one stint, as the non-deferrable one does."""
    summary = sync(feed(), tmp_path, deferrable=True, defer_grace=10)  # a TaskDeferred would fail this test
    assert summary["failed_count"] == 0
    assert {p["sku"] for p in emulator_conn.products()} == {"BIKE", "TEE", "CAP"}
    assert sum(summary["sent"].values()) == inner(emulator_conn)
