"""Running a whole-catalog sync's phases: plan one, submit it, wait for it (here or in the triggerer), settle it.

:func:`advance` is the one loop. A phase that sends nothing is settled at once and does not wait. A
non-deferrable sync waits for each phase in the worker; a deferrable one returns after each submission, so the
task can defer with the phase's tickets, and the resumed task settles the phase (:func:`settle_pending`) and
calls :func:`advance` again. The progress (``catalog_progress.SyncProgress``) is saved after every submission
and every settled phase, so a retried try on Airflow 3.3 resumes at the phase (and, through the phase's
chunks in the state store, the chunk) the last one reached.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from airflow_provider_ecwid.api.client import EcwidClient
from airflow_provider_ecwid.batch.models import BatchStatus
from airflow_provider_ecwid.catalog.categories import CategoryTree
from airflow_provider_ecwid.catalog.diff import CatalogIndex
from airflow_provider_ecwid.catalog.image_memory import ImageMemory
from airflow_provider_ecwid.catalog.lookup import LookupMode
from airflow_provider_ecwid.catalog.phases import PhaseResult, PhaseRunner, settle
from airflow_provider_ecwid.catalog.planner import WholeCatalogSync
from airflow_provider_ecwid.catalog.progress import Pending, SyncProgress


@dataclass
class ClientReader:
    """
    Reads the store's listings through the client (``catalog_phases.StoreReader``).

    :param client: the store's client.
    :param lookup: how to look the feed's products up (``auto``, ``scan`` or ``batch``).
    """

    client: EcwidClient
    lookup: LookupMode

    def categories(self) -> CategoryTree:
        return CategoryTree(self.client.iter_categories())

    def products(self, sync: WholeCatalogSync) -> CatalogIndex:
        return sync.look_up_products(self.client, self.lookup)


@dataclass
class LazyMemory:
    """
    The image memory, loaded once when the images phase needs it (``catalog_phases.MemoryOpener``).

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


def advance(
    sync: WholeCatalogSync,
    progress: SyncProgress,
    runner: PhaseRunner,
    reader: ClientReader,
    memory: LazyMemory,
    *,
    deferrable: bool,
    save: Callable[[SyncProgress], None],
) -> bool:
    """Run phases until every one is done (True), or one is submitted to be waited for elsewhere (False)."""
    while progress.step != "done":
        pending = progress.pending
        if pending is not None:
            if deferrable:
                return False
            settle_pending(sync, progress, runner.wait(pending.tickets), memory)
            save(progress)
            continue
        planned = sync.plan_step(progress, reader, memory)
        if planned is None:
            continue
        if not planned.summary.requests:  # nothing to send: nothing to wait for
            empty = Pending(planned.phase, [], {}, planned.skus, planned.groups)
            sync.apply(progress, PhaseResult(planned.phase), empty, memory)
            continue
        tickets, expected = runner.submit(planned.phase, planned.plan, planned.summary, parallel=planned.parallel)
        progress.pending = Pending(planned.phase, tickets, expected, planned.skus, planned.groups)
        save(progress)
    return True


def settle_pending(
    sync: WholeCatalogSync, progress: SyncProgress, statuses: Sequence[BatchStatus], memory: LazyMemory
) -> None:
    """Read the pending phase's answers into the progress; the progress moves on."""
    pending = progress.pending
    assert pending is not None
    sync.apply(progress, settle(pending.phase, statuses, pending.expected), pending, memory)
    progress.pending = None
