"""Ecwid's change tracking: ``GET /latest-stats``, product timestamps and their search, ``GET /products/deleted``.

Every catalog change moves the store's ``productsUpdated`` (Ecwid: it covers products and categories); a change
to a category also moves ``categoriesUpdated``. A product carries ``created``/``updated`` (text) and
``createTimestamp``/``updateTimestamp`` (UNIX seconds), moved by any change to the product and, unless
``EmulatorConfig.nested_changes_move_product`` is off (Ecwid does not document it), by changes to its variations
and images. ``EmulatorConfig.timestamp_resolution`` floors every timestamp (1: whole seconds; 60: minutes).
Time is the emulator's clock (:meth:`EmulatorState.now`, which tests move forward).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from airflow_provider_ecwid.testing.answers import Answer, bad_request

DATE_FORMAT = "%Y-%m-%d %H:%M:%S %z"
#: The fields of a product the store sets itself.
TIMES = frozenset({"created", "updated", "createTimestamp", "updateTimestamp"})
SORTS: dict[str, tuple[str, bool]] = {
    "UPDATED_TIME_ASC": ("updateTimestamp", False),
    "UPDATED_TIME_DESC": ("updateTimestamp", True),
    "ADDED_TIME_ASC": ("createTimestamp", False),
    "ADDED_TIME_DESC": ("createTimestamp", True),
    "NAME_ASC": ("name", False),
    "NAME_DESC": ("name", True),
    "PRICE_ASC": ("price", False),
    "PRICE_DESC": ("price", True),
}


def date_text(timestamp: int) -> str:
    """UNIX seconds as Ecwid writes dates: ``2026-12-05 23:10:02 +0000``."""
    return datetime.fromtimestamp(timestamp, UTC).strftime(DATE_FORMAT)


def parse_time(text: str, name: str) -> int:
    """UNIX seconds or a date text (``yyyy-MM-dd HH:mm:ss Z``, the zone optional) as UNIX seconds."""
    text = text.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    for layout in (DATE_FORMAT, "%Y-%m-%d %H:%M:%S", "%Y-%m-%d"):
        try:
            parsed = datetime.strptime(text, layout)
        except ValueError:
            continue
        return int((parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp())
    raise bad_request(f"{name} must be UNIX seconds or a date 'yyyy-MM-dd HH:mm:ss Z', got {text!r}")


SEED_LAYOUTS = ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d")


def to_seconds(value: int | float | str | datetime | None) -> int | None:
    """
    A moment as UNIX seconds: seconds as a number or digits, a datetime (naive: UTC), or a date text
    (``2026-12-01``, ``2026-12-01 23:59:59``, ``2026-12-01 23:59:59 +0000``); None stays None.

    :raises ValueError: for anything else.
    """
    if value is None or isinstance(value, int | float):
        return None if value is None else int(value)
    if isinstance(value, datetime):
        return int((value if value.tzinfo else value.replace(tzinfo=UTC)).timestamp())
    text = value.strip()
    if text.lstrip("-").isdigit():
        return int(text)
    for layout in SEED_LAYOUTS:
        try:
            return to_seconds(datetime.strptime(text, layout))
        except ValueError:
            continue
    raise ValueError(f"not UNIX seconds or a date 'yyyy-MM-dd[ HH:mm:ss[ Z]]': {value!r}")


@dataclass
class ChangeLog:
    """
    When a store's catalog last changed, and which products were deleted when.

    :param clock: the emulator's clock (UNIX seconds).
    :param resolution: timestamps are floored to this many seconds.
    :param nested_moves_product: a change to a product's variations or images moves its ``updateTimestamp``.
    """

    clock: Callable[[], float] = time.time
    resolution: int = 1
    nested_moves_product: bool = True
    products_updated: int = 0
    categories_updated: int = 0
    deleted: list[tuple[int, int]] = field(default_factory=list)

    def stamp(self) -> int:
        now = int(self.clock())
        return now - now % max(1, self.resolution)

    def touch(self, product: dict[str, Any] | None = None, *, created: bool = False) -> None:
        """A catalog change, to ``product`` when given (its update time moves; on create, its create time too)."""
        now = self.stamp()
        self.products_updated = now
        if product is None:
            return
        if created:
            product["createTimestamp"], product["created"] = now, date_text(now)
        product["updateTimestamp"], product["updated"] = now, date_text(now)

    def touch_nested(self, product: dict[str, Any]) -> None:
        """A change to the product's variations or images."""
        self.touch(product if self.nested_moves_product else None)

    def touch_categories(self) -> None:
        self.touch()
        self.categories_updated = self.products_updated

    def forget(self, product_id: int) -> None:
        self.touch()
        self.deleted.append((product_id, self.products_updated))


def latest_stats(
    changes: ChangeLog, query: dict[str, str], products: int, categories: int, orders_updated: int = 0
) -> Answer:
    """``GET /latest-stats``: when the catalog (and the orders) last changed; the counts when asked."""
    answer: dict[str, Any] = {
        "productsUpdated": date_text(changes.products_updated),
        "categoriesUpdated": date_text(changes.categories_updated),
        "ordersUpdated": date_text(orders_updated),
        "profileUpdated": date_text(0),
        "discountCouponsUpdated": date_text(0),
        "reviewsUpdated": date_text(0),
    }
    if query.get("productCountRequired", "").lower() == "true":
        answer["productCount"] = products
    if query.get("categoryCountRequired", "").lower() == "true":
        answer["categoryCount"] = categories
    return Answer(200, answer)


def filter_and_sort(items: list[dict[str, Any]], query: dict[str, str]) -> list[dict[str, Any]]:
    """The search's time filters (``createdFrom``... inclusive) and ``sortBy`` (default: as stored)."""
    for name, stamp, sign in (
        ("createdFrom", "createTimestamp", 1),
        ("createdTo", "createTimestamp", -1),
        ("updatedFrom", "updateTimestamp", 1),
        ("updatedTo", "updateTimestamp", -1),
    ):
        if query.get(name):
            bound = parse_time(query[name], name)
            items = [item for item in items if sign * (item[stamp] - bound) >= 0]
    order = query.get("sortBy") or "RELEVANCE"
    if order == "RELEVANCE":
        return items
    if order not in SORTS:
        raise bad_request(f"sortBy must be RELEVANCE or one of {sorted(SORTS)}, got {order!r}")
    key, descending = SORTS[order]
    return sorted(items, key=lambda item: (item.get(key) is None, item.get(key) or 0, item["id"]), reverse=descending)


def deleted_products(changes: ChangeLog, query: dict[str, str]) -> list[dict[str, Any]]:
    """``GET /products/deleted``: the deletions between ``from_date`` and ``to_date`` (inclusive), oldest first."""
    start = parse_time(query["from_date"], "from_date") if query.get("from_date") else None
    end = parse_time(query["to_date"], "to_date") if query.get("to_date") else None
    return [
        {"id": product_id, "date": date_text(when)}
        for product_id, when in changes.deleted
        if (start is None or when >= start) and (end is None or when <= end)
    ]
