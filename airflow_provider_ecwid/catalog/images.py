"""Image requests: only what changed since the images last sent (the image memory), a changed gallery replaced.

Per product: the main image (``POST /products/{id}/image?externalUrl=``, or its ``DELETE`` when the feed
drops it) and the gallery. A gallery is replaced, never appended to: ``DELETE /products/{id}/gallery`` and
then one ``POST …/gallery?externalUrl=`` per URL, in the feed's order (the images phase runs its requests in
order). Per variation: ``POST /products/{id}/combinations/{cid}/image?externalUrl=``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Set
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote

import pandas as pd

from airflow_provider_ecwid.catalog.feed_shape import FeedShape, gallery_urls, is_empty, text
from airflow_provider_ecwid.catalog.image_memory import ImageMemory, fingerprint
from airflow_provider_ecwid.catalog.request_ids import IMAGE_KINDS


@dataclass
class ImageGroup:
    """
    The requests that set one kind of image of one SKU, and what to remember once all of them completed.

    :param sku: the product's or variation's SKU.
    :param kind: ``main``, ``gallery`` or ``variation``.
    :param remember: the fingerprint to keep on success (None: nothing to remember, e.g. after a delete).
    :param requests: its batch requests, in order.
    """

    sku: str
    kind: str
    remember: str | None
    requests: list[dict[str, Any]] = field(default_factory=list)

    def add(self, method: str, path: str, step: int | str | None = None) -> None:
        request_id = IMAGE_KINDS[self.kind].make(self.sku, step)
        self.requests.append({"id": request_id, "method": method, "path": path})

    @property
    def request_ids(self) -> list[str]:
        return [str(request["id"]) for request in self.requests]


def _source(path: str, url: str) -> str:
    return f"{path}?externalUrl={quote(url, safe='')}"


@dataclass(frozen=True)
class ImagePlanner:
    """
    The image requests that differ from what was last sent, made group by group as they are read (the same
    ones at every read while the memory is unchanged), so that no phase holds every request at once.

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

    products: pd.DataFrame
    variations: pd.DataFrame
    shape: FeedShape
    product_ids: Mapping[str, int]
    variation_ids: Mapping[str, int]
    new_products: Set[str]
    memory: ImageMemory
    refresh: bool = False
    new_variations: Set[str] = frozenset()

    def groups(self) -> Iterator[ImageGroup]:
        """Every group to send, products first (main image, then gallery), then variations, in feed order."""
        shape, memory = self.shape, self.memory
        nothing = pd.Series(None, index=self.products.index, dtype=object)
        mains = self.products[shape.image_column] if shape.image_column else nothing
        galleries = self.products[shape.gallery_column] if shape.gallery_column else nothing
        for sku, main, gallery in zip(self.products["sku"], mains, galleries, strict=True):
            product_id = self.product_ids.get(sku)
            if product_id is None:
                continue
            base = f"/products/{product_id}"
            new = sku in self.new_products
            if shape.image_column:
                yield from _main(memory, sku, base, "" if is_empty(main) else text(main), self.refresh or new)
            if shape.gallery_column:
                yield from _gallery(memory, sku, base, gallery_urls(shape, gallery), self.refresh or new, new)
        if shape.image_column:
            yield from self._variation_groups()

    def _variation_groups(self) -> Iterator[ImageGroup]:
        column = self.variations[str(self.shape.image_column)]
        for sku, parent, url in zip(self.variations["sku"], self.variations["_parent"], column, strict=True):
            variation_id, product_id = self.variation_ids.get(sku), self.product_ids.get(parent)
            if is_empty(url) or variation_id is None or product_id is None:
                continue
            wanted = fingerprint(text(url))
            if self.refresh or sku in self.new_variations or self.memory.get(sku, "variation") != wanted:
                group = ImageGroup(sku, "variation", wanted)
                group.add("POST", _source(f"/products/{product_id}/combinations/{variation_id}/image", text(url)))
                yield group

    def requests(self) -> Iterator[dict[str, Any]]:
        """Every request, in order (a gallery: its delete, then its images one by one)."""
        for group in self.groups():
            yield from group.requests


def _main(memory: ImageMemory, sku: str, base: str, url: str, refresh: bool) -> Iterator[ImageGroup]:
    known = memory.get(sku, "main")
    if not url:
        if known is not None:  # the feed dropped the image: drop it in the store too
            group = ImageGroup(sku, "main", None)
            group.add("DELETE", f"{base}/image")
            yield group
        return
    wanted = fingerprint(url)
    if refresh or known != wanted:
        group = ImageGroup(sku, "main", wanted)
        group.add("POST", _source(f"{base}/image", url))
        yield group


def _gallery(
    memory: ImageMemory, sku: str, base: str, urls: list[str], refresh: bool, new: bool
) -> Iterator[ImageGroup]:
    known = memory.get(sku, "gallery")
    wanted = fingerprint(urls) if urls else None
    if not refresh and known == wanted:
        return
    if not urls and known is None:
        return
    group = ImageGroup(sku, "gallery", wanted)
    if not new:
        group.add("DELETE", f"{base}/gallery", "clear")
    for position, url in enumerate(urls, 1):
        group.add("POST", _source(f"{base}/gallery", url), position)
    yield group


def remember_images(memory: ImageMemory, groups: Iterable[ImageGroup], failed: set[str]) -> None:
    """Keep each group's fingerprint when all its requests completed, forget it otherwise; save the memory."""
    for group in groups:
        ok = not failed or not failed.intersection(group.request_ids)
        memory.remember(group.sku, group.kind, group.remember if ok else None)
    memory.save()
