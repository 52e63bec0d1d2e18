"""Writing :class:`~.models.BatchRequest` objects as batch JSON (msgspec: fast, leaves out fields with no value).

:data:`ENCODER` is the one JSON encoder of requests: the row route's requests, ready requests, and the column
values the Arrow route hands to msgspec all go through it, so both routes write the same bytes.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import msgspec

from airflow_provider_ecwid.batch.models import BatchRequest
from airflow_provider_ecwid.batch.values import ENCODER, MISSING


@lru_cache(maxsize=64)
def body_struct(columns: tuple[str, ...]) -> type[msgspec.Struct]:
    """A struct type with one optional field per body column (any column name is allowed)."""
    fields = [(f"f{position}", Any, MISSING) for position in range(len(columns))]
    rename = {f"f{position}": name for position, name in enumerate(columns)}
    return msgspec.defstruct("Body", fields, omit_defaults=True, gc=False, rename=rename)


def encode(requests: Sequence[BatchRequest]) -> bytes:
    """Encode requests as the JSON array Ecwid's ``POST /batch`` takes."""
    return ENCODER.encode(requests)


class WireRows:
    """
    Requests as objects, encoded when a batch takes them (the row route's and ready requests' slices).

    :param requests: the requests.
    """

    def __init__(self, requests: list[BatchRequest]) -> None:
        self.requests = requests

    def __len__(self) -> int:
        return len(self.requests)

    def fragment(self, start: int, stop: int) -> bytes:
        """Requests ``start`` to ``stop - 1`` as JSON objects separated by commas (no brackets)."""
        return encode(self.requests[start:stop])[1:-1]
