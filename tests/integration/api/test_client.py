"""EcwidClient and EcwidHook against the emulator over real HTTP."""

from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
import requests

from airflow_provider_ecwid.api.client import EcwidClient
from airflow_provider_ecwid.batch.models import BatchRequest, BatchState, ItemStatus
from airflow_provider_ecwid.errors import EcwidAuthError, EcwidNotFoundError, EcwidRetriesExhaustedError
from airflow_provider_ecwid.hooks.ecwid import EcwidHook
from airflow_provider_ecwid.testing import EcwidEmulator
from tests.waiting import wait_until


def make_client(emulator: EcwidEmulator, **kwargs: Any) -> EcwidClient:
    return EcwidClient(emulator.store_id, emulator.token(), base_url=emulator.base_url, **kwargs)


def wait_done(client: EcwidClient, ticket: str) -> None:
    wait_until(lambda: client.get_batch(ticket), satisfied=lambda s: s.is_finished, what=f"batch {ticket} to finish")


def test_batch_round_trip(ecwid_emulator: EcwidEmulator) -> None:
    client = make_client(ecwid_emulator)
    requests_ = [
        BatchRequest(path="/products", method="POST", body={"sku": f"S{n}", "name": "x", "enabled": True}, id=f"r{n}")
        for n in range(3)
    ]
    requests_.append(BatchRequest(path="/products", method="POST", body={"sku": "S0"}, id="dup"))
    ticket = client.create_batch(requests_, stop_on_first_failure=False, group_id="g")
    wait_done(client, ticket)
    status = client.get_batch(ticket)
    assert status.state is BatchState.COMPLETED
    assert [item.status for item in status.responses] == [ItemStatus.COMPLETED] * 3 + [ItemStatus.FAILED]
    assert all(isinstance(item.body["id"], int) for item in status.responses[:3])
    assert (status.responses[3].error_code, status.responses[3].http_status_code) == ("SKU_ALREADY_EXISTS", 409)
    assert [item["ticket"] for item in client.list_batches("COMPLETED")] == [ticket]
    products = list(client.iter_products(responseFields="total,items(id,sku)"))
    assert sorted(p["sku"] for p in products) == ["S0", "S1", "S2"]
    assert set(products[0]) == {"id", "sku"}


def test_iter_products_pages_through_a_large_catalog(ecwid_emulator: EcwidEmulator) -> None:
    client = make_client(ecwid_emulator)
    for start in range(0, 250, 125):
        requests_ = [
            BatchRequest(path="/products", method="POST", body={"sku": f"S{n:04d}", "name": "x"})
            for n in range(start, start + 125)
        ]
        wait_done(client, client.create_batch(requests_))
    before = ecwid_emulator.call_count(method="GET", endpoint="/products")
    skus = [p["sku"] for p in client.iter_products(responseFields="total,items(id,sku)")]
    assert skus == [f"S{n:04d}" for n in range(250)]
    assert ecwid_emulator.call_count(method="GET", endpoint="/products") - before == 3


def clock_sleep(emulator: EcwidEmulator, waited: list[float]) -> Callable[[float], None]:
    """A sleep that moves the emulator's clock instead of waiting."""

    def sleep(seconds: float) -> None:
        waited.append(seconds)
        emulator.advance_clock(seconds)

    return sleep


@pytest.mark.ecwid_emulator(import_lock_windows=[(0, 60)])
def test_a_60_second_import_lock_is_waited_out_with_the_default_retry_settings(
    ecwid_emulator: EcwidEmulator, caplog: pytest.LogCaptureFixture
) -> None:
    waited: list[float] = []
    client = make_client(ecwid_emulator, sleep=clock_sleep(ecwid_emulator, waited), rate_limit_per_minute=6000)
    assert (client.max_retries, client.max_retry_wait) == (5, 300)  # the defaults
    with caplog.at_level(logging.WARNING, logger="airflow_provider_ecwid"):
        ticket = client.create_batch([BatchRequest(path="/products", method="POST", body={"sku": "A", "name": "x"})])
    wait_done(client, ticket)
    assert [p["sku"] for p in ecwid_emulator.products()] == ["A"]
    assert ecwid_emulator.call_count(method="POST", endpoint="/batch", status=449) == len(waited) > 5
    assert 60 <= sum(waited) < 300
    retries = [r.getMessage() for r in caplog.records if "retry" in r.getMessage()]
    assert len(retries) == len(waited)
    assert all("449" in line and "import" in line.lower() for line in retries)


@pytest.mark.ecwid_emulator(import_lock_windows=[(0, 3600)])
def test_an_import_lock_longer_than_max_retry_wait_gives_up_within_it(ecwid_emulator: EcwidEmulator) -> None:
    waited: list[float] = []
    client = make_client(
        ecwid_emulator, sleep=clock_sleep(ecwid_emulator, waited), rate_limit_per_minute=6000, max_retry_wait=120
    )
    with pytest.raises(EcwidRetriesExhaustedError, match="449"):
        client.create_batch([BatchRequest(path="/products", method="POST", body={"sku": "A", "name": "x"})])
    assert sum(waited) == pytest.approx(120)
    assert ecwid_emulator.products() == []


@pytest.mark.ecwid_emulator(rate_limit_per_minute=3)
def test_client_waits_out_a_429_and_goes_on(ecwid_emulator: EcwidEmulator) -> None:
    waited: list[float] = []

    def sleep(seconds: float) -> None:  # the emulator's clock moves instead of the test waiting
        waited.append(seconds)
        ecwid_emulator.advance_clock(seconds)

    client = make_client(ecwid_emulator, sleep=sleep, rate_limit_per_minute=6000)
    for _ in range(5):
        client.get_profile()
    assert ecwid_emulator.call_count(status=429) == 1
    assert ecwid_emulator.call_count(status=200) == 5
    assert len(waited) == 1
    assert 1 <= waited[0] <= 60


def test_dedup_key_gives_the_same_ticket_through_the_client(ecwid_emulator: EcwidEmulator) -> None:
    client = make_client(ecwid_emulator)
    items = [BatchRequest(path="/products", method="POST", body={"sku": "A", "name": "x"})]
    first = client.create_batch(items, deduplication_key="k")
    assert client.create_batch(items, deduplication_key="k") == first


@pytest.mark.ecwid_emulator(processing_time=0.05)
def test_cancel_calls(ecwid_emulator: EcwidEmulator) -> None:
    client = make_client(ecwid_emulator)
    running = client.create_batch(
        [BatchRequest(path="/products", method="POST", body={"sku": f"R{n}"}) for n in range(5)], group_id="g"
    )
    queued = client.create_batch([BatchRequest(path="/products", method="POST", body={"sku": "Q"})], group_id="g")
    assert client.cancel_batch(queued) == 1
    with pytest.raises(EcwidNotFoundError):
        client.get_batch(queued)
    assert client.cancel_group("g") >= 1
    wait_done(client, running)
    assert client.get_batch(running).responses[-1].status is ItemStatus.NOT_EXECUTED


def test_wrong_token_is_an_auth_error_sent_once(ecwid_emulator: EcwidEmulator) -> None:
    client = EcwidClient(ecwid_emulator.store_id, "secret_wrong", base_url=ecwid_emulator.base_url)
    with pytest.raises(EcwidAuthError, match="INVALID_API_TOKEN"):
        client.get_profile()
    assert ecwid_emulator.call_count(status=403) == 1


@pytest.mark.ecwid_emulator(error_rate=0.3, drop_rate=0.1, seed=11, rate_limit_per_minute=0)
def test_client_rides_out_faults(ecwid_emulator: EcwidEmulator) -> None:
    client = make_client(ecwid_emulator, sleep=lambda _: None, max_retries=10)
    for n in range(30):
        client.request("POST", "/products", json_body={"sku": f"F{n}", "name": "x"})
    assert len(ecwid_emulator.products()) == 30
    assert ecwid_emulator.call_count(status=503) > 0


def test_hook_test_connection_against_the_emulator(
    ecwid_emulator: EcwidEmulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_ECWID_EMU", ecwid_emulator.connection_uri())
    assert EcwidHook("ecwid_emu").test_connection() == (True, "Connected to Ecwid store 1002 Emulated store")
    monkeypatch.setenv("AIRFLOW_CONN_ECWID_EMU_JSON", ecwid_emulator.connection_json())
    assert EcwidHook("ecwid_emu_json").test_connection()[0] is True


def test_command_line_emulator_starts_answers_and_stops() -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "airflow_provider_ecwid.testing.emulator", "--port", "0", "--store", "3003:secret_x"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONWARNINGS": "error::RuntimeWarning"},
    )
    try:
        assert process.stdout is not None
        first_line = process.stdout.readline()
        assert "API base URL: http://127.0.0.1:" in first_line
        base_url = first_line.rsplit(" ", 1)[1].strip()
        conn = json.loads(process.stdout.readline().split("=", 1)[1].strip().strip("'"))
        assert conn["extra"]["base_url"] == base_url
        answer = requests.get(f"{base_url}/3003/profile", headers={"Authorization": "Bearer secret_x"}, timeout=5)
        assert answer.json()["generalInfo"]["storeId"] == 3003
    finally:
        process.send_signal(signal.SIGTERM)  # SIGINT would do in a terminal; a background job ignores it
        process.wait(timeout=15)
    assert process.returncode == 0
