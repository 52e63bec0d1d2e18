"""Path fields: the path template and each field's values, as both routes put them into paths.

:func:`path_field` is the one place a column becomes path text: whole numbers and plain segments by Arrow
in one go, anything else value by value (percent-encoded), with a problem for each value a path cannot take.
"""

from __future__ import annotations

import re
import string
from collections.abc import Sequence
from typing import Any
from urllib.parse import quote

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from airflow_provider_ecwid.batch.arrow_values import POOL, TEXT
from airflow_provider_ecwid.batch.paths import path_problem
from airflow_provider_ecwid.batch.values import is_missing, text_problem
from airflow_provider_ecwid.errors import EcwidConfigError

#: A path value that needs no percent-encoding (fullmatch: ``$`` alone would let a trailing newline through).
_SAFE_SEGMENT = re.compile(r"[A-Za-z0-9_~-][A-Za-z0-9_.~-]*")
_PLAIN_SEGMENT = r"^[A-Za-z0-9_~-][A-Za-z0-9_.~-]*$"  # RE2: $ is the end of the text, newline or not


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


def path_segment(value: Any) -> tuple[str | None, str | None]:
    """
    One value of a path field as ``(text, None)``, percent-encoded where needed, or ``(None, reason)``.

    :param value: the value.
    """
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


def path_field(series: pd.Series) -> tuple[Any, list[tuple[int, str]]]:
    """
    A path field's values as Arrow text ready for the path, and the problems as ``(position, reason)``.

    :param series: the column.
    """
    plain = _plain_values(series)
    if plain is not None:
        return plain, []
    texts: list[str] = []
    problems: list[tuple[int, str]] = []
    for position, value in enumerate(series.tolist()):
        text, reason = path_segment(value)
        if reason is not None:
            problems.append((position, reason))
        texts.append(text or "")
    return pa.array(texts, TEXT), problems


def whole_or_text(series: pd.Series) -> Any:
    """
    The column as one Arrow array of whole numbers or of text, without a missing value; None otherwise (the
    column then goes value by value, where each problem is named).
    """
    try:
        values = pa.array(series, from_pandas=True, memory_pool=POOL)
    except (pa.ArrowException, ValueError, TypeError, OverflowError):
        return None
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks(memory_pool=POOL)
    if values.null_count:
        return None
    if pa.types.is_integer(values.type) or pa.types.is_string(values.type) or pa.types.is_large_string(values.type):
        return values
    return None


def _plain_values(series: pd.Series) -> Any:
    """The values as text when each is a whole number or a segment that needs no percent-encoding; else None."""
    values = whole_or_text(series)
    if values is None:
        return None
    if pa.types.is_integer(values.type):
        return pc.cast(values, TEXT, memory_pool=POOL)
    if not pc.all(pc.match_substring_regex(values, _PLAIN_SEGMENT, memory_pool=POOL)).as_py():
        return None
    return pc.cast(values, TEXT, memory_pool=POOL)
