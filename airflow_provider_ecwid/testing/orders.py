"""An emulated store's order and customer endpoints: the read side an export uses.

``GET /orders`` and ``GET /customers`` search with Ecwid's filters and page with ``offset``/``limit`` (at most
100); ``GET /orders/{id}`` and ``GET /customers/{id}`` read one; ``GET /orders/deleted`` and
``GET /customers/deleted`` list deletions as ``GET /products/deleted`` does.

Answer order: Ecwid does not document the order of these searches. The emulator answers by update time
ascending, then by id, so an item updated while the pages are read moves to the end: with an ``updatedTo``
bound it leaves the window and every later item shifts one place back, as a real export has to survive.

A window of update times (``updatedFrom``/``updatedTo``) alone costs the same at any store size (it is a range
of positions, see ``lazy_table.py``); ``ids`` looks its orders up; every other filter reads every order of the
window, which at a million orders takes seconds.

A page answered inside a batch is kept as the positions it holds (and the fields changed by then), and made again
when the batch's status is read: what the request answered when it ran, at a fraction of the memory.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any

from airflow_provider_ecwid.testing.answers import Answer, Deferred, bad_request, not_found
from airflow_provider_ecwid.testing.fields import FieldTree, parse_response_fields, trim
from airflow_provider_ecwid.testing.lazy_table import LazyTable
from airflow_provider_ecwid.testing.sales import CUSTOMERS, ORDERS, Sales
from airflow_provider_ecwid.testing.sales_data import (
    FULFILLMENT_STATUSES,
    PAYMENT_STATUSES,
    customer_id,
    customer_position,
)
from airflow_provider_ecwid.testing.store import Store, int_id, page_answer, paging
from airflow_provider_ecwid.testing.tracking import date_text, parse_time

View = Callable[[int, "dict[str, Any] | None"], "dict[str, Any]"]
Check = Callable[["dict[str, Any]"], bool]


class RecordsPage(Deferred):
    """
    One page of a search, kept as positions and made into records when sent.

    :param total: how many records the search found.
    :param offset: the page's offset.
    :param limit: the page's limit.
    :param positions: the records' positions, in answer order (kept as a ``range`` when they follow each other,
        as most pages' do, so a batch that read a million orders keeps kilobytes).
    :param changed: the fields changed when the page was read, by position, for the records that had any.
    :param view: makes a record from its position and changed fields.
    :param fields: the ``responseFields`` tree, or None.
    """

    def __init__(
        self,
        total: int,
        offset: int,
        limit: int,
        positions: list[int],
        changed: dict[int, dict[str, Any]],
        view: View,
        fields: FieldTree | None,
    ) -> None:
        self.total, self.offset, self.limit = total, offset, limit
        run = range(positions[0], positions[0] + len(positions)) if positions else range(0)
        self.positions: Sequence[int] = run if list(run) == positions else positions
        self.changed, self.view, self.fields = changed, view, fields

    def render(self) -> dict[str, Any]:
        answer = {
            "total": self.total,
            "count": len(self.positions),
            "offset": self.offset,
            "limit": self.limit,
            "items": [self.view(position, self.changed.get(position)) for position in self.positions],
        }
        return answer if self.fields is None else dict(trim(answer, self.fields))


# -- query parsing ------------------------------------------------------------------------------------------


def _bounds(query: dict[str, str], prefix: str) -> tuple[int | None, int | None]:
    """``{prefix}From`` and ``{prefix}To`` as UNIX seconds (inclusive), each None when absent."""
    low, high = query.get(f"{prefix}From"), query.get(f"{prefix}To")
    return (
        parse_time(low, f"{prefix}From") if low else None,
        parse_time(high, f"{prefix}To") if high else None,
    )


def _number(query: dict[str, str], name: str) -> float | None:
    text = query.get(name)
    if not text:
        return None
    try:
        return float(text)
    except ValueError:
        raise bad_request(f"{name} must be a number, got {text!r}") from None


def _statuses(query: dict[str, str], name: str, known: tuple[str, ...]) -> set[str] | None:
    """A comma list of statuses; a 400 for a status Ecwid does not know."""
    if not query.get(name):
        return None
    wanted = {part.strip() for part in query[name].split(",") if part.strip()}
    unknown = sorted(wanted - set(known))
    if unknown:
        raise bad_request(f"{name} has unknown value(s) {', '.join(unknown)}; known: {', '.join(known)}")
    return wanted


def _response_fields(query: dict[str, str]) -> FieldTree | None:
    return parse_response_fields(query["responseFields"]) if query.get("responseFields") else None


def _within(value: float, low: float | None, high: float | None) -> bool:
    return (low is None or value >= low) and (high is None or value <= high)


def _order_checks(query: dict[str, str]) -> list[Check]:
    """The order search's filters other than the update window and ``ids``, as checks of one order."""
    checks: list[Check] = []
    if query.get("email"):
        email = query["email"].strip().lower()
        checks.append(lambda order: str(order["email"]).lower() == email)
    if query.get("customerId"):
        customer = int_id(query["customerId"].strip(), "Customer")
        checks.append(lambda order: order.get("customerId") == customer)
    if query.get("couponCode"):
        code = query["couponCode"].strip().lower()
        checks.append(lambda order: str(order.get("discountCoupon", {}).get("code", "")).lower() == code)
    low_total, high_total = _number(query, "totalFrom"), _number(query, "totalTo")
    if low_total is not None or high_total is not None:
        checks.append(lambda order: _within(float(order["total"]), low_total, high_total))
    payment = _statuses(query, "paymentStatus", PAYMENT_STATUSES)
    if payment is not None:
        checks.append(lambda order: order["paymentStatus"] in payment)
    fulfillment = _statuses(query, "fulfillmentStatus", FULFILLMENT_STATUSES)
    if fulfillment is not None:
        checks.append(lambda order: order["fulfillmentStatus"] in fulfillment)
    created_low, created_high = _bounds(query, "created")
    if created_low is not None or created_high is not None:
        checks.append(lambda order: _within(order["createTimestamp"], created_low, created_high))
    if query.get("keywords"):
        words = query["keywords"].lower().split()
        checks.append(lambda order: all(word in _order_text(order) for word in words))
    return checks


def _order_text(order: dict[str, Any]) -> str:
    """What a keyword search looks in: the ids, the email, the people's names, the items' names and SKUs."""
    people = [order.get("billingPerson", {}), order.get("shippingPerson", {})]
    parts = [order["id"], str(order["orderNumber"]), order["email"]]
    parts += [str(person.get("name", "")) for person in people]
    parts += [f"{item['name']} {item['sku']}" for item in order["items"]]
    return " ".join(parts).lower()


def _customer_checks(query: dict[str, str]) -> list[Check]:
    checks: list[Check] = []
    if query.get("email"):
        email = query["email"].strip().lower()
        checks.append(lambda customer: str(customer["email"]).lower() == email)
    if query.get("keyword"):
        word = query["keyword"].strip().lower()
        checks.append(lambda customer: word in f"{customer['name']} {customer['email']}".lower())
    created_low, created_high = _bounds(query, "created")
    if created_low is not None or created_high is not None:
        checks.append(lambda customer: _within(customer["createTimestamp"], created_low, created_high))
    return checks


# -- searching ----------------------------------------------------------------------------------------------


def _search(
    table: LazyTable,
    view: View,
    query: dict[str, str],
    checks: list[Check],
    named: Iterable[int] | None,
) -> RecordsPage:
    """
    One page of the live records that are in the update window, among ``named`` (positions) if given, and pass
    every check; in answer order.
    """
    low, high = _bounds(query, "updated")
    offset, limit = paging(query)
    fields = _response_fields(query)
    if named is None and not checks:
        window = table.window(low, high)
        chosen = window.positions(offset, limit)
        total = len(window)
    else:
        if named is not None:
            live = {position for position in named if table.exists(position)}
            candidates: Iterable[int] = sorted(
                (position for position in live if _within(table.update_time(position), low, high)), key=table.key
            )
        else:
            candidates = table.window(low, high)
        found = [
            position
            for position in candidates
            if all(check(view(position, table.overlay.get(position))) for check in checks)
        ]
        chosen, total = found[offset : offset + limit], len(found)
    # an overlay's dict is replaced on each change, never changed in place: keeping it keeps the page as read
    changed = {position: table.overlay[position] for position in chosen if position in table.overlay}
    return RecordsPage(total, offset, limit, chosen, changed, view, fields)


def _order_positions(sales: Sales, text: str) -> list[int]:
    positions = (sales.order_position(part) for part in text.split(",") if part.strip())
    return [position for position in positions if position is not None]


def search_orders(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    sales = store.sales
    named = _order_positions(sales, query["ids"]) if query.get("ids") else None
    page = _search(sales.orders, sales.order_view, query, _order_checks(query), named)
    sales.after_page(ORDERS)
    return Answer(200, page)


def search_customers(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    sales = store.sales
    page = _search(sales.customers, sales.customer_view, query, _customer_checks(query), None)
    sales.after_page(CUSTOMERS)
    return Answer(200, page)


def _one(table: LazyTable, view: View, position: int | None, query: dict[str, str]) -> dict[str, Any] | None:
    if position is None or not table.exists(position):
        return None
    record = view(position, table.overlay.get(position))
    fields = _response_fields(query)
    return record if fields is None else dict(trim(record, fields))


def get_order(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    sales = store.sales
    order = _one(sales.orders, sales.order_view, sales.order_position(ids[0]), query)
    if order is None:
        raise not_found(f"Order {ids[0]!r} not found", "ORDER_NOT_FOUND")
    return Answer(200, order)


def get_customer(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    sales = store.sales
    customer = _one(sales.customers, sales.customer_view, customer_position(int_id(ids[0], "Customer")), query)
    if customer is None:
        raise not_found(f"Customer #{ids[0]} not found", "CUSTOMER_NOT_FOUND")
    return Answer(200, customer)


def _deleted(table: LazyTable, name: Callable[[int], str | int], query: dict[str, str]) -> Answer:
    """Deletions between ``from_date`` and ``to_date`` (inclusive), oldest first, as ``{id, date}``."""
    start = parse_time(query["from_date"], "from_date") if query.get("from_date") else None
    end = parse_time(query["to_date"], "to_date") if query.get("to_date") else None
    items = [
        {"id": name(position), "date": date_text(when)}
        for position, when in table.deletions
        if _within(when, start, end)
    ]
    return page_answer(items, query)


def deleted_orders(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    return _deleted(store.sales.orders, store.sales.order_id, query)


def deleted_customers(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    return _deleted(store.sales.customers, customer_id, query)


_ID = r"([^/]+)"
#: (method, path pattern, endpoint for counters, handler); ``deleted`` before ``{id}``.
ROUTES: list[tuple[str, str, str, Callable[[Store, tuple[str, ...], dict[str, str], Any], Answer]]] = [
    ("GET", "/orders", "/orders", search_orders),
    ("GET", "/orders/deleted", "/orders/deleted", deleted_orders),
    ("GET", f"/orders/{_ID}", "/orders/{id}", get_order),
    ("GET", "/customers", "/customers", search_customers),
    ("GET", "/customers/deleted", "/customers/deleted", deleted_customers),
    ("GET", f"/customers/{_ID}", "/customers/{id}", get_customer),
]
