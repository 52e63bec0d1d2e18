"""The nightly whose cost follows the changes: the whole-catalog sync's memory of the store, against the emulator."""

from __future__ import annotations

import json
import time
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from airflow_provider_ecwid.catalog.store_memory import snapshot_url
from airflow_provider_ecwid.testing import EcwidEmulator
from tests.integration.catalog.test_whole_catalog import ROWS, feed, sync
from tests.integration.fakes import TaskLogs
from tests.integration.helpers import Api

IMG = "https://img.example"


def big_feed(products: int, changed: int = 0) -> pd.DataFrame:
    """``products`` products in 7 categories with an image, a gallery every other one, and every tenth with two
    variations; the first ``changed`` ones at another price."""
    rows: list[dict[str, Any]] = []
    for n in range(products):
        price = 10.0 + n + (0.5 if n < changed else 0)
        sku = f"P{n:04d}"
        rows.append({"sku": sku, "name": f"Product {n}", "price": price, "category": f"Group {n % 7}"})
        rows[-1].update(image=f"{IMG}/p{n}.jpg", gallery=f"{IMG}/p{n}-1.jpg" if n % 2 else None)
        if n % 10 == 0:
            for size in ("S", "M"):
                rows.append({"sku": f"{sku}-{size}", "parent_sku": sku, "price": 5.0, "Size": size, "Color": "Red"})
    frame: pd.DataFrame = pd.DataFrame(rows)
    return frame


def calls(emulator: EcwidEmulator, scope: str = "http") -> Counter[tuple[str, str]]:
    return Counter(
        {
            (row["method"], row["endpoint"]): row["count"]
            for row in emulator.stats()["calls"]
            if row["scope"] == scope and row["status"] < 400
        }
    )


def delta(emulator: EcwidEmulator, before: Counter[tuple[str, str]], scope: str = "http") -> dict[tuple[str, str], int]:
    after = calls(emulator, scope)
    after.subtract(before)
    return {key: count for key, count in after.items() if count}


def test_an_unchanged_second_sync_makes_at_most_five_calls(emulator_conn: EcwidEmulator, tmp_path: Path) -> None:
    sync(big_feed(450), tmp_path)
    assert (tmp_path / Path(snapshot_url(str(tmp_path), "1002")).name).exists()
    before = calls(emulator_conn)
    second = sync(big_feed(450), tmp_path, run_id="run-2")
    made = delta(emulator_conn, before)
    assert sum(made.values()) <= 5, made
    assert ("GET", "/products") not in made
    assert ("GET", "/categories") not in made
    assert made[("GET", "/latest-stats")] == 1
    assert sum(second["sent"].values()) == 0


def test_a_one_percent_changed_feed_reads_no_catalog_page(emulator_conn: EcwidEmulator, tmp_path: Path) -> None:
    sync(big_feed(300), tmp_path)
    before, inner_before = calls(emulator_conn), calls(emulator_conn, "inner")
    summary = sync(big_feed(300, changed=3), tmp_path, run_id="run-2")
    made = delta(emulator_conn, before)
    assert ("GET", "/products") not in made
    assert ("GET", "/categories") not in made
    assert delta(emulator_conn, inner_before, "inner") == {("PUT", "/products/{id}"): 3}
    assert summary["product_changes"] == {"new": 0, "changed": 3, "unchanged": 297}
    # and the sync's own writes are remembered: the next run reads nothing again
    before = calls(emulator_conn)
    sync(big_feed(300, changed=3), tmp_path, run_id="run-3")
    assert ("GET", "/products") not in delta(emulator_conn, before)


def test_hand_edits_in_the_store_are_read_alone_and_put_back(emulator_conn: EcwidEmulator, tmp_path: Path) -> None:
    sync(feed(), tmp_path)
    emulator_conn.advance_clock(86_400)
    sync(feed(), tmp_path, run_id="run-2")  # a quiet night
    emulator_conn.advance_clock(3_600)
    api = Api(emulator_conn)
    products = {product["sku"]: product for product in emulator_conn.products()}
    assert api.call("PUT", f"/products/{products['CAP']['id']}", json={"price": 99.0}).status_code == 200
    assert api.call("DELETE", f"/products/{products['TEE']['id']}").status_code == 200
    before, inner_before = calls(emulator_conn), calls(emulator_conn, "inner")
    sync(feed(), tmp_path, run_id="run-3")
    made = delta(emulator_conn, before)
    assert made[("GET", "/products")] == 1  # one page: the product updated since; not the catalog
    assert made[("GET", "/products/deleted")] == 1
    assert ("GET", "/categories") not in made
    assert delta(emulator_conn, inner_before, "inner") == {
        ("PUT", "/products/{id}"): 1,  # CAP's price
        ("POST", "/products"): 1,  # TEE again, with its options
        ("POST", "/products/{id}/combinations"): 3,
        ("POST", "/products/{id}/image"): 1,
        ("POST", "/products/{id}/combinations/{id}/image"): 1,
    }
    after = {product["sku"]: product for product in emulator_conn.products()}
    assert after["CAP"]["price"] == 9.0
    assert {item["sku"] for item in after["TEE"]["combinations"]} == {"TEE-S-RED", "TEE-M-RED", "TEE-S-BLUE"}


@pytest.mark.ecwid_emulator(timestamp_resolution=60)
def test_coarse_timestamps_still_show_an_edit_made_in_the_minute_of_the_last_sync(
    emulator_conn: EcwidEmulator, tmp_path: Path
) -> None:
    now = emulator_conn.state.now()
    emulator_conn.advance_clock(60 - now % 60 + 1)  # the start of a minute: the sync and the edit share it
    sync(feed(), tmp_path)
    cap = next(product for product in emulator_conn.products() if product["sku"] == "CAP")
    assert Api(emulator_conn).call("PUT", f"/products/{cap['id']}", json={"price": 1.0}).status_code == 200
    assert cap["updateTimestamp"] == next(p for p in emulator_conn.products() if p["sku"] == "CAP")["updateTimestamp"]
    inner_before = calls(emulator_conn, "inner")
    sync(feed(), tmp_path, run_id="run-2")
    assert delta(emulator_conn, inner_before, "inner") == {("PUT", "/products/{id}"): 1}
    assert next(p for p in emulator_conn.products() if p["sku"] == "CAP")["price"] == 9.0


def _corrupt(path: Path) -> None:
    path.write_text(path.read_text()[:-20])


def _edit_header(path: Path, edit: Any) -> None:
    """Change the document's first line (its header), the product lines and the trailer as they were."""
    first, rest = path.read_text().split("\n", 1)
    header = json.loads(first)
    edit(header)
    path.write_text(json.dumps(header) + "\n" + rest)


def _other_store(path: Path) -> None:
    _edit_header(path, lambda header: header.update(store="0" * 16))


def _edited(path: Path) -> None:
    _edit_header(path, lambda header: header["body"].update(products_updated="2000-01-01 00:00:00 +0000"))


@pytest.mark.parametrize(
    ("spoil", "why"),
    [
        (Path.unlink, "there is no catalog memory yet"),
        (_corrupt, "the catalog memory is not readable"),
        (_other_store, "the catalog memory belongs to another store"),
        (_edited, "the catalog memory does not match its digest"),
    ],
)
def test_a_memory_that_cannot_be_used_falls_back_to_the_whole_catalog(
    emulator_conn: EcwidEmulator, tmp_path: Path, task_logs: TaskLogs, spoil: Any, why: str
) -> None:
    sync(feed(), tmp_path)
    spoil(Path(snapshot_url(str(tmp_path), "1002")))
    before = calls(emulator_conn)
    summary = sync(feed(), tmp_path, run_id="run-2")
    made = delta(emulator_conn, before)
    assert made[("GET", "/products")] >= 2  # the count, then the catalog
    assert made[("GET", "/categories")] == 1
    assert sum(summary["sent"].values()) == 0
    assert f"Reading the whole catalog: {why}" in task_logs.text()


def test_a_memory_older_than_its_age_falls_back_to_the_whole_catalog(
    emulator_conn: EcwidEmulator, tmp_path: Path, task_logs: TaskLogs
) -> None:
    sync(feed(), tmp_path)
    time.sleep(1.1)
    before = calls(emulator_conn)
    sync(feed(), tmp_path, run_id="run-2", catalog_memory_max_age=timedelta(seconds=1))
    assert delta(emulator_conn, before)[("GET", "/categories")] == 1
    assert "older than" in task_logs.text()


@pytest.mark.ecwid_emulator(nested_changes_move_product=False)
def test_a_variation_edit_that_does_not_move_its_product_is_seen_by_a_whole_read(
    emulator_conn: EcwidEmulator, tmp_path: Path, task_logs: TaskLogs
) -> None:
    sync(feed(), tmp_path)
    # the store's times are seconds: an edit within the second of the sync's last write would leave
    # productsUpdated as the memory has it (nothing to see), so the edit comes later, as it would at night
    emulator_conn.advance_clock(5)
    tee = next(product for product in emulator_conn.products() if product["sku"] == "TEE")
    red = next(item for item in tee["combinations"] if item["sku"] == "TEE-M-RED")
    path = f"/products/{tee['id']}/combinations/{red['id']}"
    assert Api(emulator_conn).call("PUT", path, json={"price": 5.0}).status_code == 200
    inner_before = calls(emulator_conn, "inner")
    sync(feed(), tmp_path, run_id="run-2")
    assert "no product changed or was deleted after it" in task_logs.text()
    assert delta(emulator_conn, inner_before, "inner") == {("PUT", "/products/{id}/combinations/{id}"): 1}


@pytest.mark.ecwid_emulator(nested_changes_move_product=False)
def test_an_invisible_variation_edit_beside_a_visible_edit_waits_for_the_age_bound(
    emulator_conn: EcwidEmulator, tmp_path: Path
) -> None:
    """What the provider cannot see (documented): the variation edit hides behind the price edit until the memory
    is older than ``catalog_memory_max_age``, when the whole catalog is read and it is put back."""
    sync(feed(), tmp_path)
    emulator_conn.advance_clock(86_400)
    rows = [dict(row, price=row["price"] + 1) if row["sku"] == "CAP" else row for row in ROWS]
    sync(feed(rows), tmp_path, run_id="run-2")  # the next night writes CAP only: TEE leaves the overlap window
    emulator_conn.advance_clock(3_600)
    api = Api(emulator_conn)
    products = {product["sku"]: product for product in emulator_conn.products()}
    red = next(item for item in products["TEE"]["combinations"] if item["sku"] == "TEE-M-RED")
    assert api.call("PUT", f"/products/{products['TEE']['id']}/combinations/{red['id']}", json={"price": 5.0}).ok
    assert api.call("PUT", f"/products/{products['BIKE']['id']}", json={"price": 1.0}).ok
    inner_before = calls(emulator_conn, "inner")
    sync(feed(rows), tmp_path, run_id="run-3")
    assert delta(emulator_conn, inner_before, "inner") == {("PUT", "/products/{id}"): 1}  # BIKE only
    time.sleep(1.1)
    inner_before = calls(emulator_conn, "inner")
    sync(feed(rows), tmp_path, run_id="run-4", catalog_memory_max_age=timedelta(seconds=1))
    assert delta(emulator_conn, inner_before, "inner") == {("PUT", "/products/{id}/combinations/{id}"): 1}
