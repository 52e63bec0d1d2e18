"""Rows -> validated Ecwid batch requests.

A :class:`RequestBuilder` knows how one input row becomes one request: the path template, the method (fixed
or from a column), the body (remaining columns, chosen columns, or a callable) and the id (a column or the
row's position). It works on a DataFrame slice at a time, column by column, and reports every problem with
its row, column and reason. Rows are validated here only (ready requests in :mod:`~.ready`; what a path
or a method may be, for both, in :mod:`~.paths`); its requests are :class:`~.models.BatchRequest` objects,
or, on the Arrow route, their bytes.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
import pandas as pd
import pyarrow as pa

from airflow_provider_ecwid.batch.chunks import RequestRows
from airflow_provider_ecwid.batch.columnar import (
    ColumnarShape,
    encode_columns,
    endpoint_counts,
    validate_columns,
)
from airflow_provider_ecwid.batch.fields import PathTemplate, path_field
from airflow_provider_ecwid.batch.models import BatchRequest
from airflow_provider_ecwid.batch.paths import BODYLESS, check_method, method_problem
from airflow_provider_ecwid.batch.problems import ProblemLog, RowProblem
from airflow_provider_ecwid.batch.ready import REQUEST_KEYS, id_text, ready_requests, ready_rows
from airflow_provider_ecwid.batch.values import MISSING, UnsafeValue, column_values, json_safe, text_problem
from airflow_provider_ecwid.batch.wire import WireRows, body_struct
from airflow_provider_ecwid.errors import EcwidConfigError

NullValues = Literal["omit", "null"]
BodyBuilder = Callable[[dict[str, Any]], Mapping[str, Any]]


@dataclass
class SliceCheck:
    """
    What the validation pass learns of one slice.

    :param requests: how many requests it makes.
    :param patterns: its requests per ``METHOD path-pattern``.
    :param ids: its request ids (only read when ids come from a column: row positions cannot repeat).
    """

    requests: int
    patterns: dict[str, int]
    ids: Iterable[str | None]


def request_patterns(requests: list[BatchRequest]) -> dict[str, int]:
    """Requests counted by ``METHOD path-pattern``."""
    if not requests:
        return {}
    paths = pa.array([request.path for request in requests], pa.large_string())
    return endpoint_counts(pa.array([request.method for request in requests], pa.large_string()), paths)


class RequestBuilder:
    """
    Turns input rows into batch requests.

    :param path: the path template, e.g. ``/products/{ecwid_id}``; its fields are columns of the input.
    :param method: the HTTP method of every request (ignored when ``method_column`` is set).
    :param method_column: a column holding each row's method.
    :param body_columns: the columns that make the body; default every column not used by the path template
        or the method column (the id column stays in the body: it is often the SKU).
    :param body: a callable ``row -> dict`` that makes each body (for nested bodies); it receives the row's
        JSON-safe values with missing ones left out.
    :param id_column: a column holding each request's id; default the row's position in the input.
    :param null_values: ``"omit"`` (default) leaves fields with no value out of the body; ``"null"`` sends null.
    """

    def __init__(
        self,
        *,
        path: str | None,
        method: str = "POST",
        method_column: str | None = None,
        body_columns: Sequence[str] | None = None,
        body: BodyBuilder | None = None,
        id_column: str | None = None,
        null_values: NullValues = "omit",
    ) -> None:
        self.template = PathTemplate(path) if path is not None else None
        self.method = check_method(method) if method_column is None else str(method).strip().upper()
        if null_values not in ("omit", "null"):
            raise EcwidConfigError(f"null_values must be 'omit' or 'null', got {null_values!r}")
        if body is not None and body_columns is not None:
            raise EcwidConfigError("give either body_columns or a body callable, not both")
        if body is not None and not callable(body):
            raise EcwidConfigError("body must be a callable row -> dict")
        self.method_column = method_column
        self.body_columns = list(body_columns) if body_columns is not None else None
        self.body_builder = body
        self.id_column = id_column
        self.null: Any = MISSING if null_values == "omit" else None

    # -- one slice: by Arrow when it can, else row by row ----------------------------------------------

    def arrow_shape(self, frame: pd.DataFrame) -> ColumnarShape | None:
        """
        The one check of whether a slice may take the Arrow route: what that route needs to know, or None
        (no path template, a method column, a body callable, no rows). The route itself still hands back any
        slice that has something to report.

        :param frame: the rows.
        """
        if self.template is None or self.method_column is not None or self.body_builder is not None or frame.empty:
            return None
        self._require_columns(frame)
        return ColumnarShape(self.template, self.method, self.id_column, self.body_names(frame), self.null is None)

    def encode(self, frame: pd.DataFrame, first_row: int, problems: ProblemLog) -> RequestRows:
        """
        A slice's requests, encoded: by Arrow when it can, else row by row (which reports every problem).

        :param frame: the rows.
        :param first_row: the position of the slice's first row in the whole input.
        :param problems: where problems are reported.
        """
        shape = self.arrow_shape(frame)
        encoded = None if shape is None else encode_columns(shape, frame, first_row)
        if encoded is not None:
            return encoded
        return WireRows(self.build(frame, first_row, problems))

    def check(self, frame: pd.DataFrame, first_row: int, problems: ProblemLog) -> SliceCheck:
        """
        The validation pass over a slice: by column when the Arrow route takes it, else row by row.

        :param frame: the rows.
        :param first_row: the position of the slice's first row in the whole input.
        :param problems: where problems are reported.
        """
        shape = self.arrow_shape(frame)
        if shape is not None:
            ids = None if self.id_column is None else self.request_ids(frame, first_row)
            checked = validate_columns(shape, frame, ids)
            if checked is not None:
                return SliceCheck(checked.requests, checked.patterns, ids or [])
        requests = self.build(frame, first_row, problems, make=False)
        return SliceCheck(len(requests), request_patterns(requests), [request.id for request in requests])

    # -- rows ------------------------------------------------------------------------------------------

    def build(
        self, frame: pd.DataFrame, first_row: int, problems: ProblemLog, *, make: bool = True
    ) -> list[BatchRequest]:
        """
        Check a slice of rows and return its requests; problems go to ``problems``.

        :param frame: the rows.
        :param first_row: the position of the slice's first row in the whole input.
        :param problems: where problems are reported.
        :param make: False to check only: the requests come back without bodies (the validation pass).
        """
        if self.template is None:
            if {"path", "method"} <= set(frame.columns) and set(frame.columns) <= REQUEST_KEYS:
                return ready_requests(ready_rows(frame), first_row, problems)  # a file of ready requests
            raise EcwidConfigError("path is required to turn rows into requests, e.g. path='/products/{ecwid_id}'")
        self._require_columns(frame)
        ids = self.request_ids(frame, first_row)

        def report(column: str) -> Callable[[int, str], None]:
            return lambda position, reason: problems.add(
                RowProblem(first_row + position, ids[position], column, reason)
            )

        if self.id_column is not None:
            for position, request_id in enumerate(ids):
                if request_id is None:
                    report(self.id_column)(position, "the request id is empty")
                elif not request_id.isascii() and (problem := text_problem(request_id)) is not None:
                    report(self.id_column)(position, f"the request id {problem}")
                    ids[position] = None  # reported; the request must still encode
        methods = self._methods(frame, report)
        paths = self._paths(frame, report)
        bodies = self._bodies(frame, methods, report, make)  # checks every value, builds only when make
        return [
            BatchRequest(id=request_id, path=path, method=method, body=body)
            for request_id, path, method, body in zip(ids, paths, methods, bodies, strict=True)
        ]

    def _require_columns(self, frame: pd.DataFrame) -> None:
        assert self.template is not None
        named = [("path template", name) for name in self.template.fields]
        named += [("method_column", self.method_column)] if self.method_column else []
        named += [("id_column", self.id_column)] if self.id_column else []
        named += [("body_columns", name) for name in self.body_columns or []]
        for role, name in named:
            if name not in frame.columns:
                raise EcwidConfigError(
                    f"column {name!r} (from {role}) is not in the input; its columns are {list(frame.columns)}"
                )

    def request_ids(self, frame: pd.DataFrame, first_row: int) -> list[str | None]:
        """Each row's request id: from the id column (None where it is unusable), else the row's position."""
        if self.id_column is None:
            return list(map(str, range(first_row, first_row + len(frame))))
        series = frame[self.id_column]
        if series.dtype.kind in "iu" and not isinstance(series.dtype, pd.api.extensions.ExtensionDtype):
            return list(map(str, series.to_numpy().tolist()))
        values = series.tolist()
        if isinstance(series.dtype, pd.StringDtype):  # only empty-looking ids go value by value
            suspect = series.isna() | series.str.strip().eq("") | series.str.contains("[\x1c-\x1f]", regex=True)
            for position in np.flatnonzero(suspect.to_numpy(dtype=bool, na_value=True)).tolist():
                values[position] = id_text(values[position])
            return values
        return [id_text(value) for value in values]

    def _methods(self, frame: pd.DataFrame, report: Callable[[str], Callable[[int, str], None]]) -> list[str]:
        if self.method_column is None:
            return [self.method] * len(frame)
        methods = []
        on_problem = report(self.method_column)
        for position, value in enumerate(frame[self.method_column].tolist()):
            if (problem := method_problem(value)) is not None:
                on_problem(position, problem)
                methods.append("")  # reported; the request must still encode
            else:
                methods.append(value.strip().upper())
        return methods

    def _paths(self, frame: pd.DataFrame, report: Callable[[str], Callable[[int, str], None]]) -> list[str]:
        assert self.template is not None
        columns = []
        for name in self.template.fields:
            texts, problems = path_field(frame[name])
            for position, reason in problems:
                report(name)(position, reason)
            columns.append(texts.to_pylist())
        return self.template.render(columns, len(frame))

    def body_names(self, frame: pd.DataFrame) -> list[str]:
        """The columns that make each row's body."""
        if self.body_columns is not None:
            return self.body_columns
        assert self.template is not None
        used = {*self.template.fields, self.method_column}  # the id column (e.g. sku) stays in the body
        return [str(name) for name in frame.columns if name not in used]

    def _bodies(
        self,
        frame: pd.DataFrame,
        methods: list[str],
        report: Callable[[str], Callable[[int, str], None]],
        make: bool,
    ) -> list[Any]:
        rows = len(frame)
        if self.method_column is None and self.method in BODYLESS:
            return [MISSING] * rows
        names = self.body_names(frame)
        converted = [column_values(frame[name], report(name), null=self.null) for name in names]
        if self.body_builder is not None:
            bodies, empty = self._built_bodies(names, converted, report("body"))
        else:
            empty = np.ones(rows, dtype=bool)
            for _values, missing in converted:
                empty &= missing
            bodies = list(map(body_struct(tuple(names)), *(values for values, _ in converted))) if make else []
            if not names or not make:
                bodies = [MISSING] * rows
        if self.method_column is None:
            needs_body = np.full(rows, self.method in ("POST", "PUT"), dtype=bool)
        else:
            needs_body = np.array([method in ("POST", "PUT") for method in methods], dtype=bool)
        on_problem = report("body")
        for position in np.flatnonzero(empty & needs_body).tolist():
            on_problem(position, f"{methods[position]} needs a body, and every body column of this row is empty")
        if not make:
            return [MISSING] * rows  # the validation pass: every value was checked above, nothing is kept
        if self.method_column is not None:
            bodies = [MISSING if method in BODYLESS else body for method, body in zip(methods, bodies, strict=True)]
        return bodies

    def _built_bodies(
        self, names: list[str], converted: list[tuple[list[Any], np.ndarray]], on_problem: Callable[[int, str], None]
    ) -> tuple[list[Any], np.ndarray]:
        assert self.body_builder is not None
        bodies: list[Any] = []
        empty = np.zeros(len(converted[0][0]) if converted else 0, dtype=bool)
        value_rows = zip(*(values for values, _ in converted), strict=True) if converted else iter(())
        for position, values in enumerate(value_rows):
            record = {name: value for name, value in zip(names, values, strict=True) if value is not MISSING}
            try:
                made = self.body_builder(record)
                if not isinstance(made, Mapping):
                    raise UnsafeValue(f"the body callable returned a {type(made).__name__}, not a dict")
                body = {key: value for key, value in json_safe(dict(made)).items() if value is not None}
            except UnsafeValue as err:
                on_problem(position, str(err))
                body = None
            except Exception as err:  # the user's callable: report it on its row
                on_problem(position, f"the body callable raised {type(err).__name__}: {err}")
                body = None
            empty[position] = body == {}  # one problem per row: a raise is not also an empty body
            bodies.append(body or MISSING)
        return bodies, empty


__all__ = ["PathTemplate", "RequestBuilder"]
