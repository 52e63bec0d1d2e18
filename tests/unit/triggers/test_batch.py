"""EcwidBatchTrigger on its own: what Airflow stores of it, and its client, which comes through EcwidHook."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from airflow_provider_ecwid.batch.models import BatchState, BatchStatus, ItemResult, ItemStatus
from airflow_provider_ecwid.hooks.ecwid import EcwidHook
from airflow_provider_ecwid.triggers.batch import EcwidBatchTrigger

#: What a deferred task's trigger row holds: a trigger saved by this release must load in the next, and back.
SERIALIZED_KEYS = [
    "conn_id",
    "tickets",
    "poll_interval",
    "deadline",
    "progress_timeout",
    "next_index",
    "oldest_done",
    "waiting_on",
    "last_progress_at",
    "last_probe_at",
    "first_read_at",
    "group_id",
    "cancel_on_kill",
]


class Client:
    """The client's calls the trigger makes: each ticket QUEUED for its first ``queued`` reads, then COMPLETED."""

    def __init__(self, queued: int = 0) -> None:
        self.queued = queued
        self.reads: list[str] = []
        self.closed = False

    def get_batch(self, ticket: str) -> BatchStatus:
        self.reads.append(ticket)
        if self.reads.count(ticket) <= self.queued:
            return BatchStatus(ticket, BatchState.QUEUED, "QUEUED", 1, 0)
        done = ItemResult(f"{ticket}-0", ItemStatus.COMPLETED, 200, body={"id": 1})
        return BatchStatus(ticket, BatchState.COMPLETED, "COMPLETED", 1, 1, (done,))

    def close(self) -> None:
        self.closed = True


def events(trigger: EcwidBatchTrigger) -> list[dict[str, Any]]:
    async def collect() -> list[dict[str, Any]]:
        return [event.payload async for event in trigger.run()]

    return asyncio.run(collect())


def test_it_serializes_to_the_arguments_it_is_made_from() -> None:
    trigger = EcwidBatchTrigger(conn_id="shop", tickets=["t1", "t2"], deadline=123.0, group_id="g", next_index=1)
    path, kwargs = trigger.serialize()
    assert path == "airflow_provider_ecwid.triggers.batch.EcwidBatchTrigger"
    assert list(kwargs) == SERIALIZED_KEYS
    assert EcwidBatchTrigger(**kwargs).serialize() == (path, kwargs)


def test_a_trigger_saved_by_an_earlier_version_still_loads() -> None:
    trigger = EcwidBatchTrigger(conn_id="shop", tickets=["t1"], progress_mark=3, done_requests=7)
    assert "progress_mark" not in trigger.serialize()[1]


def test_it_waits_through_the_hooks_client(monkeypatch: pytest.MonkeyPatch) -> None:
    client, asked = Client(queued=2), []

    async def aget_conn(hook: EcwidHook) -> Client:
        asked.append(hook.ecwid_conn_id)
        return client

    monkeypatch.setattr(EcwidHook, "aget_conn", aget_conn)
    trigger = EcwidBatchTrigger(conn_id="shop", tickets=["t1", "t2"], poll_interval=0.01)
    [event] = events(trigger)
    assert asked == ["shop"]
    assert event == {"status": "success", "tickets": ["t1", "t2"], "status_calls": 3}
    assert client.reads == ["t2", "t2", "t2"]  # the newest only; the task reads the answers
    assert client.closed


def test_a_connection_the_hook_refuses_is_an_error_event(monkeypatch: pytest.MonkeyPatch) -> None:
    async def aget_conn(hook: EcwidHook) -> Client:
        raise ValueError("the connection has no store id")

    monkeypatch.setattr(EcwidHook, "aget_conn", aget_conn)
    [event] = events(EcwidBatchTrigger(conn_id="shop", tickets=["t1"]))
    assert event["status"] == "error"
    assert event["reason"] == "api_error"
    assert "cannot read connection 'shop': the connection has no store id" in event["message"]
