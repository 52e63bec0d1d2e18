"""EcwidEmulator: the emulator served by uvicorn in a background thread, with a handle to inspect it.

From Python (tests, benchmarks, your own DAG tests)::

    from airflow_provider_ecwid.testing import EcwidEmulator

    with EcwidEmulator(processing_time=0.01) as emulator:
        os.environ["AIRFLOW_CONN_ECWID_DEFAULT"] = emulator.connection_json()
        ...
        assert emulator.call_count(method="POST", endpoint="/batch") == 2
"""

from __future__ import annotations

import copy
import json
import socket
import threading
import time
from typing import Any
from urllib.parse import quote

import uvicorn

from airflow_provider_ecwid.testing.app import API_PREFIX, create_app
from airflow_provider_ecwid.testing.config import EmulatorConfig
from airflow_provider_ecwid.testing.images import sources as image_sources
from airflow_provider_ecwid.testing.state import EmulatorState
from airflow_provider_ecwid.testing.store import product_view

DEFAULT_STORE_ID = 1002
DEFAULT_TOKEN = "secret_demo"


def count_calls(
    stats: dict[str, Any],
    *,
    scope: str = "http",
    method: str | None = None,
    endpoint: str | None = None,
    status: int | None = None,
) -> int:
    """Sum the counters of an emulator's stats (``GET /_emulator/stats``) that match every given filter."""
    return sum(
        row["count"]
        for row in stats["calls"]
        if row["scope"] == scope
        and (method is None or row["method"] == method)
        and (endpoint is None or row["endpoint"] == endpoint)
        and (status is None or row["status"] == status)
    )


class EcwidEmulator:
    """
    A real HTTP server on a loopback port that behaves like Ecwid's REST API, with a handle to inspect it.

    :param config: the full configuration; or give its fields as keyword arguments instead.
    :param host: the address to listen on (loopback by default).
    :param port: the port; 0 picks a free one.
    :param knobs: fields of :class:`EmulatorConfig` (``processing_time``, ``error_rate``, ``stores``...).
    """

    def __init__(
        self, config: EmulatorConfig | None = None, *, host: str = "127.0.0.1", port: int = 0, **knobs: Any
    ) -> None:
        if config is not None and knobs:
            raise TypeError("give either config or keyword knobs, not both")
        self.config = config or EmulatorConfig(**knobs)
        self.state = EmulatorState(self.config)
        self.host = host
        self._requested_port = port
        self.port: int | None = None
        self._server: uvicorn.Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------------------------------

    def start(self, timeout: float = 15.0) -> EcwidEmulator:
        """Start serving in a background thread; return once the port answers."""
        if self._thread is not None:
            raise RuntimeError("the emulator is already running")
        sock = socket.socket(socket.AF_INET6 if ":" in self.host else socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((self.host, self._requested_port))
        self.port = sock.getsockname()[1]
        server_config = uvicorn.Config(
            create_app(self.state),
            log_level="warning",
            access_log=False,
            lifespan="on",
            timeout_keep_alive=30,
            date_header=False,  # the app dates its answers by the emulator's clock, which tests move
        )
        self._server = uvicorn.Server(server_config)
        self._thread = threading.Thread(
            target=self._server.run, kwargs={"sockets": [sock]}, name="ecwid-emulator", daemon=True
        )
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the Ecwid emulator did not start")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 15.0, wait: bool = True) -> None:
        """Stop serving and wait (at most ``timeout`` seconds) for the thread to end; ``wait=False`` returns at
        once, while uvicorn takes its 0.1-0.2 s to shut down in the background."""
        if self._server is not None and self._thread is not None:
            self._server.should_exit = True
            if wait:
                self._thread.join(timeout)
        self._server = None
        self._thread = None

    def __enter__(self) -> EcwidEmulator:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # -- where to connect --------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        """The server's root URL, e.g. ``http://127.0.0.1:8089``."""
        if self.port is None:
            raise RuntimeError("the emulator is not started")
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def base_url(self) -> str:
        """The API base to put in the connection's ``base_url``, e.g. ``http://127.0.0.1:8089/api/v3``."""
        return self.url + API_PREFIX

    @property
    def store_id(self) -> int:
        """The first store's id."""
        return next(iter(self.config.stores))

    def token(self, store_id: int | None = None) -> str:
        """The first token of ``store_id`` (default: the first store)."""
        return self.config.stores[store_id if store_id is not None else self.store_id][0]

    def connection_json(self, store_id: int | None = None, **extra: Any) -> str:
        """An ``AIRFLOW_CONN_...`` value (JSON) pointing at this emulator."""
        sid = store_id if store_id is not None else self.store_id
        return json.dumps(
            {
                "conn_type": "ecwid",
                "login": str(sid),
                "password": self.token(sid),
                "extra": {"base_url": self.base_url, **extra},
            }
        )

    def connection_uri(self, store_id: int | None = None) -> str:
        """An ``AIRFLOW_CONN_...`` value (URI) pointing at this emulator."""
        sid = store_id if store_id is not None else self.store_id
        return f"ecwid://{sid}:{quote(self.token(sid), safe='')}@/?base_url={quote(self.base_url, safe='')}"

    # -- inspection --------------------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        """Counters of API calls (``scope`` http) and inner batch requests (``scope`` inner)."""
        return self.state.stats()

    def call_count(
        self, *, scope: str = "http", method: str | None = None, endpoint: str | None = None, status: int | None = None
    ) -> int:
        """How many calls matched; ``endpoint`` is a pattern such as ``/batch`` or ``/products/{id}``."""
        return count_calls(self.stats(), scope=scope, method=method, endpoint=endpoint, status=status)

    def products(self, store_id: int | None = None) -> list[dict[str, Any]]:
        """The store's products as the API answers them (with combinations and the images' CDN URLs)."""
        with self.state.lock:
            store = self.state.stores[store_id if store_id is not None else self.store_id]
            return [product_view(store, product) for product in store.products.values()]

    def images(self, store_id: int | None = None) -> list[dict[str, Any]]:
        """Every image with the URL it was copied from (which Ecwid's API never shows): sku, kind, position, url."""
        with self.state.lock:
            return image_sources(self.state.stores[store_id if store_id is not None else self.store_id])

    def categories(self, store_id: int | None = None) -> list[dict[str, Any]]:
        """A copy of the store's categories."""
        with self.state.lock:
            store = self.state.stores[store_id if store_id is not None else self.store_id]
            return copy.deepcopy(list(store.categories.values()))

    def batches(self) -> list[dict[str, Any]]:
        """Every batch with its state and timings."""
        with self.state.lock:
            return [batch.timings() for batch in self.state.batches.values()]

    def reset(self) -> None:
        """Forget products, batches, counters and rate windows."""
        self.state.reset()

    def advance_clock(self, seconds: float) -> None:
        """Move the emulator's clock forward (deduplication TTL, rate windows, 449 windows)."""
        self.state.advance_clock(seconds)

    def hold_processing(self) -> None:
        """Start no queued batch until :meth:`release_processing` (the batch running finishes): queued work waits,
        and can be cancelled (``DELETE /batch``), as on a busy store."""
        self.state.hold_processing(True)

    def release_processing(self) -> None:
        """Start queued batches again, in order."""
        self.state.hold_processing(False)

    def lock_imports(self, seconds: float) -> None:
        """Answer 449 to catalog writes for the next ``seconds``."""
        self.state.lock_imports(seconds)

    # -- orders and customers ----------------------------------------------------------------------------

    def seed_orders(
        self,
        count: int,
        *,
        updated_from: int | str | None = None,
        updated_to: int | str | None = None,
        seed: int | None = None,
        store_id: int | None = None,
    ) -> dict[str, Any]:
        """
        Add ``count`` orders, placed by the customers seeded before them (15 % by guests; all, if none was).

        Their update times spread evenly from ``updated_from`` to ``updated_to`` (UNIX seconds or a date text such
        as ``"2026-12-01"`` or ``"2026-12-01 23:59:59"``; defaults: a year before ``updated_to``, and the
        emulator's clock), in the order of their ids. Each call's range must not overlap an earlier one's, so
        "5,000 orders on 2026-12-01 and 95,000 before" is two calls. The same seed gives the same orders; a
        million costs no time and no memory until they are read (each is made when an answer needs it).

        :returns: what was added: ``count``, ``first_id``, ``last_id``, ``updated_from``, ``updated_to``.
        :raises ValueError: for a bad date, a range that runs backwards or overlaps an earlier one.
        """
        return self.state.seed_sales(self._sid(store_id), "orders", count, updated_from, updated_to, seed)

    def seed_customers(
        self,
        count: int,
        *,
        updated_from: int | str | None = None,
        updated_to: int | str | None = None,
        seed: int | None = None,
        store_id: int | None = None,
    ) -> dict[str, Any]:
        """Add ``count`` customers, as :meth:`seed_orders` adds orders (seed them first: orders name them)."""
        return self.state.seed_sales(self._sid(store_id), "customers", count, updated_from, updated_to, seed)

    def set_churn(
        self, updates: int = 0, deletes: int = 0, *, seed: int | None = None, store_id: int | None = None
    ) -> dict[str, Any]:
        """
        Change the store while it is read: after each page of ``GET /orders`` or ``GET /customers`` served
        (directly or inside a batch), update ``updates`` random records of that kind (their update time moves to
        now; an order's fulfilment moves one step on) and delete ``deletes``. ``set_churn()`` stops it. The log
        of changes starts afresh.
        """
        return self.state.set_churn(self._sid(store_id), updates, deletes, seed)

    def churn_log(self, store_id: int | None = None) -> dict[str, Any]:
        """
        What the churn knob did: ``updates``, ``deletes``, ``seed``, ``pages`` (pages served by kind),
        ``updated`` and ``deleted`` (counts), and ``changes``: each ``{"entity", "action", "id", "at", "date",
        "page"}`` (``entity`` orders or customers, ``action`` updated or deleted, ``at`` UNIX seconds, ``page`` the
        number of that kind's pages served before it).
        """
        return self.state.churn_report(self._sid(store_id))

    def _sid(self, store_id: int | None) -> int:
        return store_id if store_id is not None else self.store_id
