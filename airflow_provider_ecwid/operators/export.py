"""EcwidExportOperator: an entity's items of one update-time window out of the store, through batches, into a file."""

from __future__ import annotations

import io
from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, BaseOperator, Context

from airflow_provider_ecwid.errors import EcwidConfigError, EcwidWaitError
from airflow_provider_ecwid.export.entities import checked_filters, entity_spec
from airflow_provider_ecwid.export.files import SUFFIXES
from airflow_provider_ecwid.hooks.ecwid import EcwidHook
from airflow_provider_ecwid.lineage import export_lineage
from airflow_provider_ecwid.links import EcwidStoreLink
from airflow_provider_ecwid.operators.batch_task import cancel_group, group_id_of, run_identity
from airflow_provider_ecwid.reading.pages import PAGES_PER_BATCH
from airflow_provider_ecwid.reading.window import Window
from airflow_provider_ecwid.runtime.wait_or_defer import fail_without_retry

if TYPE_CHECKING:
    from airflow_provider_ecwid.export.files import ExportFormat

#: The data interval, the default window: each scheduled run exports its own interval.
INTERVAL_START = "{{ data_interval_start }}"
INTERVAL_END = "{{ data_interval_end }}"
#: Rows an export without ``output`` may return through XCom.
MAX_XCOM_ROWS = 10_000


class EcwidExportOperator(BaseOperator):
    """
    Export one entity's items of one update-time window from the store into a file, through batches.

    The window is counted with one call; its pages (100 items each) go into batches of ``GET`` requests, each
    batch's answer is read once and written as it arrives, so a million orders cost a few hundred calls instead
    of ten thousand, and memory holds one batch's answer. The window's end is fixed before the first page, and
    the items found are checked against its count: an item that left the window while it was read (an update, a
    deletion) shifts the pages after it, so what does not add up is read again in smaller windows. Every item
    that was in the window and did not change during the export is in the file exactly once; an item that
    changed is in this window's file or the next one's.

    :param entity: ``orders``, ``products``, ``customers`` or ``categories`` (categories are always read whole).
    :param updated_from: the window's start (a datetime, ISO 8601 text or UNIX seconds), included. Default: the
        run's data interval start. None with ``updated_to`` None: the whole entity, up to when the export starts.
    :param updated_to: the window's end, excluded. Default: the data interval end.
    :param filters: the entity's documented search filters, e.g. ``{"paymentStatus": "PAID,AWAITING_PAYMENT"}``;
        checked before any call.
    :param response_fields: only these item fields (Ecwid's ``responseFields``); the id and update time are
        always read. The file keeps every column of the schema.
    :param output: the file's path or URL (local, ``file://`` or an object storage URL such as
        ``s3://lake/ecwid/orders/{{ ds }}.parquet``). None: the rows come back as a DataFrame through XCom, up to
        ``max_xcom_rows``.
    :param format: ``parquet`` (default), ``csv`` or ``jsonl``; the output's suffix must match.
    :param deleted_output: where the window's deletions (``id``, ``date``) go, in the same format; None: not read.
    :param max_xcom_rows: the most rows an export without ``output`` returns (default 10,000).
    :param pages_per_batch: pages per batch (default 100: about 15 MB of status answer for full orders).
    :param poll_interval: seconds between status reads of a running batch.
    :param progress_timeout: seconds without a newly completed page before failing (None: no limit).
    :param ecwid_conn_id: the ``ecwid`` connection.
    """

    template_fields: Sequence[str] = (
        "entity",
        "updated_from",
        "updated_to",
        "filters",
        "output_url",
        "deleted_output",
        "ecwid_conn_id",
    )
    operator_extra_links = (EcwidStoreLink(),)
    ui_color = "#7bc6e6"

    def __init__(
        self,
        *,
        entity: str,
        updated_from: Any = INTERVAL_START,
        updated_to: Any = INTERVAL_END,
        filters: Mapping[str, Any] | None = None,
        response_fields: Sequence[str] | None = None,
        output: str | None = None,
        format: ExportFormat = "parquet",
        deleted_output: str | None = None,
        max_xcom_rows: int = MAX_XCOM_ROWS,
        pages_per_batch: int = PAGES_PER_BATCH,
        poll_interval: float = 2.0,
        progress_timeout: float | None = 3600.0,
        ecwid_conn_id: str = EcwidHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.entity = entity
        self.updated_from = updated_from
        self.updated_to = updated_to
        self.filters = dict(filters or {})
        self.response_fields = tuple(response_fields) if response_fields else None
        self.output_url = output
        self.format = format
        self.deleted_output = deleted_output
        self.max_xcom_rows = max_xcom_rows
        self.pages_per_batch = pages_per_batch
        self.poll_interval = poll_interval
        self.progress_timeout = progress_timeout
        self.ecwid_conn_id = ecwid_conn_id
        self.group_id: str | None = None
        self.result: dict[str, Any] | None = None
        self.store_id: str | None = None
        if format not in SUFFIXES:
            raise EcwidConfigError(f"format must be one of {sorted(SUFFIXES)}, got {format!r}")
        if not 1 <= pages_per_batch <= 500:
            raise EcwidConfigError(f"pages_per_batch must be 1 to 500, got {pages_per_batch}")
        if "{{" not in str(entity):
            self._check_arguments()  # a wrong one fails when the DAG file is parsed

    @cached_property
    def hook(self) -> EcwidHook:
        """The hook of ``ecwid_conn_id``, made on first use."""
        return EcwidHook(self.ecwid_conn_id)

    def _check_arguments(self) -> None:
        entity_spec(self.entity)
        checked_filters(self.entity, self.filters)
        for name, url in (("output", self.output_url), ("deleted_output", self.deleted_output)):
            if isinstance(url, str) and "{{" not in url and not url.lower().endswith(SUFFIXES[self.format]):
                suffixes = " or ".join(SUFFIXES[self.format])
                raise EcwidConfigError(f"{name} must end in {suffixes} for format {self.format!r}")
        if self.deleted_output is not None and entity_spec(self.entity).deleted_path is None:
            raise EcwidConfigError(f"deleted_output: Ecwid lists no deleted {self.entity}")

    def window(self) -> Window | None:
        """The window of the rendered ``updated_from`` / ``updated_to``; None for the whole entity."""
        start, end = _seconds(self.updated_from, "updated_from"), _seconds(self.updated_to, "updated_to")
        if start is None and end is None:
            if _unrendered_interval(self.updated_from) or _unrendered_interval(self.updated_to):
                raise EcwidConfigError(_NO_INTERVAL)
            return None
        if end is None:
            raise EcwidConfigError("updated_to is missing: give both ends of the window, or None for both")
        if start is not None and start >= end:
            raise EcwidConfigError(
                f"the window is empty: updated_from ({self.updated_from}) is not before updated_to "
                f"({self.updated_to}). {_NO_INTERVAL if start == end else ''}".strip()
            )
        return Window(start, end)

    def execute(self, context: Context) -> Any:
        """Check the arguments, fix the window, export it; return what was written and what it cost."""
        from airflow_provider_ecwid.export.run import ExportSettings, run_export
        from airflow_provider_ecwid.reading.inline import InlineTickets
        from airflow_provider_ecwid.runtime.storage import open_url

        with fail_without_retry():
            self._check_arguments()
            window = self.window()
            settings = ExportSettings(
                entity=self.entity,
                window=window,
                filters=checked_filters(self.entity, self.filters),
                output=self.output_url or "memory.parquet",
                file_format=self.format if self.output_url else "parquet",
                fields=self.response_fields,
                deleted_output=self.deleted_output,
                pages_per_batch=self.pages_per_batch,
            )
            client = self.hook.get_conn()
            self.store_id = client.store_id
            identity = run_identity(context)
            self.group_id = group_id_of(identity)
            tickets = InlineTickets(
                client,
                identity=identity,
                group_id=self.group_id,
                poll_interval=self.poll_interval,
                progress_timeout=self.progress_timeout,
                state_store=context.get("task_state_store"),
            )
            memory = _MemoryFile() if self.output_url is None else None
            opener = memory.open if memory is not None else open_url
            if memory is not None:
                self._refuse_large(client, settings, window)
            now = int(datetime.now().timestamp())
            try:
                self.result = run_export(client, settings, tickets, opener, now=lambda: now)
            except EcwidWaitError as err:
                raise AirflowException(str(err)) from err
        self.log.info("Export: %s", self.result)
        if memory is not None:
            return memory.frame()
        return self.result

    def _refuse_large(self, client: Any, settings: Any, window: Window | None) -> None:
        """Without ``output``, count first: too many rows for XCom is refused before they are read."""
        from airflow_provider_ecwid.reading.pages import count_items

        spec = entity_spec(self.entity)
        params = {**settings.filters, **(window.params() if window is not None and spec.time_field else {})}
        total = count_items(client, spec.path, params)
        if total > self.max_xcom_rows:
            raise EcwidConfigError(
                f"the window holds {total:,} {self.entity}, more than max_xcom_rows={self.max_xcom_rows:,} can "
                "return through XCom: give output= a path or URL (e.g. s3://lake/ecwid/orders/{{ ds }}.parquet)"
            )

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """
        OpenLineage: the store's entity -> the file, with the row count.

        :param task_instance: the finished task instance (unused: the operator remembers what it did).
        """
        rows = self.result["rows"] if self.result else None
        return export_lineage(str(self.store_id), str(self.entity), self.output_url, rows)

    def on_kill(self) -> None:
        """Cancel the not-yet-run page reads of this task run's group (best effort, logged)."""
        cancel_group(self.hook, self.group_id, self.log)


_NO_INTERVAL = (
    "This run has no data interval (a manual run of an unscheduled DAG): give updated_from and updated_to, "
    "or None for both to export the whole entity"
)


def _unrendered_interval(value: Any) -> bool:
    """A default window end that rendered to nothing: the run has no data interval."""
    return isinstance(value, str) and value.strip() in ("", "None")


def _seconds(value: Any, name: str) -> int | None:
    """A window end as UNIX seconds: a datetime, ISO 8601 text or a number; None for None or an empty render."""
    if value is None or (isinstance(value, str) and value.strip() in ("", "None")):
        return None
    if isinstance(value, datetime):
        return int(value.timestamp())
    if isinstance(value, int | float) and not isinstance(value, bool):
        return int(value)
    text = str(value).strip()
    if text.lstrip("-").isdigit():
        return int(text)
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise EcwidConfigError(f"{name} must be a datetime, ISO 8601 text or UNIX seconds, got {value!r}") from None
    if parsed.tzinfo is None:
        raise EcwidConfigError(f"{name} must name its time zone (e.g. 2026-12-01T00:00:00+00:00), got {value!r}")
    return int(parsed.timestamp())


class _MemoryFile:
    """An export kept in memory, for a small window returned through XCom as a DataFrame."""

    def __init__(self) -> None:
        self.buffer = io.BytesIO()

    def open(self, url: str, mode: str) -> Any:
        buffer = self.buffer
        buffer.close = lambda: None  # type: ignore[method-assign]  # the writer closes it; the frame reads it
        return buffer

    def frame(self) -> Any:
        import pyarrow.parquet as pq

        self.buffer.seek(0)
        return pq.read_table(self.buffer).to_pandas()
