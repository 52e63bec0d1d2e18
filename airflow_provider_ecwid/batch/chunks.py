"""Cutting requests into batches of at most 500, encoding them, and their deterministic deduplication keys.

An :class:`EncodedChunk` is what the client sends: the core makes one only from requests it checked (the plan's
chunks, a direct caller's requests in :func:`~.ready.checked_batch`), so the client sends it as it is.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Protocol

import msgspec

from airflow_provider_ecwid.batch.models import MAX_BATCH_SIZE
from airflow_provider_ecwid.errors import EcwidConfigError

#: Namespace of the provider's deduplication keys (any fixed UUID works; this one is ours).
DEDUPLICATION_NAMESPACE = uuid.UUID("8f1d8b8e-3b0f-4c59-9d0c-5e6a1f2d7c41")


def check_chunk_size(chunk_size: int) -> int:
    """Return ``chunk_size`` when it is a whole number in 1..500; a bigger one is an error, not a clamp."""
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or not 1 <= chunk_size <= MAX_BATCH_SIZE:
        raise EcwidConfigError(f"chunk_size must be a whole number from 1 to {MAX_BATCH_SIZE}, got {chunk_size!r}")
    return chunk_size


class _IdOnly(msgspec.Struct):
    id: str | None = None


_split_array = msgspec.json.Decoder(list[msgspec.Raw]).decode
_read_id = msgspec.json.Decoder(_IdOnly).decode
_read_ids = msgspec.json.Decoder(list[_IdOnly]).decode


def request_ids(payload: bytes) -> list[str | None]:
    """The id of each request of an encoded batch (None where one has none)."""
    return [item.id for item in _read_ids(payload)]


class _Target(msgspec.Struct):
    id: str | None = None
    method: str = ""
    path: str = ""


_read_targets = msgspec.json.Decoder(list[_Target]).decode


def request_targets(payload: bytes) -> dict[str, tuple[str, str]]:
    """Each request of an encoded batch by id: its method and path (what a results file names; no bodies)."""
    return {item.id: (item.method, item.path) for item in _read_targets(payload) if item.id is not None}


@dataclass(frozen=True)
class EncodedChunk:
    """
    One batch of checked requests, encoded: the one form in which requests reach Ecwid.

    Only the core makes these, from requests it checked; the client sends the payload as it is.

    :param index: the chunk's 0-based position in the submission.
    :param payload: the JSON array, encoded.
    :param size: how many requests it holds.
    :param first_row: the input position of its first request.
    """

    index: int
    payload: bytes
    size: int
    first_row: int

    def only(self, ids: set[str]) -> EncodedChunk:
        """
        The requests whose id is in ``ids``, each byte for byte as in this chunk (a batch sent again after a kill).

        :param ids: the ids to keep.
        """
        kept = [item for item in _split_array(self.payload) if _read_id(item).id in ids]
        return EncodedChunk(self.index, _array(kept), len(kept), self.first_row)


class RequestRows(Protocol):
    """A slice of requests that can hand out any run of them as encoded JSON objects."""

    def __len__(self) -> int: ...

    def fragment(self, start: int, stop: int) -> bytes | memoryview:
        """Requests ``start`` to ``stop - 1`` as JSON objects separated by commas (no brackets)."""
        ...


def first_requests(rows: RequestRows, count: int) -> list[bytes]:
    """The first ``count`` requests of a slice, each as the JSON object its batch will hold (the dry-run preview)."""
    return [bytes(rows.fragment(position, position + 1)) for position in range(min(count, len(rows)))]


def iter_chunks(slices: Iterable[RequestRows], chunk_size: int) -> Iterator[EncodedChunk]:
    """Regroup slices of requests (of any length) into encoded chunks of exactly ``chunk_size`` (the last less)."""
    check_chunk_size(chunk_size)
    pieces: list[bytes | memoryview] = []
    taken = index = first_row = 0
    for rows in slices:
        start = 0
        while start < len(rows):
            stop = min(start + chunk_size - taken, len(rows))
            pieces.append(rows.fragment(start, stop))
            taken += stop - start
            start = stop
            if taken == chunk_size:
                yield EncodedChunk(index, _array(pieces), taken, first_row)
                index, first_row, taken, pieces = index + 1, first_row + taken, 0, []
    if taken:
        yield EncodedChunk(index, _array(pieces), taken, first_row)


def _array(pieces: Sequence[bytes | memoryview | msgspec.Raw]) -> bytes:
    return b"".join((b"[", b",".join(pieces), b"]"))


def deduplication_key(identity: str, chunk: EncodedChunk) -> str:
    """
    A UUID that is the same for the same task run, chunk position and chunk content, and differs otherwise.

    :param identity: what identifies the task run (dag id, run id, task id, map index).
    :param chunk: the chunk.
    """
    digest = hashlib.sha256(chunk.payload).hexdigest()
    return str(uuid.uuid5(DEDUPLICATION_NAMESPACE, f"{identity}|{chunk.index}|{digest}"))
