"""Print what the emulator saw since the previous call: the catalog, API calls, inner requests (for scripts/demo)."""

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
    parser.add_argument("--expect-nothing-sent", action="store_true", help="fail if this run sent inner requests")
    parser.add_argument("--expect-inner", default="", help="'METHOD endpoint=n,...': exactly these inner requests")
    args = parser.parse_args()
    if args.wait_ready:
        wait_ready(args.url)
        return
    stats = requests.get(f"{args.url}/_emulator/stats", timeout=10).json()
    products = requests.get(f"{args.url}/_emulator/stores/1002/products", timeout=10).json()
    categories = requests.get(f"{args.url}/_emulator/stores/1002/categories", timeout=10).json()
    images = requests.get(f"{args.url}/_emulator/stores/1002/images", timeout=10).json()
    counts = Counter({f"{r['scope']} {r['method']} {r['endpoint']} {r['status']}": r["count"] for r in stats["calls"]})
    previous = Counter(json.loads(args.state.read_text())) if args.state and args.state.exists() else Counter()
    if args.state:
        args.state.write_text(json.dumps(counts))
    delta = counts - previous
    http = sum(n for key, n in delta.items() if key.startswith("http "))
    failed = sum(n for key, n in delta.items() if key.startswith("inner ") and int(key.rsplit(" ", 1)[1]) >= 400)
    inner: Counter[str] = Counter()
    for key, count in delta.items():
        if key.startswith("inner "):
            inner[key[6:].rsplit(" ", 1)[0]] += count
    variations = sum(len(p.get("combinations", [])) for p in products)
    print(
        f"   {args.label}: {len(products):,} products, {variations:,} variations, {len(categories):,} categories, "
        f"{len(images):,} images in the store; this run used {http:,} API call(s)"
    )
    for key, count in sorted(delta.items()):
        if key.startswith("http "):
            print(f"      {count:>6,}  {key[5:]}")
    print(f"   inside batches: {sum(inner.values()):,} request(s), {failed:,} failed")
    for key, count in sorted(inner.items()):
        print(f"      {count:>6,}  {key}")
    if args.expect_nothing_sent:
        if inner:
            sys.exit(f"   this run sent {sum(inner.values()):,} inner request(s): the import is not idempotent")
        print("   this run sent no inner request: every category, product, variation and image was already there")
    if args.expect_inner:
        wanted = Counter({item.rsplit("=", 1)[0]: int(item.rsplit("=", 1)[1]) for item in args.expect_inner.split(",")})
        if inner != wanted:
            sys.exit(f"   this run sent {dict(inner)}, not exactly {dict(wanted)}")
        print("   this run sent exactly the changes: one price, one image, one new variation")


if __name__ == "__main__":
    main()
