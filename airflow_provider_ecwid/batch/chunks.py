"""Cutting requests into batches of at most 500, encoding them, and their deterministic deduplication keys."""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from airflow_provider_ecwid.batch.models import MAX_BATCH_SIZE
from airflow_provider_ecwid.batch.wire import WireRequest, encode
from airflow_provider_ecwid.errors import EcwidConfigError

#: Namespace of the provider's deduplication keys (any fixed UUID works; this one is ours).
DEDUPLICATION_NAMESPACE = uuid.UUID("8f1d8b8e-3b0f-4c59-9d0c-5e6a1f2d7c41")


def check_chunk_size(chunk_size: int) -> int:
    """Return ``chunk_size`` when it is a whole number in 1..500; a bigger one is an error, not a clamp."""
    if isinstance(chunk_size, bool) or not isinstance(chunk_size, int) or not 1 <= chunk_size <= MAX_BATCH_SIZE:
        raise EcwidConfigError(f"chunk_size must be a whole number from 1 to {MAX_BATCH_SIZE}, got {chunk_size!r}")
    return chunk_size


@dataclass(frozen=True)
class EncodedChunk:
    """
    One batch, ready to send.

    :param index: the chunk's 0-based position in the submission.
    :param payload: the JSON array, encoded.
    :param request_ids: the ids of its requests, in order.
    :param first_row: the input position of its first request.
    """

    index: int
    payload: bytes
    request_ids: list[str]
    first_row: int

    @property
    def size(self) -> int:
        return len(self.request_ids)


def iter_chunks(slices: Iterable[list[WireRequest]], chunk_size: int) -> Iterator[EncodedChunk]:
    """Regroup slices of requests (of any length) into encoded chunks of exactly ``chunk_size`` (the last less)."""
    check_chunk_size(chunk_size)
    pending: list[WireRequest] = []
    index = 0
    first_row = 0
    for requests in slices:
        if pending:  # top up the carried-over part first
            take = chunk_size - len(pending)
            pending.extend(requests[:take])
            requests = requests[take:]
            if len(pending) < chunk_size:
                continue
            yield EncodedChunk(index, encode(pending), [request.id for request in pending], first_row)
            index, first_row, pending = index + 1, first_row + chunk_size, []
        whole = len(requests) - len(requests) % chunk_size
        for start in range(0, whole, chunk_size):
            chunk = requests[start : start + chunk_size]
            yield EncodedChunk(index, encode(chunk), [request.id for request in chunk], first_row)
            index, first_row = index + 1, first_row + chunk_size
        pending = requests[whole:]
    if pending:
        yield EncodedChunk(index, encode(pending), [request.id for request in pending], first_row)


def deduplication_key(identity: str, chunk: EncodedChunk) -> str:
    """
    A UUID that is the same for the same task run, chunk position and chunk content, and differs otherwise.

    :param identity: what identifies the task run (dag id, run id, task id, map index).
    :param chunk: the chunk.
    """
    digest = hashlib.sha256(chunk.payload).hexdigest()
    return str(uuid.uuid5(DEDUPLICATION_NAMESPACE, f"{identity}|{chunk.index}|{digest}"))
