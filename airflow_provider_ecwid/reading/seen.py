"""The ids an export has written, held as 8-byte fingerprints in sorted arrays: a million ids cost 8 MB.

An export writes each item once. Ids are text (an order's ``MYSTORE-X8UYE``) or numbers; each is reduced to a
64-bit fingerprint, kept in a small set until it holds :data:`MERGE_EVERY`, then merged into one sorted array.
Two ids sharing a fingerprint among a million is about one chance in 36 billion.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np

#: Fingerprints held in a set before they are merged into the sorted array.
MERGE_EVERY = 50_000


def fingerprint(item_id: object) -> int:
    """A stable signed 64-bit fingerprint of an id (the same in every process)."""
    digest = hashlib.blake2b(str(item_id).encode("utf-8", "surrogatepass"), digest_size=8).digest()
    return int.from_bytes(digest, "little", signed=True)


class SeenIds:
    """The ids written so far; :meth:`add_new` keeps the unseen ones of a page."""

    def __init__(self) -> None:
        self._sorted = np.empty(0, dtype=np.int64)
        self._recent: set[int] = set()

    def __len__(self) -> int:
        return len(self._sorted) + len(self._recent)

    def __contains__(self, item_id: object) -> bool:
        mark = fingerprint(item_id)
        return mark in self._recent or bool(self._in_sorted(np.array([mark], dtype=np.int64))[0])

    def add_new(self, ids: Iterable[object]) -> list[bool]:
        """For each id, whether it is new; the new ones are added (a repeat within ``ids`` is not new)."""
        prints = [fingerprint(item_id) for item_id in ids]
        known = self._in_sorted(np.array(prints, dtype=np.int64)) if prints else np.empty(0, dtype=bool)
        new = []
        for mark, old in zip(prints, known.tolist(), strict=True):
            is_new = not old and mark not in self._recent
            if is_new:
                self._recent.add(mark)
            new.append(is_new)
        if len(self._recent) >= MERGE_EVERY:
            self._merge()
        return new

    def _in_sorted(self, prints: np.ndarray) -> np.ndarray:
        if not len(self._sorted):
            return np.zeros(len(prints), dtype=bool)
        where = np.searchsorted(self._sorted, prints).clip(max=len(self._sorted) - 1)
        found: np.ndarray = self._sorted[where] == prints
        return found

    def _merge(self) -> None:
        recent = np.fromiter(self._recent, dtype=np.int64, count=len(self._recent))
        self._sorted = np.union1d(self._sorted, recent)
        self._recent.clear()
