"""Read only what changed in the store since the last completed sync (``catalog.store_memory``), else everything.

:class:`ChangeReader` is the whole-catalog sync's ``StoreReader`` when the sync has a place for its memory. It
asks ``GET /latest-stats`` once, first, and then:

- **nothing changed** (the same ``productsUpdated``, read when the store's clock had passed it by the overlap):
  the remembered products are the store's; no catalog page is read;
- **something changed**: the products updated since the remembered time minus the overlap (``updatedFrom``,
  ``sortBy=UPDATED_TIME_ASC``) and those deleted since (``GET /products/deleted``) patch the remembered ones;
- **the whole catalog is read** (and the log says why) when the memory is missing, unreadable, of another store,
  older than ``max_age`` since its last whole read, made for other fields (the feed's columns changed), or when
  anything does not add up: the product count of ``latest-stats`` differs from the patched products, or
  ``productsUpdated`` moved while no product change or deletion after it can be seen (a change, e.g. to a
  variation, that did not move its product's ``updateTimestamp``).

The category listing is read again, whole, when ``categoriesUpdated`` or ``categoryCount`` differ. What the sync
read is kept for the sync in flight; :meth:`ChangeReader.conclude` turns it, with the sync's own writes, into the
store's memory once the sync completed with no failed row, dated by a ``latest-stats`` read after those writes.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from airflow_provider_ecwid.api.client import EcwidClient
from airflow_provider_ecwid.catalog.categories import CategoryTree
from airflow_provider_ecwid.catalog.diff import CatalogIndex, record_text
from airflow_provider_ecwid.catalog.own_writes import after_own_writes
from airflow_provider_ecwid.catalog.planner import CatalogPlanner
from airflow_provider_ecwid.catalog.progress import PATH_JOIN, SyncProgress
from airflow_provider_ecwid.catalog.settings import Lookup
from airflow_provider_ecwid.catalog.store_memory import (
    Opener,
    StoreSnapshot,
    load_snapshot,
    save_snapshot,
    snapshot_url,
    unix_time,
)

log = logging.getLogger(__name__)

#: Seconds of store time read again before the remembered one: covers timestamps in whole seconds and a clock
#: that differs a little between Ecwid's servers. Timestamps in whole minutes (all of them multiples of 60) get
#: two minutes.
OVERLAP = 2.0
#: The longest a completed sync waits for the store's clock to pass its last write by the overlap.
SETTLE_WAIT = 5.0


def overlap_for(updated: int | None) -> float:
    """The overlap for a store whose last change was at ``updated`` (a whole minute suggests minute timestamps)."""
    return 120.0 if updated is not None and updated % 60 == 0 else OVERLAP


@dataclass
class Stats:
    """One ``GET /latest-stats`` answer and the store's clock when it was given."""

    products_updated: str
    categories_updated: str
    product_count: int | None
    category_count: int | None
    server_time: int | None

    @classmethod
    def read(cls, client: EcwidClient) -> Stats:
        answer, date = client.latest_stats()
        products, categories = (answer.get(name) for name in ("productCount", "categoryCount"))
        return cls(
            str(answer.get("productsUpdated") or ""),
            str(answer.get("categoriesUpdated") or ""),
            products if isinstance(products, int) else None,
            categories if isinstance(categories, int) else None,
            unix_time(date),
        )


@dataclass
class ChangeReader:
    """
    Reads the store's listings, from its memory and the changes since when it can (``catalog.phases.StoreReader``).

    :param client: the store's client.
    :param lookup: the sync's lookup (``batch`` looks SKUs up and so neither uses nor keeps a memory).
    :param folder: where the memory lives (the image memory's folder).
    :param run_key: the sync's own key (names what it read while it is in flight).
    :param opener: opens a path or URL (``runtime.storage.open_url``).
    :param remover: deletes a path or URL (``runtime.storage.remove_url``).
    :param max_age: seconds after its last whole read when the memory is not trusted any more.
    :param sleep: how to wait for the store's clock.
    """

    client: EcwidClient
    lookup: Lookup
    folder: str
    run_key: str
    opener: Opener
    remover: Callable[[str], None]
    max_age: float
    sleep: Callable[[float], None] = time.sleep
    start: Stats | None = None
    memory: list[StoreSnapshot | None] = field(default_factory=list)
    #: what this try read (a resumed try loads it from the sync's own document instead)
    read: StoreSnapshot | None = None

    # -- the listings -------------------------------------------------------------------------------------------

    def categories(self) -> CategoryTree:
        memory, stats = self._memory(), self._stats()
        if (
            memory is not None
            and memory.category_paths is not None
            and (memory.categories_updated, memory.category_count) == (stats.categories_updated, stats.category_count)
        ):
            log.info("The store's categories did not change since the last sync: not read again")
            tree = CategoryTree([])
            tree.ids = {
                tuple(path.split(PATH_JOIN)): category_id for path, category_id in memory.category_paths.items()
            }
            return tree
        return CategoryTree(self.client.iter_categories())

    def products(self, planner: CatalogPlanner) -> CatalogIndex:
        if self.lookup.mode == "batch":
            return planner.look_up_products(self.client, self.lookup)
        fields, extras = planner.index_fields()
        index = CatalogIndex(fields, extras)
        records = self._remembered(index.response_fields)
        if records is None:
            records = {}
            index = planner.look_up_products(self.client, self.lookup, records)
            full_read_at = time.time()
        else:
            for text in records.values():
                index.add(json.loads(text), text)
            index.complete, index.catalog_size, index.way = True, len(records), "changes"
            full_read_at = self._memory_or_fail().full_read_at
        stats = self._stats()
        snapshot = StoreSnapshot(
            self.client.store_id,
            index.response_fields,
            records,
            stats.products_updated,
            stats.server_time,
            stats.categories_updated,
            full_read_at=full_read_at,
        )
        save_snapshot(self._url(self.run_key), snapshot, self.opener)  # what this sync read, while it runs
        self.read = snapshot
        return index

    # -- what the memory says ------------------------------------------------------------------------------------

    def _url(self, run_key: str | None = None) -> str:
        return snapshot_url(self.folder, self.client.store_id, run_key)

    def _stats(self) -> Stats:
        if self.start is None:
            self.start = Stats.read(self.client)
        return self.start

    def _memory(self) -> StoreSnapshot | None:
        """The store's memory when it may be used (read once); None, with the reason logged, otherwise."""
        if not self.memory:
            memory, why = load_snapshot(self._url(), self.client.store_id, self.opener)
            if memory is not None and time.time() - memory.full_read_at > self.max_age:
                memory, why = None, f"the catalog memory is older than {self.max_age / 86400:g} day(s)"
            if memory is None:
                log.info("Reading the whole catalog: %s", why)
            self.memory.append(memory)
        return self.memory[0]

    def _memory_or_fail(self) -> StoreSnapshot:
        memory = self._memory()
        assert memory is not None
        return memory

    def _remembered(self, response_fields: str) -> dict[str, str] | None:
        """The store's products from its memory and the changes since, or None when the whole catalog is read."""
        memory = self._memory()
        if memory is None:
            return None
        if memory.response_fields != response_fields:
            log.info("Reading the whole catalog: the feed's columns changed since the last sync")
            return None
        stats = self._stats()
        records = dict(memory.products)
        since = unix_time(memory.products_updated)
        if since is None:
            log.info("Reading the whole catalog: the remembered productsUpdated is not a date")
            return None
        if stats.products_updated == memory.products_updated and memory.settled(overlap_for(since)):
            log.info("The store's catalog did not change since the last sync (%s): not read", memory.products_updated)
        elif not self._apply_changes(records, since, stats):
            return None
        if stats.product_count != len(records):
            log.warning(
                "Reading the whole catalog: the store counts %s product(s), the remembered ones patched with the "
                "changes %s",
                stats.product_count,
                len(records),
            )
            return None
        return records

    def _apply_changes(self, records: dict[str, str], since: int, stats: Stats) -> bool:
        """Patch ``records`` with the products updated and deleted since ``since`` (less the overlap)."""
        start = int(since - overlap_for(since))
        memory = self._memory_or_fail()
        fields = f"total,count,items({memory.response_fields},updateTimestamp)"
        updated = list(self.client.iter_products(updatedFrom=start, sortBy="UPDATED_TIME_ASC", responseFields=fields))
        deleted = list(self.client.iter_deleted_products(start))
        later = [item for item in updated if int(item.get("updateTimestamp") or 0) > since]
        later += [item for item in deleted if (unix_time(str(item.get("date"))) or 0) > since]
        moved = stats.products_updated != memory.products_updated
        if moved and not later and stats.categories_updated == memory.categories_updated:
            log.warning(
                "Reading the whole catalog: productsUpdated moved (%s -> %s) but no product changed or was deleted "
                "after it (a change to a variation or an image that did not move its product's updateTimestamp?)",
                memory.products_updated,
                stats.products_updated,
            )
            return False
        for item in deleted:
            records.pop(str(item.get("id")), None)
        for item in updated:
            item.pop("updateTimestamp", None)
            records[str(item["id"])] = record_text(item)
        log.info(
            "The store changed since the last sync (%s -> %s): read %d product(s) updated and %d deleted since %s",
            memory.products_updated,
            stats.products_updated,
            len(updated),
            len(deleted),
            start,
        )
        return True

    # -- the end of a completed sync -----------------------------------------------------------------------------

    def conclude(self, whole: CatalogPlanner, progress: SyncProgress) -> None:
        """Keep what the completed sync knows of the store (no failed row): its read, patched with its writes."""
        if self.lookup.mode == "batch":
            return
        read, why = self.read, ""
        if read is None:
            read, why = load_snapshot(self._url(self.run_key), self.client.store_id, self.opener)
        if read is None:
            log.warning("The catalog memory is not saved: what this sync read is gone (%s)", why)
            return
        wrote = sum(progress.sent.values()) > 0
        records = after_own_writes(read.products, whole, progress) if wrote else read.products
        stats = self._settled_stats() if wrote else None
        snapshot = StoreSnapshot(
            read.store_id,
            read.response_fields,
            records,
            stats.products_updated if stats else read.products_updated,
            stats.server_time if stats else read.server_time,
            stats.categories_updated if stats else read.categories_updated,
            full_read_at=read.full_read_at,
        )
        if whole.shape.category_column:
            snapshot.category_paths = dict(progress.category_ids or {})
            snapshot.category_count = (stats or self._stats()).category_count
            if whole.shape.on_missing_categories == "delete":
                paths = [path for product in whole.product_paths.values() for path in product]
                tree = CategoryTree([])
                tree.ids = progress.paths()
                for path, _ in tree.unused(paths):
                    snapshot.category_paths.pop(PATH_JOIN.join(path), None)
        count = stats.product_count if stats else self._stats().product_count
        if count != len(records):
            log.warning(
                "The catalog memory is not saved: the store counts %s product(s), the sync %s", count, len(records)
            )
            return
        save_snapshot(self._url(), snapshot, self.opener)
        self.remover(self._url(self.run_key))

    def _settled_stats(self) -> Stats:
        """``latest-stats`` after the sync's writes, once the store's clock passed the last of them (if soon)."""
        stats = Stats.read(self.client)
        updated = unix_time(stats.products_updated)
        if stats.server_time is None or updated is None:
            return stats
        wait = overlap_for(updated) - (stats.server_time - updated)
        if 0 < wait <= SETTLE_WAIT:
            self.sleep(wait + 0.2)
            stats = Stats.read(self.client)
        return stats
