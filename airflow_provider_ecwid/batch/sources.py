"""Where rows come from: a DataFrame, a list of dicts, a list of ready requests, or a file read in slices."""

from __future__ import annotations

import gzip
import json
import os
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Literal

import pandas as pd

from airflow_provider_ecwid.batch.build import is_ready_request
from airflow_provider_ecwid.batch.values import text_problem
from airflow_provider_ecwid.errors import EcwidConfigError, EcwidError

FileFormat = Literal["csv", "parquet", "jsonl"]
SourceKind = Literal["dataframe", "records", "requests", "file", "derived"]
Slicer = Callable[[int], Iterator[tuple[int, pd.DataFrame]]]

_SUFFIXES: dict[str, FileFormat] = {
    ".csv": "csv",
    ".csv.gz": "csv",
    ".tsv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".jsonl.gz": "jsonl",
}


class EcwidInputError(EcwidError, ValueError):
    """The input cannot be read (a missing file, a malformed line); nothing was sent."""


def check_column_names(columns: pd.Index, where: str) -> None:
    """
    Refuse column names that the builder could not address by name, saying which and how to fix them.

    :param columns: the columns of a DataFrame or slice.
    :param where: the input, as :meth:`InputSource.describe` names it.
    """
    if isinstance(columns, pd.MultiIndex):
        raise EcwidConfigError(
            f"{where} has a MultiIndex of columns ({columns.nlevels} levels, e.g. {columns[0]!r}); give it one "
            "level of text names first, e.g. frame.columns = ['_'.join(map(str, name)) for name in frame.columns]"
        )
    not_text = [name for name in columns if not isinstance(name, str)]
    if not_text:
        shown = ", ".join(f"{name!r} ({type(name).__name__})" for name in not_text[:5])
        raise EcwidConfigError(
            f"{where}: column names must be text, and {shown} {'is' if len(not_text) == 1 else 'are'} not; "
            "rename them, e.g. frame.columns = frame.columns.astype(str)"
        )
    for name in columns:
        problem = text_problem(name)
        if problem is not None:
            raise EcwidConfigError(f"{where}: the column name {name!r} {problem}")
    if not columns.is_unique:
        repeated = ", ".join(map(repr, dict.fromkeys(columns[columns.duplicated()])))
        raise EcwidConfigError(f"{where}: the column name(s) {repeated} appear more than once; give each its own name")


def guess_format(name: str) -> FileFormat:
    """The format of a file from its name's suffix."""
    lowered = name.lower()
    for suffix, file_format in sorted(_SUFFIXES.items(), key=lambda item: -len(item[0])):
        if lowered.endswith(suffix):
            return file_format
    raise EcwidConfigError(
        f"cannot tell the format of {name!r} from its suffix; name it .csv, .parquet or .jsonl, or set file_format"
    )


@dataclass
class InputSource:
    """
    Rows to turn into requests, readable any number of times in slices.

    :param kind: dataframe, records, requests (ready batch requests) or file.
    :param frame: the DataFrame (kind dataframe).
    :param items: the dicts (kinds records and requests).
    :param name: the file's name or URL (kind file).
    :param opener: opens the file for reading bytes (kind file).
    :param file_format: csv, parquet or jsonl (kind file).
    :param read_options: extra keyword arguments for the pandas/pyarrow reader (kind file).
    :param slicer: makes the slices of DataFrames (kind derived: rows computed from another source).
    """

    kind: SourceKind
    frame: pd.DataFrame | None = None
    items: Sequence[Any] = ()
    name: str = ""
    opener: Callable[[], IO[bytes]] | None = None
    file_format: FileFormat | None = None
    read_options: dict[str, Any] = field(default_factory=dict)
    slicer: Slicer | None = None

    def describe(self) -> str:
        if self.kind == "dataframe":
            assert self.frame is not None
            return f"a DataFrame of {len(self.frame):,} rows"
        if self.kind in ("records", "requests"):
            return f"a list of {len(self.items):,} {'rows' if self.kind == 'records' else 'ready requests'}"
        if self.kind == "derived":
            return self.name or "derived rows"
        return f"the {self.file_format} file {self.name}"

    def slices(self, rows: int) -> Iterator[tuple[int, Any]]:
        """Yield ``(first_row, slice)``: DataFrames, or lists of dicts for ready requests."""
        if self.kind == "dataframe":
            assert self.frame is not None
            check_column_names(self.frame.columns, self.describe())
            for start in range(0, len(self.frame), rows):
                yield start, self.frame.iloc[start : start + rows]
        elif self.kind == "records":
            for start in range(0, len(self.items), rows):
                # object dtype keeps each value as given: no int -> float because of a None
                frame = pd.DataFrame(list(self.items[start : start + rows]), dtype=object)
                check_column_names(frame.columns, f"{self.describe()} (from row {start})")
                yield start, frame
        elif self.kind == "requests":
            for start in range(0, len(self.items), rows):
                yield start, self.items[start : start + rows]
        elif self.kind == "derived":
            assert self.slicer is not None
            yield from self.slicer(rows)
        else:
            yield from self._file_slices(rows)

    def _file_slices(self, rows: int) -> Iterator[tuple[int, pd.DataFrame]]:
        assert self.opener is not None
        try:
            handle = self.opener()
        except FileNotFoundError:
            raise EcwidInputError(f"the input file {self.name} does not exist") from None
        except OSError as err:
            raise EcwidInputError(f"cannot open the input file {self.name}: {err}") from None
        start = 0
        with handle:
            try:
                for frame in self._read(handle, rows):
                    check_column_names(frame.columns, self.describe())
                    yield start, frame
                    start += len(frame)
            except (ValueError, pd.errors.ParserError, OSError, EOFError, zlib.error) as err:
                if isinstance(err, EcwidError):
                    raise
                hint = " (the file is truncated, or still being written)" if isinstance(err, EOFError) else ""
                raise EcwidInputError(
                    f"cannot read the {self.file_format} file {self.name} after row {start}: {err}{hint}"
                ) from None

    def _read(self, handle: IO[bytes], rows: int) -> Iterator[pd.DataFrame]:
        options = dict(self.read_options)
        if self.file_format == "csv":
            if self.name.lower().endswith(".tsv"):
                options.setdefault("sep", "\t")
            options.setdefault("compression", "gzip" if self.name.lower().endswith(".gz") else None)
            read_csv: Any = pd.read_csv
            yield from read_csv(handle, chunksize=rows, **options)
        elif self.file_format == "jsonl":
            options.setdefault("compression", "gzip" if self.name.lower().endswith(".gz") else None)
            options.setdefault("dtype", False)
            options.setdefault("convert_dates", False)
            options.setdefault("convert_axes", False)  # keys stay text: {"0": ...} is column "0", not 0
            read_json: Any = pd.read_json
            try:
                for frame in read_json(handle, lines=True, chunksize=rows, **options):
                    if not all(isinstance(name, str) for name in frame.columns):
                        self._refuse_a_line_that_is_not_an_object()  # arrays and scalars make numbered columns
                    yield frame
            except (TypeError, ValueError, KeyError, AttributeError) as err:  # pandas 2 fails on .keys()
                if isinstance(err, EcwidError):
                    raise
                self._refuse_a_line_that_is_not_an_object()
                raise
        else:
            import pyarrow.parquet as pq

            for batch in pq.ParquetFile(handle).iter_batches(batch_size=rows, **options):
                yield batch.to_pandas()

    def _refuse_a_line_that_is_not_an_object(self) -> None:
        """Read the JSON Lines file again, line by line, and raise naming the first line that is not an object."""
        assert self.opener is not None
        compression = self.read_options.get("compression", "gzip" if self.name.lower().endswith(".gz") else None)
        try:
            with self.opener() as raw:
                lines: IO[bytes] | gzip.GzipFile = gzip.GzipFile(fileobj=raw) if compression == "gzip" else raw
                for number, line in enumerate(lines, start=1):
                    if not line.strip():
                        continue
                    try:
                        value = json.loads(line)
                    except ValueError as err:
                        what = f"is not valid JSON ({getattr(err, 'msg', err)})"
                    else:
                        if isinstance(value, dict):
                            continue
                        what = f"is {_json_kind(value)}, not an object"
                    raise EcwidInputError(
                        f"the jsonl file {self.name}: line {number} {what}; each line must be one JSON object, one row"
                    )
        except (OSError, EOFError, zlib.error):
            return  # the file cannot be read again: the reader's own error says what it can


def _json_kind(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a JSON true/false value"
    if isinstance(value, int | float):
        return "a JSON number"
    if isinstance(value, str):
        return "a JSON string"
    return "a JSON array"


def make_source(
    data: Any,
    *,
    opener: Callable[[str], IO[bytes]] | None = None,
    file_format: FileFormat | None = None,
    read_options: dict[str, Any] | None = None,
) -> InputSource:
    """
    Recognise what ``data`` is.

    :param data: a DataFrame, a list of dicts (rows or ready requests), or a path / URL of a file.
    :param opener: opens a path or URL for reading bytes (default: a local file).
    :param file_format: csv, parquet or jsonl; default from the file's suffix.
    :param read_options: extra keyword arguments for the file reader.
    """
    if isinstance(data, pd.DataFrame):
        return InputSource("dataframe", frame=data)
    if isinstance(data, str | os.PathLike):
        name = os.fspath(data)
        if not name.strip():
            raise EcwidConfigError("data is an empty string; give a DataFrame, a list of dicts, or a file path")
        open_file = opener or (lambda path: open(path, "rb"))  # noqa: SIM115 - closed by the reader
        return InputSource(
            "file",
            name=name,
            opener=lambda: open_file(name),
            file_format=file_format or guess_format(name),
            read_options=dict(read_options or {}),
        )
    if isinstance(data, list | tuple):
        if not all(isinstance(item, dict) for item in data):
            kinds = sorted({type(item).__name__ for item in data if not isinstance(item, dict)})
            raise EcwidConfigError(f"data as a list must hold dicts only; it also holds {', '.join(kinds)}")
        if data and all(is_ready_request(item) for item in data):
            return InputSource("requests", items=data)
        return InputSource("records", items=data)
    raise EcwidConfigError(
        f"data must be a DataFrame, a list of dicts, or a path/URL of a CSV, Parquet or JSON Lines file; "
        f"got {type(data).__name__}"
    )
