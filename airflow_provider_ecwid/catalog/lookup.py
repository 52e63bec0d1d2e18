"""Mapping SKU -> product id with as few calls as possible: page the catalog, or look SKUs up in batches."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Iterator, Sequence
from typing import Any
from urllib.parse import quote

from airflow_provider_ecwid.api.client import EcwidClient
from airflow_provider_ecwid.batch.models import ItemStatus
from airflow_provider_ecwid.catalog.diff import CatalogIndex, lookup_costs, record_text
from airflow_provider_ecwid.catalog.settings import Lookup
from airflow_provider_ecwid.errors import EcwidError
from airflow_provider_ecwid.reading.inline import InlineTickets
from airflow_provider_ecwid.reading.pages import BatchedReader, ListEndpoint, count_items, store_now
from airflow_provider_ecwid.reading.window import Window
from airflow_provider_ecwid.tickets.waiting import TicketPoller, wait_for_tickets

log = logging.getLogger(__name__)

#: The products' update time: the batched read's window is on it.
STAMP = "updateTimestamp"


def _fields(index: CatalogIndex) -> str:
    return index.response_fields


#: A catalog of at least this many pages (of 100 products) is read through batches (``reading``): below it,
#: paging costs about as many calls as the batches' POSTs, status reads, count and clock read would.
BATCHED_FROM_PAGES = 10


def scan_catalog(
    client: EcwidClient, index: CatalogIndex, records: dict[str, str] | None = None, lookup: Lookup | None = None
) -> None:
    """
    Read the whole catalog with only the compared fields (kept in ``records`` too when given: product id as text ->
    the product as JSON text): a small one page by page, a large one through batches of pages.

    :param client: the store's client.
    :param index: where the products go.
    :param records: where each product's JSON text goes, for the catalog memory.
    :param lookup: the wait limits of the batches (a large catalog's read); None pages it in any case.
    """
    before = index.calls
    fields = f"total,count,items({_fields(index)})"
    total = index.catalog_size  # known when ``auto`` probed the catalog's size
    if total is None and lookup is not None:
        total = count_items(client, "/products", {"responseFields": "total"})
        before += 1
    if lookup is None or total is None or -(-total // 100) < BATCHED_FROM_PAGES:
        for product in client.iter_products(responseFields=fields):
            _keep(index, records, product)
        index.calls = before + max(1, -(-len(index.products) // 100))
    else:
        calls = client.http_calls
        for product in _read_through_batches(client, index, lookup):
            _keep(index, records, product)
        index.calls = before + client.http_calls - calls
    index.complete = True
    index.catalog_size = len(index.products)


def _keep(index: CatalogIndex, records: dict[str, str] | None, product: dict[str, Any]) -> None:
    if records is None or "id" not in product:
        index.add(product)
        return
    text = record_text(product)
    index.add(product, text)
    records[str(product["id"])] = text


def _read_through_batches(client: EcwidClient, index: CatalogIndex, lookup: Lookup) -> Iterator[dict[str, Any]]:
    """
    Every product, through batches of pages in a window that ends when the read starts (``reading``: nothing
    lost to pages that shift), then the products updated since, paged: the whole catalog, however it changed.
    """
    fields = ["id", "sku", "enabled", *index.fields, *index.extra_fields]
    endpoint = ListEndpoint("/products", {"responseFields": f"total,count,items({','.join([*fields, STAMP])})"})
    group = uuid.uuid4().hex  # a read sends nothing a retry would repeat: its own group and keys
    tickets = InlineTickets(
        client,
        identity=f"catalog-read|{group}",
        group_id=group,
        poll_interval=lookup.poll_interval,
        progress_timeout=lookup.progress_timeout,
    )
    reader = BatchedReader(client, endpoint, tickets, pages_per_batch=100 if index.extra_fields else 250)
    end = _store_time(client)
    asked = STAMP in fields
    for page in reader.read(Window(None, end)):
        for product in page:
            yield product if asked else {name: value for name, value in product.items() if name != STAMP}
    for product in client.iter_products(updatedFrom=end, responseFields=f"total,count,items({','.join(fields)})"):
        if product.get("id") not in reader.seen:  # updated (or created) while the window was read
            yield product
    log.info(
        "Read the catalog through %d batch(es) of %d page(s) in all (%d window(s) read again)",
        reader.stats.batches,
        reader.stats.pages,
        reader.stats.rereads,
    )


def _store_time(client: EcwidClient) -> int:
    """Now, by the earlier of this worker's clock and the store's."""
    return store_now(client, int(time.time()))


def wait_for_store_at_rest(client: EcwidClient, *, poll_interval: float, progress_timeout: float | None) -> int:
    """
    Wait until the batches the store has not finished yet have run; return how many there were.

    A sync must read the catalog after every batch queued before it has run: a retried try whose earlier try's
    batches are still queued would otherwise plan the same creates again. Batches of one store run first-in,
    first-out, so the sync's own batches would wait for these anyway.

    :param client: the store's client.
    :param poll_interval: seconds between status calls.
    :param progress_timeout: seconds without a newly completed request before giving up.
    """
    unfinished = [item["ticket"] for state in ("IN_PROGRESS", "QUEUED") for item in client.list_batches(state)]
    if not unfinished:
        return 0
    log.info(
        "The store has %d unfinished batch(es) (an earlier try's or another task's): waiting for them before "
        "reading the catalog, so that nothing they create is planned again",
        len(unfinished),
    )
    poller = TicketPoller([str(ticket) for ticket in unfinished], client.get_batch)
    wait_for_tickets(poller, poll_interval=poll_interval, deadline=None, progress_timeout=progress_timeout)
    return len(unfinished)


def batch_lookup(client: EcwidClient, index: CatalogIndex, skus: Sequence[str], lookup: Lookup) -> None:
    """Look each SKU up with ``GET /products?sku=`` inside batches of 500 run in parallel mode, waiting for them
    within ``lookup``'s limits."""
    tickets = []
    for start in range(0, len(skus), 500):
        requests = [
            {
                "id": str(position),
                "method": "GET",
                "path": f"/products?sku={quote(sku, safe='')}&responseFields=items({_fields(index)})",
            }
            for position, sku in enumerate(skus[start : start + 500], start)
        ]
        tickets.append(client.create_batch(requests, allow_parallel_mode=True, stop_on_first_failure=False))
    poller = TicketPoller(tickets, client.get_batch)
    statuses = wait_for_tickets(
        poller, poll_interval=lookup.poll_interval, deadline=lookup.deadline(), progress_timeout=lookup.progress_timeout
    )
    for status in statuses:
        for item in status.responses:
            if item.status is not ItemStatus.COMPLETED or not isinstance(item.body, dict):
                raise EcwidError(f"SKU lookup {item.id} failed: {item.http_status_code} {item.error_message}")
            for product in item.body.get("items") or []:
                index.add(product)
    index.calls += len(tickets) + poller.calls
    index.complete = False


def build_index(
    client: EcwidClient,
    fields: Sequence[str],
    skus: Sequence[str],
    lookup: Lookup,
    *,
    need_complete: bool,
    extra_fields: Sequence[str] = (),
    records: dict[str, str] | None = None,
) -> CatalogIndex:
    """Build the SKU index the cheapest way (``auto``), or as told (the way used is in ``index.way``)."""
    mode = lookup.mode
    index = CatalogIndex(fields, extra_fields)
    if mode == "auto":
        answer = client.request("GET", "/products", params={"limit": 1, "responseFields": "total"})
        index.calls += 1
        catalog_size = int(answer.get("total", 0)) if isinstance(answer, dict) else 0
        index.catalog_size = catalog_size
        scan_cost, batch_cost = lookup_costs(catalog_size, len(skus))
        mode = "scan" if need_complete or scan_cost <= batch_cost else "batch"
        log.info(
            "SKU lookup: the catalog has %s product(s), the feed %s SKU(s); paging costs about %s call(s), "
            "batched lookups about %s: using %s%s",
            f"{catalog_size:,}",
            f"{len(skus):,}",
            f"{scan_cost:,}",
            f"{batch_cost:,}",
            mode,
            " (on_missing needs the whole catalog)" if need_complete else "",
        )
    if mode == "scan":
        scan_catalog(client, index, records, lookup)
    else:
        batch_lookup(client, index, skus, lookup)
    log.info("Found %s of the feed's SKUs in the store", f"{sum(1 for s in skus if s in index.products):,}")
    index.way = mode
    return index


__all__ = ["batch_lookup", "build_index", "scan_catalog"]
