"""EcwidCatalogSyncOperator: an idempotent product import by SKU; with categories, variations or images, the
whole-catalog sync (``airflow_provider_ecwid.catalog``), to which it hands plain values and the task's pieces."""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, BaseOperator, Context, conf

from airflow_provider_ecwid.batch.chunks import check_chunk_size
from airflow_provider_ecwid.catalog.settings import (
    FeedShape,
    KeepOrDelete,
    Lookup,
    LookupMode,
    OnMissing,
    ProductSettings,
    check_lookup,
)
from airflow_provider_ecwid.errors import EcwidConfigError, EcwidSubmissionKilledError, EcwidWaitError
from airflow_provider_ecwid.hooks.ecwid import EcwidHook
from airflow_provider_ecwid.links import EcwidStoreLink
from airflow_provider_ecwid.operators.batch_task import EcwidBatchTaskMixin, as_bool, is_template
from airflow_provider_ecwid.runtime.wait_or_defer import (
    DEFER_GRACE,
    check_event,
    fail_without_retry,
    released_on_deferral,
)
from airflow_provider_ecwid.tickets.verdict import check_fail_on, check_fraction

if TYPE_CHECKING:  # pandas, numpy and pyarrow load when a task runs, not when a DAG file is parsed
    from airflow_provider_ecwid.batch.build import NullValues
    from airflow_provider_ecwid.batch.sources import FileFormat
    from airflow_provider_ecwid.catalog.diff import CatalogIndex, ProductDiff
    from airflow_provider_ecwid.catalog.planner import CatalogPlanner
    from airflow_provider_ecwid.catalog.progress import SyncProgress
    from airflow_provider_ecwid.catalog.progress_files import ProgressFiles
    from airflow_provider_ecwid.catalog.run import CatalogRun, LazyMemory

SYNC_XCOM_KEY = "sync_summary"
DEFAULT_MEMORY_AGE = timedelta(days=7)


class EcwidCatalogSyncOperator(EcwidBatchTaskMixin, BaseOperator):
    """
    Make the store's products match a feed, by SKU, without ever creating a product twice.

    SKUs are mapped to product ids first (paging the catalog with trimmed fields, or looking the feed's SKUs
    up in batches: ``lookup="auto"`` picks whichever costs fewer calls). Then new SKUs are created (POST, with
    ``enabled`` sent explicitly), known SKUs whose values differ are updated (PUT of the feed's fields), and
    unchanged products are left alone: running the same feed twice sends nothing the second time. Chunking,
    deduplication keys, the batch group, resuming, waiting and the report work as in ``EcwidBatchOperator``.

    :param data: the feed: a DataFrame, a list of dicts, or a CSV / Parquet / JSON Lines path or URL.
    :param sku_column: the feed's SKU column (default ``sku``); SKUs must be present and unique.
    :param body_columns: the product fields to send; default every column of the feed.
    :param enabled_default: ``enabled`` for new products when the feed has no ``enabled`` column.
    :param on_missing: what to do with store products whose SKU is not in the feed: ``keep`` (default),
        ``disable`` or ``delete``.
    :param max_missing_share: refuse (send nothing) when ``on_missing`` would touch more than this share of
        the catalog (default 0.1); None removes the cap.
    :param lookup: ``auto`` (default), ``scan`` (page the catalog) or ``batch`` (look the feed's SKUs up).
    :param category_column: a column of category paths (``Bikes > Road > Carbon``, or a list of paths): the
        store's categories are read once, missing ones created level by level, and each product's
        ``categoryIds`` set from its paths.
    :param category_separator: what separates a path's levels (default ``" > "``).
    :param on_missing_categories: ``keep`` (default) or ``delete`` store categories that no path names.
    :param parent_sku_column: a long feed's parent column (e.g. ``parent_sku``): a row that names a parent is
        a variation of that product; the product's options are derived from its variations.
    :param option_columns: the option columns of variation rows (e.g. ``["Size", "Color"]``).
    :param on_missing_variations: ``keep`` (default) or ``delete`` a product's variations the feed drops.
    :param image_column: a product's main image URL (a variation row: the variation's image).
    :param gallery_column: a product's gallery: a list of URLs, or one text joined by ``gallery_separator``.
    :param gallery_separator: default ``|``.
    :param memory_path: the folder (local path or ObjectStoragePath URL such as ``s3://bucket/ecwid``) of the
        sync's memories: the image memory, one JSON document per store (``store-<id>.json``), the catalog memory
        (see ``catalog_memory_max_age``) and, while a sync is in flight, its progress files
        (``progress-<run key>-<digest>.json.gz``, deleted when it ends). Default: ``$AIRFLOW_HOME/ecwid/image-memory``;
        point every DAG that syncs a store at the same place.
    :param image_memory_path: deprecated name of ``memory_path`` (it warns, and goes in the next release).
    :param refresh_images: send every image again, whatever the image memory says.
    :param catalog_memory_max_age: the whole-catalog sync keeps, next to the image memory, what its last completed
        run knew of the store (``catalog-<hash of the store id>.json``); the next run asks ``GET /latest-stats``
        and reads only what changed since (nothing when nothing did). This bounds how old (since its last read of
        the whole catalog) that memory may be before the whole catalog is read again: a ``timedelta`` or seconds,
        default 7 days; 0 or None reads the whole catalog on every run and keeps no memory.
    :param null_values: ``"omit"`` (default) leaves empty feed values out; ``"null"`` sends them as null.
    :param chunk_size: requests per batch, 1 to 500 (default 500).
    :param stop_on_first_failure: the flat sync's batches: Ecwid's default True stops a batch at its first failure
        (the whole-catalog sync never stops a phase's batches: one bad row must not hold back its neighbours).
    :param allow_parallel_mode: run the requests that do not depend on each other (products, options, one level
        of categories) in Ecwid's parallel mode; variations and images always run in order.
    :param dry_run: read the store and report what would be sent; send nothing.
    :param wait_for_completion: the flat sync: wait for its batches and return the report instead of the
        tickets (the whole-catalog sync always waits, phase by phase).
    :param deferrable: wait in the triggerer (default ``[operators] default_deferrable``).
    :param poll_interval: seconds between status calls while waiting.
    :param wait_timeout: the most seconds to wait in all (None: no limit).
    :param progress_timeout: seconds without a newly completed request before failing (None: no limit).
    :param defer_grace: with ``deferrable=True``, seconds to keep polling in the worker before deferring.
    :param fail_on: ``"any_failed"`` (default), ``"never"``, or the fraction of requests allowed to not complete.
    :param results_path: every request's outcome, as ``.csv`` or ``.jsonl`` (in the whole-catalog sync: phase,
        SKU, method, path, status and Ecwid's message, every phase).
    :param file_format: ``csv``, ``parquet`` or ``jsonl`` when the feed file's suffix does not say.
    :param read_options: extra keyword arguments for the file reader (e.g. ``{"dtype": {"sku": "str"}}``).
    :param ecwid_conn_id: the ``ecwid`` connection.
    """

    template_fields: Sequence[str] = (
        "data",
        "sku_column",
        "body_columns",
        "on_missing",
        "memory_path",
        "refresh_images",
        "results_path",
        "file_format",
        "ecwid_conn_id",
        "is_dry_run",
        "stop_on_first_failure",
    )
    operator_extra_links = (EcwidStoreLink(),)
    ui_color = "#3fb4e0"

    def __init__(
        self,
        *,
        data: Any,
        sku_column: str = "sku",
        body_columns: Sequence[str] | None = None,
        enabled_default: bool = True,
        on_missing: OnMissing = "keep",
        max_missing_share: float | None = 0.1,
        lookup: LookupMode = "auto",
        category_column: str | None = None,
        category_separator: str = " > ",
        on_missing_categories: KeepOrDelete = "keep",
        parent_sku_column: str | None = None,
        option_columns: Sequence[str] | None = None,
        on_missing_variations: KeepOrDelete = "keep",
        image_column: str | None = None,
        gallery_column: str | None = None,
        gallery_separator: str = "|",
        memory_path: str | None = None,
        refresh_images: bool = False,
        catalog_memory_max_age: timedelta | float | None = DEFAULT_MEMORY_AGE,
        image_memory_path: str | None = None,
        null_values: NullValues = "omit",
        chunk_size: int = 500,
        stop_on_first_failure: bool = True,
        allow_parallel_mode: bool = False,
        dry_run: bool = False,
        wait_for_completion: bool = False,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float = 10.0,
        wait_timeout: float | None = None,
        progress_timeout: float | None = 3600.0,
        defer_grace: float = DEFER_GRACE,
        fail_on: Any = "any_failed",
        results_path: str | None = None,
        file_format: FileFormat | None = None,
        read_options: dict[str, Any] | None = None,
        ecwid_conn_id: str = EcwidHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.data = data
        self.sku_column = sku_column
        self.body_columns = body_columns
        self.enabled_default = enabled_default
        self.on_missing = on_missing
        self.max_missing_share = check_fraction(max_missing_share, "max_missing_share")
        self.null_values = null_values
        if not any(is_template(value) for value in (sku_column, body_columns, on_missing)):
            self._product_settings()  # a wrong value fails when the DAG file is parsed
        self.lookup = check_lookup(lookup)
        self.shape = FeedShape(
            category_column=category_column,
            category_separator=category_separator,
            on_missing_categories=on_missing_categories,
            parent_sku_column=parent_sku_column,
            option_columns=tuple(option_columns or ()),
            on_missing_variations=on_missing_variations,
            image_column=image_column,
            gallery_column=gallery_column,
            gallery_separator=gallery_separator,
        )
        self.memory_path = _memory_path(memory_path, image_memory_path)
        self.refresh_images = refresh_images
        age = catalog_memory_max_age
        self.catalog_memory_max_age = age.total_seconds() if isinstance(age, timedelta) else float(age or 0)
        if self.catalog_memory_max_age < 0:
            raise EcwidConfigError("catalog_memory_max_age must not be negative")
        self.chunk_size = check_chunk_size(chunk_size)
        self.stop_on_first_failure = stop_on_first_failure
        self.allow_parallel_mode = allow_parallel_mode
        self.is_dry_run = dry_run  # BaseOperator already has a dry_run() method
        self.wait_for_completion = wait_for_completion
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.wait_timeout = wait_timeout
        self.progress_timeout = progress_timeout
        self.defer_grace = defer_grace
        self.fail_on = check_fail_on(fail_on)
        self.results_path = results_path
        self.file_format = file_format
        self.read_options = read_options
        self.ecwid_conn_id = ecwid_conn_id
        self.tickets: list[str] = []
        self.expected: dict[str, dict[str, Any]] = {}

    def execute(self, context: Context) -> Any:
        """Read the feed, compare it with the store and send the difference (phase by phase for a whole catalog)."""
        with fail_without_retry(), released_on_deferral():  # bad feed, a refused sync or a 403: no retry helps
            return self._sync(context)

    def _sync(self, context: Context) -> Any:
        self._start(context)
        if self.shape.active:  # categories, variations or images: the phased sync
            return self._sync_whole_catalog(context)
        sync = self.read_and_check_feed()
        index = self.look_up_skus(sync)
        plan, sent, summary = sync.plan(index, self.chunk_size)
        summary.lookup, summary.lookup_calls = index.way, index.calls
        self.log.info("Catalog sync: %s", summary.line())
        context["ti"].xcom_push(key=SYNC_XCOM_KEY, value=summary.as_dict())
        return self._send(plan, sent, context)

    def execute_complete(self, context: Context, event: Any = None) -> Any:
        """
        Resume after the trigger fired: a whole-catalog sync records the phase it waited for and runs the next
        ones (every phase that sends something defers); a flat sync reports its batches.
        """
        if not self.shape.active:
            return self._report_after_deferral(context, event)
        with fail_without_retry(), released_on_deferral():
            return self._resume_whole_catalog(context, event)

    def read_and_check_feed(self) -> ProductDiff:
        """Read the feed once (one download for a URL) and validate every row once, before any call."""
        from airflow_provider_ecwid.catalog.diff import ProductDiff, read_feed

        settings = self._product_settings()
        diff = ProductDiff(read_feed(self._source(), settings.feed_sku_column), settings)
        diff.check_feed(self.chunk_size)
        return diff

    def look_up_skus(self, sync: ProductDiff) -> CatalogIndex:
        """Map the store's SKUs to product ids, once the store's earlier batches have run."""
        from airflow_provider_ecwid.catalog.lookup import build_index

        client = self.hook.get_conn()
        self._wait_for_store_at_rest(client)
        return build_index(
            client, sync.compared_fields, sync.skus, self._lookup(), need_complete=self.on_missing != "keep"
        )

    def _lookup(self) -> Lookup:
        """The lookup mode, with this operator's wait limits for batched lookups."""
        return Lookup(self.lookup, timeout=self.wait_timeout, progress_timeout=self.progress_timeout)

    def _product_settings(self) -> ProductSettings:
        """How product rows are compared and sent, the flat sync's and the phased one's alike (checked)."""
        return ProductSettings(
            feed_sku_column=self.sku_column,
            body_columns=tuple(self.body_columns) if self.body_columns is not None else None,
            enabled_default=self.enabled_default,
            on_missing=self.on_missing,
            max_missing_share=self.max_missing_share,
            null_values=self.null_values,
        )

    def _wait_for_store_at_rest(self, client: Any) -> None:
        from airflow_provider_ecwid.catalog.lookup import wait_for_store_at_rest

        try:
            wait_for_store_at_rest(client, poll_interval=self.poll_interval, progress_timeout=self.progress_timeout)
        except EcwidWaitError as err:
            raise AirflowException(f"The store's earlier batches did not finish: {err}") from err

    # -- the whole-catalog sync: the task's side of catalog.run.CatalogRun ------------------------------------

    def _sync_whole_catalog(self, context: Context) -> Any:
        """
        Read and check the feed, wait for the store's earlier batches, then run the phases; report at the end.

        On Airflow 3.3 a retried try finds the last try's progress in the task state store and resumes at the
        phase (and chunk) it reached. Elsewhere (2.11 to 3.2) a retry starts over: it reads the store again, so
        what the last try created is known and not sent again, and a chunk planned exactly as before within the
        hour gets its old ticket back from its deduplication key.
        """
        run = self._catalog_run(context, self._read_whole_catalog())
        self._wait_for_store_at_rest(run.client)
        if self.is_dry_run:
            preview = run.preview()
            self.log.info("Dry run: nothing was sent to Ecwid. %s", preview)
            return preview
        run.start()
        return self._drive(context, run)

    def _resume_whole_catalog(self, context: Context, event: Any) -> Any:
        """
        After a phase's wait in the triggerer: record its answers, then run the next phases (deferring again).

        The feed is read and checked again (the progress in XCom holds ids and SKU sets, not the feed); the
        store is not listed again: what the earlier phases read and created is in the progress. The trigger saw
        only the phase's newest ticket complete: each ticket's answer is read here, once, and what the next
        phases need from it (the ids created) goes into the progress. XCom holds a small record; the progress's
        large parts are in the file it names: when that file is missing or not the one written, the sync starts
        over (it waits for the store to be at rest and reads it again, so nothing is sent twice).
        """
        from airflow_provider_ecwid.catalog.progress import PROGRESS_KEY
        from airflow_provider_ecwid.errors import EcwidProgressLostError

        ti = context["ti"]
        saved = ti.xcom_pull(task_ids=self.task_id, key=PROGRESS_KEY, map_indexes=getattr(ti, "map_index", None))
        if not isinstance(saved, dict) or not saved.get("pending"):
            raise AirflowException("The whole-catalog sync resumed without its pending phase in XCom; failing")
        check_event(event, list(saved["pending"].get("tickets") or []))
        files = self._progress_files()
        try:
            progress = files.load(saved)
        except EcwidProgressLostError as err:
            self.log.warning("%s: the whole-catalog sync starts over", err)
            return self._sync_whole_catalog(context)
        assert progress.pending is not None
        run = self._catalog_run(context, self._read_whole_catalog(), progress, files)
        if run.feed_changed():
            raise AirflowException(
                f"The feed changed while the sync waited for its {progress.pending.phase} phase: the phases still "
                "to run would be planned against what the earlier ones read. Run the task again: it starts over."
            )
        run.resume(self._waiter().collect_or_defer(run.client, progress.pending.tickets))  # each answer read once
        return self._drive(context, run)

    def _read_whole_catalog(self) -> CatalogPlanner:
        from airflow_provider_ecwid.catalog.run import read_checked

        return read_checked(
            self._source(),
            self.shape,
            products=self._product_settings(),
            chunk_size=self.chunk_size,
            allow_parallel_mode=self.allow_parallel_mode,
        )

    def _catalog_run(
        self,
        context: Context,
        planner: CatalogPlanner,
        progress: SyncProgress | None = None,
        files: ProgressFiles | None = None,
    ) -> CatalogRun:
        """The run, from the task's pieces: its identity, state store, XCom, kill-aware sleep and settings."""
        from airflow_provider_ecwid.catalog.run import CatalogRun, RunSettings
        from airflow_provider_ecwid.runtime.storage import open_url, remove_url

        client = self.hook.get_conn()
        identity = self._open_group(context)
        assert self.group_id is not None
        settings = RunSettings(
            identity=identity,
            group_id=self.group_id,
            lookup=self._lookup(),
            chunk_size=self.chunk_size,
            poll_interval=self.poll_interval,
            progress_timeout=self.progress_timeout,
            deferrable=self.deferrable,
            fail_on=self.fail_on,
            record_outcomes=bool(self.results_path),
            catalog_memory=self._memory_folder(),
            catalog_memory_max_age=self.catalog_memory_max_age,
        )
        return CatalogRun(
            planner,
            client,
            settings,
            outbox=context["ti"],
            memory=self._image_memory(client.store_id),
            state=context.get("task_state_store"),
            sleep=self._sleep_unless_killed,
            on_submission=lambda submission: setattr(self, "submission", submission),  # on_kill stops it
            progress=progress,
            files=(open_url, remove_url),
            progress_files=files or self._progress_files(),
        )

    def _progress_files(self) -> ProgressFiles:
        """Where the progress's large parts go, next to the image memory (see ``catalog.progress_files``)."""
        from airflow_provider_ecwid.catalog.progress_files import ProgressFiles
        from airflow_provider_ecwid.runtime.storage import open_url, remove_url

        return ProgressFiles(self._memory_folder(), open_url, remove_url)

    def _memory_folder(self) -> str:
        from airflow_provider_ecwid.runtime.storage import default_memory_folder

        return str(self.memory_path or default_memory_folder())

    def _image_memory(self, store_id: str) -> LazyMemory:
        from airflow_provider_ecwid.catalog.image_memory import ImageMemory, memory_url
        from airflow_provider_ecwid.catalog.run import LazyMemory
        from airflow_provider_ecwid.runtime.storage import open_url

        url = memory_url(self._memory_folder(), store_id)
        return LazyMemory(
            wanted=self.shape.has_images,
            refresh=as_bool(self.refresh_images, "refresh_images"),
            opener=lambda: ImageMemory(url, store_id, open_url).load(),
        )

    def _drive(self, context: Context, run: CatalogRun) -> Any:
        """Advance the run; defer with the phase's tickets when it waits in the triggerer; conclude when done."""
        from airflow_provider_ecwid.catalog.progress import PROGRESS_KEY
        from airflow_provider_ecwid.tickets.waiting import TicketPoller

        while True:
            try:
                done = run.advance()
            except (EcwidWaitError, EcwidSubmissionKilledError) as err:  # killed: the next try sends what it cancelled
                raise AirflowException(str(err)) from err
            if done:
                return self._conclude(context, run)
            pending = run.progress.pending
            assert pending is not None
            context["ti"].xcom_push(key=PROGRESS_KEY, value=run.record())
            self.log.info("Phase %s: %d ticket(s) submitted", pending.phase, len(pending.tickets))
            poller = TicketPoller(pending.tickets, run.client.get_batch)
            # a phase done within the grace is recorded here; a longer one defers (this call then does not return)
            run.resume(self._waiter().wait_briefly_or_defer(poller, sleep=self._sleep_unless_killed))

    def _conclude(self, context: Context, run: CatalogRun) -> dict[str, Any]:
        """Push and log the summary, write the results file if asked; fail as ``fail_on`` says."""
        summary = run.finish()
        context["ti"].xcom_push(key=SYNC_XCOM_KEY, value=summary)
        self.log.info(
            "Whole-catalog sync: sent %s; %d request(s) did not complete", summary["sent"], summary["failed_count"]
        )
        if self.results_path:
            from airflow_provider_ecwid.catalog.phase_runner import OUTCOME_FIELDS
            from airflow_provider_ecwid.runtime.finish import write_outcomes

            write_outcomes(run.progress.outcomes, OUTCOME_FIELDS, self.results_path, self.log)
        verdict = run.verdict(summary)
        if verdict is not None:
            raise AirflowException(verdict)
        return summary


def _memory_path(memory_path: str | None, image_memory_path: str | None) -> str | None:
    """``memory_path``, or the deprecated ``image_memory_path`` with a warning (both, differing, is an error)."""
    if image_memory_path is None:
        return memory_path
    warnings.warn(
        "EcwidCatalogSyncOperator(image_memory_path=...) is deprecated: use memory_path (the folder holds the image "
        "memory, the catalog memory and the progress files)",
        DeprecationWarning,
        stacklevel=3,
    )
    if memory_path is not None and memory_path != image_memory_path:
        raise EcwidConfigError("memory_path and its deprecated name image_memory_path differ: pass memory_path only")
    return image_memory_path
