"""The Ecwid connection form as Airflow itself builds it, on every Airflow a matrix row runs.

Airflow 2.11 builds a WTForms form class from the ProvidersManager (``airflow.www.forms``) and hides or relabels
fields with the JSON it renders into the page; Airflow 3 serves the same facts to its React UI through
``HookMetaService`` (3.0 and 3.1 from the hook's methods, with stand-ins for the WTForms classes; 3.2+ from the
provider info). Each test reads what Airflow made, not the provider's own dicts. Airflow 3's check needs a fresh
interpreter, so it lives in tests/e2e/test_airflow_processes.py.
"""

from __future__ import annotations

import json
from importlib import resources

import pytest
from airflow import __version__ as airflow_version
from packaging.version import Version

from airflow_provider_ecwid.hooks.ecwid import EcwidHook

AIRFLOW_3 = Version(airflow_version) >= Version("3.0")
EXTRA_FIELDS = ("base_url", "timeout", "rate_limit_per_minute", "max_retries", "max_retry_wait", "rate_limit_storage")
LABELS = {
    "base_url": "API base URL",
    "timeout": "Request time-out (seconds)",
    "rate_limit_per_minute": "Rate limit (requests per minute)",
    "max_retries": "Max retries",
    "max_retry_wait": "Max retry wait (seconds)",
    "rate_limit_storage": "Rate limit storage",
}


def test_the_hooks_field_behaviour_passes_airflows_own_schema() -> None:
    import jsonschema

    schema = json.loads(resources.files("airflow").joinpath("customized_form_field_behaviours.schema.json").read_text())
    behaviour = EcwidHook.get_ui_field_behaviour()
    jsonschema.validate(behaviour, schema)  # Airflow < 3.2 drops the whole dict when this fails
    assert set(schema["required"]) <= set(behaviour)


def test_providers_manager_keeps_the_ecwid_form() -> None:
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert manager.hooks["ecwid"] is not None  # imports the hook, which registers its form on Airflow < 3.2
    behaviour = manager.field_behaviours["ecwid"]
    assert {"host", "schema", "port"} <= set(behaviour["hidden_fields"])
    assert behaviour["relabeling"] == {"login": "Store ID", "password": "Secret token"}
    assert behaviour["placeholders"]["extra__ecwid__base_url"].startswith("https://")
    widgets = {name: info for name, info in manager.connection_form_widgets.items() if "__ecwid__" in name}
    assert set(widgets) == {f"extra__ecwid__{name}" for name in EXTRA_FIELDS}
    assert {info.field_name for info in widgets.values()} == set(EXTRA_FIELDS)  # saved under the plain name


@pytest.mark.skipif(AIRFLOW_3, reason="Airflow 2's Flask form; tests/e2e/test_airflow_processes.py checks Airflow 3's")
def test_airflow_2_builds_the_ecwid_form() -> None:
    from airflow.www.forms import create_connection_form_class
    from airflow.www.views import ConnectionFormWidget
    from flask import Flask
    from flask_babel import Babel

    app = Flask(__name__)
    Babel(app)  # the labels are lazy translations, as in Airflow's web server
    with app.test_request_context():
        form = create_connection_form_class()(meta={"csrf": False})
        assert ("ecwid", "Ecwid") in form.conn_type.choices
        for name in EXTRA_FIELDS:
            field = form[f"extra__ecwid__{name}"]
            assert str(field.label.text) == LABELS[name]
            assert field.description, f"{name} has no help text"
            assert 'class="form-control"' in str(field())  # rendered with FAB's Bootstrap widget
        behaviours = json.loads(ConnectionFormWidget().field_behaviours)  # the JSON the page's script reads
    assert {"host", "schema", "port"} <= set(behaviours["ecwid"]["hidden_fields"])
    assert behaviours["ecwid"]["relabeling"] == {"login": "Store ID", "password": "Secret token"}
