"""Five clients of one token against the emulator's 600-a-minute limit: one shared budget versus five of their own.

Four client processes stand in for four tasks on one store token, a fifth for a deferrable sync's stints and its
trigger. Each calls ``GET /profile`` as fast as its client lets it for ``--seconds``. Two phases, each against a
fresh emulator (so each starts with an empty rate window):

- baseline: today's per-process token buckets (``EcwidClient`` without a shared budget): 5 x 500 a minute;
- shared: clients built from the connection, which share one budget in the default SQLite file of this machine.

Reported: the emulator's 429 answers (the shared phase must have 0) and the calls a minute the five achieved
together against the configured budget (500 a minute; the bar is 85%).

    python -m benchmarks.bench_shared_budget --seconds 60
"""

from __future__ import annotations

import argparse
import multiprocessing
import time
from typing import Any

from airflow_provider_ecwid.api.client import EcwidClient
from airflow_provider_ecwid.api.connection import settings_from_connection
from airflow_provider_ecwid.errors import EcwidError
from benchmarks.common import STORE, TOKEN, Figure, emulator_process, print_table, save

BUDGET = 500  # the connection's rate_limit_per_minute (the default)
CLIENTS = 5  # four tasks plus a deferrable sync's stints and trigger


def _client(base_url: str, shared: bool) -> EcwidClient:
    extra = {"base_url": base_url, "rate_limit_per_minute": BUDGET, "max_retry_wait": 30}
    settings = settings_from_connection("ecwid_bench", login=str(STORE), password=TOKEN, extra=extra)
    if shared:
        return settings.make_client()
    return EcwidClient(  # what every client was before: its own bucket only
        STORE, TOKEN, base_url=base_url, rate_limit_per_minute=BUDGET, max_retry_wait=30
    )


def _calls(base_url: str, shared: bool, start_at: float, seconds: float, out: Any) -> None:
    client = _client(base_url, shared)
    time.sleep(max(0.0, start_at - time.time()))
    ok = failed = 0
    while time.time() < start_at + seconds:
        try:
            client.get_profile()
            ok += 1
        except EcwidError:
            failed += 1
    client.close()
    out.put((ok, failed))


def run_phase(shared: bool, seconds: float) -> dict[str, float]:
    """One phase against a fresh emulator: the calls that succeeded, failed, and the emulator's 429 answers."""
    with emulator_process("--rate-limit", "600") as emulator:
        context = multiprocessing.get_context("spawn")
        out = context.Queue()
        start_at = time.time() + 5.0  # every process has built its client by then
        workers = [
            context.Process(target=_calls, args=(emulator.base_url, shared, start_at, seconds, out))
            for _ in range(CLIENTS)
        ]
        for worker in workers:
            worker.start()
        results = [out.get(timeout=seconds + 120) for _ in workers]
        for worker in workers:
            worker.join(timeout=60)
        ok = sum(result[0] for result in results)
        return {
            "ok": ok,
            "failed": sum(result[1] for result in results),
            "answers_429": emulator.calls(status=429),
            "per_minute": ok / seconds * 60,
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0, help="how long each phase calls (default 60)")
    args = parser.parse_args()
    baseline = run_phase(shared=False, seconds=args.seconds)
    print(f"baseline (a bucket per process): {baseline}")
    shared = run_phase(shared=True, seconds=args.seconds)
    print(f"shared (one budget per token):   {shared}")
    share = shared["per_minute"] / BUDGET * 100
    figures = [
        Figure(
            "budget",
            f"429 answers, {CLIENTS} clients of one token",
            shared["answers_429"],
            "",
            "a bucket per process",
            baseline["answers_429"],
            "0",
            shared["answers_429"] == 0,
            {"seconds": args.seconds, "shared": shared, "baseline": baseline},
        ),
        Figure(
            "budget",
            f"calls a minute together, % of {BUDGET}",
            share,
            "%",
            "a bucket per process",
            baseline["per_minute"] / BUDGET * 100,
            ">= 85",
            share >= 85,
        ),
    ]
    print_table(figures)
    print(f"saved {save(figures, 'bench_shared_budget')}")


if __name__ == "__main__":
    main()
