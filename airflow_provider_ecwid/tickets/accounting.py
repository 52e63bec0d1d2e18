"""Does a finished ticket's answer account for every request that was sent in it?

The provider knows, when it submits a batch, how many requests the batch holds and which ids they carry. A
COMPLETED answer that names fewer (or other) requests must not become a smaller success: the report counts
the requests that were sent, and any difference fails the task with what differed. Each ticket's expectation
is a small JSON-safe dict, ``{"requests": n, "ids": digest}``, kept in XCom beside the tickets, so the sensor
and the trigger's callback can check answers they did not submit.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from airflow_provider_ecwid.batch.chunks import request_ids
from airflow_provider_ecwid.batch.models import BatchStatus

#: XCom key of the submission's expectations: ticket -> {"requests": n, "ids": digest}.
EXPECTED_XCOM_KEY = "ticket_expectations"


def ids_digest(ids: Iterable[str]) -> str:
    """A short fingerprint of a set of request ids, the same in every process (order does not matter)."""
    joined = "\n".join(sorted(ids)).encode("utf-8", "surrogatepass")
    return hashlib.blake2b(joined, digest_size=16).hexdigest()


def expectation(payload: bytes) -> dict[str, Any]:
    """
    What a batch's answer must account for, from the batch's encoded JSON array.

    :param payload: the batch as sent.
    """
    ids = request_ids(payload)
    return {"requests": len(ids), "ids": ids_digest(request_id or "" for request_id in ids)}


def discrepancy(status: BatchStatus, expected: Mapping[str, Any] | None) -> str | None:
    """
    Why a COMPLETED answer does not account for the batch that was sent, or None when it does.

    Without an expectation (tickets from elsewhere) the answer is only checked against itself: it must hold
    at least one request and one result per request.

    :param status: the ticket's final status.
    :param expected: its expectation (see :func:`expectation`), when known.
    """
    where = f"Ecwid's answer for ticket {status.ticket}"
    answered = len(status.responses)
    if expected is None:
        if status.total_requests < 1:
            return f"{where} reports {status.total_requests} request(s) in a finished batch"
        if answered != status.total_requests:
            return f"{where} holds {answered} result(s) for {status.total_requests} request(s)"
        return None
    sent = int(expected["requests"])
    if status.total_requests != sent:
        return f"{where} counts {status.total_requests} request(s); {sent} were sent"
    if answered != sent:
        return f"{where} holds {answered} result(s) for the {sent} request(s) sent"
    ids = [item.id for item in status.responses if item.id is not None]
    if len(ids) == answered and ids_digest(ids) != expected.get("ids"):  # results without ids: counts only
        return f"{where} names other request ids than were sent"
    return None
