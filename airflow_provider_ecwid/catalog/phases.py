"""The whole-catalog sync's phases, one class each, and the order the run loop walks them in.

A phase plans its requests from the progress (``catalog.progress.SyncProgress``) and the checked feed
(``catalog.planner.CatalogPlanner``), and, once its batches ran, applies what they answered back to the progress:
the ids they created, and the rows that cannot go on because a request they needed failed. Between the two,
``catalog.run.CatalogRun`` submits the phase and waits for it, in the worker or in the triggerer.

To add a phase: write a :class:`Phase` (its ``name``, when it ``runs_for`` a feed, ``plan`` and ``apply``),
give its requests a kind in ``catalog.request_ids``, keep in the progress any id a later phase needs, and put it
in :data:`PHASES`. The run loop needs no change.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from itertools import chain
from typing import Any, ClassVar, Protocol

import pandas as pd

from airflow_provider_ecwid.batch.plan import BatchPlan, PlanSummary, ready_plan
from airflow_provider_ecwid.catalog.categories import CategoryTree, Path, request_id
from airflow_provider_ecwid.catalog.diff import CatalogIndex
from airflow_provider_ecwid.catalog.image_memory import ImageMemory
from airflow_provider_ecwid.catalog.images import remember_images
from airflow_provider_ecwid.catalog.phase_runner import PhaseResult
from airflow_provider_ecwid.catalog.planner import CatalogPlanner
from airflow_provider_ecwid.catalog.progress import PATH_JOIN, Pending, SyncProgress
from airflow_provider_ecwid.catalog.request_ids import MISSING_PRODUCT, OPTIONS, UNUSED_CATEGORY, VARIATION
from airflow_provider_ecwid.catalog.variations import NewVariations, options_shape, plan_variations

#: Store products whose listing is parsed at a time, to plan the variations of known products.
STORE_SLICE = 10_000
#: The step after the last phase.
DONE = "done"


class StoreReader(Protocol):
    """Reads the store's listings, each once: its categories, and the feed's products (with their extras)."""

    def categories(self) -> CategoryTree: ...

    def products(self, planner: CatalogPlanner) -> CatalogIndex: ...


class MemoryOpener(Protocol):
    """The image memory, loaded when the images phase needs it; ``wanted``: the feed has image columns."""

    wanted: bool
    refresh: bool

    def load(self) -> ImageMemory: ...


@dataclass
class PhaseContext:
    """
    What a phase plans from and applies its answers to.

    :param planner: the checked feed, and what was read of the store.
    :param progress: how far the sync got (the phase keeps its ids and failures here).
    :param reader: reads the store's listings, when a phase first needs them.
    :param memory: the image memory, loaded when the images phase needs it.
    """

    planner: CatalogPlanner
    progress: SyncProgress
    reader: StoreReader
    memory: MemoryOpener


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


class Phase:
    """
    One phase of the sync. ``name`` is its step in the progress and its key in the summary's ``sent``.

    A phase runs once per sync, unless it ``repeats``: then it is planned again after each settled round until
    :meth:`plan` says it is over (the categories, one level at a time).
    """

    name: ClassVar[str]
    repeats: ClassVar[bool] = False

    def runs_for(self, context: PhaseContext) -> bool:
        """Whether this sync has the phase at all (the feed has the columns it needs)."""
        return True

    def plan(self, context: PhaseContext) -> Planned | None:
        """The phase's requests (they may be none), or None when the phase is over."""
        raise NotImplementedError

    def apply(self, context: PhaseContext, result: PhaseResult, pending: Pending) -> None:
        """Keep what the settled phase created, and hold back what depended on what failed."""
        context.progress.record(self.name, result)

    def ready(self, context: PhaseContext, name: str, requests: Any, *, parallel: bool = False) -> Planned:
        """Ready requests (a list, or a function that makes them anew at each read) as this phase's plan."""
        chunk_size = context.planner.chunk_size
        return Planned(name, *ready_plan(requests, chunk_size), parallel and context.planner.parallel)


class CategoryLevels(Phase):
    """The store's categories read once; the missing ones created level by level, parents first."""

    name = "categories"
    repeats = True

    def runs_for(self, context: PhaseContext) -> bool:
        return bool(context.planner.shape.category_column)

    def plan(self, context: PhaseContext) -> Planned | None:
        planner, progress = context.planner, context.progress
        if progress.category_ids is None:  # the store's categories, read once
            progress.keep_paths(context.reader.categories().ids)
        planner.tree.ids = progress.paths()
        separator = planner.shape.category_separator
        levels = planner.tree.missing_levels(planner.all_category_paths())  # a failed level stays missing
        depth = progress.depth + 1
        if depth > len(levels):
            for sku, product_paths in planner.product_paths.items():
                lost = [path for path in product_paths if path not in planner.tree.ids]
                if lost:
                    progress.blocked[sku] = f"category {separator.join(lost[0])!r} could not be created"
            return None
        ready = [path for path in levels[depth - 1] if len(path) == 1 or path[:-1] in planner.tree.ids]
        planned = self.ready(
            context, f"{self.name}-{depth}", planner.tree.create_requests(ready, separator), parallel=True
        )
        planned.skus = [PATH_JOIN.join(path) for path in ready]
        return planned

    def apply(self, context: PhaseContext, result: PhaseResult, pending: Pending) -> None:
        planner, progress = context.planner, context.progress
        separator = planner.shape.category_separator
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
            rows = [sku for sku, paths in planner.product_paths.items() if _passes_through(paths, path)]
            failures.append({**failure, "phase": self.name, "rows": rows})
        progress.record(self.name, result, failures)
        progress.depth += 1


def _passes_through(paths: list[Path], category: Path) -> bool:
    return any(path[: len(category)] == category for path in paths)


class Products(Phase):
    """The feed's products read from the store once; new ones created (with their options), changed ones updated."""

    name = "products"

    def plan(self, context: PhaseContext) -> Planned:
        planner, progress = context.planner, context.progress
        planner.tree.ids = progress.paths()
        planner.index = context.reader.products(planner)  # the store's products, read once, when first needed
        _keep_store_facts(planner, progress)
        frame = planner.product_frame()
        frame = frame.loc[[sku not in progress.blocked for sku in frame["sku"]]]
        frame.index = pd.RangeIndex(len(frame))
        create_only = []
        if planner.shape.parent_sku_column:  # a new product gets its options with its create: one request less
            derived = planner.derived_options
            options_column = pd.Series([derived.get(sku) for sku in frame["sku"]], index=frame.index, dtype=object)
            frame = frame.assign(options=options_column)
            create_only = ["options"]
        diff = planner.product_diff(frame)
        diff.accept_checked(list(frame["sku"]), create_only=create_only)
        diff.held_back = set(progress.blocked)
        plan, sent, found = diff.plan(planner.index, planner.chunk_size)
        progress.product_changes = {"new": found.new, "changed": found.changed, "unchanged": found.unchanged}
        return Planned(self.name, plan, sent, planner.parallel, skus=list(frame["sku"]))

    def apply(self, context: PhaseContext, result: PhaseResult, pending: Pending) -> None:
        progress = context.progress
        created = {sku: pid for sku, pid in result.created().items() if MISSING_PRODUCT.key(sku) is None}
        progress.product_ids.update(created)
        progress.created_products = sorted(created)
        for sku in pending.skus:
            if sku not in progress.product_ids:
                progress.blocked[sku] = "the product could not be created"
        super().apply(context, result, pending)


def _keep_store_facts(planner: CatalogPlanner, progress: SyncProgress) -> None:
    """What later phases need of the store's listing: ids, stale options, the known products' variations."""
    feed_products = set(planner.rows.products["sku"])
    known = {sku: entry[0] for sku, entry in planner.index.products.items() if sku in feed_products}
    progress.product_ids = dict(known)
    progress.options_stale, progress.variation_ids, progress.variation_requests = [], {}, {}
    if not planner.shape.parent_sku_column:
        return
    parents = list(known)
    for start in range(0, len(parents), STORE_SLICE):  # a slice of the listing parsed at a time
        _keep_variation_facts(planner, progress, {sku: known[sku] for sku in parents[start : start + STORE_SLICE]})
    progress.options_stale.sort()


def _keep_variation_facts(planner: CatalogPlanner, progress: SyncProgress, known: dict[str, int]) -> None:
    listed = {sku: planner.index.extra(sku) for sku in known}
    derived = planner.derived_options
    progress.options_stale += [
        parent
        for parent, listing in listed.items()
        if parent in derived and options_shape(listing.get("options")) != options_shape(derived[parent])
    ]
    store = {sku: listing.get("combinations") or [] for sku, listing in listed.items()}
    progress.variation_ids.update(
        {str(item.get("sku")): int(item["id"]) for items in store.values() for item in items if "id" in item}
    )
    variations = planner.rows.variations
    rows = variations.loc[variations["_parent"].isin(known)]
    by_id = {product_id: sku for sku, product_id in known.items()}
    for request in plan_variations(rows, planner.shape, known, store, {}).requests:
        parent = by_id[int(request["path"].split("/")[2])]
        progress.variation_requests.setdefault(parent, []).append(request)


class Options(Phase):
    """Known products whose options differ from those their variations derive get them (new ones got them)."""

    name = "options"

    def runs_for(self, context: PhaseContext) -> bool:
        return bool(context.planner.shape.parent_sku_column)

    def plan(self, context: PhaseContext) -> Planned:
        planner, progress = context.planner, context.progress
        requests = []
        for parent in progress.options_stale:
            if parent in progress.blocked or parent not in progress.product_ids:
                continue
            body = {"options": planner.derived_options[parent]}
            path = f"/products/{progress.product_ids[parent]}"
            requests.append({"id": OPTIONS.make(parent), "method": "PUT", "path": path, "body": body})
        return self.ready(context, self.name, requests, parallel=True)

    def apply(self, context: PhaseContext, result: PhaseResult, pending: Pending) -> None:
        for request in result.failed_ids():
            context.progress.blocked[str(OPTIONS.key(request))] = "its options could not be updated"
        super().apply(context, result, pending)


class Variations(Phase):
    """Variations deleted, updated and created, in that order (a SKU may move), in Ecwid's sequential mode."""

    name = "variations"

    def runs_for(self, context: PhaseContext) -> bool:
        return bool(context.planner.shape.parent_sku_column)

    def plan(self, context: PhaseContext) -> Planned:
        planner, progress = context.planner, context.progress
        known = set(progress.product_ids) - set(progress.created_products)
        variations = planner.rows.variations
        new_rows = variations.loc[~variations["_parent"].isin(known)]
        new = NewVariations(new_rows, planner.shape, progress.product_ids, dict(progress.blocked))
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

        return self.ready(context, self.name, requests)

    def apply(self, context: PhaseContext, result: PhaseResult, pending: Pending) -> None:
        progress = context.progress
        new_variations = []
        for key, value in result.iter_created():
            sku = str(VARIATION.key(key))
            progress.variation_ids[sku] = value
            new_variations.append(sku)
        progress.new_variations = sorted(new_variations)
        super().apply(context, result, pending)


class Images(Phase):
    """Only the images that changed since they were last sent (the image memory); a gallery: delete, then add."""

    name = "images"

    def runs_for(self, context: PhaseContext) -> bool:
        return context.memory.wanted

    def plan(self, context: PhaseContext) -> Planned:
        images = context.planner.image_planner(context.progress, context.memory.load(), refresh=context.memory.refresh)
        return self.ready(context, self.name, images.requests)

    def apply(self, context: PhaseContext, result: PhaseResult, pending: Pending) -> None:
        memory = context.memory.load()
        groups = context.planner.image_planner(context.progress, memory, refresh=context.memory.refresh).groups()
        remember_images(memory, groups, result.failed_ids())
        super().apply(context, result, pending)


class UnusedCategories(Phase):
    """With ``on_missing_categories="delete"``: the store categories no feed path uses, children first."""

    name = "categories-unused"

    def runs_for(self, context: PhaseContext) -> bool:
        shape = context.planner.shape
        return bool(shape.category_column) and shape.on_missing_categories == "delete"

    def plan(self, context: PhaseContext) -> Planned:
        planner = context.planner
        planner.tree.ids = context.progress.paths()
        separator = planner.shape.category_separator
        requests = [
            {"id": UNUSED_CATEGORY.make(separator.join(path)), "method": "DELETE", "path": f"/categories/{category_id}"}
            for path, category_id in planner.tree.unused(planner.all_category_paths())
        ]
        return self.ready(context, self.name, requests)  # in order: children first


#: The phases, in the order they run: each one's requests may need ids an earlier one created.
PHASES: tuple[Phase, ...] = (CategoryLevels(), Products(), Options(), Variations(), Images(), UnusedCategories())
#: The progress's steps: every phase's name, then :data:`DONE`.
STEPS = (*(phase.name for phase in PHASES), DONE)


def phase_named(step: str) -> Phase:
    """The phase of a progress's step."""
    for phase in PHASES:
        if phase.name == step:
            return phase
    raise ValueError(f"no phase is called {step!r}")


def step_after(step: str) -> str:
    """The step after ``step`` (:data:`DONE` after the last phase)."""
    return STEPS[STEPS.index(step) + 1]


def plan_next(context: PhaseContext) -> Planned | None:
    """
    The next round of the progress's step (it may send nothing), or None when that step is over: the progress
    then names the next step.
    """
    progress = context.progress
    phase = phase_named(progress.step)
    planned = phase.plan(context) if phase.runs_for(context) else None
    if planned is None:
        progress.step = step_after(progress.step)
    return planned


def apply_settled(context: PhaseContext, result: PhaseResult, pending: Pending) -> None:
    """Apply a settled round to the progress; move on unless its phase repeats (the next level is planned)."""
    progress = context.progress
    phase = phase_named(progress.step)
    phase.apply(context, result, pending)
    if not phase.repeats:
        progress.step = step_after(progress.step)
