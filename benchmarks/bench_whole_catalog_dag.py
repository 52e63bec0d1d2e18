"""The whole-catalog sync at users' sizes, deferrable, through ``airflow dags test`` against the emulator.

    .venv/bin/python -m benchmarks.bench_whole_catalog_dag --products 250000   # 1,000,000 feed rows
    .venv/bin/python -m benchmarks.bench_whole_catalog_dag --products 2000     # a quick look

Each product has 3 variations (a feed row each), a 3-level category path, a main image and a 2-image gallery.
Four runs on one store: a first sync, the same feed again, a feed with 1% of the prices changed, and the same
feed after a price was changed and a product deleted by hand in the store. For each: the peak RSS of the
``dags test`` process (beside an empty DAG's, measured in the same run), the largest XCom value and task-state-
store value seen while it ran (the database is read every second), the API calls (batch POSTs and status reads
apart), and for the first sync its wall time against the larger of the emulator's busy time and what the rate
budget allows for its calls.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

import pandas as pd
import requests
from cryptography.fernet import Fernet

from benchmarks.bench_whole_catalog import busy_seconds
from benchmarks.common import STORE, EmulatorProcess, Figure, emulator_process

AIRFLOW = str(Path(sys.executable).with_name("airflow"))
DAGS = Path(__file__).resolve().parent / "dags"
COST = 0.0002  # seconds of emulated store work per inner request
RATE_PER_MINUTE = 500  # the client's default budget
IMAGES = "https://img.example"


def feed(products: int, changed_share: float = 0.0) -> pd.DataFrame:
    """Products (3-level category, main image, 2-image gallery) each followed by its 3 variations, columnar."""
    numbers = pd.RangeIndex(products)
    skus = "P" + pd.Series(numbers).astype(str).str.zfill(7)
    bump = (numbers < int(products * changed_share)).astype(float)
    parents = pd.DataFrame(
        {
            "sku": skus,
            "name": "Product " + pd.Series(numbers).astype(str),
            "price": 10.0 + numbers % 50 + bump,
            "quantity": numbers % 30,
            "category": "Dept "
            + (numbers % 5).astype(str)
            + " > Aisle "
            + (numbers % 25).astype(str)
            + " > Shelf "
            + (numbers % 100).astype(str),
            "image": IMAGES + "/" + skus + ".jpg",
            "gallery": IMAGES + "/" + skus + "-a.jpg|" + IMAGES + "/" + skus + "-b.jpg",
        }
    )
    variations = [
        pd.DataFrame({"sku": skus + "-" + size, "parent_sku": skus, "price": 10.0 + numbers % 50, "Size": size})
        for size in ("S", "M", "L")
    ]
    frame: pd.DataFrame = pd.concat([parents, *variations], ignore_index=True)
    return frame


class DatabaseWatch:
    """Reads the largest XCom and task-state-store value every second while a run goes on."""

    #: The XComs of the latest run only (earlier runs' stay in the table); the state store is emptied by each sync.
    QUERIES = {
        "xcom": "WHERE run_id = (SELECT run_id FROM dag_run ORDER BY id DESC LIMIT 1)",
        "task_state_store": "",
    }

    def __init__(self, database: Path) -> None:
        self.database = database
        self.largest = {"xcom": 0, "task_state_store": 0}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> DatabaseWatch:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self._read()

    def _watch(self) -> None:
        while not self._stop.wait(1.0):
            self._read()

    def _read(self) -> None:
        with contextlib.suppress(sqlite3.Error), contextlib.closing(sqlite3.connect(self.database, timeout=1)) as db:
            for table, where in self.QUERIES.items():
                with contextlib.suppress(sqlite3.Error):
                    [(size,)] = db.execute(f"SELECT coalesce(max(length(value)), 0) FROM {table} {where}").fetchall()
                    self.largest[table] = max(self.largest[table], int(size))


def airflow_home(home: Path, emulator: EmulatorProcess, **extra: str) -> dict[str, str]:
    """A fresh Airflow home (its database migrated) on the benchmark DAGs, connected to the emulator: its env."""
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW__", "AIRFLOW_CONN"))}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__FERNET_KEY=Fernet.generate_key().decode(),
        AIRFLOW_CONN_ECWID_DEFAULT=emulator.connection(),
        **extra,
    )
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, capture_output=True, check=True, timeout=600)
    return env


def dags_test(dag_id: str, env: dict[str, str]) -> tuple[float, int, str]:
    """Run a DAG; return the wall seconds, the process's peak RSS in bytes, and its output's tail."""
    started = time.monotonic()
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen([AIRFLOW, "dags", "test", dag_id], env=env, stdout=output, stderr=output)
        _, status, usage = os.wait4(process.pid, 0)
        process.returncode = os.waitstatus_to_exitcode(status)
        output.seek(0)
        text = output.read().decode(errors="replace")
    if process.returncode:
        raise RuntimeError(f"{dag_id} failed:\n{text[-4000:]}")
    return time.monotonic() - started, usage.ru_maxrss * 1024, text[-2000:]


def hand_edits(emulator: EmulatorProcess) -> None:
    """What a shop owner does in the admin between two runs: change one price, delete one product."""
    api = f"{emulator.base_url}/{STORE}"
    headers = {"Authorization": "Bearer secret_bench"}
    found = requests.get(f"{api}/products", params={"sku": "P0000001"}, headers=headers, timeout=60).json()
    requests.put(f"{api}/products/{found['items'][0]['id']}", json={"price": 999}, headers=headers, timeout=60)
    found = requests.get(f"{api}/products", params={"sku": "P0000002"}, headers=headers, timeout=60).json()
    requests.delete(f"{api}/products/{found['items'][0]['id']}", headers=headers, timeout=60)


def run(products: int = 250_000) -> list[Figure]:
    rows = products * 4
    results: dict[str, dict[str, Any]] = {}
    with tempfile.TemporaryDirectory() as folder, emulator_process("--processing-time", str(COST)) as emulator:
        home = Path(folder) / "airflow-home"
        env = airflow_home(home, emulator, BENCH_MEMORY=str(Path(folder) / "memory"))
        _, empty_rss, _ = dags_test("bench_empty", env)
        for name, share in (("first", 0.0), ("unchanged", 0.0), ("one_percent", 0.01), ("hand_edits", 0.01)):
            path = Path(folder) / f"{name}.parquet"
            feed(products, share).to_parquet(path)
            if name == "hand_edits":
                hand_edits(emulator)
            before = emulator.stats()
            posts = emulator.calls(method="POST", endpoint="/batch")
            reads = emulator.calls(method="GET", endpoint="/batch")
            since = len(emulator.batches())
            with DatabaseWatch(home / "airflow.db") as watch:
                seconds, rss, _ = dags_test("bench_whole_catalog", {**env, "BENCH_FEED": str(path)})
            after = emulator.stats()
            results[name] = {
                "seconds": round(seconds, 1),
                "peak_rss_mb": round(rss / 2**20),
                "largest_xcom_kb": round(watch.largest["xcom"] / 1024, 1),
                "largest_state_kb": round(watch.largest["task_state_store"] / 1024, 1),
                "api_calls": after["http_total"] - before["http_total"],
                "batch_posts": emulator.calls(method="POST", endpoint="/batch") - posts,
                "status_reads": emulator.calls(method="GET", endpoint="/batch") - reads,
                "inner_requests": after["inner_total"] - before["inner_total"],
                "busy_seconds": round(busy_seconds(emulator.batches(), since), 1),
                "answers_429": emulator.calls(status=429),
            }
    return figures(rows, empty_rss, results)


def figures(rows: int, empty_rss: int, results: dict[str, dict[str, Any]]) -> list[Figure]:
    first = results["first"]
    budget_seconds = first["api_calls"] / RATE_PER_MINUTE * 60
    floor = max(first["busy_seconds"], budget_seconds)
    tickets = first["batch_posts"]
    label = f"{rows:,} rows"
    largest = max(max(r["largest_xcom_kb"], r["largest_state_kb"]) for r in results.values())
    peak = max(r["peak_rss_mb"] for r in results.values())
    return [
        Figure("whole-dag", f"{label}: peak RSS (MB)", peak, "MB", "empty DAG MB", round(empty_rss / 2**20),
               "<= 2048", peak <= 2048, results),
        Figure("whole-dag", f"{label}: largest XCom / state value (KB)", largest, "KB", "", 0, "<= 1024",
               largest <= 1024, {}),
        Figure("whole-dag", f"{label}: first sync API calls", first["api_calls"], "", "(POSTs + tickets) x 1.05",
               round(2 * tickets * 1.05), "", first["api_calls"] <= 2 * tickets * 1.05, {}),
        Figure("whole-dag", f"{label}: unchanged sync API calls", results["unchanged"]["api_calls"], "", "", 5,
               "<= 5", results["unchanged"]["api_calls"] <= 5, {}),
        Figure("whole-dag", f"{label}: first sync wall / floor", round(first["seconds"] / floor, 2), "x",
               "floor s", round(floor, 1), "<= 1.2x", first["seconds"] <= 1.2 * floor, {}),
    ]  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--products", type=int, default=250_000, help="products (each with 3 variation rows)")
    arguments = parser.parse_args()
    from benchmarks.common import print_table

    result = run(arguments.products)
    print_table(result)
    for figure in result:
        if figure.notes:
            for name, values in figure.notes.items():
                print(f"  {name}: {values}")


if __name__ == "__main__":
    main()
