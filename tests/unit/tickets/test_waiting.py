"""Waiting on the newest ticket, probing the oldest for progress, and reading each answer once.

The store here runs its batches first-in, first-out on a clock the test moves, as Ecwid runs them whether or not
anybody asks: ticket ``i`` runs from ``i * seconds`` to ``(i + 1) * seconds``.
"""

from __future__ import annotations

import math
from collections import Counter

import pytest

from airflow_provider_ecwid.batch.models import BatchState, BatchStatus, ItemResult, ItemStatus
from airflow_provider_ecwid.errors import EcwidNotFoundError, EcwidUnknownTicketError, EcwidWaitError
from airflow_provider_ecwid.tickets.waiting import (
    PROBES_PER_TIMEOUT,
    TicketPoller,
    checked_state,
    poll_until_done,
    wait_for_tickets,
)

REQUESTS = 10


class Store:
    """
    Batches that run one after another on a clock; counts every read and every read of a finished answer.

    :param count: how many tickets.
    :param seconds: how long each batch runs.
    :param stall_at: the store stops for good this many seconds in (None: never).
    """

    def __init__(self, count: int, seconds: float, stall_at: float | None = None) -> None:
        self.tickets = [f"t{n}" for n in range(count)]
        self.seconds = seconds
        self.stall_at = stall_at
        self.now = 0.0
        self.unknown: set[str] = set()
        self.reads: Counter[str] = Counter()
        self.answers_read: Counter[str] = Counter()  # reads that found the ticket COMPLETED

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds

    def get(self, ticket: str) -> BatchStatus:
        if ticket in self.unknown:
            raise EcwidNotFoundError(404, "GET", "/batch")
        self.reads[ticket] += 1
        moment = self.now if self.stall_at is None else min(self.now, self.stall_at)
        ran = moment - self.tickets.index(ticket) * self.seconds
        done = max(0, min(REQUESTS, math.floor(ran / self.seconds * REQUESTS)))
        if done == REQUESTS:
            self.answers_read[ticket] += 1
            items = tuple(ItemResult(f"{ticket}-{n}", ItemStatus.COMPLETED, 200, body={"id": n}) for n in range(done))
            return BatchStatus(ticket, BatchState.COMPLETED, "COMPLETED", REQUESTS, done, items)
        state = BatchState.IN_PROGRESS if ran > 0 else BatchState.QUEUED
        return BatchStatus(ticket, state, state.value, REQUESTS, done)

    def poller(self, **options: object) -> TicketPoller:
        return TicketPoller(self.tickets, self.get, clock=self.clock, **options)  # type: ignore[arg-type]

    def wait(self, poller: TicketPoller, interval: float, progress_timeout: float | None) -> list[BatchStatus]:
        return wait_for_tickets(
            poller, poll_interval=interval, deadline=None, progress_timeout=progress_timeout, sleep=self.sleep
        )


def newest_reads(store: Store) -> int:
    return store.reads[store.tickets[-1]]


def test_without_progress_timeout_it_polls_the_newest_only_and_reads_each_answer_once() -> None:
    store = Store(50, seconds=1.0)
    poller = store.poller()
    statuses = store.wait(poller, interval=1.0, progress_timeout=None)
    assert [status.ticket for status in statuses] == store.tickets
    assert all(status.state is BatchState.COMPLETED for status in statuses)
    assert set(store.answers_read.values()) == {1}  # every answer once
    assert all(store.reads[ticket] == 1 for ticket in store.tickets[:-1])  # earlier tickets: only that read
    assert poller.calls == sum(store.reads.values()) == newest_reads(store) + 49
    assert 50 <= newest_reads(store) <= 52  # one poll a second for the 50 s the store works


def test_a_long_wait_behind_earlier_tickets_does_not_time_out_and_probes_cost_time_not_tickets() -> None:
    # 100 tickets of 10 s: the newest stays QUEUED for 990 s, far longer than progress_timeout
    store = Store(100, seconds=10.0)
    poller = store.poller()
    statuses = store.wait(poller, interval=5.0, progress_timeout=60.0)
    assert len(statuses) == 100
    assert set(store.answers_read.values()) == {1}  # what the probes read finished is kept, not read again
    probes_at_most = store.now / (60.0 / PROBES_PER_TIMEOUT) + 1
    polls = newest_reads(store)
    assert polls <= store.now / 5.0 + 2
    # each probe: the oldest unknown ticket, and a gallop and bisection over the few finished since the last one
    unfinished_probe_reads = sum(store.reads.values()) - polls - (100 - 1)
    assert unfinished_probe_reads <= probes_at_most * 3, (unfinished_probe_reads, probes_at_most)


@pytest.mark.parametrize("tickets", [20, 200])
def test_probe_calls_grow_with_the_time_waited_not_with_tickets(tickets: int) -> None:
    store = Store(tickets, seconds=600.0 / tickets)  # the same 600 s of work, in more or fewer batches
    poller = store.poller()
    store.wait(poller, interval=5.0, progress_timeout=300.0)
    waiting = sum(store.reads.values()) - (tickets - 1)  # all but the one read of each earlier answer
    assert waiting <= 600 / 5 + 2 + (600 / 30 + 1) * (1 + 2 * math.log2(tickets)), waiting


def test_a_stalled_store_times_out_no_later_than_a_tenth_of_progress_timeout_after_a_watcher_of_the_oldest() -> None:
    store = Store(100, seconds=10.0, stall_at=305.0)  # stuck in ticket 30, never to move again
    poller = store.poller()
    with pytest.raises(EcwidWaitError, match="No batch request completed") as caught:
        store.wait(poller, interval=5.0, progress_timeout=60.0)
    assert caught.value.reason == "progress_timeout"
    assert 305 + 60 <= store.now <= 305 + 60 + 60 / PROBES_PER_TIMEOUT + 5
    assert "30 of 100 ticket(s) known to be finished" in str(caught.value)


def test_a_wait_that_starts_long_after_the_store_stalled_is_not_kept_alive_by_catching_up() -> None:
    store = Store(200, seconds=1.0, stall_at=150.5)
    store.now = 1000.0  # a trigger resumed late: 150 tickets finished long ago, then nothing
    poller = store.poller()
    with pytest.raises(EcwidWaitError, match="No batch request completed"):
        store.wait(poller, interval=5.0, progress_timeout=60.0)
    assert store.now <= 1000 + 60 + 5  # one probe found the position; nothing moved since
    assert sum(store.reads.values()) < 60 / 5 + 1 + 3 * (1 + 2 * math.log2(200))


def test_an_unknown_newest_ticket_fails_at_the_first_poll() -> None:
    store = Store(3, seconds=1.0)
    store.unknown.add("t2")
    with pytest.raises(EcwidUnknownTicketError, match=r"does not know ticket t2 \(3 of 3\)") as caught:
        store.poller().poll()
    assert caught.value.reason == "unknown_ticket"


def test_an_unknown_oldest_ticket_fails_at_the_first_check_as_when_the_oldest_was_polled() -> None:
    store = Store(3, seconds=10.0)
    store.unknown.add("t0")  # e.g. expired
    poller = store.poller()
    assert not poller.poll()
    with pytest.raises(EcwidUnknownTicketError, match="does not know ticket t0"):
        poller.check_deadlines(None, progress_timeout=3600)


def test_deadline_and_progress_timeout_on_the_polled_ticket() -> None:
    store = Store(1, seconds=1000.0, stall_at=50.0)
    poller = store.poller()
    store.now = 50.0
    poller.poll()
    poller.check_deadlines(deadline=1100, progress_timeout=60)
    store.now = 109.0
    poller.poll()
    poller.check_deadlines(deadline=1100, progress_timeout=60)
    store.now = 111.0
    poller.poll()
    with pytest.raises(EcwidWaitError, match="No batch request completed for 61 s") as caught:
        poller.check_deadlines(deadline=1100, progress_timeout=60)
    assert caught.value.reason == "progress_timeout"
    store.now = 1100.0
    with pytest.raises(EcwidWaitError, match="Timed out") as timed_out:
        poller.check_deadlines(deadline=1100, progress_timeout=None)
    assert timed_out.value.reason == "timeout"


def test_the_polled_ticket_is_polled_when_it_should_finish() -> None:
    store = Store(1, seconds=100.0)  # 10 requests, one each 10 s
    store.now = -1.0
    poller = store.poller()
    assert not poller.poll()  # queued: no rate yet
    assert poller.next_wait(60) == 60
    store.now = 29.0  # 2 done in 30 s since it was seen queued: 8 left, 120 s
    assert not poller.poll()
    assert poller.next_wait(60) == 60  # never longer than the interval
    store.now = 79.0  # 7 done in 80 s: 3 left, about 34 s
    assert not poller.poll()
    assert poller.next_wait(60) == pytest.approx(3 / (7 / 80))
    store.now = 95.0  # 9 done: 1 left, 10.6 s, but never sooner than a quarter of the interval
    assert not poller.poll()
    assert poller.next_wait(60) == 15
    store.now = 100.0
    assert poller.poll()


def test_no_tickets_is_done_without_a_call() -> None:
    store = Store(0, seconds=1.0)
    assert store.wait(store.poller(), interval=1.0, progress_timeout=60) == []
    assert not store.reads


def test_unknown_batch_state_is_not_finished() -> None:
    poller = TicketPoller(["t"], lambda ticket: BatchStatus(ticket, BatchState.UNKNOWN, "PAUSED", 3, 0))
    assert poller.poll() is False


def test_in_the_trigger_the_newest_ends_the_wait_and_no_answer_is_read() -> None:
    store = Store(30, seconds=1.0)
    poller = store.poller(read_answers=False)
    for seconds in poll_until_done(poller, poll_interval=1.0, deadline=None, progress_timeout=None):
        store.sleep(seconds)
    assert poller.done
    assert set(store.reads) == {"t29"}  # the resumed task reads the answers, once each
    resumed = store.poller()
    assert resumed.collect()
    assert [status.ticket for status in resumed.statuses()] == store.tickets
    assert resumed.calls == 30


def test_tickets_out_of_submission_order_are_all_waited_for() -> None:
    store = Store(6, seconds=1.0)
    order = ["t0", "t1", "t4", "t5", "t2", "t3"]  # two mapped tasks' tickets, flattened in map order
    poller = TicketPoller(order, store.get, clock=store.clock)
    store.now = 4.5  # t3 (last in the list) finished; t4 and t5 not
    assert not poller.poll()
    assert poller.waiting_on == order.index("t5")
    store.now = 6.0
    assert poller.poll()
    assert [status.ticket for status in poller.statuses()] == order
    assert set(store.answers_read.values()) == {1}


def test_tickets_listed_newest_first_cost_a_few_reads_each_not_a_read_per_round() -> None:
    store = Store(40, seconds=1.0)
    backwards = list(reversed(store.tickets))  # e.g. a store's listing of its unfinished batches, newest first
    poller = TicketPoller(backwards, store.get, clock=store.clock)
    for seconds in poll_until_done(poller, poll_interval=1.0, deadline=None, progress_timeout=None):
        store.sleep(seconds)
    assert [status.ticket for status in poller.statuses()] == backwards
    assert set(store.answers_read.values()) == {1}
    assert sum(store.reads.values()) <= 3 * 40 + store.now + 2


def test_the_position_survives_a_round_trip_and_junk_is_ignored() -> None:
    store = Store(10, seconds=10.0)
    poller = store.poller()
    store.now = 35.0
    poller.poll()
    poller.check_deadlines(None, 600)  # the first probe finds ticket 3 running
    state = poller.state()
    assert (state["next_index"], state["oldest_done"], state["last_probe_at"]) == (3, 5, 35.0)
    assert store.poller().restore(state).state() == state
    junk = {"next_index": "3", "oldest_done": True, "waiting_on": 99, "last_progress_at": "x", "last_probe_at": None}
    assert checked_state(junk, 10) == checked_state(None, 10) == TicketPoller(["a"] * 10, store.get).state()
