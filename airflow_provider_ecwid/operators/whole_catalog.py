"""The whole-catalog side of EcwidCatalogSyncOperator: its named steps, its image memory's storage, its verdict."""

from __future__ import annotations

import io
import os
import uuid
from collections.abc import Callable, Sequence
from typing import IO, TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, Context

from airflow_provider_ecwid.batch.chunks import DEDUPLICATION_NAMESPACE
from airflow_provider_ecwid.errors import EcwidSubmissionKilled, EcwidWaitError
from airflow_provider_ecwid.operators.batch import as_bool

if TYPE_CHECKING:
    from airflow_provider_ecwid.catalog.diff import OnMissing
    from airflow_provider_ecwid.catalog.image_memory import ImageMemory
    from airflow_provider_ecwid.catalog.planner import WholeCatalogSync
    from airflow_provider_ecwid.catalog.progress import SyncProgress
    from airflow_provider_ecwid.catalog.run import LazyMemory
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


def product_sync_options(
    *,
    feed_sku_column: str,
    body_columns: Sequence[str] | None,
    enabled_default: bool,
    on_missing: OnMissing,
    max_missing_share: float | None,
    null_values: Any,
) -> dict[str, Any]:
    """The product phase's options, as :class:`WholeCatalogSync` takes them."""
    return {
        "feed_sku_column": feed_sku_column,
        "body_columns": list(body_columns) if body_columns is not None else None,
        "enabled_default": enabled_default,
        "on_missing": on_missing,
        "max_missing_share": max_missing_share,
        "null_values": null_values,
    }


def _check(operator: EcwidCatalogSyncOperator) -> WholeCatalogSync:
    """Read the feed once and validate all of it (rows, parents, options, paths, URLs) before any call."""
    from airflow_provider_ecwid.catalog.diff import read_feed
    from airflow_provider_ecwid.catalog.feed_shape import FeedShape
    from airflow_provider_ecwid.catalog.planner import WholeCatalogSync

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
    """
    Check the feed, then run the phases (see ``catalog_run``); report at the end.

    On Airflow 3.3 a retried try finds the last try's progress in the task state store and resumes at the phase
    (and chunk) it reached: finished phases are not planned again, a phase in flight is waited for, not sent
    again. Elsewhere (2.11 to 3.2) a retry starts over: it reads the store again, so what the last try created
    is known and not sent again, and a chunk planned exactly as before within the hour gets its old ticket back
    from its deduplication key.
    """
    from airflow_provider_ecwid.catalog.lookup import wait_for_store_at_rest
    from airflow_provider_ecwid.catalog.progress import PROGRESS_KEY, SyncProgress, feed_digest

    whole = _check(operator)
    client = operator.hook.get_conn()
    try:
        wait_for_store_at_rest(client, poll_interval=operator.poll_interval, progress_timeout=operator.progress_timeout)
    except EcwidWaitError as err:
        raise AirflowException(f"The store's earlier batches did not finish: {err}") from err
    if operator.is_dry_run:
        whole.read_store(client, operator.lookup)
        preview = whole.preview(client.store_id)
        operator.log.info("Dry run: nothing was sent to Ecwid. %s", preview)
        return preview
    store = context.get("task_state_store")
    saved = store.get(PROGRESS_KEY) if store is not None else None
    digest = feed_digest(whole.frame)
    progress = SyncProgress(feed_digest=digest)
    if isinstance(saved, dict) and saved:
        earlier = SyncProgress.from_json(saved)
        if earlier.feed_digest == digest:
            operator.log.info("Resuming the last try's sync at step %s (Airflow's task state store)", earlier.step)
            progress = _replan_pending(earlier, store)
        else:
            operator.log.warning("The feed changed since the last try: the sync starts over (the store is read again)")
    _saver(context)(progress)  # its run key is kept before anything is sent
    return _drive(operator, context, whole, progress)


def _replan_pending(progress: SyncProgress, store: Any) -> SyncProgress:
    """
    A retry that finds a phase in flight plans it again, as a try after a kill: its chunks keep their tickets
    (the state store has them), and only the requests a kill or a cancel stopped (NOT_EXECUTED) are sent again.
    """
    from airflow_provider_ecwid.catalog.phases import PhaseStateStore
    from airflow_provider_ecwid.tickets.submission import KILLED_STATE_KEY

    pending = progress.pending
    if pending is not None and pending.tickets:
        phase_store = PhaseStateStore(store, pending.phase, progress.run_key, progress.state_keys)
        phase_store.set(KILLED_STATE_KEY, {"retried": pending.phase})
    progress.pending = None
    return progress


def resume_whole_catalog(operator: EcwidCatalogSyncOperator, context: Context, event: Any) -> Any:
    """
    After a phase's wait in the triggerer: read its answers, then run the next phases (deferring again).

    The feed is the input: it is read and checked again here (the progress in XCom holds ids and SKU sets,
    not the feed). The store is not listed again: what the earlier phases read and created is in the progress.
    """
    from airflow_provider_ecwid.catalog.progress import PROGRESS_KEY, SyncProgress, feed_digest
    from airflow_provider_ecwid.catalog.run import settle_pending
    from airflow_provider_ecwid.tasks.ticket_wait import check_event, final_statuses

    ti = context["ti"]
    saved = ti.xcom_pull(task_ids=operator.task_id, key=PROGRESS_KEY, map_indexes=getattr(ti, "map_index", None))
    if not isinstance(saved, dict) or not saved.get("pending"):
        raise AirflowException("The whole-catalog sync resumed without its pending phase in XCom; failing")
    progress = SyncProgress.from_json(saved)
    assert progress.pending is not None
    check_event(event, progress.pending.tickets)
    whole = _check(operator)
    if progress.feed_digest and progress.feed_digest != feed_digest(whole.frame):
        raise AirflowException(
            f"The feed changed while the sync waited for its {progress.pending.phase} phase: the phases still to "
            "run would be planned against what the earlier ones read. Run the task again: it starts over."
        )
    client = operator.hook.get_conn()
    statuses = final_statuses(client, progress.pending.tickets)
    memory = _lazy_memory(operator, whole, client.store_id)
    settle_pending(whole, progress, statuses, memory)
    _saver(context)(progress)
    return _drive(operator, context, whole, progress, memory)


def _drive(
    operator: EcwidCatalogSyncOperator,
    context: Context,
    whole: WholeCatalogSync,
    progress: SyncProgress,
    memory: LazyMemory | None = None,
) -> Any:
    """Run the phases from where the progress is; defer after each submission when the operator defers."""
    from airflow_provider_ecwid.catalog.phases import PhaseRunner
    from airflow_provider_ecwid.catalog.progress import PROGRESS_KEY
    from airflow_provider_ecwid.catalog.run import ClientReader, advance
    from airflow_provider_ecwid.tickets.waiting import TicketPoller

    client = operator.hook.get_conn()
    identity = operator._identity(context)
    operator.group_id = str(uuid.uuid5(DEDUPLICATION_NAMESPACE, f"group|{identity}"))
    store = context.get("task_state_store")
    if store is not None:  # a sync that starts over (after a verdict) must not get the earlier one's tickets back
        identity = f"{identity}|sync:{progress.run_key}"
    runner = PhaseRunner(
        client,
        identity=identity,
        group_id=operator.group_id,
        ti=context["ti"],
        chunk_size=operator.chunk_size,
        poll_interval=operator.poll_interval,
        progress_timeout=operator.progress_timeout,
        sleep=operator._sleep_unless_killed,
        state_store=store,
        namespace=progress.run_key,
        state_keys=progress.state_keys,
        on_submission=lambda submission: setattr(operator, "submission", submission),  # on_kill stops it
    )
    memory = memory or _lazy_memory(operator, whole, client.store_id)
    reader = ClientReader(client, operator.lookup)
    try:
        done = advance(whole, progress, runner, reader, memory, deferrable=operator.deferrable, save=_saver(context))
    except (EcwidWaitError, EcwidSubmissionKilled) as err:  # killed: the next try sends what the kill cancelled
        raise AirflowException(str(err)) from err
    if not done:
        assert progress.pending is not None
        context["ti"].xcom_push(key=PROGRESS_KEY, value=progress.to_json())
        operator.log.info(
            "Phase %s: %d ticket(s) submitted; the wait goes to the triggerer",
            progress.pending.phase,
            len(progress.pending.tickets),
        )
        operator._waiter().defer(TicketPoller(progress.pending.tickets, client.get_batch))
    if store is not None:
        from airflow_provider_ecwid.catalog.phases import forget

        for key in [*progress.state_keys, PROGRESS_KEY]:
            forget(store, key)  # finished: a later try (after the verdict) starts over, under a new run key
    return _conclude(operator, context, whole.summary(progress))


def _saver(context: Context) -> Callable[[SyncProgress], None]:
    """Keep the progress in Airflow 3.3's task state store (a retry resumes from it); elsewhere nothing."""
    from airflow_provider_ecwid.catalog.progress import PROGRESS_KEY

    store = context.get("task_state_store")

    def save(progress: SyncProgress) -> None:
        if store is not None:
            store.set(PROGRESS_KEY, progress.to_json())

    return save


def _lazy_memory(operator: EcwidCatalogSyncOperator, whole: WholeCatalogSync, store_id: str) -> LazyMemory:
    from airflow_provider_ecwid.catalog.run import LazyMemory

    wanted = bool(whole.shape.image_column or whole.shape.gallery_column)
    refresh = as_bool(operator.refresh_images, "refresh_images")
    return LazyMemory(wanted, refresh, lambda: _memory(operator, store_id))


def _memory(operator: EcwidCatalogSyncOperator, store_id: str) -> ImageMemory:
    from airflow_provider_ecwid.catalog.image_memory import ImageMemory, memory_url

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
        f"{row['error_code'] or row['status']}: {row['error_message'] or ''}{_held_back(row)}"
        for row in summary["failed"]
    ]
    more = f"\n  ... and {failed - len(lines)} more" if failed > len(lines) else ""
    raise AirflowException(
        f"Ecwid whole-catalog sync: {failed} of {sent} request(s) did not complete:\n" + "\n".join(lines) + more
    )


def _held_back(row: dict[str, Any]) -> str:
    """A category's failure: the feed rows not sent because of it."""
    rows = row.get("rows") or []
    if not rows:
        return ""
    more = f" and {len(rows) - 10} more" if len(rows) > 10 else ""
    return f" (row(s) not sent: {', '.join(rows[:10])}{more})"
