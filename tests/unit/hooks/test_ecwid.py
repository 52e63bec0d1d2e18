"""EcwidHook: connections from JSON, URI and form fields; provider discovery; test_connection."""

from __future__ import annotations

import json
import logging
from typing import Any

import pytest
import requests_mock as rm
from airflow.models.connection import Connection

from airflow_provider_ecwid import get_provider_info
from airflow_provider_ecwid.api.client import DEFAULT_BASE_URL
from airflow_provider_ecwid.api.connection import settings_from_connection
from airflow_provider_ecwid.errors import EcwidConfigError
from airflow_provider_ecwid.hooks.ecwid import EcwidHook, check_airflow_can_decrypt

TOKEN = "secret_HOOKTOKEN987654321"
#: The connection's extra fields, as the form shows them
EXTRA_FIELDS = ("base_url", "timeout", "rate_limit_per_minute", "max_retries", "max_retry_wait", "rate_limit_storage")


def set_conn(monkeypatch: pytest.MonkeyPatch, value: str, conn_id: str = "ecwid_default") -> None:
    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", value)


def test_connection_from_json_env_var(monkeypatch: pytest.MonkeyPatch) -> None:
    set_conn(
        monkeypatch,
        json.dumps(
            {
                "conn_type": "ecwid",
                "login": "1002",
                "password": TOKEN,
                "extra": {
                    "base_url": "http://127.0.0.1:8089/api/v3",
                    "timeout": "12.5",
                    "rate_limit_per_minute": 300,
                    "max_retries": 2,
                    "max_retry_wait": 40,
                },
            }
        ),
    )
    hook = EcwidHook()
    settings = hook.settings
    assert (settings.store_id, settings.token, settings.base_url) == ("1002", TOKEN, "http://127.0.0.1:8089/api/v3")
    assert (settings.timeout, settings.rate_limit_per_minute, settings.max_retries, settings.max_retry_wait) == (
        12.5,
        300,
        2,
        40,
    )
    client = hook.get_conn()
    assert client is hook.get_conn()  # cached
    assert client.store_url == "http://127.0.0.1:8089/api/v3/1002"
    assert client.timeout == (10.0, 12.5)
    assert client.max_retries == 2
    assert client.rate_limiter.rate == pytest.approx(5.0)


def test_connection_from_uri(monkeypatch: pytest.MonkeyPatch) -> None:
    set_conn(
        monkeypatch,
        f"ecwid://1002:{TOKEN}@/?base_url=http%3A%2F%2F127.0.0.1%3A8089%2Fapi%2Fv3&max_retries=3",
        conn_id="ecwid_uri",
    )
    settings = EcwidHook("ecwid_uri").settings
    assert (settings.store_id, settings.token) == ("1002", TOKEN)
    assert settings.base_url == "http://127.0.0.1:8089/api/v3"
    assert settings.max_retries == 3


def test_connection_from_form_fields_uses_defaults() -> None:
    # what the UI form stores: login, password and the extra fields as JSON
    conn = Connection(conn_id="from_ui", conn_type="ecwid", login=" 1002 ", password=TOKEN, extra='{"timeout": ""}')
    settings = settings_from_connection(
        conn.conn_id, login=conn.login, password=conn.password, host=conn.host, extra=conn.extra_dejson
    )
    assert settings.store_id == "1002"
    assert settings.base_url == DEFAULT_BASE_URL
    assert settings.timeout == 30.0
    assert settings.rate_limit_per_minute == 500
    assert settings.max_retries == 5


def test_prefixed_extras_of_older_forms_are_read() -> None:
    extra = {"extra__ecwid__base_url": "http://127.0.0.1:1/api/v3", "extra__ecwid__max_retries": "1"}
    settings = settings_from_connection("c", login="1", password=TOKEN, extra=extra)
    assert settings.base_url == "http://127.0.0.1:1/api/v3"
    assert settings.max_retries == 1


def test_a_full_url_in_the_host_field_is_accepted_but_a_bare_host_is_explained() -> None:
    settings = settings_from_connection("c", login="1", password=TOKEN, host="http://localhost:8089/api/v3")
    assert settings.base_url == "http://localhost:8089/api/v3"
    with pytest.raises(EcwidConfigError, match="base_url"):
        settings_from_connection("c", login="1", password=TOKEN, host="localhost")


@pytest.mark.parametrize(
    ("login", "password", "extra", "message"),
    [
        (None, TOKEN, {}, "no Ecwid store id"),
        ("", TOKEN, {}, "no Ecwid store id"),
        ("shop", TOKEN, {}, "must be a number"),
        ("1002", None, {}, "no Ecwid token"),
        ("1002", "  ", {}, "no Ecwid token"),
        ("1002", TOKEN, {"timeout": "soon"}, "'timeout' must be a number"),
        ("1002", TOKEN, {"max_retries": -1}, "'max_retries' must not be negative"),
    ],
)
def test_bad_connections_name_the_connection(
    login: str | None, password: str | None, extra: dict[str, object], message: str
) -> None:
    with pytest.raises(EcwidConfigError, match=message) as caught:
        settings_from_connection("my_shop", login=login, password=password, extra=extra)
    assert "'my_shop'" in str(caught.value)
    assert TOKEN not in str(caught.value)


def test_missing_store_id_through_the_hook(monkeypatch: pytest.MonkeyPatch) -> None:
    set_conn(monkeypatch, json.dumps({"conn_type": "ecwid", "password": TOKEN}), conn_id="no_store")
    with pytest.raises(EcwidConfigError, match="Connection 'no_store': no Ecwid store id"):
        EcwidHook("no_store").get_conn()


def test_public_token_gets_a_warning(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING):
        settings_from_connection("shop", login="1", password="public_abcdef")
    assert "public_ token" in caplog.text
    assert "'shop'" in caplog.text
    assert "public_abcdef" not in caplog.text


def test_settings_repr_hides_the_token() -> None:
    settings = settings_from_connection("shop", login="1", password=TOKEN)
    assert TOKEN not in repr(settings)
    assert TOKEN not in str(settings)


# -- test_connection ---------------------------------------------------------------------------------------


@pytest.fixture
def emulator_like_conn(monkeypatch: pytest.MonkeyPatch) -> str:
    set_conn(
        monkeypatch,
        json.dumps(
            {
                "conn_type": "ecwid",
                "login": "1002",
                "password": TOKEN,
                "extra": {"base_url": "http://127.0.0.1:9/api/v3", "max_retries": 0},
            }
        ),
        conn_id="ecwid_test",
    )
    return "http://127.0.0.1:9/api/v3/1002"


def test_test_connection_ok(emulator_like_conn: str) -> None:
    with rm.Mocker() as http:
        http.get(f"{emulator_like_conn}/profile", json={"settings": {"storeName": "Demo shop"}})
        ok, message = EcwidHook("ecwid_test").test_connection()
    assert ok is True
    assert message == "Connected to Ecwid store 1002 Demo shop"


@pytest.mark.parametrize(
    ("answer", "expected"),
    [
        ({"status_code": 403, "json": {"errorMessage": "Token invalid"}}, "Check the token"),
        ({"status_code": 500}, "Gave up"),
        ({"exc": ConnectionError(f"could not reach with {TOKEN}")}, "ConnectionError"),
    ],
)
def test_test_connection_failure_never_raises_nor_shows_the_token(
    emulator_like_conn: str, answer: dict[str, Any], expected: str
) -> None:
    with rm.Mocker() as http:
        http.get(f"{emulator_like_conn}/profile", **answer)
        ok, message = EcwidHook("ecwid_test").test_connection()
    assert ok is False
    assert expected in message
    assert TOKEN not in message


# -- provider discovery ------------------------------------------------------------------------------------


def test_provider_info_describes_the_connection_type() -> None:
    info = get_provider_info()
    assert info["package-name"] == "airflow-provider-ecwid"
    (conn_type,) = info["connection-types"]
    assert conn_type["connection-type"] == "ecwid"
    assert conn_type["hook-class-name"] == "airflow_provider_ecwid.hooks.ecwid.EcwidHook"
    assert set(conn_type["conn-fields"]) == set(EXTRA_FIELDS)
    # the same form both ways: provider info (read by Airflow >= 3.2, kebab-case) and the hook (Airflow < 3.2)
    behaviour = conn_type["ui-field-behaviour"]
    hook_behaviour = EcwidHook.get_ui_field_behaviour()
    assert behaviour["hidden-fields"] == hook_behaviour["hidden_fields"]
    assert (behaviour["relabeling"], behaviour["placeholders"]) == (
        hook_behaviour["relabeling"],
        hook_behaviour["placeholders"],
    )


def test_providers_manager_discovers_the_provider_and_its_hook() -> None:
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert "airflow-provider-ecwid" in manager.providers
    hook_info = manager.hooks["ecwid"]
    assert hook_info is not None
    assert hook_info.hook_class_name == "airflow_provider_ecwid.hooks.ecwid.EcwidHook"
    assert hook_info.connection_id_attribute_name == "ecwid_conn_id"
    assert manager.field_behaviours["ecwid"]["relabeling"]["login"] == "Store ID"
    form_fields = {name for name in manager.connection_form_widgets if name.startswith("extra__ecwid__")}
    assert form_fields == {f"extra__ecwid__{name}" for name in EXTRA_FIELDS}


def test_public_names_import_from_the_package() -> None:
    import airflow_provider_ecwid as provider

    for name in (
        "EcwidHook",
        "EcwidBatchOperator",
        "EcwidBatchSensor",
        "EcwidBatchTrigger",
        "EcwidCatalogSyncOperator",
    ):
        assert getattr(provider, name).__name__ == name
    with pytest.raises(AttributeError):
        provider.NoSuchThing  # noqa: B018


def airflow_211_with_cryptography_51() -> object:
    """What Airflow 2.11 to 3.1's get_fernet raises with cryptography 51 (the rows' pins cannot provoke it)."""
    raise AttributeError(
        "'cryptography.hazmat.bindings._rust.fernet.MultiFernet' object has no attribute 'is_encrypted'"
    )


def test_an_airflow_that_cannot_decrypt_is_named_with_its_cause(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("airflow.models.crypto.get_fernet", airflow_211_with_cryptography_51)
    with pytest.raises(EcwidConfigError, match=r"'ecwid_saved'.*cryptography<51.*constraints file") as raised:
        check_airflow_can_decrypt("ecwid_saved")
    assert isinstance(raised.value.__cause__, AttributeError)


def test_the_hook_checks_decryption_before_it_reads_the_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("airflow.models.crypto.get_fernet", airflow_211_with_cryptography_51)
    set_conn(monkeypatch, json.dumps({"conn_type": "ecwid", "login": "1", "password": TOKEN}), "ecwid_saved")
    with pytest.raises(EcwidConfigError, match="cryptography<51") as raised:
        _ = EcwidHook("ecwid_saved").settings
    assert TOKEN not in str(raised.value)


def test_a_working_fernet_passes_the_check() -> None:
    check_airflow_can_decrypt("ecwid_saved")  # this row's pinned cryptography works with its Airflow


def test_other_attribute_errors_of_airflows_fernet_pass_through(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken() -> object:
        raise AttributeError("something else")

    monkeypatch.setattr("airflow.models.crypto.get_fernet", broken)
    with pytest.raises(AttributeError, match="something else"):
        check_airflow_can_decrypt("ecwid_saved")
