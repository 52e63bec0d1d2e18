"""provider_info is plain data that imports nothing: what it writes out must agree with the code it describes."""

from __future__ import annotations

import ast
import importlib
import inspect
from pathlib import Path

import airflow_provider_ecwid
from airflow_provider_ecwid import provider_info
from airflow_provider_ecwid.api import client
from airflow_provider_ecwid.api.connection import EcwidConnectionSettings
from airflow_provider_ecwid.provider_info import CONNECTION_FIELDS, PROVIDER_INFO, UI_FIELD_BEHAVIOUR


def test_it_imports_nothing_but_the_standard_library() -> None:
    tree = ast.parse(Path(inspect.getfile(provider_info)).read_text())
    imported = {
        alias.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names
    } | {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert imported == {"__future__", "copy", "typing"}


def test_its_version_is_the_package_version() -> None:
    assert PROVIDER_INFO["versions"] == [airflow_provider_ecwid.__version__]


def test_the_form_shows_the_client_defaults() -> None:
    defaults = {name: spec["schema"].get("default") for name, spec in CONNECTION_FIELDS.items()}
    assert defaults == {
        "base_url": None,
        "timeout": client.DEFAULT_TIMEOUT,
        "rate_limit_per_minute": client.DEFAULT_RATE_LIMIT_PER_MINUTE,
        "rate_limit_storage": None,
        "max_retries": client.DEFAULT_MAX_RETRIES,
        "max_retry_wait": client.DEFAULT_MAX_RETRY_WAIT,
    }
    assert client.DEFAULT_BASE_URL in CONNECTION_FIELDS["base_url"]["description"]
    assert f"default {client.DEFAULT_TIMEOUT:g} s" in CONNECTION_FIELDS["timeout"]["description"]
    assert UI_FIELD_BEHAVIOUR["placeholders"]["base_url"] == client.DEFAULT_BASE_URL


def test_the_form_has_a_field_for_every_connection_setting() -> None:
    settings = {name for name in EcwidConnectionSettings.__dataclass_fields__ if name not in ("conn_id", "store_id")}
    assert set(CONNECTION_FIELDS) == settings - {"token"}


def test_every_module_it_names_imports() -> None:
    for section in ("hooks", "operators", "sensors", "triggers"):
        for entry in PROVIDER_INFO[section]:
            for module in entry["python-modules"]:
                importlib.import_module(module)


def test_callers_get_a_copy() -> None:
    info = provider_info.provider_info()
    info["connection-types"][0]["conn-fields"]["timeout"]["label"] = "changed"
    assert CONNECTION_FIELDS["timeout"]["label"] == "Request time-out (seconds)"
