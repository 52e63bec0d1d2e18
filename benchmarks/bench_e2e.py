"""4. End to end: a 100,000-product catalog sync through `airflow dags test` against the emulator.

The emulator charges a fixed cost per inner request (in theory: that cost times the requests, sequential, or
times the requests / 100 in parallel mode). Its own minimum time for the work is measured in the same run: the
same 200 batches posted at once with plain requests, timed until the last one completes. Then the DAG run's
duration as Airflow reports it, beside a run of an empty one-task DAG (Airflow's own cost of starting a run
and a task, which the provider cannot change), and the plain-requests loop a user without this provider
writes (one POST per product), timed on 2,000 products and bounded below by Ecwid's 600 calls a minute.
Bar: the DAG run within 1.2x of the emulator's measured minimum.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests
from cryptography.fernet import Fernet

from benchmarks.common import TOKEN, Figure, emulator_process, product_frame

PRODUCTS = 100_000
SEQUENTIAL_COST = 0.0005  # 100,000 x 0.5 ms = 50 s
PARALLEL_COST = 0.04  # 100,000 / 100 x 40 ms = 40 s
AIRFLOW = str(Path(sys.executable).with_name("airflow"))
DAGS = Path(__file__).resolve().parent / "dags"


def airflow_env(home: str, connection: str, feed: str, parallel: bool) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW__", "AIRFLOW_CONN"))}
    env.update(
        AIRFLOW_HOME=home,
        AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__FERNET_KEY=Fernet.generate_key().decode(),  # as a real deployment has
        AIRFLOW_CONN_ECWID_DEFAULT=connection,
        BENCH_FEED=feed,
        BENCH_PARALLEL="true" if parallel else "false",
    )
    return env


def dag_run_seconds(dag_id: str, env: dict[str, str]) -> float:
    """Run a DAG with ``airflow dags test``; return the run's duration as Airflow reports it."""
    result = subprocess.run(
        [AIRFLOW, "dags", "test", dag_id], env=env, capture_output=True, text=True, timeout=1800, check=False
    )
    output = result.stdout + result.stderr
    if result.returncode != 0:
        raise RuntimeError(output[-3000:])
    return float(re.findall(r"run_duration=([0-9.]+)", output)[-1])


def emulator_minimum(cost: float, parallel: bool) -> float:
    """Seconds the emulator needs for the 200 batches when all are handed over at once (no Airflow, no limit)."""
    frame = product_frame(PRODUCTS).drop(columns=["ecwid_id"])
    records = frame.to_dict("records")
    payloads = [
        json.dumps(
            [
                {"id": r["sku"], "method": "POST", "path": "/products", "body": {k: v for k, v in r.items() if v == v}}
                for r in records[start : start + 500]
            ]
        )
        for start in range(0, PRODUCTS, 500)
    ]
    params = {"allowParallelMode": "true" if parallel else "false", "stopOnFirstFailure": "false"}
    with emulator_process("--processing-time", str(cost), "--rate-limit", "0") as emulator:
        session = requests.Session()
        session.headers.update({"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"})
        started = time.monotonic()
        for payload in payloads:
            session.post(f"{emulator.base_url}/1002/batch", data=payload, params=params, timeout=60).raise_for_status()
        emulator.wait_idle()
        return time.monotonic() - started


def one_call_per_product(url: str, count: int) -> float:
    """Products per second that a plain loop of POST /products reaches (no rate limit on the emulator)."""
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {TOKEN}"
    started = time.perf_counter()
    for n in range(count):
        session.post(
            f"{url}/api/v3/1002/products", json={"sku": f"LOOP-{n}", "name": "x"}, timeout=30
        ).raise_for_status()
    return count / (time.perf_counter() - started)


def run() -> list[Figure]:
    figures = []
    with tempfile.TemporaryDirectory() as folder:
        feed = str(Path(folder) / "feed.parquet")
        product_frame(PRODUCTS).drop(columns=["ecwid_id"]).to_parquet(feed)
        home = str(Path(folder) / "airflow-home")
        migrate_env = airflow_env(home, "{}", feed, False)
        subprocess.run([AIRFLOW, "db", "migrate"], env=migrate_env, capture_output=True, check=True, timeout=600)
        for parallel, cost in ((False, SEQUENTIAL_COST), (True, PARALLEL_COST)):
            theory = PRODUCTS * cost / (100 if parallel else 1)
            minimum = emulator_minimum(cost, parallel)
            empty_run = dag_run_seconds("bench_empty", migrate_env)  # Airflow's own cost of a one-task run
            with emulator_process("--processing-time", str(cost)) as emulator:
                started = time.monotonic()
                run_duration = dag_run_seconds(
                    "bench_catalog_sync", airflow_env(home, emulator.connection(), feed, parallel)
                )
                wall = time.monotonic() - started
                batches = emulator.batches()
                busy = sum(batch["run_seconds"] or 0 for batch in batches)
                first_post_to_done = max(b["finished_at"] for b in batches) - min(b["created_at"] for b in batches)
                products = len(emulator.products())
            mode = "parallel" if parallel else "sequential"
            figures.append(
                Figure(
                    "e2e",
                    f"{mode}: DAG run / emulator minimum",
                    run_duration / minimum,
                    "x",
                    "measured minimum s",
                    minimum,
                    "<= 1.2x",
                    run_duration <= 1.2 * minimum,
                    {
                        "theoretical_minimum_s": theory,
                        "run_duration_s": run_duration,
                        "empty_dag_run_s": empty_run,
                        "outside_store_and_airflow_s": run_duration - minimum - empty_run,
                        "wall_with_airflow_start_s": wall,
                        "emulator_busy_s": busy,
                        "first_post_to_last_done_s": first_post_to_done,
                        "products": products,
                        "batches": len(batches),
                    },
                )
            )
    with emulator_process("--rate-limit", "0") as emulator:
        loop_rate = one_call_per_product(emulator.url, 2000)
    loop_minutes = max(PRODUCTS / loop_rate, PRODUCTS / 600 * 60) / 60
    figures.append(
        Figure(
            "e2e",
            "one call per product, 100,000 (minutes)",
            loop_minutes,
            "min",
            "",
            None,
            "",
            None,
            {"measured_products_per_s_unlimited": loop_rate, "bound": "Ecwid allows 600 calls a minute"},
        )
    )
    return figures


if __name__ == "__main__":
    from benchmarks.common import print_table

    print_table(run())
