"""One emulated store's memory, the checks every catalog handler shares, and what the store answers back.

The store keeps each image's source URL (``externalUrl``) only so that tests can see what was sent, through
the emulator's inspection API: like Ecwid, no API answer ever shows it again; answers carry CDN URLs.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_ecwid.testing.answers import Answer, bad_request, not_found
from airflow_provider_ecwid.testing.fields import parse_response_fields, trim
from airflow_provider_ecwid.testing.sales import Sales
from airflow_provider_ecwid.testing.tracking import ChangeLog

MAX_PAGE = 100
NUMBER = (int, float)
NON_NEGATIVE = frozenset({"price", "compareToPrice", "costPrice", "weight"})
CDN = "https://images.ecwid-emulator.example"


@dataclass
class Image:
    """
    One image the store copied from a URL.

    :param id: the image's id in the store.
    :param source: the URL it came from (never shown by the API; for the inspection API only).
    :param cdn_url: where the store serves its copy.
    """

    id: int
    source: str
    cdn_url: str


@dataclass
class ProductImages:
    """A product's main image, its gallery in order, and its variations' images."""

    main: Image | None = None
    gallery: list[Image] = field(default_factory=list)
    variations: dict[int, Image] = field(default_factory=dict)


@dataclass
class Store:
    """
    One emulated store.

    :param store_id: the store's numeric id.
    :param name: the store's name, shown in the profile.
    :param changes: when its catalog changed (``GET /latest-stats``, timestamps, deletions).
    :param sales: its orders and customers.
    """

    store_id: int
    name: str = "Emulated store"
    products: dict[int, dict[str, Any]] = field(default_factory=dict)
    categories: dict[int, dict[str, Any]] = field(default_factory=dict)
    combinations: dict[int, dict[int, dict[str, Any]]] = field(default_factory=dict)
    images: dict[int, ProductImages] = field(default_factory=dict)
    #: product SKU -> product id, and variation SKU -> (product id, combination id): one SKU space for both
    sku_index: dict[str, int] = field(default_factory=dict)
    variation_skus: dict[str, tuple[int, int]] = field(default_factory=dict)
    next_id: int = 100_000_001
    changes: ChangeLog = field(default_factory=ChangeLog)
    sales: Sales = field(default_factory=lambda: Sales(ChangeLog().stamp))

    def new_id(self) -> int:
        self.next_id += 1
        return self.next_id

    def sku_taken(self, sku: str) -> bool:
        return sku in self.sku_index or sku in self.variation_skus

    def new_image(self, source: str) -> Image:
        image_id = self.new_id()
        suffix = source.rsplit(".", 1)[-1].lower() if "." in source.rsplit("/", 1)[-1] else "jpg"
        return Image(image_id, source, f"{CDN}/{self.store_id}/{image_id}.{suffix}")

    def images_of(self, product_id: int) -> ProductImages:
        return self.images.setdefault(product_id, ProductImages())


def check_fields(body: Any, types: dict[str, tuple[type, ...]], what: str) -> dict[str, Any]:
    """The body as a dict whose known fields have Ecwid's types; raise a 400 otherwise."""
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
        if name in NON_NEGATIVE and isinstance(value, int | float) and value < 0:
            raise bad_request(f"Field {name!r} of the {what} must not be negative")
    return body


def int_id(text: str, what: str) -> int:
    if not text.isdigit():
        raise bad_request(f"{what} id must be a number, got {text!r}")
    return int(text)


def find_product(store: Store, text_id: str) -> dict[str, Any]:
    product = store.products.get(int_id(text_id, "Product"))
    if product is None:
        raise not_found(f"Product #{text_id} not found", "PRODUCT_NOT_FOUND")
    return product


def find_combination(store: Store, product_text_id: str, text_id: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """The product and its combination (variation), or a 404."""
    product = find_product(store, product_text_id)
    combination = store.combinations.get(product["id"], {}).get(int_id(text_id, "Variation"))
    if combination is None:
        raise not_found(f"Variation #{text_id} of product #{product['id']} not found", "COMBINATION_NOT_FOUND")
    return product, combination


def paging(query: dict[str, str]) -> tuple[int, int]:
    """A search's ``offset`` and ``limit`` (default and at most 100); a 400 when they are not whole numbers."""
    try:
        offset = int(query.get("offset", "0") or 0)
        limit = int(query.get("limit", str(MAX_PAGE)) or MAX_PAGE)
    except ValueError:
        raise bad_request("offset and limit must be integers") from None
    if offset < 0 or limit < 0:
        raise bad_request("offset and limit must not be negative")
    return offset, min(limit, MAX_PAGE)


def page_answer(
    items: list[dict[str, Any]],
    query: dict[str, str],
    view: Callable[[dict[str, Any]], dict[str, Any]] = copy.deepcopy,
) -> Answer:
    """
    One page of ``items`` as Ecwid answers a search: total, count, offset, limit, items (trimmed if asked).

    :param items: everything the search found.
    :param query: the query parameters (``offset``, ``limit``, ``responseFields``).
    :param view: how one item is answered (a copy by default); applied to the page's items only.
    """
    offset, limit = paging(query)
    chosen = items[offset : offset + limit]
    answer: dict[str, Any] = {
        "total": len(items),
        "count": len(chosen),
        "offset": offset,
        "limit": limit,
        "items": [view(item) for item in chosen],
    }
    if query.get("responseFields"):
        answer = trim(answer, parse_response_fields(query["responseFields"]))
    return Answer(200, answer)


def _image_urls(image: Image) -> dict[str, str]:
    return {"imageUrl": image.cdn_url, "originalImageUrl": image.cdn_url, "thumbnailUrl": image.cdn_url}


def combination_view(store: Store, product_id: int, combination: dict[str, Any]) -> dict[str, Any]:
    """A combination as the store answers it: its fields and, if it has one, its image's CDN URLs."""
    view = copy.deepcopy(combination)
    image = store.images.get(product_id, ProductImages()).variations.get(combination["id"])
    if image is not None:
        view.update(_image_urls(image))
    return view


def product_view(store: Store, product: dict[str, Any]) -> dict[str, Any]:
    """
    A product as the store answers it: its fields, then (when it has any) its combinations and its images by
    their CDN URLs; never the URL an image came from.
    """
    view = copy.deepcopy(product)
    product_id = product["id"]
    combinations = store.combinations.get(product_id)
    if combinations:
        view["combinations"] = [combination_view(store, product_id, item) for item in combinations.values()]
    images = store.images.get(product_id)
    if images is None or (images.main is None and not images.gallery):
        return view
    media: list[dict[str, Any]] = []
    if images.main is not None:
        view.update(_image_urls(images.main))
        view["originalImage"] = {"id": images.main.id, "url": images.main.cdn_url}
        media.append({"id": str(images.main.id), "isMain": True, "orderBy": 0, "imageOriginalUrl": images.main.cdn_url})
    if images.gallery:
        view["galleryImages"] = [
            {"id": image.id, "url": image.cdn_url, "thumbnail": image.cdn_url, "orderBy": position}
            for position, image in enumerate(images.gallery, 1)
        ]
    media += [
        {"id": str(image.id), "isMain": False, "orderBy": position, "imageOriginalUrl": image.cdn_url}
        for position, image in enumerate(images.gallery, 1)
    ]
    view["media"] = {"images": media}
    return view
