"""The whole-catalog sync against the emulator: categories, products, options, variations and images by SKU."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from airflow_provider_ecwid.errors import EcwidValidationError
from airflow_provider_ecwid.operators.catalog import EcwidCatalogSyncOperator
from airflow_provider_ecwid.testing import EcwidEmulator
from tests.integration.fakes import FakeTaskInstance, make_context
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
    return EcwidCatalogSyncOperator(
        task_id="sync",
        data=data,
        category_column="category",
        parent_sku_column="parent_sku",
        option_columns=["Size", "Color"],
        image_column="image",
        gallery_column="gallery",
        image_memory_path=str(memory),
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


def test_a_retried_task_resumes_at_the_phase_it_reached(
    emulator_conn: EcwidEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from airflow_provider_ecwid.phases import PhaseRunner

    real = PhaseRunner.run_requests

    def dies_at_variations(self: PhaseRunner, phase: str, *args: Any, **kwargs: Any) -> Any:
        if phase == "variations":
            raise RuntimeError("the worker died")
        return real(self, phase, *args, **kwargs)

    monkeypatch.setattr(PhaseRunner, "run_requests", dies_at_variations)
    with pytest.raises(RuntimeError, match="worker died"):
        sync(feed(), tmp_path)
    assert len(emulator_conn.categories()) == 5
    assert len(emulator_conn.products()) == 3
    posted_before = emulator_conn.call_count(scope="inner", method="POST")
    monkeypatch.setattr(PhaseRunner, "run_requests", real)
    retry = sync(feed(), tmp_path)  # the same run: a second try
    # images: 6 adds, and the two galleries cleared first (this try did not create those products itself)
    assert retry["sent"] == {"products": 0, "options": 0, "variations": 3, "images": 8}
    assert emulator_conn.call_count(scope="inner", method="POST", endpoint="/categories") == 5  # none twice
    assert emulator_conn.call_count(scope="inner", method="POST", endpoint="/products") == 3
    assert emulator_conn.call_count(scope="inner", method="POST") == posted_before + 3 + 6


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


async def test_a_deferrable_sync_hands_the_image_phase_to_the_triggerer(
    emulator_conn: EcwidEmulator, tmp_path: Path
) -> None:
    from airflow.providers.common.compat.sdk import TaskDeferred

    ti = FakeTaskInstance()
    operator = sync_operator(feed(), tmp_path, deferrable=True)
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute(make_context(ti))
    pending = ti.xcom["ecwid_pending_images"]
    assert deferred.value.trigger.tickets == pending["tickets"]
    assert pending["summary"]["sent"]["products"] == 3  # the phases before ran in the worker
    assert not (tmp_path / "store-1002.json").exists()  # nothing remembered before the images are done
    events = [event async for event in deferred.value.trigger.run()]
    assert [event.payload["status"] for event in events] == ["success"]

    summary = operator.execute_complete(make_context(ti), events[0].payload)
    assert summary == ti.xcom["sync_summary"]
    assert (summary["failed_count"], summary["sent"]["images"]) == (0, 6)  # 2 main, 3 gallery, 1 variation
    assert len(emulator_conn.images()) == 6
    assert (tmp_path / "store-1002.json").exists()
    before = inner(emulator_conn)
    assert sum(sync(feed(), tmp_path, run_id="run-2")["sent"].values()) == 0  # the memory was written on resume
    assert inner(emulator_conn) == before
