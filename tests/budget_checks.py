"""What every shared-budget storage must do, checked the same way on SQLite, Redis and PostgreSQL: two processes
share one bucket, a 429 pauses every client, and an outage of the storage mid-run fails no call and is logged."""

from __future__ import annotations

import logging
import multiprocessing
import time
from typing import Any

import pytest

from airflow_provider_ecwid.api import ratelimit
from airflow_provider_ecwid.api.ratelimit import budget_key
from airflow_provider_ecwid.api.ratestorage import open_shared_budget
from tests.services import ServerProcess

TOKEN = "secret_SHAREDBUDGETTOKEN0123456789"
BASE = "https://app.ecwid.com/api/v3"


def _take(storage: str, key: str, per_minute: float, seconds: float, start_at: float, out: Any) -> None:
    """One process: take places in the shared budget for ``seconds``, report the moments they were granted."""
    budget = open_shared_budget(storage, key, per_minute)
    time.sleep(max(0.0, start_at - time.time()))
    granted = []
    while time.time() < start_at + seconds:
        budget.acquire()
        granted.append(time.time())
    budget.close()
    out.put(granted)


def assert_two_processes_share_one_bucket(storage: str, store_id: str = "1002") -> None:
    """Two processes take places for 3 s at 600 a minute: together they get one burst (60), not two."""
    key = budget_key(store_id, TOKEN, BASE)
    per_minute, seconds = 600.0, 3.0  # ten a second, bursts of 60 in any 6 s
    context = multiprocessing.get_context("spawn")
    out = context.Queue()
    start_at = time.time() + 3.0  # both processes have opened the bucket by then
    workers = [context.Process(target=_take, args=(storage, key, per_minute, seconds, start_at, out)) for _ in range(2)]
    for worker in workers:
        worker.start()
    deadline = start_at + seconds
    got = [[moment for moment in out.get(timeout=60) if moment <= deadline] for _ in workers]
    for worker in workers:
        worker.join(timeout=30)
    # two buckets of their own would have let 2 x 60 through in these 3 s; one shared bucket lets 60 through
    assert len(got) == 2
    total = sum(len(granted) for granted in got)
    assert 50 <= total <= 60, total


def assert_a_429_pauses_every_client(storage: str, store_id: str = "1003") -> None:
    """A pause set by one client (a 429's Retry-After) is waited out by another, and a shorter one cuts nothing."""
    key = budget_key(store_id, TOKEN, BASE)
    waited: list[float] = []
    answered = open_shared_budget(storage, key, 6000)
    other = open_shared_budget(storage, key, 6000, sleep=waited.append)
    try:
        answered.pause(20)
        answered.pause(5)  # a shorter pause does not cut a longer one
        other.acquire()
        assert len(waited) == 1
        assert 19 < waited[0] <= 20
        assert key.startswith(f"ecwid_{store_id}_")
        assert TOKEN.removeprefix("secret_") not in key
    finally:
        answered.close()
        other.close()


def assert_an_outage_fails_no_call_and_is_logged(
    storage: str,
    server: ServerProcess,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
    password: str | None = None,
) -> None:
    """The storage stops mid-run: every call still goes out (on the process's own budget), one warning says so;
    it starts again: the budget is shared again, and a second warning says it is back."""
    monkeypatch.setattr(ratelimit, "OUTAGE_RETRY_INTERVAL", 0.5)
    caplog.set_level(logging.WARNING, logger=ratelimit.__name__)
    budget = open_shared_budget(storage, budget_key("1004", TOKEN, BASE), 60_000)
    try:
        for _ in range(5):
            budget.acquire()
        assert not budget.in_outage
        server.stop()
        for _ in range(20):  # no call fails for the outage
            budget.acquire()
        assert budget.in_outage
        assert budget.outages == 1
        assert budget.calls_during_outages >= 20
        lost = [record for record in caplog.records if "cannot be reached" in record.getMessage()]
        assert len(lost) == 1, [record.getMessage() for record in caplog.records]  # said once, not per call
        server.start()
        deadline = time.monotonic() + 30
        while budget.in_outage and time.monotonic() < deadline:
            budget.acquire()
            time.sleep(0.1)
        assert not budget.in_outage, "the budget did not return to the storage once it was back"
        assert any("reachable again" in record.getMessage() for record in caplog.records)
        shared_before = budget.calls_during_outages
        budget.acquire()
        assert budget.calls_during_outages == shared_before  # shared again
        assert TOKEN not in caplog.text
        assert password is None or password not in caplog.text
    finally:
        budget.close()
