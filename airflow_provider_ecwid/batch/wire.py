"""The wire form of batch requests built row by row, and its encoder (msgspec: fast, omits fields with no value)."""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import msgspec

from airflow_provider_ecwid.batch.values import MISSING


class WireRequest(msgspec.Struct, omit_defaults=True, gc=False):
    """One request as it goes into the batch array; ``body`` is left out when MISSING."""

    id: str
    path: str
    method: str
    body: Any = MISSING


@lru_cache(maxsize=64)
def body_struct(columns: tuple[str, ...]) -> type[msgspec.Struct]:
    """A struct type with one optional field per body column (any column name is allowed)."""
    fields = [(f"f{position}", Any, MISSING) for position in range(len(columns))]
    rename = {f"f{position}": name for position, name in enumerate(columns)}
    return msgspec.defstruct("Body", fields, omit_defaults=True, gc=False, rename=rename)


#: Decimal is written as a JSON number, as Ecwid expects prices.
ENCODER = msgspec.json.Encoder(decimal_format="number")


def encode(requests: list[WireRequest]) -> bytes:
    """Encode a chunk of requests as the JSON array Ecwid's ``POST /batch`` takes."""
    return ENCODER.encode(requests)


class WireRows:
    """
    Requests built row by row, encoded when a batch takes them.

    :param requests: the requests.
    """

    def __init__(self, requests: list[WireRequest]) -> None:
        self.requests = requests

    def __len__(self) -> int:
        return len(self.requests)

    def fragment(self, start: int, stop: int) -> bytes:
        return encode(self.requests[start:stop])[1:-1]
