"""Orders and customers as Ecwid answers them, made from a seed and a position: the same inputs, the same record.

The optional parts vary as in a real shop, so that an export's schema must hold when they are absent: guest
orders have no ``customerId``; about a third carry a coupon (``discountCoupon``, a non-zero ``couponDiscount``);
a fifth have no ``shippingPerson`` (and no ``shippingOption``); a fifth of the people have no ``phone``; an order
holds 1 to 5 items, and only items of products with options carry ``selectedOptions``.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any, TypeVar

from airflow_provider_ecwid.testing.lazy_table import Segment
from airflow_provider_ecwid.testing.tracking import date_text

PAYMENT_STATUSES = ("AWAITING_PAYMENT", "PAID", "CANCELLED", "REFUNDED", "PARTIALLY_REFUNDED", "INCOMPLETE")
FULFILLMENT_STATUSES = (
    "AWAITING_PROCESSING",
    "PROCESSING",
    "SHIPPED",
    "DELIVERED",
    "WILL_NOT_DELIVER",
    "RETURNED",
    "READY_FOR_PICKUP",
    "OUT_FOR_DELIVERY",
)
_PAYMENT_WEIGHTS = (10, 70, 5, 5, 3, 7)
_FULFILLMENT_WEIGHTS = (15, 10, 20, 40, 5, 3, 4, 3)
#: What a change to an order does to its fulfilment (the churn knob): it moves one step on.
NEXT_FULFILLMENT = {
    "AWAITING_PROCESSING": "PROCESSING",
    "PROCESSING": "SHIPPED",
    "SHIPPED": "OUT_FOR_DELIVERY",
    "OUT_FOR_DELIVERY": "DELIVERED",
    "READY_FOR_PICKUP": "DELIVERED",
}

#: The first order's number; an order's number is this plus its position.
FIRST_ORDER_NUMBER = 1001
FIRST_INTERNAL_ID = 500_000_001
FIRST_CUSTOMER_ID = 80_000_001
FIRST_PRODUCT_ID = 700_000_001
PRODUCTS = 500
#: At most this long between an order's (or customer's) creation and its seeded update (seconds).
MAX_AGE = 14 * 86_400

_FIRST_NAMES = ("Anna", "Ben", "Chloe", "David", "Emma", "Felix", "Grace", "Hugo", "Ines", "Jonas", "Kate", "Liam")
_LAST_NAMES = ("Smith", "Müller", "Dubois", "Rossi", "García", "Novak", "Jensen", "Kowalski", "Brown", "Silva")
_PLACES = (
    ("US", "Austin", 0.07),
    ("US", "Denver", 0.07),
    ("DE", "Berlin", 0.19),
    ("GB", "Leeds", 0.20),
    ("FR", "Lyon", 0.20),
    ("CA", "Toronto", 0.05),
    ("AU", "Perth", 0.10),
    ("NL", "Utrecht", 0.21),
)
_STREETS = ("Main St", "Oak Ave", "High St", "Station Rd", "Park Lane", "Mill Way")
_ADJECTIVES = ("Classic", "Light", "Trail", "Urban", "Pro", "Eco", "Compact", "Deluxe")
_NOUNS = ("Bottle", "Jacket", "Helmet", "Lamp", "Backpack", "Pump", "Glove", "Saddle", "Bell", "Lock")
_SIZES = ("S", "M", "L", "XL")
_COLOURS = ("Red", "Blue", "Black", "Green")
_COUPONS = (("SPRING10", 0.10), ("WELCOME5", 0.05), ("VIP15", 0.15), ("BLACKFRIDAY20", 0.20))
_LINES = (1, 1, 1, 2, 2, 3, 4, 5)

T = TypeVar("T")
_MASK = (1 << 64) - 1


class Draws:
    """
    A small, fast stream of pseudo-random numbers for one record (a 64-bit LCG started by a SplitMix64 mix of
    the seed and the position): ``random.Random`` takes longer to seed than a whole order takes to make.

    :param seed: the seed of the record's run.
    :param position: the record's position.
    """

    __slots__ = ("_state",)

    def __init__(self, seed: int, position: int) -> None:
        z = (seed * 0x9E3779B97F4A7C15 + position * 0xD1B54A32D192ED03 + 0x632BE59BD9B4E019) & _MASK
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _MASK
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _MASK
        self._state = z ^ (z >> 31)

    def below(self, bound: int) -> int:
        """A whole number from 0 to ``bound - 1``."""
        self._state = (self._state * 6364136223846793005 + 1442695040888963407) & _MASK
        return (self._state >> 24) % bound

    def between(self, low: int, high: int) -> int:
        """A whole number from ``low`` to ``high - 1``."""
        return low + self.below(high - low)

    def chance(self, probability: float) -> bool:
        """True with ``probability``."""
        return self.below(1_000_000) < probability * 1_000_000

    def choice(self, items: Sequence[T]) -> T:
        return items[self.below(len(items))]

    def weighted(self, items: Sequence[T], weights: Sequence[int]) -> T:
        """One of ``items``, each as likely as its weight."""
        pick = self.below(sum(weights))
        for item, weight in zip(items, weights, strict=True):
            if pick < weight:
                return item
            pick -= weight
        raise AssertionError("unreachable: the pick is below the sum of the weights")


@lru_cache(maxsize=8192)
def _day_text(day: int) -> str:
    return date_text(day * 86_400)[:10]


def fast_date_text(timestamp: int) -> str:
    """``tracking.date_text``, several times faster (a million orders carry two dates each)."""
    day, seconds = divmod(timestamp, 86_400)
    hours, rest = divmod(seconds, 3600)
    return f"{_day_text(day)} {hours:02d}:{rest // 60:02d}:{rest % 60:02d} +0000"


def _times(rng: Draws, updated: int) -> tuple[int, int]:
    """Create and update times: a record was created up to two weeks before its update (two in five: at once)."""
    return (updated if rng.chance(0.4) else max(0, updated - rng.between(60, MAX_AGE))), updated


def person_name(seed: int, position: int) -> str:
    """A customer's (or guest's) name, from its own small generator so orders can name customers cheaply."""
    rng = Draws(seed ^ 0x5EED, position)
    return f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"


def email_of(name: str, number: int) -> str:
    first, last = name.lower().split(" ", 1)
    return f"{first}.{last.encode('ascii', 'ignore').decode()}{number}@example.com"


def address(rng: Draws, name: str) -> dict[str, Any]:
    """A postal address: ``name, street, city, countryCode, postalCode`` and, for most people, ``phone``."""
    country, city, _tax = rng.choice(_PLACES)
    person: dict[str, Any] = {
        "name": name,
        "street": f"{rng.between(1, 300)} {rng.choice(_STREETS)}",
        "city": city,
        "countryCode": country,
        "postalCode": str(rng.between(10_000, 99_999)),
    }
    if rng.chance(0.8):
        person["phone"] = f"+1555{rng.between(1_000_000, 9_999_999)}"
    return person


# -- customers ----------------------------------------------------------------------------------------------


def customer_id(position: int) -> int:
    return FIRST_CUSTOMER_ID + position


def customer_position(customer: int) -> int:
    return customer - FIRST_CUSTOMER_ID


def customer_identity(segment: Segment, position: int) -> tuple[int, str, str]:
    """A customer's id, name and email (all an order needs of its customer)."""
    name = person_name(segment.seed, position)
    return customer_id(position), name, email_of(name, position)


def make_customer(segment: Segment, position: int) -> dict[str, Any]:
    """The customer at ``position`` as seeded (before any later change)."""
    rng = Draws(segment.seed, position)
    number, name, email = customer_identity(segment, position)
    created, updated = _times(rng, segment.time_of(position))
    return {
        "id": number,
        "email": email,
        "name": name,
        "registered": fast_date_text(created),
        "updated": fast_date_text(updated),
        "createTimestamp": created,
        "updateTimestamp": updated,
        "totalOrderCount": rng.below(4) * rng.below(8),
        "billingPerson": address(rng, name),
    }


# -- orders -------------------------------------------------------------------------------------------------


def order_number(position: int) -> int:
    return FIRST_ORDER_NUMBER + position


def internal_id(position: int) -> int:
    return FIRST_INTERNAL_ID + position


def _item(rng: Draws, position: int, line: int) -> dict[str, Any]:
    product = rng.below(PRODUCTS)
    item: dict[str, Any] = {
        "id": position * 5 + line + 1,
        "productId": FIRST_PRODUCT_ID + product,
        "sku": f"SKU-{product:05d}",
        "name": f"{_ADJECTIVES[product % len(_ADJECTIVES)]} {_NOUNS[product % len(_NOUNS)]}",
        "price": round(4.5 + (product * 37 % 1900) / 10, 2),
        "quantity": 1 if rng.chance(0.7) else rng.between(2, 5),
    }
    if product % 3 == 0:  # a product with options: the buyer's choices come with the line
        item["selectedOptions"] = [
            {"name": "Size", "value": rng.choice(_SIZES), "type": "CHOICE"},
            {"name": "Colour", "value": rng.choice(_COLOURS), "type": "CHOICE"},
        ]
    return item


def make_order(segment: Segment, position: int, customer: tuple[int, str, str] | None, prefix: str) -> dict[str, Any]:
    """
    The order at ``position`` as seeded (before any later change).

    :param segment: the seeded run that holds it.
    :param position: its position in the store's orders.
    :param customer: its customer's id, name and email; None for a guest's order.
    :param prefix: the store's order prefix (the order's ``id`` is ``{prefix}-{orderNumber}``).
    """
    rng = Draws(segment.seed, position)
    number = order_number(position)
    name = customer[1] if customer else person_name(segment.seed + 1, position)
    email = customer[2] if customer else email_of(name, 900_000_000 + position)
    items = [_item(rng, position, line) for line in range(rng.choice(_LINES))]
    subtotal = round(sum(item["price"] * item["quantity"] for item in items), 2)
    billing = address(rng, name)
    tax_rate = next(rate for country, _city, rate in _PLACES if country == billing["countryCode"])
    coupon: dict[str, Any] | None = None
    discount = 0.0
    if rng.chance(0.3):
        code, share = rng.choice(_COUPONS)
        discount = round(subtotal * share, 2)
        coupon = {"name": f"{round(share * 100)}% off", "code": code}
    tax = round((subtotal - discount) * tax_rate, 2)
    shipping: dict[str, Any] | None = None
    shipping_rate = 0.0
    if rng.chance(0.8):
        shipping = billing if rng.chance(0.7) else address(rng, person_name(segment.seed + 2, position))
        shipping_rate = rng.choice((4.99, 9.99, 14.5))
    created, updated = _times(rng, segment.time_of(position))
    order: dict[str, Any] = {
        "id": f"{prefix}-{number}",
        "internalId": internal_id(position),
        "orderNumber": number,
        "vendorOrderNumber": f"{prefix}-{number}",
        "email": email,
    }
    if customer is not None:
        order["customerId"] = customer[0]
    order["total"] = round(subtotal - discount + tax + shipping_rate, 2)
    order["subtotal"] = subtotal
    order["tax"] = tax
    order["couponDiscount"] = discount
    if coupon is not None:
        order["discountCoupon"] = coupon
    order["paymentStatus"] = rng.weighted(PAYMENT_STATUSES, _PAYMENT_WEIGHTS)
    order["fulfillmentStatus"] = rng.weighted(FULFILLMENT_STATUSES, _FULFILLMENT_WEIGHTS)
    order["createDate"] = fast_date_text(created)
    order["updateDate"] = fast_date_text(updated)
    order["createTimestamp"] = created
    order["updateTimestamp"] = updated
    order["items"] = items
    order["billingPerson"] = billing
    if shipping is not None:
        order["shippingPerson"] = dict(shipping)
        order["shippingOption"] = {"shippingMethodName": "Standard", "shippingRate": shipping_rate}
    return order
