"""What images the provider last sent to a store, per SKU: the store keeps no source URL, so the sync remembers.

One JSON document per store: ``{"version": 1, "store_id": ..., "skus": {sku: {kind: fingerprint}}}``, where
kind is ``main``, ``gallery`` (the ordered list of URLs) or ``variation``, and a fingerprint is a SHA-256 of
the URL(s). A fingerprint is written only after the store accepted every request of that kind for that SKU,
so an image that failed is sent again next time. The document lives at a path or URL of the user's choice
(local, ``file://``, or any ObjectStoragePath scheme such as ``s3://``), so a retried task, tomorrow's run and
another DAG syncing the same store all find it.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Callable, Sequence
from typing import IO, Any

log = logging.getLogger(__name__)

Opener = Callable[[str, str], IO[Any]]
FORMAT_VERSION = 1


def fingerprint(urls: str | Sequence[str]) -> str:
    """A SHA-256 of one URL or of an ordered list of URLs (an empty list has a fingerprint too)."""
    text = urls if isinstance(urls, str) else "\n".join(urls) + "\n[list]"
    return hashlib.sha256(text.encode()).hexdigest()


class ImageMemory:
    """
    Fingerprints of the images last sent, for one store.

    :param url: where the document lives (a path or URL; see :func:`memory_url`).
    :param store_id: the store it belongs to (checked when read).
    :param opener: ``opener(url, mode)`` opens the document for ``"r"`` or ``"w"`` (text); raises
        FileNotFoundError when it does not exist yet.
    """

    def __init__(self, url: str, store_id: int | str, opener: Opener) -> None:
        self.url = url
        self.store_id = str(store_id)
        self.opener = opener
        self.skus: dict[str, dict[str, str]] = {}
        self.changed = False

    def load(self) -> ImageMemory:
        try:
            with self.opener(self.url, "r") as handle:
                document = json.load(handle)
        except FileNotFoundError:
            log.info("No image memory at %s yet: every image of the feed counts as new", self.url)
            return self
        except json.JSONDecodeError as err:  # a write cut short: sending every image again is always safe
            log.warning("The image memory %s is not readable JSON (%s): every image counts as new", self.url, err)
            return self
        if not isinstance(document, dict) or document.get("version") != FORMAT_VERSION:
            raise ValueError(f"the image memory {self.url} is not a version-{FORMAT_VERSION} document")
        if str(document.get("store_id")) != self.store_id:
            raise ValueError(f"the image memory {self.url} belongs to store {document.get('store_id')}")
        self.skus = {str(sku): dict(kinds) for sku, kinds in (document.get("skus") or {}).items()}
        log.info("Image memory %s: %d SKU(s) remembered", self.url, len(self.skus))
        return self

    def get(self, sku: str, kind: str) -> str | None:
        return self.skus.get(sku, {}).get(kind)

    def remember(self, sku: str, kind: str, value: str | None) -> None:
        """Record what the store now has (None: unknown or nothing; the next run sends it again)."""
        kinds = self.skus.setdefault(sku, {})
        if value is None:
            self.changed |= kinds.pop(kind, None) is not None
        elif kinds.get(kind) != value:
            kinds[kind] = value
            self.changed = True
        if not kinds:
            del self.skus[sku]

    def save(self) -> None:
        if not self.changed:
            return
        document = {"version": FORMAT_VERSION, "store_id": self.store_id, "skus": self.skus}
        with self.opener(self.url, "w") as handle:
            json.dump(document, handle, separators=(",", ":"), sort_keys=True)
        self.changed = False
        log.info("Image memory %s saved: %d SKU(s)", self.url, len(self.skus))


def memory_url(base: str, store_id: int | str) -> str:
    """The store's document under ``base`` (a folder path or URL): ``<base>/store-<id>.json``."""
    return f"{base.rstrip('/')}/store-{store_id}.json"
