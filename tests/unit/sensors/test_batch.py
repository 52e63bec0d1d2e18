"""EcwidBatchSensor's pokes: each one a turn of the one wait, its client from EcwidHook, the report at the end."""

from __future__ import annotations

from typing import Any

import pytest
from airflow.providers.common.compat.sdk import AirflowException, PokeReturnValue

from airflow_provider_ecwid.hooks.ecwid import EcwidHook
from airflow_provider_ecwid.sensors.batch import EcwidBatchSensor
from tests.unit.triggers.test_batch import Client


def sensor(monkeypatch: pytest.MonkeyPatch, client: Client, **arguments: Any) -> EcwidBatchSensor:
    monkeypatch.setattr(EcwidHook, "get_conn", lambda hook: client)
    return EcwidBatchSensor(task_id="wait", tickets=["t1", "t2"], **arguments)


def test_it_pokes_until_the_newest_ticket_completed_then_reports(monkeypatch: pytest.MonkeyPatch) -> None:
    client = Client(queued=1)
    waiting = sensor(monkeypatch, client)
    assert waiting.poke({}) is False  # the newest runs; the first turn also reads the oldest, to judge progress
    done = waiting.poke({})
    assert isinstance(done, PokeReturnValue)
    report = done.xcom_value
    assert isinstance(report, dict)
    assert (report["total"], report["completed"]) == (2, 2)
    assert client.reads == ["t2", "t1", "t2", "t1"]  # then the earlier ticket's answer, once it is done


def test_a_store_that_does_not_move_fails_the_poke_after_progress_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    waiting = sensor(monkeypatch, Client(queued=10**6), progress_timeout=0.0)
    with pytest.raises(AirflowException, match="No batch request completed"):
        waiting.poke({})
