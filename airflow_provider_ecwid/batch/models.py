"""Plain data types of Ecwid's batch API, as the provider sees them."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import Any

import msgspec

#: Ecwid accepts at most this many requests in one batch.
MAX_BATCH_SIZE = 500


class BatchState(str, Enum):
    """The state of a whole batch. Ecwid has no batch-level FAILED or CANCELLED."""

    QUEUED = "QUEUED"
    IN_PROGRESS = "IN_PROGRESS"
    COMPLETED = "COMPLETED"
    #: A state this provider does not know; treated as not finished.
    UNKNOWN = "UNKNOWN"

    @property
    def is_finished(self) -> bool:
        return self is BatchState.COMPLETED


class ItemStatus(str, Enum):
    """The outcome of one request inside a batch."""

    COMPLETED = "COMPLETED"
    FAILED = "FAILED"
    NOT_EXECUTED = "NOT_EXECUTED"
    #: An item status this provider does not know; counted as not done.
    UNKNOWN = "UNKNOWN"
    #: A request the answer has no result for (the report's own status, never Ecwid's); counted as not done.
    MISSING = "MISSING"


class BatchRequest(msgspec.Struct, kw_only=True, omit_defaults=True, frozen=True, gc=False):
    """
    One inner request of a batch: the one form of "a request" in this provider.

    The row route builds these (:mod:`~.build`), ready requests become these once (:mod:`~.ready`), and
    :func:`~.wire.encode` writes them as the objects of Ecwid's batch array, fields in this order, those with no
    value left out; the Arrow route writes the same bytes without making them (:mod:`~.columnar`). The client
    sends the encoded chunks (:class:`~.chunks.EncodedChunk`), never these one by one.

    :param id: an id that Ecwid echoes back in the results, to map them to input rows; None: none is sent.
    :param path: the API path after ``/api/v3/{storeId}``, query string included.
    :param method: ``GET``, ``POST``, ``PUT`` or ``DELETE``.
    :param body: the inner request's JSON body (an object), or None for GET/DELETE (then none is sent).
    """

    id: str | None = None
    path: str
    method: str
    body: Any = None


@dataclass(frozen=True, slots=True)
class ItemResult:
    """
    The outcome of one inner request, as reported by a batch status answer.

    :param id: the request's id as sent (None when Ecwid omitted it).
    :param status: COMPLETED, FAILED or NOT_EXECUTED.
    :param http_status_code: the inner call's HTTP status, when it ran.
    :param http_status_line: the inner call's status line, when given.
    :param body: the inner call's answer, decoded from JSON when possible, else the raw text.
    :param error_code: Ecwid's errorCode from the inner answer, for failed items.
    :param error_message: Ecwid's errorMessage from the inner answer, for failed items.
    """

    id: str | None
    status: ItemStatus
    http_status_code: int | None = None
    http_status_line: str | None = None
    body: Any = None
    error_code: str | None = None
    error_message: str | None = None


@dataclass(frozen=True, slots=True)
class BatchStatus:
    """
    A batch's state as read from ``GET /batch?ticket=``.

    :param ticket: the batch's ticket.
    :param state: the batch's state (UNKNOWN when Ecwid sent one this provider does not know).
    :param raw_state: the state exactly as Ecwid spelled it.
    :param total_requests: how many requests the batch holds.
    :param completed_requests: how many of them have run (successfully or not).
    :param responses: the per-request results known so far.
    """

    ticket: str
    state: BatchState
    raw_state: str | None
    total_requests: int
    completed_requests: int
    responses: tuple[ItemResult, ...] = field(default_factory=tuple)

    @property
    def is_finished(self) -> bool:
        return self.state.is_finished
