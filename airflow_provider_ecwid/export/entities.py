"""What can be exported, and how each entity is read: its search path, filters, id, update time and deletions.

The filters are the ones the API documents for each search; the window's own (``updatedFrom``/``updatedTo``)
and the paging ones are the export's, never the caller's. Values of the status filters are checked against the
documented statuses before any call.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import pyarrow as pa

from airflow_provider_ecwid.errors import EcwidConfigError
from airflow_provider_ecwid.export.schema import SCHEMAS

Entity = Literal["orders", "products", "customers", "categories"]

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
#: A filter's kind: free text, a number, a comma list of numbers, or a comma list of the given words.
TEXT, NUMBER, IDS = "text", "number", "ids"


@dataclass(frozen=True)
class EntitySpec:
    """
    How one entity is read.

    :param path: its search path.
    :param schema: its files' schema.
    :param filters: the documented filters: name -> ``text``, ``number``, ``ids`` or the allowed words.
    :param time_field: the update time the window applies to (None: always read whole).
    :param deleted_path: where its deletions are listed (None: not listed).
    """

    path: str
    schema: pa.Schema
    filters: Mapping[str, Any] = field(default_factory=dict)
    time_field: str | None = "updateTimestamp"
    deleted_path: str | None = None


ENTITIES: dict[str, EntitySpec] = {
    "orders": EntitySpec(
        "/orders",
        SCHEMAS["orders"],
        {
            "ids": TEXT,
            "keywords": TEXT,
            "email": TEXT,
            "customerId": NUMBER,
            "couponCode": TEXT,
            "totalFrom": NUMBER,
            "totalTo": NUMBER,
            "createdFrom": TEXT,
            "createdTo": TEXT,
            "paymentStatus": PAYMENT_STATUSES,
            "fulfillmentStatus": FULFILLMENT_STATUSES,
        },
        deleted_path="/orders/deleted",
    ),
    "customers": EntitySpec(
        "/customers",
        SCHEMAS["customers"],
        {"keyword": TEXT, "email": TEXT, "createdFrom": TEXT, "createdTo": TEXT},
        deleted_path="/customers/deleted",
    ),
    "products": EntitySpec(
        "/products",
        SCHEMAS["products"],
        {"keyword": TEXT, "sku": TEXT, "productId": IDS, "createdFrom": TEXT, "createdTo": TEXT},
        deleted_path="/products/deleted",
    ),
    "categories": EntitySpec("/categories", SCHEMAS["categories"], {"parent": NUMBER}, time_field=None),
}


def entity_spec(entity: Any) -> EntitySpec:
    """The entity's spec; an unknown one is refused, naming the known ones."""
    spec = ENTITIES.get(str(entity))
    if spec is None:
        raise EcwidConfigError(f"entity must be one of {sorted(ENTITIES)}, got {entity!r}")
    return spec


def checked_filters(entity: str, filters: Mapping[str, Any] | None) -> dict[str, str]:
    """
    The filters as query values, each checked against what the entity's search documents.

    :param entity: the entity (known already).
    :param filters: filter name -> value (a list is joined with commas).
    """
    spec = ENTITIES[entity]
    checked: dict[str, str] = {}
    for name, value in (filters or {}).items():
        kind = spec.filters.get(name)
        if kind is None:
            known = ", ".join(sorted(spec.filters)) or "none"
            raise EcwidConfigError(f"filters: {name!r} is not a filter of {entity} (its filters: {known})")
        text = ",".join(str(item).strip() for item in value) if isinstance(value, list | tuple) else str(value).strip()
        if not text:
            raise EcwidConfigError(f"filters: {name!r} is empty")
        if isinstance(kind, tuple):
            wrong = [word for word in text.split(",") if word.strip() not in kind]
            if wrong:
                raise EcwidConfigError(f"filters: {name!r} has {wrong}, not among {list(kind)}")
        elif kind == NUMBER and not _is_number(text):
            raise EcwidConfigError(f"filters: {name!r} must be a number, got {value!r}")
        elif kind == IDS and not all(part.strip().isdigit() for part in text.split(",")):
            raise EcwidConfigError(f"filters: {name!r} must be numbers separated by commas, got {value!r}")
        checked[name] = text
    return checked


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True
