"""Shared pieces of the benchmarks: test data, an emulator in its own process, and result records."""

from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import requests

from airflow_provider_ecwid.testing.server import count_calls

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results"
TOKEN = "secret_bench"
STORE = 1002


def product_frame(rows: int, seed: int = 1) -> pd.DataFrame:
    """About 8 columns as a product feed has them: strings, floats with NaN, ints, bools."""
    rng = np.random.default_rng(seed)
    price = np.round(rng.random(rows) * 100, 2)
    price[rng.random(rows) < 0.1] = np.nan
    compare = np.round(rng.random(rows) * 200, 2)
    compare[rng.random(rows) < 0.5] = np.nan
    frame: pd.DataFrame = pd.DataFrame(
        {
            "ecwid_id": np.arange(rows, dtype=np.int64) + 100_000_000,
            "sku": [f"SKU-{n:07d}" for n in range(rows)],
            "name": [f"Product name {n}" for n in range(rows)],
            "price": price,
            "compareToPrice": compare,
            "quantity": rng.integers(0, 500, rows),
            "enabled": rng.random(rows) < 0.9,
            "weight": np.round(rng.random(rows) * 5, 3),
        }
    )
    return frame


def naive_payloads(
    frame: pd.DataFrame, missing: Callable[[Any], bool], default: Callable[[Any], Any] | None = None
) -> list[bytes]:
    """The baseline a user would write: ``to_dict("records")``, drop missing values, ``json.dumps`` per 500 rows.

    :param frame: products with an ``ecwid_id`` column (each row becomes ``PUT /products/{ecwid_id}``).
    :param missing: whether a value is missing (dropped from the body).
    :param default: ``json.dumps``'s ``default`` for values it cannot write itself.
    """
    payloads = []
    records = frame.to_dict("records")
    for start in range(0, len(records), 500):
        chunk = []
        for position, record in enumerate(records[start : start + 500], start):
            product_id = record.pop("ecwid_id")
            body = {key: value for key, value in record.items() if not missing(value)}
            chunk.append({"id": str(position), "method": "PUT", "path": f"/products/{product_id}", "body": body})
        payloads.append(json.dumps(chunk, default=default).encode())
    return payloads


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class EmulatorProcess:
    """An emulator in a separate process, so its work and memory do not count against the measured process."""

    url: str
    process: subprocess.Popen[bytes]

    @property
    def base_url(self) -> str:
        return f"{self.url}/api/v3"

    def connection(self, **extra: Any) -> str:
        return json.dumps(
            {
                "conn_type": "ecwid",
                "login": str(STORE),
                "password": TOKEN,
                "extra": {"base_url": self.base_url, **extra},
            }
        )

    def stats(self) -> dict[str, Any]:
        stats: dict[str, Any] = requests.get(f"{self.url}/_emulator/stats", timeout=60).json()
        return stats

    def calls(
        self, *, scope: str = "http", method: str | None = None, endpoint: str | None = None, status: int | None = None
    ) -> int:
        return count_calls(self.stats(), scope=scope, method=method, endpoint=endpoint, status=status)

    def batches(self) -> list[dict[str, Any]]:
        batches: list[dict[str, Any]] = requests.get(f"{self.url}/_emulator/batches", timeout=120).json()
        return batches

    def products(self) -> list[dict[str, Any]]:
        products: list[dict[str, Any]] = requests.get(
            f"{self.url}/_emulator/stores/{STORE}/products", timeout=300
        ).json()
        return products

    def wait_idle(self, timeout: float = 900) -> None:
        deadline = time.monotonic() + timeout
        while any(batch["status"] != "COMPLETED" for batch in self.batches()):
            if time.monotonic() > deadline:
                raise TimeoutError("the emulator did not finish its batches")
            time.sleep(0.5)


@contextmanager
def emulator_process(*args: str) -> Iterator[EmulatorProcess]:
    port = free_port()
    command = [
        sys.executable,
        "-m",
        "airflow_provider_ecwid.testing.emulator",
        "--port",
        str(port),
        "--store-id",
        str(STORE),
        "--token",
        TOKEN,
        *args,
    ]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(400):
            try:
                requests.get(f"{url}/_emulator/stats", timeout=1)
                break
            except requests.RequestException:
                time.sleep(0.05)
        yield EmulatorProcess(url, process)
    finally:
        process.terminate()
        process.wait(30)


@dataclass
class Figure:
    """One measured figure beside its baseline, and whether it meets its bar."""

    benchmark: str
    name: str
    value: float
    unit: str
    baseline_name: str = ""
    baseline: float | None = None
    bar: str = ""
    passed: bool | None = None
    notes: dict[str, Any] = field(default_factory=dict)


def machine() -> dict[str, Any]:
    cpu = platform.processor() or ""
    with suppress(OSError, StopIteration), open("/proc/cpuinfo") as info:
        cpu = next(line.split(":", 1)[1].strip() for line in info if line.startswith("model name"))
    return {
        "date": datetime.now(UTC).strftime("%Y-%m-%d"),
        "cpu": cpu,
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "memory_gib": round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1),
    }


def print_table(figures: list[Figure]) -> None:
    print(f"\n{'benchmark':<10} {'figure':<46} {'value':>14} {'baseline':>30} {'bar':>6}")
    for f in figures:
        base = f"{f.baseline:,.2f} ({f.baseline_name})" if f.baseline is not None else ""
        verdict = {True: "PASS", False: "FAIL", None: ""}[f.passed]
        print(f"{f.benchmark:<10} {f.name:<46} {f.value:>10,.2f} {f.unit:<3} {base:>30} {verdict:>6}")


def save(figures: list[Figure], name: str) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    path = RESULTS / f"{name}.json"
    path.write_text(json.dumps({"machine": machine(), "figures": [f.__dict__ for f in figures]}, indent=2) + "\n")
    return path
