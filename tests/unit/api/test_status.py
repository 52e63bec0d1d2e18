from __future__ import annotations

import json
import logging

import pytest

from airflow_provider_ecwid.api.status import parse_batch_status
from airflow_provider_ecwid.batch.models import BatchState, ItemStatus
from airflow_provider_ecwid.errors import EcwidResponseError


def test_camel_case_answer_with_escaped_bodies() -> None:
    payload = {
        "status": "COMPLETED",
        "totalRequests": 3,
        "completedRequests": 3,
        "responses": [
            {
                "id": "r1",
                "status": "COMPLETED",
                "httpStatusCode": 200,
                "httpStatusLine": "OK",
                "escapedHttpBody": json.dumps({"id": 555}),
            },
            {
                "id": "r2",
                "status": "FAILED",
                "httpStatusCode": 409,
                "httpStatusLine": "Conflict",
                "escapedHttpBody": json.dumps({"errorMessage": "SKU exists", "errorCode": "SKU_ALREADY_EXISTS"}),
            },
            {"id": "r3", "status": "NOT_EXECUTED"},
        ],
    }
    status = parse_batch_status("t1", payload)
    assert status.ticket == "t1"
    assert status.state is BatchState.COMPLETED
    assert status.is_finished
    assert (status.total_requests, status.completed_requests) == (3, 3)
    ok, failed, skipped = status.responses
    assert ok.id == "r1"
    assert ok.status is ItemStatus.COMPLETED
    assert ok.body == {"id": 555}
    assert ok.error_code is None
    assert failed.status is ItemStatus.FAILED
    assert failed.http_status_code == 409
    assert failed.error_code == "SKU_ALREADY_EXISTS"
    assert failed.error_message == "SKU exists"
    assert skipped.status is ItemStatus.NOT_EXECUTED
    assert skipped.http_status_code is None


def test_legacy_snake_case_answer_with_unescaped_bodies() -> None:
    payload = {
        "status": "IN_PROGRESS",
        "total_requests": 2,
        "completed_requests": 1,
        "responses": [
            {
                "id": "a",
                "status": "FAILED",
                "http_status_code": "400",
                "http_status_line": "Bad Request",
                "http_body": {"error_message": "bad price", "error_code": "WRONG_PARAMETER"},
            }
        ],
    }
    status = parse_batch_status("t2", payload)
    assert status.state is BatchState.IN_PROGRESS
    assert not status.is_finished
    assert (status.total_requests, status.completed_requests) == (2, 1)
    (item,) = status.responses
    assert item.http_status_code == 400
    assert item.http_status_line == "Bad Request"
    assert (item.error_code, item.error_message) == ("WRONG_PARAMETER", "bad price")


def test_escaped_body_that_is_not_json_is_kept_as_text() -> None:
    payload = {"status": "COMPLETED", "responses": [{"id": "x", "status": "FAILED", "escapedHttpBody": "oops"}]}
    (item,) = parse_batch_status("t", payload).responses
    assert item.body == "oops"
    assert item.error_message == "oops"


@pytest.mark.parametrize("responses", [None, [], "missing"])
def test_queued_batch_without_responses(responses: object) -> None:
    payload: dict[str, object] = {"status": "QUEUED", "totalRequests": 5, "completedRequests": 0}
    if responses != "missing":
        payload["responses"] = responses
    status = parse_batch_status("q", payload)
    assert status.state is BatchState.QUEUED
    assert status.responses == ()
    assert (status.total_requests, status.completed_requests) == (5, 0)


def test_unknown_batch_status_is_logged_and_not_finished(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        status = parse_batch_status("u", {"status": "PAUSED", "responses": []})
    assert status.state is BatchState.UNKNOWN
    assert status.raw_state == "PAUSED"
    assert not status.is_finished
    assert "PAUSED" in caplog.text
    assert "u" in caplog.text


def test_missing_id_and_unknown_item_status_are_tolerated() -> None:
    payload = {"status": "COMPLETED", "responses": [{"status": "WEIRD"}, {"status": "COMPLETED"}]}
    status = parse_batch_status("m", payload)
    assert [item.id for item in status.responses] == [None, None]
    assert [item.status for item in status.responses] == [ItemStatus.UNKNOWN, ItemStatus.COMPLETED]
    # counters missing: derived from the known responses
    assert (status.total_requests, status.completed_requests) == (2, 1)


def test_a_non_object_answer_is_an_error() -> None:
    with pytest.raises(EcwidResponseError, match="not a JSON object"):
        parse_batch_status("z", ["not", "an", "object"])


def test_an_item_marked_completed_with_an_error_status_counts_as_failed() -> None:
    body = json.dumps({"errorMessage": "SKU exists", "errorCode": "SKU_ALREADY_EXISTS"})
    item = {"id": "r1", "status": "COMPLETED", "httpStatusCode": 409, "escapedHttpBody": body}
    status = parse_batch_status("t", {"status": "COMPLETED", "totalRequests": 1, "responses": [item]})
    (result,) = status.responses
    assert result.status is ItemStatus.FAILED
    assert (result.error_code, result.error_message) == ("SKU_ALREADY_EXISTS", "SKU exists")
