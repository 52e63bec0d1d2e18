"""The emulator's batch API over real HTTP: queueing, order, parallel mode, deduplication, failures, cancel."""

from __future__ import annotations

import itertools
import json
import time

import pytest
import requests

from airflow_provider_ecwid.testing import EcwidEmulator
from tests.integration.helpers import Api, product_request


@pytest.fixture
def api(ecwid_emulator: EcwidEmulator) -> Api:
    return Api(ecwid_emulator)


def test_inner_requests_use_the_real_handlers(api: Api, ecwid_emulator: EcwidEmulator) -> None:
    ticket = api.batch([product_request("A"), product_request("B", enabled=True)])
    status = api.wait(ticket)
    assert (status["totalRequests"], status["completedRequests"]) == (2, 2)
    assert [r["status"] for r in status["responses"]] == ["COMPLETED", "COMPLETED"]
    new_ids = [json.loads(r["escapedHttpBody"])["id"] for r in status["responses"]]
    assert sorted(p["id"] for p in ecwid_emulator.products()) == sorted(new_ids)
    assert api.call("GET", "/products", params={"sku": "B"}).json()["items"][0]["enabled"] is True
    assert ecwid_emulator.call_count(scope="inner", method="POST", endpoint="/products") == 2


def test_status_escaped_and_unescaped(api: Api) -> None:
    ticket = api.batch([product_request("A", request_id="row-0")])
    api.wait(ticket)
    escaped = api.status(ticket, escaped=True)["responses"][0]
    plain = api.status(ticket, escaped=False)["responses"][0]
    assert isinstance(escaped["escapedHttpBody"], str)
    assert "httpBody" not in escaped
    assert plain["httpBody"] == json.loads(escaped["escapedHttpBody"])
    assert (plain["id"], plain["httpStatusCode"], plain["httpStatusLine"]) == ("row-0", 200, "OK")


@pytest.mark.ecwid_emulator(processing_time=0.05)
def test_ticket_comes_at_once_and_the_work_happens_later(api: Api) -> None:
    ticket = api.batch([product_request(f"S{n}") for n in range(20)])
    first = api.status(ticket)  # 20 x 50 ms of work: had POST /batch waited for it, the batch would be done
    assert first["status"] in ("QUEUED", "IN_PROGRESS")
    assert first["completedRequests"] < 20
    assert api.wait(ticket)["completedRequests"] == 20


def test_batch_validation(api: Api, ecwid_emulator: EcwidEmulator) -> None:
    too_many = api.call("POST", "/batch", json=[{"path": "/products", "method": "GET"}] * 501)
    assert too_many.status_code == 400
    assert "500" in too_many.json()["errorMessage"]
    as_text = api.call("POST", "/batch", data=b"[]", headers={"Content-Type": "text/plain"})
    assert as_text.status_code == 415
    for bad in (
        {"not": "an array"},
        [],
        [{"path": "products", "method": "GET"}],
        [{"path": "/products", "method": "PATCH"}],
        [{"path": "/products", "method": "POST", "body": "a string"}],
        [17],
    ):
        assert api.call("POST", "/batch", json=bad).status_code == 400, bad
    assert ecwid_emulator.batches() == []
    ok = api.batch([{"path": "/products", "method": "GET", "body": None}])
    assert api.wait(ok)["responses"][0]["status"] == "COMPLETED"


@pytest.mark.ecwid_emulator(processing_time=0.01)
def test_batches_of_one_store_run_first_in_first_out(api: Api, ecwid_emulator: EcwidEmulator) -> None:
    tickets = [api.batch([product_request(f"B{b}-{n}") for n in range(10)]) for b in range(4)]
    api.wait(tickets[-1])
    timings = {batch["ticket"]: batch for batch in ecwid_emulator.batches()}
    for earlier, later in itertools.pairwise(tickets):
        assert timings[later]["started_at"] >= timings[earlier]["finished_at"]
    # products were created in submission order
    skus = [p["sku"] for p in sorted(ecwid_emulator.products(), key=lambda p: p["id"])]
    assert skus == [f"B{b}-{n}" for b in range(4) for n in range(10)]


@pytest.mark.ecwid_emulator(processing_time=0.02)
def test_parallel_mode_really_overlaps(api: Api, ecwid_emulator: EcwidEmulator) -> None:
    sequential = api.batch([product_request(f"S{n}") for n in range(50)])
    parallel = api.batch([product_request(f"P{n}") for n in range(50)], allowParallelMode=True)
    api.wait(parallel)
    runs = {batch["ticket"]: batch["run_seconds"] for batch in ecwid_emulator.batches()}
    assert runs[sequential] >= 50 * 0.02 * 0.95  # the last few milliseconds may be left unslept
    assert runs[parallel] < runs[sequential] / 5


def test_deduplication_returns_the_first_ticket_for_an_hour(api: Api, ecwid_emulator: EcwidEmulator) -> None:
    first = api.batch([product_request("A")], deduplicationKey="key-1")
    again = api.batch([product_request("A")], deduplicationKey="key-1")
    assert again == first
    api.wait(first)
    assert len(ecwid_emulator.products()) == 1
    ecwid_emulator.advance_clock(59 * 60)
    assert api.batch([product_request("A")], deduplicationKey="key-1") == first
    ecwid_emulator.advance_clock(2 * 60)
    later = api.batch([product_request("C")], deduplicationKey="key-1")
    assert later != first
    assert api.batch([product_request("D")], deduplicationKey="key-2") not in (first, later)


def test_stop_on_first_failure_marks_the_rest_not_executed(api: Api, ecwid_emulator: EcwidEmulator) -> None:
    items = [product_request("A", "r0"), product_request("A", "r1"), product_request("B", "r2")]
    status = api.wait(api.batch(items))  # stopOnFirstFailure defaults to true
    assert [r["status"] for r in status["responses"]] == ["COMPLETED", "FAILED", "NOT_EXECUTED"]
    failed = status["responses"][1]
    assert failed["httpStatusCode"] == 409
    assert json.loads(failed["escapedHttpBody"])["errorCode"] == "SKU_ALREADY_EXISTS"
    assert "httpStatusCode" not in status["responses"][2]
    assert status["completedRequests"] == 3
    assert [p["sku"] for p in ecwid_emulator.products()] == ["A"]


def test_without_stop_on_first_failure_the_batch_goes_on(api: Api, ecwid_emulator: EcwidEmulator) -> None:
    items = [product_request("A", "r0"), product_request("A", "r1"), product_request("B", "r2")]
    status = api.wait(api.batch(items, stopOnFirstFailure=False))
    assert [r["status"] for r in status["responses"]] == ["COMPLETED", "FAILED", "COMPLETED"]
    assert sorted(p["sku"] for p in ecwid_emulator.products()) == ["A", "B"]


@pytest.mark.ecwid_emulator(inner_error_rate=1.0, time_factor=0.001, seed=1)
def test_inner_5xx_is_retried_five_times_when_not_stopping(api: Api, ecwid_emulator: EcwidEmulator) -> None:
    status = api.wait(api.batch([product_request("A")], stopOnFirstFailure=False))
    assert status["responses"][0]["status"] == "FAILED"
    assert status["responses"][0]["httpStatusCode"] == 500
    assert ecwid_emulator.call_count(scope="inner") == 6  # the first try and 5 retries


@pytest.mark.ecwid_emulator(inner_error_rate=1.0, seed=1)
def test_inner_5xx_stops_the_batch_when_stopping(api: Api, ecwid_emulator: EcwidEmulator) -> None:
    status = api.wait(api.batch([product_request("A"), product_request("B")]))
    assert [r["status"] for r in status["responses"]] == ["FAILED", "NOT_EXECUTED"]
    assert ecwid_emulator.call_count(scope="inner") == 1


@pytest.mark.ecwid_emulator(processing_time=0.05)
def test_delete_stops_a_queued_batch_only(api: Api, ecwid_emulator: EcwidEmulator) -> None:
    running = api.batch([product_request(f"R{n}") for n in range(10)])
    queued = api.batch([product_request("Q")])
    api.wait(running, "IN_PROGRESS")
    assert api.call("DELETE", "/batch", params={"ticketId": queued}).json() == {"deleteCount": 1}
    assert api.call("GET", "/batch", params={"ticket": queued}).status_code == 404
    assert api.call("DELETE", "/batch", params={"ticket": running}).json() == {"deleteCount": 0}
    api.wait(running)
    # one worker per store, first in first out: once a batch posted now has run, the deleted one had its turn
    api.wait(api.batch([product_request("AFTER")]))
    assert "Q" not in {p["sku"] for p in ecwid_emulator.products()}
    assert api.call("DELETE", "/batch", params={"ticket": "no-such"}).status_code == 404


def test_held_processing_keeps_batches_queued_and_cancellable_until_released(
    api: Api, ecwid_emulator: EcwidEmulator
) -> None:
    ecwid_emulator.hold_processing()
    kept, cancelled = api.batch([product_request("KEPT")]), api.batch([product_request("CANCELLED")])
    time.sleep(0.2)  # many times what a free store takes to run both
    assert api.status(kept)["status"] == api.status(cancelled)["status"] == "QUEUED"
    assert api.call("DELETE", "/batch", params={"ticket": cancelled}).json() == {"deleteCount": 1}
    requests.post(f"{ecwid_emulator.url}/_emulator/processing", params={"held": "false"}, timeout=5)
    assert api.wait(kept)["completedRequests"] == 1
    assert [p["sku"] for p in ecwid_emulator.products()] == ["KEPT"]
    requests.post(f"{ecwid_emulator.url}/_emulator/processing", params={"held": "true"}, timeout=5)
    held = api.batch([product_request("HELD")])
    time.sleep(0.2)
    assert api.status(held)["status"] == "QUEUED"
    ecwid_emulator.release_processing()
    assert api.wait(held)["completedRequests"] == 1


@pytest.mark.ecwid_emulator(processing_time=0.02)
def test_cancel_group_stops_what_has_not_run(api: Api, ecwid_emulator: EcwidEmulator) -> None:
    first = api.batch([product_request(f"A{n}") for n in range(10)], groupId="run-1")
    second = api.batch([product_request(f"B{n}") for n in range(10)], groupId="run-1")
    other = api.batch([product_request("C")], groupId="run-2")
    api.wait(first, "IN_PROGRESS", done_at_least=1)
    cancelled = api.call("POST", "/batch/cancel-group", params={"groupId": "run-1"}).json()["updateCount"]
    first_status, second_status = api.wait(first), api.wait(second)
    assert [r["status"] for r in second_status["responses"]] == ["NOT_EXECUTED"] * 10
    done_first = [r["status"] for r in first_status["responses"]]
    assert 0 < done_first.count("COMPLETED") < 10
    assert cancelled == 20 - done_first.count("COMPLETED")
    assert api.wait(other)["responses"][0]["status"] == "COMPLETED"
    assert len(ecwid_emulator.products()) == done_first.count("COMPLETED") + 1


@pytest.mark.ecwid_emulator(processing_time=0.05)
def test_list_batches_by_status(api: Api) -> None:
    running = api.batch([product_request(f"R{n}") for n in range(4)])
    queued = api.batch([product_request("Q")])
    api.wait(running, "IN_PROGRESS")
    listed = api.call("GET", "/batch", params={"status": "QUEUED"}).json()["items"]
    assert listed == [{"ticket": queued, "status": "QUEUED"}]
    in_progress = api.call("GET", "/batch", params={"status": "IN_PROGRESS"}).json()["items"]
    assert [item["ticket"] for item in in_progress] == [running]
    api.wait(queued)
    assert len(api.call("GET", "/batch", params={"status": "COMPLETED"}).json()["items"]) == 2


# -- rate limit and faults -----------------------------------------------------------------------------------


@pytest.mark.ecwid_emulator(rate_limit_per_minute=5)
def test_rate_limit_answers_429_with_retry_after(api: Api, ecwid_emulator: EcwidEmulator) -> None:
    assert [api.call("GET", "/profile").status_code for _ in range(5)] == [200] * 5
    limited = api.call("GET", "/profile")
    assert limited.status_code == 429
    assert limited.json()["errorCode"] == "RATE_LIMITED"
    assert 1 <= int(limited.headers["Retry-After"]) <= 60
    ecwid_emulator.advance_clock(61)
    assert api.call("GET", "/profile").status_code == 200


@pytest.mark.ecwid_emulator(error_rate=0.3, seed=7, rate_limit_per_minute=0)
def test_injected_5xx_appear_at_the_set_rate(api: Api) -> None:
    codes = [api.call("GET", "/profile").status_code for _ in range(400)]
    assert set(codes) == {200, 503}
    assert 0.2 < codes.count(503) / 400 < 0.4


@pytest.mark.ecwid_emulator(drop_rate=0.5, seed=3, rate_limit_per_minute=0)
def test_dropped_connections_close_without_an_answer(ecwid_emulator: EcwidEmulator) -> None:
    outcomes: list[int | str] = []
    for _ in range(60):
        try:
            # a fresh connection each time, so a drop is seen on its own request
            response = requests.get(
                f"{ecwid_emulator.base_url}/1002/profile", headers={"Authorization": "Bearer secret_demo"}, timeout=5
            )
            outcomes.append(response.status_code)
        except requests.ConnectionError:
            outcomes.append("dropped")
    assert set(outcomes) == {200, "dropped"}
    assert 0.3 < outcomes.count("dropped") / 60 < 0.7


def test_import_lock_answers_449_to_writes_only(api: Api, ecwid_emulator: EcwidEmulator) -> None:
    ecwid_emulator.lock_imports(60)
    locked = api.call("POST", "/products", json={"sku": "A", "name": "a"})
    assert locked.status_code == 449
    assert api.call("POST", "/batch", json=[product_request("A")]).status_code == 449
    assert api.call("GET", "/products").status_code == 200
    ecwid_emulator.advance_clock(61)
    assert api.call("POST", "/products", json={"sku": "A", "name": "a"}).status_code == 200


@pytest.mark.ecwid_emulator(import_lock_windows=[(0, 3600)])
def test_import_lock_window_from_the_config(api: Api) -> None:
    assert api.call("PUT", "/products/1", json={}).status_code == 449


def test_inspection_api(api: Api, ecwid_emulator: EcwidEmulator) -> None:
    ticket = api.batch([product_request("A")])
    api.wait(ticket)
    url = ecwid_emulator.url
    assert requests.get(f"{url}/_emulator/stores/1002/products", timeout=5).json()[0]["sku"] == "A"
    batches = requests.get(f"{url}/_emulator/batches", timeout=5).json()
    assert batches[0]["ticket"] == ticket
    assert batches[0]["status"] == "COMPLETED"
    assert batches[0]["run_seconds"] >= 0
    requests.post(f"{url}/_emulator/clock/advance", params={"seconds": 10}, timeout=5)
    assert ecwid_emulator.state.clock_offset == 10
    requests.post(f"{url}/_emulator/reset", timeout=5)
    assert ecwid_emulator.products() == []
    assert ecwid_emulator.batches() == []


@pytest.mark.ecwid_emulator(processing_time=0.0005)
def test_tiny_processing_times_add_up_to_their_sum(api: Api, ecwid_emulator: EcwidEmulator) -> None:
    tickets = [api.batch([{"path": "/profile", "method": "GET"}] * 500) for _ in range(2)]
    api.wait(tickets[-1])
    busy = sum(batch["run_seconds"] for batch in ecwid_emulator.batches())
    # 1,000 x 0.5 ms = 0.5 s (each batch may end up to 5 ms early); one event-loop sleep per request would
    # take about twice as long
    assert 0.49 <= busy < 0.85
