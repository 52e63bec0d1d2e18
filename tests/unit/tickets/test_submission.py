"""A submission sends each chunk once per task run: a retried try gets its tickets back, not new batches."""

from __future__ import annotations

from typing import Any

from airflow_provider_ecwid.batch.plan import ready_plan
from airflow_provider_ecwid.tickets.accounting import EXPECTED_XCOM_KEY
from airflow_provider_ecwid.tickets.submission import TICKETS_XCOM_KEY, Submission
from tests.unit.catalog.memory_store import MemoryStore
from tests.unit.catalog.test_run import Outbox, StateStore

REQUESTS = [{"id": f"r{n}", "method": "POST", "path": "/categories", "body": {"name": f"C{n}"}} for n in range(5)]


def submit(store: MemoryStore, outbox: Any, state: StateStore | None, identity: str = "dag|run|task|-1") -> list[str]:
    plan, summary = ready_plan(REQUESTS, chunk_size=2)
    submission = Submission(
        store.client(),
        identity=identity,
        group_id="group",
        ti=outbox,
        state_store=state,
        stop_on_first_failure=False,
        allow_parallel_mode=False,
    )
    return submission.run(plan.chunks(), summary.chunks, summary.requests)


def test_it_sends_one_batch_per_chunk_and_says_what_each_holds() -> None:
    store, outbox = MemoryStore(), Outbox()
    tickets = submit(store, outbox, None)
    assert len(tickets) == 3  # 2 + 2 + 1
    assert outbox.pushed[TICKETS_XCOM_KEY] == tickets
    assert [outbox.pushed[EXPECTED_XCOM_KEY][ticket]["requests"] for ticket in tickets] == [2, 2, 1]
    assert len(store.categories()) == 5


def test_a_retry_resumes_from_the_state_store_and_sends_nothing_twice() -> None:
    store, state = MemoryStore(), StateStore()
    first = submit(store, Outbox(), state)
    again = submit(store, Outbox(), state)
    assert again == first
    assert store.batch_count() == 3
    assert len(store.categories()) == 5


def test_without_a_state_store_the_deduplication_keys_give_the_tickets_back() -> None:
    store = MemoryStore()
    first = submit(store, Outbox(), None)
    assert submit(store, Outbox(), None) == first  # the same task run, the same chunks: the same keys
    assert store.batch_count() == 3
    assert submit(store, Outbox(), None, identity="dag|run-2|task|-1") != first  # another run sends its own
    assert store.batch_count() == 6
