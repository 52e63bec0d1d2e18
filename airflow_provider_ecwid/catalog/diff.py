"""Idempotent catalog sync by SKU: which feed rows are new, changed or unchanged, and what to do with the rest.

Ecwid has no upsert by SKU. The sync first maps SKU -> product id (see ``catalog.lookup``), then sends POST
for new SKUs, PUT for known SKUs whose values differ from the store's, nothing for unchanged ones, and, if
asked, disables or deletes store products whose SKU is not in the feed. All of it goes out as one batch
plan, so chunking, deduplication keys and resuming work exactly as for any other submission.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd

from airflow_provider_ecwid.batch.build import RequestBuilder
from airflow_provider_ecwid.batch.chunks import first_requests
from airflow_provider_ecwid.batch.plan import SHOWN_REQUESTS, BatchPlan, PlanSummary
from airflow_provider_ecwid.batch.problems import ProblemLog, RowProblem
from airflow_provider_ecwid.batch.sources import FrameSource, InputSource, ReadyRequestsSource, check_column_names
from airflow_provider_ecwid.batch.values import MISSING, column_values
from airflow_provider_ecwid.catalog.request_ids import MISSING_PRODUCT
from airflow_provider_ecwid.catalog.settings import ProductSettings
from airflow_provider_ecwid.errors import EcwidConfigError, EcwidSyncRefusedError, renamed

PRODUCT_ID_COLUMN = "_ecwid_product_id"
NEW, CHANGED, UNCHANGED = 0, 1, 2
#: Rows read at a time while the feed is read into memory.
FEED_SLICE_ROWS = 50_000


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


def record_text(record: Mapping[str, Any]) -> str:
    """A store record as compact JSON text: how the catalog's listings are held (a third of their parsed size)."""
    return json.dumps(record, separators=(",", ":"), default=str)


def _digest(value: Any) -> int:
    return hash(json.dumps(canonical(value), sort_keys=True, default=str))


_ABSENT = hash("<absent>")


class CatalogIndex:
    """
    SKU -> (product id, enabled, a digest of each compared field) for the store's products.

    :param fields: the product fields compared with the feed.
    :param extra_fields: fields kept as read (e.g. ``options``, ``combinations``), in ``responseFields`` syntax
        (``combinations(id,sku)``), for the whole-catalog sync's later phases.
    """

    def __init__(self, fields: Sequence[str], extra_fields: Sequence[str] = ()) -> None:
        self.fields = list(fields)
        self.extra_fields = list(extra_fields)
        #: SKU -> the product's extras as JSON text (see :meth:`extra`): parsed when a phase needs them
        self.extras: dict[str, str] = {}
        self.products: dict[str, tuple[int, bool | None, tuple[int, ...]]] = {}
        self.complete = False  # True when the whole catalog was read (needed for on_missing)
        self.catalog_size: int | None = None
        self.calls = 0
        self.way = ""  # how it was built: scan or batch

    def add(self, product: Mapping[str, Any], text: str | None = None) -> None:
        """
        Index one store product.

        :param product: the product as read.
        :param text: the product as :func:`record_text` wrote it, when the caller has it already (kept for the
            extras instead of a text of their own).
        """
        sku, product_id = product.get("sku"), product.get("id")
        if not isinstance(sku, str) or not sku or not isinstance(product_id, int):
            return
        digests = tuple(_digest(product[name]) if name in product else _ABSENT for name in self.fields)
        enabled = product.get("enabled")
        self.products[sku] = (product_id, enabled if isinstance(enabled, bool) else None, digests)
        if self.extra_fields:
            if text is None:
                names = (field.split("(", 1)[0] for field in self.extra_fields)
                text = record_text({name: product[name] for name in names if name in product})
            self.extras[sku] = text

    def extra(self, sku: str) -> dict[str, Any]:
        """The extras of ``sku`` (e.g. ``options``, ``combinations``) as read; empty for an unknown SKU."""
        text = self.extras.get(sku)
        found = json.loads(text) if text else {}
        return found if isinstance(found, dict) else {}

    @property
    def response_fields(self) -> str:
        """What a lookup asks the store for: ids, SKUs, ``enabled``, the compared fields and the extras."""
        return ",".join(["id", "sku", "enabled", *self.fields, *self.extra_fields])

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


def read_feed(feed: InputSource, sku_column: str) -> pd.DataFrame:
    """
    Read the whole feed once into one DataFrame (one open, one download for an object-storage URL).

    The sync needs every row at hand anyway (to compare, to group variations, to name categories), so reading
    it once costs the same memory and saves reading a remote file again for every step. A CSV's SKU column is
    read as text, as a store keeps SKUs (``00123`` stays ``00123``).

    :param feed: the feed (DataFrame, rows or file).
    :param sku_column: the feed's SKU column.
    """
    if feed.holds_requests:
        raise EcwidConfigError("the catalog sync takes product rows, not ready batch requests")
    if isinstance(feed, FrameSource):
        frame = feed.frame
        check_column_names(frame.columns, feed.describe())
    else:
        feed.read_as_text([sku_column])  # SKUs are text from the moment they are read: 00123 stays 00123
        frames = [frame for _, frame in feed.slices(FEED_SLICE_ROWS)]
        frame = pd.concat(frames, ignore_index=True) if len(frames) > 1 else (frames[0] if frames else pd.DataFrame())
    if sku_column != "sku" and sku_column in frame.columns:
        if "sku" in frame.columns:
            raise EcwidConfigError(f"the feed has both 'sku' and sku_column {sku_column!r}; keep one")
        frame = frame.rename(columns={sku_column: "sku"})
    return frame


class ProductDiff:
    """
    Compares a feed, read once into ``frame``, with the store's products, and plans what differs.

    :param frame: the feed's rows (see :func:`read_feed`), its SKU column named ``sku``.
    :param settings: what to send and what to do with products the feed does not name.
    """

    def __init__(self, frame: pd.DataFrame, settings: ProductSettings) -> None:
        self.frame = frame
        self.settings = settings
        self.sku_column = "sku"  # sent as Ecwid's product field, whatever the feed calls it
        self.feed_sku_column = settings.feed_sku_column
        self.body_columns = [
            self.sku_column if name == settings.feed_sku_column else name for name in settings.body_columns or ()
        ]
        self.enabled_default = settings.enabled_default
        self.on_missing = settings.on_missing
        self.max_missing_share = settings.max_missing_share
        self.null_values = settings.null_values
        self.skus: list[str] = []
        self.columns: list[str] = []
        self.create_only: list[str] = []
        #: SKUs of the feed not sent this time (their category failed): never "missing" from it
        self.held_back: set[str] = set()

    def _builder(self, path: str, method: str, columns: Sequence[str]) -> RequestBuilder:
        return RequestBuilder(
            path=path, method=method, id_column=self.sku_column, body_columns=columns, null_values=self.null_values
        )

    def check_feed(self, chunk_size: int) -> None:
        """Validate every feed row once (SKU present, unique, trimmed; values JSON-safe) by feed row number."""
        frame = self.frame
        if frame.empty:
            return
        self.columns = [str(name) for name in (self.body_columns or frame.columns)]
        if self.sku_column not in frame.columns:
            raise EcwidConfigError(
                f"the feed has no {self.feed_sku_column!r} column; its columns are {list(frame.columns)}"
            )
        if self.sku_column not in self.columns:
            self.columns.insert(0, self.sku_column)
        source = FrameSource(frame)
        BatchPlan(source, self._builder("/products", "POST", self.columns), chunk_size).validate()
        self.skus = self.sku_texts(frame)
        problems = ProblemLog()
        for position, sku in enumerate(self.skus):
            if sku != sku.strip():
                why = f"SKU {sku!r} starts or ends with blanks; a store matches SKUs exactly, so trim the feed"
                problems.add(RowProblem(position, sku, self.feed_sku_column, why))
        problems.raise_if_any()

    def accept_checked(self, skus: Sequence[str], create_only: Sequence[str] = ()) -> None:
        """
        Take the feed as checked already (by a caller that validated a wider feed it is part of).

        :param skus: each row's SKU as text.
        :param create_only: columns sent with new products only, never compared or updated (the whole-catalog
            sync's derived ``options``: existing products get theirs in a phase of their own).
        """
        names = [str(name) for name in (self.body_columns or self.frame.columns)]
        self.create_only = [name for name in create_only if name in names]
        self.columns = [name for name in names if name not in self.create_only]
        if self.sku_column not in self.columns:
            self.columns.insert(0, self.sku_column)
        self.skus = list(skus)

    def sku_texts(self, frame: pd.DataFrame) -> list[str]:
        """The rows' SKUs as text, as Ecwid stores them (a whole number 123.0 is ``"123"``)."""
        return [sku or "" for sku in self._builder("/products", "POST", self.columns).request_ids(frame, 0)]

    @property
    def compared_fields(self) -> list[str]:
        return [name for name in self.columns if name != self.sku_column]

    def _classify(self, index: CatalogIndex) -> np.ndarray:
        # values were validated by check_feed; here they are only compared
        frame = self.frame
        converted = {
            name: column_values(frame[name], lambda *_: None)[0] for name in self.compared_fields if name in frame
        }
        status = np.empty(len(frame), dtype=np.int8)
        for position, sku in enumerate(self.skus):
            if sku not in index.products:
                status[position] = NEW
            else:
                values = {name: column[position] for name, column in converted.items()}
                status[position] = CHANGED if index.differs(sku, values) else UNCHANGED
        return status

    def plan(self, index: CatalogIndex, chunk_size: int) -> tuple[BatchPlan, PlanSummary, SyncSummary]:
        """
        The batch plan (creates, then updates, then missing-product changes), what it sends, and what was found.

        The feed was validated by :meth:`check_feed`; the plan's rows are a subset of it, so the plan is not
        validated again: its summary is counted here.
        """
        summary = SyncSummary(feed_rows=len(self.skus), on_missing=self.on_missing, catalog_size=index.catalog_size)
        status = self._classify(index) if self.skus else np.empty(0, dtype=np.int8)
        summary.new = int((status == NEW).sum())
        summary.changed = int((status == CHANGED).sum())
        summary.unchanged = int((status == UNCHANGED).sum())
        missing = self._missing(index)
        summary.missing = len(missing)
        summary.missing_skus = [sku for sku, _ in missing]
        self._check_share(summary, index)

        post_columns = [*self.columns, *self.create_only] + ([] if "enabled" in self.columns else ["enabled"])
        create_builder = self._builder("/products", "POST", post_columns)
        update_builder = self._builder(f"/products/{{{PRODUCT_ID_COLUMN}}}", "PUT", self.columns)
        creates = self._chosen(status, NEW, post_columns, index)
        updates = self._chosen(status, CHANGED, self.columns, index)
        sent = PlanSummary()
        sent.by_pattern.update({"POST /products": len(creates), "PUT /products/{id}": len(updates)})
        parts: list[tuple[InputSource, RequestBuilder | None]] = [(FrameSource(updates), update_builder)]
        if missing and self.on_missing != "keep":
            requests = self._missing_requests(missing, index)
            parts.append((ReadyRequestsSource(requests), None))
            sent.by_pattern[f"{requests[0]['method']} /products/{{id}}"] += len(requests)
        sent.by_pattern = +sent.by_pattern  # without the zero counts
        sent.requests = sum(sent.by_pattern.values())
        sent.chunks = -(-sent.requests // chunk_size)
        for frame, builder in ((creates, create_builder), (updates, update_builder)):
            show = SHOWN_REQUESTS - len(sent.first_requests)
            sent.first_requests += first_requests(builder.encode(frame.iloc[:show], 0, ProblemLog()), show)
        plan = BatchPlan(FrameSource(creates), create_builder, chunk_size, more_parts=parts)
        return plan, sent, summary

    def _chosen(self, status: np.ndarray, wanted: int, columns: Sequence[str], index: CatalogIndex) -> pd.DataFrame:
        """The feed's rows of one status, ready to send: SKUs as text, ``enabled`` set, product ids added."""
        mask = status == wanted
        chosen: pd.DataFrame = self.frame.loc[mask, :].copy()
        if "enabled" in columns and "enabled" not in chosen.columns:
            chosen["enabled"] = self.enabled_default
        skus = [sku for sku, keep in zip(self.skus, mask.tolist(), strict=True) if keep]
        chosen[self.sku_column] = skus  # sent as text: a SKU is never the number 123
        if wanted == CHANGED:
            chosen[PRODUCT_ID_COLUMN] = [index.products[sku][0] for sku in skus]
        chosen.index = pd.RangeIndex(len(chosen))
        return chosen

    def _missing(self, index: CatalogIndex) -> list[tuple[str, int]]:
        if self.on_missing == "keep":
            return []
        if not index.complete:
            raise EcwidConfigError("on_missing needs the whole catalog: use lookup='scan' (or 'auto')")
        feed = set(self.skus) | self.held_back
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
            raise EcwidSyncRefusedError(
                f"on_missing={self.on_missing!r} would touch {summary.missing:,} of {catalog:,} {what} "
                f"({share:.1%}), more than max_missing_share={self.max_missing_share:.1%}; nothing was sent. "
                f"Check the feed, or raise max_missing_share (None removes the cap). First ones: "
                f"{summary.missing_skus[:10]}"
            )

    def _missing_requests(self, missing: list[tuple[str, int]], index: CatalogIndex) -> list[dict[str, Any]]:
        if self.on_missing == "delete":
            return [
                {"id": MISSING_PRODUCT.make(sku), "method": "DELETE", "path": f"/products/{pid}"}
                for sku, pid in missing
            ]
        return [
            {"id": MISSING_PRODUCT.make(sku), "method": "PUT", "path": f"/products/{pid}", "body": {"enabled": False}}
            for sku, pid in missing
        ]


def lookup_costs(catalog_size: int, feed_skus: int) -> tuple[int, int]:
    """Estimated calls: ``(scan, batched lookups)``; a batched lookup costs a POST and about two status reads."""
    scan = math.ceil(catalog_size / 100) if catalog_size else 1
    batched = 3 * math.ceil(feed_skus / 500) if feed_skus else 0
    return scan, batched


#: The old names, kept for one release (they warn).
RENAMED = {"CatalogSync": "ProductDiff"}


def __getattr__(name: str) -> Any:
    return renamed(__name__, name, RENAMED, globals())
