"""Inputs that used to fail with a raw exception naming no row, column, line or file (issue 11, item 9).

Each must fail with the provider's own error, saying where the problem is, before anything is sent.
"""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest

from airflow_provider_ecwid.batch.build import RequestBuilder
from airflow_provider_ecwid.batch.plan import BatchPlan
from airflow_provider_ecwid.batch.sources import make_source
from airflow_provider_ecwid.errors import EcwidConfigError, EcwidInputError, EcwidValidationError
from tests.unit.batch.arrow_route import arrow_checked

LONE = "\ud800"


def validate(data: Any, **options: Any) -> None:
    options.setdefault("path", "/products")
    BatchPlan(make_source(data), RequestBuilder(**options)).validate()


def problems_of(data: Any, **options: Any) -> list[tuple[int, str]]:
    """(row, column) of every problem, found by the validation pass with and without the Arrow check."""
    found = []
    for arrow_check in (True, False):
        with pytest.MonkeyPatch.context() as patch:
            if not arrow_check:
                patch.setattr(RequestBuilder, "arrow_shape", lambda *_: None)
            with pytest.raises(EcwidValidationError) as caught:
                validate(data, **options)
        assert "surrogate" in str(caught.value)
        found.append([(problem.row, problem.column) for problem in caught.value.problems])
    assert found[0] == found[1]
    return found[0]


# -- a lone surrogate in text: a problem of its row and column ---------------------------------------------


def test_a_lone_surrogate_in_a_body_column_is_a_problem_of_its_row() -> None:
    frame = pd.DataFrame({"sku": ["A", "B" + LONE], "name": ["x", "y"]}, dtype=object)
    assert problems_of(frame) == [(1, "sku")]


def test_a_lone_surrogate_in_a_python_string_column() -> None:
    frame = pd.DataFrame({"sku": pd.Series(["A", "B", "C" + LONE], dtype=pd.StringDtype("python"))})
    assert problems_of(frame) == [(2, "sku")]


def test_a_lone_surrogate_in_records_nested_values_and_keys() -> None:
    records = [{"sku": "A", "name": "x"}, {"sku": "B", "attributes": [{"name": "n" + LONE}]}]
    assert problems_of(records) == [(1, "attributes")]
    records = [{"sku": "A", "tax": {"k" + LONE: 1}}]
    assert problems_of(records) == [(0, "tax")]


def test_a_lone_surrogate_in_a_path_value() -> None:
    frame = pd.DataFrame({"sku": ["A", "\udc80B"]}, dtype=object)
    assert problems_of(frame, path="/products?sku={sku}", method="GET") == [(1, "sku")]


def test_a_lone_surrogate_in_a_request_id() -> None:
    frame = pd.DataFrame({"pid": [1, 2], "sku": pd.Series(["A", "B" + LONE], dtype=object), "name": ["x", "y"]})
    options = {"path": "/products/{pid}", "method": "PUT", "id_column": "sku", "body_columns": ["name"]}
    assert problems_of(frame, **options) == [(1, "sku")]


def test_ids_that_are_merely_not_ascii_keep_the_arrow_check() -> None:
    frame = pd.DataFrame({"pid": [1, 2], "sku": pd.Series(["é1", "中2"], dtype=object), "name": ["x", "y"]})
    builder = RequestBuilder(path="/products/{pid}", method="PUT", id_column="sku", body_columns=["name"])
    assert arrow_checked(builder, frame) is not None
    assert arrow_checked(builder, frame.assign(sku=pd.Series(["é1", "2" + LONE], dtype=object))) is None


def test_a_lone_surrogate_in_ready_requests() -> None:
    requests = [
        {"id": "a", "path": "/products/1", "method": "PUT", "body": {"name": "x" + LONE}},
        {"id": "b" + LONE, "path": "/products/2", "method": "DELETE"},
        {"id": "c", "path": "/products?sku=" + LONE, "method": "GET"},
    ]
    assert list(dict.fromkeys(problems_of(requests))) == [(0, "body"), (1, "id"), (2, "path")]


def test_a_lone_surrogate_in_a_method_column() -> None:
    frame = pd.DataFrame({"m": ["PUT", "GET" + LONE], "pid": [1, 2], "name": ["x", "y"]}, dtype=object)
    with pytest.raises(EcwidValidationError, match=r"row 1 \(id '1'\), column 'm': method"):
        validate(frame, path="/products/{pid}", method_column="m")


# -- column names ----------------------------------------------------------------------------------------


def test_duplicate_column_names_are_refused_by_name() -> None:
    frame = pd.DataFrame([["A", "x", "y"]], columns=["sku", "name", "name"])
    with pytest.raises(EcwidConfigError, match=r"'name'.*more than once"):
        validate(frame)


@pytest.mark.parametrize("options", [{}, {"body_columns": ["sku"]}])
def test_integer_column_names_are_refused_clearly(options: dict[str, Any]) -> None:
    frame = pd.DataFrame({"sku": ["A"], 0: ["x"]})
    with pytest.raises(EcwidConfigError, match=r"column names must be text.*0 \(int\)"):
        validate(frame, **options)
    with pytest.raises(EcwidConfigError, match=r"column names must be text.*7 \(int\)"):
        validate([{"sku": "A", 7: "x"}], **options)


def test_a_multiindex_of_columns_is_refused_clearly() -> None:
    frame = pd.DataFrame([["A", "x"]], columns=pd.MultiIndex.from_tuples([("product", "sku"), ("product", "name")]))
    with pytest.raises(EcwidConfigError, match="MultiIndex"):
        validate(frame)


def test_a_column_name_that_is_not_valid_unicode_is_refused() -> None:
    frame = pd.DataFrame([["A", "x"]], dtype=object)
    frame.columns = pd.Index(["sku", "na" + LONE], dtype=object)
    with pytest.raises(EcwidConfigError, match="surrogate"):
        validate(frame)


# -- files ------------------------------------------------------------------------------------------------


def test_a_truncated_gzip_csv_is_an_error_naming_the_file(tmp_path: Path) -> None:
    rows = b"".join(b"S%d,name %d\n" % (n, n) for n in range(20_000))
    packed = gzip.compress(b"sku,name\n" + rows)
    path = tmp_path / "feed.csv.gz"
    path.write_bytes(packed[: len(packed) // 2])
    with pytest.raises(EcwidInputError, match=r"feed\.csv\.gz.*(ended|truncated)"):
        validate(str(path))


@pytest.mark.parametrize(
    ("lines", "where"),
    [
        ('{"sku": "A"}\n["B", 1]\n{"sku": "C"}\n', r"line 2 .*array"),
        ('{"sku": "A"}\n\n{"sku": "B"}\n7\n', r"line 4 .*number"),
        ('["B", 1]\n', r"line 1 .*array"),
        ('{"sku": "A"}\nnull\n', r"line 2 .*null"),
        ('{"sku": "A"}\n"text"\n', r"line 2 .*string"),
        ('{"sku": "A"}\n{"sku": \n', r"line 2 .*not valid JSON"),
    ],
)
def test_a_json_lines_line_that_is_not_an_object_is_named(tmp_path: Path, lines: str, where: str) -> None:
    path = tmp_path / "feed.jsonl"
    path.write_text(lines)
    with pytest.raises(EcwidInputError, match=rf"feed\.jsonl.*{where}"):
        validate(str(path))
    gzipped = tmp_path / "feed.jsonl.gz"
    gzipped.write_bytes(gzip.compress(lines.encode()))
    with pytest.raises(EcwidInputError, match=rf"feed\.jsonl\.gz.*{where}"):
        validate(str(gzipped))


def test_json_lines_keys_that_look_like_numbers_stay_text(tmp_path: Path) -> None:
    path = tmp_path / "feed.jsonl"
    path.write_text('{"sku": "A", "0": "zero"}\n{"sku": "B", "0": "one"}\n')
    plan = BatchPlan(make_source(str(path)), RequestBuilder(path="/products"))
    plan.validate()
    payload = b"".join(chunk.payload for chunk in plan.chunks())
    assert b'"0":"zero"' in payload


@pytest.mark.parametrize("name_dtype", ["str", "object"])
def test_well_formed_inputs_pass_and_are_sent_as_they_are(name_dtype: str) -> None:
    frame = pd.DataFrame({"sku": ["A", "B"], "name": ["é ü 中", "x"], "quantity": np.array([1, 2])})
    plan = BatchPlan(make_source(frame.astype({"name": name_dtype})), RequestBuilder(path="/products"))
    plan.validate()  # raises EcwidValidationError on any problem
    bodies = [item["body"] for chunk in plan.chunks() for item in json.loads(chunk.payload)]
    assert bodies == [{"sku": "A", "name": "é ü 中", "quantity": 1}, {"sku": "B", "name": "x", "quantity": 2}]
