"""What the last completed whole-catalog sync knew of a store: its products as read, its categories, and when the
store last changed (``GET /latest-stats``), so that the next run reads only what changed since.

One JSON document per store, next to the image memory: ``catalog-<hash of the store id>.json`` (never the token),
``{"version", "store", "digest", "body"}``, where ``digest`` is a SHA-256 of the body's canonical JSON. A document
that is missing, unreadable, of another version, of another store or whose digest does not match is not used: the
sync reads the whole catalog instead. A sync in flight keeps what it read in ``catalog-<hash>.run-<run key>.json``
(a retried or resumed try finds it); it becomes the store's document once the sync completes with no failed row.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import IO, Any

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
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
    :param products: product id (as text) -> the product as read (or as the sync's own writes left it).
    :param products_updated: the store's ``productsUpdated`` when the products were known.
    :param server_time: the store's clock (HTTP Date) when ``products_updated`` was read.
    :param categories_updated: the store's ``categoriesUpdated`` then.
    :param category_count: how many categories the store had then (None: not known).
    :param category_paths: category path (joined) -> id (None: the feed had no categories).
    :param full_read_at: when (this machine's clock) the whole catalog was last read.
    """

    store_id: str
    response_fields: str
    products: dict[str, dict[str, Any]] = field(default_factory=dict)
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


def _digest(body: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(body, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def save_snapshot(url: str, snapshot: StoreSnapshot, opener: Opener) -> None:
    """Write the document whole (a local file through a temporary file and a rename)."""
    body = asdict(snapshot)
    document = {"version": FORMAT_VERSION, "store": store_key(snapshot.store_id), "digest": _digest(body), "body": body}
    with opener(url, "w") as handle:
        json.dump(document, handle, separators=(",", ":"), default=str)
    log.info("Catalog memory %s saved: %s product(s)", url, f"{len(snapshot.products):,}")


def load_snapshot(url: str, store_id: str, opener: Opener) -> tuple[StoreSnapshot | None, str]:
    """The document, or None and why it cannot be used."""
    try:
        with opener(url, "r") as handle:
            document = json.load(handle)
    except FileNotFoundError:
        return None, "there is no catalog memory yet"
    except (OSError, ValueError) as err:
        return None, f"the catalog memory is not readable ({type(err).__name__})"
    if not isinstance(document, dict) or document.get("version") != FORMAT_VERSION:
        return None, f"the catalog memory is not a version-{FORMAT_VERSION} document"
    body = document.get("body")
    if document.get("store") != store_key(store_id) or not isinstance(body, dict):
        return None, "the catalog memory belongs to another store"
    if document.get("digest") != _digest(body):
        return None, "the catalog memory does not match its digest"
    try:
        snapshot = StoreSnapshot(**body)
    except TypeError:
        return None, "the catalog memory's body is not a snapshot"
    if snapshot.store_id != store_id:
        return None, "the catalog memory belongs to another store"
    return snapshot, ""
