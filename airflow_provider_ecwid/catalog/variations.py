"""Variations: each product's options derived from its variation rows, and the variation requests that differ.

Ecwid's API calls a variation a *combination* (``/products/{id}/combinations``, the ``combinations`` field);
this package says *variation* everywhere and uses Ecwid's word only on the wire.

Options keep the order of the option columns, and each option's choices the order in which the feed first
names them. A variation is matched to the store's by SKU: a new SKU is created, a known one is updated with
only the fields that differ, and (by option) a store variation whose SKU the feed no longer names is deleted.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from airflow_provider_ecwid.batch.values import MISSING, column_values
from airflow_provider_ecwid.catalog.diff import canonical
from airflow_provider_ecwid.catalog.feed_shape import FeedShape, is_empty, text
from airflow_provider_ecwid.catalog.request_ids import MISSING_VARIATION, VARIATION

#: Feed columns that are a variation's own fields (sent when the feed has them).
VARIATION_FIELDS = ("price", "compareToPrice", "costPrice", "quantity", "unlimited", "weight")


def derive_options(variations: pd.DataFrame, shape: FeedShape) -> dict[str, list[dict[str, Any]]]:
    """
    Each parent SKU's options: the option columns its variations fill, choices in first-seen order.

    Products whose options are alike share one list (a catalog has few shapes of options and many products), so
    the result must not be changed in place.
    """
    choices: dict[str, dict[str, dict[str, None]]] = {}
    columns = list(shape.option_columns)
    for parent, values in zip(
        variations["_parent"], variations[columns].itertuples(index=False, name=None), strict=True
    ):
        per_option = choices.setdefault(parent, {})
        for name, value in zip(columns, values, strict=True):
            if not is_empty(value):
                per_option.setdefault(name, {})[text(value)] = None
    shared: dict[tuple[tuple[str, tuple[str, ...]], ...], list[dict[str, Any]]] = {}
    derived = {}
    for parent, per_option in choices.items():
        key = tuple((name, tuple(found)) for name, found in per_option.items())
        if key not in shared:
            shared[key] = [
                {"type": "SELECT", "name": name, "required": True, "choices": [{"text": choice} for choice in found]}
                for name, found in key
            ]
        derived[parent] = shared[key]
    return derived


def options_shape(options: Any) -> list[tuple[str, str, list[str]]]:
    """What the sync compares of a product's options: name, type and choice texts, in order."""
    if not isinstance(options, list):
        return []
    return [
        (
            str(option.get("name")),
            str(option.get("type", "SELECT")),
            [str(choice.get("text")) for choice in option.get("choices") or [] if isinstance(choice, Mapping)],
        )
        for option in options
        if isinstance(option, Mapping)
    ]


@dataclass
class VariationPlan:
    """
    The variation requests of one sync.

    :param requests: ready batch requests (deletes first, then updates, then creates).
    :param skipped: variation SKUs not sent because their product has no id (its create failed).
    """

    requests: list[dict[str, Any]] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)


def _variation_values(variations: pd.DataFrame) -> dict[str, list[Any]]:
    present = [name for name in VARIATION_FIELDS if name in variations.columns]
    return {name: column_values(variations[name], lambda *_: None)[0] for name in present}


def variation_bodies(variations: pd.DataFrame, shape: FeedShape) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """Each variation row as ``(sku, parent SKU, what the store should hold)``: its fields and its options."""
    values = _variation_values(variations)
    columns = list(shape.option_columns)
    options = variations[columns].itertuples(index=False, name=None)
    rows = zip(variations["sku"], variations["_parent"], options, strict=True)
    for position, (sku, parent, option_values) in enumerate(rows):
        body: dict[str, Any] = {name: column[position] for name, column in values.items()}
        body = {name: value for name, value in body.items() if value is not MISSING}
        body["options"] = [
            {"name": name, "value": text(value)}
            for name, value in zip(columns, option_values, strict=True)
            if not is_empty(value)
        ]
        yield sku, parent, body


def plan_variations(
    variations: pd.DataFrame,
    shape: FeedShape,
    product_ids: Mapping[str, int],
    store_variations: Mapping[str, Sequence[Mapping[str, Any]]],
    blocked: Mapping[str, str],
) -> VariationPlan:
    """
    The variation requests that make the store match the feed's variation rows.

    :param variations: the variation rows (``sku``, ``_parent``, option columns, fields).
    :param shape: the feed's column roles.
    :param product_ids: parent SKU -> product id (known or just created).
    :param store_variations: parent SKU -> the store's variations of it (read with the catalog).
    :param blocked: parent SKU -> why its variations cannot be sent (its product or options failed).
    """
    plan = VariationPlan()
    creates: list[dict[str, Any]] = []
    updates: list[dict[str, Any]] = []
    named: dict[str, set[str]] = {}
    for sku, parent, body in variation_bodies(variations, shape):
        named.setdefault(parent, set()).add(sku)
        product_id = product_ids.get(parent)
        if parent in blocked or product_id is None:
            plan.skipped[sku] = blocked.get(parent, f"product {parent!r} has no id")
            continue
        known = {item.get("sku"): item for item in store_variations.get(parent, ())}
        request = _request(sku, product_id, body, known.get(sku))
        if request is not None:
            (creates if request["method"] == "POST" else updates).append(request)
    deletes = _deletes(shape, product_ids, store_variations, named, blocked)
    plan.requests = deletes + updates + creates
    return plan


@dataclass(frozen=True)
class NewVariations:
    """
    The variations of products this sync created: every one a create, made as they are read (a first sync of a
    million rows never holds all of them as requests).

    :param variations: the variation rows whose product was created by this sync.
    :param shape: the feed's column roles.
    :param product_ids: parent SKU -> product id.
    :param blocked: parent SKU -> why its variations cannot be sent.
    """

    variations: pd.DataFrame
    shape: FeedShape
    product_ids: Mapping[str, int]
    blocked: Mapping[str, str]

    def sendable(self) -> pd.Series:
        """Which rows can be sent: their product has an id and is not blocked."""
        ready = set(self.product_ids).difference(self.blocked)
        return self.variations["_parent"].isin(ready)

    def skipped(self) -> dict[str, str]:
        """Variation SKU -> why it is not sent (its product's failure)."""
        rows = self.variations.loc[~self.sendable()]
        return {
            sku: self.blocked.get(parent, f"product {parent!r} has no id")
            for sku, parent in zip(rows["sku"], rows["_parent"], strict=True)
        }

    def requests(self) -> Iterator[dict[str, Any]]:
        """Each sendable row's create, in feed order."""
        rows = self.variations.loc[self.sendable()]
        for sku, parent, body in variation_bodies(rows, self.shape):
            yield _create(sku, self.product_ids[parent], body)


def _create(sku: str, product_id: int, body: dict[str, Any]) -> dict[str, Any]:
    path = f"/products/{product_id}/combinations"
    return {"id": VARIATION.make(sku), "method": "POST", "path": path, "body": {"sku": sku, **body}}


def _request(
    sku: str, product_id: int, body: dict[str, Any], current: Mapping[str, Any] | None
) -> dict[str, Any] | None:
    """A create for a new SKU, an update of the fields that differ for a known one, or None when nothing does."""
    base = f"/products/{product_id}/combinations"
    if current is None:
        return _create(sku, product_id, body)
    changed = {name: value for name, value in body.items() if not _same(name, value, current)}
    if not changed:
        return None
    return {"id": VARIATION.make(sku), "method": "PUT", "path": f"{base}/{current['id']}", "body": changed}


def _same(name: str, value: Any, current: Mapping[str, Any]) -> bool:
    if name == "options":
        have = sorted((str(o.get("name")), str(o.get("value"))) for o in current.get("options") or [])
        return have == sorted((o["name"], o["value"]) for o in value)
    return name in current and canonical(current[name]) == canonical(value)


def _deletes(
    shape: FeedShape,
    product_ids: Mapping[str, int],
    store_variations: Mapping[str, Sequence[Mapping[str, Any]]],
    named: Mapping[str, set[str]],
    blocked: Mapping[str, str],
) -> list[dict[str, Any]]:
    if shape.on_missing_variations != "delete":
        return []
    deletes = []
    for parent, variations in store_variations.items():
        if parent in blocked or parent not in product_ids:
            continue
        for item in variations:
            if item.get("sku") not in named.get(parent, set()):
                deletes.append(
                    {
                        "id": MISSING_VARIATION.make(str(item.get("sku"))),
                        "method": "DELETE",
                        "path": f"/products/{product_ids[parent]}/combinations/{item['id']}",
                    }
                )
    return deletes
