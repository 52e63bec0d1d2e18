"""Emulated batches as data: a batch and its inner requests, their parsing, and the answers they give.

Running them is :mod:`airflow_provider_ecwid.testing.runner`'s job.
"""

from __future__ import annotations

import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_ecwid.testing.answers import STATUS_LINES, bad_request, rendered

MAX_BATCH_SIZE = 500
METHODS = frozenset({"GET", "POST", "PUT", "DELETE"})


@dataclass
class BatchItem:
    """One inner request and, once run, its outcome."""

    index: int
    id: str | None
    method: str
    path: str
    body: Any
    status: str | None = None  # COMPLETED / FAILED / NOT_EXECUTED once done
    http_status: int | None = None
    answer: Any = None
    attempts: int = 0


@dataclass
class Batch:
    """One batch of a store."""

    ticket: str
    store_id: int
    items: list[BatchItem]
    stop_on_first_failure: bool
    parallel: bool
    group_id: str | None
    deduplication_key: str | None
    created_at: float = field(default_factory=time.monotonic)
    started_at: float | None = None
    finished_at: float | None = None
    state: str = "QUEUED"
    deleted: bool = False
    failed: bool = False
    #: The Authorization header of the POST that made the batch, kept only to echo it (echo_authorization).
    authorization: str | None = field(default=None, repr=False)

    @property
    def done(self) -> int:
        return sum(1 for item in self.items if item.status is not None)

    def status_answer(self, escaped: bool) -> dict[str, Any]:
        responses = []
        for item in self.items:
            if item.status is None:
                continue
            response: dict[str, Any] = {"id": item.id, "status": item.status}
            if item.http_status is not None:
                response["httpStatusCode"] = item.http_status
                response["httpStatusLine"] = STATUS_LINES.get(item.http_status, "")
                body = rendered(item.answer)  # a page of orders is kept as positions until now
                if escaped:
                    response["escapedHttpBody"] = json.dumps(body)
                else:
                    response["httpBody"] = body
            responses.append(response)
        return {
            "status": self.state,
            "totalRequests": len(self.items),
            "completedRequests": self.done,
            "responses": responses,
        }

    def timings(self) -> dict[str, Any]:
        return {
            "ticket": self.ticket,
            "store_id": self.store_id,
            "status": self.state,
            "requests": len(self.items),
            "completed": self.done,
            "parallel": self.parallel,
            "stop_on_first_failure": self.stop_on_first_failure,
            "group_id": self.group_id,
            "deduplication_key": self.deduplication_key,
            "deleted": self.deleted,
            "queued_seconds": (self.started_at or time.monotonic()) - self.created_at,
            "run_seconds": (
                (self.finished_at or time.monotonic()) - self.started_at if self.started_at is not None else None
            ),
            "created_at": self.created_at,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
        }


def shorten(answer: dict[str, Any], mode: str | None) -> dict[str, Any]:
    """A finished batch's status answer cut the way ``EmulatorConfig.short_status`` says (a fault for tests)."""
    if mode is None or answer["status"] != "COMPLETED":
        return answer
    if mode == "no_counters":
        return {"status": "COMPLETED"}
    if mode == "half":
        kept = answer["responses"][: len(answer["responses"]) // 2]
        return {**answer, "totalRequests": len(kept), "completedRequests": len(kept), "responses": kept}
    if mode == "total_one":
        return {**answer, "totalRequests": 1}
    if mode == "total_negative":
        return {**answer, "totalRequests": -1}
    return {**answer, "responses": [{**item, "id": f"other-{item.get('id')}"} for item in answer["responses"]]}


def parse_items(payload: Any) -> list[BatchItem]:
    """Validate a batch body (a JSON array of at most 500 requests); raise EcwidFault(400) if it is not."""
    if not isinstance(payload, list):
        raise bad_request("The batch body must be a JSON array of requests")
    if not payload:
        raise bad_request("The batch holds no requests")
    if len(payload) > MAX_BATCH_SIZE:
        raise bad_request(f"A batch holds at most {MAX_BATCH_SIZE} requests, got {len(payload)}")
    items = []
    for index, raw in enumerate(payload):
        if not isinstance(raw, dict):
            raise bad_request(f"Request #{index} of the batch is not a JSON object")
        path, method, body = raw.get("path"), raw.get("method"), raw.get("body")
        if not isinstance(path, str) or not path.startswith("/") or path.startswith("//"):
            raise bad_request(f"Request #{index}: path must be a string starting with '/'")
        if not isinstance(method, str) or method.upper() not in METHODS:
            raise bad_request(f"Request #{index}: method must be one of GET, POST, PUT, DELETE")
        if body is not None and not isinstance(body, dict):
            raise bad_request(f"Request #{index}: body must be a JSON object or null")
        raw_id = raw.get("id")
        items.append(BatchItem(index, None if raw_id is None else str(raw_id), method.upper(), path, body))
    return items


def new_ticket() -> str:
    return str(uuid.uuid4())
