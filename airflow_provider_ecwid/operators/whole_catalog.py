"""The whole-catalog side of EcwidCatalogSyncOperator: its named steps, its image memory's storage, its verdict."""

from __future__ import annotations

import io
import os
import uuid
from dataclasses import asdict
from typing import IO, TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, Context

from airflow_provider_ecwid.batch.chunks import DEDUPLICATION_NAMESPACE
from airflow_provider_ecwid.errors import EcwidWaitError

#: XCom key: the image phase submitted before the task deferred (its tickets, groups and the summary so far).
PENDING_IMAGES_XCOM_KEY = "ecwid_pending_images"

if TYPE_CHECKING:
    from airflow_provider_ecwid.batch.image_memory import ImageMemory
    from airflow_provider_ecwid.catalog_phases import WholeCatalogSync
    from airflow_provider_ecwid.operators.catalog import EcwidCatalogSyncOperator


def default_memory_folder() -> str:
    """``$AIRFLOW_HOME/ecwid/image-memory`` (``~/airflow`` when AIRFLOW_HOME is not set)."""
    home = os.environ.get("AIRFLOW_HOME") or os.path.join(os.path.expanduser("~"), "airflow")
    return os.path.join(home, "ecwid", "image-memory")


class _AtomicText(io.StringIO):
    """Text written to a local file in one step on close (a temporary file, then a rename)."""

    def __init__(self, path: str) -> None:
        super().__init__()
        self.path = path

    def close(self) -> None:
        if not self.closed:
            os.makedirs(os.path.dirname(self.path) or ".", exist_ok=True)
            temporary = f"{self.path}.{os.getpid()}.tmp"
            with open(temporary, "w", encoding="utf-8") as handle:
                handle.write(self.getvalue())
            os.replace(temporary, self.path)
        super().close()


def open_memory(url: str, mode: str) -> IO[Any]:
    """Open the image memory for ``"r"`` or ``"w"`` (text): a local path, ``file://`` or an ObjectStoragePath URL."""
    if "://" not in url or url.startswith("file://"):
        path = url.removeprefix("file://")
        return _AtomicText(path) if mode == "w" else open(path, encoding="utf-8")
    from airflow.providers.common.compat.sdk import ObjectStoragePath

    return ObjectStoragePath(url).open(mode)  # type: ignore[no-any-return]


def _check(operator: EcwidCatalogSyncOperator) -> WholeCatalogSync:
    """Read the feed once and validate all of it (rows, parents, options, paths, URLs) before any call."""
    from airflow_provider_ecwid.batch.catalog import read_feed
    from airflow_provider_ecwid.batch.feed_shape import FeedShape
    from airflow_provider_ecwid.catalog_phases import WholeCatalogSync, product_sync_options

    shape = FeedShape(**operator.shape_options)
    source = operator._source()
    whole = WholeCatalogSync(
        read_feed(source, operator.sku_column),
        shape,
        product_sync=product_sync_options(
            feed_sku_column=operator.sku_column,
            body_columns=operator.body_columns,
            enabled_default=operator.enabled_default,
            on_missing=operator.on_missing,
            max_missing_share=operator.max_missing_share,
            null_values=operator.null_values,
        ),
        chunk_size=operator.chunk_size,
        allow_parallel_mode=operator.allow_parallel_mode,
    )
    whole.check()
    return whole


def sync_whole_catalog(operator: EcwidCatalogSyncOperator, context: Context) -> Any:
    """Check, read the store, run the phases, remember the images, report (see ``catalog_phases``)."""
    from airflow_provider_ecwid.batch.waiting import TicketPoller
    from airflow_provider_ecwid.catalog_lookup import wait_for_store_at_rest
    from airflow_provider_ecwid.catalog_phases import PendingImages
    from airflow_provider_ecwid.operators.batch import as_bool
    from airflow_provider_ecwid.phases import PhaseRunner

    whole = _check(operator)
    client = operator.hook.get_conn()
    try:
        wait_for_store_at_rest(client, poll_interval=operator.poll_interval, progress_timeout=operator.progress_timeout)
    except EcwidWaitError as err:
        raise AirflowException(f"The store's earlier batches did not finish: {err}") from err
    whole.read_store(client, operator.lookup)
    if operator.is_dry_run:
        preview = whole.preview(client.store_id)
        operator.log.info("Dry run: nothing was sent to Ecwid. %s", preview)
        return preview
    identity = operator._identity(context)
    operator.group_id = str(uuid.uuid5(DEDUPLICATION_NAMESPACE, f"group|{identity}"))
    runner = PhaseRunner(
        client,
        identity=identity,
        group_id=operator.group_id,
        ti=context["ti"],
        chunk_size=operator.chunk_size,
        poll_interval=operator.poll_interval,
        progress_timeout=operator.progress_timeout,
        sleep=operator._sleep_unless_killed,
    )
    memory = _memory(operator, client.store_id) if whole.shape.image_column or whole.shape.gallery_column else None
    try:
        outcome = whole.run(
            runner,
            memory,
            refresh_images=as_bool(operator.refresh_images, "refresh_images"),
            defer_images=operator.deferrable,
        )
    except EcwidWaitError as err:
        raise AirflowException(str(err)) from err
    if isinstance(outcome, PendingImages):  # the last phase's wait goes to the triggerer
        context["ti"].xcom_push(key=PENDING_IMAGES_XCOM_KEY, value=asdict(outcome))
        operator.log.info("Images: %d ticket(s) submitted; the wait goes to the triggerer", len(outcome.tickets))
        operator._waiter().defer(TicketPoller(outcome.tickets, client.get_batch))
    return _conclude(operator, context, outcome)


def resume_whole_catalog(operator: EcwidCatalogSyncOperator, context: Context, event: Any) -> Any:
    """After the image phase's wait in the triggerer: read its answers, remember the images, report."""
    from airflow_provider_ecwid.batch.report import BatchReport
    from airflow_provider_ecwid.catalog_phases import PendingImages, settle_images
    from airflow_provider_ecwid.phases import PhaseResult
    from airflow_provider_ecwid.ticket_wait import check_event, final_statuses

    ti = context["ti"]
    saved = ti.xcom_pull(
        task_ids=operator.task_id, key=PENDING_IMAGES_XCOM_KEY, map_indexes=getattr(ti, "map_index", None)
    )
    if not isinstance(saved, dict):
        raise AirflowException("The whole-catalog sync resumed without its pending image phase in XCom; failing")
    pending = PendingImages(**saved)
    check_event(event, pending.tickets)
    client = operator.hook.get_conn()
    statuses = final_statuses(client, pending.tickets)
    result = PhaseResult("images", BatchReport.from_statuses(statuses, pending.expected))
    summary = settle_images(pending, result, _memory(operator, client.store_id))
    return _conclude(operator, context, summary)


def _memory(operator: EcwidCatalogSyncOperator, store_id: str) -> ImageMemory:
    from airflow_provider_ecwid.batch.image_memory import ImageMemory, memory_url

    url = memory_url(operator.image_memory_path or default_memory_folder(), store_id)
    return ImageMemory(url, store_id, open_memory).load()


def _conclude(operator: EcwidCatalogSyncOperator, context: Context, summary: dict[str, Any]) -> dict[str, Any]:
    """Push and log the summary; fail as ``fail_on`` says."""
    from airflow_provider_ecwid.operators.catalog import SYNC_XCOM_KEY

    context["ti"].xcom_push(key=SYNC_XCOM_KEY, value=summary)
    operator.log.info(
        "Whole-catalog sync: sent %s; %d request(s) did not complete", summary["sent"], summary["failed_count"]
    )
    _verdict(operator, summary)
    return summary


def _verdict(operator: EcwidCatalogSyncOperator, summary: dict[str, Any]) -> None:
    """Fail the task as ``fail_on`` says, naming every failed row by SKU and phase."""
    failed = summary["failed_count"]
    if not failed or operator.fail_on == "never":
        return
    sent = sum(summary["sent"].values())
    if operator.fail_on != "any_failed" and failed / max(1, sent) <= float(operator.fail_on):
        return
    lines = [
        f"  {row['phase']:<14} {row['sku'] or '?':<24} {row['http_status'] or '':>4} "
        f"{row['error_code'] or row['status']}: {row['error_message'] or ''}"
        for row in summary["failed"]
    ]
    more = f"\n  ... and {failed - len(lines)} more" if failed > len(lines) else ""
    raise AirflowException(
        f"Ecwid whole-catalog sync: {failed} of {sent} request(s) did not complete:\n" + "\n".join(lines) + more
    )
