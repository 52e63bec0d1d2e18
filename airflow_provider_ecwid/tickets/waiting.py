"""Waiting on tickets in the order Ecwid runs them.

Batches of one store run first-in, first-out, so a later ticket cannot finish before an earlier one: only
the oldest unfinished ticket is polled, and the next one only once it completes. Status calls grow with
the time waited, not with tickets x time. The same :class:`TicketPoller` and the same loop,
:func:`poll_until_done`, serve the sensor's pokes, the operator's wait and the trigger (which runs each step in
a thread). A waiter that keeps nothing in memory between polls (a sensor in reschedule mode: Airflow makes a new
instance for every poke) uses :class:`NewestTicketProbe` instead, which asks about the newest ticket only.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_ecwid.batch.models import BatchState, BatchStatus, ItemStatus
from airflow_provider_ecwid.errors import EcwidNotFoundError, EcwidUnknownTicketError, EcwidWaitError

log = logging.getLogger(__name__)


@dataclass
class TicketPoller:
    """
    Polls the oldest unfinished ticket; keeps the final status of each finished one.

    :param tickets: the tickets in submission order.
    :param get_status: reads one ticket's status (e.g. ``EcwidClient.get_batch``).
    :param clock: wall-clock seconds (injectable for tests).
    :param next_index: the first ticket not known to be finished (to resume a wait).
    :param last_progress_at: when the completed-request count last grew.
    :param progress_mark: the completed-request count at that moment.
    :param done_requests: the requests of the tickets before ``next_index`` (to resume a wait).
    """

    tickets: Sequence[str]
    get_status: Callable[[str], BatchStatus]
    clock: Callable[[], float] = time.time
    next_index: int = 0
    last_progress_at: float | None = None
    progress_mark: int = -1
    done_requests: int = 0
    finished: dict[str, BatchStatus] = field(default_factory=dict)
    calls: int = 0
    _first_seen: tuple[float, int] | None = None
    _last_ticket_eta: float | None = None

    @property
    def done(self) -> bool:
        return self.next_index >= len(self.tickets)

    def poll(self) -> bool:
        """Read the oldest unfinished ticket (and the next ones as long as they are finished); True when all are."""
        if self.last_progress_at is None:
            self.last_progress_at = self.clock()
        current = 0
        remaining: int | None = None  # requests left in the last ticket, once it is the only one left
        while not self.done:
            ticket = self.tickets[self.next_index]
            try:
                status = self.get_status(ticket)
            except EcwidNotFoundError as err:
                raise EcwidUnknownTicketError(
                    f"Ecwid does not know ticket {ticket} ({self.next_index + 1} of {len(self.tickets)}); "
                    "it may belong to another store or have expired"
                ) from err
            self.calls += 1
            if status.state is BatchState.COMPLETED:
                self.finished[ticket] = status
                self.done_requests += status.total_requests
                log.info(
                    "ticket %d/%d %s completed: %d request(s), %d failed",
                    self.next_index + 1,
                    len(self.tickets),
                    ticket,
                    status.total_requests,
                    sum(1 for item in status.responses if item.status is ItemStatus.FAILED),
                )
                self.next_index += 1
                continue
            current = status.completed_requests
            remaining = status.total_requests - current if self.next_index == len(self.tickets) - 1 else None
            log.info(
                "ticket %d/%d %s is %s: %d/%d request(s) done",
                self.next_index + 1,
                len(self.tickets),
                ticket,
                status.raw_state,
                status.completed_requests,
                status.total_requests,
            )
            break
        mark = self.done_requests + current
        now = self.clock()
        if mark > self.progress_mark:
            self.progress_mark = mark
            self.last_progress_at = now
        self._estimate(now, mark, remaining)
        return self.done

    def _estimate(self, now: float, mark: int, remaining: int | None) -> None:
        """When only the last ticket is left: when it should finish, at the rate seen since the first poll."""
        if self._first_seen is None:
            self._first_seen = (now, mark)
        started_at, started_mark = self._first_seen
        self._last_ticket_eta = None
        if remaining is not None and now > started_at and mark > started_mark:
            self._last_ticket_eta = remaining / ((mark - started_mark) / (now - started_at))

    def next_wait(self, poll_interval: float) -> float:
        """
        Seconds until the next poll: ``poll_interval``, or less when the last ticket should finish sooner (never
        less than a quarter of it), so the wait ends close to when the work does.

        :param poll_interval: the configured seconds between polls.
        """
        if self._last_ticket_eta is None:
            return poll_interval
        return min(poll_interval, max(self._last_ticket_eta, poll_interval / 4))

    def check_deadlines(self, deadline: float | None, progress_timeout: float | None) -> None:
        """Raise EcwidWaitError when the total deadline passed or nothing progressed for too long."""
        now = self.clock()
        where = f"{self.next_index} of {len(self.tickets)} ticket(s) finished"
        if deadline is not None and now >= deadline:
            raise EcwidWaitError(f"Timed out waiting for Ecwid batches; {where}", "timeout")
        if progress_timeout is not None and self.last_progress_at is not None:
            idle = now - self.last_progress_at
            if idle >= progress_timeout:
                raise EcwidWaitError(
                    f"No batch request completed for {idle:.0f} s (progress_timeout {progress_timeout:.0f} s); {where}",
                    "progress_timeout",
                )

    def statuses(self) -> list[BatchStatus]:
        """The final statuses in ticket order (all tickets must be finished)."""
        return [self.finished[ticket] for ticket in self.tickets]

    def state(self) -> dict[str, Any]:
        """JSON-safe resume point, for a trigger's kwargs."""
        return {
            "next_index": self.next_index,
            "last_progress_at": self.last_progress_at,
            "progress_mark": self.progress_mark,
            "done_requests": self.done_requests,
        }


def poll_until_done(
    poller: TicketPoller, *, poll_interval: float, deadline: float | None, progress_timeout: float | None
) -> Iterator[float]:
    """
    The one waiting loop: poll, check the deadlines, and yield the seconds to sleep before the next poll, until
    every ticket finished (then ``poller.statuses()`` holds the answers). The caller sleeps its own way: a plain
    sleep, a sleep a kill can end, or ``asyncio.sleep`` in the triggerer.

    :param poller: the poller, fresh or resumed.
    :param poll_interval: the configured seconds between polls.
    :param deadline: wall-clock epoch after which waiting fails (None: no limit).
    :param progress_timeout: seconds without a newly completed request after which waiting fails.
    """
    while not poller.poll():
        poller.check_deadlines(deadline, progress_timeout)
        yield poller.next_wait(poll_interval)


def wait_for_tickets(
    poller: TicketPoller,
    *,
    poll_interval: float,
    deadline: float | None,
    progress_timeout: float | None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[BatchStatus]:
    """Poll until every ticket finished; return their final statuses, or raise EcwidWaitError."""
    for seconds in poll_until_done(
        poller, poll_interval=poll_interval, deadline=deadline, progress_timeout=progress_timeout
    ):
        sleep(seconds)
    return poller.statuses()


@dataclass
class NewestTicketProbe:
    """
    One poll for a waiter that keeps nothing in memory between polls.

    Batches of one store run first-in, first-out, so the newest ticket finishes last: each poll reads it alone,
    and only once it completed are the others read, once each, for the report. A wait of ``p`` polls on ``n``
    tickets costs ``p + n - 1`` status calls, like a :class:`TicketPoller` kept in memory, instead of re-reading
    every finished ticket on each poll.

    Progress is what the newest ticket shows: its state and its completed requests. While it is still queued
    behind the submission's earlier batches, nothing counts as progress or as the lack of it; the total time-out
    bounds that part of the wait.

    :param tickets: the tickets in submission order.
    :param get_status: reads one ticket's status.
    :param clock: wall-clock seconds (injectable for tests).
    :param progress_mark: the newest ticket's progress last seen (from :meth:`state`), or -1.
    :param last_progress_at: when it last grew, or None.
    """

    tickets: Sequence[str]
    get_status: Callable[[str], BatchStatus]
    clock: Callable[[], float] = time.time
    progress_mark: int = -1
    last_progress_at: float | None = None
    calls: int = 0

    def poll(self) -> list[BatchStatus] | None:
        """The final statuses in ticket order once every ticket finished, else None."""
        newest = self._read(len(self.tickets) - 1)
        if newest.state is not BatchState.COMPLETED:
            self._note_progress(newest)
            return None
        statuses = [self._read(index) for index in range(len(self.tickets) - 1)] + [newest]
        unfinished = [status.ticket for status in statuses if status.state is not BatchState.COMPLETED]
        if unfinished:  # not first-in, first-out after all (e.g. tickets of two stores): wait for them too
            log.warning("The newest ticket finished before %d earlier one(s), e.g. %s", len(unfinished), unfinished[0])
            return None
        return statuses

    def _read(self, index: int) -> BatchStatus:
        ticket = self.tickets[index]
        try:
            status = self.get_status(ticket)
        except EcwidNotFoundError as err:
            raise EcwidUnknownTicketError(
                f"Ecwid does not know ticket {ticket} ({index + 1} of {len(self.tickets)}); "
                "it may belong to another store or have expired"
            ) from err
        self.calls += 1
        return status

    def _note_progress(self, newest: BatchStatus) -> None:
        log.info(
            "the newest of %d ticket(s), %s, is %s: %d/%d request(s) done",
            len(self.tickets),
            newest.ticket,
            newest.raw_state,
            newest.completed_requests,
            newest.total_requests,
        )
        if newest.state is BatchState.QUEUED:
            self.last_progress_at = None  # queued behind earlier batches: no clock runs
            return
        mark = max(newest.completed_requests, 0)
        if mark > self.progress_mark or self.last_progress_at is None:
            self.progress_mark = mark
            self.last_progress_at = self.clock()

    def check_progress(self, progress_timeout: float | None) -> None:
        """Raise EcwidWaitError when the newest ticket ran without completing a request for too long."""
        if progress_timeout is None or self.last_progress_at is None:
            return
        idle = self.clock() - self.last_progress_at
        if idle >= progress_timeout:
            raise EcwidWaitError(
                f"No request of the newest ticket completed for {idle:.0f} s (progress_timeout "
                f"{progress_timeout:.0f} s)",
                "progress_timeout",
            )

    def restore(self, state: Any) -> None:
        """Take back what :meth:`state` returned on an earlier poll (anything else is ignored)."""
        if isinstance(state, Mapping):
            mark, at = state.get("progress_mark"), state.get("last_progress_at")
            self.progress_mark = mark if isinstance(mark, int) else -1
            self.last_progress_at = float(at) if isinstance(at, int | float) else None

    def state(self) -> dict[str, Any]:
        """JSON-safe progress, to keep between polls (e.g. in Airflow 3.3's task state store)."""
        return {"progress_mark": self.progress_mark, "last_progress_at": self.last_progress_at}
