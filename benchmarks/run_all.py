"""Run every benchmark, print one table, and save the figures with the date and machine as JSON.

.venv/bin/python -m benchmarks.run_all          # about 20 minutes here; writes benchmarks/results/latest.json
.venv/bin/python -m benchmarks.run_all encode   # only some: encode dtypes bookkeeping memory calls e2e emulator whole
.venv/bin/python -m benchmarks.run_all whole-dag   # the whole catalog at 1,000,000 feed rows (not in the default run)
.venv/bin/python -m benchmarks.run_all export      # 1,000,000 orders exported, against paging them (not by default)
"""

from __future__ import annotations

import json
import sys
import time

from benchmarks import (
    bench_bookkeeping,
    bench_calls,
    bench_dtypes,
    bench_e2e,
    bench_encode,
    bench_export,
    bench_memory,
    bench_whole_catalog,
    bench_whole_catalog_dag,
    emulator_throughput,
)
from benchmarks.common import Figure, machine, print_table, save

SUITES = {
    "encode": bench_encode.run,
    "dtypes": bench_dtypes.run,
    "bookkeeping": bench_bookkeeping.run,
    "memory": bench_memory.run,
    "calls": bench_calls.run,
    "e2e": bench_e2e.run,
    "emulator": emulator_throughput.run,
    "whole": bench_whole_catalog.run,
    # 250,000 products x (1 + 3 variations) = 1,000,000 feed rows through airflow dags test: long (the first sync
    # alone spends its ~7,000 calls in the 500-a-minute budget), so asked for by name only
    "whole-dag": lambda: bench_whole_catalog_dag.run(250_000),
    # 1,000,000 orders exported through airflow dags test, and paged directly: several minutes, asked for by name
    "export": bench_export.run,
}
DEFAULT = [name for name in SUITES if name not in ("whole-dag", "export")]


def main() -> None:
    chosen = sys.argv[1:] or DEFAULT
    figures: list[Figure] = []
    for name in chosen:
        started = time.monotonic()
        print(f"== {name}", flush=True)
        figures += SUITES[name]()
        print(f"   {time.monotonic() - started:.0f} s", flush=True)
    print_table(figures)
    print("\nnotes:")
    for figure in figures:
        if figure.notes:
            print(f"  {figure.benchmark}/{figure.name}: {json.dumps(figure.notes, default=str)}")
    path = save(figures, "latest" if not sys.argv[1:] else "partial")
    print(f"\n{machine()}\nsaved to {path}")


if __name__ == "__main__":
    main()
