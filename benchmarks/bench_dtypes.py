"""5. The dtype matrix: the encode benchmark's frame plus one column of each kind a real feed has.

Per row of the matrix, 1,000,000 rows, side by side in one process: the provider's validation and encode
passes (its Arrow route where the builder gives it the slices), the same passes forced row by row, and the
naive route (``df.to_dict("records")``, missing values dropped, ``json.dumps`` per 500). Every payload of the
two provider routes is compared byte for byte, and every payload against the naive route's as decoded JSON.
Bar: the provider's validation + encode at least 1,000,000 rows/s and 8x naive (nested dicts: 3x).

.venv/bin/python -m benchmarks.bench_dtypes              # every row (about 6 minutes here)
.venv/bin/python -m benchmarks.bench_dtypes category     # the rows whose name contains "category"
"""

from __future__ import annotations

import json
import math
import os
import sys
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from airflow_provider_ecwid.batch.build import RequestBuilder
from airflow_provider_ecwid.batch.plan import BatchPlan
from airflow_provider_ecwid.batch.sources import make_source
from benchmarks.common import Figure, naive_payloads, product_frame

ROWS = int(os.environ.get("BENCH_ROWS", "1000000"))  # fewer for a quick look


def _ints_with_gaps(rows: int, rng: np.random.Generator) -> pd.Series:
    values: pd.Series = pd.Series(rng.integers(0, 10_000, rows), dtype="Int64")
    values[rng.random(rows) < 0.2] = pd.NA
    return values


def _lists(rows: int, rng: np.random.Generator) -> list[Any]:
    lengths = rng.integers(0, 4, rows)
    flat = rng.integers(1_000_000, 9_000_000, int(lengths.sum())).tolist()
    out, at = [], 0
    for length in lengths.tolist():
        out.append(flat[at : at + length])
        at += length
    return out


def _options(rows: int, rng: np.random.Generator) -> list[Any]:
    sizes = rng.choice(["S", "M", "L", "XL"], rows).tolist()
    return [
        {"name": "Size", "type": "SELECT", "choices": [{"text": size, "priceModifier": 0}], "required": bool(n % 2)}
        for n, size in enumerate(sizes)
    ]


#: name -> (the column added to the frame, the bar's multiple of naive)
COLUMNS: dict[str, tuple[Callable[[int, np.random.Generator], Any], float]] = {
    "none (the encode benchmark's frame)": (lambda rows, rng: None, 8),
    "text: non-ASCII, quotes, backslashes, HTML": (
        lambda rows, rng: [f'<p class="d">Größe {n} \\ "été" 中文</p>\n' for n in range(rows)],
        8,
    ),
    "string dtype": (lambda rows, rng: pd.Series([f"Brand {n % 97}" for n in range(rows)], dtype="string"), 8),
    "string[pyarrow] dtype": (
        lambda rows, rng: pd.Series([f"Brand {n % 97}" for n in range(rows)], dtype="string[pyarrow]"),
        8,
    ),
    "large_string (ArrowDtype)": (
        lambda rows, rng: pd.Series([f"Brand {n % 97}" for n in range(rows)], dtype=pd.ArrowDtype(pa.large_string())),
        8,
    ),
    "nullable Int64, 20% missing": (_ints_with_gaps, 8),
    "nullable Float64 and boolean, missing": (
        lambda rows, rng: pd.DataFrame(
            {
                "cost": pd.array(np.where(rng.random(rows) < 0.2, np.nan, np.round(rng.random(rows) * 50, 2))),
                "isShippingRequired": pd.array(rng.random(rows) < 0.5, dtype="boolean"),
            }
        ).astype({"cost": "Float64"}),
        8,
    ),
    "category of text": (lambda rows, rng: pd.Categorical(rng.choice(["red", "green", "blue", "noir"], rows)), 8),
    "int64[pyarrow] (ArrowDtype)": (
        lambda rows, rng: pd.Series(rng.integers(0, 10**6, rows), dtype=pd.ArrowDtype(pa.int64())),
        8,
    ),
    "list of ints (categoryIds)": (_lists, 8),
    "list of text (tags)": (
        lambda rows, rng: [["sale", f"tag{n % 50}"] if n % 3 else [] for n in range(rows)],
        8,
    ),
    "datetime64": (
        lambda rows, rng: pd.Series(pd.Timestamp("2024-01-01") + pd.to_timedelta(rng.integers(0, 10**8, rows), "s")),
        8,
    ),
    "datetime64 with zone (Europe/Berlin)": (
        lambda rows, rng: pd.Series(
            pd.Timestamp("2024-01-01", tz="UTC") + pd.to_timedelta(rng.integers(0, 10**8, rows), "s")
        ).dt.tz_convert("Europe/Berlin"),
        8,
    ),
    "Decimal (Arrow decimal128)": (
        lambda rows, rng: pd.Series(
            pa.array([Decimal(int(n)).scaleb(-2) for n in rng.integers(0, 10**6, rows)], pa.decimal128(12, 2)),
            dtype=pd.ArrowDtype(pa.decimal128(12, 2)),
        ),
        8,
    ),
    "Decimal objects": (
        lambda rows, rng: pd.Series([Decimal(int(n)).scaleb(-2) for n in rng.integers(0, 10**6, rows)], dtype=object),
        8,
    ),
    "nested dicts (options)": (_options, 3),
}


def frame_with(name: str, base: pd.DataFrame) -> pd.DataFrame:
    make, _bar = COLUMNS[name]
    column = make(len(base), np.random.default_rng(7))
    if column is None:
        return base
    if isinstance(column, pd.DataFrame):
        joined: pd.DataFrame = pd.concat([base, column], axis=1)
        return joined
    frame: pd.DataFrame = base.copy()
    frame["extra"] = column
    return frame


def _missing(value: Any) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def _default(value: Any) -> Any:
    if isinstance(value, pd.Timestamp):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, np.generic | np.ndarray):
        return value.tolist()
    raise TypeError(type(value).__name__)


def naive(frame: pd.DataFrame) -> list[bytes]:
    return naive_payloads(frame, _missing, _default)


def provider(frame: pd.DataFrame, *, arrow: bool) -> tuple[float, float, list[bytes]]:
    """The validation pass and the encode pass; ``arrow=False`` forces every slice row by row."""
    builder = RequestBuilder(path="/products/{ecwid_id}", method="PUT")
    if not arrow:
        # one instance's method swapped on purpose: the benchmark's row-by-row baseline
        builder.arrow_shape = lambda frame: None  # type: ignore[method-assign]
    plan = BatchPlan(make_source(frame), builder)
    started = time.perf_counter()
    plan.validate()
    validated = time.perf_counter()
    payloads = [chunk.payload for chunk in plan.chunks()]
    return validated - started, time.perf_counter() - validated, payloads


def _same_json(ours: bytes, theirs: bytes) -> bool:
    return bool(json.loads(ours) == json.loads(theirs))


def measure(name: str, base: pd.DataFrame) -> Figure:
    frame = frame_with(name, base)
    validate_s, encode_s, fast = provider(frame, arrow=True)
    row_validate_s, row_encode_s, slow = provider(frame, arrow=False)
    started = time.perf_counter()
    plain = naive(frame)
    naive_s = time.perf_counter() - started
    same_bytes = fast == slow
    same_json = len(fast) == len(plain) and all(map(_same_json, fast, plain))
    total = validate_s + encode_s
    bar = COLUMNS[name][1]
    speedup = naive_s / total
    return Figure(
        "dtypes",
        name,
        ROWS / total,
        "r/s",
        "naive route",
        ROWS / naive_s,
        f">= 1,000,000 r/s and >= {bar:g}x naive" if bar == 8 else f">= {bar:g}x naive",
        same_bytes and same_json and speedup >= bar and (bar < 8 or ROWS / total >= 1_000_000),
        {
            "speedup_vs_naive": round(speedup, 1),
            "encode_only_speedup": round(naive_s / encode_s, 1),
            "validate_s": round(validate_s, 3),
            "encode_s": round(encode_s, 3),
            "row_route_rows_per_s": round(ROWS / (row_validate_s + row_encode_s)),
            "naive_s": round(naive_s, 3),
            "routes_byte_identical": same_bytes,
            "same_json_as_naive": same_json,
        },
    )


def run(only: str = "") -> list[Figure]:
    base = product_frame(ROWS)
    figures = []
    for name in COLUMNS:
        if only in name:
            figure = measure(name, base)
            print(f"   {name}: {figure.value:,.0f} r/s, {figure.notes['speedup_vs_naive']}x naive", flush=True)
            figures.append(figure)
    return figures


if __name__ == "__main__":
    from benchmarks.common import print_table

    chosen = run(sys.argv[1] if len(sys.argv) > 1 else "")
    print_table(chosen)
    for figure in chosen:
        print(f"  {figure.name}: {json.dumps(figure.notes)}")
