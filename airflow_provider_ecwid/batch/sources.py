"""Where rows come from: a DataFrame, a list of dicts, a list of ready requests, or a file read in slices.

Each kind of input is a small :class:`InputSource` class; :func:`make_source` picks one from a registry keyed by
the data's type and, for files, by the name's suffix (as requests mounts adapters by URL prefix).
"""

from __future__ import annotations

import gzip
import json
import os
import zlib
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator, Sequence
from itertools import islice
from typing import IO, Any, ClassVar

import pandas as pd

from airflow_provider_ecwid.batch.ready import is_ready_request
from airflow_provider_ecwid.batch.values import text_problem
from airflow_provider_ecwid.errors import EcwidConfigError, EcwidError, EcwidInputError

#: The name of a registered file format: csv, parquet, jsonl.
FileFormat = str


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


class InputSource(ABC):
    """
    Rows to turn into requests, readable any number of times in slices.

    A new kind of input is one subclass and one registration: :func:`register_data_type` for an in-memory type,
    :func:`register_file_format` for a file format.
    """

    #: The slices hold ready batch requests (dicts with method and path), not rows.
    holds_requests: ClassVar[bool] = False
    #: The rows are in memory already: bigger slices cost no extra memory and encode faster.
    in_memory: ClassVar[bool] = False

    @abstractmethod
    def describe(self) -> str:
        """The input, as error messages name it."""

    @abstractmethod
    def slices(self, rows: int) -> Iterator[tuple[int, Any]]:
        """Yield ``(first_row, slice)``: DataFrames of at most ``rows`` rows, or lists of ready requests."""

    def read_as_text(self, columns: Sequence[str]) -> None:  # noqa: B027 - most sources keep types as given
        """
        Keep these columns as text from the moment they are read (a CSV's ``00123`` stays ``00123``).

        :param columns: the column names.
        """


class FrameSource(InputSource):
    """
    A pandas DataFrame, sliced without copying.

    :param frame: the DataFrame.
    """

    in_memory = True

    def __init__(self, frame: pd.DataFrame) -> None:
        self.frame = frame

    def describe(self) -> str:
        return f"a DataFrame of {len(self.frame):,} rows"

    def slices(self, rows: int) -> Iterator[tuple[int, pd.DataFrame]]:
        check_column_names(self.frame.columns, self.describe())
        for start in range(0, len(self.frame), rows):
            yield start, self.frame.iloc[start : start + rows]


class RowsSource(InputSource):
    """
    A list of dicts, one a row (e.g. from XCom).

    :param items: the rows.
    """

    def __init__(self, items: Sequence[dict[str, Any]]) -> None:
        self.items = items

    def describe(self) -> str:
        return f"a list of {len(self.items):,} rows"

    def slices(self, rows: int) -> Iterator[tuple[int, pd.DataFrame]]:
        for start in range(0, len(self.items), rows):
            # object dtype keeps each value as given: no int -> float because of a None
            frame = pd.DataFrame(list(self.items[start : start + rows]), dtype=object)
            check_column_names(frame.columns, f"{self.describe()} (from row {start})")
            yield start, frame


class ReadyRequestsSource(InputSource):
    """
    A list of ready batch requests (dicts with ``method`` and ``path``, or ``BatchRequest`` objects), checked
    and sent as they are.

    :param items: the requests.
    """

    holds_requests = True

    def __init__(self, items: Sequence[dict[str, Any]]) -> None:
        self.items = items

    def describe(self) -> str:
        return f"a list of {len(self.items):,} ready requests"

    def slices(self, rows: int) -> Iterator[tuple[int, Sequence[dict[str, Any]]]]:
        for start in range(0, len(self.items), rows):
            yield start, self.items[start : start + rows]


class MadeRequestsSource(InputSource):
    """
    Ready batch requests made as they are read, by a function called once per read: a phase of hundreds of
    thousands of requests never holds more than a slice of them.

    :param make: returns a new iterator over the requests, the same ones in the same order at every call.
    """

    holds_requests = True

    def __init__(self, make: Callable[[], Iterable[dict[str, Any]]]) -> None:
        self.make = make

    def describe(self) -> str:
        return "ready requests made as they are sent"

    def slices(self, rows: int) -> Iterator[tuple[int, Sequence[dict[str, Any]]]]:
        requests = iter(self.make())
        start = 0
        while part := list(islice(requests, rows)):
            yield start, part
            start += len(part)


class FileSource(InputSource):
    """
    A file, local or at a URL the opener understands, read in slices of DataFrames.

    :param name: the file's name or URL.
    :param opener: opens the file for reading bytes, once per read.
    :param read_options: extra keyword arguments for the pandas/pyarrow reader.
    """

    #: The format's name, as ``file_format`` takes it.
    format_name: ClassVar[str]

    def __init__(self, name: str, opener: Callable[[], IO[bytes]], read_options: dict[str, Any] | None = None) -> None:
        self.name = name
        self.opener = opener
        self.read_options = dict(read_options or {})

    @property
    def gzipped(self) -> bool:
        return self.name.lower().endswith(".gz")

    def describe(self) -> str:
        return f"the {self.format_name} file {self.name}"

    @abstractmethod
    def read(self, handle: IO[bytes], rows: int) -> Iterator[pd.DataFrame]:
        """The file's rows as DataFrames of at most ``rows`` rows."""

    def slices(self, rows: int) -> Iterator[tuple[int, pd.DataFrame]]:
        try:
            handle = self.opener()
        except FileNotFoundError:
            raise EcwidInputError(f"the input file {self.name} does not exist") from None
        except OSError as err:
            raise EcwidInputError(f"cannot open the input file {self.name}: {err}") from None
        start = 0
        with handle:
            try:
                for frame in self.read(handle, rows):
                    check_column_names(frame.columns, self.describe())
                    yield start, frame
                    start += len(frame)
            except (ValueError, pd.errors.ParserError, OSError, EOFError, zlib.error) as err:
                if isinstance(err, EcwidError):
                    raise
                hint = " (the file is truncated, or still being written)" if isinstance(err, EOFError) else ""
                raise EcwidInputError(f"cannot read {self.describe()} after row {start}: {err}{hint}") from None


class CsvSource(FileSource):
    """A CSV file (tab-separated when named ``.tsv``; gzip when named ``.gz``), read with pandas in chunks."""

    format_name = "csv"

    def read(self, handle: IO[bytes], rows: int) -> Iterator[pd.DataFrame]:
        options = dict(self.read_options)
        if self.name.lower().endswith(".tsv"):
            options.setdefault("sep", "\t")
        options.setdefault("compression", "gzip" if self.gzipped else None)
        read_csv: Any = pd.read_csv
        yield from read_csv(handle, chunksize=rows, **options)

    def read_as_text(self, columns: Sequence[str]) -> None:
        dtype = self.read_options.get("dtype")
        if dtype is None or isinstance(dtype, dict):  # a single dtype for every column is the user's choice
            self.read_options["dtype"] = {**dict.fromkeys(columns, str), **(dtype or {})}


class ParquetSource(FileSource):
    """A Parquet file, read with pyarrow one record batch at a time."""

    format_name = "parquet"

    def read(self, handle: IO[bytes], rows: int) -> Iterator[pd.DataFrame]:
        import pyarrow.parquet as pq

        for batch in pq.ParquetFile(handle).iter_batches(batch_size=rows, **self.read_options):
            yield batch.to_pandas()


class JsonLinesSource(FileSource):
    """A JSON Lines file: one JSON object a line, one row an object."""

    format_name = "jsonl"

    def read(self, handle: IO[bytes], rows: int) -> Iterator[pd.DataFrame]:
        options = dict(self.read_options)
        options.setdefault("compression", "gzip" if self.gzipped else None)
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

    def _refuse_a_line_that_is_not_an_object(self) -> None:
        """Read the file again, line by line, and raise naming the first line that is not an object."""
        compression = self.read_options.get("compression", "gzip" if self.gzipped else None)
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
                        f"{self.describe()}: line {number} {what}; each line must be one JSON object, one row"
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


#: File formats by name, and the name by suffix (the longest suffix that matches wins).
_FILE_FORMATS: dict[str, type[FileSource]] = {}
_SUFFIXES: dict[str, str] = {}
#: In-memory inputs: the first registered type that the data is an instance of makes its source.
_DATA_TYPES: list[tuple[type | tuple[type, ...], Callable[[Any], InputSource]]] = []


def register_file_format(source: type[FileSource], *suffixes: str) -> None:
    """
    Read files named with these suffixes (and ``file_format=source.format_name``) with ``source``.

    :param source: the :class:`FileSource` subclass.
    :param suffixes: lower-case suffixes, with their dot, e.g. ``".csv"``, ``".csv.gz"``.
    """
    _FILE_FORMATS[source.format_name] = source
    _SUFFIXES.update(dict.fromkeys(suffixes, source.format_name))


def register_data_type(data_type: type | tuple[type, ...], make: Callable[[Any], InputSource]) -> None:
    """
    Turn data of this type (e.g. a DataFrame) into a source with ``make``.

    :param data_type: the type, or a tuple of types, as ``isinstance`` takes it.
    :param make: makes the source from the data.
    """
    _DATA_TYPES.append((data_type, make))


def guess_format(name: str) -> str:
    """The format of a file from its name's suffix."""
    lowered = name.lower()
    for suffix in sorted(_SUFFIXES, key=len, reverse=True):
        if lowered.endswith(suffix):
            return _SUFFIXES[suffix]
    known = ", ".join(sorted(_SUFFIXES))
    raise EcwidConfigError(f"cannot tell the format of {name!r} from its suffix ({known}); set file_format")


def _rows_or_requests(data: list[Any] | tuple[Any, ...]) -> InputSource:
    if data and all(is_ready_request(item) for item in data):
        return ReadyRequestsSource(data)
    if not all(isinstance(item, dict) for item in data):
        kinds = sorted({type(item).__name__ for item in data if not isinstance(item, dict)})
        raise EcwidConfigError(
            f"data as a list must hold dicts only (rows or ready requests), or BatchRequest objects; it also holds "
            f"{', '.join(kinds)}"
        )
    return RowsSource(data)


register_data_type(pd.DataFrame, FrameSource)
register_data_type((list, tuple), _rows_or_requests)
register_file_format(CsvSource, ".csv", ".csv.gz", ".tsv")
register_file_format(ParquetSource, ".parquet", ".pq")
register_file_format(JsonLinesSource, ".jsonl", ".ndjson", ".jsonl.gz", ".ndjson.gz")


def make_source(
    data: Any,
    *,
    opener: Callable[[str], IO[bytes]] | None = None,
    file_format: str | None = None,
    read_options: dict[str, Any] | None = None,
) -> InputSource:
    """
    Recognise what ``data`` is.

    :param data: a DataFrame, a list of dicts (rows or ready requests), or a path / URL of a file.
    :param opener: opens a path or URL for reading bytes (default: a local file).
    :param file_format: a registered format (csv, parquet, jsonl); default from the file's suffix.
    :param read_options: extra keyword arguments for the file reader.
    """
    if isinstance(data, str | os.PathLike):
        return _file_source(os.fspath(data), opener, file_format, read_options)
    for data_type, make in _DATA_TYPES:
        if isinstance(data, data_type):
            return make(data)
    raise EcwidConfigError(
        f"data must be a DataFrame, a list of dicts, or a path/URL of a CSV, Parquet or JSON Lines file; "
        f"got {type(data).__name__}"
    )


def _file_source(
    name: str,
    opener: Callable[[str], IO[bytes]] | None,
    file_format: str | None,
    read_options: dict[str, Any] | None,
) -> FileSource:
    if not name.strip():
        raise EcwidConfigError("data is an empty string; give a DataFrame, a list of dicts, or a file path")
    chosen = file_format or guess_format(name)
    if chosen not in _FILE_FORMATS:
        raise EcwidConfigError(f"file_format must be one of {', '.join(sorted(_FILE_FORMATS))}; got {chosen!r}")
    open_file = opener or (lambda path: open(path, "rb"))  # noqa: SIM115 - closed by the reader
    return _FILE_FORMATS[chosen](name, lambda: open_file(name), read_options)
