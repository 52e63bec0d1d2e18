"""One body column as JSON text, by Arrow's kernels: the fast route's half of :mod:`~.values`.

:func:`json_values` turns a column into each row's JSON value as text (null where the value is missing),
written byte for byte as the row-by-row route writes it (msgspec's encoding of :func:`~.values.json_safe`'s
result). It returns None when a value cannot be sent (infinity, an integer beyond 64 bits, text that is
not valid Unicode...): the row-by-row route then reports it. It never decides what is valid on its own.

Numbers, booleans, text, categories, timestamps (ISO 8601), Arrow decimals and lists of numbers or text are
written by Arrow, column by column; any other column (nested dicts, Python Decimals, mixed objects) goes
value by value through the row route's own conversion and msgspec, so it can never write something else.
"""

from __future__ import annotations

import contextlib
from typing import Any

import msgspec
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from airflow_provider_ecwid.batch.values import (
    ENCODER,
    INT_MAX,
    MISSING,
    UnsafeValue,
    column_values,
    is_missing,
    json_safe,
    plain_json,
)

TEXT = pa.large_string()
#: malloc, not Arrow's default mimalloc/jemalloc: it hands a slice's memory back at once, which keeps the
#: file route's footprint to the slices in flight (same speed here).
POOL = pa.system_memory_pool()
#: The bytes JSON escapes, as msgspec writes them (backslash first: the others add backslashes).
_ESCAPES = [(byte, msgspec.json.encode(chr(byte)).decode()[1:-1]) for byte in (0x5C, 0x22, *range(0x20))]
#: Floats Arrow writes as Python does (plus ``.0`` on whole ones); outside, msgspec writes the few there are.
_PLAIN_FLOAT = (1e-5, 1e10)
_ERRORS = (pa.ArrowException, ValueError, TypeError, OverflowError, AttributeError)
_PER_SECOND = {"s": 1, "ms": 10**3, "us": 10**6, "ns": 10**9}
#: (text before, text after) each value.
Quotes = tuple[str, str]
NUMBER: Quotes = ("", "")
STRING: Quotes = ('"', '"')


def missing_if_sound(series: pd.Series) -> Any:
    """
    The validation pass's look at a column: which rows have no value, or None when a value cannot be sent.
    Plain numpy and Arrow-text columns are only checked (nothing is written); others are encoded.

    :param series: the column.
    """
    dtype = series.dtype
    if not isinstance(dtype, pd.api.extensions.ExtensionDtype) and dtype.kind in "iub":
        if dtype.kind == "u" and dtype.itemsize == 8 and bool((series.to_numpy() > INT_MAX).any()):
            return None
        return np.zeros(len(series), dtype=bool)
    if not isinstance(dtype, pd.api.extensions.ExtensionDtype) and dtype.kind == "f" and dtype.itemsize == 8:
        numbers = series.to_numpy()
        return None if np.isinf(numbers).any() else np.isnan(numbers)
    if isinstance(dtype, pd.StringDtype) and dtype.storage != "python":
        return series.isna().to_numpy(dtype=bool)  # Arrow's text: always valid UTF-8
    values = _arrow_values(series)
    if values is not None and _sound_as_is(values.type, values):
        return values.is_null().to_numpy(zero_copy_only=False)
    encoded = json_values(series)
    return None if encoded is None else encoded[0].is_null().to_numpy(zero_copy_only=False)


def _sound_as_is(kind: Any, values: Any) -> bool:
    """True for Arrow values that :func:`arrow_json` writes with nothing to report and null where missing
    (not floats: NaN is missing and infinity a problem; they are written to be checked)."""
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return _sound_as_is(kind.value_type, values.values)
    if pa.types.is_dictionary(kind):
        return _sound_as_is(kind.value_type, values.dictionary)
    if pa.types.is_uint64(kind):
        return not _any(pc.greater(values, INT_MAX))
    return bool(
        pa.types.is_integer(kind)
        or pa.types.is_boolean(kind)
        or pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_timestamp(kind)
        or pa.types.is_date32(kind)
        or (pa.types.is_decimal(kind) and 0 <= kind.scale <= 6)
    )


def json_values(series: pd.Series) -> tuple[Any, Quotes] | None:
    """
    Each value of a column as JSON text, null where missing, and what goes around each; None: a value the
    API cannot take (the row-by-row route reports it).

    :param series: the column.
    """
    values = _arrow_values(series)
    if values is not None and pa.types.is_timestamp(values.type) and values.type.tz is not None:
        with contextlib.suppress(*_ERRORS):  # the zone's offsets by pandas, as the row route's Timestamps have them
            return _timestamps(values, _arrow_values(series.dt.tz_localize(None))), STRING
    if values is not None:
        encoded = arrow_json(values)
        if encoded is not None:
            return encoded
    return _one_by_one(series)


def _arrow_values(series: pd.Series) -> Any:
    """The column as an Arrow array, when Arrow reads it as the row route's conversion does; else None."""
    dtype = series.dtype
    if dtype.kind == "O" and not isinstance(dtype, pd.api.extensions.ExtensionDtype):
        # what the objects are: Arrow would make [1, 2.5] all floats, and Decimals all one scale
        kind = pd.api.types.infer_dtype(series, skipna=True)
        if kind not in ("string", "integer", "floating", "boolean", "empty", "mixed"):
            return None
        if kind == "mixed" and not isinstance(_first_value(series), list | np.ndarray):
            return None  # e.g. dicts: Arrow would read them as structs, slowly, and write them otherwise
    try:
        values = pa.array(series, from_pandas=True, memory_pool=POOL)
    except _ERRORS:
        return None  # e.g. mixed objects, an int beyond 64 bits or a lone surrogate: value by value
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks(memory_pool=POOL)
    if pa.types.is_list(values.type) and not _plain_items(values.type.value_type):
        return None  # e.g. [1, 2.5] became floats: value by value
    return values


def _first_value(series: pd.Series) -> Any:
    """The column's first value that is not None or NaN."""
    for value in series.array:
        if not is_missing(value):
            return value
    return None


def _plain_items(item_type: Any) -> bool:
    return bool(pa.types.is_integer(item_type) or pa.types.is_string(item_type) or pa.types.is_boolean(item_type))


def arrow_json(values: Any) -> tuple[Any, Quotes] | None:
    """An Arrow array as JSON text per value (null where missing); None: not a type written here, or a
    value that is a problem."""
    kind = values.type
    if pa.types.is_null(kind):
        return pa.nulls(len(values), TEXT), NUMBER
    if pa.types.is_boolean(kind):
        return _text(values), NUMBER
    if pa.types.is_integer(kind):
        if pa.types.is_uint64(kind) and _any(pc.greater(values, INT_MAX)):
            return None  # beyond Ecwid's signed 64-bit numbers: a problem
        return _text(values), NUMBER
    if pa.types.is_floating(kind):
        return _floats(values)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return _escaped(values), STRING
    if pa.types.is_timestamp(kind):
        return _timestamps(values), STRING
    if pa.types.is_date32(kind):
        return _text(values), STRING
    if pa.types.is_decimal(kind):
        return _decimals(values)
    if pa.types.is_dictionary(kind):
        return _categories(values)
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return _lists(values)
    return None


def _scalar(text: str) -> pa.Scalar:
    return pa.scalar(text, TEXT)


def _text(values: Any) -> Any:
    return pc.cast(values, TEXT, memory_pool=POOL)


def _any(mask: Any) -> bool:
    return bool(pc.any(mask, memory_pool=POOL).as_py())


def escape(text: Any) -> Any:
    """Text escaped for the inside of JSON strings, as msgspec escapes it (control characters included)."""
    text = _text(text)
    present = _bytes_present(text)
    for byte, escaped in _ESCAPES:
        if byte in present:
            text = pc.replace_substring(text, chr(byte), escaped, memory_pool=POOL)
    return text


_escaped = escape


def _bytes_present(text: Any) -> set[int]:
    """Which of the bytes JSON must escape occur in the text (a look at its buffers, no copy)."""
    _validity, offsets, data = text.buffers()
    if data is None or not len(text):
        return set()
    bounds = np.frombuffer(offsets, dtype=np.int64)[text.offset : text.offset + len(text) + 1]
    utf8 = np.frombuffer(data, dtype=np.uint8)[bounds[0] : bounds[-1]]
    found: set[int] = set()
    low = utf8 < 0x20
    if low.any():
        found.update(np.unique(utf8[low]).tolist())
    found.update(byte for byte in (0x22, 0x5C) if (utf8 == byte).any())
    return found


def _floats(values: Any) -> tuple[Any, Quotes] | None:
    """Floats as Python writes them: NaN is missing, infinity a problem, whole numbers end in ``.0``."""
    numbers = values.to_numpy(zero_copy_only=False).astype(np.float64, copy=False)  # float32 as Python's float
    if np.isinf(numbers).any():
        return None
    missing = np.isnan(numbers)  # nulls and NaN alike
    size = np.abs(numbers)
    odd = (size < _PLAIN_FLOAT[0]) & (numbers != 0) | (size >= _PLAIN_FLOAT[1])  # tiny or huge: msgspec writes them
    whole = np.equal(np.floor(numbers), numbers) & ~odd  # Arrow writes 100.0 as 100
    text = _text(pa.array(numbers, mask=missing if missing.any() else None, memory_pool=POOL))
    fixed = np.flatnonzero(odd | whole)
    if len(fixed):
        chosen = numbers[fixed]
        written = pc.binary_join_element_wise(_text(pa.array(chosen)), _scalar(".0"), _scalar(""), memory_pool=POOL)
        rare = np.flatnonzero(odd[fixed])
        if len(rare):
            written = _replace_at(written, rare, [ENCODER.encode(number).decode() for number in chosen[rare].tolist()])
        text = _replace_at(text, fixed, written)
    return text, NUMBER


def _replace_at(text: Any, positions: np.ndarray, written: Any) -> Any:
    """``text`` with the values at ``positions`` (in order) replaced by ``written``."""
    mask = np.zeros(len(text), dtype=bool)
    mask[positions] = True
    replacement = pa.array(written, TEXT) if isinstance(written, list) else written
    return pc.replace_with_mask(text, pa.array(mask), replacement)


def _timestamps(values: Any, wall_clock: Any = None) -> Any:
    """Timestamps as ``pd.Timestamp.isoformat()`` writes them: a fraction only when there is one (6 digits,
    or 9 for nanoseconds), the zone's offset at that moment for a zone-aware column."""
    unit, zone = values.type.unit, values.type.tz
    per_second = _PER_SECOND[unit]
    raw = pc.fill_null(values.cast(pa.int64()), 0).to_numpy()
    if zone is not None and wall_clock is None:
        wall_clock = pc.local_timestamp(values)
    local = raw if zone is None else pc.fill_null(wall_clock.cast(pa.int64()), 0).to_numpy()
    seconds, fraction = np.divmod(local, per_second)
    mask = values.is_null().to_numpy(zero_copy_only=False)
    text = _text(pa.array(seconds, pa.timestamp("s"), mask=mask))
    text = pc.utf8_replace_slice(text, 10, 11, "T", memory_pool=POOL)  # "2026-01-01 10:00:00": the T of ISO 8601
    parts = [text]
    if fraction.any():
        nanos = fraction * (10**9 // per_second)
        micro = pc.utf8_lpad(_text(pa.array(nanos // 1000)), 6, "0")
        nano = pc.utf8_lpad(_text(pa.array(nanos)), 9, "0")
        dot = pc.binary_join_element_wise(_scalar("."), pc.if_else(nanos % 1000 == 0, micro, nano), _scalar(""))
        parts.append(pc.if_else(fraction == 0, _scalar(""), dot))
    if zone is not None:
        offsets, where = np.unique((local - raw) // per_second, return_inverse=True)
        parts.append(pc.take(pa.array([_utc_offset(int(offset)) for offset in offsets], TEXT), pa.array(where)))
    if len(parts) == 1:
        return text
    return pc.binary_join_element_wise(*parts, _scalar(""), memory_pool=POOL)


def _utc_offset(seconds: int) -> str:
    """``+01:00`` as :meth:`datetime.isoformat` writes an offset (with ``:SS`` when it has seconds)."""
    sign = "-" if seconds < 0 else "+"
    hours, rest = divmod(abs(seconds), 3600)
    minutes, secs = divmod(rest, 60)
    return f"{sign}{hours:02d}:{minutes:02d}" + (f":{secs:02d}" if secs else "")


def _decimals(values: Any) -> tuple[Any, Quotes] | None:
    """Arrow decimals as ``str(Decimal)`` writes them; a scale that would make it write ``1E-7``: None."""
    scale = values.type.scale
    if not 0 <= scale <= 6:
        return None  # str() switches to an exponent below 1E-6 and for negative scales: value by value
    return _text(values), NUMBER


def _categories(values: Any) -> tuple[Any, Quotes] | None:
    """A category column: its categories written once, then taken by each row's code."""
    categories = arrow_json(values.dictionary)
    if categories is None:
        return None
    text, quotes = categories
    return pc.take(text, values.indices, memory_pool=POOL), quotes


def _lists(values: Any) -> tuple[Any, Quotes] | None:
    """Lists of numbers, booleans or text: ``[1,2]``, ``["a","b"]``; a missing item is null."""
    items = arrow_json(values.values)
    if items is None:
        return None
    text, (before, after) = items
    if before or after:
        text = pc.binary_join_element_wise(_scalar(before), text, _scalar(after), _scalar(""), memory_pool=POOL)
    text = pc.fill_null(text, _scalar("null"))
    lists_type = pa.large_list(TEXT) if pa.types.is_large_list(values.type) else pa.list_(TEXT)
    rebuilt = pa.Array.from_buffers(
        lists_type, len(values), [values.buffers()[0], values.buffers()[1]], values.null_count, values.offset, [text]
    )
    return pc.binary_join(rebuilt, _scalar(","), memory_pool=POOL), ("[", "]")


def _one_by_one(series: pd.Series) -> tuple[Any, Quotes] | None:
    """Value by value, as the row route converts them, written by msgspec: nested dicts, Decimals, mixed objects."""
    if series.dtype.kind != "O":
        return _converted(series)
    if pd.api.types.infer_dtype(series, skipna=True) == "decimal":
        decimals = _decimal_objects(series)
        if decimals is not None:
            return decimals
    written: list[bytes | None] = []
    for item in series.tolist():
        encoded = plain_json(item) if type(item) in (dict, list) else None
        if encoded is None:
            try:
                safe = json_safe(item)
            except UnsafeValue:
                return None  # a problem: the row route reports it
            encoded = None if safe is MISSING else ENCODER.encode(safe)
        written.append(encoded)
    return pa.array(written, pa.large_binary()).cast(TEXT), NUMBER


def _decimal_objects(series: pd.Series) -> tuple[Any, Quotes] | None:
    """Python Decimals (each keeps its own exponent: 1.10 stays 1.10): msgspec writes the whole column in one
    call, cut at the commas; None when a value is NaN or infinite (the careful way decides) or not a Decimal."""
    try:
        encoded = ENCODER.encode(series.tolist())  # None and NaN floats are null
    except (TypeError, ValueError, OverflowError):
        return None
    if any(letter in encoded for letter in (b"N", b"I", b'"')):
        return None  # NaN, sNaN, Infinity (not plain numbers), or text
    items = pc.split_pattern(pa.array([encoded[1:-1]], pa.large_binary()).cast(TEXT), ",").values
    return pc.if_else(pc.equal(items, _scalar("null")), pa.scalar(None, TEXT), items), NUMBER


def _converted(series: pd.Series) -> tuple[Any, Quotes] | None:
    """Through the row route's conversion of a typed column, then msgspec."""
    problems: list[int] = []
    values, missing = column_values(series, lambda position, _reason: problems.append(position), null=MISSING)
    if problems:
        return None
    encode = ENCODER.encode
    written = [None if absent else encode(value) for value, absent in zip(values, missing.tolist(), strict=True)]
    return pa.array(written, pa.large_binary()).cast(TEXT), NUMBER
