"""The whole-catalog sync's progress, kept small: its large parts in one file per save, the rest in the record.

What crosses a deferral (XCom) and a retry (the task state store) is the *record*: the step, the counts, the run
key, the state-store keys, the feed's digest, the pending phase's name and tickets, and ``spill``: the path and
SHA-256 digest of a file that holds the rest (the id maps, the SKU sets, the pending phase's expectations, SKUs
and targets, the failures listed and the outcomes), whatever the catalog's size. The file is gzip'd
JSON, ``progress-<run key>-<digest>.json.gz`` in the image-memory folder (a local path, ``file://`` or any
ObjectStoragePath URL), written whole (a local file through a temporary file and a rename). Each save writes
one, and the one before is deleted once the record names the new one; the sync's end deletes the last.

A record whose file is missing, unreadable or does not match its digest is never planned on: :meth:`load`
raises :class:`EcwidProgressLostError`, and the sync starts over (it reads the store again; what the lost progress
sent is then in the store, and is not sent again).
"""

from __future__ import annotations

import gzip
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from airflow_provider_ecwid.catalog.progress import Pending, SyncProgress
from airflow_provider_ecwid.catalog.store_memory import Opener
from airflow_provider_ecwid.errors import EcwidProgressLostError
from airflow_provider_ecwid.tickets.state import StateStore

log = logging.getLogger(__name__)

#: The progress's parts that grow with the catalog: in the file, not in the record.
SPILLED = (
    "category_ids",
    "product_ids",
    "created_products",
    "options_stale",
    "variation_requests",
    "variation_ids",
    "new_variations",
    "blocked",
    "failed",
    "outcomes",
)
#: The pending phase's parts that grow with it (its name and tickets stay in the record).
PENDING_SPILLED = ("expected", "skus", "targets")
#: gzip's level: most of the size gone for a fraction of level 9's time.
LEVEL = 5


def _values(instance: Any) -> dict[str, Any]:
    """A dataclass's fields, not copied (``asdict`` copies every nested value: seconds at this size)."""
    return {item.name: getattr(instance, item.name) for item in fields(instance)}


def split(progress: SyncProgress) -> tuple[dict[str, Any], dict[str, Any]]:
    """The progress as its record (small, a copy of its own) and its large parts (the progress's own values)."""
    values = _values(progress)
    large = {name: values.pop(name) for name in SPILLED}
    pending = values.pop("pending")
    if pending is not None:
        pending_values = _values(pending)
        large["pending"] = {name: pending_values.pop(name) for name in PENDING_SPILLED}
        values["pending"] = pending_values
    values["state_keys"] = pack(values["state_keys"])
    record: dict[str, Any] = json.loads(json.dumps(values))
    return record, large


def join(record: dict[str, Any], large: dict[str, Any]) -> SyncProgress:
    """The progress again, from its record and its large parts (see :func:`split`)."""
    values = {key: value for key, value in record.items() if key != "spill"}
    values.update({name: large[name] for name in SPILLED})
    values["state_keys"] = unpack(values["state_keys"])
    pending = values.pop("pending", None)
    progress = SyncProgress.from_json(values)
    if pending is not None:
        progress.pending = Pending(**pending, **large["pending"])
    return progress


def pack(keys: list[str]) -> list[list[Any]]:
    """State-store keys, their shared heads written once: ``[[head, [tails]], ...]`` (order kept)."""
    packed: list[list[Any]] = []
    for key in keys:
        head, _, tail = key.rpartition(":")
        if packed and packed[-1][0] == head:
            packed[-1][1].append(tail)
        else:
            packed.append([head, [tail]])
    return packed


def unpack(packed: list[list[Any]]) -> list[str]:
    """The keys :func:`pack` packed."""
    return [f"{head}:{tail}" if head else str(tail) for head, tails in packed for tail in tails]


@dataclass
class ProgressFiles:
    """
    Writes and reads the progress's large parts, one file per save, and deletes the ones no record names.

    :param folder: where the files go (the image-memory folder: a path or URL).
    :param opener: opens a path or URL (``"rb"`` or ``"wb"``; ``runtime.storage.open_url``).
    :param remove: deletes a path or URL (one that is gone already is fine).
    """

    folder: str
    opener: Opener
    remove: Callable[[str], None]
    known: list[str] = field(default_factory=list)

    def url(self, run_key: str, digest: str) -> str:
        return f"{self.folder.rstrip('/')}/progress-{run_key}-{digest[:16]}.json.gz"

    def save(self, progress: SyncProgress) -> dict[str, Any]:
        """Write the large parts; return the record that names their file."""
        record, large = split(progress)
        data = gzip.compress(json.dumps(large, separators=(",", ":")).encode(), compresslevel=LEVEL, mtime=0)
        digest = hashlib.sha256(data).hexdigest()
        url = self.url(progress.run_key, digest)
        with self.opener(url, "wb") as handle:
            handle.write(data)
        self._note(url)
        log.debug("Progress file %s: %s bytes", url, f"{len(data):,}")
        record["spill"] = {"path": url, "digest": digest}
        return record

    def load(self, record: dict[str, Any]) -> SyncProgress:
        """The progress a record names; :class:`EcwidProgressLostError` when its file is not the one written."""
        spill = record.get("spill")
        if not isinstance(spill, dict) or not spill.get("path"):
            raise EcwidProgressLostError("The sync's progress record names no progress file")
        url, digest = str(spill["path"]), str(spill.get("digest"))
        try:
            with self.opener(url, "rb") as handle:
                data = handle.read()
        except OSError as err:
            raise EcwidProgressLostError(f"The sync's progress file {url} is missing or unreadable ({err})") from err
        if hashlib.sha256(data).hexdigest() != digest:
            raise EcwidProgressLostError(f"The sync's progress file {url} does not match its digest")
        try:
            progress = join(record, json.loads(gzip.decompress(data)))
        except (OSError, EOFError, ValueError, KeyError, TypeError) as err:
            raise EcwidProgressLostError(f"The sync's progress file {url} is not a progress file ({err})") from err
        self._note(url)
        return progress

    def prune(self) -> None:
        """Delete the files before the newest (call once the record that names the newest is kept)."""
        for url in self.known[:-1]:
            self.discard(url)
        self.known[:-1] = []

    def clear(self) -> None:
        """Delete every file of the sync (it ended)."""
        for url in self.known:
            self.discard(url)
        self.known.clear()

    def discard(self, url: str) -> None:
        try:
            self.remove(url)
        except OSError as err:  # a file left behind costs space, not correctness
            log.warning("Could not delete the progress file %s: %s", url, err)

    def _note(self, url: str) -> None:
        if url in self.known:
            self.known.remove(url)
        self.known.append(url)


def load_record(record: dict[str, Any], files: ProgressFiles | None) -> SyncProgress:
    """The progress a record holds (a record without a file) or names (:class:`EcwidProgressLostError`: it is lost)."""
    if "spill" not in record:
        return SyncProgress.from_json(record)
    if files is None:
        raise EcwidProgressLostError("The sync's progress record names a file, and this run has no progress files")
    return files.load(record)


def abandon(record: dict[str, Any], state: StateStore | None, files: ProgressFiles | None) -> None:
    """A lost sync's traces: its state-store keys (its chunks' tickets are not taken for a new sync's), its file."""
    if state is not None:
        for key in unpack(record.get("state_keys") or []):
            state.delete(key)
    spill = record.get("spill")
    if files is not None and isinstance(spill, dict) and spill.get("path"):
        files.discard(str(spill["path"]))
