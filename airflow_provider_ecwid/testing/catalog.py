"""An emulated Ecwid store's catalog endpoints: profile, products, categories, and the routing of every request.

Orders and customers have their handlers in ``orders.py``; their routes join the catalog's here.

The same handlers answer direct HTTP calls and the inner requests of batches. Every handler takes the
store, the path's captured ids, the query parameters and the decoded JSON body, and returns an Answer or
raises EcwidFault. Variations live in ``variations.py``, images in ``images.py``, change tracking in
``tracking.py`` (whose clock the state gives each store). Nothing here knows about HTTP servers.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from airflow_provider_ecwid.testing import images, orders, tracking, variations
from airflow_provider_ecwid.testing.answers import Answer, EcwidFault, bad_request, not_found, rendered
from airflow_provider_ecwid.testing.store import (
    NUMBER,
    Store,
    check_fields,
    find_product,
    int_id,
    page_answer,
    product_view,
)

PRODUCT_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "sku": (str,),
    "name": (str,),
    "price": NUMBER,
    "compareToPrice": NUMBER,
    "costPrice": NUMBER,
    "quantity": (int,),
    "unlimited": (bool,),
    "enabled": (bool,),
    "categoryIds": (list,),
    "description": (str,),
    "weight": NUMBER,
    "isShippingRequired": (bool,),
    "attributes": (list,),
    "options": (list,),
    "tax": (dict,),
}
CATEGORY_FIELD_TYPES: dict[str, tuple[type, ...]] = {
    "name": (str,),
    "parentId": (int,),
    "enabled": (bool,),
    "orderBy": (int,),
    "productIds": (list,),
    "description": (str,),
}

#: Fields the store keeps itself: a body cannot set them.
TRACKED = tracking.TIMES | {"id"}

Handler = Callable[[Store, tuple[str, ...], dict[str, str], Any], Answer]

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


def _view(store: Store) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda product: product_view(store, product)


def _in_categories(store: Store, query: dict[str, str]) -> set[int]:
    """The category the search filters by, and its subcategories when ``includeProductsFromSubcategories``."""
    wanted = {int_id(query["category"], "Category")}
    if query.get("includeProductsFromSubcategories", "").lower() == "true":
        grew = True
        while grew:
            children = {cid for cid, item in store.categories.items() if item.get("parentId") in wanted}
            grew = not children <= wanted
            wanted |= children
    return wanted


def search_products(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    items = list(store.products.values())
    if query.get("sku"):  # a variation's SKU finds its product, as Ecwid's search may
        wanted = store.sku_index.get(query["sku"])
        if wanted is None and query["sku"] in store.variation_skus:
            wanted = store.variation_skus[query["sku"]][0]
        items = [store.products[wanted]] if wanted is not None else []
    if query.get("productId"):
        wanted_ids = {int_id(part.strip(), "Product") for part in query["productId"].split(",") if part.strip()}
        items = [item for item in items if item["id"] in wanted_ids]
    if query.get("category"):
        categories = _in_categories(store, query)
        items = [item for item in items if categories.intersection(item.get("categoryIds") or ())]
    if query.get("keyword"):
        word = query["keyword"].lower()
        items = [
            item
            for item in items
            if any(word in str(item.get(name, "")).lower() for name in ("name", "sku", "description"))
        ]
    if query.get("enabled") in ("true", "false"):
        items = [item for item in items if item.get("enabled") is (query["enabled"] == "true")]
    return page_answer(tracking.filter_and_sort(items, query), query, _view(store))


def latest_stats(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    return tracking.latest_stats(
        store.changes, query, len(store.products), len(store.categories), store.sales.orders.last_change
    )


def deleted_products(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    return page_answer(tracking.deleted_products(store.changes, query), query)


def get_product(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    return Answer(200, product_view(store, find_product(store, ids[0])))


def _product_fields(body: Any) -> dict[str, Any]:
    fields = check_fields(body, PRODUCT_FIELD_TYPES, "product")
    variations.check_options(fields.get("options"))
    return fields


def _sku_conflict(sku: str) -> EcwidFault:
    return EcwidFault(409, "SKU_ALREADY_EXISTS", f"The SKU {sku!r} is already used in the store")


def create_product(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    fields = _product_fields(body)
    sku = fields.get("sku") or ""
    if sku and store.sku_taken(sku):
        raise _sku_conflict(sku)
    product_id = store.new_id()
    product = {"enabled": False, **{k: copy.deepcopy(v) for k, v in fields.items() if k not in TRACKED}}
    product["id"] = product_id
    product["sku"] = sku or f"{product_id:08d}"
    store.changes.touch(product, created=True)
    store.products[product_id] = product
    store.sku_index[product["sku"]] = product_id
    return Answer(200, {"id": product_id})


def update_product(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    product = find_product(store, ids[0])
    fields = _product_fields(body)
    new_sku = fields.get("sku")
    if new_sku and new_sku != product["sku"]:
        if store.sku_taken(new_sku):
            raise _sku_conflict(new_sku)
        del store.sku_index[product["sku"]]
        store.sku_index[new_sku] = product["id"]
    product.update({name: copy.deepcopy(value) for name, value in fields.items() if name not in TRACKED})
    store.changes.touch(product)
    return Answer(200, {"updateCount": 1})


def delete_product(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    product = find_product(store, ids[0])
    del store.products[product["id"]]
    store.sku_index.pop(product["sku"], None)
    variations.forget_product(store, product["id"])
    store.changes.forget(product["id"])
    return Answer(200, {"deleteCount": 1})


def adjust_inventory(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    product = find_product(store, ids[0])
    if not isinstance(body, dict):
        raise bad_request("The inventory body must be a JSON object")
    delta = body.get("quantityDelta")
    if isinstance(delta, bool) or not isinstance(delta, int):
        raise bad_request("quantityDelta must be an integer")
    product["quantity"] = int(product.get("quantity") or 0) + delta
    store.changes.touch(product)
    return Answer(200, {"updateCount": 1})


# -- categories -------------------------------------------------------------------------------------------


def _category(store: Store, text_id: str) -> dict[str, Any]:
    category = store.categories.get(int_id(text_id, "Category"))
    if category is None:
        raise not_found(f"Category #{text_id} not found", "CATEGORY_NOT_FOUND")
    return category


def _category_fields(store: Store, body: Any, own_id: int | None) -> dict[str, Any]:
    """The body's fields; a parentId must name another category of the store that is not below this one."""
    fields = check_fields(body, CATEGORY_FIELD_TYPES, "category")
    parent = fields.get("parentId")
    if parent:  # 0 or absent: a top-level category
        ancestor: int | None = int(parent)
        while ancestor:
            if ancestor not in store.categories:
                raise bad_request(f"Parent category #{parent} not found")
            if ancestor == own_id:
                raise bad_request(f"Category #{own_id} cannot be placed below itself")
            ancestor = store.categories[ancestor].get("parentId")
    return fields


def search_categories(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    items = list(store.categories.values())
    if query.get("parent"):
        parent = int_id(query["parent"], "Parent category")
        items = [item for item in items if (item.get("parentId") or 0) == parent]
    return page_answer(items, query)


def get_category(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    return Answer(200, copy.deepcopy(_category(store, ids[0])))


def create_category(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    fields = _category_fields(store, body, None)
    if not fields.get("name"):
        raise bad_request("A category needs a name")
    category_id = store.new_id()
    store.categories[category_id] = {"enabled": True, **copy.deepcopy(fields), "id": category_id}
    store.changes.touch_categories()
    return Answer(200, {"id": category_id})


def update_category(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    category = _category(store, ids[0])
    fields = _category_fields(store, body, category["id"])
    category.update({k: copy.deepcopy(v) for k, v in fields.items() if k != "id"})
    store.changes.touch_categories()
    return Answer(200, {"updateCount": 1})


def delete_category(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    category = _category(store, ids[0])
    del store.categories[category["id"]]
    store.changes.touch_categories()
    return Answer(200, {"deleteCount": 1})


# -- routing ----------------------------------------------------------------------------------------------

_ID = r"([^/]+)"
_COMBINATION = "/products/{id}/combinations/{id}"
ROUTES: list[tuple[str, re.Pattern[str], str, Handler]] = [
    (method, re.compile(f"^{pattern}$"), endpoint, handler)
    for method, pattern, endpoint, handler in [
        ("GET", "/profile", "/profile", get_profile),
        ("GET", "/latest-stats", "/latest-stats", latest_stats),
        ("GET", "/products", "/products", search_products),
        ("GET", "/products/deleted", "/products/deleted", deleted_products),
        ("POST", "/products", "/products", create_product),
        ("GET", f"/products/{_ID}", "/products/{id}", get_product),
        ("PUT", f"/products/{_ID}", "/products/{id}", update_product),
        ("DELETE", f"/products/{_ID}", "/products/{id}", delete_product),
        ("PUT", f"/products/{_ID}/inventory", "/products/{id}/inventory", adjust_inventory),
        ("POST", f"/products/{_ID}/image", "/products/{id}/image", images.add_main_image),
        ("DELETE", f"/products/{_ID}/image", "/products/{id}/image", images.delete_main_image),
        ("POST", f"/products/{_ID}/gallery", "/products/{id}/gallery", images.add_gallery_image),
        ("DELETE", f"/products/{_ID}/gallery", "/products/{id}/gallery", images.delete_gallery),
        ("DELETE", f"/products/{_ID}/gallery/{_ID}", "/products/{id}/gallery/{id}", images.delete_gallery_image),
        ("GET", f"/products/{_ID}/combinations", "/products/{id}/combinations", variations.list_combinations),
        ("POST", f"/products/{_ID}/combinations", "/products/{id}/combinations", variations.create_combination),
        (
            "DELETE",
            f"/products/{_ID}/combinations",
            "/products/{id}/combinations",
            variations.delete_all_combinations,
        ),
        ("GET", f"/products/{_ID}/combinations/{_ID}", _COMBINATION, variations.get_combination),
        ("PUT", f"/products/{_ID}/combinations/{_ID}", _COMBINATION, variations.update_combination),
        ("DELETE", f"/products/{_ID}/combinations/{_ID}", _COMBINATION, variations.delete_combination),
        ("POST", f"/products/{_ID}/combinations/{_ID}/image", f"{_COMBINATION}/image", images.add_variation_image),
        (
            "DELETE",
            f"/products/{_ID}/combinations/{_ID}/image",
            f"{_COMBINATION}/image",
            images.delete_variation_image,
        ),
        ("GET", "/categories", "/categories", search_categories),
        ("POST", "/categories", "/categories", create_category),
        ("GET", f"/categories/{_ID}", "/categories/{id}", get_category),
        ("PUT", f"/categories/{_ID}", "/categories/{id}", update_category),
        ("DELETE", f"/categories/{_ID}", "/categories/{id}", delete_category),
        *orders.ROUTES,
    ]
]


__all__ = ["Store", "endpoint_of", "handle", "page_answer"]


def endpoint_of(path: str) -> str:
    """The endpoint pattern of a path (ids replaced by ``{id}``), for counters."""
    for _method, pattern, endpoint, _handler in ROUTES:
        if pattern.match(path):
            return endpoint
    return re.sub(r"/\d+", "/{id}", path)


def handle(store: Store, method: str, path: str, query: dict[str, str], body: Any, *, defer: bool = False) -> Answer:
    """
    Answer one request of the store's API (direct or from a batch).

    :param defer: leave a body that can be made later (a page of orders) unmade: a batch keeps it that way
        until its status is read. Otherwise every body is plain JSON data.
    """
    known_path = False
    for route_method, pattern, _endpoint, handler in ROUTES:
        match = pattern.match(path)
        if match is None:
            continue
        known_path = True
        if route_method == method:
            try:
                answer = handler(store, match.groups(), query, body)
            except EcwidFault as fault:
                return fault.answer
            return answer if defer else Answer(answer.status, rendered(answer.body), answer.headers)
    if known_path:
        return EcwidFault(405, "METHOD_NOT_ALLOWED", f"{method} is not allowed on {path}").answer
    return not_found(f"No such endpoint: {path}", "ENDPOINT_NOT_FOUND").answer
