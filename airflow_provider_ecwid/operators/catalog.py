"""EcwidCatalogSyncOperator: an idempotent product import by SKU."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, Context

from airflow_provider_ecwid.errors import EcwidConfigError, EcwidWaitError
from airflow_provider_ecwid.operators.batch import EcwidBatchOperator
from airflow_provider_ecwid.tasks.ticket_wait import fail_without_retry
from airflow_provider_ecwid.tickets.report import check_fraction

if TYPE_CHECKING:  # pandas, numpy and pyarrow load when a task runs, not when a DAG file is parsed
    from airflow_provider_ecwid.catalog.diff import CatalogIndex, CatalogSync, OnMissing
    from airflow_provider_ecwid.catalog.lookup import LookupMode

SYNC_XCOM_KEY = "sync_summary"


class EcwidCatalogSyncOperator(EcwidBatchOperator):
    """
    Make the store's products match a feed, by SKU, without ever creating a product twice.

    SKUs are mapped to product ids first (paging the catalog with trimmed fields, or looking the feed's SKUs
    up in batches: ``lookup="auto"`` picks whichever costs fewer calls). Then new SKUs are created (POST, with
    ``enabled`` sent explicitly), known SKUs whose values differ are updated (PUT of the feed's fields), and
    unchanged products are left alone: running the same feed twice sends nothing the second time. Everything
    else (chunking, deduplication keys, groups, resuming, waiting, the report) is EcwidBatchOperator's.

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
    :param image_memory_path: the folder (local path or ObjectStoragePath URL such as ``s3://bucket/ecwid``)
        holding the image memory, one JSON document per store (``store-<id>.json``). Default:
        ``$AIRFLOW_HOME/ecwid/image-memory``; point every DAG that syncs a store at the same place.
    :param refresh_images: send every image again, whatever the image memory says.
    :param kwargs: everything EcwidBatchOperator takes except ``path``, ``method``, ``method_column``,
        ``body`` and ``id_column``.
    """

    template_fields: Sequence[str] = (
        *EcwidBatchOperator.template_fields,
        "sku_column",
        "on_missing",
        "image_memory_path",
        "refresh_images",
    )

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
        on_missing_categories: str = "keep",
        parent_sku_column: str | None = None,
        option_columns: Sequence[str] | None = None,
        on_missing_variations: str = "keep",
        image_column: str | None = None,
        gallery_column: str | None = None,
        gallery_separator: str = "|",
        image_memory_path: str | None = None,
        refresh_images: bool = False,
        **kwargs: Any,
    ) -> None:
        for taken in ("path", "method", "method_column", "body", "id_column"):
            if taken in kwargs:
                raise EcwidConfigError(f"EcwidCatalogSyncOperator decides {taken!r} itself; do not pass it")
        super().__init__(data=data, path="/products", id_column=sku_column, body_columns=body_columns, **kwargs)
        self.sku_column = sku_column
        self.enabled_default = enabled_default
        self.on_missing = on_missing
        self.max_missing_share = check_fraction(max_missing_share, "max_missing_share")
        self.lookup = lookup
        self.shape_options: dict[str, Any] = {
            "category_column": category_column,
            "category_separator": category_separator,
            "on_missing_categories": on_missing_categories,
            "parent_sku_column": parent_sku_column,
            "option_columns": tuple(option_columns or ()),
            "on_missing_variations": on_missing_variations,
            "image_column": image_column,
            "gallery_column": gallery_column,
            "gallery_separator": gallery_separator,
        }
        self.image_memory_path = image_memory_path
        self.refresh_images = refresh_images

    def execute(self, context: Context) -> Any:
        with fail_without_retry():  # bad feed, a refused sync or a 403: another try would fail the same way
            return self._sync(context)

    def _sync(self, context: Context) -> Any:
        self._start(context)
        from airflow_provider_ecwid.catalog.feed_shape import FeedShape

        if FeedShape(**self.shape_options).active:  # categories, variations or images: the phased sync
            from airflow_provider_ecwid.operators.whole_catalog import sync_whole_catalog

            return sync_whole_catalog(self, context)
        sync = self.read_and_check_feed()
        index = self.look_up_skus(sync)
        plan, sent, summary = sync.plan(index, self.chunk_size)
        summary.lookup, summary.lookup_calls = index.way, index.calls
        self.log.info("Catalog sync: %s", summary.line())
        context["ti"].xcom_push(key=SYNC_XCOM_KEY, value=summary.as_dict())
        return self._send(plan, sent, context)

    def execute_complete(self, context: Context, event: Any = None) -> Any:
        """Resume after the trigger fired: the whole-catalog sync's image phase, or the flat sync's batches."""
        from airflow_provider_ecwid.catalog.feed_shape import FeedShape

        if not FeedShape(**self.shape_options).active:
            return super().execute_complete(context, event)
        from airflow_provider_ecwid.operators.whole_catalog import resume_whole_catalog

        with fail_without_retry():
            return resume_whole_catalog(self, context, event)

    def read_and_check_feed(self) -> CatalogSync:
        """Read the feed once (one download for a URL) and validate every row once, before any call."""
        from airflow_provider_ecwid.catalog.diff import CatalogSync, read_feed

        sync = CatalogSync(
            read_feed(self._source(), self.sku_column),
            feed_sku_column=self.sku_column,
            body_columns=self.body_columns,
            enabled_default=self.enabled_default,
            on_missing=self.on_missing,
            max_missing_share=self.max_missing_share,
            null_values=self.null_values,
        )
        sync.check_feed(self.chunk_size)
        return sync

    def look_up_skus(self, sync: CatalogSync) -> CatalogIndex:
        """Map the store's SKUs to product ids, once the store's earlier batches have run."""
        from airflow_provider_ecwid.catalog.lookup import build_index, wait_for_store_at_rest

        client = self.hook.get_conn()
        try:
            wait_for_store_at_rest(client, poll_interval=self.poll_interval, progress_timeout=self.progress_timeout)
        except EcwidWaitError as err:
            raise AirflowException(f"The store's earlier batches did not finish: {err}") from err
        return build_index(
            client, sync.compared_fields, sync.skus, self.lookup, need_complete=self.on_missing != "keep"
        )
