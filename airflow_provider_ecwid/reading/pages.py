"""Every item of a list endpoint in a window, read through batches, each item once, none lost to shifting pages.

One direct call counts the window (``limit=1``); its pages (100 items each) go into batches of at most
``pages_per_batch`` ``GET`` requests, and each ticket's answer is read once, in submission order, and handed on
page by page before the next one is read: memory holds one answer, whatever the window's size.

**Nothing lost.** Offset pages shift while they are read (an item that leaves the window moves every later one
a place back), so a page boundary can skip an item that did not change. The window's end is fixed in the past
(``reading.window``), so items can only leave it: a read is complete when the distinct ids it found reach the
count made before it, or when every page answered the same ``total`` (nothing left while it ran) and the ids
reach that. Otherwise the window is cut in halves, each counted and read again, and only ids not yet written
are handed on; a one-second window that still does not add up is read again, up to :data:`MAX_REREADS` times.
An item that changed during the read may be missing (it is in the next window's export) or present with its
earlier values; an unchanged one is always there, exactly once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any, Protocol
from urllib.parse import urlencode

from airflow_provider_ecwid.api.client import EcwidClient
from airflow_provider_ecwid.batch.models import BatchStatus, ItemStatus
from airflow_provider_ecwid.errors import EcwidApiError, EcwidResponseError, EcwidWaitError
from airflow_provider_ecwid.reading.seen import SeenIds
from airflow_provider_ecwid.reading.window import Window

log = logging.getLogger(__name__)

#: Items per page: Ecwid's largest ``limit`` on every list endpoint.
PAGE_LIMIT = 100
#: Pages per batch. A page of full orders is about 150 KB of JSON, so a status answer of 100 pages is about
#: 15 MB (less with ``responseFields``), read and parsed once and then let go; fewer pages per batch would cost
#: more calls (a POST and at least one status read per batch): 10,000 pages in 100 batches is about 210 calls.
PAGES_PER_BATCH = 100
#: A one-second window that still does not add up is read again this many times before the read fails.
MAX_REREADS = 3


@dataclass(frozen=True)
class ListEndpoint:
    """
    A list endpoint and how to read its items.

    :param path: the search path, e.g. ``/orders``.
    :param params: its filters and ``responseFields`` (the window's are added).
    :param id_field: each item's id (the export writes each id once).
    :param time_field: each item's update time (UNIX seconds), None for an endpoint without a time filter.
    """

    path: str
    params: Mapping[str, Any] = field(default_factory=dict)
    id_field: str = "id"
    time_field: str | None = "updateTimestamp"


class TicketRunner(Protocol):
    """Sends ready requests as batches, and gives each ticket's final answer once it finished."""

    def send(self, name: str, requests: Sequence[dict[str, Any]], per_batch: int) -> list[str]: ...

    def answer(self, ticket: str) -> BatchStatus: ...


@dataclass
class ReadStats:
    """What a read cost and found: ``counts`` direct count calls, ``batches`` sent, ``pages`` read, ``items``
    handed on, ``rereads`` windows read again."""

    counts: int = 0
    batches: int = 0
    pages: int = 0
    items: int = 0
    rereads: int = 0


@dataclass
class Page:
    """One page's answer: its ``offset``, the ``total`` the endpoint reported then, and its ``items``."""

    offset: int
    total: int
    items: list[dict[str, Any]]


class BatchedReader:
    """
    Reads one endpoint's items in a window, through batches (see the module's docstring).

    :param client: the store's client (for the counts).
    :param endpoint: what to read.
    :param tickets: sends the pages and answers their tickets.
    :param pages_per_batch: at most this many pages per batch.
    """

    def __init__(
        self,
        client: EcwidClient,
        endpoint: ListEndpoint,
        tickets: TicketRunner,
        *,
        pages_per_batch: int = PAGES_PER_BATCH,
    ) -> None:
        self.client = client
        self.endpoint = endpoint
        self.tickets = tickets
        self.pages_per_batch = max(1, min(pages_per_batch, 500))
        self.seen = SeenIds()
        self.stats = ReadStats()
        self.earliest: int | None = None

    def read(self, window: Window | None) -> Iterator[list[dict[str, Any]]]:
        """The window's items (every item without a window), a page at a time, each id once."""
        yield from self._read(window, self.count(window), rereads=0)

    def count(self, window: Window | None) -> int:
        """How many items the window holds now (one direct call)."""
        self.stats.counts += 1
        return count_items(self.client, self.endpoint.path, self._params(window))

    def _params(self, window: Window | None) -> dict[str, Any]:
        return {**self.endpoint.params, **(window.params() if window is not None else {})}

    def _read(self, window: Window | None, total: int, rereads: int) -> Iterator[list[dict[str, Any]]]:
        found, totals = SeenIds(), set()
        for page in self._pages(window, total):
            totals.add(page.total)
            found.add_new(item.get(self.endpoint.id_field) for item in page.items)
            held = [item for item in page.items if self._holds(window, item)]  # the query is a second wider
            fresh = self.seen.add_new(item.get(self.endpoint.id_field) for item in held)
            kept = [item for item, new in zip(held, fresh, strict=True) if new]
            self.stats.items += len(kept)
            if kept:
                yield kept
        if len(found) >= total or (len(totals) == 1 and len(found) >= totals.pop()):
            return
        log.warning(
            "%s %s: %d distinct item(s) read of %d counted: items left the window while it was read; reading "
            "it again in smaller windows",
            self.endpoint.path,
            _describe(window),
            len(found),
            total,
        )
        yield from self._read_again(window, rereads)

    def _read_again(self, window: Window | None, rereads: int) -> Iterator[list[dict[str, Any]]]:
        self.stats.rereads += 1
        halves = window.halves(self.earliest or 0) if window is not None else None
        if halves is None:
            if rereads >= MAX_REREADS:
                raise EcwidWaitError(
                    f"{self.endpoint.path} {_describe(window)} did not add up after {rereads} reads: the store "
                    "changes it faster than it can be read; run the export again",
                    "incomplete_read",
                )
            yield from self._read(window, self.count(window), rereads + 1)
            return
        for half in halves:
            yield from self._read(half, self.count(half), rereads)

    def _holds(self, window: Window | None, item: Mapping[str, Any]) -> bool:
        if window is None or self.endpoint.time_field is None:
            return True
        stamp = item.get(self.endpoint.time_field)
        if isinstance(stamp, int) and (self.earliest is None or stamp < self.earliest):
            self.earliest = stamp
        return window.holds(stamp)

    def _pages(self, window: Window | None, total: int) -> Iterator[Page]:
        """The window's pages, sent in batches and read back a ticket at a time, in order."""
        if total == 0:
            return
        params = self._params(window)
        offsets = range(0, total, PAGE_LIMIT)
        requests = [
            {"id": f"page:{offset}", "method": "GET", "path": _page_path(self.endpoint.path, params, offset)}
            for offset in offsets
        ]
        name = f"{self.endpoint.path}|{_describe(window)}|{total}"
        tickets = self.tickets.send(name, requests, self.pages_per_batch)
        self.stats.batches += len(tickets)
        for ticket in tickets:
            status = self.tickets.answer(ticket)
            for page in _pages_of(status, self.endpoint.path):
                self.stats.pages += 1
                yield page


def count_items(client: EcwidClient, path: str, params: Mapping[str, Any]) -> int:
    """How many items a search holds now: one direct call for one item, read for its ``total``."""
    answer = client.request("GET", path, params={**params, "limit": 1, "offset": 0})
    total = answer.get("total") if isinstance(answer, Mapping) else None
    if not isinstance(total, int) or isinstance(total, bool) or total < 0:
        raise EcwidResponseError(f"Ecwid's {path} answer has no total: {answer!r:.200}")
    return total


def store_now(client: EcwidClient, local: int) -> int:
    """
    Now, by the earlier of this worker's clock (``local``) and the store's (the ``Date`` of one call): a window
    that ends now must end in the store's past, or an item the store updates during the read could stay in it.
    """
    _, date = client.latest_stats()
    try:
        return min(local, int(parsedate_to_datetime(date).timestamp())) if date else local
    except (TypeError, ValueError):
        return local


def _page_path(path: str, params: Mapping[str, Any], offset: int) -> str:
    query = urlencode({**params, "offset": offset, "limit": PAGE_LIMIT})
    return f"{path}?{query}"


def _pages_of(status: BatchStatus, path: str) -> Iterator[Page]:
    """Each page of one finished ticket, in order; a page that failed fails the read, naming Ecwid's answer."""
    for result in status.responses:
        if result.status != ItemStatus.COMPLETED:
            raise EcwidApiError(
                result.http_status_code or 0,
                "GET",
                path,
                result.error_code,
                result.error_message or f"page {result.id} of ticket {status.ticket} was {result.status.value}",
            )
        body = result.body
        if not isinstance(body, Mapping) or not isinstance(body.get("items"), list):
            raise EcwidResponseError(f"page {result.id} of {path} holds no items list: {body!r:.200}")
        offset = int(str(result.id or "page:0").rsplit(":", 1)[-1] or 0)
        total = body.get("total")
        yield Page(offset, total if isinstance(total, int) else -1, list(body["items"]))


def _describe(window: Window | None) -> str:
    if window is None:
        return "(all)"
    return f"[{window.start if window.start is not None else '-'}, {window.end})"
