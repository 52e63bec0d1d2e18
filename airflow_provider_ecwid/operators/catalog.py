"""EcwidCatalogSyncOperator: an idempotent product import by SKU."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, Context

from airflow_provider_ecwid.batch.report import check_fraction
from airflow_provider_ecwid.errors import EcwidConfigError, EcwidWaitError
from airflow_provider_ecwid.operators.batch import EcwidBatchOperator, open_input

if TYPE_CHECKING:  # pandas, numpy and pyarrow load when a task runs, not when a DAG file is parsed
    from airflow_provider_ecwid.batch.catalog import OnMissing
    from airflow_provider_ecwid.batch.plan import BatchPlan
    from airflow_provider_ecwid.catalog_lookup import LookupMode

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
    :param kwargs: everything EcwidBatchOperator takes except ``path``, ``method``, ``method_column``,
        ``body`` and ``id_column``.
    """

    template_fields: Sequence[str] = (*EcwidBatchOperator.template_fields, "sku_column", "on_missing")

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

    def _plan(self, context: Context) -> BatchPlan:
        from airflow_provider_ecwid.batch.catalog import CatalogSync
        from airflow_provider_ecwid.batch.sources import make_source
        from airflow_provider_ecwid.catalog_lookup import build_index, wait_for_store_at_rest

        feed = make_source(self.data, opener=open_input, file_format=self.file_format, read_options=self.read_options)
        self.log.info("Reading %s", feed.describe())
        sync = CatalogSync(
            feed,
            sku_column=self.sku_column,
            body_columns=self.body_columns,
            enabled_default=self.enabled_default,
            on_missing=self.on_missing,
            max_missing_share=self.max_missing_share,
            null_values=self.null_values,
        )
        sync.check_feed(self.chunk_size)
        client = self.hook.get_conn()
        try:
            wait_for_store_at_rest(client, poll_interval=self.poll_interval, progress_timeout=self.progress_timeout)
        except EcwidWaitError as err:
            raise AirflowException(f"The store's earlier batches did not finish: {err}") from err
        index, way = build_index(
            client,
            sync.compared_fields,
            sync.skus,
            self.lookup,
            need_complete=self.on_missing != "keep",
        )
        plan, summary = sync.plan(index, self.chunk_size)
        summary.lookup, summary.lookup_calls = way, index.calls
        self.log.info("Catalog sync: %s", summary.line())
        context["ti"].xcom_push(key=SYNC_XCOM_KEY, value=summary.as_dict())
        return plan
