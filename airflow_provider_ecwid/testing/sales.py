"""A store's orders and customers: seeded runs of generated records, what changed since, and the churn knob.

Seeding costs nothing per record: a run is a count, a time range and a seed (see ``lazy_table.py``), and a
record is made from them when an answer needs it (``sales_data.py``). Changes after seeding (the churn knob,
below) are kept as an overlay of changed fields and a list of deletions.

The churn knob stands for a shop that keeps selling while an export reads it: after each page of
``GET /orders`` or ``GET /customers`` served (directly or inside a batch), ``updates`` random records of that
kind move their update time to now (an order's fulfilment also moves one step on) and ``deletes`` random records
are deleted. Every change is logged (what, which id, when, after which page), so a test can tell the records
that changed during its read from those that did not.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_ecwid.testing import sales_data
from airflow_provider_ecwid.testing.lazy_table import UPDATE_TIME, LazyTable, Segment
from airflow_provider_ecwid.testing.tracking import date_text

ORDERS = "orders"
CUSTOMERS = "customers"
#: How far back a seeding reaches when it is given no start (seconds).
DEFAULT_SPAN = 365 * 86_400


@dataclass
class Churn:
    """
    The change-during-read knob of one store, and what it did.

    :param updates: records updated after each page served.
    :param deletes: records deleted after each page served.
    :param seed: the seed of its choices (None: unseeded).
    """

    updates: int = 0
    deletes: int = 0
    seed: int | None = None
    pages: dict[str, int] = field(default_factory=lambda: {ORDERS: 0, CUSTOMERS: 0})
    changes: list[dict[str, Any]] = field(default_factory=list)
    rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.updates < 0 or self.deletes < 0:
            raise ValueError("churn updates and deletes must not be negative")
        self.rng = random.Random(self.seed)

    def report(self) -> dict[str, Any]:
        """The knob's settings, the pages served, and every change with its entity, action, id, time and page."""
        return {
            "updates": self.updates,
            "deletes": self.deletes,
            "seed": self.seed,
            "pages": dict(self.pages),
            "updated": sum(1 for change in self.changes if change["action"] == "updated"),
            "deleted": sum(1 for change in self.changes if change["action"] == "deleted"),
            "changes": [dict(change) for change in self.changes],
        }


class Sales:
    """
    One store's orders and customers.

    :param stamp: the store's clock as whole (floored) UNIX seconds, the time of every change.
    :param prefix: the store's order prefix: an order's ``id`` is ``{prefix}-{orderNumber}``.
    :param churn: the change-during-read knob.
    """

    def __init__(self, stamp: Callable[[], int], prefix: str = "ORD", churn: Churn | None = None) -> None:
        self.stamp = stamp
        self.prefix = prefix
        self.orders = LazyTable()
        self.customers = LazyTable()
        self.churn = churn or Churn()

    # -- seeding ---------------------------------------------------------------------------------------------

    def seed(self, kind: str, count: int, start: int | None, end: int | None, seed: int) -> dict[str, Any]:
        """
        Add ``count`` records of ``kind`` whose update times spread evenly from ``start`` to ``end``.

        :param kind: ``orders`` or ``customers``.
        :param start: the first record's update time; default: a year before ``end``.
        :param end: the last record's update time; default: now.
        :param seed: the seed their content is made from (the run's number is mixed in).
        :returns: what was seeded: count, first and last id, the time range.
        """
        table = self._table(kind)
        end = self.stamp() if end is None else end
        start = end - DEFAULT_SPAN if start is None else start
        run_seed = seed * 7919 + len(table.segments) * 104_729 + (1 if kind == ORDERS else 2)
        pool = self.customers.size if kind == ORDERS else 0
        segment = table.add_segment(count, start, end, run_seed, pool)
        first, last = segment.first, segment.stop - 1
        return {
            "kind": kind,
            "count": count,
            "first_id": self._public_id(kind, first),
            "last_id": self._public_id(kind, last),
            "updated_from": date_text(start),
            "updated_to": date_text(end),
        }

    def _table(self, kind: str) -> LazyTable:
        if kind == ORDERS:
            return self.orders
        if kind == CUSTOMERS:
            return self.customers
        raise ValueError(f"kind must be {ORDERS!r} or {CUSTOMERS!r}, got {kind!r}")

    def _public_id(self, kind: str, position: int) -> str | int:
        return self.order_id(position) if kind == ORDERS else sales_data.customer_id(position)

    # -- records ---------------------------------------------------------------------------------------------

    def order_id(self, position: int) -> str:
        return f"{self.prefix}-{sales_data.order_number(position)}"

    def order_position(self, text: str) -> int | None:
        """The position of the order an id names: its text id (``ORD-1042``), internal id or order number."""
        text = text.strip()
        head, _, number = text.rpartition("-")
        if head and head == self.prefix and number.isdigit():
            return int(number) - sales_data.FIRST_ORDER_NUMBER
        if not text.isdigit():
            return None
        value = int(text)
        if value >= sales_data.FIRST_INTERNAL_ID:
            return value - sales_data.FIRST_INTERNAL_ID
        return value - sales_data.FIRST_ORDER_NUMBER

    def order_view(self, position: int, changed: dict[str, Any] | None) -> dict[str, Any]:
        """The order at ``position`` with the changed fields ``changed`` (an overlay, or None)."""
        segment = self.orders.segment_of(position)
        customer = self._customer_of(segment, position)
        order = sales_data.make_order(segment, position, customer, self.prefix)
        if changed:
            order.update(changed)
            order["updateDate"] = date_text(int(changed[UPDATE_TIME]))
        return order

    def customer_view(self, position: int, changed: dict[str, Any] | None) -> dict[str, Any]:
        """The customer at ``position`` with the changed fields ``changed`` (an overlay, or None)."""
        customer = sales_data.make_customer(self.customers.segment_of(position), position)
        if changed:
            customer.update(changed)
            customer["updated"] = date_text(int(changed[UPDATE_TIME]))
        return customer

    def _customer_of(self, segment: Segment, position: int) -> tuple[int, str, str] | None:
        """The customer an order was placed by (chosen among those seeded before it), or None for a guest."""
        if not segment.pool:
            return None
        rng = sales_data.Draws(segment.seed ^ 0xC057, position)
        if rng.chance(0.15):
            return None
        customer = rng.below(segment.pool)
        return sales_data.customer_identity(self.customers.segment_of(customer), customer)

    # -- churn -----------------------------------------------------------------------------------------------

    def after_page(self, kind: str) -> None:
        """A page of ``kind`` was served: let the churn knob change the store."""
        churn = self.churn
        churn.pages[kind] += 1
        if not churn.updates and not churn.deletes:
            return
        table = self._table(kind)
        now = self.stamp()
        for _ in range(churn.updates):
            position = self._pick(table)
            if position is None:
                break
            fields: dict[str, Any] = {}
            if kind == ORDERS:
                status = str(self.order_view(position, table.overlay.get(position))["fulfillmentStatus"])
                fields["fulfillmentStatus"] = sales_data.NEXT_FULFILLMENT.get(status, status)
            table.move(position, now, fields)
            self._log(kind, "updated", position, now)
        for _ in range(churn.deletes):
            position = self._pick(table)
            if position is None:
                break
            table.delete(position, now)
            self._log(kind, "deleted", position, now)

    def _pick(self, table: LazyTable) -> int | None:
        """A random live record's position (None when none is left)."""
        if not table.live_count():
            return None
        while True:
            position = self.churn.rng.randrange(table.size)
            if table.exists(position):
                return position

    def _log(self, kind: str, action: str, position: int, when: int) -> None:
        self.churn.changes.append(
            {
                "entity": kind,
                "action": action,
                "id": self._public_id(kind, position),
                "at": when,
                "date": date_text(when),
                "page": self.churn.pages[kind],
            }
        )
