"""Order-aware polling, deadlines, and the report built from final statuses."""

from __future__ import annotations

import itertools

import pytest

from airflow_provider_ecwid.batch.models import BatchState, BatchStatus, ItemResult, ItemStatus
from airflow_provider_ecwid.errors import EcwidConfigError, EcwidNotFoundError, EcwidUnknownTicketError, EcwidWaitError
from airflow_provider_ecwid.tickets.report import BatchReport
from airflow_provider_ecwid.tickets.verdict import check_fail_on
from airflow_provider_ecwid.tickets.waiting import TicketPoller


def status(
    ticket: str, state: BatchState, done: int, total: int = 3, items: tuple[ItemResult, ...] = ()
) -> BatchStatus:
    return BatchStatus(ticket, state, state.value, total, done, items)


class FakeEcwid:
    """Tickets that finish one after another, in order, as Ecwid runs them; counts status calls."""

    def __init__(self, tickets: list[str], polls_per_ticket: int) -> None:
        self.tickets = tickets
        self.remaining = dict.fromkeys(tickets, polls_per_ticket)
        self.calls: list[str] = []

    def get(self, ticket: str) -> BatchStatus:
        self.calls.append(ticket)
        if ticket not in self.remaining:
            raise EcwidNotFoundError(404, "GET", "/batch")
        earlier = self.tickets[: self.tickets.index(ticket)]
        if any(self.remaining[t] > 0 for t in earlier):
            return status(ticket, BatchState.QUEUED, 0)
        if self.remaining[ticket] > 0:
            self.remaining[ticket] -= 1
            return status(ticket, BatchState.IN_PROGRESS, 3 - self.remaining[ticket] - 1)
        items = tuple(ItemResult(f"{ticket}-{n}", ItemStatus.COMPLETED, 200, body={"id": n}) for n in range(3))
        return status(ticket, BatchState.COMPLETED, 3, items=items)


def test_polls_only_the_oldest_unfinished_ticket() -> None:
    tickets = [f"t{n}" for n in range(50)]
    ecwid = FakeEcwid(tickets, polls_per_ticket=2)
    poller = TicketPoller(tickets, ecwid.get)
    polls = 0
    while not poller.poll():
        polls += 1
    # each ticket: 2 polls while running + 1 that sees it complete; never a later ticket before its turn
    assert len(ecwid.calls) == 50 * 3
    assert poller.calls == len(ecwid.calls)
    for earlier, later in itertools.pairwise(tickets):
        assert ecwid.calls.index(later) > max(i for i, t in enumerate(ecwid.calls) if t == earlier)
    assert [s.ticket for s in poller.statuses()] == tickets


def test_polling_every_ticket_would_cost_tickets_times_polls() -> None:
    # the naive way, for contrast: all unfinished tickets each round
    tickets = [f"t{n}" for n in range(20)]
    ecwid = FakeEcwid(tickets, polls_per_ticket=2)
    rounds = 0
    unfinished = list(tickets)
    while unfinished:
        rounds += 1
        unfinished = [t for t in unfinished if ecwid.get(t).state is not BatchState.COMPLETED]
    order_aware = FakeEcwid(tickets, polls_per_ticket=2)
    poller = TicketPoller(tickets, order_aware.get)
    while not poller.poll():
        pass
    assert len(order_aware.calls) == 60  # 3 per ticket
    assert len(ecwid.calls) == 250  # grows with tickets x rounds


def test_unknown_ticket_fails_closed() -> None:
    poller = TicketPoller(["nope"], FakeEcwid([], 0).get)
    with pytest.raises(EcwidUnknownTicketError, match="does not know ticket nope") as caught:
        poller.poll()
    assert caught.value.reason == "unknown_ticket"


def test_deadlines() -> None:
    now = [1000.0]
    stuck = TicketPoller(["t"], lambda ticket: status(ticket, BatchState.IN_PROGRESS, 1), clock=lambda: now[0])
    stuck.poll()
    stuck.check_deadlines(deadline=1100, progress_timeout=60)
    now[0] = 1059
    stuck.poll()
    stuck.check_deadlines(deadline=1100, progress_timeout=60)
    now[0] = 1061
    with pytest.raises(EcwidWaitError, match="No batch request completed for 61 s") as caught:
        stuck.check_deadlines(deadline=1100, progress_timeout=60)
    assert caught.value.reason == "progress_timeout"
    now[0] = 1100
    with pytest.raises(EcwidWaitError, match="Timed out") as timed_out:
        stuck.check_deadlines(deadline=1100, progress_timeout=None)
    assert timed_out.value.reason == "timeout"


def test_progress_resets_the_progress_clock() -> None:
    now = [0.0]
    done = [0]

    def get(ticket: str) -> BatchStatus:
        return status(ticket, BatchState.IN_PROGRESS, done[0], total=100)

    poller = TicketPoller(["t"], get, clock=lambda: now[0])
    for _ in range(5):
        now[0] += 50
        done[0] += 1
        poller.poll()
        poller.check_deadlines(None, progress_timeout=60)  # progress every 50 s: never idle for 60
    assert poller.state()["progress_mark"] == 5


def test_the_last_ticket_is_polled_when_it_should_finish() -> None:
    now = [0.0]
    done = {"a": 0, "b": 0}

    def get(ticket: str) -> BatchStatus:
        state = BatchState.COMPLETED if done[ticket] == 100 else BatchState.IN_PROGRESS
        return status(ticket, state, done[ticket], total=100)

    poller = TicketPoller(["a", "b"], get, clock=lambda: now[0])
    assert not poller.poll()
    assert poller.next_wait(10) == 10  # no rate seen yet
    now[0], done["a"] = 10.0, 50
    assert not poller.poll()
    assert poller.next_wait(10) == 10  # a is not the last ticket
    now[0], done["a"], done["b"] = 20.0, 100, 50  # 150 requests in 20 s; b has 50 left: 6.7 s
    assert not poller.poll()
    assert poller.next_wait(10) == pytest.approx(50 / 7.5)
    assert poller.next_wait(5) == 5  # never longer than the interval
    now[0], done["b"] = 26.0, 95  # 5 left: 0.7 s, but never sooner than a quarter of the interval
    assert not poller.poll()
    assert poller.next_wait(10) == 2.5
    now[0], done["b"] = 28.5, 100
    assert poller.poll()
    assert poller.next_wait(10) == 10


def test_unknown_batch_state_is_not_finished() -> None:
    poller = TicketPoller(["t"], lambda ticket: status(ticket, BatchState.UNKNOWN, 0))
    assert poller.poll() is False


def failed_item(item_id: str) -> ItemResult:
    return ItemResult(item_id, ItemStatus.FAILED, 409, "Conflict", {}, "SKU_ALREADY_EXISTS", "SKU exists")


def test_report_counts_maps_ids_and_caps_xcom() -> None:
    items = (
        ItemResult("a", ItemStatus.COMPLETED, 200, body={"id": 77}),
        failed_item("b"),
        ItemResult("c", ItemStatus.NOT_EXECUTED),
    )
    second = tuple(failed_item(f"x{n}") for n in range(150))
    report = BatchReport.from_statuses(
        [status("t1", BatchState.COMPLETED, 3, 3, items), status("t2", BatchState.COMPLETED, 150, 151, second)]
    )
    assert [(t.ticket, t.total, t.completed, t.failed, t.not_executed) for t in report.tickets] == [
        ("t1", 3, 1, 1, 1),
        ("t2", 151, 0, 150, 1),  # one row without a result counts as not done
    ]
    assert report.created_ids == {"a": 77}
    compact = report.to_xcom(cap=100)
    assert compact["failed_count"] == 151
    assert len(compact["failed"]) == 100
    assert compact["truncated"] is True
    assert compact["not_executed"] == ["c", None]
    assert compact["failed"][0] == {
        "ticket": "t1",
        "id": "b",
        "status": "FAILED",
        "http_status": 409,
        "error_code": "SKU_ALREADY_EXISTS",
        "error_message": "SKU exists",
        "entity_id": None,
    }
    assert "b                        FAILED         409  SKU_ALREADY_EXISTS" in report.failure_table()


def test_fail_on() -> None:
    items = (*tuple(ItemResult(str(n), ItemStatus.COMPLETED, 200) for n in range(9)), failed_item("9"))
    report = BatchReport.from_statuses([status("t", BatchState.COMPLETED, 10, 10, items)])
    assert report.verdict("any_failed") == "1 of 10 rows did not complete"
    assert report.verdict("never") is None
    assert report.verdict(0.1) is None
    assert "10.0% > the allowed 5.0%" in str(report.verdict(0.05))
    assert check_fail_on(0.5) == 0.5
    for bad in ("sometimes", 2, -0.1, True):
        with pytest.raises(EcwidConfigError):
            check_fail_on(bad)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["a", "b"], ["a", "b"]),
        ("a", ["a"]),
        ("['a', 'b']", ["a", "b"]),
        ([["a", "b"], ["c"]], ["a", "b", "c"]),  # a mapped operator's outputs
        ((t for t in ["a"]), ["a"]),
        ({"tickets": [{"ticket": "a"}, {"ticket": "b"}]}, ["a", "b"]),  # a report
        ([], []),
    ],
)
def test_normalize_tickets(value: object, expected: list[str]) -> None:
    from airflow_provider_ecwid.tasks.ticket_wait import normalize_tickets

    assert normalize_tickets(value) == expected


@pytest.mark.parametrize("value", [None, 5, {"x": 1}, [1.5]])
def test_normalize_tickets_refuses(value: object) -> None:
    from airflow_provider_ecwid.tasks.ticket_wait import normalize_tickets

    with pytest.raises(EcwidConfigError):
        normalize_tickets(value)
