"""An Ecwid store in memory, for Airflow-free tests of the catalog run.

The emulator's own state and catalog handlers sit behind a ``requests`` transport adapter, so a real
:class:`EcwidClient` (its paging, status parsing and token scrubbing) talks to them with no HTTP server. A batch runs
in full the moment it is created, unless the store is held: then it stays queued, as on a busy store, until
:meth:`MemoryStore.release`.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import requests
from requests.adapters import BaseAdapter

from airflow_provider_ecwid.api.client import EcwidClient
from airflow_provider_ecwid.testing import catalog
from airflow_provider_ecwid.testing.answers import Answer, EcwidFault, bad_request
from airflow_provider_ecwid.testing.batches import Batch, parse_items
from airflow_provider_ecwid.testing.config import EmulatorConfig
from airflow_provider_ecwid.testing.runner import BatchRunner
from airflow_provider_ecwid.testing.state import EmulatorState
from airflow_provider_ecwid.testing.store import product_view

STORE_ID, TOKEN = 1002, "secret_memory"
BASE_URL = "http://127.0.0.1:9/api/v3"  # loopback, so plain HTTP is allowed; the adapter answers, nothing listens


class MemoryStore(BaseAdapter):
    """
    One store in memory, answering as Ecwid's REST API does.

    :param refuse_inner: inner requests to answer 400 (a regex on ``METHOD path body``, as the emulator's knob).
    """

    def __init__(self, refuse_inner: str | None = None) -> None:
        super().__init__()
        self.state = EmulatorState(EmulatorConfig(stores={STORE_ID: [TOKEN]}, refuse_inner=refuse_inner))
        self.runner = BatchRunner(self.state)
        self.held: list[Batch] = []
        self.holding = False

    def client(self) -> EcwidClient:
        """A real client of this store, with no shared budget and no waiting between calls."""
        session = requests.Session()
        session.mount(BASE_URL, self)
        return EcwidClient(STORE_ID, TOKEN, base_url=BASE_URL, rate_limit_per_minute=10**9, session=session)

    def add_product(self, sku: str, **fields: Any) -> int:
        """A product the store has before the test; its id."""
        with self.state.lock:
            answer = catalog.handle(self.state.stores[STORE_ID], "POST", "/products", {}, {"sku": sku, **fields})
        return int(answer.body["id"])

    def batch_count(self) -> int:
        """How many batches the store was sent (a resent deduplication key is not a new one)."""
        return len(self.state.list_batches(STORE_ID, None))

    def add_category(self, name: str) -> None:
        """A category the store has before the sync (a top-level one)."""
        with self.state.lock:
            catalog.handle(self.state.stores[STORE_ID], "POST", "/categories", {}, {"name": name, "enabled": True})

    def hold(self) -> None:
        """Run no batch until :meth:`release`: they stay queued."""
        self.holding = True

    def run_next(self) -> None:
        """Run the oldest held batch (the store goes on holding the others)."""
        if self.held:
            self._run(self.held.pop(0))

    def release(self) -> None:
        """Run the held batches, in the order they came."""
        self.holding = False
        while self.held:
            self._run(self.held.pop(0))

    # -- what the test reads --------------------------------------------------------------------------------

    def products(self) -> list[dict[str, Any]]:
        store = self.state.stores[STORE_ID]
        return [product_view(store, product) for product in store.products.values()]

    def categories(self) -> list[dict[str, Any]]:
        return list(self.state.stores[STORE_ID].categories.values())

    def inner(self, method: str, endpoint: str, status: int = 200) -> int:
        """How many inner requests of ``method endpoint`` the store carried out with ``status``."""
        return self.state.inner_calls[(STORE_ID, method, endpoint, status)]

    # -- the transport --------------------------------------------------------------------------------------

    def send(self, request: requests.PreparedRequest, **_: Any) -> requests.Response:  # type: ignore[override]
        parts = urlsplit(str(request.url))
        path = parts.path.removeprefix(f"/api/v3/{STORE_ID}")
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        raw = request.body.encode() if isinstance(request.body, str) else request.body
        body = json.loads(raw) if raw else None
        try:
            answer = self._answer(str(request.method), path, query, body)
        except EcwidFault as fault:
            answer = fault.answer
        response = requests.Response()
        response.status_code = answer.status
        response._content = b"" if answer.body is None else json.dumps(answer.body).encode()
        response.headers.update({"Content-Type": "application/json", **answer.headers})
        response.url = str(request.url)
        response.request = request
        return response

    def close(self) -> None:
        """Nothing to close."""

    def _answer(self, method: str, path: str, query: dict[str, str], body: Any) -> Answer:
        state = self.state
        if path == "/batch/cancel-group" and method == "POST":
            return Answer(200, {"updateCount": state.cancel_group(STORE_ID, query["groupId"])})
        if path != "/batch":
            with state.lock:
                return catalog.handle(state.stores[STORE_ID], method, path, query, body)
        if method == "POST":
            batch, is_new = state.create_batch(STORE_ID, parse_items(body), query)
            if is_new:
                self.held.append(batch) if self.holding else self._run(batch)
            return Answer(200, {"ticket": batch.ticket})
        if method == "GET" and query.get("ticket"):
            with state.lock:
                batch = state.find_batch(STORE_ID, query["ticket"])
                return Answer(200, batch.status_answer(escaped=query.get("escapedJson", "").lower() == "true"))
        if method == "GET":
            return catalog.page_answer(state.list_batches(STORE_ID, query.get("status") or None), query)
        raise bad_request(f"{method} /batch is not emulated here")

    def _run(self, batch: Batch) -> None:
        if not batch.deleted and batch.state != "COMPLETED":  # a cancelled group's batch is left as it is
            asyncio.run(self.runner.run(batch))
