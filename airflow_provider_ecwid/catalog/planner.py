"""The whole-catalog sync: categories -> products -> options -> variations -> images, each phase in batches.

Named steps, each one readable on its own:

1. :meth:`WholeCatalogSync.check` validates the whole feed before any call (every problem with its row,
   column and reason).
2. :meth:`WholeCatalogSync.plan_step` plans the next phase from the progress (``catalog.progress``): the
   store's categories are read once, before the first level; its products (with their options and
   variations when the feed has variations) once, when the products phase is planned. Later phases are
   planned from the ids the earlier ones created, kept in the progress.
3. :meth:`WholeCatalogSync.apply` keeps what a finished phase created and what it could not do. Between the
   two, ``catalog.run.CatalogRun`` submits the phase and waits for it, in the worker or in the triggerer. Only what
   differs is sent, so a second run of the same feed sends no inner request at all.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, Protocol

import pandas as pd

from airflow_provider_ecwid.api.client import EcwidClient
from airflow_provider_ecwid.batch.plan import BatchPlan, PlanSummary
from airflow_provider_ecwid.batch.problems import ProblemLog
from airflow_provider_ecwid.catalog.categories import CategoryTree, Path, request_id
from airflow_provider_ecwid.catalog.diff import CatalogIndex, CatalogSync
from airflow_provider_ecwid.catalog.feed_shape import FeedRows, FeedShape, split_rows
from airflow_provider_ecwid.catalog.image_memory import ImageMemory
from airflow_provider_ecwid.catalog.images import ImagePlanner, remember_images
from airflow_provider_ecwid.catalog.lookup import build_index
from airflow_provider_ecwid.catalog.phases import PhaseResult, ready_plan
from airflow_provider_ecwid.catalog.progress import LISTED, PATH_JOIN, Pending, SyncProgress, feed_digest
from airflow_provider_ecwid.catalog.settings import Lookup
from airflow_provider_ecwid.catalog.variations import NewVariations, derive_options, options_shape, plan_variations
from airflow_provider_ecwid.errors import EcwidValidationError

log = logging.getLogger(__name__)

#: Store products whose listing is parsed at a time, to plan the variations of known products.
STORE_SLICE = 10_000
VARIATION_FIELDS = "combinations(id,sku,options,price,compareToPrice,costPrice,quantity,unlimited,weight)"


class WholeCatalogSync:
    """
    Plans and runs a whole-catalog sync of one feed.

    :param frame: the feed, read once, its SKU column named ``sku`` (see ``catalog.diff.read_feed``).
    :param shape: which columns carry categories, variations and images.
    :param product_sync: options of the product phase, as CatalogSync takes them (``feed_sku_column``,
        ``body_columns``, ``enabled_default``, ``on_missing``, ``max_missing_share``, ``null_values``).
    :param chunk_size: requests per batch.
    :param allow_parallel_mode: run the phases whose requests are independent (categories of one level,
        products, options) in Ecwid's parallel mode; variations and images always run in order.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        shape: FeedShape,
        *,
        product_sync: Mapping[str, Any],
        chunk_size: int,
        allow_parallel_mode: bool = False,
    ) -> None:
        shape.check_columns([str(name) for name in frame.columns])
        self.frame = frame
        self.shape = shape
        self.options = dict(product_sync)
        self.chunk_size = chunk_size
        self.parallel = allow_parallel_mode
        self.rows = FeedRows(frame, frame.iloc[0:0])
        self.product_paths: dict[str, list[Path]] = {}
        self.tree = CategoryTree([])
        self.index = CatalogIndex([])
        self.derived_options: dict[str, list[dict[str, Any]]] = {}
        self.feed_rows, self.digest = len(frame), ""

    # -- 1. check -------------------------------------------------------------------------------------------

    def check(self) -> None:
        """Validate every row (values, SKUs, parents, options, category paths, image URLs); raise on any problem."""
        whole = CatalogSync(self.frame, **{**self.options, "on_missing": "keep", "body_columns": None})
        problems = ProblemLog()
        try:
            whole.check_feed(self.chunk_size)
        except EcwidValidationError as err:
            for problem in err.problems:
                if not problem.reason.startswith("duplicate id"):  # split_rows names the SKU and its other row
                    problems.add(problem)
        skus = whole.skus or whole.sku_texts(self.frame)
        self.rows, found = split_rows(self.frame, skus, self.shape)
        problems.extend(found)
        problems.raise_if_any()
        if self.shape.parent_sku_column:
            self.derived_options = derive_options(self.rows.variations, self.shape)
        if self.shape.category_column:
            self.product_paths = self._paths_by_sku()
        # every later step reads the split rows: the feed itself is let go (a file's copy is freed), its size and
        # fingerprint kept
        self.feed_rows, self.digest = len(self.frame), feed_digest(self.frame)
        self.frame = self.frame.iloc[0:0]

    def _paths_by_sku(self) -> dict[str, list[Path]]:
        """Each product's category paths; products with the same category cell share one list (never changed)."""
        shared: dict[str, list[Path]] = {}
        paths = {}
        column = self.rows.products[str(self.shape.category_column)]
        for sku, value in zip(self.rows.products["sku"], column, strict=True):
            key = repr(value)
            if key not in shared:
                shared[key] = [tuple(path) for path in self.shape.paths(value)]
            paths[sku] = shared[key]
        return paths

    def product_frame(self) -> pd.DataFrame:
        special = set(self.shape.special_columns)
        body = self.options.get("body_columns")
        names = [name for name in (body or self.rows.products.columns) if name not in special]
        frame: pd.DataFrame = self.rows.products.loc[:, [name for name in names if name in self.rows.products.columns]]
        if self.shape.category_column:
            ids = pd.Series([self._category_ids(sku) for sku in frame["sku"]], index=frame.index, dtype=object)
            frame = frame.assign(categoryIds=ids)
        return frame

    def _category_ids(self, sku: str) -> list[int]:
        return sorted({self.tree.ids[path] for path in self.product_paths.get(sku, []) if path in self.tree.ids})

    # -- 2. read the store ----------------------------------------------------------------------------------

    def read_store(self, client: EcwidClient, lookup: Lookup) -> None:
        """Read the store's categories and look up the feed's products (what a dry run previews)."""
        if self.shape.category_column:
            self.tree = CategoryTree(client.iter_categories())
        self.index = self.look_up_products(client, lookup)

    def index_fields(self) -> tuple[list[str], list[str]]:
        """What the store's index holds of each product: the compared fields, and the extras later phases need."""
        fields = [name for name in self.product_frame().columns if name != "sku"]
        return fields, ["options", VARIATION_FIELDS] if self.shape.parent_sku_column else []

    def look_up_products(
        self, client: EcwidClient, lookup: Lookup, records: dict[str, str] | None = None
    ) -> CatalogIndex:
        """Look the feed's products up once (with their options and variations when the feed has them); a whole
        read's products are kept in ``records`` too when given."""
        fields, extras = self.index_fields()
        skus = list(self.rows.products["sku"])
        # "auto" pages the catalog here: batched lookups are inner requests, and an unchanged feed should cost
        # reads only (a batch of lookups would also be a batch POST on every run)
        need_complete = lookup.mode == "auto" or self.options.get("on_missing", "keep") != "keep"
        return build_index(
            client, fields, skus, lookup, need_complete=need_complete, extra_fields=extras, records=records
        )

    def preview(self, store: str) -> dict[str, Any]:
        """What a dry run reports: the categories to create and the product changes (later phases need ids)."""
        paths = [path for product in self.product_paths.values() for path in product]
        sync = CatalogSync(self.product_frame(), **{**self.options, "body_columns": None})
        sync.accept_checked(list(self.rows.products["sku"]))
        _, sent, found = sync.plan(self.index, self.chunk_size)
        return {
            "dry_run": True,
            "store": store,
            "categories_to_create": sum(len(level) for level in self.tree.missing_levels(paths)),
            "products": {"new": found.new, "changed": found.changed, "unchanged": found.unchanged},
            "variations": len(self.rows.variations),
            "requests": sent.requests,
            "by_pattern": dict(sent.by_pattern),
        }

    # -- 3. the phases: each planned from the progress, its result kept in it ---------------------------------

    def plan_step(self, progress: SyncProgress, reader: StoreReader, memory: MemoryOpener) -> Planned | None:
        """
        The next phase of ``progress.step`` (it may send nothing), or None when the step is over (the progress
        then names the next step).
        """
        step = progress.step
        if step == "categories":
            return self._plan_categories(progress, reader)
        if step == "products":
            return self._plan_products(progress, reader)
        if (step in ("options", "variations") and not self.shape.parent_sku_column) or (
            step == "images" and not memory.wanted
        ):
            progress.next_step()
            return None
        if step == "options":
            return self._plan_options(progress)
        if step == "variations":
            return self._plan_variations(progress)
        if step == "images":
            return self._plan_images(progress, memory)
        if step == "categories-unused":
            return self._plan_unused(progress)
        raise ValueError(f"no phase after {step!r}")

    def apply(self, progress: SyncProgress, result: PhaseResult, pending: Pending, memory: MemoryOpener) -> None:
        """Keep what a settled phase created and what it could not do; move the progress on."""
        step = progress.step
        if step == "categories":
            self._apply_categories(progress, result, pending)
            return  # the next level, if any, is planned next
        failures = None
        if step == "products":
            created = {sku: pid for sku, pid in result.created().items() if not sku.startswith("missing:")}
            progress.product_ids.update(created)
            progress.created_products = sorted(created)
            for sku in pending.skus:
                if sku not in progress.product_ids:
                    progress.blocked[sku] = "the product could not be created"
        elif step == "options":
            for request in result.failed_ids():
                progress.blocked[request.split(":", 1)[1]] = "its options could not be updated"
        elif step == "variations":
            new_variations = []
            for key, value in result.iter_created():
                sku = key.split(":", 1)[1]
                progress.variation_ids[sku] = value
                new_variations.append(sku)
            progress.new_variations = sorted(new_variations)
        elif step == "images":
            remember_images(memory.load(), self.image_planner(progress, memory).groups(), result.failed_ids())
        elif step == "categories-unused":
            failures = result.failures()
        progress.record(result, failures)
        progress.next_step()

    def summary(self, progress: SyncProgress) -> dict[str, Any]:
        """The sync's summary: what each phase sent, and every failed row by SKU and phase."""
        return {
            "product_changes": dict(progress.product_changes),
            "feed_rows": self.feed_rows,
            "products": len(self.rows.products),
            "variations": len(self.rows.variations),
            "sent": dict(progress.sent),
            "failed_count": progress.failed_count,
            "failed": list(progress.failed),
            "skipped": dict(list(progress.blocked.items())[:LISTED]),
        }

    def _plan_categories(self, progress: SyncProgress, reader: StoreReader) -> Planned | None:
        if not self.shape.category_column:
            progress.next_step()
            return None
        if progress.category_ids is None:  # the store's categories, read once
            progress.keep_paths(reader.categories().ids)
        self.tree.ids = progress.paths()
        separator = self.shape.category_separator
        paths = [path for product in self.product_paths.values() for path in product]
        levels = self.tree.missing_levels(paths)  # a level that failed stays missing: count levels by depth
        depth = progress.depth + 1
        if depth > len(levels):
            for sku, product_paths in self.product_paths.items():
                lost = [path for path in product_paths if path not in self.tree.ids]
                if lost:
                    progress.blocked[sku] = f"category {separator.join(lost[0])!r} could not be created"
            progress.next_step()
            return None
        ready = [path for path in levels[depth - 1] if len(path) == 1 or path[:-1] in self.tree.ids]
        requests = self.tree.create_requests(ready, separator)
        return Planned(
            f"categories-{depth}",
            *ready_plan(requests, self.chunk_size),
            self.parallel,
            skus=[PATH_JOIN.join(path) for path in ready],
        )

    def _apply_categories(self, progress: SyncProgress, result: PhaseResult, pending: Pending) -> None:
        separator = self.shape.category_separator
        ids = progress.paths()
        created = result.created()
        for key in pending.skus:
            path = tuple(key.split(PATH_JOIN))
            if request_id(path, separator) in created:
                ids[path] = created[request_id(path, separator)]
        progress.keep_paths(ids)
        failures = []
        for failure in result.failures():  # a category's failure names the feed rows whose paths pass through it
            path = tuple(str(failure["sku"]).split(separator))
            rows = [sku for sku, paths in self.product_paths.items() if any(p[: len(path)] == path for p in paths)]
            failures.append({**failure, "phase": "categories", "rows": rows})
        progress.record(result, failures)
        progress.depth += 1

    def _plan_products(self, progress: SyncProgress, reader: StoreReader) -> Planned:
        self.tree.ids = progress.paths()
        self.index = reader.products(self)  # the store's products, read once, when they are first needed
        self._keep_store_facts(progress)
        frame = self.product_frame()
        frame = frame.loc[[sku not in progress.blocked for sku in frame["sku"]]]
        frame.index = pd.RangeIndex(len(frame))
        create_only = []
        if self.shape.parent_sku_column:  # a new product gets its options with its create: one request less
            derived = self.derived_options
            options_column = pd.Series([derived.get(sku) for sku in frame["sku"]], index=frame.index, dtype=object)
            frame = frame.assign(options=options_column)
            create_only = ["options"]
        sync = CatalogSync(frame, **{**self.options, "body_columns": None})
        sync.accept_checked(list(frame["sku"]), create_only=create_only)
        sync.held_back = set(progress.blocked)
        plan, sent, found = sync.plan(self.index, self.chunk_size)
        progress.product_changes = {"new": found.new, "changed": found.changed, "unchanged": found.unchanged}
        return Planned("products", plan, sent, self.parallel, skus=list(frame["sku"]))

    def _keep_store_facts(self, progress: SyncProgress) -> None:
        """What later phases need of the store's listing: ids, stale options, the known products' variations."""
        feed_products = set(self.rows.products["sku"])
        known = {sku: entry[0] for sku, entry in self.index.products.items() if sku in feed_products}
        progress.product_ids = dict(known)
        progress.options_stale, progress.variation_ids, progress.variation_requests = [], {}, {}
        if not self.shape.parent_sku_column:
            return
        parents = list(known)
        for start in range(0, len(parents), STORE_SLICE):  # a slice of the listing parsed at a time
            self._keep_variation_facts(progress, {sku: known[sku] for sku in parents[start : start + STORE_SLICE]})
        progress.options_stale.sort()

    def _keep_variation_facts(self, progress: SyncProgress, known: dict[str, int]) -> None:
        listed = {sku: self.index.extra(sku) for sku in known}
        progress.options_stale += [
            parent
            for parent, listing in listed.items()
            if parent in self.derived_options
            and options_shape(listing.get("options")) != options_shape(self.derived_options[parent])
        ]
        store = {sku: listing.get("combinations") or [] for sku, listing in listed.items()}
        progress.variation_ids.update(
            {str(item.get("sku")): int(item["id"]) for items in store.values() for item in items if "id" in item}
        )
        variations = self.rows.variations
        rows = variations.loc[variations["_parent"].isin(known)]
        by_id = {product_id: sku for sku, product_id in known.items()}
        for request in plan_variations(rows, self.shape, known, store, {}).requests:
            parent = by_id[int(request["path"].split("/")[2])]
            progress.variation_requests.setdefault(parent, []).append(request)

    def _plan_options(self, progress: SyncProgress) -> Planned:
        requests = []
        for parent in progress.options_stale:
            if parent in progress.blocked or parent not in progress.product_ids:
                continue
            body = {"options": self.derived_options[parent]}
            path = f"/products/{progress.product_ids[parent]}"
            requests.append({"id": f"options:{parent}", "method": "PUT", "path": path, "body": body})
        return Planned("options", *ready_plan(requests, self.chunk_size), self.parallel)

    def _plan_variations(self, progress: SyncProgress) -> Planned:
        known = set(progress.product_ids) - set(progress.created_products)
        variations = self.rows.variations
        new_rows = variations.loc[~variations["_parent"].isin(known)]
        new = NewVariations(new_rows, self.shape, progress.product_ids, dict(progress.blocked))
        progress.blocked.update(new.skipped())
        held = known & set(progress.blocked)  # known products whose options failed (or whose category did)
        rows = variations.loc[variations["_parent"].isin(held)]
        for sku, parent in zip(rows["sku"], rows["_parent"], strict=True):
            progress.blocked[sku] = progress.blocked[parent]
        planned = [
            request for parent, found in progress.variation_requests.items() if parent not in held for request in found
        ]
        order = {"DELETE": 0, "PUT": 1, "POST": 2}  # deletes, then updates, then creates (a SKU may move)
        planned.sort(key=lambda request: order.get(str(request["method"]), 3))

        def requests() -> Iterator[dict[str, Any]]:  # made again at each read: checked, then sent
            return chain(planned, new.requests())

        return Planned("variations", *ready_plan(requests, self.chunk_size), False)

    def image_planner(self, progress: SyncProgress, memory: MemoryOpener) -> ImagePlanner:
        """The images phase's requests, made from the progress (the same ones again when the phase is settled)."""
        return ImagePlanner(
            self.rows.products,
            self.rows.variations,
            self.shape,
            product_ids=progress.product_ids,
            variation_ids=progress.variation_ids,
            new_products=set(progress.created_products),
            memory=memory.load(),
            refresh=memory.refresh,
            new_variations=set(progress.new_variations),
        )

    def _plan_images(self, progress: SyncProgress, memory: MemoryOpener) -> Planned:
        planner = self.image_planner(progress, memory)  # a gallery: delete, then add, in order
        return Planned("images", *ready_plan(planner.requests, self.chunk_size), False)

    def _plan_unused(self, progress: SyncProgress) -> Planned | None:
        if not self.shape.category_column or self.shape.on_missing_categories != "delete":
            progress.next_step()
            return None
        self.tree.ids = progress.paths()
        paths = [path for product in self.product_paths.values() for path in product]
        separator = self.shape.category_separator
        requests = [
            {"id": f"category-missing:{separator.join(path)}", "method": "DELETE", "path": f"/categories/{category_id}"}
            for path, category_id in self.tree.unused(paths)
        ]
        return Planned("categories-unused", *ready_plan(requests, self.chunk_size), False)  # children first


@dataclass
class Planned:
    """
    One phase, planned: its name, plan and plan summary, whether it may run in parallel mode, and what its
    settling needs (see :class:`~airflow_provider_ecwid.catalog.progress.Pending`).
    """

    phase: str
    plan: BatchPlan
    summary: PlanSummary
    parallel: bool
    skus: list[str] = field(default_factory=list)


class StoreReader(Protocol):
    """Reads the store's listings, each once: its categories, and the feed's products (with their extras)."""

    def categories(self) -> CategoryTree: ...

    def products(self, sync: WholeCatalogSync) -> CatalogIndex: ...


class MemoryOpener(Protocol):
    """The image memory, loaded when the images phase needs it; ``wanted``: the feed has image columns."""

    wanted: bool
    refresh: bool

    def load(self) -> ImageMemory: ...
