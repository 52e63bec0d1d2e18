"""The fast route: plain columns straight to batch JSON with Arrow's compute kernels.

The common case (a fixed method; a path from whole-number or plain-text columns; a body from number, bool
and text columns) is encoded column by column in C++, with no Python object per row, and Arrow releases
the GIL while it works, so slices can be encoded on several cores at once. The result is every request's
JSON object, back to back in one buffer, so a batch is a slice of that buffer.

Anything else returns None and the row-by-row :class:`~airflow_provider_ecwid.batch.build.RequestBuilder`
does the slice: a body callable, a method column, object or date columns, float32, and every value that
would be a problem (missing path values, empty bodies, infinities, rare control characters). So this route
never decides what is valid; it only encodes slices that have nothing to report.

:func:`check_columns` is the validation pass for the same kind of slice: it looks, by column, only at what
could be a problem, and hands anything doubtful to the row-by-row check.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, cast

import msgspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from airflow_provider_ecwid.batch.build import BODYLESS, RequestBuilder
from airflow_provider_ecwid.batch.values import INT_MAX, text_problem

_TEXT = pa.large_string()
#: malloc, not Arrow's default mimalloc/jemalloc: it hands a slice's memory back at once, which keeps the
#: file route's footprint to the slices in flight (same speed here).
_POOL = pa.system_memory_pool()
_PLAIN_SEGMENT = r"^[A-Za-z0-9_~-][A-Za-z0-9_.~-]*$"  # RE2: $ is the end of the text, newline or not
#: Control characters the row-by-row route escapes as \u00XX; a slice holding one goes that way.
_RARE_CONTROL = frozenset(range(0x20)) - {0x09, 0x0A, 0x0D}
_ESCAPES = (("\\", "\\\\"), ('"', '\\"'), ("\n", "\\n"), ("\r", "\\r"), ("\t", "\\t"))  # backslash first


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
        return pc.binary_join_element_wise(*parts, _literal(""), memory_pool=_POOL)


@dataclass(frozen=True)
class CheckedColumns:
    """
    A slice the Arrow route takes, so it has nothing to report: what the validation pass needs of it.

    :param requests: how many requests it makes.
    :param patterns: its requests per ``METHOD path-pattern``.
    :param ids: its request ids when they come from a column (None: row positions, which cannot repeat).
    """

    requests: int
    patterns: dict[str, int]
    ids: list[str] | None


def encode_columns(builder: RequestBuilder, frame: pd.DataFrame, first_row: int) -> EncodedRows | None:
    """
    Encode a slice the fast way, or return None when the row-by-row builder must do it.

    :param builder: how rows become requests.
    :param frame: the rows.
    :param first_row: the position of the slice's first row in the whole input.
    """
    pieces = _prepare(builder, frame, first_row)
    if pieces is None:
        return None
    rows = pieces.join()
    if isinstance(rows, pa.ChunkedArray):
        rows = rows.combine_chunks()
    _validity, offsets, data = rows.buffers()
    starts = np.frombuffer(offsets, dtype=np.int64)[rows.offset : rows.offset + len(rows) + 1]
    return EncodedRows(memoryview(data), starts.tolist())


def check_columns(builder: RequestBuilder, frame: pd.DataFrame, first_row: int) -> CheckedColumns | None:
    """
    The validation pass for a slice of plain columns, by column; None when the row-by-row builder must check
    it. Only what could be a problem is looked at (no JSON is written): empty or unusable ids and path
    values, infinities, and rows whose body would be empty.

    :param builder: how rows become requests.
    :param frame: the rows.
    :param first_row: the position of the slice's first row in the whole input.
    """
    template = builder.template
    if template is None or builder.method_column is not None or builder.body_builder is not None or frame.empty:
        return None
    try:
        ids = None if builder.id_column is None else builder.request_ids(frame, first_row)
        paths = [_path_value(frame[field]) for field in template.fields]
        if ids is not None and (None in ids or _holds_lone_surrogate(frame[builder.id_column], ids)):
            return None  # a gap, or an id that is not valid Unicode: the row-by-row check reports it
        if any(path is None for path in paths):
            return None
        if builder.method not in BODYLESS and not _bodies_are_sound(builder, frame):
            return None
    except (pa.ArrowException, ValueError, TypeError, OverflowError, KeyError):
        return None
    if all(_whole_non_negative(frame[field]) for field in template.fields):  # one pattern for every row
        sample = pa.array([template.template.format(**dict.fromkeys(template.fields, "0"))], _TEXT)
        patterns = dict.fromkeys(endpoint_counts(pa.array([builder.method], _TEXT), sample), len(frame))
    else:
        path = _Pieces()
        path.literal(template.literals[0])
        for value, literal in zip(paths, template.literals[1:], strict=True):
            path.values(value)
            path.literal(literal)
        patterns = endpoint_counts(pa.array([builder.method] * len(frame), _TEXT), path.join())
    return CheckedColumns(len(frame), patterns, cast("list[str] | None", ids))


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


def _bodies_are_sound(builder: RequestBuilder, frame: pd.DataFrame) -> bool:
    """True when no body value is a problem and no row's body would be empty."""
    names = builder.body_names(frame)
    every_value_missing = np.ones(len(frame), dtype=bool)
    for name in names:
        series = frame[name]
        dtype = series.dtype
        if not isinstance(dtype, pd.api.extensions.ExtensionDtype) and dtype.kind in "iufb":
            if dtype.kind == "f" and np.isinf(series.to_numpy()).any():
                return False  # a problem: the row-by-row builder reports it
            if _beyond_int64(series):
                return False  # a problem too
        elif _column_kind(series) != "text" or not _is_text(_arrow(series)):
            return False
        every_value_missing &= series.isna().to_numpy(dtype=bool)
    return bool(names) and not every_value_missing.any()


def _beyond_int64(series: pd.Series) -> bool:
    """True for an unsigned 64-bit column holding a value that Ecwid's signed 64-bit numbers cannot carry."""
    dtype = series.dtype
    if isinstance(dtype, pd.api.extensions.ExtensionDtype) or dtype.kind != "u" or dtype.itemsize < 8:
        return False
    return bool((series.to_numpy() > INT_MAX).any())


def endpoint_counts(methods: Any, paths: Any) -> dict[str, int]:
    """Requests per ``METHOD path-pattern``: the path without its query, numeric segments as ``{id}``."""
    patterns = pc.replace_substring_regex(paths, r"(?s)\?.*", "", memory_pool=_POOL)
    patterns = pc.replace_substring_regex(patterns, r"/\d+", "/{id}", memory_pool=_POOL)
    keys = pc.binary_join_element_wise(methods, patterns, _literal(" "), memory_pool=_POOL)
    return {str(item["values"]): int(item["counts"]) for item in pc.value_counts(keys).to_pylist()}


def _prepare(builder: RequestBuilder, frame: pd.DataFrame, first_row: int) -> _Pieces | None:
    """The checked parts of every request's JSON text; None: the builder's job."""
    template = builder.template
    if template is None or builder.method_column is not None or builder.body_builder is not None or frame.empty:
        return None
    row = _Pieces()
    try:
        ids = _ids(builder, frame, first_row)
        paths = [_path_value(frame[field]) for field in template.fields]
        if ids is None or any(path is None for path in paths):
            return None
        row.literal('{"id":"')
        row.values(ids)
        row.literal('","path":"' + _json_text(template.literals[0]))
        for value, literal in zip(paths, template.literals[1:], strict=True):
            row.values(value)
            row.literal(_json_text(literal))
        row.literal(f'","method":"{builder.method}"')
        if builder.method in BODYLESS:
            row.literal("},")
        else:
            row.literal(',"body":{')
            if not _add_body(builder, frame, row):
                return None
            row.literal("}},")
    except (pa.ArrowException, ValueError, TypeError, OverflowError, KeyError):
        return None  # a column Arrow cannot take as one type, or a missing one: the builder reports it
    return row


def _text(values: Any) -> Any:
    return pc.cast(values, _TEXT, memory_pool=_POOL)


def _literal(text: str) -> pa.Scalar:
    return pa.scalar(text, _TEXT)


def _json_text(text: str) -> str:
    """``text`` escaped for the inside of a JSON string."""
    return msgspec.json.encode(text).decode()[1:-1]


def _column_kind(series: pd.Series) -> str | None:
    """number, bool or text for the column types this route encodes; None for the rest."""
    dtype = series.dtype
    if isinstance(dtype, pd.StringDtype):
        return "text"
    if isinstance(dtype, pd.api.extensions.ExtensionDtype):
        return None
    if dtype.kind in "iu" or (dtype.kind == "f" and dtype.itemsize == 8):  # float32 differs as Python floats
        return "number"
    if dtype.kind == "b":
        return "bool"
    if dtype.kind == "O":
        return "text"  # taken only if Arrow reads it as text (below)
    return None


def _arrow(series: pd.Series) -> Any:
    return pa.array(series, from_pandas=True, memory_pool=_POOL)


def _is_text(values: Any) -> bool:
    return bool(pa.types.is_string(values.type) or pa.types.is_large_string(values.type))


def _any(mask: Any) -> bool:
    return bool(pc.any(mask, memory_pool=_POOL).as_py())


def _escaped(values: Any) -> Any:
    """Text escaped for the inside of JSON strings; None when a value holds a control character other than
    a newline, carriage return or tab (the row-by-row route writes those)."""
    text = _text(values)
    present = _bytes_present(text)
    if present & _RARE_CONTROL:
        return None
    for plain, escaped in _ESCAPES:
        if ord(plain) in present:
            text = pc.replace_substring(text, plain, escaped, memory_pool=_POOL)
    return text


def _bytes_present(text: Any) -> set[int]:
    """Which of the bytes JSON must escape occur in the text (a look at its buffers, no copy)."""
    found: set[int] = set()
    for chunk in text.chunks if isinstance(text, pa.ChunkedArray) else [text]:
        _validity, offsets, data = chunk.buffers()
        if data is None or not len(chunk):
            continue
        bounds = np.frombuffer(offsets, dtype=np.int64)[chunk.offset : chunk.offset + len(chunk) + 1]
        utf8 = np.frombuffer(data, dtype=np.uint8)[bounds[0] : bounds[-1]]
        if (utf8 < 0x20).any():
            found.update(np.unique(utf8[utf8 < 0x20]).tolist())
        found.update(byte for byte in (0x22, 0x5C) if (utf8 == byte).any())
    return found


def _json_values(series: pd.Series) -> tuple[Any, str] | None:
    """A body column as JSON text (null where missing) and the quote it goes between, or None."""
    kind = _column_kind(series)
    if kind is None:
        return None
    values = _arrow(series)
    if kind == "text":
        text = _escaped(values) if _is_text(values) else None
        return None if text is None else (text, '"')
    if pa.types.is_floating(values.type) and _any(pc.is_inf(values, memory_pool=_POOL)):
        return None  # a problem: the row-by-row builder reports it
    if _beyond_int64(series):
        return None  # a problem too
    return _text(values), ""


def _ids(builder: RequestBuilder, frame: pd.DataFrame, first_row: int) -> Any:
    """Each request's id as the inside of a JSON string."""
    if builder.id_column is None:
        return _text(pa.array(np.arange(first_row, first_row + len(frame), dtype=np.int64), memory_pool=_POOL))
    found = _whole_or_text(frame[builder.id_column])
    if found is None or not found[1]:
        return None if found is None else found[0]
    if _any(pc.equal(pc.utf8_trim_whitespace(found[0], memory_pool=_POOL), "", memory_pool=_POOL)):
        return None  # an empty id is a problem
    return _escaped(found[0])


def _path_value(series: pd.Series) -> Any:
    """A path field's values when none needs percent-encoding: whole numbers, or plain text segments."""
    found = _whole_or_text(series)
    if found is None or not found[1]:
        return None if found is None else found[0]
    plain = pc.all(pc.match_substring_regex(found[0], _PLAIN_SEGMENT, memory_pool=_POOL)).as_py()
    return found[0] if plain else None


def _whole_or_text(series: pd.Series) -> tuple[Any, bool] | None:
    """The column as text, and whether it was text: whole numbers, or text without gaps; else None."""
    kind = _column_kind(series)
    values = _arrow(series)
    if kind == "number" and pa.types.is_integer(values.type):
        return _text(values), False
    if kind != "text" or not _is_text(values) or values.null_count:
        return None
    return _text(values), True


def _add_body(builder: RequestBuilder, frame: pd.DataFrame, row: _Pieces) -> bool:
    """
    Add the inside of each body (``"name":value`` pairs) to ``row``; False to leave the slice to the builder.

    A column with a value in every row goes into the row's text as is; a column with gaps becomes one
    ``,"name":value`` pair per row, empty (or ``null``) where the value is missing.
    """
    names = builder.body_names(frame)
    if not names:
        return False
    body = _Pieces()
    full_column = False
    every_value_missing = None
    for name in names:
        encoded = _json_values(frame[name])
        if encoded is None:
            return False
        values, quote = encoded
        name_json = msgspec.json.encode(name).decode()
        if not values.null_count:
            full_column = True
            body.literal(("," if body.parts else "") + f"{name_json}:{quote}")
            body.values(values)
            body.literal(quote)
            continue
        missing = pc.is_null(values, memory_pool=_POOL)
        every_value_missing = (
            missing if every_value_missing is None else pc.and_(every_value_missing, missing, memory_pool=_POOL)
        )
        key = f",{name_json}:"  # a pair always starts with a comma; cut below when it comes first
        pair = pc.binary_join_element_wise(
            _literal(key + quote), values, _literal(quote), _literal(""), memory_pool=_POOL
        )
        body.values(pc.coalesce(pair, _literal(key + "null" if builder.null is None else ""), memory_pool=_POOL))
    if not full_column and every_value_missing is not None and _any(every_value_missing):
        return False  # a row with an empty body is a problem
    if isinstance(body.parts[0], str):
        for part in body.parts:
            (row.literal if isinstance(part, str) else row.values)(part)
    else:  # the first column has gaps: its pairs start with a comma, which is cut from each body
        row.values(pc.utf8_slice_codeunits(body.join(), 1, memory_pool=_POOL))
    return True
