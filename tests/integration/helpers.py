"""Small helpers for talking to the emulator over real HTTP in tests."""

from __future__ import annotations

import time
from typing import Any

import requests

from airflow_provider_ecwid.testing import EcwidEmulator


class Api:
    """A thin requests wrapper bound to one emulated store (the raw wire, no provider code)."""

    def __init__(self, emulator: EcwidEmulator, store_id: int | None = None, token: str | None = None) -> None:
        self.store_id = store_id if store_id is not None else emulator.store_id
        self.base = f"{emulator.base_url}/{self.store_id}"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token or emulator.token(self.store_id)}"

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.base + path, timeout=10, **kwargs)

    def batch(self, items: list[dict[str, Any]], **params: Any) -> str:
        params = {name: str(value).lower() if isinstance(value, bool) else value for name, value in params.items()}
        answer = self.call("POST", "/batch", json=items, params=params)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["ticket"])

    def status(self, ticket: str, escaped: bool = True) -> dict[str, Any]:
        answer = self.call("GET", "/batch", params={"ticket": ticket, "escapedJson": str(escaped).lower()})
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    def wait(self, ticket: str, timeout: float = 20.0) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            status = self.status(ticket)
            if status["status"] == "COMPLETED":
                return status
            assert time.monotonic() < deadline, f"batch {ticket} did not complete: {status}"
            time.sleep(0.02)


def product_request(sku: str, request_id: str | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "id": request_id or sku,
        "method": "POST",
        "path": "/products",
        "body": {"sku": sku, "name": f"Product {sku}", "price": 1.0, **fields},
    }
