"""Waiting on tickets in the order Ecwid runs them.

Batches of one store run first-in, first-out, so a later ticket cannot finish before an earlier one: only
the oldest unfinished ticket is polled, and the next one only once it completes. Status calls grow with
the time waited, not with tickets x time. The same :class:`TicketPoller` serves the sensor's pokes, the
operator's wait loop and the trigger (which runs its polls in a thread).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from airflow_provider_ecwid.batch.models import BatchState, BatchStatus
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
    """

    tickets: Sequence[str]
    get_status: Callable[[str], BatchStatus]
    clock: Callable[[], float] = time.time
    next_index: int = 0
    last_progress_at: float | None = None
    progress_mark: int = -1
    finished: dict[str, BatchStatus] = field(default_factory=dict)
    calls: int = 0
    _done_requests: int = 0
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
                self._done_requests += status.total_requests
                log.info(
                    "ticket %d/%d %s completed: %d request(s), %d failed",
                    self.next_index + 1,
                    len(self.tickets),
                    ticket,
                    status.total_requests,
                    sum(1 for item in status.responses if item.status.value == "FAILED"),
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
        mark = self._done_requests + current
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
        }


def wait_for_tickets(
    poller: TicketPoller,
    *,
    poll_interval: float,
    deadline: float | None,
    progress_timeout: float | None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[BatchStatus]:
    """Poll until every ticket finished; return their final statuses, or raise EcwidWaitError."""
    while not poller.poll():
        poller.check_deadlines(deadline, progress_timeout)
        sleep(poller.next_wait(poll_interval))
    return poller.statuses()
