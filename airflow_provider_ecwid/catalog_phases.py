"""The whole-catalog sync: categories -> products -> options -> combinations -> images, each phase in batches.

Named steps, each one readable on its own:

1. :meth:`WholeCatalogSync.check` validates the whole feed before any call (every problem with its row,
   column and reason).
2. :meth:`WholeCatalogSync.read_store` reads the store's categories once and looks the products up once
   (with their options and combinations when the feed has variations).
3. :meth:`WholeCatalogSync.run` sends the phases one after another, each waiting for its batches, because
   later ones need the ids earlier ones create. Only what differs is sent, so a second run of the same feed
   sends no inner request at all; a retried task re-reads the store and so resumes where the last try got.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from airflow_provider_ecwid.batch.catalog import CatalogIndex, CatalogSync, OnMissing
from airflow_provider_ecwid.batch.category_tree import CategoryTree, Path, request_id
from airflow_provider_ecwid.batch.feed_shape import FeedRows, FeedShape, split_rows
from airflow_provider_ecwid.batch.image_memory import ImageMemory
from airflow_provider_ecwid.batch.image_plan import ImageGroup, plan_images
from airflow_provider_ecwid.batch.problems import ProblemLog
from airflow_provider_ecwid.batch.variation_plan import derive_options, options_shape, plan_combinations
from airflow_provider_ecwid.catalog_lookup import LookupMode, build_index
from airflow_provider_ecwid.client import EcwidClient
from airflow_provider_ecwid.errors import EcwidValidationError
from airflow_provider_ecwid.phases import PhaseResult, PhaseRunner

log = logging.getLogger(__name__)

COMBINATION_FIELDS = "combinations(id,sku,options,price,compareToPrice,costPrice,quantity,unlimited,weight)"


class WholeCatalogSync:
    """
    Plans and runs a whole-catalog sync of one feed.

    :param frame: the feed, read once, its SKU column named ``sku`` (see ``batch.catalog.read_feed``).
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
        self.blocked: dict[str, str] = {}
        self.derived_options: dict[str, list[dict[str, Any]]] = {}
        self.new_variations: set[str] = set()
        self.summary: dict[str, Any] = {}

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
            column = self.rows.products[self.shape.category_column]
            self.product_paths = {
                sku: [tuple(path) for path in self.shape.paths(value)]
                for sku, value in zip(self.rows.products["sku"], column, strict=True)
            }

    def _product_frame(self) -> pd.DataFrame:
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

    def read_store(self, client: EcwidClient, lookup: LookupMode) -> None:
        """Read the store's categories once and look up the feed's products once."""
        if self.shape.category_column:
            self.tree = CategoryTree(client.iter_categories())
            log.info("The store has %d categor(y/ies)", len(self.tree.ids))
        fields = [name for name in self._product_frame().columns if name != "sku"]
        extras = ["options", COMBINATION_FIELDS] if self.shape.parent_sku_column else []
        skus = list(self.rows.products["sku"])
        # "auto" pages the catalog here: batched lookups are inner requests, and an unchanged feed should cost
        # reads only (a batch of lookups would also be a batch POST on every run)
        need_complete = lookup == "auto" or self.options.get("on_missing", "keep") != "keep"
        self.index = build_index(client, fields, skus, lookup, need_complete=need_complete, extra_fields=extras)

    def preview(self, store: str) -> dict[str, Any]:
        """What a dry run reports: the categories to create and the product changes (later phases need ids)."""
        paths = [path for product in self.product_paths.values() for path in product]
        sync = CatalogSync(self._product_frame(), **{**self.options, "body_columns": None})
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

    # -- 3. the phases --------------------------------------------------------------------------------------

    def run(
        self, runner: PhaseRunner, memory: ImageMemory | None, *, refresh_images: bool, defer_images: bool = False
    ) -> dict[str, Any] | PendingImages:
        """
        Send every phase, in order; return the summary (failures by SKU and phase included).

        With ``defer_images``, the image phase (when it is the last one and has requests) is submitted and not
        waited for: the caller gets a :class:`PendingImages` to wait on elsewhere (the triggerer) and to settle
        with :func:`settle_images`.
        """
        self._categories(runner)
        product_ids, created = self._products(runner)
        if self.shape.parent_sku_column:
            self._options(runner, product_ids, created)
            combination_ids = self._combinations(runner, product_ids)
        else:
            combination_ids = {}
        if memory is not None:
            plan = plan_images(
                self.rows.products,
                self.rows.variations,
                self.shape,
                product_ids=product_ids,
                combination_ids=combination_ids,
                new_products=created,
                memory=memory,
                refresh=refresh_images,
                new_variations=self.new_variations,
            )
            last = self.shape.on_missing_categories != "delete"
            if defer_images and last and plan.requests:
                tickets, expected = runner.submit_requests("images", plan.requests, parallel=False)
                groups = [asdict(group) for group in plan.groups]
                return PendingImages(tickets, expected, groups, self.summarize(runner))
            # a gallery: delete, then add, in order
            result = runner.run_requests("images", plan.requests, parallel=False)
            remember_images(memory, plan.groups, result.failed_ids())
        self._unused_categories(runner)
        return self.summarize(runner)

    def summarize(self, runner: PhaseRunner) -> dict[str, Any]:
        """The summary of the phases run so far."""
        failures = runner.failures()
        self.summary.update(
            {
                "feed_rows": len(self.frame),
                "products": len(self.rows.products),
                "variations": len(self.rows.variations),
                "sent": runner.sent(),
                "failed_count": len(failures),
                "failed": failures[:100],
                "skipped": dict(list(self.blocked.items())[:100]),
            }
        )
        return self.summary

    def _categories(self, runner: PhaseRunner) -> None:
        if not self.shape.category_column:
            return
        separator = self.shape.category_separator
        paths = [path for product in self.product_paths.values() for path in product]
        for depth, level in enumerate(self.tree.missing_levels(paths), 1):
            ready = [path for path in level if len(path) == 1 or path[:-1] in self.tree.ids]
            result = runner.run_requests(
                f"categories-{depth}", self.tree.create_requests(ready, separator), parallel=self.parallel
            )
            created = result.created()
            for path in ready:
                if request_id(path, separator) in created:
                    self.tree.ids[path] = created[request_id(path, separator)]
        for sku, product_paths in self.product_paths.items():
            lost = [path for path in product_paths if path not in self.tree.ids]
            if lost:
                self.blocked[sku] = f"category {separator.join(lost[0])!r} could not be created"

    def _products(self, runner: PhaseRunner) -> tuple[dict[str, int], set[str]]:
        frame = self._product_frame()
        keep = [sku not in self.blocked for sku in frame["sku"]]
        frame = frame.loc[keep]
        frame.index = pd.RangeIndex(len(frame))
        create_only = []
        if self.shape.parent_sku_column:  # a new product gets its options with its create: one request less
            derived = self.derived_options
            options_column = pd.Series([derived.get(sku) for sku in frame["sku"]], index=frame.index, dtype=object)
            frame = frame.assign(options=options_column)
            create_only = ["options"]
        sync = CatalogSync(frame, **{**self.options, "body_columns": None})
        sync.accept_checked(list(frame["sku"]), create_only=create_only)
        sync.held_back = set(self.blocked)
        plan, sent, found = sync.plan(self.index, self.chunk_size)
        self.summary["product_changes"] = {"new": found.new, "changed": found.changed, "unchanged": found.unchanged}
        result = runner.run_plan("products", plan, sent, parallel=self.parallel)
        created = {sku: pid for sku, pid in result.created().items() if not sku.startswith("missing:")}
        product_ids = {sku: entry[0] for sku, entry in self.index.products.items()}
        product_ids.update(created)
        for sku in frame["sku"]:
            if sku not in product_ids:
                self.blocked[sku] = "the product could not be created"
        return product_ids, set(created)

    def _options(self, runner: PhaseRunner, product_ids: Mapping[str, int], created: set[str]) -> None:
        requests = []
        for parent, options in self.derived_options.items():
            if parent in self.blocked or parent not in product_ids or parent in created:  # created with them
                continue
            known = self.index.extras.get(parent, {}).get("options")
            if options_shape(known) != options_shape(options):
                body = {"options": options}
                path = f"/products/{product_ids[parent]}"
                requests.append({"id": f"options:{parent}", "method": "PUT", "path": path, "body": body})
        result = runner.run_requests("options", requests, parallel=self.parallel)
        for request in result.failed_ids():
            self.blocked[request.split(":", 1)[1]] = "its options could not be updated"

    def _store_combinations(self, product_ids: Mapping[str, int]) -> dict[str, Sequence[Mapping[str, Any]]]:
        parents = set(self.rows.variations["_parent"]) | set(self.rows.products["sku"])
        return {
            sku: extras.get("combinations") or []
            for sku, extras in self.index.extras.items()
            if sku in parents and sku in product_ids
        }

    def _combinations(self, runner: PhaseRunner, product_ids: Mapping[str, int]) -> dict[str, int]:
        store = self._store_combinations(product_ids)
        plan = plan_combinations(self.rows.variations, self.shape, product_ids, store, self.blocked)
        self.blocked.update(plan.skipped)
        result = runner.run_requests("variations", plan.requests, parallel=False)
        ids = {str(item.get("sku")): int(item["id"]) for items in store.values() for item in items if "id" in item}
        created = {key.split(":", 1)[1]: value for key, value in result.created().items()}
        self.new_variations = set(created)
        ids.update(created)
        return ids

    def _unused_categories(self, runner: PhaseRunner) -> None:
        if not self.shape.category_column or self.shape.on_missing_categories != "delete":
            return
        paths = [path for product in self.product_paths.values() for path in product]
        separator = self.shape.category_separator
        requests = [
            {"id": f"category-missing:{separator.join(path)}", "method": "DELETE", "path": f"/categories/{category_id}"}
            for path, category_id in self.tree.unused(paths)
        ]
        runner.run_requests("categories-unused", requests, parallel=False)  # children before parents


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


@dataclass
class PendingImages:
    """
    The image phase, submitted but not yet waited for (its wait is deferred to the triggerer).

    :param tickets: the phase's tickets.
    :param expected: what each ticket holds.
    :param groups: the image groups (``ImageGroup`` as dicts), to remember once their requests completed.
    :param summary: the summary of the phases before it.
    """

    tickets: list[str]
    expected: dict[str, dict[str, Any]]
    groups: list[dict[str, Any]]
    summary: dict[str, Any] = field(default_factory=dict)


def remember_images(memory: ImageMemory, groups: Iterable[ImageGroup], failed: set[str]) -> None:
    """Keep each group's fingerprint when all its requests completed, forget it otherwise; save the memory."""
    for group in groups:
        ok = not failed.intersection(group.request_ids)
        memory.remember(group.sku, group.kind, group.remember if ok else None)
    memory.save()


def settle_images(pending: PendingImages, result: PhaseResult, memory: ImageMemory) -> dict[str, Any]:
    """After a deferred image phase: remember what completed, and add the phase to the summary."""
    remember_images(memory, [ImageGroup(**group) for group in pending.groups], result.failed_ids())
    summary = dict(pending.summary)
    summary["sent"] = {**summary.get("sent", {}), "images": result.sent}
    failures = result.failures()
    summary["failed_count"] = int(summary.get("failed_count", 0)) + len(failures)
    summary["failed"] = (list(summary.get("failed", [])) + failures)[:100]
    return summary
