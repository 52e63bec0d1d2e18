"""Sending a plan's batches: deduplication keys, resuming a retried try, bookkeeping, and stopping on a kill.

One :class:`Submission` is one task try's walk over a plan's chunks. Each chunk is POSTed with a deterministic
``deduplicationKey`` and the task run's ``groupId``. On Airflow 3.3+ each ticket is also kept in the task's
state store, so a retried try resumes after the last submitted chunk instead of sending it again. When the
task is killed, :meth:`Submission.kill` cancels the group's not-yet-run requests and the walk stops before
the next POST; the kill is written to the state store, so a retry re-sends exactly the requests the cancel
left not executed, under new deduplication keys (the old keys would hand the cancelled tickets back).
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Iterable
from typing import Any

from airflow_provider_ecwid.api.client import EcwidClient
from airflow_provider_ecwid.batch.chunks import DEDUPLICATION_NAMESPACE, EncodedChunk, deduplication_key
from airflow_provider_ecwid.batch.models import ItemStatus
from airflow_provider_ecwid.errors import EcwidSubmissionKilledError
from airflow_provider_ecwid.tickets.accounting import EXPECTED_XCOM_KEY, expectation
from airflow_provider_ecwid.tickets.state import StateStore

log = logging.getLogger(__name__)

TICKETS_XCOM_KEY = "tickets"
#: State-store keys (Airflow 3.3+): each chunk's ticket, and the mark a kill leaves for the next try.
CHUNK_STATE_KEY = "ecwid_chunk_{index}"
KILLED_STATE_KEY = "ecwid_killed"


class Submission:
    """
    Send chunks as batches for one task try.

    :param client: the store's client.
    :param identity: what identifies the task run (dag, run, task, map index): the deduplication keys' base.
    :param group_id: the task run's batch group.
    :param ti: the task instance, for XCom.
    :param state_store: Airflow 3.3's task state store, or None.
    :param stop_on_first_failure: Ecwid's flag for each batch.
    :param allow_parallel_mode: Ecwid's flag for each batch.
    """

    def __init__(
        self,
        client: EcwidClient,
        *,
        identity: str,
        group_id: str,
        ti: Any,
        state_store: StateStore | None,
        stop_on_first_failure: bool,
        allow_parallel_mode: bool,
    ) -> None:
        self.client = client
        self.identity = identity
        self.group_id = group_id
        self.ti = ti
        self.state_store = state_store
        self.stop_on_first_failure = stop_on_first_failure
        self.allow_parallel_mode = allow_parallel_mode
        self.tickets: list[str] = []
        self.expected: dict[str, dict[str, Any]] = {}
        self.killed = threading.Event()
        self._after_kill = bool(state_store is not None and state_store.get(KILLED_STATE_KEY))
        self._pushed = 0

    # -- the walk ---------------------------------------------------------------------------------------------

    def run(self, chunks: Iterable[EncodedChunk], chunk_count: int, request_count: int) -> list[str]:
        """Submit every chunk (or resume it); return the tickets in order."""
        started = time.monotonic()
        sent = 0
        log.info("Submitting %d batch(es) in group %s", chunk_count, self.group_id)
        if self._after_kill:
            log.warning("An earlier try was killed: its cancelled requests are sent again, nothing else twice")
        for chunk in chunks:
            self.check_killed()
            verb = self._submit(chunk)
            sent += chunk.size
            self._push_tickets(final=False)
            log.info(
                "chunk %d/%d %s (%s/%s requests), ticket %s",
                chunk.index + 1,
                chunk_count,
                verb,
                f"{sent:,}",
                f"{request_count:,}",
                self.tickets[-1],
            )
        self._push_tickets(final=True)
        self.ti.xcom_push(key=EXPECTED_XCOM_KEY, value=self.expected)
        if self.state_store is not None and self._after_kill:
            self.state_store.delete(KILLED_STATE_KEY)  # every cancelled request is sent again (set() refuses None)
        log.info("Submitted %d batch(es) in %.1f s", len(self.tickets), time.monotonic() - started)
        return self.tickets

    def _submit(self, chunk: EncodedChunk) -> str:
        key = deduplication_key(self.identity, chunk)
        saved = self._saved_ticket(chunk, key)
        if saved is None:
            self._add(chunk, self._create(chunk, key, chunk.index))
            return "submitted"
        self._add(chunk, saved)
        if not self._after_kill:
            return "resumed (already submitted by an earlier try)"
        cancelled = self._not_executed_ids(saved)
        if not cancelled:
            return "resumed (it had run before the kill)"
        self.expected[saved]["superseded"] = len(cancelled)  # the report counts them in the new batch
        resend = chunk.only(cancelled)
        resend_key = str(uuid.uuid5(DEDUPLICATION_NAMESPACE, f"{key}|after-kill"))  # the old key: the old ticket
        self._add(resend, self._create(resend, resend_key, None))
        return f"resumed; its {len(cancelled)} request(s) cancelled by the kill sent again"

    def _create(self, chunk: EncodedChunk, key: str, index: int | None) -> str:
        """POST one batch; keep its ticket in the state store under its chunk's index (None: do not keep)."""
        ticket = self.client.create_batch(
            chunk,
            stop_on_first_failure=self.stop_on_first_failure,
            allow_parallel_mode=self.allow_parallel_mode,
            deduplication_key=key,
            group_id=self.group_id,
        )
        if self.state_store is not None and index is not None:
            self.state_store.set(CHUNK_STATE_KEY.format(index=index), {"ticket": ticket, "key": key})
        if self.killed.is_set():  # the kill's cancel may have run while this POST was in flight
            self.tickets.append(ticket)
            self._cancel()
            self.check_killed()
        return ticket

    def _add(self, chunk: EncodedChunk, ticket: str) -> None:
        self.tickets.append(ticket)
        self.expected[ticket] = expectation(chunk.payload)

    def _saved_ticket(self, chunk: EncodedChunk, key: str) -> str | None:
        if self.state_store is None:
            return None
        saved = self.state_store.get(CHUNK_STATE_KEY.format(index=chunk.index))
        if isinstance(saved, dict) and saved.get("key") == key and saved.get("ticket"):
            return str(saved["ticket"])
        if saved:
            log.warning("Chunk %d changed since the earlier try; submitting it again", chunk.index + 1)
        return None

    def _not_executed_ids(self, ticket: str) -> set[str]:
        """The requests of a batch from the killed try that the cancel stopped (read when the batch finished)."""
        while True:
            status = self.client.get_batch(ticket)
            if status.is_finished:
                return {item.id for item in status.responses if item.status is ItemStatus.NOT_EXECUTED and item.id}
            self.check_killed()
            time.sleep(1.0)

    def _push_tickets(self, *, final: bool) -> None:
        """Tickets to XCom as they come, at 1, 2, 4, 8... tickets and at the end: O(n) values written in all."""
        count = len(self.tickets)
        if count and count != self._pushed and (final or count & (count - 1) == 0):
            self.ti.xcom_push(key=TICKETS_XCOM_KEY, value=self.tickets)
            self._pushed = count

    # -- kill -------------------------------------------------------------------------------------------------

    def kill(self) -> None:
        """Called from ``on_kill`` (a signal handler): cancel the group; the walk stops before its next POST."""
        self.killed.set()
        self._cancel()

    def _cancel(self) -> None:
        try:
            count = self.client.cancel_group(self.group_id)
            log.info("Cancelled %d not-yet-run request(s) of group %s", count, self.group_id)
        except Exception as err:
            log.warning("Could not cancel group %s: %s", self.group_id, err)

    def check_killed(self) -> None:
        """Raise when the task was killed; leave the mark for the next try (from the task's own thread)."""
        if not self.killed.is_set():
            return
        if self.state_store is not None:
            self.state_store.set(KILLED_STATE_KEY, {"group": self.group_id})
        raise EcwidSubmissionKilledError(
            f"The task was killed after {len(self.tickets)} batch(es) were submitted; the not-yet-run requests of "
            f"group {self.group_id} were cancelled and nothing more is sent"
        )
