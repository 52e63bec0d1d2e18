"""One request model over real HTTP: a direct batch is checked before anything is POSTed, and the dry run's
preview is, byte for byte, what a real run POSTs."""

from __future__ import annotations

import json
from collections.abc import Callable
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pandas as pd
import pytest
import requests

from airflow_provider_ecwid.api.client import EcwidClient
from airflow_provider_ecwid.batch.models import BatchRequest
from airflow_provider_ecwid.errors import EcwidValidationError
from airflow_provider_ecwid.operators.batch import EcwidBatchOperator
from airflow_provider_ecwid.operators.catalog import EcwidCatalogSyncOperator
from airflow_provider_ecwid.testing import EcwidEmulator
from tests.integration.fakes import FakeTaskInstance, make_context
from tests.integration.helpers import wait_for_batches


def test_a_direct_batch_with_an_unsafe_path_is_refused_before_any_post(ecwid_emulator: EcwidEmulator) -> None:
    client = EcwidClient(ecwid_emulator.store_id, ecwid_emulator.token(), base_url=ecwid_emulator.base_url)
    good = BatchRequest(path="/products", method="POST", body={"sku": "A", "name": "A"})
    for unsafe in ("/products/%2e%2e/%2e%2e/profile", "//evil.example.com/products", "/products?token=x"):
        with pytest.raises(EcwidValidationError) as caught:
            client.create_batch([good, {"path": unsafe, "method": "GET"}])
        assert [(problem.row, problem.column) for problem in caught.value.problems] == [(1, "path")]
    assert ecwid_emulator.call_count(method="POST", endpoint="/batch") == 0
    client.create_batch([good])  # the same client sends a safe batch
    assert ecwid_emulator.call_count(method="POST", endpoint="/batch") == 1


def _frame() -> pd.DataFrame:
    frame: pd.DataFrame = pd.DataFrame(
        {
            "pid": [11, 12, 13, 14, 15],
            "sku": ["A-1", "B-2", "C-3", "D-4", "E-5"],
            "name": ["Café ☕", 'Quote " and \\ slash', "tab\there", "Ünïcode", "plain"],
            "price": [9.5, 0.1, 1e-7, 12345678901.5, 3.0],
            "op": ["PUT", "DELETE", "PUT", "PUT", "DELETE"],
        }
    )
    return frame


def _nested(row: dict[str, Any]) -> dict[str, Any]:
    return {"name": row["name"], "attributes": [{"name": "price", "value": row["price"]}]}


READY = [
    {
        "id": "r-a",
        "path": "/products",
        "method": "POST",
        "body": {"sku": "R-A", "name": "Ärger", "price": Decimal("9.50")},
    },
    {"path": "/products/7", "method": "delete"},
    {"id": 3, "path": "/products?sku=a%20b", "method": "GET"},
    {"id": "r-d", "path": "/products", "method": "POST", "body": {"sku": "R-D", "name": "x", "price": 1}},
]

INPUTS: dict[str, Callable[[], dict[str, Any]]] = {
    "Arrow route": lambda: {"data": _frame().drop(columns=["op"]), "path": "/products/{pid}", "method": "PUT"},
    "row route, body callable": lambda: {"data": _frame(), "path": "/products/{pid}", "method": "PUT", "body": _nested},
    "row route, method column": lambda: {
        "data": _frame(),
        "path": "/products/{pid}",
        "method_column": "op",
        "body_columns": ["name", "price"],
        "id_column": "sku",
    },
    "ready requests": lambda: {"data": READY},
}


def _posted_batches(task: EcwidBatchOperator | EcwidCatalogSyncOperator) -> list[bytes]:
    """The bodies of the batch POSTs the task's client makes, as they went over the wire."""
    bodies: list[bytes] = []

    def keep(response: requests.Response, *args: Any, **kwargs: Any) -> None:
        sent = response.request
        if sent.method == "POST" and urlsplit(str(sent.url)).path.endswith("/batch"):
            assert isinstance(sent.body, bytes)
            bodies.append(sent.body)

    task.hook.get_conn().session.hooks["response"].append(keep)
    return bodies


@pytest.mark.parametrize("route", INPUTS)
def test_the_dry_run_shows_the_bytes_a_real_run_posts(emulator_conn: EcwidEmulator, route: str) -> None:
    preview = EcwidBatchOperator(task_id="t", dry_run=True, **INPUTS[route]()).execute(make_context())
    assert emulator_conn.call_count(method="POST", endpoint="/batch") == 0
    shown = [text.encode() for text in preview["first_requests"]]
    assert len(shown) == 3

    task = EcwidBatchOperator(task_id="t", **INPUTS[route]())
    posted = _posted_batches(task)
    task.execute(make_context())
    assert len(posted) == 1
    assert posted[0].startswith(b"[" + b",".join(shown) + b",")


def test_the_catalog_syncs_dry_run_shows_the_bytes_it_posts(emulator_conn: EcwidEmulator) -> None:
    feed = pd.DataFrame({"sku": ["S-1", "S-2", "S-3"], "name": ["Ä", "b", "c"], "price": [1.5, 2.0, 3.25]})
    EcwidCatalogSyncOperator(task_id="sync", data=feed.iloc[1:]).execute(make_context())
    wait_for_batches(emulator_conn)  # the first sync's batch runs before the store is read again
    feed.loc[2, "price"] = 9.75  # S-1 is new, S-3 changed: one create, one update
    preview = EcwidCatalogSyncOperator(task_id="sync", data=feed, dry_run=True).execute(make_context())
    shown = [text.encode() for text in preview["first_requests"]]
    assert [json.loads(request)["method"] for request in shown] == ["POST", "PUT"]

    task = EcwidCatalogSyncOperator(task_id="sync", data=feed)
    posted = _posted_batches(task)
    task.execute(make_context(FakeTaskInstance(run_id="run-2")))
    assert posted == [b"[" + b",".join(shown) + b"]"]
