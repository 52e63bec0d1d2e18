"""Ready requests (``{"id"?, "path", "method", "body"?}`` dicts, or :class:`BatchRequest` objects) -> checked requests.

:func:`ready_requests` is the one check of a request that someone else put together: the operator's list or file
of ready requests, the catalog sync's phases, and a direct caller of :meth:`EcwidClient.create_batch
<airflow_provider_ecwid.api.client.EcwidClient.create_batch>` all go through it, and every problem is named with
its row and field. Paths and methods are judged by :mod:`~.paths` only.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Mapping, Sequence
from typing import Any

import msgspec
import numpy as np
import pandas as pd

from airflow_provider_ecwid.batch.chunks import EncodedChunk
from airflow_provider_ecwid.batch.models import MAX_BATCH_SIZE, BatchRequest
from airflow_provider_ecwid.batch.paths import BODYLESS, method_problem, path_problem
from airflow_provider_ecwid.batch.problems import ProblemLog, RowProblem
from airflow_provider_ecwid.batch.values import MISSING, UnsafeValue, is_missing, json_safe, text_problem
from airflow_provider_ecwid.batch.wire import encode
from airflow_provider_ecwid.errors import EcwidConfigError

#: The fields of a ready request.
REQUEST_KEYS = frozenset({"id", "path", "method", "body"})
#: A body with a problem that was reported (no second problem for the same body).
_REPORTED = object()


def is_ready_request(item: Any) -> bool:
    """True for a :class:`BatchRequest`, or a dict shaped like one (path, method, nothing but id/path/method/body)."""
    if isinstance(item, BatchRequest):
        return True
    return isinstance(item, Mapping) and {"path", "method"} <= set(item) and set(item) <= REQUEST_KEYS


def ready_requests(
    items: Sequence[Any], first_row: int, problems: ProblemLog, *, number_ids: bool = True
) -> list[BatchRequest]:
    """
    Check ready requests and return them as :class:`BatchRequest`; problems go to ``problems``.

    A request with a problem still comes back (with the faulty field emptied), so that a slice keeps its length.

    :param items: the requests: dicts or :class:`BatchRequest` objects.
    :param first_row: the position of the first one in the whole input.
    :param problems: where problems are reported.
    :param number_ids: True to give a request without an id its position as id (the operator's inputs, whose
        results map back to rows); False to send it without one.
    """
    requests = []
    for position, item in enumerate(items, start=first_row):
        fields = msgspec.structs.asdict(item) if isinstance(item, BatchRequest) else item
        if not isinstance(fields, Mapping):
            problems.add(RowProblem(position, None, "request", f"a request must be a dict, got {item!r:.60}"))
            continue
        requests.append(_checked(fields, position, problems, number_ids))
    return requests


def _checked(item: Mapping[str, Any], position: int, problems: ProblemLog, number_ids: bool) -> BatchRequest:
    """One ready request, checked field by field."""
    given_id = item.get("id")
    request_id = _request_id(given_id, position, problems, number_ids)
    raw_method = item.get("method")
    if (method_issue := method_problem(raw_method)) is not None:
        problems.add(RowProblem(position, request_id, "method", method_issue))
    method = "" if method_issue is not None else str(raw_method).strip().upper()
    path = item.get("path")
    if (path_issue := path_problem(path)) is not None:
        problems.add(RowProblem(position, request_id, "path", path_issue))
    body = _body(item.get("body"), position, request_id, problems)
    by_url = method == "POST" and "externalUrl=" in str(path)  # an image: its URL is the body
    if method in ("POST", "PUT") and not body and not by_url:  # an empty one (a reported one is _REPORTED)
        problems.add(RowProblem(position, request_id, "body", f"{method} needs a body"))
    body = None if body is _REPORTED else body
    return BatchRequest(
        id=request_id,
        path=str(path) if path_issue is None else "",  # reported; the request must still encode
        method=method,
        body=None if method in BODYLESS else body,
    )


def _request_id(given: Any, position: int, problems: ProblemLog, number_ids: bool) -> str | None:
    """The request's id; None when it has none (and ``number_ids`` is False) or when its id was reported."""
    if given is None:
        return str(position) if number_ids else None
    request_id = id_text(given)
    if request_id is None:
        problems.add(RowProblem(position, None, "id", f"id {given!r} is not usable as a request id"))
    elif (problem := text_problem(request_id)) is not None:
        problems.add(RowProblem(position, request_id, "id", f"the request id {problem}"))
        return None
    return request_id


def id_text(value: Any) -> str | None:
    """A request id as text: whole numbers (also as floats) written as digits, blank text and the rest None."""
    if is_missing(value):
        return None
    if isinstance(value, int | np.integer) and not isinstance(value, bool | np.bool_):
        return str(int(value))
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    if isinstance(value, str) and value.strip():
        return value
    return None


def _body(body: Any, position: int, request_id: str | None, problems: ProblemLog) -> Any:
    """The body made JSON-safe: a dict, None when there is none, or ``_REPORTED``."""
    if body is None:
        return None
    try:
        safe = json_safe(body)
    except UnsafeValue as err:
        problems.add(RowProblem(position, request_id, "body", str(err)))
        return _REPORTED
    if safe is MISSING:
        return None
    if not isinstance(safe, dict):
        problems.add(RowProblem(position, request_id, "body", "body must be a JSON object or null"))
        return _REPORTED
    return safe


def ready_rows(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows of a file of ready requests; a body given as JSON text is decoded, empty cells dropped."""
    rows = []
    for record in frame.to_dict("records"):
        row = {str(key): value for key, value in record.items() if not is_missing(value)}
        if isinstance(row.get("body"), str):
            with contextlib.suppress(ValueError):  # if not JSON, the check says a body must be an object
                row["body"] = json.loads(row["body"])
        rows.append(row)
    return rows


def checked_batch(items: Sequence[Any]) -> EncodedChunk:
    """
    One batch of a direct caller's requests, checked as the operator checks ready requests, then encoded.
    Requests without an id are sent without one.

    :param items: 1 to 500 requests: dicts or :class:`BatchRequest` objects.
    """
    if isinstance(items, str | bytes | bytearray | memoryview):
        raise EcwidConfigError(
            f"Give a batch's requests as dicts or BatchRequest objects, not as encoded {type(items).__name__}: "
            "each one's path and method are checked before anything is sent"
        )
    if not 1 <= len(items) <= MAX_BATCH_SIZE:
        raise EcwidConfigError(f"A batch holds 1 to {MAX_BATCH_SIZE} requests, got {len(items)}")
    problems = ProblemLog()
    requests = ready_requests(items, 0, problems, number_ids=False)
    problems.raise_if_any()
    return EncodedChunk(0, encode(requests), len(requests), 0)
