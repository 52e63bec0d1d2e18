"""Where rows come from: a DataFrame, a list of dicts, a list of ready requests, or a file read in slices."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import IO, Any, Literal

import pandas as pd

from airflow_provider_ecwid.batch.build import is_ready_request
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
            for start in range(0, len(self.frame), rows):
                yield start, self.frame.iloc[start : start + rows]
        elif self.kind == "records":
            for start in range(0, len(self.items), rows):
                # object dtype keeps each value as given: no int -> float because of a None
                yield start, pd.DataFrame(list(self.items[start : start + rows]), dtype=object)
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
                    yield start, frame
                    start += len(frame)
            except (ValueError, pd.errors.ParserError, OSError) as err:
                if isinstance(err, EcwidError):
                    raise
                raise EcwidInputError(
                    f"cannot read the {self.file_format} file {self.name} after row {start}: {err}"
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
            read_json: Any = pd.read_json
            yield from read_json(handle, lines=True, chunksize=rows, **options)
        else:
            import pyarrow.parquet as pq

            for batch in pq.ParquetFile(handle).iter_batches(batch_size=rows, **options):
                yield batch.to_pandas()


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
