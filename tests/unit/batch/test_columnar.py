"""The Arrow route against the row-by-row route: the same requests, and never a slice that has a problem."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from airflow_provider_ecwid.batch.build import RequestBuilder
from airflow_provider_ecwid.batch.chunks import iter_chunks
from airflow_provider_ecwid.batch.columnar import EncodedRows
from airflow_provider_ecwid.batch.plan import BatchPlan
from airflow_provider_ecwid.batch.problems import ProblemLog
from airflow_provider_ecwid.batch.sources import make_source
from airflow_provider_ecwid.batch.wire import WireRows
from airflow_provider_ecwid.errors import EcwidConfigError, EcwidValidationError
from tests.unit.batch.arrow_route import arrow_checked, arrow_encoded

RARE_CONTROL = "".join(map(chr, [*range(0, 9), 11, 12, *range(14, 32)]))
TEXT = (
    st.text(max_size=12)
    | st.text(st.characters(exclude_characters=RARE_CONTROL, exclude_categories=["Cs"]), max_size=12)
    | st.sampled_from(['say "hi"', "back\\slash", "two\nlines\r\n\ttab", "é ü 中", ""])
)
SKUS = st.from_regex(r"[A-Za-z0-9_-][A-Za-z0-9_.-]{0,8}", fullmatch=True)
FLOATS = st.floats(width=64) | st.sampled_from([0.1, 1e16, 1e-7, -0.0, 100.0, 5e-324, 1.7976931348623157e308])


def row_by_row(builder: RequestBuilder, frame: pd.DataFrame, first_row: int = 0) -> tuple[list[Any], ProblemLog]:
    problems = ProblemLog()
    rows = WireRows(builder.build(frame, first_row, problems))
    return json.loads(b"[" + rows.fragment(0, len(rows)) + b"]"), problems


def decoded(rows: EncodedRows, start: int = 0, stop: int | None = None) -> list[Any]:
    values: list[Any] = json.loads(b"[" + bytes(rows.fragment(start, len(rows) if stop is None else stop)) + b"]")
    return values


@st.composite
def frames(draw: st.DrawFn) -> pd.DataFrame:
    rows = draw(st.integers(1, 30))
    columns = {
        "pid": draw(st.lists(st.integers(-3, 2**62), min_size=rows, max_size=rows)),
        "sku": draw(st.lists(SKUS | TEXT, min_size=rows, max_size=rows)),
        "name": draw(st.lists(TEXT | st.none(), min_size=rows, max_size=rows)),
        "price": draw(st.lists(FLOATS, min_size=rows, max_size=rows)),
        "quantity": draw(st.lists(st.integers(-(2**63), 2**63 - 1), min_size=rows, max_size=rows)),
        "enabled": draw(st.lists(st.booleans(), min_size=rows, max_size=rows)),
    }
    frame = pd.DataFrame(columns)
    dtype = draw(st.sampled_from(["str", "object"]))
    for name in ("sku", "name"):
        frame[name] = frame[name].astype(object) if dtype == "object" else frame[name].astype("str")
    shuffled: pd.DataFrame = frame[draw(st.permutations(list(frame.columns)))]
    return shuffled


BUILDERS = [
    {"path": "/products/{pid}", "method": "PUT"},
    {"path": "/products/{pid}", "method": "PUT", "id_column": "sku"},
    {"path": "/products/{pid}", "method": "PUT", "id_column": "pid", "null_values": "null"},
    {"path": "/products?sku={sku}", "method": "GET", "id_column": "sku"},
    {"path": "/products/{pid}/combinations/{sku}", "method": "DELETE"},
    {"path": "/products", "method": "POST", "body_columns": ["name", "price"]},
    {"path": "/products", "method": "POST", "body_columns": ["price"], "null_values": "null"},
]


@given(frame=frames(), options=st.sampled_from(BUILDERS), first_row=st.integers(0, 10**6))
def test_the_arrow_route_writes_what_the_row_by_row_route_writes(
    frame: pd.DataFrame, options: dict[str, Any], first_row: int
) -> None:
    builder = RequestBuilder(**options)
    expected, problems = row_by_row(builder, frame, first_row)
    encoded = arrow_encoded(builder, frame, first_row)
    if problems.total:
        assert encoded is None, f"the Arrow route encoded a slice with problems: {problems.shown}"
    event("left to the builder" if encoded is None else "encoded by Arrow")
    if encoded is None:
        return
    assert len(encoded) == len(frame)
    assert decoded(encoded) == expected
    middle = len(frame) // 2
    assert decoded(encoded, 0, middle) + decoded(encoded, middle) == expected


def plain_frame(rows: int = 5) -> pd.DataFrame:
    frame: pd.DataFrame = pd.DataFrame(
        {
            "ecwid_id": np.arange(rows) + 100,
            "sku": [f"S-{n}" for n in range(rows)],
            "name": ['say "hi"\n'] + [None] * (rows - 1),
            "price": [np.nan] + [1.5] * (rows - 1),
            "stock": np.arange(rows),
            "enabled": [True] * rows,
        }
    )
    return frame


def test_plain_columns_take_the_arrow_route() -> None:
    builder = RequestBuilder(path="/products/{ecwid_id}", method="PUT")
    encoded = arrow_encoded(builder, plain_frame(), 7)
    assert encoded is not None
    requests = decoded(encoded)
    assert requests[0] == {
        "id": "7",
        "path": "/products/100",
        "method": "PUT",
        "body": {"sku": "S-0", "name": 'say "hi"\n', "stock": 0, "enabled": True},
    }
    assert requests[1]["body"] == {"sku": "S-1", "price": 1.5, "stock": 1, "enabled": True}
    assert requests == row_by_row(builder, plain_frame(), 7)[0]


def test_a_first_body_column_with_gaps_is_cut_right() -> None:
    frame = plain_frame()[["ecwid_id", "price", "name"]]
    builder = RequestBuilder(path="/products/{ecwid_id}", method="PUT")
    encoded = arrow_encoded(builder, frame, 0)
    assert encoded is not None
    assert [request["body"] for request in decoded(encoded)] == [{"name": 'say "hi"\n'}] + [{"price": 1.5}] * 4


@pytest.mark.parametrize(
    ("options", "change"),
    [
        ({"method_column": "m"}, lambda f: f.assign(m="PUT")),
        ({"body": lambda row: {"sku": row["sku"]}}, lambda f: f),
        ({}, lambda f: f.assign(price=[1.0, np.inf, 1.0, 1.0, 1.0])),
        ({}, lambda f: f.assign(big=pd.Series([2**70, 1, 2, 3, 4], dtype=object))),
        ({}, lambda f: f.assign(big=np.array([2**63, 1, 2, 3, 4], dtype=np.uint64))),
        ({}, lambda f: f.assign(ecwid_id=[1.5, 2, 3, 4, 5])),
        ({"id_column": "sku"}, lambda f: f.assign(sku=["a", " ", "c", "d", "e"])),
        ({"body_columns": ["name", "price"]}, lambda f: f.assign(price=[1.0, np.nan, 1, 1, 1])),  # row 1: no body
        ({"body_columns": ["nowhere"]}, lambda f: f),
    ],
)
def test_what_the_arrow_route_leaves_to_the_builder(options: dict[str, Any], change: Any) -> None:
    builder = RequestBuilder(**{"path": "/products/{ecwid_id}", "method": "PUT", **options})
    try:
        assert arrow_encoded(builder, change(plain_frame()), 0) is None
    except EcwidConfigError:
        assert options == {"body_columns": ["nowhere"]}  # a column that is not there: said at once


@pytest.mark.parametrize(
    ("options", "change"),
    [
        ({}, lambda f: f.assign(price=f["price"].astype(np.float32))),
        ({}, lambda f: f.assign(when=pd.Timestamp("2026-01-01"))),
        ({}, lambda f: f.assign(mixed=pd.Series(["a", 1, None, "b", 2.5], dtype=object))),
        ({}, lambda f: f.assign(name="bell \x07")),
        ({}, lambda f: f.assign(ecwid_id=f["ecwid_id"].astype(float))),
        ({"path": "/products?sku={sku}"}, lambda f: f.assign(sku=["a b", "c", "d", "e", "f"])),
    ],
)
def test_columns_the_arrow_route_now_takes(options: dict[str, Any], change: Any) -> None:
    builder = RequestBuilder(**{"path": "/products/{ecwid_id}", "method": "PUT", **options})
    frame = change(plain_frame())
    encoded = arrow_encoded(builder, frame, 0)
    assert encoded is not None
    assert bytes(encoded.fragment(0, len(encoded))) == WireRows(builder.build(frame, 0, ProblemLog())).fragment(0, 5)


def test_chunks_cut_across_both_kinds_of_slices() -> None:
    builder = RequestBuilder(path="/products/{ecwid_id}", method="PUT")
    fast = arrow_encoded(builder, plain_frame(5), 0)
    assert fast is not None
    slow = WireRows(builder.build(plain_frame(4), 5, ProblemLog()))
    chunks = list(iter_chunks([fast, slow, fast], chunk_size=3))
    assert [(chunk.index, chunk.size, chunk.first_row) for chunk in chunks] == [
        (0, 3, 0),
        (1, 3, 3),
        (2, 3, 6),
        (3, 3, 9),
        (4, 2, 12),
    ]
    ids = [request["id"] for chunk in chunks for request in json.loads(chunk.payload)]
    assert ids == ["0", "1", "2", "3", "4", "5", "6", "7", "8", "0", "1", "2", "3", "4"]


def summary_or_problems(frame: pd.DataFrame, options: dict[str, Any]) -> Any:
    plan = BatchPlan(make_source(frame), RequestBuilder(**options), chunk_size=7)
    try:
        summary = plan.validate()
    except EcwidValidationError as err:
        return str(err)
    return summary.requests, summary.chunks, dict(summary.by_pattern), summary.first_requests


@given(frame=frames(), options=st.sampled_from(BUILDERS))
def test_the_arrow_validation_pass_finds_what_the_row_by_row_pass_finds(
    frame: pd.DataFrame, options: dict[str, Any]
) -> None:
    frame = pd.concat([frame, frame.iloc[:2]], ignore_index=True)  # repeated ids, where ids come from a column
    builder = RequestBuilder(**options)
    event("checked by Arrow" if arrow_checked(builder, frame) is not None else "checked row by row")
    found = summary_or_problems(frame, options)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(RequestBuilder, "arrow_shape", lambda *_: None)
        assert summary_or_problems(frame, options) == found


def test_repeated_ids_are_found_on_the_arrow_route() -> None:
    frame = plain_frame().assign(sku=["A", "B", "A", "C", "B"])
    builder = RequestBuilder(path="/products/{ecwid_id}", method="PUT", id_column="sku")
    assert arrow_checked(builder, frame) is not None
    with pytest.raises(EcwidValidationError, match=r"row 2 \(id 'A'\).*duplicate id \(first used by row 0\)"):
        BatchPlan(make_source(frame), builder).validate()


@pytest.mark.parametrize("arrow_check", [True, False])
@pytest.mark.parametrize(
    "data",
    [
        pd.DataFrame({"sku": ["A", "B"], "quantity": np.array([1, 2**63], dtype=np.uint64)}),
        pd.DataFrame({"sku": ["A", "B"], "quantity": pd.Series([1, 2**64 - 1], dtype=object)}),
        [{"sku": "A", "quantity": 1}, {"sku": "B", "quantity": 2**63}],
        [{"sku": "A", "quantity": 1}, {"sku": "B", "quantity": np.uint64(2**63 + 1)}],
    ],
    ids=["uint64 column", "object column", "records", "numpy scalar"],
)
def test_integers_beyond_signed_64_bits_are_refused_not_sent(data: Any, arrow_check: bool) -> None:
    plan = BatchPlan(make_source(data), RequestBuilder(path="/products", method="POST"))
    with pytest.MonkeyPatch.context() as patch:
        if not arrow_check:
            patch.setattr(RequestBuilder, "arrow_shape", lambda *_: None)
        with pytest.raises(EcwidValidationError, match=r"row 1 \(id '1'\), column 'quantity': .*beyond 64-bit"):
            plan.validate()
    with pytest.raises(EcwidValidationError, match="beyond 64-bit"):
        list(plan.chunks())  # the encoding pass refuses it too, should validate() have been skipped


def test_unsigned_columns_within_signed_64_bits_take_the_arrow_route() -> None:
    frame = pd.DataFrame({"sku": ["A", "B"], "quantity": np.array([1, 2**63 - 1], dtype=np.uint64)})
    builder = RequestBuilder(path="/products", method="POST")
    encoded = arrow_encoded(builder, frame, 0)
    assert encoded is not None
    assert [request["body"]["quantity"] for request in decoded(encoded)] == [1, 2**63 - 1]
