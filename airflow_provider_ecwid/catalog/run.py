"""One whole-catalog sync, run step by step: the sync's run loop, with no Airflow in it.

:class:`CatalogRun` names the steps: *read* (:func:`read_checked`: the feed, read once and checked whole) →
*look up* (the store's listings, each read once, when the first phase that needs it is planned) →
*plan phase* → *submit* → *wait or defer* → *record* (:meth:`~CatalogRun.advance` loops over these four) →
*verdict* (:meth:`~CatalogRun.verdict`). A phase that sends nothing is recorded at once. A non-deferrable sync
waits for each phase here; a deferrable one returns after each submission, so the task can defer with the
phase's tickets, and the resumed task records the phase (:meth:`~CatalogRun.resume`) and advances again.

The operator hands plain values (:class:`RunSettings`) and small protocols: a :class:`StateStore` (Airflow 3.3's
task state store, where the progress survives a retry), an :class:`Outbox` (where the tickets go, XCom) and a
``sleep`` (that stops when the task is killed). The progress (``catalog.progress.SyncProgress``) is saved after
every submission and every recorded phase, so a retried try resumes at the phase (and, through the phase's
chunks in the state store, the chunk) the last one reached. With :class:`~catalog.progress_files.ProgressFiles`
what is saved (and pushed to XCom) is a small record, the large parts in a file it names; a record whose file
is missing or not the one written is not resumed: the sync starts over.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from airflow_provider_ecwid.api.client import EcwidClient
from airflow_provider_ecwid.batch.models import BatchStatus
from airflow_provider_ecwid.batch.sources import InputSource
from airflow_provider_ecwid.catalog.categories import CategoryTree
from airflow_provider_ecwid.catalog.changes import ChangeReader
from airflow_provider_ecwid.catalog.diff import CatalogIndex, read_feed
from airflow_provider_ecwid.catalog.image_memory import ImageMemory
from airflow_provider_ecwid.catalog.phase_runner import PhaseResult, PhaseRunner, PhaseStateStore, settle
from airflow_provider_ecwid.catalog.phases import DONE, PhaseContext, Planned, StoreReader, apply_settled, plan_next
from airflow_provider_ecwid.catalog.planner import CatalogPlanner
from airflow_provider_ecwid.catalog.progress import PROGRESS_KEY, Pending, SyncProgress
from airflow_provider_ecwid.catalog.progress_files import ProgressFiles, abandon, load_record
from airflow_provider_ecwid.catalog.settings import FeedShape, Lookup, ProductSettings
from airflow_provider_ecwid.catalog.store_memory import Opener
from airflow_provider_ecwid.errors import EcwidError, EcwidProgressLostError
from airflow_provider_ecwid.tickets.state import StateStore
from airflow_provider_ecwid.tickets.submission import KILLED_STATE_KEY, Submission
from airflow_provider_ecwid.tickets.verdict import FailOn, judge

log = logging.getLogger(__name__)


class Outbox(Protocol):
    """Where each phase's tickets and expectations go as they are submitted (the task instance's XCom)."""

    def xcom_push(self, key: str, value: Any) -> None: ...


@dataclass(frozen=True)
class RunSettings:
    """
    The plain values a sync runs with.

    :param identity: the task run (dag, run, task, map index): the base of every deduplication key.
    :param group_id: the task run's batch group (a kill cancels it).
    :param lookup: how to look the feed's products up, and how long batched lookups may wait.
    :param chunk_size: requests per batch.
    :param poll_interval: seconds between status calls.
    :param progress_timeout: seconds without a newly completed request before giving up (None: no limit).
    :param deferrable: return after each submission (the task defers) instead of waiting here.
    :param fail_on: which requests that did not complete fail the sync (see ``tickets.verdict``).
    :param record_outcomes: keep every request's outcome, for a results file.
    :param catalog_memory: the folder (path or URL) of the store's catalog memory (``catalog.changes``); None:
        every run reads the whole catalog.
    :param catalog_memory_max_age: seconds after its last whole read when the memory is not used any more.
    """

    identity: str
    group_id: str
    lookup: Lookup
    chunk_size: int
    poll_interval: float
    progress_timeout: float | None
    deferrable: bool
    fail_on: FailOn = "any_failed"
    record_outcomes: bool = False
    catalog_memory: str | None = None
    catalog_memory_max_age: float = 7 * 86400.0


@dataclass
class ClientReader:
    """
    Reads the store's listings through the client (``catalog.phases.StoreReader``).

    :param client: the store's client.
    :param lookup: how to look the feed's products up, and how long batched lookups may wait.
    """

    client: EcwidClient
    lookup: Lookup

    def categories(self) -> CategoryTree:
        return CategoryTree(self.client.iter_categories())

    def products(self, planner: CatalogPlanner) -> CatalogIndex:
        return planner.look_up_products(self.client, self.lookup)


@dataclass
class LazyMemory:
    """
    The image memory, loaded once when the images phase needs it (``catalog.phases.MemoryOpener``).

    :param wanted: the feed has image columns.
    :param refresh: send every image again.
    :param opener: loads the memory.
    """

    wanted: bool
    refresh: bool
    opener: Callable[[], ImageMemory]
    loaded: list[ImageMemory] = field(default_factory=list)

    def load(self) -> ImageMemory:
        if not self.loaded:
            self.loaded.append(self.opener())
        return self.loaded[0]


def read_checked(
    source: InputSource,
    shape: FeedShape,
    *,
    products: ProductSettings,
    chunk_size: int,
    allow_parallel_mode: bool,
) -> CatalogPlanner:
    """
    Step *read*: the feed, read once, and every row of it checked (rows, parents, options, paths, URLs) before
    any call.

    :param source: the feed.
    :param shape: which columns carry categories, variations and images.
    :param products: how product rows are compared and sent.
    :param chunk_size: requests per batch.
    :param allow_parallel_mode: run the independent phases in Ecwid's parallel mode.
    """
    planner = CatalogPlanner(
        read_feed(source, products.feed_sku_column),
        shape,
        products=products,
        chunk_size=chunk_size,
        allow_parallel_mode=allow_parallel_mode,
    )
    planner.check()
    return planner


class CatalogRun:
    """
    One task try's whole-catalog sync.

    :param planner: the checked feed (see :func:`read_checked`).
    :param client: the store's client.
    :param settings: the plain values it runs with.
    :param outbox: where the tickets go as they are submitted.
    :param memory: the image memory, loaded when the images phase needs it.
    :param state: Airflow 3.3's task state store, or None (a retry then starts over).
    :param sleep: how to wait between status calls (stops early when the task is killed).
    :param on_submission: told of each phase's ``Submission`` as it starts (a kill stops it).
    :param progress: where an earlier stint of this try got to (after a deferral), else a new sync.
    :param files: opens and deletes a path or URL (``runtime.storage``), for the catalog memory.
    :param progress_files: where the progress's large parts go at each save (then the state store and XCom get
        a small record naming the file); None: the whole progress goes into the record.
    """

    def __init__(
        self,
        planner: CatalogPlanner,
        client: EcwidClient,
        settings: RunSettings,
        *,
        outbox: Outbox,
        memory: LazyMemory,
        state: StateStore | None = None,
        sleep: Callable[[float], None] = time.sleep,
        on_submission: Callable[[Submission], None] | None = None,
        progress: SyncProgress | None = None,
        files: tuple[Opener, Callable[[str], None]] | None = None,
        progress_files: ProgressFiles | None = None,
    ) -> None:
        self.planner = planner
        self.client = client
        self.settings = settings
        self.outbox = outbox
        self.memory = memory
        self.state = state
        self.sleep = sleep
        self.on_submission = on_submission
        self.progress = progress or SyncProgress(feed_digest=planner.digest)
        self.progress_files = progress_files
        self.saved: dict[str, Any] | None = None
        self.reader: StoreReader = ClientReader(client, settings.lookup)
        self.changes: ChangeReader | None = None
        if settings.catalog_memory and files is not None and settings.catalog_memory_max_age > 0:
            self.changes = ChangeReader(
                client,
                settings.lookup,
                settings.catalog_memory,
                self.progress.run_key,
                *files,
                max_age=settings.catalog_memory_max_age,
                sleep=sleep,
            )
            self.reader = self.changes
        self._runner: PhaseRunner | None = None

    # -- look up --------------------------------------------------------------------------------------------

    def preview(self) -> dict[str, Any]:
        """A dry run: read the store and say what the sync would do; send nothing."""
        self.planner.read_store(self.client, self.settings.lookup)
        return self.planner.preview(self.client.store_id)

    # -- start, or resume -----------------------------------------------------------------------------------

    def start(self) -> None:
        """
        A new sync, or (Airflow 3.3) the last try's, from the state store, when its feed is the same one: its
        finished phases are not planned again, a phase in flight is waited for, not sent again.
        """
        saved = self.state.get(PROGRESS_KEY) if self.state is not None else None
        if isinstance(saved, dict) and saved:
            earlier = self._load(saved)
            if earlier is None:
                log.info("The last try's progress is lost: a new sync (run key %s)", self.progress.run_key)
            elif earlier.feed_digest == self.progress.feed_digest:
                log.info("Resuming the last try's sync at step %s (Airflow's task state store)", earlier.step)
                self.progress = self._replan_pending(earlier)
                if self.changes is not None:
                    self.changes.run_key = self.progress.run_key
            else:
                log.warning("The feed changed since the last try: the sync starts over (the store is read again)")
        self.save()  # its run key is kept before anything is sent

    def _load(self, record: dict[str, Any]) -> SyncProgress | None:
        """The last try's progress; None (its state-store keys and file forgotten) when its file is lost."""
        try:
            return load_record(record, self.progress_files)
        except EcwidProgressLostError as err:
            log.warning("%s: the sync starts over (the store is read again)", err)
        abandon(record, self.state, self.progress_files)
        return None

    def _replan_pending(self, progress: SyncProgress) -> SyncProgress:
        """
        A retry that finds a phase in flight plans it again, as a try after a kill: its chunks keep their tickets
        (the state store has them), and only the requests a kill or a cancel stopped (NOT_EXECUTED) are sent again.
        """
        pending = progress.pending
        if pending is not None and pending.tickets and self.state is not None:
            phase_store = PhaseStateStore(self.state, pending.phase, progress.run_key, progress.state_keys)
            phase_store.set(KILLED_STATE_KEY, {"retried": pending.phase})
        progress.pending = None
        return progress

    def feed_changed(self) -> bool:
        """Whether the feed read now differs from the one the progress was planned on."""
        return bool(self.progress.feed_digest) and self.progress.feed_digest != self.planner.digest

    def resume(self, statuses: Sequence[BatchStatus]) -> None:
        """After a deferral: record the pending phase from its tickets' final statuses."""
        self._record(statuses)
        self.save()

    def save(self) -> None:
        """Keep the progress in the state store (a retry resumes from it) and for XCom (a resumed task does)."""
        if self.state is None and not self.settings.deferrable:
            return  # nobody reads it
        files = self.progress_files
        self.saved = files.save(self.progress) if files is not None else self.progress.to_json()
        if self.state is not None:
            self.state.set(PROGRESS_KEY, self.saved)
        if files is not None:
            files.prune()  # the record names the newest file now

    def record(self) -> dict[str, Any]:
        """The progress as last saved: what the task pushes to XCom when it defers."""
        if self.saved is None:
            self.save()
        return self.saved if self.saved is not None else self.progress.to_json()

    # -- plan phase -> submit -> wait or defer -> record ------------------------------------------------------

    def advance(self) -> bool:
        """Run phases until every one is done (True), or one is submitted to be waited for elsewhere (False)."""
        progress = self.progress
        while progress.step != DONE:
            pending = progress.pending
            if pending is not None:
                if self.settings.deferrable:
                    return False  # wait or defer: the task defers
                self._record(self.runner().wait(pending.tickets))
                self.save()
                continue
            planned = plan_next(self._phase_context())
            if planned is None:
                continue
            if not planned.summary.requests:  # nothing to send: nothing to wait for
                empty = Pending(planned.phase, [], {}, planned.skus)
                apply_settled(self._phase_context(), PhaseResult(planned.phase), empty)
                continue
            self._submit(planned)
            self.save()
        return True

    def runner(self) -> PhaseRunner:
        """Submits and waits for this try's phases (made once the progress, and so its run key, is known)."""
        if self._runner is None:
            identity = self.settings.identity
            if self.state is not None:  # a sync that starts over (after a verdict) must not get the old tickets back
                identity = f"{identity}|sync:{self.progress.run_key}"
            self._runner = PhaseRunner(
                self.client,
                identity=identity,
                group_id=self.settings.group_id,
                ti=self.outbox,
                chunk_size=self.settings.chunk_size,
                poll_interval=self.settings.poll_interval,
                progress_timeout=self.settings.progress_timeout,
                sleep=self.sleep,
                state_store=self.state,
                namespace=self.progress.run_key,
                state_keys=self.progress.state_keys,
                on_submission=self.on_submission,
                record_targets=self.settings.record_outcomes,
            )
        return self._runner

    def _submit(self, planned: Planned) -> None:
        runner = self.runner()
        tickets, expected = runner.submit(planned.phase, planned.plan, planned.summary, parallel=planned.parallel)
        targets = dict(runner.targets) if self.settings.record_outcomes else {}
        self.progress.pending = Pending(planned.phase, tickets, expected, planned.skus, targets)

    def _record(self, statuses: Sequence[BatchStatus]) -> None:
        """Step *record*: what the pending phase created and could not do (and, if asked, every outcome)."""
        pending = self.progress.pending
        assert pending is not None
        result = settle(pending.phase, statuses, pending.expected)
        if self.settings.record_outcomes:
            self.progress.outcomes.extend(result.outcomes(pending.targets))
        apply_settled(self._phase_context(), result, pending)
        self.progress.pending = None

    def _phase_context(self) -> PhaseContext:
        return PhaseContext(self.planner, self.progress, self.reader, self.memory)

    # -- verdict --------------------------------------------------------------------------------------------

    def finish(self) -> dict[str, Any]:
        """The sync is over: clear its keys from the state store (a later try starts over); return the summary."""
        if self.state is not None:
            for key in [*self.progress.state_keys, PROGRESS_KEY]:
                self.state.delete(key)
        if self.progress_files is not None:
            self.progress_files.clear()
        if self.changes is not None and self.progress.failed_count == 0:
            try:
                self.changes.conclude(self.planner, self.progress)
            except (OSError, ValueError, EcwidError) as err:  # the sync is done; the next one reads the catalog
                log.warning("The catalog memory could not be saved (%s): the next sync reads the whole catalog", err)
        return self.planner.summary(self.progress)

    def verdict(self, summary: Mapping[str, Any]) -> str | None:
        """Why the sync fails under ``fail_on`` (every failed row named by SKU and phase), or None."""
        failed = int(summary["failed_count"])
        sent = sum(summary["sent"].values())
        reason = judge(self.settings.fail_on, failed, sent, "request(s)")
        if reason is None:
            return None
        lines = [
            f"  {row['phase']:<14} {row['sku'] or '?':<24} {row['http_status'] or '':>4} "
            f"{row['error_code'] or row['status']}: {row['error_message'] or ''}{_held_back(row)}"
            for row in summary["failed"]
        ]
        more = f"\n  ... and {failed - len(lines)} more" if failed > len(lines) else ""
        return f"Ecwid whole-catalog sync: {reason}:\n" + "\n".join(lines) + more


def _held_back(row: Mapping[str, Any]) -> str:
    """A category's failure: the feed rows not sent because of it."""
    rows = row.get("rows") or []
    if not rows:
        return ""
    more = f" and {len(rows) - 10} more" if len(rows) > 10 else ""
    return f" (row(s) not sent: {', '.join(rows[:10])}{more})"
