"""5. The whole-catalog sync: 10,000 products with 3 variations and 3 images each, against the emulator.

    .venv/bin/python -m benchmarks.bench_whole_catalog                    # 10,000 products (run_all's size)
    .venv/bin/python -m benchmarks.bench_whole_catalog --products 50000   # another size

Counts the API calls (HTTP calls the store sees, batch POSTs and status reads and lookups included) of a first
sync, of a second sync of the same feed (goal: the lookups only, no batch POST), and of a sync where 1% of the
product prices and 1% of the main images changed, beside the baseline of one call per product, variation and
image. Times the first sync (in-process ``execute``, waiting included) against the emulator's own minimum for
the same inner requests, measured in the same run: the time its batches spent running (the store is never
idle between them for any reason but the sync's own phases). Bar: <= 1.2x.
"""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path
from typing import Any

import pandas as pd

from airflow_provider_ecwid.operators.catalog import EcwidCatalogSyncOperator
from benchmarks.common import EmulatorProcess, Figure, emulator_process
from tests.integration.fakes import FakeTaskInstance, make_context

PRODUCTS = 10_000
VARIATIONS = 3
COST = 0.0005  # seconds per inner request, as in bench_e2e: about 80,000 requests -> 40 s of store work
IMAGES = "https://img.example"


def feed(products: int = PRODUCTS, price_bump: float = 0.0, changed: int = 0) -> pd.DataFrame:
    """Products with a category path, a main image and a 2-image gallery; each with 3 variations (Size)."""
    rows: list[dict[str, Any]] = []
    for n in range(products):
        sku = f"P{n:06d}"
        bump = price_bump if n < changed else 0.0
        image = f"{IMAGES}/{sku}{'-new' if n < changed else ''}.jpg"
        rows.append(
            {
                "sku": sku,
                "name": f"Product {n}",
                "price": 10.0 + n % 50 + bump,
                "quantity": n % 30,
                "category": f"Dept {n % 5} > Aisle {n % 25}",
                "image": image,
                "gallery": f"{IMAGES}/{sku}-a.jpg|{IMAGES}/{sku}-b.jpg",
            }
        )
        for size in ("S", "M", "L")[:VARIATIONS]:
            rows.append(
                {"sku": f"{sku}-{size}", "parent_sku": sku, "price": 10.0 + n % 50, "quantity": 5, "Size": size}
            )
    frame: pd.DataFrame = pd.DataFrame(rows)
    return frame


def whole_catalog_operator(data: pd.DataFrame, memory: str, poll_interval: float = 0.5) -> EcwidCatalogSyncOperator:
    """The sync of a feed made by :func:`feed` (or ``bench_whole_catalog_dag.feed``): every phase."""
    return EcwidCatalogSyncOperator(
        task_id="whole",
        data=data,
        category_column="category",
        parent_sku_column="parent_sku",
        option_columns=["Size"],
        image_column="image",
        gallery_column="gallery",
        memory_path=memory,
        poll_interval=poll_interval,
    )


def sync(emulator: EmulatorProcess, data: pd.DataFrame, memory: str, run_id: str) -> tuple[float, dict[str, Any]]:
    os.environ["AIRFLOW_CONN_ECWID_DEFAULT"] = emulator.connection()
    ti = FakeTaskInstance(run_id=run_id)
    operator = whole_catalog_operator(data, memory)
    started = time.monotonic()
    operator.execute(make_context(ti))
    return time.monotonic() - started, ti.xcom["sync_summary"]


def busy_seconds(batches: list[dict[str, Any]], since: int) -> float:
    """Seconds the store spent running batches (from the first to start to the last to finish, gaps removed)."""
    spans = sorted((b["started_at"], b["finished_at"]) for b in batches[since:] if b["started_at"] is not None)
    total, end = 0.0, float("-inf")
    for start, finish in spans:
        if finish > end:
            total += finish - max(start, end)
            end = finish
    return total


def counts(emulator: EmulatorProcess, before: dict[str, Any]) -> dict[str, int]:
    now = emulator.stats()
    return {
        "http_calls": now["http_total"] - before["http_total"],
        "inner_requests": now["inner_total"] - before["inner_total"],
        "batch_posts": emulator.calls(method="POST", endpoint="/batch") - before.get("posts", 0),
    }


def run(products: int = PRODUCTS) -> list[Figure]:
    """The three syncs of ``products`` products (each with its variations and images) and their figures."""
    os.environ.setdefault("AIRFLOW_HOME", tempfile.mkdtemp())
    baseline = products * (1 + VARIATIONS + 3)
    with tempfile.TemporaryDirectory() as folder, emulator_process("--processing-time", str(COST)) as emulator:
        memory = str(Path(folder) / "memory")
        results: dict[str, dict[str, Any]] = {}
        for name, data in (
            ("first", feed(products)),
            ("second", feed(products)),
            ("one_percent", feed(products, price_bump=1.0, changed=products // 100)),
        ):
            before = {**emulator.stats(), "posts": emulator.calls(method="POST", endpoint="/batch")}
            since = len(emulator.batches())
            seconds, summary = sync(emulator, data, memory, f"run-{name}")
            results[name] = {
                **counts(emulator, before),
                "seconds": round(seconds, 1),
                "busy_seconds": round(busy_seconds(emulator.batches(), since), 1),
                "sent": summary["sent"],
                "failed": summary["failed_count"],
            }
    first, second, changed = results["first"], results["second"], results["one_percent"]
    ratio = first["seconds"] / first["busy_seconds"]
    return [
        Figure("whole", "API calls, first sync", first["http_calls"], "", "a call per item", baseline, "", None, first),
        Figure(
            "whole", "API calls, second sync (same feed)", second["http_calls"], "", "a call per item", baseline,
            "no batch POST", second["batch_posts"] == 0 and second["inner_requests"] == 0, second,
        ),
        Figure(
            "whole", "API calls, 1% prices + 1% images changed", changed["http_calls"], "", "a call per item",
            baseline, "", None, changed,
        ),
        Figure(
            "whole", "first sync: wall / store busy", ratio, "x", "store busy s", first["busy_seconds"], "<= 1.2x",
            ratio <= 1.2, {"seconds": first["seconds"]},
        ),
    ]  # fmt: skip


if __name__ == "__main__":
    import argparse

    from benchmarks.common import print_table

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=PRODUCTS, help="products (each with its variations)")
    figures = run(parser.parse_args().products)
    print_table(figures)
    for figure in figures:
        print(f"  {figure.name}: {figure.notes}")
