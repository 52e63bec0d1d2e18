"""An export's file, written as its pages arrive: Parquet (row groups of 20,000 rows), CSV or JSON lines.

Every file of an entity has the entity's schema (``export.schema``). Parquet keeps nested lists and structs
nested and times as UTC timestamps; CSV writes nested values as JSON text; both text formats write times as ISO
8601 text. The file is opened through the opener the caller hands in (a local path, ``file://`` or an object
storage URL), so this module needs no Airflow.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from datetime import datetime
from typing import IO, Any, Literal, Protocol

import pyarrow as pa
import pyarrow.parquet as pq

#: The export formats, and the suffix each one's file is expected to have.
ExportFormat = Literal["parquet", "csv", "jsonl"]
SUFFIXES: dict[str, tuple[str, ...]] = {"parquet": (".parquet",), "csv": (".csv",), "jsonl": (".jsonl", ".ndjson")}

Opener = Callable[[str, str], IO[Any]]
#: Rows per Parquet row group. Pages arrive 100 rows at a time; a row group per page would make a million orders
#: 10,000 row groups, whose metadata the writer holds until the footer (memory growing with the export) and
#: readers pay for. 20,000 orders are about 20 MB in Arrow while they wait.
ROW_GROUP_ROWS = 20_000


class ExportFile(Protocol):
    """Where record batches go, in order; :meth:`close` ends the file and says how many rows it holds."""

    def write(self, batch: pa.RecordBatch) -> None: ...

    def close(self) -> int: ...


class ParquetFile:
    """
    A Parquet file of one schema, written a row group of :data:`ROW_GROUP_ROWS` at a time.

    :param handle: the open binary file.
    :param schema: the entity's schema.
    """

    def __init__(self, handle: IO[Any], schema: pa.Schema) -> None:
        self.handle = handle
        self.writer = pq.ParquetWriter(handle, schema, compression="zstd")
        self.pending: list[pa.RecordBatch] = []
        self.pending_rows = 0
        self.rows = 0

    def write(self, batch: pa.RecordBatch) -> None:
        self.pending.append(batch)
        self.pending_rows += batch.num_rows
        self.rows += batch.num_rows
        if self.pending_rows >= ROW_GROUP_ROWS:
            self._flush()

    def _flush(self) -> None:
        if self.pending:
            self.writer.write_table(pa.Table.from_batches(self.pending), row_group_size=ROW_GROUP_ROWS)
        self.pending, self.pending_rows = [], 0

    def close(self) -> int:
        self._flush()
        self.writer.close()  # writes the footer: an empty export is a valid file of the schema
        self.handle.close()
        return self.rows


class TextFile:
    """
    A CSV (with a header, nested values as JSON text) or JSON lines file.

    :param handle: the open text file.
    :param schema: the entity's schema (the CSV header, in order).
    :param as_csv: CSV, else JSON lines.
    """

    def __init__(self, handle: IO[Any], schema: pa.Schema, *, as_csv: bool) -> None:
        self.handle = handle
        self.names = list(schema.names)
        self.csv = csv.DictWriter(handle, fieldnames=self.names, extrasaction="ignore") if as_csv else None
        if self.csv is not None:
            self.csv.writeheader()
        self.rows = 0

    def write(self, batch: pa.RecordBatch) -> None:
        for row in batch.to_pylist():
            if self.csv is not None:
                self.csv.writerow({name: _cell(row[name]) for name in self.names})
            else:
                self.handle.write(json.dumps(row, default=_json_default, ensure_ascii=False) + "\n")
        self.rows += batch.num_rows

    def close(self) -> int:
        self.handle.close()
        return self.rows


def _json_default(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    raise TypeError(f"{type(value).__name__} is not JSON")


def _cell(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, dict | list):
        return json.dumps(value, default=_json_default, ensure_ascii=False)
    return value


def open_export(url: str, file_format: ExportFormat, schema: pa.Schema, opener: Opener) -> ExportFile:
    """
    The export's file at ``url``, opened for writing.

    :param url: a local path, ``file://`` or an object storage URL.
    :param file_format: ``parquet``, ``csv`` or ``jsonl``.
    :param schema: the entity's schema.
    :param opener: opens ``url`` in a mode (``"wb"``, ``"w"``).
    """
    if file_format == "parquet":
        return ParquetFile(opener(url, "wb"), schema)
    handle = opener(url, "w")
    if isinstance(handle, io.TextIOBase) or hasattr(handle, "encoding"):
        return TextFile(handle, schema, as_csv=file_format == "csv")
    return TextFile(io.TextIOWrapper(handle, encoding="utf-8", newline=""), schema, as_csv=file_format == "csv")
