"""An export run without Airflow: products and categories of the store in memory into files, and what it cost."""

from __future__ import annotations

from pathlib import Path
from typing import IO, Any

import pyarrow.parquet as pq
import pytest

from airflow_provider_ecwid.errors import EcwidConfigError
from airflow_provider_ecwid.export.entities import checked_filters, entity_spec
from airflow_provider_ecwid.export.run import ExportSettings, run_export
from airflow_provider_ecwid.export.schema import DELETED, PRODUCTS
from airflow_provider_ecwid.reading.window import Window
from airflow_provider_ecwid.testing import catalog
from tests.unit.catalog.memory_store import STORE_ID
from tests.unit.reading.test_pages import seeded, tickets


def local(url: str, mode: str) -> IO[Any]:
    return open(url, mode, newline="" if "b" not in mode else None)


def test_a_days_window_costs_a_handful_of_calls_and_holds_that_day_only(tmp_path: Path) -> None:
    store, _ = seeded(1_000)  # updated at 1000 ... 1999
    settings = ExportSettings("products", Window(1_200, 1_700), {}, str(tmp_path / "day.parquet"))
    result = run_export(store.client(), settings, tickets(store), local, now=lambda: 5_000)
    table = pq.read_table(settings.output)
    assert table.schema == PRODUCTS
    assert sorted(table.column("sku").to_pylist()) == [f"P{number:05}" for number in range(200, 700)]
    assert result["rows"] == 500
    assert result["window"] == {"start": 1_200, "end": 1_700}
    assert result["calls"] <= 4  # the count, one batch of 5 pages, its status


def test_the_whole_entity_ends_when_the_export_starts_and_fetches_only_the_fields_asked(tmp_path: Path) -> None:
    store, clock = seeded(250)
    settings = ExportSettings("products", None, {}, str(tmp_path / "all.jsonl"), "jsonl", fields=("sku",))
    result = run_export(store.client(), settings, tickets(store), local, now=lambda: int(clock.now) + 1)
    assert result["rows"] == 250
    assert result["window"]["start"] is None
    first = Path(settings.output).read_text().splitlines()[0]
    assert '"name": null' in first  # not fetched: the column is there, empty


def test_deletions_of_the_window_go_beside_the_export(tmp_path: Path) -> None:
    store, clock = seeded(10)
    shop = store.state.stores[STORE_ID]
    clock.now = 2_000
    gone = sorted(shop.products)[0]
    catalog.handle(shop, "DELETE", f"/products/{gone}", {}, None)
    settings = ExportSettings(
        "products", Window(1_500, 2_500), {}, str(tmp_path / "p.parquet"), deleted_output=str(tmp_path / "d.parquet")
    )
    result = run_export(store.client(), settings, tickets(store), local, now=lambda: 3_000)
    assert result["deleted_rows"] == 1
    deleted = pq.read_table(settings.deleted_output)
    assert deleted.schema == DELETED
    assert deleted.column("id").to_pylist() == [str(gone)]
    assert pq.read_table(settings.output).num_rows == 0  # the others were updated before the window


def test_categories_are_read_whole(tmp_path: Path) -> None:
    store, _ = seeded(0)
    for name in ("Bikes", "Shoes"):
        store.add_category(name)
    settings = ExportSettings("categories", Window(1, 2), {}, str(tmp_path / "c.csv"), "csv")
    result = run_export(store.client(), settings, tickets(store), local, now=lambda: 3_000)
    assert result["rows"] == 2
    assert result["window"] is None


@pytest.mark.parametrize(
    ("entity", "filters", "match"),
    [
        ("orders", {"paymentStatus": "PAID,SHIPPED"}, "not among"),
        ("orders", {"updatedFrom": "1"}, "'updatedFrom' is not a filter of orders"),
        ("orders", {"totalFrom": "ten"}, "must be a number"),
        ("products", {"productId": "1,x"}, "numbers separated by commas"),
        ("categories", {"keyword": "x"}, "its filters: parent"),
    ],
)
def test_a_filter_the_entity_does_not_document_is_refused(entity: str, filters: dict[str, Any], match: str) -> None:
    with pytest.raises(EcwidConfigError, match=match):
        checked_filters(entity, filters)


def test_filters_lists_become_comma_lists_and_an_unknown_entity_is_refused() -> None:
    assert checked_filters("orders", {"paymentStatus": ["PAID", "AWAITING_PAYMENT"]}) == {
        "paymentStatus": "PAID,AWAITING_PAYMENT"
    }
    with pytest.raises(EcwidConfigError, match="entity must be one of"):
        entity_spec("invoices")


def test_an_output_that_cannot_be_written_fails_before_any_call(tmp_path: Path) -> None:
    store, _ = seeded(5)
    client = store.client()
    settings = ExportSettings("products", None, {}, str(tmp_path / "no-such-folder" / "p.parquet"))
    with pytest.raises(EcwidConfigError, match=r"output: .*no-such-folder.* cannot be written"):
        run_export(client, settings, tickets(store), local, now=lambda: 5_000)
    assert client.http_calls == 0
