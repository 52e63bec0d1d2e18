"""Rows -> validated Ecwid batch requests.

A :class:`RequestBuilder` knows how one input row becomes one request: the path template, the method (fixed
or from a column), the body (remaining columns, chosen columns, or a callable) and the id (a column or the
row's position). It works on a DataFrame slice at a time, column by column, and reports every problem with
its row, column and reason. Validation lives here only.
"""

from __future__ import annotations

import contextlib
import json
import re
import string
from collections.abc import Callable, Mapping, Sequence
from typing import Any, Literal
from urllib.parse import quote

import numpy as np
import pandas as pd

from airflow_provider_ecwid.batch.models import HTTP_METHODS
from airflow_provider_ecwid.batch.paths import check_api_path, path_problem
from airflow_provider_ecwid.batch.problems import ProblemLog, RowProblem
from airflow_provider_ecwid.batch.values import (
    MISSING,
    UnsafeValue,
    column_values,
    is_missing,
    json_safe,
    text_problem,
)
from airflow_provider_ecwid.batch.wire import WireRequest, body_struct
from airflow_provider_ecwid.errors import EcwidConfigError

NullValues = Literal["omit", "null"]
BodyBuilder = Callable[[dict[str, Any]], Mapping[str, Any]]

REQUEST_KEYS = frozenset({"id", "path", "method", "body"})
#: A path value that needs no percent-encoding (fullmatch: ``$`` alone would let a trailing newline through).
_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9_~-][A-Za-z0-9_.~-]*")
#: Methods whose requests carry no body.
BODYLESS = frozenset({"GET", "DELETE"})


class PathTemplate:
    """
    A path with ``{column}`` fields, e.g. ``/products/{ecwid_id}`` or ``/products?sku={sku}``.

    Values are percent-encoded, so a value can never add a segment, a query parameter or a host.

    :param template: the path template.
    """

    def __init__(self, template: str) -> None:
        if not isinstance(template, str):
            raise EcwidConfigError(f"path must be a string template, got {type(template).__name__}")
        self.template = template
        self.literals: list[str] = []
        self.fields: list[str] = []
        try:
            parsed = list(string.Formatter().parse(template))
        except ValueError as err:
            raise EcwidConfigError(f"path template {template!r} is malformed: {err}") from None
        for literal, field, spec, conversion in parsed:
            self.literals.append(literal)
            if field is None:
                continue
            if not field or field.isdigit() or spec or conversion:
                raise EcwidConfigError(
                    f"path template {template!r}: fields must be plain column names like {{ecwid_id}}, got {{{field}}}"
                )
            self.fields.append(field)
        if len(self.literals) == len(self.fields):
            self.literals.append("")
        sample = template.format(**dict.fromkeys(self.fields, "1"))
        problem = path_problem(sample)
        if problem is not None:
            raise EcwidConfigError(f"path template {template!r} is not a safe Ecwid API path: {problem}")

    def render_ints(self, values: list[int]) -> list[str]:
        """Fill a one-field template from whole numbers (no quoting needed)."""
        head, tail = (literal.replace("%", "%%") for literal in self.literals)
        return list(map(f"{head}%d{tail}".__mod__, values))

    def render(self, columns: Sequence[list[str]], rows: int) -> list[str]:
        """Fill the template for ``rows`` rows from one list of ready (quoted) values per field."""
        if not self.fields:
            return [self.template] * rows
        if len(self.fields) == 1:
            head, tail = self.literals
            return [head + value + tail for value in columns[0]]
        literals = self.literals
        rendered = []
        for values in zip(*columns, strict=True):
            parts = [literals[0]]
            for value, literal in zip(values, literals[1:], strict=True):
                parts += (value, literal)
            rendered.append("".join(parts))
        return rendered


def _path_value(value: Any) -> tuple[str | None, str | None]:
    """A value for a path field as ``(text, None)``, or ``(None, reason)``."""
    if is_missing(value):
        return None, "is empty, and the path needs it"
    if isinstance(value, bool | np.bool_):
        return None, "a true/false value cannot be part of a path"
    if isinstance(value, int | np.integer):
        return str(int(value)), None
    if isinstance(value, float | np.floating):
        if float(value).is_integer():
            return str(int(value)), None
        return None, f"{value!r} is not an id (a path needs a whole number or text)"
    if isinstance(value, str):
        if not value.strip():
            return None, "is empty, and the path needs it"
        if value in (".", ".."):
            return None, f"{value!r} cannot be a path segment"
        problem = text_problem(value)
        if problem is not None:
            return None, f"the text {problem}"
        return (value if _SAFE_SEGMENT.fullmatch(value) else quote(value, safe="")), None
    return None, f"a {type(value).__name__} cannot be part of a path"


def _text_value(value: Any) -> str | None:
    if is_missing(value):
        return None
    if isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_):
        return str(int(value))
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, str) and value.strip():
        return value
    return None


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
        self.method = str(method).upper()
        if method_column is None and self.method not in HTTP_METHODS:
            raise EcwidConfigError(f"method must be one of {sorted(HTTP_METHODS)}, got {method!r}")
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

    # -- rows ------------------------------------------------------------------------------------------

    def build(
        self, frame: pd.DataFrame, first_row: int, problems: ProblemLog, *, make: bool = True
    ) -> list[WireRequest]:
        """
        Check a slice of rows and return its requests; problems go to ``problems``.

        :param frame: the rows.
        :param first_row: the position of the slice's first row in the whole input.
        :param problems: where problems are reported.
        :param make: False to check only: the requests come back without bodies (the validation pass).
        """
        if self.template is None:
            if {"path", "method"} <= set(frame.columns) and set(frame.columns) <= REQUEST_KEYS:
                return self.build_ready(_ready_rows(frame), first_row, problems)  # a file of ready requests
            raise EcwidConfigError("path is required to turn rows into requests, e.g. path='/products/{ecwid_id}'")
        self._check_columns(frame)
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
                    ids[position] = None  # reported; the wire form must still encode (the dry-run summary)
        methods = self._methods(frame, report)
        paths = self._paths(frame, report)
        bodies = self._bodies(frame, methods, report, make)  # checks every value, builds only when make
        wire_ids: list[str] = ids if self.id_column is None else [i or "" for i in ids]  # type: ignore[assignment]
        return list(map(WireRequest, wire_ids, paths, methods, bodies))

    def _check_columns(self, frame: pd.DataFrame) -> None:
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
                values[position] = _text_value(values[position])
            return values
        return [_text_value(value) for value in values]

    def _methods(self, frame: pd.DataFrame, report: Callable[[str], Callable[[int, str], None]]) -> list[str]:
        if self.method_column is None:
            return [self.method] * len(frame)
        methods = []
        on_problem = report(self.method_column)
        for position, value in enumerate(frame[self.method_column].tolist()):
            method = str(value).strip().upper() if isinstance(value, str) else ""
            if method not in HTTP_METHODS:
                on_problem(position, f"method {value!r} is not one of GET, POST, PUT, DELETE")
                method = ""  # reported; the wire form must still encode
            methods.append(method)
        return methods

    def _paths(self, frame: pd.DataFrame, report: Callable[[str], Callable[[int, str], None]]) -> list[str]:
        assert self.template is not None
        columns = []
        for field in self.template.fields:
            series = frame[field]
            if series.dtype.kind in "iu" and not isinstance(series.dtype, pd.api.extensions.ExtensionDtype):
                if len(self.template.fields) == 1:  # the common case, e.g. /products/{ecwid_id}: one pass
                    return self.template.render_ints(series.to_numpy().tolist())
                columns.append(list(map(str, series.to_numpy().tolist())))
                continue
            on_problem = report(field)
            texts = []
            for position, value in enumerate(series.tolist()):
                text, reason = _path_value(value)
                if reason is not None:
                    on_problem(position, reason)
                texts.append(text or "")
            columns.append(texts)
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

    # -- ready requests --------------------------------------------------------------------------------

    @staticmethod
    def build_ready(items: Sequence[Any], first_row: int, problems: ProblemLog) -> list[WireRequest]:
        """Check ready requests (``{"id"?, "path", "method", "body"?}``) and return them in wire form."""
        requests = []
        for position, item in enumerate(items, start=first_row):
            if not isinstance(item, Mapping):
                problems.add(RowProblem(position, None, "request", f"a request must be a dict, got {item!r:.60}"))
                continue
            request_id = _text_value(item.get("id")) if item.get("id") is not None else str(position)
            if request_id is None:
                problems.add(RowProblem(position, None, "id", f"id {item.get('id')!r} is not usable as a request id"))
            elif (id_problem := text_problem(request_id)) is not None:
                problems.add(RowProblem(position, request_id, "id", f"the request id {id_problem}"))
                request_id = None  # reported; the wire form must still encode (the dry-run summary)
            method = str(item.get("method", "")).strip().upper()
            if method not in HTTP_METHODS:
                problems.add(
                    RowProblem(position, request_id, "method", f"{item.get('method')!r} is not GET/POST/PUT/DELETE")
                )
            path_issue = path_problem(item.get("path"))
            if path_issue is not None:
                problems.add(RowProblem(position, request_id, "path", path_issue))
            body = item.get("body")
            try:
                safe_body = json_safe(body) if body is not None else MISSING
            except UnsafeValue as err:
                problems.add(RowProblem(position, request_id, "body", str(err)))
                safe_body = MISSING
            if safe_body is not MISSING and not isinstance(safe_body, dict):
                problems.add(RowProblem(position, request_id, "body", "body must be a JSON object or null"))
            by_url = method == "POST" and "externalUrl=" in str(item.get("path", ""))  # an image: its URL is the body
            if method in ("POST", "PUT") and not safe_body and not by_url:
                problems.add(RowProblem(position, request_id, "body", f"{method} needs a body"))
            if method in BODYLESS:
                safe_body = MISSING
            path = str(item.get("path")) if path_issue is None else ""  # reported; must still encode
            requests.append(WireRequest(request_id or "", path, method, safe_body))
        return requests


def _ready_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a file of ready requests; a body given as JSON text is decoded, empty cells dropped."""
    rows = []
    for record in frame.to_dict("records"):
        row = {str(key): value for key, value in record.items() if not is_missing(value)}
        if isinstance(row.get("body"), str):
            with contextlib.suppress(ValueError):  # if not JSON, build_ready says a body must be an object
                row["body"] = json.loads(row["body"])
        rows.append(row)
    return rows


def is_ready_request(item: Any) -> bool:
    """True for a dict shaped like a batch request (path and method, nothing but id/path/method/body)."""
    return isinstance(item, Mapping) and {"path", "method"} <= set(item) and set(item) <= REQUEST_KEYS


__all__ = ["PathTemplate", "RequestBuilder", "check_api_path", "is_ready_request"]
