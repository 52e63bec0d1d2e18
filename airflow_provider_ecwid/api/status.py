"""Tolerant parsing of Ecwid's batch status answers.

Ecwid's docs have spelled these answers in camelCase (current) and snake_case (legacy), with inner bodies as
an escaped JSON string (``escapedHttpBody``) or as an object (``httpBody``). All of them are accepted here, and
this is the only place that interprets them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from typing import Any

from airflow_provider_ecwid.batch.models import BatchState, BatchStatus, ItemResult, ItemStatus
from airflow_provider_ecwid.errors import EcwidResponseError

log = logging.getLogger(__name__)


def _pick(data: Mapping[str, Any], camel: str, snake: str, default: Any = None) -> Any:
    if camel in data and data[camel] is not None:
        return data[camel]
    if snake in data and data[snake] is not None:
        return data[snake]
    return default


def _as_int(value: Any) -> int | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def decode_inner_body(item: Mapping[str, Any]) -> Any:
    """Return an item's inner answer: the escaped JSON string decoded, else the object, else None."""
    escaped = _pick(item, "escapedHttpBody", "escaped_http_body")
    if isinstance(escaped, str):
        if not escaped.strip():
            return None
        try:
            return json.loads(escaped)
        except ValueError:
            return escaped
    return _pick(item, "httpBody", "http_body", escaped)


def error_fields(body: Any) -> tuple[str | None, str | None]:
    """Extract Ecwid's ``(errorCode, errorMessage)`` from an error body in either spelling."""
    if not isinstance(body, Mapping):
        return None, (body if isinstance(body, str) and body else None)
    code = _pick(body, "errorCode", "error_code")
    message = _pick(body, "errorMessage", "error_message")
    return (str(code) if code is not None else None, str(message) if message is not None else None)


def parse_item(item: Mapping[str, Any]) -> ItemResult:
    """Parse one entry of ``responses``; a missing id or an unknown status is tolerated."""
    raw_status = str(_pick(item, "status", "status", "")).upper()
    try:
        status = ItemStatus(raw_status)
        if status in (ItemStatus.UNKNOWN, ItemStatus.MISSING):  # the provider's own labels, not Ecwid's
            raise ValueError(raw_status)
    except ValueError:
        log.warning("Ecwid reported an unknown item status %r; counting the item as not done.", raw_status)
        status = ItemStatus.UNKNOWN
    raw_id = item.get("id")
    body = decode_inner_body(item)
    http_status = _as_int(_pick(item, "httpStatusCode", "http_status_code"))
    if status is ItemStatus.COMPLETED and http_status is not None and not 200 <= http_status < 300:
        log.warning("Ecwid marked item %r COMPLETED with HTTP %s; counting it as failed.", raw_id, http_status)
        status = ItemStatus.FAILED  # the inner call answered an error, whatever the item's label says
    code, message = error_fields(body) if status is ItemStatus.FAILED else (None, None)
    line = _pick(item, "httpStatusLine", "http_status_line")
    return ItemResult(
        id=str(raw_id) if raw_id is not None else None,
        status=status,
        http_status_code=http_status,
        http_status_line=str(line) if line is not None else None,
        body=body,
        error_code=code,
        error_message=message,
    )


def parse_batch_status(ticket: str, payload: Any) -> BatchStatus:
    """
    Turn the JSON answer of ``GET /batch?ticket=`` into a :class:`BatchStatus`.

    An unknown batch status is logged and becomes ``BatchState.UNKNOWN`` (not finished); missing or null
    ``responses`` (a queued batch) become an empty tuple; missing counters are derived from what is known.

    :param ticket: the ticket that was asked about.
    :param payload: the decoded JSON answer.
    """
    if not isinstance(payload, Mapping):
        raise EcwidResponseError(f"Ecwid's status answer for ticket {ticket} is not a JSON object: {payload!r:.200}")
    raw_state = payload.get("status")
    try:
        state = BatchState(str(raw_state).upper()) if raw_state is not None else BatchState.UNKNOWN
    except ValueError:
        state = BatchState.UNKNOWN
    if state is BatchState.UNKNOWN:
        log.warning("Ecwid reported status %r for ticket %s; treating it as not finished.", raw_state, ticket)
    raw_responses = _pick(payload, "responses", "responses", [])
    responses = tuple(parse_item(item) for item in raw_responses if isinstance(item, Mapping))
    total = _as_int(_pick(payload, "totalRequests", "total_requests"))
    completed = _as_int(_pick(payload, "completedRequests", "completed_requests"))
    return BatchStatus(
        ticket=ticket,
        state=state,
        raw_state=str(raw_state) if raw_state is not None else None,
        total_requests=total if total is not None else len(responses),
        completed_requests=completed if completed is not None else _count_done(responses),
        responses=responses,
    )


def _count_done(responses: tuple[ItemResult, ...]) -> int:
    return sum(1 for item in responses if item.status in (ItemStatus.COMPLETED, ItemStatus.FAILED))
