"""Every file of an entity has one schema: typed, nested where Ecwid nests, and nothing Ecwid sends dropped."""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import IO, Any

import pyarrow.parquet as pq
import pytest

from airflow_provider_ecwid.export.files import open_export
from airflow_provider_ecwid.export.schema import EXTRA, ORDERS, SCHEMAS, fit, record_batch

ORDER = {
    "id": "SHOP-1001",
    "internalId": 1001,
    "orderNumber": 1001,
    "email": "ann@example.com",
    "total": 30,  # a whole number, as JSON may send it: still a float64
    "subtotal": 25.5,
    "couponDiscount": 2.5,
    "paymentStatus": "PAID",
    "createTimestamp": 1_764_547_200,
    "updateDate": "2025-12-01 00:00:00 +0000",
    "updateTimestamp": 1_764_547_200,
    "items": [{"id": 1, "productId": 7, "sku": "TEE", "price": 12.75, "quantity": 2, "weight": 0.3}],
    "billingPerson": {"name": "Ann", "city": "Oslo", "countryCode": "NO", "companyName": "Ann AS", "fax": "1"},
    "pickupTime": "2025-12-02",  # a field this schema does not know
}


def local(url: str, mode: str) -> IO[Any]:
    return open(url, mode, newline="" if "b" not in mode else None)


def test_a_night_without_coupons_or_shipping_writes_the_same_schema() -> None:
    bare = {"id": "SHOP-1002", "internalId": 1002, "total": 5.0, "updateTimestamp": 1_764_550_000}
    assert record_batch([ORDER], ORDERS).schema == record_batch([bare], ORDERS).schema == ORDERS
    fitted = fit(bare, ORDERS)
    assert fitted["couponDiscount"] is None
    assert fitted["shippingPerson"] is None
    assert fitted[EXTRA] is None


def test_what_the_schema_does_not_know_is_kept_as_json_text() -> None:
    fitted = fit({**ORDER, "orderNumber": "not a number"}, ORDERS)
    assert fitted["orderNumber"] is None
    assert json.loads(fitted[EXTRA]) == {
        "billingPerson.fax": "1",
        "items[0].weight": 0.3,
        "orderNumber": "not a number",
        "pickupTime": "2025-12-02",
    }
    assert fitted["billingPerson"]["companyName"] == "Ann AS"
    assert fitted["total"] == 30.0


@pytest.mark.parametrize("entity", sorted(SCHEMAS))
def test_every_entity_has_an_extra_column_last(entity: str) -> None:
    assert SCHEMAS[entity].names[-1] == EXTRA


def test_parquet_keeps_nested_values_nested_and_times_as_timestamps(tmp_path: Path) -> None:
    path = str(tmp_path / "orders.parquet")
    out = open_export(path, "parquet", ORDERS, local)
    out.write(record_batch([ORDER], ORDERS))
    out.write(record_batch([], ORDERS))
    assert out.close() == 1
    table = pq.read_table(path)
    assert table.schema == ORDERS
    row = table.to_pylist()[0]
    assert row["items"][0]["sku"] == "TEE"
    assert row["updateTimestamp"].isoformat() == "2025-12-01T00:00:00+00:00"


def test_an_empty_export_is_a_file_of_the_schema(tmp_path: Path) -> None:
    path = str(tmp_path / "none.parquet")
    assert open_export(path, "parquet", ORDERS, local).close() == 0
    assert pq.read_table(path).schema == ORDERS


def test_csv_writes_nested_values_as_json_text(tmp_path: Path) -> None:
    path = str(tmp_path / "orders.csv")
    out = open_export(path, "csv", ORDERS, local)
    out.write(record_batch([ORDER], ORDERS))
    out.close()
    with open(path, newline="") as handle:
        [row] = list(csv.DictReader(handle))
    assert list(row) == ORDERS.names
    assert json.loads(row["items"])[0]["price"] == 12.75
    assert row["updateTimestamp"] == "2025-12-01T00:00:00+00:00"


def test_json_lines_write_one_object_per_item(tmp_path: Path) -> None:
    path = str(tmp_path / "orders.jsonl")
    out = open_export(path, "jsonl", ORDERS, local)
    out.write(record_batch([ORDER, ORDER], ORDERS))
    assert out.close() == 2
    lines = Path(path).read_text().splitlines()
    assert [json.loads(line)["id"] for line in lines] == ["SHOP-1001", "SHOP-1001"]


def test_parquet_row_groups_gather_many_pages(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Pages arrive 100 rows at a time; a row group each would make the footer grow with the export."""
    monkeypatch.setattr("airflow_provider_ecwid.export.files.ROW_GROUP_ROWS", 1_000)
    path = str(tmp_path / "orders.parquet")
    out = open_export(path, "parquet", ORDERS, local)
    for page in range(25):
        out.write(record_batch([{**ORDER, "id": f"SHOP-{page}-{row}"} for row in range(100)], ORDERS))
    assert out.close() == 2_500
    assert pq.ParquetFile(path).metadata.num_row_groups == 3  # 1,000 + 1,000 + the last 500
    assert pq.read_table(path).num_rows == 2_500
