"""What the last completed whole-catalog sync knew of a store: its products as read, its categories, and when the
store last changed (``GET /latest-stats``), so that the next run reads only what changed since.

One document per store, next to the image memory: ``catalog-<hash of the store id>.json`` (never the token), in
JSON lines, so that it is written and read a line at a time (a million-row catalog is never one JSON text in
memory):

- a header, ``{"version", "store", "body"}``, the body holding everything but the products;
- one line per product, ``<product id> <the product as compact JSON>``;
- a trailer, ``{"digest", "products"}``: a SHA-256 of every line before it, and how many products there are.

The products stay JSON text in memory too (``StoreSnapshot.products``), parsed one at a time where a phase needs
them. A document that is missing, unreadable, cut short, of another version, of another store or whose digest
does not match is not used: the sync reads the whole catalog instead. A sync in flight keeps what it read in
``catalog-<hash>.run-<run key>.json`` (a retried or resumed try finds it); it becomes the store's document once the
sync completes with no failed row.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field, fields
from datetime import datetime
from email.utils import parsedate_to_datetime
from itertools import chain
from typing import IO, Any

log = logging.getLogger(__name__)

FORMAT_VERSION = 2
Opener = Callable[[str, str], IO[Any]]


def store_key(store_id: str) -> str:
    """The store's name in file names: a hash of its id."""
    return hashlib.sha256(f"ecwid-store:{store_id}".encode()).hexdigest()[:16]


def snapshot_url(folder: str, store_id: str, run_key: str | None = None) -> str:
    """The store's document under ``folder`` (a path or URL); with ``run_key``, a sync in flight's."""
    suffix = f".run-{run_key}" if run_key else ""
    return f"{folder.rstrip('/')}/catalog-{store_key(store_id)}{suffix}.json"


def unix_time(text: str | None) -> int | None:
    """Ecwid's date text (``2026-12-05 23:10:02 +0000``) or an HTTP Date as UNIX seconds; None when unreadable."""
    if not text:
        return None
    try:
        return int(datetime.strptime(text.strip(), "%Y-%m-%d %H:%M:%S %z").timestamp())
    except ValueError:
        pass
    try:
        return int(parsedate_to_datetime(text).timestamp())
    except (TypeError, ValueError):
        return None


@dataclass
class StoreSnapshot:
    """
    What a sync knew of a store.

    :param store_id: the store.
    :param response_fields: what each product record holds (the feed's compared fields and the extras).
    :param products: product id (as text) -> the product as read (or as the sync's own writes left it), as compact
        JSON text (``catalog.diff.record_text``).
    :param products_updated: the store's ``productsUpdated`` when the products were known.
    :param server_time: the store's clock (HTTP Date) when ``products_updated`` was read.
    :param categories_updated: the store's ``categoriesUpdated`` then.
    :param category_count: how many categories the store had then (None: not known).
    :param category_paths: category path (joined) -> id (None: the feed had no categories).
    :param full_read_at: when (this machine's clock) the whole catalog was last read.
    """

    store_id: str
    response_fields: str
    products: dict[str, str] = field(default_factory=dict)
    products_updated: str = ""
    server_time: int | None = None
    categories_updated: str = ""
    category_count: int | None = None
    category_paths: dict[str, int] | None = None
    full_read_at: float = field(default_factory=time.time)

    def settled(self, overlap: float) -> bool:
        """Whether the store's clock had passed ``products_updated`` by ``overlap`` when it was read: then a later
        change, however coarse the store's timestamps, moves ``productsUpdated``."""
        updated = unix_time(self.products_updated)
        return updated is not None and self.server_time is not None and self.server_time - updated >= overlap

    def body(self) -> dict[str, Any]:
        """Everything but the products (the document's header)."""
        return {item.name: getattr(self, item.name) for item in fields(self) if item.name != "products"}


def save_snapshot(url: str, snapshot: StoreSnapshot, opener: Opener) -> None:
    """Write the document a line at a time (a local file through a temporary file and a rename)."""
    digest = hashlib.sha256()
    header = {"version": FORMAT_VERSION, "store": store_key(snapshot.store_id), "body": snapshot.body()}
    with opener(url, "w") as handle:
        lines = chain([json.dumps(header, separators=(",", ":"), default=str) + "\n"], _product_lines(snapshot))
        for line in lines:
            digest.update(line.encode())
            handle.write(line)
        handle.write(json.dumps({"digest": digest.hexdigest(), "products": len(snapshot.products)}) + "\n")
    log.info("Catalog memory %s saved: %s product(s)", url, f"{len(snapshot.products):,}")


def _product_lines(snapshot: StoreSnapshot) -> Iterator[str]:
    for key, text in snapshot.products.items():
        yield f"{key} {text}\n"


def load_snapshot(url: str, store_id: str, opener: Opener) -> tuple[StoreSnapshot | None, str]:
    """The document, or None and why it cannot be used."""
    try:
        with opener(url, "r") as handle:
            return _read(handle, store_id)
    except FileNotFoundError:
        return None, "there is no catalog memory yet"
    except (OSError, ValueError) as err:
        return None, f"the catalog memory is not readable ({type(err).__name__})"


def _read(handle: IO[Any], store_id: str) -> tuple[StoreSnapshot | None, str]:
    first = handle.readline()
    header = json.loads(first)
    if not isinstance(header, dict) or header.get("version") != FORMAT_VERSION:
        return None, f"the catalog memory is not a version-{FORMAT_VERSION} document"
    body = header.get("body")
    if header.get("store") != store_key(store_id) or not isinstance(body, dict):
        return None, "the catalog memory belongs to another store"
    digest = hashlib.sha256(first.encode())
    products: dict[str, str] = {}
    trailer: Any = None
    for line in handle:
        if line.startswith("{"):
            trailer = json.loads(line)
            break
        digest.update(line.encode())
        key, _, text = line.rstrip("\n").partition(" ")
        products[key] = text
    if not isinstance(trailer, dict) or trailer.get("products") != len(products):
        raise ValueError("the document was cut short")
    if trailer.get("digest") != digest.hexdigest():
        return None, "the catalog memory does not match its digest"
    try:
        snapshot = StoreSnapshot(**body, products=products)
    except TypeError:
        return None, "the catalog memory's body is not a snapshot"
    if snapshot.store_id != store_id:
        return None, "the catalog memory belongs to another store"
    return snapshot, ""
