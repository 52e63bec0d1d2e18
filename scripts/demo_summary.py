"""Print what the emulator saw since the previous call: products, API calls, failed rows (for scripts/demo)."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections import Counter
from pathlib import Path

import requests


def wait_ready(url: str) -> None:
    for _ in range(200):
        try:
            requests.get(f"{url}/_emulator/stats", timeout=1).raise_for_status()
            return
        except requests.RequestException:
            time.sleep(0.05)
    sys.exit(f"the emulator at {url} did not start")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--url", required=True)
    parser.add_argument("--label", default="")
    parser.add_argument("--state", type=Path, help="where the previous counters are kept")
    parser.add_argument("--wait-ready", action="store_true")
    parser.add_argument("--expect-nothing-created", action="store_true", help="fail if this run created products")
    args = parser.parse_args()
    if args.wait_ready:
        wait_ready(args.url)
        return
    stats = requests.get(f"{args.url}/_emulator/stats", timeout=10).json()
    products = requests.get(f"{args.url}/_emulator/stores/1002/products", timeout=10).json()
    counts = Counter({f"{r['scope']} {r['method']} {r['endpoint']} {r['status']}": r["count"] for r in stats["calls"]})
    previous = Counter(json.loads(args.state.read_text())) if args.state and args.state.exists() else Counter()
    if args.state:
        args.state.write_text(json.dumps(counts))
    delta = counts - previous
    http = sum(n for key, n in delta.items() if key.startswith("http "))
    failed = sum(n for key, n in delta.items() if key.startswith("inner ") and int(key.rsplit(" ", 1)[1]) >= 400)
    created = sum(n for key, n in delta.items() if key.startswith("inner POST /products "))
    updated = sum(n for key, n in delta.items() if key.startswith("inner PUT /products/{id} "))
    print(f"   {args.label}: {len(products):,} products in the store; this run used {http:,} API call(s)")
    for key, count in sorted(delta.items()):
        if key.startswith("http "):
            print(f"      {count:>6,}  {key[5:]}")
    print(f"   inside batches: {created:,} created, {updated:,} updated, {failed:,} failed row(s)")
    if args.expect_nothing_created:
        if created:
            sys.exit(f"   the second run created {created:,} product(s): the import is not idempotent")
        print("   the second run created nothing: every SKU was already in the store, and nothing had changed")


if __name__ == "__main__":
    main()
