"""Images by URL: a product's main image, its gallery, a variation's image.

Ecwid copies the image from ``externalUrl`` to its CDN. The emulator fetches nothing: a URL whose host is
under ``.invalid`` (e.g. ``https://missing.invalid/a.jpg``) stands for a source that cannot be fetched
(404 at the source, not an image, too large) and answers 400 as Ecwid does; any other http(s) URL works.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from airflow_provider_ecwid.testing.answers import Answer, EcwidFault, bad_request, not_found
from airflow_provider_ecwid.testing.store import Image, Store, find_combination, find_product, int_id


def fetch(store: Store, query: dict[str, str]) -> Image:
    """The image at ``externalUrl``, as the store would copy it; a 400 when the URL cannot be fetched."""
    url = query.get("externalUrl", "")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise bad_request("externalUrl must be an http(s) URL of a JPG, PNG or GIF image")
    if parts.hostname.endswith(".invalid") or parts.hostname == "invalid":
        raise EcwidFault(400, "IMAGE_UPLOAD_FAILED", f"Could not download an image from {url}")
    return store.new_image(url)


def add_main_image(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    product = find_product(store, ids[0])
    image = fetch(store, query)
    store.images_of(product["id"]).main = image
    store.changes.touch_nested(product)
    return Answer(200, {"id": image.id})


def delete_main_image(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    product = find_product(store, ids[0])
    images = store.images_of(product["id"])
    had = images.main is not None
    images.main = None
    store.changes.touch_nested(product)
    return Answer(200, {"deleteCount": int(had)})


def add_gallery_image(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    product = find_product(store, ids[0])
    image = fetch(store, query)
    store.images_of(product["id"]).gallery.append(image)
    store.changes.touch_nested(product)
    return Answer(200, {"id": image.id})


def delete_gallery_image(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    product = find_product(store, ids[0])
    images = store.images_of(product["id"])
    image_id = int_id(ids[1], "Gallery image")
    kept = [image for image in images.gallery if image.id != image_id]
    if len(kept) == len(images.gallery):
        raise not_found(f"Gallery image #{image_id} not found", "IMAGE_NOT_FOUND")
    images.gallery = kept
    store.changes.touch_nested(product)
    return Answer(200, {"deleteCount": 1})


def delete_gallery(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    product = find_product(store, ids[0])
    images = store.images_of(product["id"])
    count = len(images.gallery)
    images.gallery = []
    store.changes.touch_nested(product)
    return Answer(200, {"deleteCount": count})


def add_variation_image(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    product, combination = find_combination(store, ids[0], ids[1])
    image = fetch(store, query)
    store.images_of(product["id"]).variations[combination["id"]] = image
    store.changes.touch_nested(product)
    return Answer(200, {"id": image.id})


def delete_variation_image(store: Store, ids: tuple[str, ...], query: dict[str, str], body: Any) -> Answer:
    product, combination = find_combination(store, ids[0], ids[1])
    had = store.images_of(product["id"]).variations.pop(combination["id"], None) is not None
    store.changes.touch_nested(product)
    return Answer(200, {"deleteCount": int(had)})


def sources(store: Store) -> list[dict[str, Any]]:
    """What each image was copied from (the inspection API's view; Ecwid's API never shows it)."""
    rows: list[dict[str, Any]] = []
    for product_id, images in store.images.items():
        sku = store.products[product_id]["sku"] if product_id in store.products else None
        placed = [("main", 0, images.main)] if images.main is not None else []
        placed += [("gallery", position, image) for position, image in enumerate(images.gallery, 1)]
        for kind, position, image in placed:
            rows.append({"sku": sku, "productId": product_id, "kind": kind, "position": position, "url": image.source})
        for combination_id, image in images.variations.items():
            combination = store.combinations.get(product_id, {}).get(combination_id, {})
            rows.append(
                {
                    "sku": combination.get("sku"),
                    "productId": product_id,
                    "combinationId": combination_id,
                    "kind": "variation",
                    "position": 0,
                    "url": image.source,
                }
            )
    return rows
