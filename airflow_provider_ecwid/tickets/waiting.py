"""Waiting on tickets by the newest one; every ticket's full answer read once, when the wait is over.

Batches of one store run first-in, first-out: once a submission's newest ticket has completed, every earlier one
has too. So a wait polls only the newest unfinished ticket, and each ticket's answer is read once, at the end:
``p`` polls on ``n`` tickets cost about ``p + n`` status calls, wherever the wait runs. The same
:class:`TicketPoller` and the same loop, :func:`poll_until_done`, serve the operator's wait, the sensor's pokes
(in reschedule mode, with the poller's :meth:`~TicketPoller.state` kept between pokes) and the trigger (which runs
each step in a thread).

**Progress.** While earlier tickets run, the newest one is ``QUEUED`` and shows nothing, so progress is not
judged on it alone, or a long wait would time out while the store works. Progress is where the store is: the
first unfinished ticket and its completed requests. The newest ticket says it once it runs (then every earlier
one has finished). Before that, :meth:`~TicketPoller.check_deadlines` *probes*: it reads the oldest ticket not
known to be finished and, if that one finished, gallops forward (1, 2, 4... tickets) and bisects to the first
unfinished one. A probe is made at the first check of a wait (so an unknown or expired oldest ticket fails at
once, as when the oldest was polled), when the newest showed no change for a tenth of ``progress_timeout``, and
always right before a time-out is declared: a wait fails only when a read made at that moment shows nothing new
since ``progress_timeout`` ago. A stall is noticed at most a tenth of ``progress_timeout`` later than by polling
the oldest ticket. Cost: no probe without ``progress_timeout``; else at most ~10 per ``progress_timeout`` of a
stale newest ticket, each ``1 + 2 log2(k)`` reads for ``k`` tickets finished since the last one (the answers a
probe reads in the worker are kept, so they are not read again at the end).

**Failures.** Ecwid has no failed or cancelled state for a whole batch: a batch whose requests failed, or that a
group cancel stopped, is ``COMPLETED`` with ``FAILED`` / ``NOT_EXECUTED`` items. Waiting never stopped early on
one (the verdict is judged on the whole report); a cancelled newest batch completes at once and ends the wait.
An unknown ticket (404) fails closed: the newest at its first poll, the oldest at the first probe, any other
when a probe or the final read reaches it.

**Where the answers are read.** In the worker (``read_answers=True``) the poller reads them itself when the
newest completed (:meth:`~TicketPoller.collect`). The trigger (``read_answers=False``) stops at the newest's
completion and the resumed task collects them: one read per ticket, and the trigger's event stays small (no
answers in the metadata database). When the newest completed but an earlier ticket did not (tickets not in
submission order, e.g. a mapped task's outputs flattened in map order), :meth:`~TicketPoller.collect` says so and
the wait goes on, on the last unfinished ticket.
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

#: A probe of the oldest unfinished ticket is due when the newest showed no change for progress_timeout / this.
PROBES_PER_TIMEOUT = 10


@dataclass
class TicketPoller:
    """
    Polls the newest unfinished ticket; probes the oldest one to judge progress; reads each answer once.

    :param tickets: the tickets in submission order.
    :param get_status: reads one ticket's status (e.g. ``EcwidClient.get_batch``).
    :param clock: wall-clock seconds (injectable for tests).
    :param read_answers: read every ticket's answer when the newest completed (the worker); False in the
        trigger, whose resumed task collects them.
    :param next_index: the first ticket not known to be finished (every earlier one is).
    :param oldest_done: its completed requests when last read (-1: not read).
    :param waiting_on: the ticket polled (None: the newest).
    :param last_progress_at: when the store was last seen to move.
    :param last_probe_at: when the oldest unfinished ticket was last probed (None: not yet in this wait).
    """

    tickets: Sequence[str]
    get_status: Callable[[str], BatchStatus]
    clock: Callable[[], float] = time.time
    read_answers: bool = True
    next_index: int = 0
    oldest_done: int = -1
    waiting_on: int | None = None
    last_progress_at: float | None = None
    last_probe_at: float | None = None
    answers: dict[str, BatchStatus] = field(default_factory=dict)
    calls: int = 0
    done: bool = False
    out_of_order: int = 0  # how many times a polled ticket finished before an earlier one
    _rate_from: tuple[float, int] | None = None  # the polled ticket's (time, completed requests) to rate it from
    _eta: float | None = None

    @property
    def target(self) -> int:
        """The index of the ticket polled: the last one not known to be finished."""
        return self.waiting_on if self.waiting_on is not None else len(self.tickets) - 1

    def poll(self) -> bool:
        """Read the polled ticket; True when every ticket finished (and, in the worker, every answer is read)."""
        if self.done or not self.tickets:
            self.done = True
            return True
        now = self.clock()
        if self.last_progress_at is None:
            self.last_progress_at = now
        index = self.target
        status = self._read(index)
        self._eta = None
        if status.state is not BatchState.COMPLETED:
            self._note_polled(index, status, now)
            return False
        self._keep(status)
        self._advance(index + 1, -1, now)
        log.info(
            "ticket %d/%d %s, the last not known to be finished, completed", index + 1, len(self.tickets), status.ticket
        )
        if self.read_answers:
            return self.collect()
        self.done = True  # first-in, first-out: every earlier ticket finished before it
        return True

    def _note_polled(self, index: int, status: BatchStatus, now: float) -> None:
        log.info(
            "ticket %d/%d %s is %s: %d/%d request(s) done",
            index + 1,
            len(self.tickets),
            status.ticket,
            status.raw_state,
            status.completed_requests,
            status.total_requests,
        )
        if status.state is not BatchState.IN_PROGRESS:
            self._rate_from = (now, 0)  # queued: it had nothing done at this moment
            return
        self._advance(index, status.completed_requests, now)  # it runs: every earlier ticket finished
        started = self._rate_from
        if started is None or status.completed_requests < started[1]:
            self._rate_from = (now, status.completed_requests)
        elif now > started[0] and status.completed_requests > started[1]:
            rate = (status.completed_requests - started[1]) / (now - started[0])
            self._eta = (status.total_requests - status.completed_requests) / rate

    def _advance(self, index: int, done: int, now: float) -> None:
        """The store's position (the first unfinished ticket, its completed requests): moving on is progress."""
        if (index, done) > (self.next_index, self.oldest_done):
            self.next_index, self.oldest_done = index, done
            self.last_progress_at = now

    def collect(self) -> bool:
        """
        Read the answer of every ticket not read yet, once each; True when all finished. Otherwise (tickets not in
        submission order) the wait goes on, on the last unfinished one, and False.
        """
        unfinished = []
        for index, ticket in enumerate(self.tickets):
            if ticket not in self.answers:
                status = self._read(index)
                if status.state is BatchState.COMPLETED:
                    self.answers[ticket] = status
                else:
                    unfinished.append(index)
        if unfinished:
            log.warning(
                "%d ticket(s) are not finished though a later one is, e.g. %s: the tickets are not in submission "
                "order; waiting for them too",
                len(unfinished),
                self.tickets[unfinished[0]],
            )
            # the last unfinished is the newest when the list is in order by parts (mapped outputs); should it
            # finish first again, the list may run backwards (a listing newest first): try the other end next
            self.out_of_order += 1
            newest = unfinished[-1] if self.out_of_order % 2 else unfinished[0]
            self.next_index, self.oldest_done, self.waiting_on = unfinished[0], -1, newest
            self.last_progress_at = self.clock()
            return False
        self.done, self.next_index = True, len(self.tickets)
        requests = sum(status.total_requests for status in self.answers.values())
        failed = sum(1 for s in self.answers.values() for item in s.responses if item.status is ItemStatus.FAILED)
        log.info("All %d ticket(s) finished: %d request(s), %d failed", len(self.tickets), requests, failed)
        return True

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

    def _keep(self, status: BatchStatus) -> None:
        """A finished ticket's answer, kept in the worker so that it is not read again."""
        if self.read_answers:
            self.answers[status.ticket] = status

    # -- progress ---------------------------------------------------------------------------------------------

    def turn(self, deadline: float | None, progress_timeout: float | None) -> bool:
        """
        One turn of every wait: poll; when not every ticket finished, check the deadlines. True when done.

        :param deadline: wall-clock epoch after which waiting fails (None: no limit).
        :param progress_timeout: seconds without a newly completed request after which waiting fails.
        :raises EcwidWaitError: a deadline passed, or a ticket is unknown.
        """
        if self.poll():
            return True
        self.check_deadlines(deadline, progress_timeout)
        return False

    def check_deadlines(self, deadline: float | None, progress_timeout: float | None) -> None:
        """Raise EcwidWaitError when the total deadline passed or the store did not move for too long."""
        now = self.clock()
        if deadline is not None and now >= deadline:
            raise EcwidWaitError(f"Timed out waiting for Ecwid batches; {self._where()}", "timeout")
        if progress_timeout is None or self.last_progress_at is None:
            return
        if self._probe_due(now, progress_timeout):
            self.probe(now)
        idle = now - self.last_progress_at
        if idle >= progress_timeout:
            raise EcwidWaitError(
                f"No batch request completed for {idle:.0f} s (progress_timeout {progress_timeout:.0f} s); "
                f"{self._where()}",
                "progress_timeout",
            )

    def _where(self) -> str:
        return f"{min(self.next_index, len(self.tickets))} of {len(self.tickets)} ticket(s) known to be finished"

    def _probe_due(self, now: float, progress_timeout: float) -> bool:
        if self.done or self.next_index >= self.target:
            return False  # the store is on the polled ticket: its own reads show progress
        assert self.last_progress_at is not None
        if self.last_probe_at is None or now - self.last_progress_at >= progress_timeout:
            return True  # the wait's first look at the oldest; or a look right before failing, never an old one
        return now - max(self.last_progress_at, self.last_probe_at) >= progress_timeout / PROBES_PER_TIMEOUT

    def probe(self, now: float) -> None:
        """Find the first unfinished ticket from ``next_index`` on: gallop over finished ones, then bisect."""
        self.last_probe_at = now
        finished, unfinished, done = self.next_index - 1, self.target, 0  # the polled ticket is unfinished
        step = 1
        while finished + step < unfinished:  # gallop: next_index, then 1, 2, 4... further
            index = finished + step
            status = self._read(index)
            if status.state is not BatchState.COMPLETED:
                unfinished, done = index, status.completed_requests
                break
            self._keep(status)
            finished, step = index, step * 2
        while unfinished - finished > 1:  # bisect between the last finished and the first unfinished seen
            index = (finished + unfinished) // 2
            status = self._read(index)
            if status.state is BatchState.COMPLETED:
                self._keep(status)
                finished = index
            else:
                unfinished, done = index, status.completed_requests
        self._advance(unfinished, done, now)

    # -- the next poll, and resuming ----------------------------------------------------------------------------

    def next_wait(self, poll_interval: float) -> float:
        """
        Seconds until the next poll: ``poll_interval``, or less when the polled ticket runs and should finish
        sooner at its rate so far (never less than a quarter of it), so the wait ends close to when the work does.

        :param poll_interval: the configured seconds between polls.
        """
        if self._eta is None:
            return poll_interval
        return min(poll_interval, max(self._eta, poll_interval / 4))

    def statuses(self) -> list[BatchStatus]:
        """The final answers in ticket order (after :meth:`poll` or :meth:`collect` returned True)."""
        return [self.answers[ticket] for ticket in self.tickets]

    def state(self) -> dict[str, Any]:
        """JSON-safe resume point, a few numbers whatever the tickets (a trigger's kwargs, the task state store)."""
        return {
            "next_index": self.next_index,
            "oldest_done": self.oldest_done,
            "waiting_on": self.waiting_on,
            "last_progress_at": self.last_progress_at,
            "last_probe_at": self.last_probe_at,
        }

    def restore(self, state: Any) -> TicketPoller:
        """Take back what :meth:`state` returned (anything malformed is ignored: that part starts afresh)."""
        for name, value in checked_state(state, len(self.tickets)).items():
            setattr(self, name, value)
        return self


def checked_state(state: Any, ticket_count: int) -> dict[str, Any]:
    """
    A poller's resume point (:meth:`TicketPoller.state`) with every value checked; a malformed one is the default.

    :param state: what was kept (a trigger's kwargs, the task state store's value), or anything.
    :param ticket_count: how many tickets the wait is on.
    """
    given = state if isinstance(state, Mapping) else {}
    waiting_on = _int(given.get("waiting_on"), -1, 0, ticket_count - 1)
    return {
        "next_index": _int(given.get("next_index"), 0, 0, ticket_count),
        "oldest_done": _int(given.get("oldest_done"), -1, -1, None),
        "waiting_on": waiting_on if waiting_on >= 0 else None,
        "last_progress_at": _float(given.get("last_progress_at")),
        "last_probe_at": _float(given.get("last_probe_at")),
    }


def _int(value: Any, default: int, low: int, high: int | None) -> int:
    if not isinstance(value, int) or isinstance(value, bool) or value < low or (high is not None and value > high):
        return default
    return value


def _float(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def poll_until_done(
    poller: TicketPoller, *, poll_interval: float, deadline: float | None, progress_timeout: float | None
) -> Iterator[float]:
    """
    The one waiting loop: poll, check the deadlines (probing when progress must be judged), and yield the seconds
    to sleep before the next poll, until every ticket finished. The caller sleeps its own way: a plain sleep, a
    sleep a kill can end, or ``asyncio.sleep`` in the triggerer.

    :param poller: the poller, fresh or resumed.
    :param poll_interval: the configured seconds between polls.
    :param deadline: wall-clock epoch after which waiting fails (None: no limit).
    :param progress_timeout: seconds without a newly completed request after which waiting fails.
    """
    while not poller.turn(deadline, progress_timeout):
        yield poller.next_wait(poll_interval)


def wait_for_tickets(
    poller: TicketPoller,
    *,
    poll_interval: float,
    deadline: float | None,
    progress_timeout: float | None,
    sleep: Callable[[float], None] = time.sleep,
) -> list[BatchStatus]:
    """Poll until every ticket finished; return their final answers (each read once), or raise EcwidWaitError."""
    for seconds in poll_until_done(
        poller, poll_interval=poll_interval, deadline=deadline, progress_timeout=progress_timeout
    ):
        sleep(seconds)
    return poller.statuses()
