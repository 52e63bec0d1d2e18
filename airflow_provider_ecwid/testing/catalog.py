"""An emulated Ecwid store: its catalog and the handlers of the REST endpoints a catalog import uses.

The same handlers answer direct HTTP calls and the inner requests of batches. Every handler takes the
store, the path's captured ids, the query parameters and the decoded JSON body, and returns an Answer or
raises EcwidFault. Nothing here knows about HTTP servers or time.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_ecwid.testing.answers import Answer, EcwidFault, bad_request, not_found
from airflow_provider_ecwid.testing.fields import parse_response_fields, trim

MAX_PAGE = 100

_NUMBER = (int, float)
PRODUCT_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "sku": (str,),
    "name": (str,),
    "price": _NUMBER,
    "compareToPrice": _NUMBER,
    "costPrice": _NUMBER,
    "quantity": (int,),
    "unlimited": (bool,),
    "enabled": (bool,),
    "categoryIds": (list,),
    "description": (str,),
    "weight": _NUMBER,
    "isShippingRequired": (bool,),
    "attributes": (list,),
    "options": (list,),
    "tax": (dict,),
}
CATEGORY_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "parentId": (int,),
    "enabled": (bool,),
    "productIds": (list,),
    "description": (str,),
}
COMBINATION_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "sku": (str,),
    "price": _NUMBER,
    "quantity": (int,),
    "unlimited": (bool,),
    "options": (list,),
    "weight": _NUMBER,
}


@dataclass
class Store:
    """
    One emulated store.

    :param store_id: the store's numeric id.
    :param name: the store's name, shown in the profile.
    """

    store_id: int
    name: str = "Emulated store"
    products: dict[int, dict[str, Any]] = field(default_factory=dict)
    categories: dict[int, dict[str, Any]] = field(default_factory=dict)
    combinations: dict[int, dict[int, dict[str, Any]]] = field(default_factory=dict)
    sku_index: dict[str, int] = field(default_factory=dict)
    next_id: int = 100_000_001

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id


Handler = Callable[[Store, tuple[str, ...], dict[str, str], Any], Answer]


def _check_fields(body: Any, types: dict[str, tuple[type, ...]], what: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise bad_request(f"The {what} body must be a JSON object")
    for name, value in body.items():
        expected = types.get(name)
        if expected is None or value is None:
            continue
        wrong_bool = isinstance(value, bool) and bool not in expected
        if expected == (int,) and isinstance(value, float) and value.is_integer():
            continue  # like Ecwid's JSON reader, a whole float is a fine integer
        if wrong_bool or not isinstance(value, expected):
            names = "/".join(kind.__name__ for kind in expected)
            raise bad_request(f"Field {name!r} of the {what} must be {names}, got {type(value).__name__}")
        if name in ("price", "compareToPrice", "costPrice", "weight") and isinstance(value, int | float) and value < 0:
            raise bad_request(f"Field {name!r} of the {what} must not be negative")
    return body


def _int_id(text: str, what: str) -> int:
    if not text.isdigit():
        raise bad_request(f"{what} id must be a number, got {text!r}")
    return int(text)


def _paging(query: dict[str, str]) -> tuple[int, int]:
    try:
        offset = int(query.get("offset", "0") or 0)
        limit = int(query.get("limit", str(MAX_PAGE)) or MAX_PAGE)
    except ValueError:
        raise bad_request("offset and limit must be integers") from None
    if offset < 0 or limit < 0:
        raise bad_request("offset and limit must not be negative")
    return offset, min(limit, MAX_PAGE)


def page_answer(items: list[dict[str, Any]], query: dict[str, str]) -> Answer:
    """One page of ``items`` as Ecwid answers a search: total, count, offset, limit, items (trimmed if asked)."""
    offset, limit = _paging(query)
    chosen = items[offset : offset + limit]
    answer: dict[str, Any] = {
        "total": len(items),
        "count": len(chosen),
        "offset": offset,
        "limit": limit,
        "items": copy.deepcopy(chosen),
    }
    if query.get("responseFields"):
        answer = trim(answer, parse_response_fields(query["responseFields"]))
    return Answer(200, answer)


# -- profile ----------------------------------------------------------------------------------------------


def get_profile(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    return Answer(
        200,
        {
            "generalInfo": {"storeId": store.store_id, "storeUrl": f"https://store{store.store_id}.example"},
            "settings": {"storeName": store.name},
        },
    )


# -- products ---------------------------------------------------------------------------------------------


def _product(store: Store, text_id: str) -> dict[str, Any]:
    product = store.products.get(_int_id(text_id, "Product"))
    if product is None:
        raise not_found(f"Product #{text_id} not found", "PRODUCT_NOT_FOUND")
    return product


def search_products(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    items = list(store.products.values())
    if query.get("sku"):
        wanted = store.sku_index.get(query["sku"])
        items = [store.products[wanted]] if wanted is not None else []
    if query.get("productId"):
        wanted_ids = {_int_id(part.strip(), "Product") for part in query["productId"].split(",") if part.strip()}
        items = [item for item in items if item["id"] in wanted_ids]
    if query.get("keyword"):
        word = query["keyword"].lower()
        items = [
            item
            for item in items
            if any(word in str(item.get(name, "")).lower() for name in ("name", "sku", "description"))
        ]
    if query.get("enabled") in ("true", "false"):
        items = [item for item in items if item.get("enabled") is (query["enabled"] == "true")]
    return page_answer(items, query)


def get_product(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    return Answer(200, copy.deepcopy(_product(store, ids[0])))


def create_product(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    fields = _check_fields(body, PRODUCT_FIELD_TYPES, "product")
    sku = fields.get("sku") or ""
    if sku and sku in store.sku_index:
        raise EcwidFault(409, "SKU_ALREADY_EXISTS", f"The SKU {sku!r} is already used by another product")
    product_id = store.new_id()
    product = {"enabled": False, **copy.deepcopy(fields), "id": product_id}
    product["sku"] = sku or f"{product_id:08d}"
    store.products[product_id] = product
    store.sku_index[product["sku"]] = product_id
    return Answer(200, {"id": product_id})


def update_product(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    product = _product(store, ids[0])
    fields = _check_fields(body, PRODUCT_FIELD_TYPES, "product")
    new_sku = fields.get("sku")
    if new_sku and new_sku != product["sku"]:
        if new_sku in store.sku_index:
            raise EcwidFault(409, "SKU_ALREADY_EXISTS", f"The SKU {new_sku!r} is already used by another product")
        del store.sku_index[product["sku"]]
        store.sku_index[new_sku] = product["id"]
    product.update({name: copy.deepcopy(value) for name, value in fields.items() if name != "id"})
    return Answer(200, {"updateCount": 1})


def delete_product(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    product = _product(store, ids[0])
    del store.products[product["id"]]
    store.sku_index.pop(product["sku"], None)
    store.combinations.pop(product["id"], None)
    return Answer(200, {"deleteCount": 1})


def adjust_inventory(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    product = _product(store, ids[0])
    if not isinstance(body, dict):
        raise bad_request("The inventory body must be a JSON object")
    delta = body.get("quantityDelta")
    if isinstance(delta, bool) or not isinstance(delta, int):
        raise bad_request("quantityDelta must be an integer")
    product["quantity"] = int(product.get("quantity") or 0) + delta
    return Answer(200, {"updateCount": 1})


def add_main_image(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    product = _product(store, ids[0])
    url = query.get("externalUrl", "")
    if not re.match(r"^https?://[^/\s]+", url):
        raise bad_request("externalUrl must be an http(s) URL of a JPG, PNG or GIF image")
    image_id = store.new_id()
    product["imageUrl"] = url
    product["originalImage"] = {"id": image_id, "url": url}
    return Answer(200, {"id": image_id})


# -- variations -------------------------------------------------------------------------------------------


def list_combinations(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    product = _product(store, ids[0])
    return Answer(200, copy.deepcopy(list(store.combinations.get(product["id"], {}).values())))


def create_combination(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    product = _product(store, ids[0])
    fields = _check_fields(body, COMBINATION_FIELD_TYPES, "variation")
    combination_id = store.new_id()
    store.combinations.setdefault(product["id"], {})[combination_id] = {
        **copy.deepcopy(fields),
        "id": combination_id,
    }
    return Answer(200, {"id": combination_id})


def _combination(store: Store, ids: tuple[str, ...]) -> tuple[dict[int, dict[str, Any]], int]:
    product = _product(store, ids[0])
    combinations = store.combinations.get(product["id"], {})
    combination_id = _int_id(ids[1], "Variation")
    if combination_id not in combinations:
        raise not_found(f"Variation #{combination_id} not found", "COMBINATION_NOT_FOUND")
    return combinations, combination_id


def update_combination(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    combinations, combination_id = _combination(store, ids)
    fields = _check_fields(body, COMBINATION_FIELD_TYPES, "variation")
    combinations[combination_id].update({k: copy.deepcopy(v) for k, v in fields.items() if k != "id"})
    return Answer(200, {"updateCount": 1})


def delete_combination(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    combinations, combination_id = _combination(store, ids)
    del combinations[combination_id]
    return Answer(200, {"deleteCount": 1})


# -- categories -------------------------------------------------------------------------------------------


def _category(store: Store, text_id: str) -> dict[str, Any]:
    category = store.categories.get(_int_id(text_id, "Category"))
    if category is None:
        raise not_found(f"Category #{text_id} not found", "CATEGORY_NOT_FOUND")
    return category


def search_categories(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    items = list(store.categories.values())
    if query.get("parent"):
        parent = _int_id(query["parent"], "Parent category")
        items = [item for item in items if item.get("parentId", 0) == parent]
    return page_answer(items, query)


def get_category(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    return Answer(200, copy.deepcopy(_category(store, ids[0])))


def create_category(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    fields = _check_fields(body, CATEGORY_FIELD_TYPES, "category")
    if not fields.get("name"):
        raise bad_request("A category needs a name")
    category_id = store.new_id()
    store.categories[category_id] = {"enabled": True, **copy.deepcopy(fields), "id": category_id}
    return Answer(200, {"id": category_id})


def update_category(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    category = _category(store, ids[0])
    fields = _check_fields(body, CATEGORY_FIELD_TYPES, "category")
    category.update({k: copy.deepcopy(v) for k, v in fields.items() if k != "id"})
    return Answer(200, {"updateCount": 1})


def delete_category(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    category = _category(store, ids[0])
    del store.categories[category["id"]]
    return Answer(200, {"deleteCount": 1})


# -- routing ----------------------------------------------------------------------------------------------

_ID = r"([^/]+)"
ROUTES: list[tuple[str, re.Pattern[str], str, Handler]] = [
    (method, re.compile(f"^{pattern}$"), endpoint, handler)
    for method, pattern, endpoint, handler in [
        ("GET", "/profile", "/profile", get_profile),
        ("GET", "/products", "/products", search_products),
        ("POST", "/products", "/products", create_product),
        ("GET", f"/products/{_ID}", "/products/{id}", get_product),
        ("PUT", f"/products/{_ID}", "/products/{id}", update_product),
        ("DELETE", f"/products/{_ID}", "/products/{id}", delete_product),
        ("PUT", f"/products/{_ID}/inventory", "/products/{id}/inventory", adjust_inventory),
        ("POST", f"/products/{_ID}/image", "/products/{id}/image", add_main_image),
        ("GET", f"/products/{_ID}/combinations", "/products/{id}/combinations", list_combinations),
        ("POST", f"/products/{_ID}/combinations", "/products/{id}/combinations", create_combination),
        ("PUT", f"/products/{_ID}/combinations/{_ID}", "/products/{id}/combinations/{id}", update_combination),
        ("DELETE", f"/products/{_ID}/combinations/{_ID}", "/products/{id}/combinations/{id}", delete_combination),
        ("GET", "/categories", "/categories", search_categories),
        ("POST", "/categories", "/categories", create_category),
        ("GET", f"/categories/{_ID}", "/categories/{id}", get_category),
        ("PUT", f"/categories/{_ID}", "/categories/{id}", update_category),
        ("DELETE", f"/categories/{_ID}", "/categories/{id}", delete_category),
    ]
]


def endpoint_of(path: str) -> str:
    """The endpoint pattern of a path (ids replaced by ``{id}``), for counters."""
    for _method, pattern, endpoint, _handler in ROUTES:
        if pattern.match(path):
            return endpoint
    return re.sub(r"/\d+", "/{id}", path)


def handle(store: Store, method: str, path: str, query: dict[str, str], body: Any) -> Answer:
    """Answer one catalog request (direct or from a batch)."""
    known_path = False
    for route_method, pattern, _endpoint, handler in ROUTES:
        match = pattern.match(path)
        if match is None:
            continue
        known_path = True
        if route_method == method:
            try:
                return handler(store, match.groups(), query, body)
            except EcwidFault as fault:
                return fault.answer
    if known_path:
        return EcwidFault(405, "METHOD_NOT_ALLOWED", f"{method} is not allowed on {path}").answer
    return not_found(f"No such endpoint: {path}", "ENDPOINT_NOT_FOUND").answer
