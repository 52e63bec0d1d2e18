"""Inputs that used to fail with a raw exception naming no row, column, line or file (issue 11, item 9).

Each must fail with the provider's own error, saying where the problem is, before anything is sent.
"""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from airflow_provider_ecwid.batch import plan as plan_module
from airflow_provider_ecwid.batch.build import RequestBuilder
from airflow_provider_ecwid.batch.plan import BatchPlan
from airflow_provider_ecwid.batch.problems import EcwidValidationError
from airflow_provider_ecwid.batch.sources import make_source

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
                patch.setattr(plan_module, "check_columns", lambda *_: None)
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
