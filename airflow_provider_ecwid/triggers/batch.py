"""EcwidBatchTrigger: waits on batch tickets in the triggerer without blocking its event loop."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

from airflow_provider_ecwid.errors import NOT_RETRYABLE, EcwidError, EcwidWaitError
from airflow_provider_ecwid.hooks.ecwid import EcwidHook
from airflow_provider_ecwid.tickets.waiting import TicketPoller, poll_until_done

#: The error event's reason when another try cannot help (e.g. Ecwid answered 403): the task fails without retries.
NOT_RETRYABLE_REASON = "not_retryable"


class EcwidBatchTrigger(BaseTrigger):
    """
    Poll the newest unfinished ticket until it completed (then, first-in first-out, every ticket has); yield one
    event. The answers are not read here: the resumed task reads each ticket once, and the event stays small.

    Events: ``{"status": "success", "tickets": [...]}`` or ``{"status": "error", "reason": ..., "message": ...,
    "tickets": [...]}`` with reason ``timeout``, ``progress_timeout``, ``unknown_ticket``, ``not_retryable`` (e.g. a
    403) or ``api_error`` (any other error, an unreadable status answer included).
    HTTP calls run in a worker thread with the client's usual retries, so the event loop never blocks.

    :param conn_id: the ``ecwid`` connection id.
    :param tickets: the tickets, in submission order.
    :param poll_interval: seconds between polls (sooner when the polled ticket runs and should finish sooner).
    :param deadline: wall-clock epoch after which waiting fails (None: no limit).
    :param progress_timeout: seconds without a newly completed request after which waiting fails.
    :param next_index: the first ticket not known to be finished (see ``TicketPoller.state``).
    :param oldest_done: its completed requests when last read (-1: not read).
    :param waiting_on: the ticket polled (None: the newest).
    :param last_progress_at: wall-clock epoch of the last progress.
    :param last_probe_at: when the oldest unfinished ticket was last read (None: not yet).
    :param first_read_at: wall-clock epoch before which the trigger reads no status (None: at once), so that its
        event cannot overtake the deferred task's exit from its worker.
    :param group_id: the submission's group, cancelled by :meth:`on_kill` when ``cancel_on_kill``.
    :param cancel_on_kill: cancel the group's not-yet-run requests when a user kills the task.
    :param progress_mark: ignored: what a trigger saved by an earlier version holds (the wait goes on from
        ``next_index``).
    :param done_requests: ignored, as ``progress_mark``.
    """

    def __init__(
        self,
        *,
        conn_id: str,
        tickets: list[str],
        poll_interval: float = 10.0,
        deadline: float | None = None,
        progress_timeout: float | None = None,
        next_index: int = 0,
        oldest_done: int = -1,
        waiting_on: int | None = None,
        last_progress_at: float | None = None,
        last_probe_at: float | None = None,
        first_read_at: float | None = None,
        group_id: str | None = None,
        cancel_on_kill: bool = False,
        progress_mark: int | None = None,
        done_requests: int | None = None,
    ) -> None:
        super().__init__()
        del progress_mark, done_requests  # an earlier version's progress counters: next_index is enough
        self.conn_id = conn_id
        self.tickets = list(tickets)
        self.poll_interval = float(poll_interval)
        self.deadline = deadline
        self.progress_timeout = progress_timeout
        self.poller_state: dict[str, Any] = {
            "next_index": next_index,
            "oldest_done": oldest_done,
            "waiting_on": waiting_on,
            "last_progress_at": last_progress_at,
            "last_probe_at": last_probe_at,
        }
        self.first_read_at = first_read_at
        self.group_id = group_id
        self.cancel_on_kill = cancel_on_kill

    def serialize(self) -> tuple[str, dict[str, Any]]:
        """The trigger's class path and keyword arguments, as Airflow stores them while the task is deferred."""
        return (
            f"{type(self).__module__}.{type(self).__qualname__}",
            {
                "conn_id": self.conn_id,
                "tickets": self.tickets,
                "poll_interval": self.poll_interval,
                "deadline": self.deadline,
                "progress_timeout": self.progress_timeout,
                **self.poller_state,
                "first_read_at": self.first_read_at,
                "group_id": self.group_id,
                "cancel_on_kill": self.cancel_on_kill,
            },
        )

    async def run(self) -> AsyncIterator[TriggerEvent]:
        """Poll until every ticket has finished or a deadline passes, then yield the one event."""
        try:
            client = await EcwidHook(self.conn_id).aget_conn()
        except Exception as err:
            yield self._error("api_error", f"cannot read connection {self.conn_id!r}: {err}")
            return
        if self.first_read_at is not None:
            await asyncio.sleep(max(0.0, self.first_read_at - time.time()))
        poller = TicketPoller(self.tickets, client.get_batch, read_answers=False).restore(self.poller_state)
        waits = poll_until_done(
            poller, poll_interval=self.poll_interval, deadline=self.deadline, progress_timeout=self.progress_timeout
        )
        try:  # each step of the loop polls over HTTP: in a thread, so the event loop never blocks
            while (seconds := await asyncio.to_thread(next, waits, None)) is not None:
                await asyncio.sleep(seconds)
        except EcwidWaitError as err:
            yield self._error(err.reason, str(err))
            return
        except NOT_RETRYABLE as err:
            yield self._error(NOT_RETRYABLE_REASON, str(err))
            return
        except EcwidError as err:
            yield self._error("api_error", str(err))
            return
        finally:
            await asyncio.to_thread(client.close)
        self.log.info(
            "The newest of %d Ecwid ticket(s) finished after %d status call(s); the task reads the answers",
            len(self.tickets),
            poller.calls,
        )
        yield TriggerEvent({"status": "success", "tickets": self.tickets, "status_calls": poller.calls})

    def _error(self, reason: str, message: str) -> TriggerEvent:
        return TriggerEvent({"status": "error", "reason": reason, "message": message, "tickets": self.tickets})

    async def on_kill(self) -> None:
        """On Airflow 3.3+, when a user kills the deferred task: cancel the group's not-yet-run requests."""
        if not (self.cancel_on_kill and self.group_id):
            return
        try:
            client = await EcwidHook(self.conn_id).aget_conn()
            count = await asyncio.to_thread(client.cancel_group, self.group_id)
            self.log.info("Cancelled %d not-yet-run request(s) of group %s", count, self.group_id)
        except Exception as err:
            self.log.warning("Could not cancel Ecwid group %s: %s", self.group_id, err)
