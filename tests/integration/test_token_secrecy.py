"""The token never comes back out of the provider, even when the server repeats it (issue 11, item 6).

The emulator's ``echo_authorization`` fault makes every error answer repeat the request's Authorization
header: 4xx bodies in their errorMessage, 5xx answers as a proxy's HTML page, failed batch items in their
inner body. Nothing the client raises, logs or returns may carry the token.
"""

from __future__ import annotations

import pytest

from airflow_provider_ecwid.client import EcwidClient
from airflow_provider_ecwid.testing import EcwidEmulator
from airflow_provider_ecwid.testing.emulator import _parse_args
from tests.integration.helpers import Api

TOKEN = "secret_Echoed0123456789abcdef"
OTHER_TOKEN = "secret_NotThisStore987654321"
STORES = {1002: [TOKEN], 2002: [OTHER_TOKEN]}

pytestmark = pytest.mark.ecwid_emulator(stores=STORES, echo_authorization=True)


def make_client(emulator: EcwidEmulator, token: str = TOKEN) -> EcwidClient:
    return EcwidClient(
        1002, token, base_url=emulator.base_url, max_retries=2, rate_limit_per_minute=100_000, sleep=lambda _: None
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


def test_the_fault_mode_is_a_command_line_flag() -> None:
    _args, config = _parse_args(["--echo-authorization"])
    assert config.echo_authorization is True
    assert _parse_args([])[1].echo_authorization is False
