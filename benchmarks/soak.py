"""Soak: a large import under every fault at once must land every row exactly once.

Part 1 runs a catalog sync of ``rows`` generated products through ``airflow dags test`` against an emulator (in
its own process) that answers 10% of calls with 503, drops 5% of connections unanswered, loses 5% of the
answers to batch creates after the batch was made, enforces a rate limit tighter than the client's bursts
(429s), and holds an import lock (449) for 10 s. Then the store is compared with the feed row by row.

Part 2 kills each operator (the batch operator and the sync) after ``k`` of its ``n`` batch POSTs, the way
Airflow's SIGTERM handler does (``on_kill`` in the task's process), and retries the same run with the same
state store; the store must end up with every row once.

Run: ``.venv/bin/python -m benchmarks.soak [rows]`` (default 100,000). ``tests/soak`` runs a short form in CI.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
from cryptography.fernet import Fernet

from benchmarks.common import EmulatorProcess, emulator_process, product_frame

AIRFLOW = str(Path(sys.executable).with_name("airflow"))
DAGS = Path(__file__).resolve().parent / "dags"
FAULTS = (
    *("--error-rate", "0.1", "--drop-rate", "0.05", "--lost-answer-rate", "0.05"),
    *("--rate-limit", "4", "--rate-limit-window", "2"),  # 120 a minute: the client's bursts of 50 meet 429s
    *("--import-lock", "2:10", "--seed", "11"),
)


def compare(feed: pd.DataFrame, products: list[dict[str, Any]]) -> dict[str, int]:
    """Rows of the feed missing from the store, SKUs stored more than once, and stored values that differ."""
    stored = Counter(product["sku"] for product in products)
    by_sku = {product["sku"]: product for product in products}
    wrong = 0
    # itertuples' fields: pandas-stubs types them as any scalar (Period, Interval...), which pd.isna does not take
    row: Any
    for row in feed.itertuples(index=False):
        product = by_sku.get(row.sku)
        price = None if pd.isna(row.price) else row.price  # an empty price is left out, not sent
        if product is not None and (product.get("name") != row.name or product.get("price") != price):
            wrong += 1
    return {
        "lost": sum(1 for sku in feed["sku"] if sku not in stored),
        "duplicated": sum(count - 1 for count in stored.values() if count > 1),
        "wrong_values": wrong,
        "extra": len(stored.keys() - set(feed["sku"])),
    }


def faults_seen(emulator: EmulatorProcess) -> dict[str, int]:
    return {
        "503": emulator.calls(status=503),
        "429": emulator.calls(status=429),
        "449": emulator.calls(status=449),
        "dropped_connections": emulator.calls(scope="dropped"),
        "lost_create_answers": emulator.calls(scope="lost_answer"),
    }


def soak_dag_run(rows: int) -> dict[str, Any]:
    """Part 1: the sync through ``airflow dags test`` under every fault."""
    feed = product_frame(rows).drop(columns=["ecwid_id"])
    with tempfile.TemporaryDirectory() as folder, emulator_process(*FAULTS) as emulator:
        path = str(Path(folder) / "feed.parquet")
        feed.to_parquet(path)
        env = {key: value for key, value in os.environ.items() if not key.startswith(("AIRFLOW__", "AIRFLOW_CONN"))}
        env.update(
            AIRFLOW_HOME=str(Path(folder) / "airflow-home"),
            AIRFLOW__CORE__DAGS_FOLDER=str(DAGS),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__CORE__FERNET_KEY=Fernet.generate_key().decode(),  # as a real deployment has
            AIRFLOW_CONN_ECWID_DEFAULT=emulator.connection(max_retries=8, max_retry_wait=120),
            SOAK_FEED=path,
        )
        started = time.monotonic()
        subprocess.run([AIRFLOW, "db", "migrate"], env=env, capture_output=True, check=True, timeout=600)
        result = subprocess.run(
            [AIRFLOW, "dags", "test", "soak_catalog_sync"], env=env, capture_output=True, text=True, timeout=1800
        )
        seconds = time.monotonic() - started
        output = result.stdout + result.stderr
        state = re.findall(r"state=(\w+)", output)
        emulator.wait_idle()
        return {
            "rows": rows,
            "dag_run_ok": result.returncode == 0 and "success" in state[-1:],
            "seconds": round(seconds, 1),
            "faults": faults_seen(emulator),
            **compare(feed, emulator.products()),
            "log_tail": "" if result.returncode == 0 else output[-3000:],
        }


@contextmanager
def _killed_after(posts: int, kill: Any) -> Iterator[None]:
    """Call ``kill()`` (the task's on_kill) right after the ``posts``-th batch POST of this process."""
    from airflow_provider_ecwid.api.client import EcwidClient

    original = EcwidClient.create_batch
    made = [0]

    def create_batch(self: EcwidClient, *args: Any, **kwargs: Any) -> str:
        ticket = original(self, *args, **kwargs)
        made[0] += 1
        if made[0] == posts:
            kill()
        return ticket

    # patched on the class for the run, so the operator's own client counts its posts
    EcwidClient.create_batch = create_batch  # type: ignore[method-assign]
    try:
        yield
    finally:
        EcwidClient.create_batch = original  # type: ignore[method-assign]


def kill_and_retry(rows: int, kill_after: int) -> list[dict[str, Any]]:
    """Part 2: each operator killed after ``kill_after`` POSTs, then retried in the same run."""
    from airflow_provider_ecwid.operators.batch import EcwidBatchOperator
    from airflow_provider_ecwid.operators.catalog import EcwidCatalogSyncOperator
    from tests.integration.fakes import FakeStateStore, FakeTaskInstance, make_context

    results = []
    feed = product_frame(rows).drop(columns=["ecwid_id"])
    makers = {
        "EcwidBatchOperator": lambda: EcwidBatchOperator(
            task_id="t", data=feed, path="/products", id_column="sku", wait_for_completion=True, poll_interval=0.2
        ),
        "EcwidCatalogSyncOperator": lambda: EcwidCatalogSyncOperator(
            task_id="t", data=feed, wait_for_completion=True, poll_interval=0.2
        ),
    }
    for name, make in makers.items():
        with emulator_process("--processing-time", "0.0005", "--error-rate", "0.05", "--seed", "3") as emulator:
            os.environ["AIRFLOW_CONN_ECWID_DEFAULT"] = emulator.connection(rate_limit_per_minute=100_000)
            state = FakeStateStore()
            first = make()
            started = time.monotonic()
            killed = False
            with _killed_after(kill_after, first.on_kill):
                try:
                    first.execute(make_context(FakeTaskInstance(), state))
                except Exception as err:
                    killed = "killed" in str(err)
            retry = make()
            ti = FakeTaskInstance()
            ti.try_number = 2
            report = retry.execute(make_context(ti, state))
            emulator.wait_idle()
            results.append(
                {
                    "operator": name,
                    "rows": rows,
                    "batches": -(-rows // 500),
                    "killed_after": kill_after,
                    "first_try_stopped_by_kill": killed,
                    "retry_sent": report["total"],  # the sync re-plans: only what the store still lacks
                    "retry_completed": report["completed"],
                    "seconds": round(time.monotonic() - started, 1),
                    **compare(feed, emulator.products()),
                }
            )
    return results


def run(rows: int = 100_000, kill_rows: int = 10_000) -> dict[str, Any]:
    return {"dag_run": soak_dag_run(rows), "kill_and_retry": kill_and_retry(kill_rows, kill_after=4)}


if __name__ == "__main__":
    report = run(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
    print(json.dumps(report, indent=2))
