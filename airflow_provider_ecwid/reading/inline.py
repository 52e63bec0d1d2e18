"""A read's batches sent and waited for in the worker: one ``Submission`` per round of pages, each ticket waited
for in order and its answer read once (``reading.pages.TicketRunner``)."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_ecwid.api.client import EcwidClient
from airflow_provider_ecwid.batch.models import BatchStatus
from airflow_provider_ecwid.batch.plan import ready_plan
from airflow_provider_ecwid.tickets.state import StateStore
from airflow_provider_ecwid.tickets.submission import Submission
from airflow_provider_ecwid.tickets.waiting import TicketPoller, wait_for_tickets


class NoOutbox:
    """Where a read's tickets go when nobody needs them in XCom: nowhere."""

    def xcom_push(self, key: str, value: Any) -> None:
        """Forget the value."""


@dataclass
class InlineTickets:
    """
    Sends a read's pages and waits for each ticket here.

    :param client: the store's client.
    :param identity: the task run: the base of every deduplication key (a retry within the hour gets the same
        tickets back, and reads their answers instead of reading the pages again).
    :param group_id: the task run's batch group (a kill cancels it).
    :param poll_interval: seconds between status reads of a running batch.
    :param progress_timeout: seconds without a newly completed page before giving up (None: no limit).
    :param ti: where each round's tickets are pushed (the task instance), or nowhere.
    :param state_store: Airflow 3.3's task state store, or None.
    :param sleep: how to wait between status reads.
    """

    client: EcwidClient
    identity: str
    group_id: str
    poll_interval: float = 2.0
    progress_timeout: float | None = 3600.0
    ti: Any = field(default_factory=NoOutbox)
    state_store: StateStore | None = None
    sleep: Callable[[float], None] = time.sleep

    def send(self, name: str, requests: Sequence[dict[str, Any]], per_batch: int) -> list[str]:
        """Submit ``requests`` in batches of ``per_batch``; the tickets, in order."""
        plan, summary = ready_plan(requests, per_batch)
        submission = Submission(
            self.client,
            identity=f"{self.identity}|read:{name}",
            group_id=self.group_id,
            ti=self.ti,
            state_store=self.state_store,
            stop_on_first_failure=False,
            allow_parallel_mode=True,  # reads do not depend on each other
        )
        return submission.run(plan.chunks(), summary.chunks, summary.requests)

    def answer(self, ticket: str) -> BatchStatus:
        """Wait until ``ticket`` finished; its answer, read once."""
        poller = TicketPoller([ticket], self.client.get_batch)
        [status] = wait_for_tickets(
            poller,
            poll_interval=self.poll_interval,
            deadline=None,
            progress_timeout=self.progress_timeout,
            sleep=self.sleep,
        )
        return status
