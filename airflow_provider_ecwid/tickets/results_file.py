"""The results file's format: every request's outcome as CSV or JSON Lines, whatever wrote the rows."""

from __future__ import annotations

import csv
import json
from collections.abc import Iterable, Mapping, Sequence
from typing import IO, Any

from airflow_provider_ecwid.errors import EcwidConfigError

RESULT_FORMATS = (".csv", ".jsonl", ".ndjson")
#: The columns of a batch's results file (one row per request: :meth:`BatchReport.rows`).
BATCH_FIELDS = ("ticket", "id", "status", "http_status", "error_code", "error_message", "entity_id")


def check_results_path(path: str | None) -> None:
    """Refuse a results path whose suffix names no format this provider writes."""
    if path and not path.lower().endswith(RESULT_FORMATS):
        raise EcwidConfigError(f"results_path must end in .csv or .jsonl (.ndjson), got {path!r}")


def write_rows(handle: IO[str], rows: Iterable[Mapping[str, Any]], fields: Sequence[str], *, as_csv: bool) -> int:
    """
    Write outcome rows to an open text file; return how many.

    :param handle: the file, open for writing text.
    :param rows: the rows, each a dict with (at least) ``fields``.
    :param fields: the CSV columns, in order (JSON Lines writes each row whole).
    :param as_csv: CSV with a header, else JSON Lines.
    """
    written = 0
    if as_csv:
        writer = csv.DictWriter(handle, fieldnames=list(fields), extrasaction="ignore")
        writer.writeheader()
        for row in rows:
            writer.writerow(row)
            written += 1
        return written
    for row in rows:
        handle.write(json.dumps(row) + "\n")
        written += 1
    return written
