"""The emulator's command line: ``python -m airflow_provider_ecwid.testing.emulator --port 8089``.

Serves an emulated Ecwid REST API (stores, catalog, orders and customers, batches) in the foreground until
Ctrl-C, and prints the API base URL and a connection to put in ``AIRFLOW_CONN_ECWID_DEFAULT``.
"""

from __future__ import annotations

import argparse
import signal
import time

from airflow_provider_ecwid.testing.config import SHORT_STATUS_MODES, EmulatorConfig
from airflow_provider_ecwid.testing.server import DEFAULT_STORE_ID, DEFAULT_TOKEN, EcwidEmulator

__all__ = ["EcwidEmulator", "main"]


def _parse_args(argv: list[str] | None) -> tuple[argparse.Namespace, EmulatorConfig]:
    parser = argparse.ArgumentParser(
        prog="python -m airflow_provider_ecwid.testing.emulator",
        description="Serve an emulated Ecwid REST API (stores, catalog, batches) for tests and demos.",
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8089, help="port (default 8089; 0 picks a free one)")
    parser.add_argument("--store-id", type=int, default=DEFAULT_STORE_ID, help="the first store's id")
    parser.add_argument("--token", default=DEFAULT_TOKEN, help="the first store's secret token")
    parser.add_argument(
        "--store", action="append", default=[], metavar="ID:TOKEN", help="another store and its token (repeatable)"
    )
    parser.add_argument("--processing-time", type=float, default=0.0, help="seconds per inner batch request")
    parser.add_argument("--latency", type=float, default=0.0, help="extra seconds per HTTP call")
    parser.add_argument("--time-factor", type=float, default=1.0, help="multiplies every emulated duration")
    parser.add_argument("--seed", type=int, default=None, help="seed of the random faults")
    parser.add_argument("--rate-limit", type=int, default=600, help="calls per token per minute (0: no limit)")
    parser.add_argument("--error-rate", type=float, default=0.0, help="probability of a 503 on an API call")
    parser.add_argument("--inner-error-rate", type=float, default=0.0, help="probability of a 500 on an inner request")
    parser.add_argument("--drop-rate", type=float, default=0.0, help="probability of closing a connection unanswered")
    parser.add_argument(
        "--rate-limit-window", type=float, default=60.0, help="seconds of the rate limit's window (Ecwid: 60)"
    )
    parser.add_argument(
        "--lost-answer-rate", type=float, default=0.0, help="probability that a created batch's answer is lost"
    )
    parser.add_argument(
        "--short-status",
        choices=[mode for mode in SHORT_STATUS_MODES if mode],
        default=None,
        help="answer finished batches without accounting for every request (a fault for tests)",
    )
    parser.add_argument(
        "--echo-authorization",
        action="store_true",
        help="error answers repeat the request's Authorization header, like a careless proxy (a secrecy test)",
    )
    parser.add_argument(
        "--refuse-inner",
        default=None,
        metavar="REGEX",
        help="answer 400 to inner requests whose 'METHOD path body' matches REGEX (a fault for tests)",
    )
    parser.add_argument(
        "--timestamp-resolution",
        type=int,
        default=1,
        metavar="SECONDS",
        help="floor every catalog timestamp to this many seconds (default 1; 60: minutes)",
    )
    parser.add_argument(
        "--nested-changes-keep-product-time",
        action="store_true",
        help="a change to a product's variations or images does not move its updateTimestamp",
    )
    parser.add_argument(
        "--import-lock",
        action="append",
        default=[],
        metavar="START:SECONDS",
        help="answer 449 to catalog writes from START to START+SECONDS after the first API call (repeatable)",
    )
    parser.add_argument("--customers", type=int, default=0, metavar="N", help="customers seeded in every store")
    parser.add_argument(
        "--orders", type=int, default=0, metavar="N", help="orders seeded in every store (placed by those customers)"
    )
    parser.add_argument(
        "--seeded-from",
        default=None,
        metavar="WHEN",
        help="update time of the first seeded order and customer: UNIX seconds or a date (default: a year earlier)",
    )
    parser.add_argument(
        "--seeded-to",
        default=None,
        metavar="WHEN",
        help="update time of the last seeded order and customer (default: now); the rest spread evenly between",
    )
    parser.add_argument("--order-prefix", default="ORD", help="orders' ids are PREFIX-NUMBER (default ORD)")
    parser.add_argument(
        "--churn-updates",
        type=int,
        default=0,
        metavar="K",
        help="after each page of /orders or /customers served, update K random records of that kind",
    )
    parser.add_argument(
        "--churn-deletes",
        type=int,
        default=0,
        metavar="D",
        help="after each page of /orders or /customers served, delete D random records of that kind",
    )
    args = parser.parse_args(argv)
    stores: dict[int, list[str]] = {args.store_id: [args.token]}
    for spec in args.store:
        store_id, _, token = spec.partition(":")
        if not store_id.isdigit() or not token:
            parser.error(f"--store wants ID:TOKEN, got {spec!r}")
        stores.setdefault(int(store_id), []).append(token)
    windows = []
    for spec in args.import_lock:
        start, _, length = spec.partition(":")
        try:
            windows.append((float(start), float(length)))
        except ValueError:
            parser.error(f"--import-lock wants START:SECONDS, got {spec!r}")
    try:
        config = EmulatorConfig(
            stores=stores,
            processing_time=args.processing_time,
            latency=args.latency,
            time_factor=args.time_factor,
            seed=args.seed,
            rate_limit_per_minute=args.rate_limit,
            rate_limit_window=args.rate_limit_window,
            error_rate=args.error_rate,
            inner_error_rate=args.inner_error_rate,
            drop_rate=args.drop_rate,
            import_lock_windows=windows,
            lost_answer_rate=args.lost_answer_rate,
            short_status=args.short_status,
            echo_authorization=args.echo_authorization,
            refuse_inner=args.refuse_inner,
            timestamp_resolution=args.timestamp_resolution,
            nested_changes_move_product=not args.nested_changes_keep_product_time,
            customers=args.customers,
            orders=args.orders,
            seeded_from=args.seeded_from,
            seeded_to=args.seeded_to,
            order_prefix=args.order_prefix,
            churn_updates=args.churn_updates,
            churn_deletes=args.churn_deletes,
        )
    except ValueError as err:
        parser.error(str(err))
    return args, config


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


def main(argv: list[str] | None = None) -> None:
    """Run the emulator in the foreground until interrupted."""
    args, config = _parse_args(argv)
    # SIGTERM stops it as cleanly as Ctrl-C; a shell's background job ignores SIGINT, so process managers and
    # scripts that start it with `&` stop it this way. Set before anything is printed: whoever reads the address
    # may send SIGTERM at once, and the default action would end the process without stopping the server.
    signal.signal(signal.SIGTERM, _interrupt)
    emulator = EcwidEmulator(config, host=args.host, port=args.port)
    try:
        emulator.start()
        print(f"Ecwid emulator listening; API base URL: {emulator.base_url}", flush=True)
        for store_id in config.stores:
            print(f"  store {store_id}: AIRFLOW_CONN_ECWID_DEFAULT='{emulator.connection_json(store_id)}'", flush=True)
        print("Press Ctrl-C (or send SIGTERM) to stop.", flush=True)
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass
    finally:
        emulator.stop()


if __name__ == "__main__":
    main()
