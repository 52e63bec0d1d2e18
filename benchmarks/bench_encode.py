"""1. Building and encoding requests from a 1,000,000-row product DataFrame into 2,000 batch payloads.

Side by side in one process: the provider's route (the validation pass and the encode pass the operator
makes), the naive route (``df.to_dict("records")``, a dict per request, ``json.dumps`` per chunk) and the
floor (msgspec encoding dicts that are already built). Bar: at least 1,000,000 rows/s and 8x the naive
route.
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Callable
from typing import Any, TypeVar

import msgspec
import pandas as pd

from airflow_provider_ecwid.batch.build import RequestBuilder
from airflow_provider_ecwid.batch.plan import BatchPlan
from airflow_provider_ecwid.batch.sources import make_source
from benchmarks.common import Figure, naive_payloads, product_frame

ROWS = 1_000_000
T = TypeVar("T")


def naive(frame: pd.DataFrame) -> list[bytes]:
    return naive_payloads(frame, lambda value: isinstance(value, float) and math.isnan(value))


def ready_dicts(frame: pd.DataFrame) -> list[dict[str, Any]]:
    records = frame.to_dict("records")
    return [
        {
            "id": str(position),
            "method": "PUT",
            "path": f"/products/{record.pop('ecwid_id')}",
            "body": {k: v for k, v in record.items() if not (isinstance(v, float) and math.isnan(v))},
        }
        for position, record in enumerate(records)
    ]


def timed(function: Callable[..., T], *args: Any) -> tuple[float, T]:
    started = time.perf_counter()
    result = function(*args)
    return time.perf_counter() - started, result


def run() -> list[Figure]:
    frame = product_frame(ROWS)
    plan = BatchPlan(make_source(frame), RequestBuilder(path="/products/{ecwid_id}", method="PUT"))
    validate_s, summary = timed(plan.validate)
    encode_s, chunks = timed(lambda: [chunk.payload for chunk in plan.chunks()])
    naive_s, naive_payloads = timed(naive, frame)
    dicts = ready_dicts(frame)
    encoder = msgspec.json.Encoder()
    floor_s, _ = timed(lambda: [encoder.encode(dicts[s : s + 500]) for s in range(0, ROWS, 500)])
    assert len(chunks) == len(naive_payloads) == 2000
    assert json.loads(chunks[7]) == json.loads(naive_payloads[7])  # the same requests, byte for byte in meaning
    rate = ROWS / encode_s
    return [
        Figure(
            "encode",
            "encode pass (rows/s)",
            rate,
            "r/s",
            "naive route",
            ROWS / naive_s,
            ">= 1,000,000 r/s and >= 8x naive",
            rate >= 1_000_000 and naive_s / encode_s >= 8,
            {"encode_s": encode_s, "naive_s": naive_s, "speedup_vs_naive": naive_s / encode_s},
        ),
        Figure(
            "encode",
            "validation pass + encode pass (rows/s)",
            ROWS / (validate_s + encode_s),
            "r/s",
            "naive route",
            ROWS / naive_s,
            "",
            None,
            {"validate_s": validate_s, "speedup_vs_naive": naive_s / (validate_s + encode_s)},
        ),
        Figure(
            "encode",
            "floor: msgspec on ready dicts (rows/s)",
            ROWS / floor_s,
            "r/s",
            "",
            None,
            "",
            None,
            {"floor_s": floor_s, "encode_vs_floor": encode_s / floor_s, "requests": summary.requests},
        ),
    ]


if __name__ == "__main__":
    from benchmarks.common import print_table

    print_table(run())
