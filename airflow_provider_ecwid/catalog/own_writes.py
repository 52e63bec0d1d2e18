"""The store's products as a completed sync's own writes left them, computed here instead of read back.

After a sync with no failed row, every product of the feed holds the feed's values for the fields the feed sets
(the products phase sent exactly those that differed), new products hold ``enabled`` and their derived options,
stale options were replaced, every variation row of the feed is a variation of its product with the row's fields,
and (when asked) products and variations the feed no longer names were disabled or deleted. So the next run can
diff against the store without reading back what this one wrote.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_ecwid.batch.values import MISSING, column_values
from airflow_provider_ecwid.catalog.planner import WholeCatalogSync
from airflow_provider_ecwid.catalog.progress import SyncProgress
from airflow_provider_ecwid.catalog.variations import variation_bodies


def after_own_writes(
    records: dict[str, dict[str, Any]], whole: WholeCatalogSync, progress: SyncProgress
) -> dict[str, dict[str, Any]]:
    """
    ``records`` (product id as text -> product) as they are once the sync's requests all completed.

    :param records: the store's products as the sync read them.
    :param whole: the sync's checked feed.
    :param progress: what the sync created and found (product and variation ids, stale options).
    """
    whole.tree.ids = progress.paths()
    frame = whole.product_frame()
    values = {str(name): column_values(frame[name], lambda *_: None)[0] for name in frame.columns if name != "sku"}
    created = set(progress.created_products)
    stale = set(progress.options_stale)
    result = dict(records)
    by_sku: dict[str, str] = {}
    for position, sku in enumerate(frame["sku"]):
        product_id = progress.product_ids.get(sku)
        if product_id is None:
            continue
        key = str(product_id)
        record = dict(result.get(key) or {"id": product_id, "sku": sku})
        record.update({name: column[position] for name, column in values.items() if column[position] is not MISSING})
        if sku in created and "enabled" not in values:
            record["enabled"] = bool(whole.options.get("enabled_default", True))
        if (sku in created or sku in stale) and sku in whole.derived_options:
            record["options"] = whole.derived_options[sku]
        result[key] = record
        by_sku[sku] = key
    if whole.shape.parent_sku_column:
        _variations(result, by_sku, whole, progress)
    _missing(result, set(by_sku), str(whole.options.get("on_missing", "keep")))
    return result


def _variations(
    records: dict[str, dict[str, Any]], by_sku: dict[str, str], whole: WholeCatalogSync, progress: SyncProgress
) -> None:
    combinations: dict[str, dict[str, dict[str, Any]]] = {}
    named: dict[str, set[str]] = {}
    for sku, parent, body in variation_bodies(whole.rows.variations, whole.shape):
        key = by_sku.get(parent)
        if key is None:
            continue
        known = combinations.setdefault(
            key, {str(item.get("sku")): dict(item) for item in records[key].get("combinations") or []}
        )
        named.setdefault(key, set()).add(sku)
        item = {**known.get(sku, {}), **body, "sku": sku}
        if sku in progress.variation_ids:
            item["id"] = progress.variation_ids[sku]
        known[sku] = item
    if whole.shape.on_missing_variations == "delete":  # the feed's products keep only the variations it names
        for key in by_sku.values():
            known = combinations.get(key) or {str(i.get("sku")): i for i in records[key].get("combinations") or []}
            combinations[key] = {sku: item for sku, item in known.items() if sku in named.get(key, set())}
    for key, known in combinations.items():
        records[key]["combinations"] = list(known.values())


def _missing(records: dict[str, dict[str, Any]], feed: set[str], on_missing: str) -> None:
    if on_missing == "keep":
        return
    for key, record in list(records.items()):
        if str(record.get("sku")) in feed:
            continue
        if on_missing == "delete":
            del records[key]
        else:
            records[key] = {**record, "enabled": False}
