"""Idempotent catalog sync by SKU: which feed rows are new, changed or unchanged, and what to do with the rest.

Ecwid has no upsert by SKU. The sync first maps SKU -> product id (see ``catalog_lookup``), then sends POST
for new SKUs, PUT for known SKUs whose values differ from the store's, nothing for unchanged ones, and, if
asked, disables or deletes store products whose SKU is not in the feed. All of it goes out as one batch
plan, so chunking, deduplication keys and resuming work exactly as for any other submission.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

import numpy as np
import pandas as pd

from airflow_provider_ecwid.batch.build import NullValues, RequestBuilder
from airflow_provider_ecwid.batch.plan import BatchPlan
from airflow_provider_ecwid.batch.problems import ProblemLog, RowProblem
from airflow_provider_ecwid.batch.report import check_fraction
from airflow_provider_ecwid.batch.sources import DerivedSource, InputSource, ReadyRequestsSource
from airflow_provider_ecwid.batch.values import MISSING, column_values
from airflow_provider_ecwid.errors import EcwidConfigError, EcwidSyncRefused

OnMissing = Literal["keep", "disable", "delete"]
PRODUCT_ID_COLUMN = "_ecwid_product_id"
NEW, CHANGED, UNCHANGED = 0, 1, 2


def canonical(value: Any) -> Any:
    """A comparable form of a JSON value: every number a float, containers compared item by item."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, int | float | Decimal):
        return float(value)
    if isinstance(value, Mapping):
        return {str(key): canonical(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [canonical(item) for item in value]
    return value


def _digest(value: Any) -> int:
    return hash(json.dumps(canonical(value), sort_keys=True, default=str))


_ABSENT = hash("<absent>")


class CatalogIndex:
    """
    SKU -> (product id, enabled, a digest of each compared field) for the store's products.

    :param fields: the product fields compared with the feed.
    """

    def __init__(self, fields: Sequence[str]) -> None:
        self.fields = list(fields)
        self.products: dict[str, tuple[int, bool | None, tuple[int, ...]]] = {}
        self.complete = False  # True when the whole catalog was read (needed for on_missing)
        self.catalog_size: int | None = None
        self.calls = 0

    def add(self, product: Mapping[str, Any]) -> None:
        sku, product_id = product.get("sku"), product.get("id")
        if not isinstance(sku, str) or not sku or not isinstance(product_id, int):
            return
        digests = tuple(_digest(product[name]) if name in product else _ABSENT for name in self.fields)
        enabled = product.get("enabled")
        self.products[sku] = (product_id, enabled if isinstance(enabled, bool) else None, digests)

    def differs(self, sku: str, values: Mapping[str, Any]) -> bool:
        """True when a field the feed sets for ``sku`` has another value in the store."""
        _, _, digests = self.products[sku]
        for position, name in enumerate(self.fields):
            value = values.get(name, MISSING)
            if value is not MISSING and _digest(value) != digests[position]:
                return True
        return False


@dataclass
class SyncSummary:
    """What the sync found and will send."""

    feed_rows: int = 0
    new: int = 0
    changed: int = 0
    unchanged: int = 0
    missing: int = 0
    on_missing: str = "keep"
    lookup: str = ""
    lookup_calls: int = 0
    catalog_size: int | None = None
    missing_skus: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        data = dict(self.__dict__)
        data["missing_skus"] = self.missing_skus[:100]
        return data

    def line(self) -> str:
        return (
            f"feed {self.feed_rows:,} row(s): {self.new:,} new (POST), {self.changed:,} changed (PUT), "
            f"{self.unchanged:,} unchanged (nothing sent); {self.missing:,} store product(s) not in the feed "
            f"({self.on_missing}); SKU lookup by {self.lookup} in {self.lookup_calls:,} call(s)"
        )


class CatalogSync:
    """
    Plans a sync of ``feed`` into the store.

    :param feed: the feed (DataFrame, rows or file).
    :param sku_column: the column holding each product's SKU.
    :param body_columns: the product fields to send; default every column of the feed.
    :param enabled_default: ``enabled`` sent with new products when the feed has no ``enabled`` column
        (Ecwid makes a product without it disabled).
    :param on_missing: ``keep``, ``disable`` or ``delete`` store products whose SKU is not in the feed.
    :param max_missing_share: refuse when on_missing would touch more than this share of the catalog.
    :param null_values: ``omit`` or ``null`` for empty feed values.
    """

    def __init__(
        self,
        feed: InputSource,
        *,
        sku_column: str = "sku",
        body_columns: Sequence[str] | None = None,
        enabled_default: bool = True,
        on_missing: OnMissing = "keep",
        max_missing_share: float | None = 0.1,
        null_values: NullValues = "omit",
    ) -> None:
        if on_missing not in ("keep", "disable", "delete"):
            raise EcwidConfigError(f"on_missing must be 'keep', 'disable' or 'delete', got {on_missing!r}")
        if feed.holds_requests:
            raise EcwidConfigError("the catalog sync takes product rows, not ready batch requests")
        feed.read_as_text([sku_column])  # SKUs are text from the moment they are read: 00123 stays 00123
        self.feed = feed if sku_column == "sku" else _renamed(feed, sku_column)
        self.sku_column = "sku"  # sent as Ecwid's product field, whatever the feed calls it
        self.feed_sku_column = sku_column
        self.body_columns = list(body_columns) if body_columns is not None else None
        self.enabled_default = enabled_default
        self.on_missing = on_missing
        self.max_missing_share = check_fraction(max_missing_share, "max_missing_share")
        self.null_values = null_values
        self.skus: list[str] = []
        self.columns: list[str] = []

    def _builder(self, path: str, method: str, columns: Sequence[str]) -> RequestBuilder:
        return RequestBuilder(
            path=path, method=method, id_column=self.sku_column, body_columns=columns, null_values=self.null_values
        )

    def check_feed(self, chunk_size: int) -> None:
        """Validate every feed row (SKU present and unique, values JSON-safe) with feed row numbers; read SKUs."""
        first = next(self.feed.slices(1), None)
        if first is None:
            return
        self.columns = [str(name) for name in (self.body_columns or first[1].columns)]
        if self.sku_column not in first[1].columns:
            raise EcwidConfigError(
                f"the feed has no {self.sku_column!r} column; its columns are {list(first[1].columns)}"
            )
        if self.sku_column not in self.columns:
            self.columns.insert(0, self.sku_column)
        BatchPlan(self.feed, self._builder("/products", "POST", self.columns), chunk_size).validate()
        self.skus = []
        problems = ProblemLog()
        for first_row, frame in self.feed.slices(chunk_size * 20):
            skus = self.sku_texts(frame)
            for position, sku in enumerate(skus):
                if sku != sku.strip():
                    why = f"SKU {sku!r} starts or ends with blanks; a store matches SKUs exactly, so trim the feed"
                    problems.add(RowProblem(first_row + position, sku, self.feed_sku_column, why))
            self.skus += skus
        problems.raise_if_any()

    def sku_texts(self, frame: pd.DataFrame) -> list[str]:
        """The rows' SKUs as text, as Ecwid stores them (a whole number 123.0 is ``"123"``)."""
        return [sku or "" for sku in self._builder("/products", "POST", self.columns).request_ids(frame, 0)]

    @property
    def compared_fields(self) -> list[str]:
        return [name for name in self.columns if name != self.sku_column]

    def _classify(self, frame: pd.DataFrame, index: CatalogIndex) -> np.ndarray:
        # values were validated by check_feed; here they are only compared
        converted = {
            name: column_values(frame[name], lambda *_: None)[0] for name in self.compared_fields if name in frame
        }
        status = np.empty(len(frame), dtype=np.int8)
        for position, sku in enumerate(self.sku_texts(frame)):
            if sku not in index.products:
                status[position] = NEW
            else:
                values = {name: column[position] for name, column in converted.items()}
                status[position] = CHANGED if index.differs(sku, values) else UNCHANGED
        return status

    def plan(self, index: CatalogIndex, chunk_size: int) -> tuple[BatchPlan, SyncSummary]:
        """The batch plan (creates, then updates, then missing-product changes) and its summary."""
        summary = SyncSummary(feed_rows=len(self.skus), on_missing=self.on_missing, catalog_size=index.catalog_size)
        statuses: list[np.ndarray] = []
        for _, frame in self.feed.slices(chunk_size * 20):
            statuses.append(self._classify(frame, index))
        status = np.concatenate(statuses) if statuses else np.empty(0, dtype=np.int8)
        summary.new = int((status == NEW).sum())
        summary.changed = int((status == CHANGED).sum())
        summary.unchanged = int((status == UNCHANGED).sum())
        missing = self._missing(index)
        summary.missing = len(missing)
        summary.missing_skus = [sku for sku, _ in missing]
        self._check_share(summary, index)

        post_columns = list(self.columns) + ([] if "enabled" in self.columns else ["enabled"])
        creates = self._derived(status, NEW, "new products", post_columns, index)
        updates = self._derived(status, CHANGED, "changed products", self.columns, index)
        parts: list[tuple[InputSource, RequestBuilder | None]] = [
            (updates, self._builder(f"/products/{{{PRODUCT_ID_COLUMN}}}", "PUT", self.columns))
        ]
        if missing and self.on_missing != "keep":
            parts.append((ReadyRequestsSource(self._missing_requests(missing, index)), None))
        plan = BatchPlan(creates, self._builder("/products", "POST", post_columns), chunk_size, more_parts=parts)
        return plan, summary

    def _derived(
        self, status: np.ndarray, wanted: int, name: str, columns: Sequence[str], index: CatalogIndex
    ) -> InputSource:
        def slices(rows: int) -> Iterator[tuple[int, pd.DataFrame]]:
            start = 0
            for first_row, frame in self.feed.slices(rows):
                chosen = frame.loc[status[first_row : first_row + len(frame)] == wanted, :]
                if chosen.empty:
                    continue
                chosen = chosen.copy()
                if "enabled" in columns and "enabled" not in chosen.columns:
                    chosen["enabled"] = self.enabled_default
                skus = self.sku_texts(chosen)
                chosen[self.sku_column] = skus  # sent as text: a SKU is never the number 123
                if wanted == CHANGED:
                    chosen[PRODUCT_ID_COLUMN] = [index.products[sku][0] for sku in skus]
                yield start, chosen
                start += len(chosen)

        return DerivedSource(name, slices)

    def _missing(self, index: CatalogIndex) -> list[tuple[str, int]]:
        if self.on_missing == "keep":
            return []
        if not index.complete:
            raise EcwidConfigError("on_missing needs the whole catalog: use lookup='scan' (or 'auto')")
        feed = set(self.skus)
        chosen = []
        for sku, (product_id, enabled, _) in index.products.items():
            if sku in feed:
                continue
            if self.on_missing == "disable" and enabled is False:
                continue  # already disabled: nothing to send
            chosen.append((sku, product_id))
        return chosen

    def _check_share(self, summary: SyncSummary, index: CatalogIndex) -> None:
        if not summary.missing or self.max_missing_share is None:
            return
        if self.on_missing == "disable":  # the share of what is live: disabled products stay as they are
            catalog = sum(1 for _, enabled, _ in index.products.values() if enabled is not False)
            what = "enabled store products"
        else:
            catalog = index.catalog_size or len(index.products)
            what = "store products"
        share = summary.missing / max(1, catalog)
        if share > self.max_missing_share:
            raise EcwidSyncRefused(
                f"on_missing={self.on_missing!r} would touch {summary.missing:,} of {catalog:,} {what} "
                f"({share:.1%}), more than max_missing_share={self.max_missing_share:.1%}; nothing was sent. "
                f"Check the feed, or raise max_missing_share (None removes the cap). First ones: "
                f"{summary.missing_skus[:10]}"
            )

    def _missing_requests(self, missing: list[tuple[str, int]], index: CatalogIndex) -> list[dict[str, Any]]:
        if self.on_missing == "delete":
            return [{"id": f"missing:{sku}", "method": "DELETE", "path": f"/products/{pid}"} for sku, pid in missing]
        return [
            {"id": f"missing:{sku}", "method": "PUT", "path": f"/products/{pid}", "body": {"enabled": False}}
            for sku, pid in missing
        ]


def _renamed(feed: InputSource, sku_column: str) -> InputSource:
    """The feed with its SKU column called ``sku``, as Ecwid names the field."""

    def slices(rows: int) -> Iterator[tuple[int, pd.DataFrame]]:
        for first_row, frame in feed.slices(rows):
            if "sku" in frame.columns and sku_column in frame.columns:
                raise EcwidConfigError(f"the feed has both 'sku' and sku_column {sku_column!r}; keep one")
            yield first_row, frame.rename(columns={sku_column: "sku"})

    return DerivedSource(feed.describe(), slices)


def lookup_costs(catalog_size: int, feed_skus: int) -> tuple[int, int]:
    """Estimated calls: ``(scan, batched lookups)``; a batched lookup costs a POST and about two status reads."""
    scan = math.ceil(catalog_size / 100) if catalog_size else 1
    batched = 3 * math.ceil(feed_skus / 500) if feed_skus else 0
    return scan, batched
