"""A killed task stops submitting, and its retry sends exactly what the kill cancelled: nothing lost, nothing twice."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pandas as pd
import pytest
from airflow.providers.common.compat.sdk import AirflowException

from airflow_provider_ecwid.api.client import EcwidClient
from airflow_provider_ecwid.operators.batch import EcwidBatchOperator
from airflow_provider_ecwid.testing import EcwidEmulator
from tests.integration.fakes import FakeStateStore, FakeTaskInstance, make_context

ROWS = pd.DataFrame({"sku": [f"KILL-{n:04d}" for n in range(500)], "name": "p", "enabled": True})


def operator(**options: Any) -> EcwidBatchOperator:
    return EcwidBatchOperator(
        task_id="import", data=ROWS, path="/products", id_column="sku", chunk_size=50, poll_interval=0.05, **options
    )


def kill_after(monkeypatch: pytest.MonkeyPatch, task: EcwidBatchOperator, posts: int) -> list[str]:
    """Call the task's on_kill (as Airflow's SIGTERM handler does) right after its ``posts``-th batch POST."""
    created: list[str] = []
    original = EcwidClient.create_batch

    def create_batch(self: EcwidClient, *args: Any, **kwargs: Any) -> str:
        ticket = original(self, *args, **kwargs)
        created.append(ticket)
        if len(created) == posts:
            task.on_kill()
        return ticket

    monkeypatch.setattr(EcwidClient, "create_batch", create_batch)
    return created


@pytest.mark.ecwid_emulator(processing_time=0.01)
@pytest.mark.parametrize("with_state_store", [True, False])
def test_a_killed_task_stops_submitting(
    emulator_conn: EcwidEmulator, monkeypatch: pytest.MonkeyPatch, with_state_store: bool
) -> None:
    task = operator()
    created = kill_after(monkeypatch, task, posts=4)
    context = make_context(FakeTaskInstance(), FakeStateStore() if with_state_store else None)
    with pytest.raises(AirflowException, match="killed after 4 batch"):
        task.execute(context)
    assert len(created) == 4
    assert emulator_conn.call_count(method="POST", endpoint="/batch") == 4
    assert emulator_conn.call_count(method="POST", endpoint="/batch/cancel-group") >= 1


# 50 requests x 4 ms a batch: the first try's later batches are still queued when the kill cancels the group,
# and the retry's 500 requests take 2 s of the store's time (10 ms took 5 s, to no more effect)
@pytest.mark.ecwid_emulator(processing_time=0.004)
def test_the_retry_after_a_kill_sends_what_was_cancelled_and_nothing_twice(
    emulator_conn: EcwidEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    state = FakeStateStore()
    first = operator()
    original = EcwidClient.create_batch
    kill_after(monkeypatch, first, posts=4)
    with pytest.raises(AirflowException, match="killed"):
        first.execute(make_context(FakeTaskInstance(), state))
    monkeypatch.setattr(EcwidClient, "create_batch", original)

    retry = operator(wait_for_completion=True, deferrable=False)
    ti = FakeTaskInstance()
    ti.try_number = 2
    report = retry.execute(make_context(ti, state))

    assert (report["total"], report["completed"], report["failed_count"]) == (500, 500, 0)
    assert report["not_executed_count"] == 0
    skus = Counter(product["sku"] for product in emulator_conn.products())
    assert set(skus) == set(ROWS["sku"])
    assert max(skus.values()) == 1  # nothing created twice
    assert state.get("ecwid_killed") is None  # the next retry has nothing left to re-send
