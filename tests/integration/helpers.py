"""Small helpers for talking to the emulator over real HTTP in tests."""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, Generic, TypeVar

import pytest
import requests

from airflow_provider_ecwid.testing import EcwidEmulator
from tests.waiting import wait_until


class Api:
    """A thin requests wrapper bound to one emulated store (the raw wire, no provider code)."""

    def __init__(self, emulator: EcwidEmulator, store_id: int | None = None, token: str | None = None) -> None:
        self.store_id = store_id if store_id is not None else emulator.store_id
        self.base = f"{emulator.base_url}/{self.store_id}"
        self.session = requests.Session()
        self.session.headers["Authorization"] = f"Bearer {token or emulator.token(self.store_id)}"

    def call(self, method: str, path: str, **kwargs: Any) -> requests.Response:
        return self.session.request(method, self.base + path, timeout=10, **kwargs)

    def batch(self, items: list[dict[str, Any]], **params: Any) -> str:
        params = {name: str(value).lower() if isinstance(value, bool) else value for name, value in params.items()}
        answer = self.call("POST", "/batch", json=items, params=params)
        assert answer.status_code == 200, answer.text
        return str(answer.json()["ticket"])

    def status(self, ticket: str, escaped: bool = True) -> dict[str, Any]:
        answer = self.call("GET", "/batch", params={"ticket": ticket, "escapedJson": str(escaped).lower()})
        assert answer.status_code == 200, answer.text
        result: dict[str, Any] = answer.json()
        return result

    def wait(self, ticket: str, state: str = "COMPLETED", done_at_least: int = 0) -> dict[str, Any]:
        """The batch's status once it is in ``state`` with at least ``done_at_least`` requests done."""
        return wait_until(
            lambda: self.status(ticket),
            satisfied=lambda status: status["status"] == state and status.get("completedRequests", 0) >= done_at_least,
            what=f"batch {ticket} to be {state} with {done_at_least}+ requests done",
            interval=0.005,
        )


def wait_for_batches(emulator: EcwidEmulator) -> list[dict[str, Any]]:
    """Every batch the emulator holds, once all of them have completed."""
    return wait_until(
        emulator.batches,
        satisfied=lambda batches: all(batch["status"] == "COMPLETED" for batch in batches),
        what="every batch to complete",
    )


def product_request(sku: str, request_id: str | None = None, **fields: Any) -> dict[str, Any]:
    return {
        "id": request_id or sku,
        "method": "POST",
        "path": "/products",
        "body": {"sku": sku, "name": f"Product {sku}", "price": 1.0, **fields},
    }


E = TypeVar("E", bound=BaseException)


class Refused(Generic[E]):
    """What :func:`fails_without_retry` caught: ``value`` is the provider's own error behind the task's failure."""

    def __init__(self) -> None:
        self.caught: E | None = None

    @property
    def value(self) -> E:
        """The error, typed as the one expected (set when the ``with`` block has raised)."""
        assert self.caught is not None, "read inside the with block, before anything was raised"
        return self.caught


@contextmanager
def fails_without_retry(error: type[E] | tuple[type[E], ...], match: str | None = None) -> Iterator[Refused[E]]:
    """
    The task fails with AirflowFailException (so Airflow does not retry it) caused by ``error``, whose message
    matches ``match``.
    """
    from airflow.providers.common.compat.sdk import AirflowFailException

    refused: Refused[E] = Refused()
    with pytest.raises(AirflowFailException) as caught:
        yield refused
    cause = caught.value.__cause__
    assert isinstance(cause, error), f"caused by {cause!r}, not {error}"
    refused.caught = cause
    if match is not None:
        assert re.search(match, str(refused.value)), f"{match!r} not in {refused.value}"


def reschedule_exception() -> type[Exception]:
    """Airflow's AirflowRescheduleException: the Task SDK's on Airflow 3, core's on 2.11."""
    try:
        from airflow.sdk.exceptions import AirflowRescheduleException
    except ImportError:
        from airflow.exceptions import AirflowRescheduleException
    found: type[Exception] = AirflowRescheduleException
    return found
