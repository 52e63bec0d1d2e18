"""The store's products as a completed sync's own writes left them, computed here instead of read back.

After a sync with no failed row, every product of the feed holds the feed's values for the fields the feed sets
(the products phase sent exactly those that differed), new products hold ``enabled`` and their derived options,
stale options were replaced, every variation row of the feed is a variation of its product with the row's fields,
and (when asked) products and variations the feed no longer names were disabled or deleted. So the next run can
diff against the store without reading back what this one wrote.
"""

from __future__ import annotations

import json
from typing import Any

import pandas as pd

from airflow_provider_ecwid.batch.values import MISSING, column_values
from airflow_provider_ecwid.catalog.diff import record_text
from airflow_provider_ecwid.catalog.planner import CatalogPlanner
from airflow_provider_ecwid.catalog.progress import SyncProgress
from airflow_provider_ecwid.catalog.variations import variation_bodies

#: Feed products whose records are parsed and patched at a time.
SLICE = 10_000


def after_own_writes(records: dict[str, str], whole: CatalogPlanner, progress: SyncProgress) -> dict[str, str]:
    """
    ``records`` (product id as text -> product as JSON text) as they are once the sync's requests all completed.

    :param records: the store's products as the sync read them.
    :param whole: the sync's checked feed.
    :param progress: what the sync created and found (product and variation ids, stale options).
    """
    whole.tree.ids = progress.paths()
    frame = whole.product_frame()
    values = {str(name): column_values(frame[name], lambda *_: None)[0] for name in frame.columns if name != "sku"}
    created, stale = set(progress.created_products), set(progress.options_stale)
    result = dict(records)
    in_feed: set[str] = set()
    skus = [str(sku) for sku in frame["sku"]]
    for start in range(0, len(skus), SLICE):
        patched: dict[str, dict[str, Any]] = {}
        by_sku: dict[str, str] = {}
        for position in range(start, min(start + SLICE, len(skus))):
            sku = skus[position]
            product_id = progress.product_ids.get(sku)
            if product_id is None:
                continue
            key = str(product_id)
            known = result.get(key)
            record = json.loads(known) if known else {"id": product_id, "sku": sku}
            record.update({name: found[position] for name, found in values.items() if found[position] is not MISSING})
            if sku in created:
                _created(record, sku, whole, feed_sets_enabled="enabled" in values)
            elif sku in stale and sku in whole.derived_options:
                record["options"] = whole.derived_options[sku]
            patched[key] = record
            by_sku[sku] = key
        if whole.shape.parent_sku_column:
            variations = whole.rows.variations
            _variations(patched, by_sku, variations.loc[variations["_parent"].isin(by_sku)], whole, progress)
        result.update({key: record_text(record) for key, record in patched.items()})
        in_feed.update(by_sku)
    _missing(result, in_feed, whole.products.on_missing)
    return result


def _created(record: dict[str, Any], sku: str, whole: CatalogPlanner, *, feed_sets_enabled: bool) -> None:
    """What a product's create wrote besides the feed's values: ``enabled`` and its options."""
    if not feed_sets_enabled:
        record["enabled"] = whole.products.enabled_default
    if sku in whole.derived_options:
        record["options"] = whole.derived_options[sku]


def _variations(
    records: dict[str, dict[str, Any]],
    by_sku: dict[str, str],
    rows: pd.DataFrame,
    whole: CatalogPlanner,
    progress: SyncProgress,
) -> None:
    combinations: dict[str, dict[str, dict[str, Any]]] = {}
    named: dict[str, set[str]] = {}
    for sku, parent, body in variation_bodies(rows, whole.shape):
        key = by_sku[parent]
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


def _missing(records: dict[str, str], feed: set[str], on_missing: str) -> None:
    if on_missing == "keep":
        return
    for key, text in list(records.items()):
        record = json.loads(text)
        if str(record.get("sku")) in feed:
            continue
        if on_missing == "delete":
            del records[key]
        else:
            records[key] = record_text({**record, "enabled": False})
