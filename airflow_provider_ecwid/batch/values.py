"""JSON-safe values: pandas columns and Python values turned into what Ecwid's JSON can carry.

Rules: NaN / None / NaT mean "no value" and become ``MISSING`` (the field is left out,
or sent as null when asked); numpy scalars become Python numbers; timestamps become ISO 8601 strings;
Decimal stays a number; infinities, binary data and objects JSON cannot express are problems reported
with their row, never silently changed.
"""

from __future__ import annotations

import datetime as dt
import math
import re
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import msgspec
import numpy as np
import pandas as pd

#: Marks a field with no value; msgspec leaves such struct fields out of the JSON.
MISSING: Any = msgspec.UNSET

BINARY_HINT = "binary data cannot go in a batch: host the file and give its URL (e.g. externalUrl for images)"

#: The integers a JSON number may carry here: Ecwid's ids and counts are signed 64-bit (Kotlin's Long), so
#: an unsigned value above 2**63 - 1 would be misread or refused on the other side, after it was sent.
INT_MIN, INT_MAX = -(2**63), 2**63 - 1
BEYOND_INT64 = "is beyond 64-bit signed integers (Ecwid's numbers); send it as text"

#: The one JSON encoder of request values (Decimal as a number, as Ecwid expects prices); the wire module
#: writes whole requests with it. Its decoder is for :func:`plain_json`.
ENCODER = msgspec.json.Encoder(decimal_format="number")
_DECODER = msgspec.json.Decoder()
#: 19 digits in a row: perhaps an integer beyond 64 bits, which msgspec writes as it is.
_LONG_NUMBER = re.compile(rb"[0-9]{19}")

#: Reports a problem of the value at a position of the column being converted.
OnProblem = Callable[[int, str], None]


class UnsafeValue(ValueError):
    """A value that JSON cannot carry; the message says why."""


def text_problem(text: str) -> str | None:
    """
    Why ``text`` cannot be sent as UTF-8 (a lone surrogate, e.g. from text decoded with the wrong codec or
    with ``surrogateescape``), or None; phrased to follow "the value" or "the text".

    :param text: any text.
    """
    if text.isascii():
        return None
    try:
        text.encode("utf-8")
    except UnicodeEncodeError as err:
        return (
            f"holds a lone surrogate ({text[err.start]!r} at character {err.start}), which is not valid Unicode "
            "and cannot be sent; fix the text's encoding where it comes from"
        )
    return None


def is_missing(value: Any) -> bool:
    """True for None, NaN (float, numpy or Decimal), NaT and pandas.NA."""
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float | np.floating):
        return bool(math.isnan(value))
    if isinstance(value, Decimal):
        return value.is_nan()
    if isinstance(value, np.datetime64 | np.timedelta64):
        return bool(np.isnat(value))
    return False


def json_safe(value: Any, *, nested: bool = False) -> Any:
    """
    Return ``value`` as something JSON can carry, or raise :class:`UnsafeValue`.

    :param value: any Python, numpy or pandas value.
    :param nested: True inside lists and dicts, where a missing value becomes null instead of MISSING.
    """
    if is_missing(value):
        return None if nested else MISSING
    if isinstance(value, int) and not isinstance(value, bool | np.generic) and not INT_MIN <= value <= INT_MAX:
        raise UnsafeValue(f"{value} {BEYOND_INT64}")
    if isinstance(value, str) and not isinstance(value, np.generic):
        problem = text_problem(value)
        if problem is not None:
            raise UnsafeValue(f"the text {problem}")
        return value
    if isinstance(value, bool | int) and not isinstance(value, np.generic):
        return value
    if isinstance(value, float):
        if math.isinf(value):
            raise UnsafeValue("infinity is not a JSON number")
        return value
    if isinstance(value, np.generic):
        if isinstance(value, np.bytes_ | np.void):
            raise UnsafeValue(BINARY_HINT)
        return json_safe(value.item(), nested=nested)
    if isinstance(value, Decimal):
        if value.is_infinite():
            raise UnsafeValue("infinity is not a JSON number")
        return value
    if isinstance(value, bytes | bytearray | memoryview):
        raise UnsafeValue(BINARY_HINT)
    if isinstance(value, pd.Timestamp | dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dict):
        safe: dict[str, Any] = {}
        for key, item in value.items():
            if not isinstance(key, str):
                raise UnsafeValue(f"dict keys must be strings, got {type(key).__name__} {key!r}")
            problem = text_problem(key)
            if problem is not None:
                raise UnsafeValue(f"the key {key!r} {problem}")
            safe[key] = json_safe(item, nested=True)
        return safe
    if isinstance(value, list | tuple | np.ndarray):
        return [json_safe(item, nested=True) for item in value]
    raise UnsafeValue(f"a {type(value).__name__} cannot be sent as JSON")


def plain_json(value: Any) -> bytes | None:
    """
    The JSON of a dict or list that :func:`json_safe` would leave as it is, written by msgspec in C; None when
    it would change or refuse something in it (NaN, infinity, a big integer, a non-text key, numpy or pandas
    values, bytes, a lone surrogate...) or may: then :func:`json_safe` must look at it value by value.

    msgspec writes what it reads back unchanged, so reading the JSON back and comparing it with the value
    finds every change (NaN became null, a key became text, bytes became base64, a tuple a list); only
    integers beyond 64 bits read back unchanged, so a run of 19 digits sends the value the careful way.

    :param value: a dict or list.
    """
    try:
        encoded = ENCODER.encode(value)
        long_number = len(encoded) - len(encoded.translate(None, b"0123456789")) >= 19 and _LONG_NUMBER.search(encoded)
        if not long_number and _DECODER.decode(encoded) == value:
            return encoded
    except (TypeError, ValueError, OverflowError, UnicodeError, msgspec.MsgspecError):
        pass
    return None


def _missing_to(values: list[Any], mask: np.ndarray, replacement: Any) -> None:
    for position in np.flatnonzero(mask).tolist():
        values[position] = replacement


def column_values(series: pd.Series, on_problem: OnProblem, *, null: Any = MISSING) -> tuple[list[Any], np.ndarray]:
    """
    Convert one column; return its values and a mask of the rows that have no value.

    Vectorized for numbers, booleans and strings; value by value for object columns.

    :param series: the column.
    :param on_problem: called with the position and the reason of each value that cannot be sent.
    :param null: what a missing value becomes: MISSING (left out) or None (sent as null).
    """
    dtype = series.dtype
    kind = dtype.kind
    if kind == "f" and not isinstance(dtype, pd.api.extensions.ExtensionDtype):
        numbers = series.to_numpy()
        mask = np.isnan(numbers)
        for position in np.flatnonzero(np.isinf(numbers)).tolist():
            on_problem(position, "infinity is not a JSON number")
        values = numbers.tolist()
        if mask.any():
            _missing_to(values, mask, null)
        return values, mask
    if kind in "iub" and not isinstance(dtype, pd.api.extensions.ExtensionDtype):
        numbers = series.to_numpy()
        values = numbers.tolist()
        if kind == "u" and dtype.itemsize == 8:
            for position in np.flatnonzero(numbers > INT_MAX).tolist():
                on_problem(position, f"{values[position]} {BEYOND_INT64}")
                values[position] = null
        return values, np.zeros(len(series), dtype=bool)
    if isinstance(dtype, pd.StringDtype):
        mask = series.isna().to_numpy()
        values = series.tolist()
        if dtype.storage == "python":  # Arrow's strings are valid UTF-8; Python's may hold a lone surrogate
            for position, value in enumerate(values):
                problem = None if mask[position] else text_problem(value)
                if problem is not None:
                    on_problem(position, f"the text {problem}")
                    values[position] = null
        if mask.any():
            _missing_to(values, mask, null)
        return values, mask
    if kind in "SV":
        mask = series.isna().to_numpy()
        for position in np.flatnonzero(~mask).tolist():
            on_problem(position, BINARY_HINT)
        return [null] * len(series), mask
    if kind == "m":
        mask = series.isna().to_numpy()
        for position in np.flatnonzero(~mask).tolist():
            on_problem(position, "a time span cannot be sent as JSON; convert it to a number or text first")
        return [null] * len(series), mask
    return _object_values(series.tolist(), on_problem, null)


_CONTAINERS = (dict, list)


def _object_values(items: list[Any], on_problem: OnProblem, null: Any) -> tuple[list[Any], np.ndarray]:
    values: list[Any] = []
    mask = np.zeros(len(items), dtype=bool)
    for position, item in enumerate(items):
        if type(item) in _CONTAINERS and plain_json(item) is not None:
            values.append(item)  # nothing to change: msgspec writes it as it is
            continue
        try:
            safe = json_safe(item)
        except UnsafeValue as err:
            on_problem(position, str(err))
            values.append(null)
            continue
        if safe is MISSING:
            mask[position] = True
            safe = null
        values.append(safe)
    return values, mask
