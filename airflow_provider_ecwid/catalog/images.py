"""Image requests: only what changed since the images last sent (the image memory), a changed gallery replaced.

Per product: the main image (``POST /products/{id}/image?externalUrl=``, or its ``DELETE`` when the feed
drops it) and the gallery. A gallery is replaced, never appended to: ``DELETE /products/{id}/gallery`` and
then one ``POST …/gallery?externalUrl=`` per URL, in the feed's order (the images phase runs its requests in
order). Per variation: ``POST /products/{id}/combinations/{cid}/image?externalUrl=``.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pandas as pd

from airflow_provider_ecwid.catalog.feed_shape import FeedShape, is_empty, text
from airflow_provider_ecwid.catalog.image_memory import ImageMemory, fingerprint


@dataclass
class ImageGroup:
    """
    The requests that set one kind of image of one SKU, and what to remember once all of them completed.

    :param sku: the product's or variation's SKU.
    :param kind: ``main``, ``gallery`` or ``variation``.
    :param remember: the fingerprint to keep on success (None: nothing to remember, e.g. after a delete).
    :param request_ids: the ids of its requests.
    """

    sku: str
    kind: str
    remember: str | None
    request_ids: list[str] = field(default_factory=list)


@dataclass
class ImagePlan:
    """The image requests of one sync, in order, grouped per SKU and kind."""

    requests: list[dict[str, Any]] = field(default_factory=list)
    groups: list[ImageGroup] = field(default_factory=list)

    def add(self, group: ImageGroup, method: str, path: str, suffix: str = "") -> None:
        request_id = f"{group.kind}-image:{group.sku}{suffix}"
        group.request_ids.append(request_id)
        self.requests.append({"id": request_id, "method": method, "path": path})


def _source(path: str, url: str) -> str:
    return f"{path}?externalUrl={quote(url, safe='')}"


def plan_images(
    products: pd.DataFrame,
    variations: pd.DataFrame,
    shape: FeedShape,
    *,
    product_ids: Mapping[str, int],
    variation_ids: Mapping[str, int],
    new_products: set[str],
    memory: ImageMemory,
    refresh: bool = False,
    new_variations: set[str] | None = None,
) -> ImagePlan:
    """
    The image requests that differ from what was last sent.

    :param products: the product rows (``sku``, image columns).
    :param variations: the variation rows (``sku``, ``_parent``, the image column).
    :param shape: the feed's column roles.
    :param product_ids: product SKU -> id.
    :param variation_ids: variation SKU -> its id in the store.
    :param new_products: SKUs created by this sync: they have no image yet, whatever the memory says (a store
        emptied behind the memory's back), and no gallery to clear.
    :param memory: what was last sent.
    :param refresh: send every image again, whatever the memory says.
    :param new_variations: variation SKUs created by this sync (they have no image yet either).
    """
    plan = ImagePlan()
    nothing = pd.Series(None, index=products.index, dtype=object)
    mains = products[shape.image_column] if shape.image_column else nothing
    galleries = products[shape.gallery_column] if shape.gallery_column else nothing
    for sku, main, gallery in zip(products["sku"], mains, galleries, strict=True):
        product_id = product_ids.get(sku)
        if product_id is None:
            continue
        base = f"/products/{product_id}"
        new = sku in new_products
        if shape.image_column:
            _main(plan, memory, sku, base, "" if is_empty(main) else text(main), refresh or new)
        if shape.gallery_column:
            _gallery(plan, memory, sku, base, shape.gallery(gallery), refresh or new, new)
    if shape.image_column:
        for sku, parent, url in zip(
            variations["sku"], variations["_parent"], variations[shape.image_column], strict=True
        ):
            variation_id, product_id = variation_ids.get(sku), product_ids.get(parent)
            if is_empty(url) or variation_id is None or product_id is None:
                continue
            wanted = fingerprint(text(url))
            if refresh or sku in (new_variations or ()) or memory.get(sku, "variation") != wanted:
                group = ImageGroup(sku, "variation", wanted)
                plan.add(group, "POST", _source(f"/products/{product_id}/combinations/{variation_id}/image", text(url)))
                plan.groups.append(group)
    return plan


def _main(plan: ImagePlan, memory: ImageMemory, sku: str, base: str, url: str, refresh: bool) -> None:
    known = memory.get(sku, "main")
    if not url:
        if known is not None:  # the feed dropped the image: drop it in the store too
            group = ImageGroup(sku, "main", None)
            plan.add(group, "DELETE", f"{base}/image")
            plan.groups.append(group)
        return
    wanted = fingerprint(url)
    if refresh or known != wanted:
        group = ImageGroup(sku, "main", wanted)
        plan.add(group, "POST", _source(f"{base}/image", url))
        plan.groups.append(group)


def _gallery(
    plan: ImagePlan, memory: ImageMemory, sku: str, base: str, urls: list[str], refresh: bool, new: bool
) -> None:
    known = memory.get(sku, "gallery")
    wanted = fingerprint(urls) if urls else None
    if not refresh and known == wanted:
        return
    if not urls and known is None:
        return
    group = ImageGroup(sku, "gallery", wanted)
    if not new:
        plan.add(group, "DELETE", f"{base}/gallery", ":clear")
    for position, url in enumerate(urls, 1):
        plan.add(group, "POST", _source(f"{base}/gallery", url), f":{position}")
    plan.groups.append(group)


def remember_images(memory: ImageMemory, groups: Iterable[ImageGroup], failed: set[str]) -> None:
    """Keep each group's fingerprint when all its requests completed, forget it otherwise; save the memory."""
    for group in groups:
        ok = not failed.intersection(group.request_ids)
        memory.remember(group.sku, group.kind, group.remember if ok else None)
    memory.save()
