"""The token never comes back out of the provider, even when the server repeats it (issue 11, item 6).

The emulator's ``echo_authorization`` fault makes every error answer repeat the request's Authorization
header: 4xx bodies in their errorMessage, 5xx answers as a proxy's HTML page, failed batch items in their
inner body. Nothing the client raises, logs or returns may carry the token.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest

from airflow_provider_ecwid.api.client import EcwidClient
from airflow_provider_ecwid.batch.models import BatchRequest, BatchStatus, ItemStatus
from airflow_provider_ecwid.errors import EcwidApiError, EcwidAuthError, EcwidRetriesExhaustedError
from airflow_provider_ecwid.runtime.finish import write_results
from airflow_provider_ecwid.testing import EcwidEmulator
from airflow_provider_ecwid.testing.emulator import _parse_args
from airflow_provider_ecwid.tickets.report import BatchReport
from tests.integration.helpers import Api
from tests.waiting import wait_until

TOKEN = "secret_Echoed0123456789abcdef"
OTHER_TOKEN = "secret_NotThisStore987654321"
STORES = {1002: [TOKEN], 2002: [OTHER_TOKEN]}

pytestmark = pytest.mark.ecwid_emulator(stores=STORES, echo_authorization=True)


def make_client(emulator: EcwidEmulator, token: str = TOKEN) -> EcwidClient:
    return EcwidClient(
        1002, token, base_url=emulator.base_url, max_retries=2, rate_limit_per_minute=100_000, sleep=lambda _: None
    )


def finished(client: EcwidClient, ticket: str) -> BatchStatus:
    return wait_until(
        lambda: client.get_batch(ticket), satisfied=lambda s: s.is_finished, what=f"batch {ticket} to finish"
    )


def test_the_fault_mode_really_echoes_the_token(ecwid_emulator: EcwidEmulator) -> None:
    api = Api(ecwid_emulator, 1002, TOKEN)
    api.call("POST", "/products", json={"sku": "A", "name": "x"})
    conflict = api.call("POST", "/products", json={"sku": "A", "name": "x"})
    assert conflict.status_code == 409
    assert f"Bearer {TOKEN}" in conflict.json()["errorMessage"]
    ecwid_emulator.config.error_rate = 1.0
    page = api.call("GET", "/profile")
    assert page.status_code == 503
    assert page.headers["content-type"].startswith("text/html")
    assert f"Bearer {TOKEN}" in page.text
    ecwid_emulator.config.error_rate = 0.0
    ticket = api.batch([{"id": "dup", "method": "POST", "path": "/products", "body": {"sku": "A"}}])
    assert f"Bearer {TOKEN}" in api.wait(ticket)["responses"][0]["escapedHttpBody"]


def test_the_token_is_in_no_exception_log_status_report_or_results_file(
    ecwid_emulator: EcwidEmulator, caplog: pytest.LogCaptureFixture, tmp_path: Path
) -> None:
    client = make_client(ecwid_emulator)
    texts: list[str] = []
    with caplog.at_level(logging.DEBUG):
        client.request("POST", "/products", json_body={"sku": "A", "name": "x"})
        # a top-level 409 (JSON body)
        with pytest.raises(EcwidApiError) as conflict:
            client.request("POST", "/products", json_body={"sku": "A", "name": "again"})
        assert conflict.value.status_code == 409
        texts += [str(conflict.value), repr(conflict.value), str(conflict.value.error_message)]
        assert "***" in str(conflict.value)  # the echo happened, and was hidden
        # a 403: a token of another store, repeated by the server
        with pytest.raises(EcwidAuthError) as denied:
            make_client(ecwid_emulator, OTHER_TOKEN).get_profile()
        texts += [str(denied.value), repr(denied.value)]
        assert "***" in str(denied.value)
        # a proxy's 500 page, retried and given up on (retry lines are logged)
        ecwid_emulator.config.error_rate = 1.0
        with pytest.raises(EcwidRetriesExhaustedError) as exhausted:
            client.get_profile()
        ecwid_emulator.config.error_rate = 0.0
        texts += [str(exhausted.value), repr(exhausted.value), str(exhausted.value.last_error)]
        assert "***" in str(exhausted.value)
        # an inner 409 inside a batch
        requests_ = [
            BatchRequest(path="/products", method="POST", body={"sku": "B", "name": "new"}, id="new"),
            BatchRequest(path="/products", method="POST", body={"sku": "A", "name": "dup"}, id="dup"),
        ]
        status = finished(client, client.create_batch(requests_, stop_on_first_failure=False))
    failed = [item for item in status.responses if item.status is ItemStatus.FAILED]
    assert [item.id for item in failed] == ["dup"]
    assert failed[0].error_code == "SKU_ALREADY_EXISTS"
    assert "***" in str(failed[0].error_message)
    report = BatchReport.from_statuses([status])
    texts += [repr(status), json.dumps(report.to_xcom()), report.failure_table()]
    for name in ("results.csv", "results.jsonl"):
        write_results(report, str(tmp_path / name), logging.getLogger("test"))
        texts.append((tmp_path / name).read_text())
    texts += [record.getMessage() for record in caplog.records]
    texts += [str(record.exc_info[1]) for record in caplog.records if record.exc_info]
    assert len(caplog.records) >= 2  # the retries of the 503s were logged
    for secret in (TOKEN, OTHER_TOKEN):
        leaks = [text for text in texts if secret in text]
        assert leaks == [], f"the token leaked into {leaks[:3]}"


def test_every_answer_the_client_returns_is_clean(ecwid_emulator: EcwidEmulator) -> None:
    """Even a successful answer that repeats the token (a product named after it) comes back without it."""
    client = make_client(ecwid_emulator)
    client.request("POST", "/products", json_body={"sku": "T", "name": f"Bearer {TOKEN}", "description": TOKEN})
    products = list(client.iter_products())
    assert [(p["name"], p["description"]) for p in products] == [("***", "***")]


def test_the_fault_mode_is_a_command_line_flag() -> None:
    _args, config = _parse_args(["--echo-authorization"])
    assert config.echo_authorization is True
    assert _parse_args([])[1].echo_authorization is False
