"""One request model: ready requests become BatchRequest once, one validator judges paths and methods, the
client trusts the core's chunks, and the dry-run preview is the chunks' own bytes."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from decimal import Decimal
from typing import Any

import msgspec
import pandas as pd
import pytest
import requests_mock as rm

from airflow_provider_ecwid.api.client import EcwidClient
from airflow_provider_ecwid.batch import paths, ready
from airflow_provider_ecwid.batch.build import RequestBuilder
from airflow_provider_ecwid.batch.chunks import EncodedChunk
from airflow_provider_ecwid.batch.models import BatchRequest
from airflow_provider_ecwid.batch.plan import BatchPlan
from airflow_provider_ecwid.batch.problems import ProblemLog
from airflow_provider_ecwid.batch.ready import checked_batch, ready_requests
from airflow_provider_ecwid.batch.sources import make_source
from airflow_provider_ecwid.batch.wire import encode
from airflow_provider_ecwid.errors import EcwidConfigError

BASE = "https://app.ecwid.com/api/v3/1002"


@pytest.fixture
def http() -> Iterator[rm.Mocker]:
    with rm.Mocker() as mocker:
        mocker.post(f"{BASE}/batch", json={"ticket": "tk"})
        yield mocker


@pytest.fixture
def client() -> Iterator[EcwidClient]:
    with EcwidClient(1002, "secret_x", rate_limit_per_minute=6000) as made:
        yield made


@pytest.fixture
def path_checks(monkeypatch: pytest.MonkeyPatch) -> list[object]:
    """Every path the one path validator judges (wherever it is called from)."""
    judged: list[object] = []
    original = paths.path_problem

    def counting(path: object) -> str | None:
        judged.append(path)
        return original(path)

    monkeypatch.setattr(paths, "path_problem", counting)  # check_api_path's
    monkeypatch.setattr(ready, "path_problem", counting)  # the ready-request check's
    return judged


def test_a_dict_and_a_batch_request_become_the_same_request() -> None:
    as_dict = {"id": 7, "path": "/products/1", "method": " put ", "body": {"price": Decimal("9.50")}}
    as_object = BatchRequest(id="7", path="/products/1", method="PUT", body={"price": Decimal("9.50")})
    problems = ProblemLog()
    made = ready_requests([as_dict, as_object], 0, problems)
    assert problems.total == 0
    assert made[0] == made[1] == as_object
    assert encode(made[:1]) == b'[{"id":"7","path":"/products/1","method":"PUT","body":{"price":9.50}}]'


def test_ready_requests_without_ids_are_numbered_for_the_operator_and_left_alone_for_a_direct_caller() -> None:
    items = [{"path": "/products/1", "method": "DELETE", "body": {"ignored": True}}]
    assert ready_requests(items, 5, ProblemLog()) == [BatchRequest(id="5", path="/products/1", method="DELETE")]
    assert checked_batch(items).payload == b'[{"path":"/products/1","method":"DELETE"}]'


def test_one_problem_per_faulty_field() -> None:
    problems = ProblemLog()
    ready_requests([{"path": "/p", "method": "PUT", "body": {"price": float("inf")}}], 0, problems)
    assert [(problem.column, problem.reason) for problem in problems.shown] == [
        ("body", "infinity is not a JSON number")
    ]


def test_the_client_sends_a_chunk_of_the_core_without_judging_it_again(
    client: EcwidClient, http: rm.Mocker, path_checks: list[object]
) -> None:
    plan = BatchPlan(make_source(pd.DataFrame({"pid": [1, 2]})), RequestBuilder(path="/products/{pid}", method="GET"))
    plan.validate()
    (chunk,) = plan.chunks()
    path_checks.clear()
    client.create_batch(chunk)
    assert path_checks == []
    sent = http.last_request
    assert sent is not None
    assert sent.body == chunk.payload


def test_the_client_judges_each_of_a_direct_callers_requests_once(
    client: EcwidClient, http: rm.Mocker, path_checks: list[object]
) -> None:
    client.create_batch([{"path": "/products/1", "method": "GET"}, BatchRequest(path="/products/2", method="GET")])
    assert path_checks == ["/products/1", "/products/2"]
    assert http.call_count == 1


@pytest.mark.parametrize(
    "check",
    [
        lambda: RequestBuilder(path="/products", method="PATCH"),
        lambda: EcwidClient(1002, "secret_x").request("PATCH", "/products"),
        lambda: paths.check_method(None),
    ],
)
def test_one_method_rule_for_the_builder_and_the_client(check: Callable[[], Any], http: rm.Mocker) -> None:
    with pytest.raises(EcwidConfigError, match="method must be one of GET, POST, PUT, DELETE, got"):
        check()
    assert http.call_count == 0


def test_a_resent_chunk_keeps_each_kept_request_byte_for_byte() -> None:
    items = [
        BatchRequest(id="a", path="/products", method="POST", body={"price": Decimal("9.50"), "name": "Café"}),
        BatchRequest(id="b", path="/products/1", method="DELETE"),
        BatchRequest(id="c", path="/products/2", method="PUT", body={"price": Decimal("1.10")}),
    ]
    chunk = EncodedChunk(4, encode(items), 3, 1000)
    resent = chunk.only({"a", "c"})
    assert resent.payload == encode([items[0], items[2]])
    assert (resent.index, resent.size) == (4, 2)


def _items(payload: bytes) -> list[bytes]:
    return [bytes(item) for item in msgspec.json.decode(payload, type=list[msgspec.Raw])]


@pytest.mark.parametrize(
    "make_plan",
    [
        lambda frame: BatchPlan(make_source(frame), RequestBuilder(path="/products/{pid}", method="PUT")),
        lambda frame: BatchPlan(
            make_source(frame), RequestBuilder(path="/products/{pid}", method="PUT", body=lambda row: dict(row))
        ),
        lambda frame: BatchPlan(
            make_source(
                [
                    {"path": f"/products/{pid}", "method": "PUT", "body": {"n": name}}
                    for pid, name in zip(frame["pid"], frame["name"], strict=True)
                ]
            ),
            RequestBuilder(path=None),
        ),
    ],
    ids=["Arrow route", "row route", "ready requests"],
)
def test_the_preview_is_the_first_chunks_own_bytes(make_plan: Callable[[pd.DataFrame], BatchPlan]) -> None:
    frame = pd.DataFrame({"pid": [1, 2, 3, 4], "name": ["Café ☕", 'a"b', "x\ty", "plain"]})
    plan = make_plan(frame)
    summary = plan.validate()
    first = next(iter(plan.chunks()))
    assert summary.first_requests == _items(first.payload)[:3]
