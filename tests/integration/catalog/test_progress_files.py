"""The whole-catalog sync's progress file: lost or altered between two tries or stints, the sync starts over."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_ecwid.catalog.progress import PROGRESS_KEY
from airflow_provider_ecwid.catalog.progress_files import unpack
from airflow_provider_ecwid.testing import EcwidEmulator
from tests.integration.catalog.test_whole_catalog import feed, sync_operator
from tests.integration.fakes import FakeStateStore, FakeTaskInstance, make_context

#: The sample feed's inner requests, each sent once.
ONCE = {
    ("POST", "/categories"): 5,
    ("POST", "/products"): 3,
    ("POST", "/products/{id}/combinations"): 3,
    ("POST", "/products/{id}/image"): 2,
    ("POST", "/products/{id}/gallery"): 3,
    ("POST", "/products/{id}/combinations/{id}/image"): 1,
}


def inner_posts(emulator: EcwidEmulator) -> dict[tuple[str, str], int]:
    """Inner POSTs by endpoint (a sync that starts over also clears, idempotently, the galleries it sends again)."""
    calls = emulator.stats()["calls"]
    return {
        (row["method"], row["endpoint"]): row["count"]
        for row in calls
        if row["scope"] == "inner" and row["method"] == "POST"
    }


def progress_files(folder: Path) -> list[Path]:
    return sorted(folder.glob("progress-*.json.gz"))


async def test_a_resumed_task_whose_progress_file_is_gone_starts_over_and_sends_nothing_twice(
    emulator_conn: EcwidEmulator, tmp_path: Path
) -> None:
    from airflow.providers.common.compat.sdk import TaskDeferred

    ti = FakeTaskInstance()
    operator = sync_operator(feed(), tmp_path, deferrable=True)
    call = functools.partial(operator.execute, make_context(ti))
    lost: list[str] = []
    while True:
        try:
            summary = call()
            break
        except TaskDeferred as raised:
            deferred = raised
        record = ti.xcom[PROGRESS_KEY]
        assert set(record["spill"]) == {"path", "digest"}
        assert [str(path) for path in progress_files(tmp_path)] == [record["spill"]["path"]]  # one file a save
        if record["pending"]["phase"] == "products" and not lost:
            Path(record["spill"]["path"]).unlink()  # between the deferral and the resume
            lost.append(record["pending"]["phase"])
        events = [event async for event in deferred.trigger.run()]
        call = functools.partial(getattr(operator, deferred.method_name), make_context(ti), events[0].payload)
    assert lost == ["products"]
    assert summary["failed_count"] == 0
    assert inner_posts(emulator_conn) == ONCE  # it read the store again: nothing the lost progress sent went twice
    assert {p["sku"] for p in emulator_conn.products()} == {"BIKE", "TEE", "CAP"}
    assert len(emulator_conn.images()) == 6
    assert progress_files(tmp_path) == []  # the sync ended: its files are gone


@pytest.mark.parametrize("damage", ["missing", "altered"])
def test_a_retried_task_whose_progress_file_is_lost_starts_over_and_sends_nothing_twice(
    emulator_conn: EcwidEmulator, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, damage: str
) -> None:
    from airflow_provider_ecwid.catalog.phase_runner import PhaseRunner

    submit, wait = PhaseRunner.submit, PhaseRunner.wait
    submitted: list[str] = []

    def submits(self: PhaseRunner, phase: str, *args: Any, **kwargs: Any) -> Any:
        submitted.append(phase)
        return submit(self, phase, *args, **kwargs)

    def waits(self: PhaseRunner, tickets: list[str]) -> Any:
        statuses = wait(self, tickets)
        if submitted[-1] == "products" and submitted.count("products") == 1:
            raise RuntimeError("the worker died")  # the products phase ran and was not recorded
        return statuses

    monkeypatch.setattr(PhaseRunner, "submit", submits)
    monkeypatch.setattr(PhaseRunner, "wait", waits)
    state = FakeStateStore()
    with pytest.raises(RuntimeError, match="worker died"):
        sync_operator(feed(), tmp_path).execute(make_context(FakeTaskInstance(), state))
    record = state.values[PROGRESS_KEY]
    assert record["pending"]["phase"] == "products"
    lost_keys = [key for key in unpack(record["state_keys"]) if state.values.get(key)]
    assert lost_keys  # the products phase's chunks
    spill = Path(record["spill"]["path"])
    if damage == "missing":
        spill.unlink()
    else:
        spill.write_bytes(spill.read_bytes()[::-1])

    ti = FakeTaskInstance()  # the second try of the same task run
    sync_operator(feed(), tmp_path).execute(make_context(ti, state))
    assert ti.xcom["sync_summary"]["failed_count"] == 0
    assert inner_posts(emulator_conn) == ONCE
    assert not any(state.values.get(key) for key in lost_keys)  # the lost sync's chunk tickets are not taken
    assert not state.values.get(PROGRESS_KEY)
    assert progress_files(tmp_path) == []
