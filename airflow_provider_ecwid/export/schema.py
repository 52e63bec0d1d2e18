"""One Arrow schema per entity, whatever the data holds, so that a year of nightly files loads as one table.

Each row is fitted to its entity's schema (:func:`fit`): a documented field gets its type (ids and counts as
int64, money as float64, update and create times as UTC timestamps in milliseconds, as Parquet stores them,
nested lists and structs kept nested), a missing one is null, and whatever the schema does not know, or a value
that does not fit its field's type, goes into one JSON text column, :data:`EXTRA`, under its path
(``billingPerson.companyName``, ``items[2].weight``) rather than being dropped. A night without coupons writes
the same columns as any other.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import pyarrow as pa

#: The column that keeps, as JSON text, what the schema does not know (None when there is nothing).
EXTRA = "_extra"

#: Times as UTC timestamps in milliseconds: Parquet has no seconds unit, and a file read back keeps its schema.
TIMESTAMP = pa.timestamp("ms", tz="UTC")
PERSON = pa.struct(
    [
        ("name", pa.string()),
        ("companyName", pa.string()),
        ("street", pa.string()),
        ("city", pa.string()),
        ("countryCode", pa.string()),
        ("countryName", pa.string()),
        ("postalCode", pa.string()),
        ("stateOrProvinceCode", pa.string()),
        ("phone", pa.string()),
    ]
)
SELECTED_OPTION = pa.struct([("name", pa.string()), ("value", pa.string())])
ORDER_ITEM = pa.struct(
    [
        ("id", pa.int64()),
        ("productId", pa.int64()),
        ("sku", pa.string()),
        ("name", pa.string()),
        ("price", pa.float64()),
        ("quantity", pa.int64()),
        ("selectedOptions", pa.list_(SELECTED_OPTION)),
    ]
)

ORDERS = pa.schema(
    [
        ("id", pa.string()),
        ("internalId", pa.int64()),
        ("orderNumber", pa.int64()),
        ("vendorOrderNumber", pa.string()),
        ("email", pa.string()),
        ("customerId", pa.int64()),
        ("total", pa.float64()),
        ("subtotal", pa.float64()),
        ("tax", pa.float64()),
        ("couponDiscount", pa.float64()),
        ("paymentStatus", pa.string()),
        ("fulfillmentStatus", pa.string()),
        ("createDate", pa.string()),
        ("updateDate", pa.string()),
        ("createTimestamp", TIMESTAMP),
        ("updateTimestamp", TIMESTAMP),
        ("items", pa.list_(ORDER_ITEM)),
        ("billingPerson", PERSON),
        ("shippingPerson", PERSON),
        (EXTRA, pa.string()),
    ]
)
CUSTOMERS = pa.schema(
    [
        ("id", pa.int64()),
        ("email", pa.string()),
        ("name", pa.string()),
        ("registered", pa.string()),
        ("updated", pa.string()),
        ("totalOrderCount", pa.int64()),
        ("createTimestamp", TIMESTAMP),
        ("updateTimestamp", TIMESTAMP),
        ("billingPerson", PERSON),
        (EXTRA, pa.string()),
    ]
)
PRODUCTS = pa.schema(
    [
        ("id", pa.int64()),
        ("sku", pa.string()),
        ("name", pa.string()),
        ("price", pa.float64()),
        ("compareToPrice", pa.float64()),
        ("costPrice", pa.float64()),
        ("quantity", pa.int64()),
        ("unlimited", pa.bool_()),
        ("enabled", pa.bool_()),
        ("categoryIds", pa.list_(pa.int64())),
        ("description", pa.string()),
        ("weight", pa.float64()),
        ("isShippingRequired", pa.bool_()),
        ("created", pa.string()),
        ("updated", pa.string()),
        ("createTimestamp", TIMESTAMP),
        ("updateTimestamp", TIMESTAMP),
        (EXTRA, pa.string()),
    ]
)
CATEGORIES = pa.schema(
    [
        ("id", pa.int64()),
        ("parentId", pa.int64()),
        ("name", pa.string()),
        ("enabled", pa.bool_()),
        ("orderBy", pa.int64()),
        ("productIds", pa.list_(pa.int64())),
        ("description", pa.string()),
        (EXTRA, pa.string()),
    ]
)

#: The schema of each entity's files.
SCHEMAS = {"orders": ORDERS, "customers": CUSTOMERS, "products": PRODUCTS, "categories": CATEGORIES}


class _Misfit(Exception):
    """A value that does not fit its field's type (it goes to the extra column)."""


def fit(row: Mapping[str, Any], schema: pa.Schema) -> dict[str, Any]:
    """
    The row as the schema's columns (see the module's docstring); what does not fit is in :data:`EXTRA`.

    :param row: one item as Ecwid answered it.
    :param schema: its entity's schema.
    """
    extra: dict[str, Any] = {}
    fitted = {name: _value(row.get(name), schema.field(name).type, name, extra) for name in schema.names[:-1]}
    extra.update({name: value for name, value in row.items() if name not in fitted})
    fitted[EXTRA] = json.dumps(extra, sort_keys=True, default=str) if extra else None
    return fitted


def _value(value: Any, kind: pa.DataType, path: str, extra: dict[str, Any]) -> Any:
    if value is None:
        return None
    try:
        return _fitted(value, kind, path, extra)
    except _Misfit:
        extra[path] = value
        return None


def _fitted(value: Any, kind: pa.DataType, path: str, extra: dict[str, Any]) -> Any:
    if pa.types.is_struct(kind):
        if not isinstance(value, Mapping):
            raise _Misfit
        names = [kind.field(index).name for index in range(kind.num_fields)]
        fitted = {name: _value(value.get(name), kind.field(name).type, f"{path}.{name}", extra) for name in names}
        extra.update({f"{path}.{name}": item for name, item in value.items() if name not in fitted})
        return fitted
    if pa.types.is_list(kind):
        if not isinstance(value, list | tuple):
            raise _Misfit
        return [_value(item, kind.value_type, f"{path}[{index}]", extra) for index, item in enumerate(value)]
    return _scalar(value, kind)


def _scalar(value: Any, kind: pa.DataType) -> Any:
    if pa.types.is_string(kind):
        if isinstance(value, dict | list):
            raise _Misfit
        return value if isinstance(value, str) else str(value).lower() if isinstance(value, bool) else str(value)
    if pa.types.is_boolean(kind):
        if isinstance(value, bool):
            return value
        if isinstance(value, str) and value.lower() in ("true", "false"):
            return value.lower() == "true"
        raise _Misfit
    if pa.types.is_timestamp(kind):
        return _whole(value, timestamp=True) * 1000  # Ecwid's seconds, as milliseconds
    if pa.types.is_integer(kind):
        return _whole(value, timestamp=False)
    if pa.types.is_floating(kind):
        number = _number(value)
        if number is None:
            raise _Misfit
        return number
    raise _Misfit  # pragma: no cover - every schema type is handled above


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        try:
            number = float(value)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _whole(value: Any, *, timestamp: bool) -> int:
    if timestamp and isinstance(value, str) and not value.strip().lstrip("-").isdigit():
        return _date_seconds(value)
    number = _number(value)
    if number is None or not number.is_integer():
        raise _Misfit
    return int(number)


def _date_seconds(text: str) -> int:
    """Ecwid's ``yyyy-MM-dd HH:mm:ss Z`` date text as UNIX seconds."""
    for form in ("%Y-%m-%d %H:%M:%S %z", "%Y-%m-%d %H:%M:%S"):
        try:
            parsed = datetime.strptime(text.strip(), form)
        except ValueError:
            continue
        return int((parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)).timestamp())
    raise _Misfit


def record_batch(rows: Sequence[Mapping[str, Any]], schema: pa.Schema) -> pa.RecordBatch:
    """Items as one Arrow record batch of the entity's schema."""
    return pa.RecordBatch.from_pylist([fit(row, schema) for row in rows], schema=schema)


#: The deletions beside an export: each deleted id (as text, whatever the entity) and when it was deleted.
DELETED = pa.schema([("id", pa.string()), ("date", TIMESTAMP)])


def deleted_batch(items: Sequence[Mapping[str, Any]]) -> pa.RecordBatch:
    """Deletion items (``{"id", "date"}``) as a record batch of :data:`DELETED`."""
    rows = [
        {"id": _value(item.get("id"), pa.string(), "id", {}), "date": _value(item.get("date"), TIMESTAMP, "date", {})}
        for item in items
    ]
    return pa.RecordBatch.from_pylist(rows, schema=DELETED)


def deletion_seconds(item: Mapping[str, Any]) -> int | None:
    """When a deletion item says it happened, as UNIX seconds (None when it cannot be read)."""
    try:
        return _whole(item.get("date"), timestamp=True)
    except _Misfit:
        return None
