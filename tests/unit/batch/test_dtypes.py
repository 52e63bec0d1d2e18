"""Every column type a real feed has: the Arrow route writes the row route's bytes, and never a bad value."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import event, given
from hypothesis import strategies as st

from airflow_provider_ecwid.batch.build import RequestBuilder
from airflow_provider_ecwid.batch.plan import BatchPlan
from airflow_provider_ecwid.batch.problems import ProblemLog
from airflow_provider_ecwid.batch.sources import make_source
from airflow_provider_ecwid.batch.wire import WireRows
from airflow_provider_ecwid.errors import EcwidValidationError
from tests.unit.batch.arrow_route import arrow_encoded

INT64 = (-(2**63), 2**63 - 1)
#: Text with non-ASCII letters, quotes, backslashes and every control character (no lone surrogates: those
#: cannot be Arrow text, and the tests of problems have their own).
TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=8) | st.sampled_from(
    ['say "hi"', "back\\slash", "tab\tnew\nline\r", "bell\x07\x1f\x7f", "é ü 中 \u2028", ""]
)
FLOATS = st.floats(width=64) | st.sampled_from([0.1, 100.0, -0.0, 1e16, 1e-7, 5e-324, 1.7976931348623157e308, 1e15])
ZONES = ["UTC", "Europe/Berlin", "America/St_Johns", "Asia/Kathmandu"]
#: Nanoseconds within pandas' range of nanosecond timestamps, often whole seconds or microseconds.
NANOS = (
    st.integers(-(2**62), 2**62)
    | st.integers(-(9 * 10**9), 9 * 10**9).map(lambda n: n * 10**9)
    | st.integers(-(2**50), 2**50).map(lambda n: n * 1000)
)


def maybe(values: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.none() | values


def timestamps(nanos: list[int | None]) -> list[Any]:
    return [None if n is None else pd.Timestamp(n, unit="ns") for n in nanos]


def series_of(dtype: str) -> Callable[[list[Any]], pd.Series]:
    return lambda values: pd.Series(values, dtype=dtype)


#: name -> (strategy of one value, how a list of them becomes a column)
DTYPES: dict[str, tuple[st.SearchStrategy[Any], Callable[[list[Any]], pd.Series]]] = {
    **{
        name: (maybe(st.integers(*bounds)), series_of(name))
        for name, bounds in {
            "Int8": (-128, 127),
            "Int16": (-(2**15), 2**15 - 1),
            "Int32": (-(2**31), 2**31 - 1),
            "Int64": INT64,
            "UInt8": (0, 255),
            "UInt32": (0, 2**32 - 1),
            "UInt64": (0, 2**64 - 1),  # beyond 2**63 - 1: a problem
        }.items()
    },
    "Float64": (maybe(FLOATS), lambda v: pd.Series(v, dtype="Float64")),
    "Float32": (maybe(st.floats(width=32)), lambda v: pd.Series(v, dtype="Float32")),
    "boolean": (maybe(st.booleans()), lambda v: pd.Series(v, dtype="boolean")),
    "category of text": (maybe(TEXT), lambda v: pd.Series(v, dtype="category")),
    "category of ints": (maybe(st.integers(*INT64)), lambda v: pd.Series(v, dtype="category")),
    "datetime64": (maybe(NANOS), lambda v: pd.Series(timestamps(v), dtype="datetime64[ns]")),
    "datetime64 with zone": (
        st.tuples(maybe(NANOS), st.sampled_from(ZONES)),
        lambda v: (
            pd.Series(timestamps([n for n, _ in v]), dtype="datetime64[ns]")
            .dt.tz_localize("UTC")
            .dt.tz_convert(v[0][1])
        ),
    ),
    "datetime64[s]": (
        maybe(st.integers(-(10**10), 10**11)),
        lambda v: pd.Series(np.array([np.datetime64("NaT") if n is None else n for n in v], dtype="datetime64[s]")),
    ),
    "string": (maybe(TEXT), lambda v: pd.Series(v, dtype=pd.StringDtype("python"))),
    "string[pyarrow]": (maybe(TEXT), lambda v: pd.Series(v, dtype="string[pyarrow]")),
    "large_string": (maybe(TEXT), lambda v: pd.Series(v, dtype=pd.ArrowDtype(pa.large_string()))),
    "object text": (maybe(TEXT), lambda v: pd.Series(v, dtype=object)),
    "arrow int64": (maybe(st.integers(*INT64)), lambda v: pd.Series(v, dtype=pd.ArrowDtype(pa.int64()))),
    "arrow uint64": (maybe(st.integers(0, 2**64 - 1)), lambda v: pd.Series(v, dtype=pd.ArrowDtype(pa.uint64()))),
    "arrow float64": (maybe(FLOATS), lambda v: pd.Series(v, dtype=pd.ArrowDtype(pa.float64()))),
    "arrow bool": (maybe(st.booleans()), lambda v: pd.Series(v, dtype=pd.ArrowDtype(pa.bool_()))),
    "arrow timestamp[ms]": (
        maybe(st.integers(-(2**45), 2**45)),
        lambda v: pd.Series(pa.array(v, pa.timestamp("ms")), dtype=pd.ArrowDtype(pa.timestamp("ms"))),
    ),
    "arrow timestamp[us, UTC]": (
        maybe(st.integers(-(2**55), 2**55)),
        lambda v: pd.Series(pa.array(v, pa.timestamp("us", "UTC")), dtype=pd.ArrowDtype(pa.timestamp("us", "UTC"))),
    ),
    "arrow decimal": (
        maybe(st.decimals(-(10**9), 10**9, places=2, allow_nan=False)),
        lambda v: pd.Series(v, dtype=pd.ArrowDtype(pa.decimal128(12, 2))),
    ),
    "Decimal objects": (
        maybe(st.decimals(allow_nan=True, allow_infinity=True, places=None) | st.sampled_from([Decimal("1.10")])),
        lambda v: pd.Series(v, dtype=object),
    ),
    "list of ints": (
        maybe(st.lists(maybe(st.integers(-(2**64), 2**64)), max_size=4)),  # beyond 64 bits: a problem
        lambda v: pd.Series(v, dtype=object),
    ),
    "list of text": (maybe(st.lists(maybe(TEXT), max_size=4)), lambda v: pd.Series(v, dtype=object)),
    "list of floats": (maybe(st.lists(FLOATS, max_size=3)), lambda v: pd.Series(v, dtype=object)),
    "int arrays": (
        maybe(st.lists(st.integers(*INT64), max_size=4).map(lambda v: np.array(v, dtype=np.int64))),
        lambda v: pd.Series(v, dtype=object),
    ),
    "nested dicts": (
        maybe(
            st.dictionaries(TEXT, maybe(TEXT | FLOATS | st.integers(*INT64) | st.lists(TEXT, max_size=2)), max_size=3)
        ),
        lambda v: pd.Series(v, dtype=object),
    ),
}


@st.composite
def frames(draw: st.DrawFn) -> tuple[str, pd.DataFrame]:
    name = draw(st.sampled_from(sorted(DTYPES)))
    value, make = DTYPES[name]
    rows = draw(st.integers(1, 12))
    column = make(draw(st.lists(value, min_size=rows, max_size=rows)))
    frame = pd.DataFrame({"pid": np.arange(rows) + 1, "name": ["x"] * rows})
    frame["value"] = column.to_numpy() if column.dtype == object else column.array
    if draw(st.booleans()):
        frame = frame[["pid", "value"]]  # the column alone: a row without a value has no body
    return name, frame


def problems(builder: RequestBuilder, frame: pd.DataFrame, arrow: bool) -> list[tuple[int, str, str]] | int:
    """The validation pass's problems as (row, column, reason), or the number of requests when there is none."""
    with pytest.MonkeyPatch.context() as patch:
        if not arrow:
            patch.setattr(RequestBuilder, "arrow_shape", lambda *_: None)
        try:
            return BatchPlan(make_source(frame), builder, chunk_size=5).validate().requests
        except EcwidValidationError as err:
            return [(problem.row, problem.column, problem.reason) for problem in err.problems]


@given(case=frames(), null_values=st.sampled_from(["omit", "null"]))
def test_both_routes_write_the_same_bytes_for_every_column_type(
    case: tuple[str, pd.DataFrame], null_values: Any
) -> None:
    name, frame = case
    builder = RequestBuilder(path="/products/{pid}", method="PUT", null_values=null_values)
    found = ProblemLog()
    written = WireRows(builder.build(frame, 0, found)).fragment(0, len(frame))
    encoded = arrow_encoded(builder, frame, 0)
    if found.total:
        assert encoded is None, f"{name}: the Arrow route wrote a slice with problems: {found.shown}"
        event(f"{name}: problem reported")
    else:
        assert encoded is not None, f"{name}: the Arrow route left a sound slice to the row route"
        assert bytes(encoded.fragment(0, len(frame))) == written
        event(f"{name}: same bytes")
    assert problems(builder, frame, arrow=True) == problems(builder, frame, arrow=False)


@pytest.mark.parametrize("name", sorted(DTYPES))
def test_each_column_type_takes_the_arrow_route(name: str) -> None:
    """A sound column of each type, missing values included, is written by Arrow, as the row route writes it."""
    column = DTYPES[name][1](FIXED[name])
    frame = pd.DataFrame({"pid": np.arange(len(column)) + 1, "name": "x"})
    frame["value"] = column.to_numpy() if column.dtype == object else column.array
    builder = RequestBuilder(path="/products/{pid}", method="PUT")
    encoded = arrow_encoded(builder, frame, 0)
    assert encoded is not None
    assert bytes(encoded.fragment(0, len(frame))) == WireRows(builder.build(frame, 0, ProblemLog())).fragment(0, 3)


FIXED: dict[str, list[Any]] = {
    **{name: [1, None, 100] for name in ("Int8", "Int16", "Int32", "Int64", "UInt8", "UInt32", "UInt64")},
    "Float64": [1.5, None, 1e16],
    "Float32": [0.1, None, 3.0],
    "boolean": [True, None, False],
    "category of text": ["a", None, 'é "b"'],
    "category of ints": [3, None, 3],
    "datetime64": [10**18 + 5, None, 10**18 + 5000],
    "datetime64 with zone": [(10**18, "Europe/Berlin"), (None, "Europe/Berlin"), (15 * 10**17, "Europe/Berlin")],
    "datetime64[s]": [0, None, -(10**9)],
    "string": ["a\n", None, "中"],
    "string[pyarrow]": ["a\n", None, "中"],
    "large_string": ["a\n", None, "中"],
    "object text": ["a\n", None, "中"],
    "arrow int64": [1, None, -(2**63)],
    "arrow uint64": [1, None, 2**63 - 1],
    "arrow float64": [1.25, None, -0.0],
    "arrow bool": [True, None, False],
    "arrow timestamp[ms]": [1, None, -1],
    "arrow timestamp[us, UTC]": [1, None, 10**15],
    "arrow decimal": [Decimal("1.10"), None, Decimal("-3.00")],
    "Decimal objects": [Decimal("1.10"), None, Decimal("1E+3")],
    "list of ints": [[1, None], None, []],
    "list of text": [["a", 'b"'], None, []],
    "list of floats": [[1.0, 2.5], None, []],
    "int arrays": [np.array([1, 2]), None, np.array([], dtype=np.int64)],
    "nested dicts": [{"a": [1, "b"]}, None, {"c": {"d": 1.5}}],
}


@pytest.mark.parametrize(
    ("value", "problem"),
    [
        ({"a": 2**63}, "beyond 64-bit"),
        ({"a": [1, -(2**64)]}, "beyond 64-bit"),
        ({"a": float("inf")}, "infinity"),
        ({"a": b"raw"}, "binary data"),
        ({1: "a"}, "dict keys must be strings"),
        ({"a": "x\udc80"}, "surrogate"),
        ({"a": float("nan"), "b": (1, 2), "c": np.int64(3), "d": Decimal("1.10")}, None),
        ({"a": 1234567890123456789, "b": "9999999999999999999 as text"}, None),
    ],
)
def test_nested_values_msgspec_would_change_take_the_careful_way(value: Any, problem: str | None) -> None:
    """msgspec writes these otherwise than the row route (null for NaN, a key as text, base64...): both routes
    report the same problem, or write the same bytes."""
    frame = pd.DataFrame({"pid": [1, 2], "value": pd.Series([{"plain": 1}, value], dtype=object)})
    builder = RequestBuilder(path="/products/{pid}", method="PUT")
    found = ProblemLog()
    written = WireRows(builder.build(frame, 0, found)).fragment(0, 2)
    encoded = arrow_encoded(builder, frame, 0)
    if problem is None:
        assert not found.total
        assert encoded is not None
        assert bytes(encoded.fragment(0, 2)) == written
    else:
        assert encoded is None
        assert [(p.row, p.column) for p in found.shown] == [(1, "value")]
        assert problem in found.shown[0].reason
