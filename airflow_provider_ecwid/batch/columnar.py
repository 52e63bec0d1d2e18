"""The fast route: a slice's columns straight to batch JSON with Arrow's compute kernels.

For requests with a fixed method and a body made of columns, each request's JSON text is put together
column by column in C++, with no Python object per row (Arrow releases the GIL meanwhile, so slices can be
encoded on several cores at once). The result is every request's JSON object back to back in one buffer,
so a batch is a slice of that buffer. Column values are written by :mod:`~.arrow_values`, path fields by
:func:`~.fields.path_field`, exactly as the row-by-row route writes them.

The :class:`~airflow_provider_ecwid.batch.build.RequestBuilder` decides which slices come here and gives
what it knows as a :class:`ColumnarShape`. A slice with anything to report (a missing path value, an empty
body, infinity, ...) returns None, and the builder's row-by-row route reports it: this route never decides
what is valid; it only encodes and counts slices that have nothing to report.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

import msgspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from airflow_provider_ecwid.batch.arrow_values import POOL, TEXT, escape, json_values, missing_if_sound
from airflow_provider_ecwid.batch.fields import path_field, whole_or_text
from airflow_provider_ecwid.batch.paths import BODYLESS
from airflow_provider_ecwid.batch.values import text_problem

if TYPE_CHECKING:
    from airflow_provider_ecwid.batch.fields import PathTemplate

_ERRORS = (pa.ArrowException, ValueError, TypeError, OverflowError, KeyError)


@dataclass(frozen=True)
class ColumnarShape:
    """
    What the Arrow route needs to know of a slice's requests.

    :param template: the path template.
    :param method: every request's method.
    :param id_column: the column of request ids; None: the row positions.
    :param body_names: the columns that make the body.
    :param send_null: True to send a missing value as null, False to leave it out.
    """

    template: PathTemplate
    method: str
    id_column: str | None
    body_names: list[str]
    send_null: bool


class EncodedRows:
    """
    Requests already encoded: their JSON objects back to back in one buffer, each followed by a comma.

    :param data: the buffer.
    :param offsets: where each request starts, plus where the last one ends (``len(requests) + 1`` values).
    """

    def __init__(self, data: memoryview, offsets: list[int]) -> None:
        self.data = data
        self.offsets = offsets

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def fragment(self, start: int, stop: int) -> memoryview:
        """Requests ``start`` to ``stop - 1`` as JSON objects separated by commas (no brackets)."""
        if stop <= start:
            return self.data[:0]
        return self.data[self.offsets[start] : self.offsets[stop] - 1]  # without the last comma


class _Pieces:
    """The parts of every request's JSON text, in order: literals (the same for every row) and columns."""

    def __init__(self) -> None:
        self.parts: list[Any] = []

    def literal(self, text: str) -> None:
        if not text:
            return
        if self.parts and isinstance(self.parts[-1], str):
            self.parts[-1] += text  # one literal argument instead of two
        else:
            self.parts.append(text)

    def values(self, values: Any) -> None:
        self.parts.append(values)

    def join(self) -> Any:
        """Every row's text; a literal becomes a scalar, a column contributes its row's value."""
        parts = [_literal(part) if isinstance(part, str) else part for part in self.parts]
        return pc.binary_join_element_wise(*parts, _literal(""), memory_pool=POOL)


@dataclass(frozen=True)
class CheckedColumns:
    """
    A slice the Arrow route takes, so it has nothing to report: what the validation pass needs of it.

    :param requests: how many requests it makes.
    :param patterns: its requests per ``METHOD path-pattern``.
    """

    requests: int
    patterns: dict[str, int]


def encode_columns(shape: ColumnarShape, frame: pd.DataFrame, first_row: int) -> EncodedRows | None:
    """
    Encode a slice the fast way, or return None when it has something to report (the row route's job).

    :param shape: what the requests look like.
    :param frame: the rows.
    :param first_row: the position of the slice's first row in the whole input.
    """
    try:
        pieces = _request_pieces(shape, frame, first_row)
    except _ERRORS:
        return None  # a column Arrow cannot take as one type, or a missing one: the builder reports it
    if pieces is None:
        return None
    rows = pieces.join()
    if isinstance(rows, pa.ChunkedArray):
        rows = rows.combine_chunks()
    _validity, offsets, data = rows.buffers()
    starts = np.frombuffer(offsets, dtype=np.int64)[rows.offset : rows.offset + len(rows) + 1]
    return EncodedRows(memoryview(data), starts.tolist())


def validate_columns(shape: ColumnarShape, frame: pd.DataFrame, ids: list[str | None] | None) -> CheckedColumns | None:
    """
    The validation pass for a slice, by column; None when it has something to report (the row route's job).
    Only what could be a problem is looked at, and no request is put together.

    :param shape: what the requests look like.
    :param frame: the rows.
    :param ids: the request ids the builder read from the id column (None: row positions).
    """
    try:
        if ids is not None and (None in ids or _holds_lone_surrogate(frame[cast(str, shape.id_column)], ids)):
            return None  # a gap, or an id that is not valid Unicode
        paths = [path_field(frame[field]) for field in shape.template.fields]
        if any(problems for _values, problems in paths):
            return None
        if shape.method not in BODYLESS and not _bodies_are_sound(shape, frame):
            return None
        template = shape.template
        if all(_whole_non_negative(frame[field]) for field in template.fields):  # one pattern for every row
            sample = pa.array([template.template.format(**dict.fromkeys(template.fields, "0"))], TEXT)
            patterns = dict.fromkeys(endpoint_counts(pa.array([shape.method], TEXT), sample), len(frame))
            return CheckedColumns(len(frame), patterns)
        path = _path_pieces(template, [values for values, _problems in paths], escaped=False)
        return CheckedColumns(len(frame), endpoint_counts(pa.array([shape.method] * len(frame), TEXT), path.join()))
    except _ERRORS:
        return None


def endpoint_counts(methods: Any, paths: Any) -> dict[str, int]:
    """Requests per ``METHOD path-pattern``: the path without its query, numeric segments as ``{id}``."""
    patterns = pc.replace_substring_regex(paths, r"(?s)\?.*", "", memory_pool=POOL)
    patterns = pc.replace_substring_regex(patterns, r"/\d+", "/{id}", memory_pool=POOL)
    keys = pc.binary_join_element_wise(methods, patterns, _literal(" "), memory_pool=POOL)
    return {str(item["values"]): int(item["counts"]) for item in pc.value_counts(keys).to_pylist()}


def _holds_lone_surrogate(series: pd.Series, ids: list[str | None]) -> bool:
    """True when an id from an object or Python-string column is text that cannot be sent as UTF-8."""
    dtype = series.dtype
    if dtype.kind in "iu" or (isinstance(dtype, pd.StringDtype) and dtype.storage != "python"):
        return False  # numbers, and Arrow's strings (always valid UTF-8)
    return any(text_problem(cast("str", value)) is not None for value in ids if not cast("str", value).isascii())


def _whole_non_negative(series: pd.Series) -> bool:
    """Whole numbers from 0 up: in a path each is a run of digits, so every row's path has one pattern."""
    dtype = series.dtype
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) or dtype.kind not in "iu":
        return False
    return dtype.kind == "u" or bool((series.to_numpy() >= 0).all())


def _request_pieces(shape: ColumnarShape, frame: pd.DataFrame, first_row: int) -> _Pieces | None:
    """The parts of every request's JSON text; None: the slice has something to report."""
    ids = _ids(shape, frame, first_row)
    paths = [path_field(frame[field]) for field in shape.template.fields]
    if ids is None or any(problems for _values, problems in paths):
        return None
    row = _Pieces()
    row.literal('{"id":"')
    row.values(ids)
    row.literal('","path":"')
    for part in _path_pieces(shape.template, [values for values, _problems in paths], escaped=True).parts:
        (row.literal if isinstance(part, str) else row.values)(part)
    row.literal(f'","method":"{shape.method}"')
    if shape.method in BODYLESS:
        row.literal("},")
        return row
    body = _body_columns(shape, frame)
    if body is None:
        return None
    row.literal(',"body":{')
    if isinstance(body.parts[0], str):
        for part in body.parts:
            (row.literal if isinstance(part, str) else row.values)(part)
    else:  # the first column has gaps: its pairs start with a comma, which is cut from each body
        row.values(pc.utf8_slice_codeunits(body.join(), 1, memory_pool=POOL))
    row.literal("}},")
    return row


def _path_pieces(template: PathTemplate, values: list[Any], *, escaped: bool) -> _Pieces:
    """Each row's path: the template's literals (JSON-escaped when ``escaped``) around the field values."""
    literal = _json_text if escaped else str
    path = _Pieces()
    path.literal(literal(template.literals[0]))
    for value, text in zip(values, template.literals[1:], strict=True):
        path.values(value)
        path.literal(literal(text))
    if not path.parts:
        path.literal("")
    return path


def _literal(text: str) -> pa.Scalar:
    return pa.scalar(text, TEXT)


def _json_text(text: str) -> str:
    """``text`` escaped for the inside of a JSON string."""
    return msgspec.json.encode(text).decode()[1:-1]


def _ids(shape: ColumnarShape, frame: pd.DataFrame, first_row: int) -> Any:
    """Each request's id as the inside of a JSON string; None when an id is a problem."""
    if shape.id_column is None:
        return pc.cast(pa.array(np.arange(first_row, first_row + len(frame), dtype=np.int64)), TEXT)
    values = whole_or_text(frame[shape.id_column])
    if values is None:
        return None
    if pa.types.is_integer(values.type):
        return pc.cast(values, TEXT, memory_pool=POOL)
    if bool(pc.any(pc.equal(pc.utf8_trim_whitespace(values, memory_pool=POOL), "")).as_py()):
        return None  # an empty id is a problem
    if bool(pc.any(pc.match_substring_regex(values, "[\x1c-\x1f]")).as_py()):
        return None  # Python strips these as white space: the builder decides whether the id is empty
    return escape(values)


def _bodies_are_sound(shape: ColumnarShape, frame: pd.DataFrame) -> bool:
    """True when no body value is a problem and no row's body would be empty."""
    every_value_missing = np.ones(len(frame), dtype=bool)
    for name in shape.body_names:
        missing = missing_if_sound(frame[name])
        if missing is None:
            return False
        every_value_missing &= missing
    return bool(shape.body_names) and not every_value_missing.any()


def _body_columns(shape: ColumnarShape, frame: pd.DataFrame) -> _Pieces | None:
    """
    The inside of each body (``"name":value`` pairs); None when a value is a problem or a body would be empty.

    A column with a value in every row goes into the row's text as is; a column with gaps becomes one
    ``,"name":value`` pair per row, empty (or ``null``) where the value is missing.
    """
    names = shape.body_names
    if not names:
        return None
    body = _Pieces()
    full_column = False
    every_value_missing = None
    for name in names:
        encoded = json_values(frame[name])
        if encoded is None:
            return None
        values, (before, after) = encoded
        name_json = msgspec.json.encode(name).decode()
        if not values.null_count:
            full_column = True
            body.literal(("," if body.parts else "") + f"{name_json}:{before}")
            body.values(values)
            body.literal(after)
            continue
        missing = pc.is_null(values, memory_pool=POOL)
        every_value_missing = (
            missing if every_value_missing is None else pc.and_(every_value_missing, missing, memory_pool=POOL)
        )
        key = f",{name_json}:"  # a pair always starts with a comma; cut when it comes first
        pair = pc.binary_join_element_wise(
            _literal(key + before), values, _literal(after), _literal(""), memory_pool=POOL
        )
        body.values(pc.coalesce(pair, _literal(key + "null" if shape.send_null else ""), memory_pool=POOL))
    if not full_column and every_value_missing is not None and bool(pc.any(every_value_missing).as_py()):
        return None  # a row with an empty body is a problem
    return body
