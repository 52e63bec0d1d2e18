"""Orders out of the store through batches, against paging them one call per 100, at 100,000 and 1,000,000.

    .venv/bin/python -m benchmarks.bench_export                       # 100,000 then 1,000,000 orders
    .venv/bin/python -m benchmarks.bench_export --orders 20000 200000 # other sizes (the last one is judged)

For each size, an emulator (its own process) seeded with that many orders updated in October and November:
``airflow dags test bench_orders_export`` exports the two months to Parquet (its peak RSS measured, beside an empty
DAG's), then the same window is paged directly with ``GET /orders`` (the baseline: one call per 100 orders, the
rate limit lifted so that it takes minutes, not the 20 a million orders cost at 500 calls a minute). Judged at
the largest size: the export's calls against the baseline's / 25; its wall time against the larger of the
emulator's busy time (its process's CPU seconds while the export ran: making the pages' JSON is its work) and
what the rate budget allows for its calls; its peak RSS against the smallest size's; the file holds every order
once.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq

from benchmarks.bench_whole_catalog_dag import RATE_PER_MINUTE, airflow_home, dags_test
from benchmarks.common import STORE, EmulatorProcess, Figure, emulator_process

WINDOW = ("2026-10-01T00:00:00+00:00", "2026-12-01T00:00:00+00:00")
SEEDED = ("2026-10-01", "2026-11-30 23:59:59")


def cpu_seconds(pid: int) -> float:
    """A process's CPU time so far (user + system), from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def page_directly(emulator: EmulatorProcess) -> dict[str, Any]:
    """The baseline: the same window paged with GET /orders, 100 per call, with the provider's client."""
    from datetime import datetime

    from airflow_provider_ecwid.api.client import EcwidClient

    client = EcwidClient(STORE, "secret_bench", base_url=emulator.base_url, rate_limit_per_minute=10**6)
    start, end = (int(datetime.fromisoformat(when).timestamp()) for when in WINDOW)
    params = {"updatedFrom": start, "updatedTo": end - 1}
    started, offset = time.monotonic(), 0
    ids: set[str] = set()
    while True:
        answer = client.request("GET", "/orders", params={**params, "offset": offset, "limit": 100})
        ids.update(item["id"] for item in answer["items"])
        offset += len(answer["items"])
        if not answer["items"] or offset >= answer["total"]:
            break
    return {"calls": client.http_calls, "seconds": round(time.monotonic() - started, 1), "orders": len(ids)}


def export_once(orders: int, folder: Path) -> dict[str, Any]:
    seeding = ("--orders", str(orders), "--customers", "20000", "--seeded-from", SEEDED[0], "--seeded-to", SEEDED[1])
    with emulator_process(*seeding) as emulator:
        output = folder / f"orders-{orders}.parquet"
        env = airflow_home(
            folder / f"home-{orders}", emulator, BENCH_FROM=WINDOW[0], BENCH_TO=WINDOW[1], BENCH_OUTPUT=str(output)
        )
        _, empty_rss, _ = dags_test("bench_empty", env)
        calls_before = emulator.stats()["http_total"]
        cpu_before = cpu_seconds(emulator.process.pid)
        seconds, rss, _ = dags_test("bench_orders_export", env)
        busy = cpu_seconds(emulator.process.pid) - cpu_before
        calls = emulator.stats()["http_total"] - calls_before
        ids = pq.read_table(output, columns=["id"]).column("id").to_pylist()
        baseline = page_directly(emulator)
    return {
        "orders": orders,
        "seconds": round(seconds, 1),
        "peak_rss_mb": round(rss / 2**20),
        "empty_dag_rss_mb": round(empty_rss / 2**20),
        "calls": calls,
        "emulator_busy_s": round(busy, 1),
        "rows": len(ids),
        "distinct_ids": len(set(ids)),
        "baseline": baseline,
    }


def run(sizes: tuple[int, ...] = (100_000, 1_000_000)) -> list[Figure]:
    with tempfile.TemporaryDirectory() as folder:
        results = [export_once(size, Path(folder)) for size in sizes]
    small, large = results[0], results[-1]
    label = f"{large['orders']:,} orders"
    floor = max(large["emulator_busy_s"], large["calls"] / RATE_PER_MINUTE * 60)
    once = large["rows"] == large["distinct_ids"] == large["baseline"]["orders"] == large["orders"]
    rss = round(large["peak_rss_mb"] / small["peak_rss_mb"], 2)
    return [
        Figure("export", f"{label}: API calls", large["calls"], "", "paging / 25",
               round(large["baseline"]["calls"] / 25, 1), "<= 1/25", large["calls"] * 25 <= large["baseline"]["calls"],
               {str(result["orders"]): result for result in results}),
        Figure("export", f"{label}: wall / floor", round(large["seconds"] / floor, 2), "x", "floor s", round(floor, 1),
               "<= 1.2x", large["seconds"] <= 1.2 * floor, {}),
        Figure("export", f"{label}: peak RSS vs {small['orders']:,}", rss, "x", f"{small['orders']:,} MB",
               small["peak_rss_mb"], "<= 1.2x", rss <= 1.2, {}),
        Figure("export", f"{label}: every order once in the file", large["distinct_ids"], "", "orders", large["orders"],
               "==", once, {}),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, nargs="+", default=[100_000, 1_000_000])
    arguments = parser.parse_args()
    from benchmarks.common import print_table

    result = run(tuple(arguments.orders))
    print_table(result)
    for figure in result:
        for name, values in figure.notes.items():
            print(f"  {name}: {values}")


if __name__ == "__main__":
    main()
