"""One export, with no Airflow in it: an entity's items in a window, read through batches into one file.

The window is fixed before the first page (``reading.window``); :class:`~reading.pages.BatchedReader` hands
its items on a page at a time, each id once, and each page goes into the file as a record batch of the entity's
schema (``export.schema``), so memory holds one batch's answer whatever the export's size. The deletions of the
window (``/{entity}/deleted``) go into a second file when asked. The result says what was written and what it
cost, in HTTP calls.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pyarrow as pa

from airflow_provider_ecwid.api.client import EcwidClient
from airflow_provider_ecwid.errors import EcwidConfigError
from airflow_provider_ecwid.export.entities import ENTITIES
from airflow_provider_ecwid.export.files import ExportFile, ExportFormat, Opener, open_export
from airflow_provider_ecwid.export.schema import DELETED, deleted_batch, deletion_seconds, record_batch
from airflow_provider_ecwid.reading.pages import PAGES_PER_BATCH, BatchedReader, ListEndpoint, TicketRunner, store_now
from airflow_provider_ecwid.reading.window import Window

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExportSettings:
    """
    What to export, and where.

    :param entity: ``orders``, ``products``, ``customers`` or ``categories``.
    :param window: the update-time window (None: the whole entity, up to when the export starts).
    :param filters: the entity's search filters, checked (``export.entities.checked_filters``).
    :param fields: only these item fields (Ecwid's ``responseFields``; the id and update time are always read).
    :param output: the file's path or URL.
    :param file_format: ``parquet``, ``csv`` or ``jsonl``.
    :param deleted_output: where the window's deletions go (None: not read).
    :param pages_per_batch: pages of 100 items per batch.
    """

    entity: str
    window: Window | None
    filters: dict[str, str]
    output: str
    file_format: ExportFormat = "parquet"
    fields: tuple[str, ...] | None = None
    deleted_output: str | None = None
    pages_per_batch: int = PAGES_PER_BATCH


def run_export(
    client: EcwidClient, settings: ExportSettings, tickets: TicketRunner, opener: Opener, *, now: Callable[[], int]
) -> dict[str, Any]:
    """
    Export one window into its file (and its deletions into theirs); the result for XCom.

    :param client: the store's client.
    :param settings: what to export, and where.
    :param tickets: sends the pages and answers their tickets (in the worker, or across a deferral).
    :param opener: opens the output paths or URLs.
    :param now: the time (UNIX seconds) the export starts at: a window without an end ends there.
    """
    spec = ENTITIES[settings.entity]
    started_calls = client.http_calls
    # both files are opened before any call: an output that cannot be written fails the export first
    out = _open("output", settings.output, settings.file_format, spec.schema, opener)
    deleted_out = None
    if settings.deleted_output is not None and spec.deleted_path is not None:
        deleted_out = _open("deleted_output", settings.deleted_output, settings.file_format, DELETED, opener)
    window = settings.window if spec.time_field is not None else None
    if spec.time_field is not None and window is None:
        window = Window(None, store_now(client, now()))  # the whole entity, up to now: fixed before the first page
    params: dict[str, Any] = dict(settings.filters)
    if settings.fields:
        wanted = dict.fromkeys(["id", *([spec.time_field] if spec.time_field else []), *settings.fields])
        params["responseFields"] = f"total,count,offset,limit,items({','.join(wanted)})"
    reader = BatchedReader(
        client,
        ListEndpoint(spec.path, params, time_field=spec.time_field),
        tickets,
        pages_per_batch=settings.pages_per_batch,
    )
    for page in reader.read(window):
        out.write(record_batch(page, spec.schema))
    rows = out.close()
    result: dict[str, Any] = {
        "entity": settings.entity,
        "rows": rows,
        "output": settings.output,
        "window": {"start": window.start, "end": window.end} if window is not None else None,
        "pages": reader.stats.pages,
        "batches": reader.stats.batches,
        "rereads": reader.stats.rereads,
    }
    if deleted_out is not None:
        assert spec.deleted_path is not None
        result["deleted_rows"] = _export_deleted(client, spec.deleted_path, window, tickets, deleted_out)
        result["deleted_output"] = settings.deleted_output
    result["calls"] = client.http_calls - started_calls
    log.info(
        "Exported %s %s to %s in %d call(s): %d page(s) in %d batch(es)",
        f"{rows:,}",
        settings.entity,
        settings.output,
        result["calls"],
        reader.stats.pages,
        reader.stats.batches,
    )
    return result


def _open(name: str, url: str, file_format: ExportFormat, schema: pa.Schema, opener: Opener) -> ExportFile:
    """The file at ``url``, open for writing; one that cannot be opened is an error that names the argument."""
    try:
        return open_export(url, file_format, schema, opener)
    except OSError as err:
        raise EcwidConfigError(f"{name}: {url!r} cannot be written: {err}") from err


def _export_deleted(
    client: EcwidClient, path: str, window: Window | None, tickets: TicketRunner, out: ExportFile
) -> int:
    """The window's deletions (``{id, date}``) into their own file; how many."""
    params: dict[str, Any] = {}
    if window is not None:
        params["to_date"] = window.end
        if window.start is not None:
            params["from_date"] = window.start
    reader = BatchedReader(client, ListEndpoint(path, params, time_field=None), tickets, pages_per_batch=500)
    for page in reader.read(None):
        kept = [item for item in page if window is None or window.holds(deletion_seconds(item))]
        out.write(deleted_batch(kept))
    return out.close()
