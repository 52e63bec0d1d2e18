"""How many inner batch requests a second the emulator sustains with zero processing time.

The emulator must never be the bottleneck of the provider's benchmarks. Measured side by side in one run:
- batches: N batches of 500 product creations submitted over HTTP, timed until the last one completes;
- baseline: the same number of products created one HTTP call each (what the batch API saves).

Run: .venv/bin/python -m benchmarks.emulator_throughput [--requests 50000]
"""

from __future__ import annotations

import argparse
import json
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import requests

from airflow_provider_ecwid.testing import EcwidEmulator
from benchmarks.common import Figure


def session_for(emulator: EcwidEmulator) -> requests.Session:
    session = requests.Session()
    session.headers["Authorization"] = f"Bearer {emulator.token()}"
    return session


def product(n: int, prefix: str) -> dict[str, Any]:
    return {"sku": f"{prefix}{n:07d}", "name": f"Product {n}", "price": 9.99, "quantity": 3, "enabled": True}


def through_batches(total: int) -> float:
    with EcwidEmulator(rate_limit_per_minute=0) as emulator:
        session = session_for(emulator)
        base = f"{emulator.base_url}/{emulator.store_id}"
        payloads = [
            json.dumps(
                [
                    {"id": str(n), "method": "POST", "path": "/products", "body": product(n, "B")}
                    for n in range(s, s + 500)
                ]
            )
            for s in range(0, total, 500)
        ]
        started = time.perf_counter()
        tickets = [
            session.post(f"{base}/batch", data=p, headers={"Content-Type": "application/json"}).json()["ticket"]
            for p in payloads
        ]
        while session.get(f"{base}/batch", params={"ticket": tickets[-1]}).json()["status"] != "COMPLETED":
            time.sleep(0.005)
        elapsed = time.perf_counter() - started
        assert len(emulator.products()) == total
        return total / elapsed


def one_call_each(total: int) -> float:
    with EcwidEmulator(rate_limit_per_minute=0) as emulator:
        base = f"{emulator.base_url}/{emulator.store_id}"
        sessions = [session_for(emulator) for _ in range(4)]

        def create(n: int) -> None:
            answer = sessions[n % 4].post(f"{base}/products", json=product(n, "D"))
            answer.raise_for_status()

        started = time.perf_counter()
        with ThreadPoolExecutor(max_workers=4) as pool:
            list(pool.map(create, range(total)))
        elapsed = time.perf_counter() - started
        assert len(emulator.products()) == total
        return total / elapsed


def run(requests_: int = 50_000, direct_count: int = 5_000) -> list[Figure]:
    batched = through_batches(requests_)
    direct = one_call_each(direct_count)
    return [
        Figure(
            "emulator",
            "inner requests/s, zero processing time",
            batched,
            "r/s",
            "one call per product",
            direct,
            ">= 2,000 r/s",
            batched >= 2000,
        )
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--requests", type=int, default=50_000, help="inner requests (a multiple of 500)")
    parser.add_argument("--direct", type=int, default=5_000, help="products created one call each (baseline)")
    args = parser.parse_args()
    batched = through_batches(args.requests)
    direct = one_call_each(args.direct)
    print(f"{'route':<42}{'requests/s':>12}")
    print(f"{'batch API, zero processing time':<42}{batched:>12,.0f}")
    print(f"{'one HTTP call per product (4 threads)':<42}{direct:>12,.0f}")
    verdict = "PASS" if batched >= 2000 else "FAIL"
    print(f"batches / direct: {batched / direct:.1f}x; bar: >= 2,000 inner requests/s -> {verdict}")


if __name__ == "__main__":
    main()
