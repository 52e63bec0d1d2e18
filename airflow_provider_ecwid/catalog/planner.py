"""The whole-catalog sync's planner: the feed, checked once, against what the store holds.

:class:`CatalogPlanner` holds what every phase (``catalog.phases``) reads:

1. :meth:`CatalogPlanner.check` validates the whole feed before any call (every problem with its row, column
   and reason), splits it into products and variations, and derives each product's options and category paths.
2. :meth:`CatalogPlanner.read_store` (a dry run) or the phases (a sync) read the store: its categories once,
   before the first level; its products (with their options and variations when the feed has variations) once,
   when the products phase is planned.
3. :meth:`CatalogPlanner.product_frame` is the products phase's rows, :meth:`CatalogPlanner.summary` the sync's
   summary. Only what differs is sent, so a second run of the same feed sends no inner request at all.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from typing import Any

import pandas as pd

from airflow_provider_ecwid.api.client import EcwidClient
from airflow_provider_ecwid.batch.problems import ProblemLog
from airflow_provider_ecwid.catalog.categories import CategoryTree, Path
from airflow_provider_ecwid.catalog.diff import CatalogIndex, ProductDiff
from airflow_provider_ecwid.catalog.feed_shape import FeedRows, category_paths, split_rows
from airflow_provider_ecwid.catalog.image_memory import ImageMemory
from airflow_provider_ecwid.catalog.images import ImagePlanner
from airflow_provider_ecwid.catalog.lookup import build_index
from airflow_provider_ecwid.catalog.progress import LISTED, SyncProgress, feed_digest
from airflow_provider_ecwid.catalog.settings import FeedShape, Lookup, ProductSettings
from airflow_provider_ecwid.catalog.variations import derive_options
from airflow_provider_ecwid.errors import EcwidValidationError, renamed

log = logging.getLogger(__name__)

VARIATION_FIELDS = "combinations(id,sku,options,price,compareToPrice,costPrice,quantity,unlimited,weight)"


class CatalogPlanner:
    """
    The feed of one whole-catalog sync, checked, and what its phases read of the store.

    :param frame: the feed, read once, its SKU column named ``sku`` (see ``catalog.diff.read_feed``).
    :param shape: which columns carry categories, variations and images.
    :param products: how product rows are compared and sent (the product diff's settings).
    :param chunk_size: requests per batch.
    :param allow_parallel_mode: run the phases whose requests are independent (categories of one level,
        products, options) in Ecwid's parallel mode; variations and images always run in order.
    """

    def __init__(
        self,
        frame: pd.DataFrame,
        shape: FeedShape,
        *,
        products: ProductSettings,
        chunk_size: int,
        allow_parallel_mode: bool = False,
    ) -> None:
        shape.check_columns([str(name) for name in frame.columns])
        self.frame = frame
        self.shape = shape
        self.products = products
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
        whole = ProductDiff(self.frame, replace(self.products, on_missing="keep", body_columns=None))
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
                shared[key] = [tuple(path) for path in category_paths(self.shape, value)]
            paths[sku] = shared[key]
        return paths

    def product_frame(self) -> pd.DataFrame:
        special = set(self.shape.special_columns)
        body = self.products.body_columns
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
        need_complete = lookup.mode == "auto" or self.products.reads_whole_catalog
        return build_index(
            client, fields, skus, lookup, need_complete=need_complete, extra_fields=extras, records=records
        )

    def preview(self, store: str) -> dict[str, Any]:
        """What a dry run reports: the categories to create and the product changes (later phases need ids)."""
        paths = self.all_category_paths()
        sync = self.product_diff(self.product_frame())
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

    def product_diff(self, frame: pd.DataFrame) -> ProductDiff:
        """The product diff of ``frame`` (rows of the checked feed, their body columns chosen already)."""
        return ProductDiff(frame, replace(self.products, body_columns=None))

    def all_category_paths(self) -> list[Path]:
        """Every category path the feed's products name (repeats included)."""
        return [path for product in self.product_paths.values() for path in product]

    # -- 3. what the phases read -------------------------------------------------------------------------

    def image_planner(self, progress: SyncProgress, memory: ImageMemory, *, refresh: bool) -> ImagePlanner:
        """The images phase's requests, made from the progress (the same ones again when the phase is settled)."""
        return ImagePlanner(
            self.rows.products,
            self.rows.variations,
            self.shape,
            product_ids=progress.product_ids,
            variation_ids=progress.variation_ids,
            new_products=set(progress.created_products),
            memory=memory,
            refresh=refresh,
            new_variations=set(progress.new_variations),
        )

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


#: The old name, kept for one release (it warns).
RENAMED = {"WholeCatalogSync": "CatalogPlanner"}


def __getattr__(name: str) -> Any:
    return renamed(__name__, name, RENAMED, globals())
