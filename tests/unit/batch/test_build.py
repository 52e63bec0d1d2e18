"""The pure core: JSON-safe values, path templates, the request builder, chunking and dedup keys."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.pandas import column, data_frames, range_indexes

from airflow_provider_ecwid.batch.build import PathTemplate, RequestBuilder
from airflow_provider_ecwid.batch.chunks import EncodedChunk, deduplication_key
from airflow_provider_ecwid.batch.plan import BatchPlan
from airflow_provider_ecwid.batch.problems import ProblemLog
from airflow_provider_ecwid.batch.sources import make_source
from airflow_provider_ecwid.batch.values import MISSING, UnsafeValue, json_safe
from airflow_provider_ecwid.errors import EcwidConfigError, EcwidValidationError


def decoded(plan: BatchPlan) -> list[list[dict[str, Any]]]:
    plan.validate()
    return [json.loads(chunk.payload) for chunk in plan.chunks()]


def bodies(frame: pd.DataFrame, **options: Any) -> list[dict[str, Any] | None]:
    plan = BatchPlan(make_source(frame), RequestBuilder(path="/products", **options))
    return [request.get("body") for chunk in decoded(plan) for request in chunk]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (None, MISSING),
        (float("nan"), MISSING),
        (np.float64("nan"), MISSING),
        (pd.NaT, MISSING),
        (pd.NA, MISSING),
        (np.int64(5), 5),
        (np.float32(1.5), 1.5),
        (np.bool_(True), True),
        (Decimal("1.10"), Decimal("1.10")),
        (pd.Timestamp("2026-01-02 03:04:05"), "2026-01-02T03:04:05"),
        (dt.date(2026, 1, 2), "2026-01-02"),
        ({"a": [1, None, np.int8(2)]}, {"a": [1, None, 2]}),
        ((1, 2), [1, 2]),
        (np.array([1, 2]), [1, 2]),
    ],
)
def test_json_safe_values(value: Any, expected: Any) -> None:
    assert json_safe(value) == expected or (expected is MISSING and json_safe(value) is MISSING)


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        (float("inf"), "infinity"),
        (np.float64("-inf"), "infinity"),
        (Decimal("Infinity"), "infinity"),
        (b"\x00", "externalUrl"),
        (bytearray(b"x"), "externalUrl"),
        ({1: "a"}, "keys must be strings"),
        (object(), "cannot be sent as JSON"),
        ([1, float("inf")], "infinity"),
        (2**64, "beyond 64-bit"),
        (2**63, "beyond 64-bit"),
        (np.uint64(2**64 - 1), "beyond 64-bit"),
        (-(2**63) - 1, "beyond 64-bit"),
    ],
)
def test_json_unsafe_values(value: Any, reason: str) -> None:
    with pytest.raises(UnsafeValue, match=reason):
        json_safe(value)


def test_missing_values_are_left_out_or_sent_as_null() -> None:
    # pandas reads None as NaT; its stubs do not list None among to_datetime's list items
    when = pd.to_datetime(["2026-01-01", None])  # type: ignore[arg-type]
    frame = pd.DataFrame({"sku": ["A", None], "price": [1.0, np.nan], "when": when})
    with pytest.raises(EcwidValidationError, match="needs a body"):
        bodies(frame)  # the second row has no value at all
    frame.loc[1, "sku"] = "B"
    assert bodies(frame) == [{"sku": "A", "price": 1.0, "when": "2026-01-01T00:00:00"}, {"sku": "B"}]
    assert bodies(frame, null_values="null")[1] == {"sku": "B", "price": None, "when": None}


def test_numbers_keep_their_type() -> None:
    frame = pd.DataFrame({"i": np.array([1, 2], dtype=np.int32), "f": [1.0, 2.5], "b": [True, False]})
    assert bodies(frame) == [{"i": 1, "f": 1.0, "b": True}, {"i": 2, "f": 2.5, "b": False}]
    payload = BatchPlan(make_source(frame), RequestBuilder(path="/p")).chunks().__next__().payload
    assert b'"i":1,' in payload
    assert b'"f":2.5' in payload
    assert json.loads(payload)[0]["body"]["f"] == 1  # a whole float may be written 1 or 1.0: the same JSON number


def test_decimal_is_a_json_number() -> None:
    frame = pd.DataFrame({"price": [Decimal("19.90")]}, dtype=object)
    chunk = next(BatchPlan(make_source(frame), RequestBuilder(path="/p")).chunks())
    assert b'"price":19.90' in chunk.payload


@pytest.mark.parametrize(
    ("template", "values", "expected"),
    [
        ("/products/{id}", {"id": [1, 2]}, ["/products/1", "/products/2"]),
        ("/products/{id}", {"id": [1.0, 20.0]}, ["/products/1", "/products/20"]),
        (
            "/products?sku={sku}",
            {"sku": ["A B", "a/b&token=x"]},
            ["/products?sku=A%20B", "/products?sku=a%2Fb%26token%3Dx"],
        ),
        ("/products?sku={sku}", {"sku": ["ab\n", "x\r\n"]}, ["/products?sku=ab%0A", "/products?sku=x%0D%0A"]),
        ("/products/{p}/combinations/{c}", {"p": [1], "c": ["7"]}, ["/products/1/combinations/7"]),
        ("/profile", {"x": [1]}, ["/profile"]),
    ],
)
def test_path_templates_quote_values(template: str, values: dict[str, list[Any]], expected: list[str]) -> None:
    frame = pd.DataFrame({**values, "v": [1] * len(expected)})
    plan = BatchPlan(make_source(frame), RequestBuilder(path=template, method="GET"))
    assert [request["path"] for chunk in decoded(plan) for request in chunk] == expected


@pytest.mark.parametrize(
    "template",
    [
        "products",
        "https://x.example/p",
        "//x.example/p",
        "/a/../b",
        "/a\nb",
        "/p?token={t}",
        "/p/{}",
        "/p/{0}",
        "/p/{a!r}",
    ],
)
def test_unsafe_or_malformed_templates(template: str) -> None:
    with pytest.raises(EcwidConfigError):
        PathTemplate(template)


def test_ids_from_a_column_or_the_position_and_must_be_unique() -> None:
    frame = pd.DataFrame({"sku": ["A", "B", "A"], "price": [1, 2, 3]})
    with pytest.raises(EcwidValidationError) as caught:
        decoded(BatchPlan(make_source(frame), RequestBuilder(path="/products", id_column="sku")))
    assert "row 2 (id 'A'), column 'id': duplicate id (first used by row 0)" in str(caught.value)
    plan = BatchPlan(make_source(frame), RequestBuilder(path="/products"))
    assert [r["id"] for chunk in decoded(plan) for r in chunk] == ["0", "1", "2"]


def test_get_and_delete_carry_no_body() -> None:
    frame = pd.DataFrame({"id": [1, 2], "action": ["DELETE", "PUT"], "price": [5.0, 6.0]})
    plan = BatchPlan(make_source(frame), RequestBuilder(path="/products/{id}", method_column="action"))
    requests = [r for chunk in decoded(plan) for r in chunk]
    assert "body" not in requests[0]
    assert requests[1]["body"] == {"price": 6.0}


def test_body_callable_problems_are_reported_on_their_row() -> None:
    frame = pd.DataFrame({"sku": ["A", "B"]})

    def body(row: dict[str, Any]) -> dict[str, Any]:
        if row["sku"] == "B":
            raise KeyError("cats")
        return {"sku": row["sku"]}

    with pytest.raises(
        EcwidValidationError, match=r"row 1 \(id '1'\), column 'body': the body callable raised KeyError"
    ):
        decoded(BatchPlan(make_source(frame), RequestBuilder(path="/products", body=body)))


def test_builder_configuration_errors() -> None:
    with pytest.raises(EcwidConfigError, match="either body_columns or a body callable"):
        RequestBuilder(path="/p", body_columns=["a"], body=lambda row: row)
    with pytest.raises(EcwidConfigError, match="null_values"):
        RequestBuilder(path="/p", null_values="zero")  # type: ignore[arg-type]  # wrong on purpose
    with pytest.raises(EcwidConfigError, match="path is required"):
        RequestBuilder(path=None).build(pd.DataFrame({"a": [1]}), 0, ProblemLog())


def test_records_keep_python_types() -> None:
    rows = [{"sku": "A", "quantity": 1}, {"sku": "B", "quantity": None}]
    plan = BatchPlan(make_source(rows), RequestBuilder(path="/products"))
    assert [r["body"] for chunk in decoded(plan) for r in chunk] == [{"sku": "A", "quantity": 1}, {"sku": "B"}]


def test_make_source_rejects_what_it_cannot_read() -> None:
    with pytest.raises(EcwidConfigError, match="must be a DataFrame"):
        make_source(42)
    with pytest.raises(EcwidConfigError, match="dicts only"):
        make_source([{"a": 1}, "b"])
    with pytest.raises(EcwidConfigError, match="format"):
        make_source("feed.xlsx")


def test_chunks_and_deduplication_keys() -> None:
    frame = pd.DataFrame({"sku": [f"S{n}" for n in range(7)]})
    plan = BatchPlan(make_source(frame), RequestBuilder(path="/products"), chunk_size=3)
    chunks = list(plan.chunks())
    assert [c.size for c in chunks] == [3, 3, 1]
    assert [c.first_row for c in chunks] == [0, 3, 6]
    keys = [deduplication_key("dag|run|task|-1", c) for c in chunks]
    assert len(set(keys)) == 3
    assert keys == [deduplication_key("dag|run|task|-1", c) for c in plan.chunks()]  # deterministic
    assert deduplication_key("dag|run2|task|-1", chunks[0]) != keys[0]
    changed = EncodedChunk(0, chunks[0].payload.replace(b"S0", b"S9"), chunks[0].size, 0)
    assert deduplication_key("dag|run|task|-1", changed) != keys[0]


frames = data_frames(
    columns=[
        column("sku", elements=st.text(min_size=1, max_size=8)),
        column("price", elements=st.floats(allow_infinity=False, width=64) | st.just(float("nan"))),
        column("quantity", elements=st.integers(-(2**53), 2**53)),
        column("enabled", elements=st.booleans()),
    ],
    index=range_indexes(min_size=0, max_size=60),
)


@given(frame=frames, chunk_size=st.integers(1, 25))
def test_every_row_comes_back_once_in_order(frame: pd.DataFrame, chunk_size: int) -> None:
    plan = BatchPlan(make_source(frame), RequestBuilder(path="/products", method="POST"), chunk_size)
    plan.validate()
    chunks = list(plan.chunks())
    assert all(1 <= chunk.size <= chunk_size for chunk in chunks)
    requests = [request for chunk in chunks for request in json.loads(chunk.payload)]
    assert [request["id"] for request in requests] == [str(n) for n in range(len(frame))]
    for request, (_, row) in zip(requests, frame.iterrows(), strict=True):
        body = request["body"]
        assert body["sku"] == row["sku"]
        assert body["quantity"] == row["quantity"]
        assert body["enabled"] == row["enabled"]
        if np.isnan(row["price"]):
            assert "price" not in body
        else:
            assert body["price"] == row["price"]
