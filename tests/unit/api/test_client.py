"""EcwidClient over a mocked transport: retry rules, errors, batch calls and the token's secrecy."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pandas as pd
import pytest
import requests
import requests_mock as rm

from airflow_provider_ecwid import __version__
from airflow_provider_ecwid.api.client import EcwidClient
from airflow_provider_ecwid.api.retries import parse_retry_after
from airflow_provider_ecwid.api.status import parse_batch_status
from airflow_provider_ecwid.batch.build import RequestBuilder
from airflow_provider_ecwid.batch.models import BatchRequest, BatchState
from airflow_provider_ecwid.batch.plan import BatchPlan
from airflow_provider_ecwid.batch.sources import make_source
from airflow_provider_ecwid.errors import (
    EcwidApiError,
    EcwidAuthError,
    EcwidConfigError,
    EcwidError,
    EcwidNotFoundError,
    EcwidResponseError,
    EcwidRetriesExhaustedError,
    EcwidUnsafePathError,
    EcwidValidationError,
)

TOKEN = "secret_TESTTOKEN0123456789"
BASE = "https://app.ecwid.com/api/v3/1002"


class Sleeps(list[float]):
    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def client(sleeps: Sleeps) -> Iterator[EcwidClient]:
    with EcwidClient(1002, TOKEN, rate_limit_per_minute=6000, sleep=sleeps) as made:
        yield made


@pytest.fixture
def http() -> Iterator[rm.Mocker]:
    with rm.Mocker() as mocker:
        yield mocker


def last_request(http: rm.Mocker) -> rm.request._RequestObjectProxy:
    """The last request the mock saw; requests-mock types it Optional, a test that sent nothing fails here."""
    sent = http.last_request
    assert sent is not None, "no request was sent"
    return sent


def query(request: rm.request._RequestObjectProxy | None) -> dict[str, list[str]]:
    """The query string with its names lower-cased (values kept as sent)."""
    assert request is not None, "no request was sent"
    return {name.lower(): values for name, values in parse_qs(urlsplit(request.url).query).items()}


# -- the request itself -----------------------------------------------------------------------------------


def test_sends_bearer_token_user_agent_and_timeouts(client: EcwidClient, http: rm.Mocker) -> None:
    http.get(f"{BASE}/profile", json={"generalInfo": {"storeId": 1002}})
    assert client.get_profile() == {"generalInfo": {"storeId": 1002}}
    sent = last_request(http)
    assert sent.headers["Authorization"] == f"Bearer {TOKEN}"
    assert sent.headers["User-Agent"].startswith(f"airflow-provider-ecwid/{__version__}")
    # requests-mock's stub types timeout as int; requests hands the (connect, read) tuple through unchanged
    assert sent.timeout == (10.0, 30.0)  # type: ignore[comparison-overlap]
    assert "token" not in sent.url.lower()


def test_one_session_is_reused(client: EcwidClient, http: rm.Mocker) -> None:
    http.get(f"{BASE}/profile", json={})
    session = client.session
    client.get_profile(), client.get_profile()
    assert client.session is session
    assert http.call_count == 2


def test_params_are_encoded_and_none_dropped(client: EcwidClient, http: rm.Mocker) -> None:
    http.get(f"{BASE}/products", json={"items": []})
    client.request("GET", "/products", params={"productId": [1, 2], "enabled": True, "sku": None})
    assert query(http.last_request) == {"productid": ["1,2"], "enabled": ["true"]}


# -- retries ------------------------------------------------------------------------------------------------


def test_429_waits_what_retry_after_says(client: EcwidClient, http: rm.Mocker, sleeps: Sleeps) -> None:
    http.get(
        f"{BASE}/profile",
        [
            {"status_code": 429, "headers": {"Retry-After": "7"}, "json": {"errorCode": "RATE_LIMITED"}},
            {"status_code": 429, "headers": {"Retry-After": "2"}},
            {"status_code": 200, "json": {"ok": 1}},
        ],
    )
    assert client.get_profile() == {"ok": 1}
    assert http.call_count == 3
    assert sleeps == [7.0, 2.0]


def test_429_without_retry_after_waits_ten_seconds(client: EcwidClient, http: rm.Mocker, sleeps: Sleeps) -> None:
    http.get(f"{BASE}/profile", [{"status_code": 429}, {"json": {}}])
    client.get_profile()
    assert sleeps == [10.0]


def test_429_with_an_http_date() -> None:
    now = datetime(2026, 11, 27, 12, 0, 0, tzinfo=UTC)
    header = format_datetime(now + timedelta(seconds=42), usegmt=True)
    assert parse_retry_after(header, now=now.timestamp) == pytest.approx(42)
    assert parse_retry_after(format_datetime(now - timedelta(seconds=5), usegmt=True), now=now.timestamp) == 0
    assert parse_retry_after("soon") is None
    assert parse_retry_after(None) is None
    assert parse_retry_after("1.5") == 1.5


@pytest.mark.parametrize("status", [449, 500, 502, 503, 504])
def test_449_and_5xx_back_off_exponentially(client: EcwidClient, http: rm.Mocker, sleeps: Sleeps, status: int) -> None:
    http.get(f"{BASE}/profile", [{"status_code": status}] * 3 + [{"json": {"ok": 1}}])
    assert client.get_profile() == {"ok": 1}
    assert http.call_count == 4
    assert len(sleeps) == 3
    # exponential with up to 1 s of jitter: about 1, 2, 4 seconds
    for wait, base in zip(sleeps, [1, 2, 4], strict=True):
        assert base <= wait <= base + 1


@pytest.mark.parametrize("failure", [requests.ConnectionError("reset"), requests.ConnectTimeout("slow")])
def test_connection_errors_and_timeouts_are_retried(
    client: EcwidClient, http: rm.Mocker, sleeps: Sleeps, failure: Exception
) -> None:
    http.get(f"{BASE}/profile", [{"exc": failure}, {"json": {"ok": 1}}])
    assert client.get_profile() == {"ok": 1}
    assert len(sleeps) == 1


@pytest.mark.parametrize("status", [400, 402, 404, 409, 415, 422])
def test_client_errors_are_not_retried(client: EcwidClient, http: rm.Mocker, sleeps: Sleeps, status: int) -> None:
    http.get(f"{BASE}/products/1", status_code=status, json={"errorMessage": "nope", "errorCode": "CODE_X"})
    with pytest.raises(EcwidApiError) as caught:
        client.request("GET", "/products/1")
    assert http.call_count == 1
    assert sleeps == []
    error = caught.value
    assert (error.status_code, error.error_code, error.error_message) == (status, "CODE_X", "nope")
    assert (error.method, error.path) == ("GET", "/products/1")
    assert isinstance(error, EcwidNotFoundError) == (status == 404)


def test_403_is_never_retried_and_says_to_check_the_token(client: EcwidClient, http: rm.Mocker, sleeps: Sleeps) -> None:
    http.get(f"{BASE}/profile", status_code=403, json={"errorMessage": "bad", "errorCode": "INVALID_API_TOKEN"})
    with pytest.raises(EcwidAuthError, match="Check the token and its scopes") as caught:
        client.get_profile()
    assert http.call_count == 1
    assert sleeps == []
    assert caught.value.error_code == "INVALID_API_TOKEN"


def test_legacy_snake_case_error_body(client: EcwidClient, http: rm.Mocker) -> None:
    http.get(f"{BASE}/profile", status_code=400, json={"error_message": "old style", "error_code": "OLD"})
    with pytest.raises(EcwidApiError) as caught:
        client.get_profile()
    assert (caught.value.error_code, caught.value.error_message) == ("OLD", "old style")


def test_non_json_error_body_is_kept_as_the_message(client: EcwidClient, http: rm.Mocker) -> None:
    http.get(f"{BASE}/profile", status_code=400, text="<html>Bad gateway thing</html>")
    with pytest.raises(EcwidApiError, match="Bad gateway thing"):
        client.get_profile()


def test_attempts_are_bounded(http: rm.Mocker, sleeps: Sleeps, caplog: pytest.LogCaptureFixture) -> None:
    client = EcwidClient(1002, TOKEN, max_retries=2, sleep=sleeps)
    http.get(f"{BASE}/profile", status_code=503, json={"errorMessage": "down"})
    with caplog.at_level(logging.WARNING), pytest.raises(EcwidRetriesExhaustedError) as caught:
        client.get_profile()
    assert http.call_count == 3
    assert len(sleeps) == 2
    assert caught.value.attempts == 3
    assert isinstance(caught.value.last_error, EcwidApiError)
    assert caught.value.last_error.status_code == 503
    assert "503" in str(caught.value)
    retry_lines = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert len(retry_lines) == 2
    assert "503" in retry_lines[0]
    assert "retry 1 of 2" in retry_lines[0]


def test_total_wait_is_bounded(http: rm.Mocker, sleeps: Sleeps) -> None:
    client = EcwidClient(1002, TOKEN, max_retries=10, max_retry_wait=25, sleep=sleeps)
    http.get(f"{BASE}/profile", status_code=429, headers={"Retry-After": "10"})
    with pytest.raises(EcwidRetriesExhaustedError):
        client.get_profile()
    assert sleeps == [10.0, 10.0]  # a third wait would pass 25 s
    assert http.call_count == 3


def test_a_retry_after_longer_than_the_budget_gives_up_at_once(http: rm.Mocker, sleeps: Sleeps) -> None:
    client = EcwidClient(1002, TOKEN, max_retry_wait=60, sleep=sleeps)
    http.get(f"{BASE}/profile", status_code=429, headers={"Retry-After": "3600"})
    with pytest.raises(EcwidRetriesExhaustedError, match="after 1 attempt"):
        client.get_profile()
    assert sleeps == []


def test_zero_retries_disables_retrying(http: rm.Mocker, sleeps: Sleeps) -> None:
    client = EcwidClient(1002, TOKEN, max_retries=0, sleep=sleeps)
    http.get(f"{BASE}/profile", status_code=500)
    with pytest.raises(EcwidRetriesExhaustedError):
        client.get_profile()
    assert http.call_count == 1
    assert sleeps == []


@pytest.mark.parametrize("status", [429, 449])
def test_429_and_449_are_bounded_by_the_waiting_budget_not_by_max_retries(
    http: rm.Mocker, sleeps: Sleeps, caplog: pytest.LogCaptureFixture, status: int
) -> None:
    client = EcwidClient(1002, TOKEN, max_retries=2, max_retry_wait=300, rate_limit_per_minute=6000, sleep=sleeps)
    http.get(f"{BASE}/profile", [{"status_code": status, "headers": {"Retry-After": "3"}}] * 8 + [{"json": {}}])
    with caplog.at_level(logging.WARNING):
        assert client.get_profile() == {}
    assert http.call_count == 9
    assert len(sleeps) == 8
    retry_lines = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert len(retry_lines) == 8
    assert all(str(status) in line and "300 s" in line for line in retry_lines)


def test_449_waits_use_the_whole_budget_and_then_give_up(http: rm.Mocker, sleeps: Sleeps) -> None:
    client = EcwidClient(1002, TOKEN, max_retry_wait=100, rate_limit_per_minute=6000, sleep=sleeps)
    http.get(f"{BASE}/profile", status_code=449, json={"errorMessage": "Import in progress"})
    with pytest.raises(EcwidRetriesExhaustedError, match="449") as caught:
        client.get_profile()
    assert sum(sleeps) == pytest.approx(100)  # the last wait is cut to what the budget has left
    assert max(sleeps) <= 31  # backoff is capped at 30 s (+ jitter)
    assert caught.value.attempts == len(sleeps) + 1


def test_5xx_after_449s_still_counts_only_its_own_attempts(http: rm.Mocker, sleeps: Sleeps) -> None:
    client = EcwidClient(1002, TOKEN, max_retries=2, rate_limit_per_minute=6000, sleep=sleeps)
    http.get(f"{BASE}/profile", [{"status_code": 449}] * 4 + [{"status_code": 503}] * 2 + [{"json": {"ok": 1}}])
    assert client.get_profile() == {"ok": 1}
    http.get(f"{BASE}/profile", [{"status_code": 449}] * 3 + [{"status_code": 503}] * 3 + [{"json": {"ok": 1}}])
    with pytest.raises(EcwidRetriesExhaustedError, match="503"):
        client.get_profile()


def test_a_429_without_a_real_wait_cannot_retry_forever(http: rm.Mocker, sleeps: Sleeps) -> None:
    client = EcwidClient(1002, TOKEN, max_retry_wait=20, rate_limit_per_minute=6000, sleep=sleeps)
    http.get(f"{BASE}/profile", status_code=429, headers={"Retry-After": "0"})
    with pytest.raises(EcwidRetriesExhaustedError):
        client.get_profile()
    assert 0 < len(sleeps) <= 21


def test_every_attempt_goes_through_the_rate_limiter(http: rm.Mocker, sleeps: Sleeps) -> None:
    client = EcwidClient(1002, TOKEN, rate_limit_per_minute=60, sleep=sleeps)
    client.rate_limiter.capacity = 1.0
    client.rate_limiter._tokens = 1.0
    http.get(f"{BASE}/profile", [{"status_code": 500}, {"json": {}}])
    client.get_profile()
    # one backoff sleep (1-2 s) and one rate-limit sleep for the second attempt
    assert len(sleeps) == 2


def test_redirects_are_not_followed(client: EcwidClient, http: rm.Mocker) -> None:
    http.get(f"{BASE}/profile", status_code=302, headers={"Location": "https://elsewhere.example.com/"})
    with pytest.raises(EcwidApiError, match="302"):
        client.get_profile()
    assert http.call_count == 1


def test_success_with_a_body_that_is_not_json(client: EcwidClient, http: rm.Mocker) -> None:
    http.get(f"{BASE}/profile", text="<html>")
    with pytest.raises(EcwidError, match="not JSON"):
        client.get_profile()


# -- configuration and path safety -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "ok"),
    [
        ("https://app.ecwid.com/api/v3", True),
        ("http://127.0.0.1:8089/api/v3", True),
        ("http://localhost:8089/api/v3/", True),
        ("http://[::1]:8089/api/v3", True),
        ("http://proxy.example.com/api/v3", False),
        ("http://10.0.0.5/api/v3", False),
        ("http://evil.localhost/api/v3", False),
        ("http://localhost.evil.example.com/api/v3", False),
        ("http://LOCALHOST:8089/api/v3", True),
        ("ftp://app.ecwid.com/api/v3", False),
        ("app.ecwid.com/api/v3", False),
        ("https://user:pw@app.ecwid.com/api/v3", False),
    ],
)
def test_token_only_over_https_except_loopback(base_url: str, ok: bool) -> None:
    if ok:
        assert EcwidClient(1, TOKEN, base_url=base_url).store_url.endswith("/1")
    else:
        with pytest.raises(EcwidConfigError):
            EcwidClient(1, TOKEN, base_url=base_url)


@pytest.mark.parametrize("store_id", ["", "abc", "12/../13", "1 2"])
def test_store_id_must_be_a_number(store_id: str) -> None:
    with pytest.raises(EcwidConfigError, match="store id"):
        EcwidClient(store_id, TOKEN)


def test_empty_token_is_refused() -> None:
    with pytest.raises(EcwidConfigError, match="token is empty"):
        EcwidClient(1, "  ")


@pytest.mark.parametrize(
    "path", ["https://evil.example.com/x", "//evil.example.com/x", "/a/../b", "/a\r\nb", "/p?token=x", "p"]
)
def test_unsafe_paths_are_refused_before_any_call(client: EcwidClient, http: rm.Mocker, path: str) -> None:
    with pytest.raises(EcwidUnsafePathError):
        client.request("GET", path)
    assert http.call_count == 0


def test_token_query_parameter_is_refused(client: EcwidClient, http: rm.Mocker) -> None:
    with pytest.raises(EcwidUnsafePathError):
        client.request("GET", "/products", params={"Token": "x"})
    assert http.call_count == 0


def test_unknown_method_is_refused(client: EcwidClient, http: rm.Mocker) -> None:
    with pytest.raises(EcwidError, match="PATCH"):
        client.request("PATCH", "/products/1")
    assert http.call_count == 0


# -- batches -----------------------------------------------------------------------------------------------


def test_create_batch_sends_the_array_and_every_query_parameter(client: EcwidClient, http: rm.Mocker) -> None:
    http.post(f"{BASE}/batch", json={"ticket": "tk-1"})
    ticket = client.create_batch(
        [
            BatchRequest(path="/products", method="POST", body={"sku": "A", "price": 1.5}, id="r0"),
            {"path": "/products/9", "method": "DELETE"},
        ],
        stop_on_first_failure=False,
        allow_parallel_mode=True,
        deduplication_key="dedup-1",
        group_id="group-1",
    )
    assert ticket == "tk-1"
    sent = last_request(http)
    assert sent.headers["Content-Type"] == "application/json"
    assert sent.body == (
        b'[{"id":"r0","path":"/products","method":"POST","body":{"sku":"A","price":1.5}},'
        b'{"path":"/products/9","method":"DELETE"}]'
    )  # the fields in Ecwid's order, a request without an id sent without one
    assert query(sent) == {
        "stoponfirstfailure": ["false"],
        "allowparallelmode": ["true"],
        "deduplicationkey": ["dedup-1"],
        "groupid": ["group-1"],
    }


def test_create_batch_sends_a_chunk_of_the_core_as_it_is(client: EcwidClient, http: rm.Mocker) -> None:
    http.post(f"{BASE}/batch", json={"ticket": "tk-2"})
    frame = pd.DataFrame({"ecwid_id": [1, 2], "price": [1.5, 2.0]})
    plan = BatchPlan(make_source(frame), RequestBuilder(path="/products/{ecwid_id}", method="PUT"))
    plan.validate()
    (chunk,) = plan.chunks()
    assert client.create_batch(chunk) == "tk-2"
    assert last_request(http).body == chunk.payload
    assert query(last_request(http))["stoponfirstfailure"] == ["true"]


def test_create_batch_refuses_encoded_bytes_it_cannot_check(client: EcwidClient, http: rm.Mocker) -> None:
    payload = json.dumps([{"path": "/../admin", "method": "GET"}]).encode()
    with pytest.raises(EcwidConfigError, match="not as encoded bytes"):
        client.create_batch(payload)  # type: ignore[arg-type]
    assert http.call_count == 0


def test_create_batch_retries_with_the_same_deduplication_key(
    client: EcwidClient, http: rm.Mocker, sleeps: Sleeps
) -> None:
    http.post(f"{BASE}/batch", [{"exc": requests.ReadTimeout("slow")}, {"json": {"ticket": "tk-3"}}])
    assert client.create_batch([{"path": "/products", "method": "GET"}]) == "tk-3"
    keys = [query(request)["deduplicationkey"][0] for request in http.request_history]
    assert len(keys) == 2
    assert keys[0] == keys[1]
    assert len(keys[0]) >= 32


@pytest.mark.parametrize("requests_", [[], [{"path": "/products", "method": "GET"}] * 501])
def test_create_batch_refuses_an_empty_or_too_big_batch(
    client: EcwidClient, http: rm.Mocker, requests_: list[dict[str, str]]
) -> None:
    with pytest.raises(EcwidConfigError, match="1 to 500 requests"):
        client.create_batch(requests_)
    assert http.call_count == 0


@pytest.mark.parametrize(
    ("bad", "field", "reason"),
    [
        ({"path": "//evil.example.com/x", "method": "GET"}, "path", "another host"),
        ({"path": "/a/%2e%2e/b", "method": "GET"}, "path", "'..' segments"),
        ({"path": "/products?token=x", "method": "GET"}, "path", "token="),
        (BatchRequest(path="https://evil.example.com/x", method="GET"), "path", "must start with '/'"),
        ({"path": "/p"}, "method", "got None"),
        ({"path": "/products/1", "method": "PATCH", "body": {"a": 1}}, "method", "got 'PATCH'"),
        ({"path": "/products", "method": "POST"}, "body", "POST needs a body"),
        ({"path": "/products", "method": "PUT", "body": {"price": float("inf")}}, "body", "infinity"),
    ],
)
def test_create_batch_refuses_bad_requests_before_sending(
    client: EcwidClient, http: rm.Mocker, bad: Any, field: str, reason: str
) -> None:
    good = {"path": "/products", "method": "GET"}
    with pytest.raises(EcwidValidationError) as caught:
        client.create_batch([good, bad])
    assert http.call_count == 0
    (problem,) = caught.value.problems
    assert (problem.row, problem.column) == (1, field)
    assert reason in problem.reason


def test_create_batch_without_ticket_in_the_answer(client: EcwidClient, http: rm.Mocker) -> None:
    http.post(f"{BASE}/batch", json={"nope": 1})
    with pytest.raises(EcwidError, match="no ticket"):
        client.create_batch([{"path": "/products", "method": "GET"}])


def test_get_batch_asks_for_escaped_json_and_parses(client: EcwidClient, http: rm.Mocker) -> None:
    http.get(
        f"{BASE}/batch",
        json={
            "status": "COMPLETED",
            "totalRequests": 1,
            "completedRequests": 1,
            "responses": [{"id": "r0", "status": "COMPLETED", "httpStatusCode": 200, "escapedHttpBody": '{"id":7}'}],
        },
    )
    status = client.get_batch("tk-1")
    assert query(http.last_request) == {"ticket": ["tk-1"], "escapedjson": ["true"]}
    assert status.state is BatchState.COMPLETED
    assert status.responses[0].body == {"id": 7}


@pytest.mark.parametrize("answer", [{"text": ""}, {"text": "null"}, {"json": []}, {"json": "COMPLETED"}])
def test_an_empty_or_null_status_answer_is_the_providers_own_error(
    client: EcwidClient, http: rm.Mocker, answer: dict[str, Any]
) -> None:
    http.get(f"{BASE}/batch", **answer)
    with pytest.raises(EcwidResponseError, match=r"tk-9.*not a JSON object"):
        client.get_batch("tk-9")
    with pytest.raises(EcwidResponseError, match="tk-9"):
        parse_batch_status("tk-9", None)


def test_get_batch_of_an_unknown_ticket(client: EcwidClient, http: rm.Mocker) -> None:
    http.get(f"{BASE}/batch", status_code=404, json={"errorMessage": "Ticket not found"})
    with pytest.raises(EcwidNotFoundError, match="Ticket not found"):
        client.get_batch("nope")


def test_cancel_batch_and_group(client: EcwidClient, http: rm.Mocker) -> None:
    http.delete(f"{BASE}/batch", json={"deleteCount": 1})
    http.post(f"{BASE}/batch/cancel-group", json={"updateCount": 12})
    assert client.cancel_batch("tk") == 1
    assert query(http.request_history[0]) == {"ticket": ["tk"]}
    assert client.cancel_group("g-1") == 12
    assert query(http.request_history[1]) == {"groupid": ["g-1"]}


def test_list_batches_pages_through_every_item(client: EcwidClient, http: rm.Mocker) -> None:
    first = [{"ticket": f"t{n}", "status": "QUEUED"} for n in range(100)]
    http.get(f"{BASE}/batch", [{"json": {"items": first}}, {"json": {"items": [{"ticket": "last"}]}}])
    tickets = [item["ticket"] for item in client.list_batches("QUEUED")]
    assert len(tickets) == 101
    assert tickets[-1] == "last"
    assert [query(r)["offset"] for r in http.request_history] == [["0"], ["100"]]
    assert query(http.last_request)["status"] == ["QUEUED"]
    assert query(http.last_request)["limit"] == ["100"]


def test_iter_products_pages_with_limit_100_until_total(client: EcwidClient, http: rm.Mocker) -> None:
    def page(offset: int, count: int) -> dict[str, object]:
        items = [{"id": offset + n, "sku": f"S{offset + n}"} for n in range(count)]
        return {"total": 200, "count": count, "offset": offset, "limit": 100, "items": items}

    http.get(f"{BASE}/products", [{"json": page(0, 100)}, {"json": page(100, 100)}])
    products = list(client.iter_products(responseFields="items(id,sku)"))
    assert [p["id"] for p in products] == list(range(200))
    assert http.call_count == 2  # stops at total without asking for an empty third page
    assert query(http.last_request)["responsefields"] == ["items(id,sku)"]


# -- secrecy -----------------------------------------------------------------------------------------------


def test_token_never_in_logs_exceptions_or_repr(
    http: rm.Mocker, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    client = EcwidClient(1002, TOKEN, max_retries=2, sleep=sleeps)
    http.get(f"{BASE}/profile", [{"status_code": 503}, {"exc": requests.ConnectionError(f"{BASE}/profile")}])
    http.get(f"{BASE}/products/1", status_code=403, json={"errorMessage": "denied"})
    texts = [repr(client)]
    with caplog.at_level(logging.DEBUG):
        for call in (client.get_profile, lambda: client.request("GET", "/products/1")):
            with pytest.raises(EcwidError) as caught:
                call()
            texts += [str(caught.value), repr(caught.value)]
        with pytest.raises(EcwidUnsafePathError) as caught_path:
            client.request("GET", f"/products?token={TOKEN}")
        texts.append(str(caught_path.value))
    texts += [record.getMessage() for record in caplog.records]
    assert len(caplog.records) >= 3
    assert all(TOKEN not in text for text in texts)


def unicode_escaped(text: str) -> str:
    return "".join(f"\\u{ord(char):04x}" for char in text)


def test_an_echoed_token_is_hidden_before_an_error_body_is_cut(client: EcwidClient, http: rm.Mocker) -> None:
    page = "<html>" + "x" * 490 + f"Authorization: Bearer {TOKEN}</html>"  # the cut at 500 falls in the token
    http.get(f"{BASE}/products/1", status_code=400, text=page, reason=f"Bad {TOKEN}")
    http.get(f"{BASE}/products/2", status_code=400, text="", reason=f"Bad Bearer {TOKEN}")
    for path in ("/products/1", "/products/2"):
        with pytest.raises(EcwidApiError) as caught:
            client.request("GET", path)
        assert TOKEN[:12] not in str(caught.value)
    assert "Bad ***" in str(caught.value)


def test_a_token_spelled_with_json_escapes_is_hidden_too(client: EcwidClient, http: rm.Mocker) -> None:
    escaped = unicode_escaped(TOKEN)
    http.get(f"{BASE}/products/1", status_code=409, text=f'{{"errorMessage": "{escaped} is in use"}}')
    with pytest.raises(EcwidApiError, match=r"\*\*\* is in use") as caught:
        client.request("GET", "/products/1")
    assert TOKEN not in str(caught.value)
    http.get(f"{BASE}/profile", text=f'{{"note": "{escaped}", "list": ["Bearer {TOKEN}"]}}')
    assert client.get_profile() == {"note": "***", "list": ["***"]}


def test_batch_statuses_come_back_clean(client: EcwidClient, http: rm.Mocker) -> None:
    inner = json.dumps({"errorMessage": f"Authorization: Bearer {TOKEN}", "errorCode": TOKEN})
    answer = {
        "status": "COMPLETED",
        "responses": [
            {"id": "r0", "status": "FAILED", "httpStatusCode": 409, "escapedHttpBody": inner},
            {"id": "r1", "status": "FAILED", "httpStatusCode": 409, "httpBody": {"errorMessage": "MARK"}},
            {"id": TOKEN, "status": "FAILED", "httpStatusLine": TOKEN, "httpBody": "Bearer " + TOKEN},
        ],
    }
    http.get(f"{BASE}/batch", text=json.dumps(answer).replace("MARK", unicode_escaped(TOKEN)))
    status = client.get_batch("tk")
    assert TOKEN not in repr(status)
    assert [(item.error_code, item.error_message) for item in status.responses] == [
        ("***", "Authorization: ***"),
        (None, "***"),
        (None, "***"),
    ]
    assert (status.responses[2].id, status.responses[2].http_status_line) == ("***", "***")


@pytest.mark.parametrize("token", ["secret_abc\r\nX-Evil: 1", "secret_a b", "secret_\x00x"])
def test_a_token_that_cannot_go_in_a_header_is_refused_without_repeating_it(token: str) -> None:
    with pytest.raises(EcwidConfigError, match="whitespace or control") as caught:
        EcwidClient(1002, token)
    assert token not in str(caught.value)
