"""The provider's description for Airflow's ProvidersManager, and its connection form, as plain data.

It imports nothing (not even this package's other modules): every provider discovery reads it, in every Airflow
process, and must not pay for requests, tenacity or the rate limiter. The defaults shown in the form are written out
here; ``tests/unit/test_provider_info.py`` holds them against the client's and the version against the package's.
"""

from __future__ import annotations

import copy
from typing import Any

INTEGRATION = "Ecwid"
#: The client's default base URL, as the form shows it.
DEFAULT_BASE_URL = "https://app.ecwid.com/api/v3"

#: Extra fields of the connection form: provider info's ``conn-fields`` (read by Airflow >= 3.2) and the source of
#: ``EcwidHook.get_connection_form_widgets()`` (Airflow 2.11 to 3.1).
CONNECTION_FIELDS: dict[str, dict[str, Any]] = {
    "base_url": {
        "label": "API base URL",
        "description": f"Leave empty for {DEFAULT_BASE_URL}. Set it for the bundled emulator or a proxy.",
        "schema": {"type": ["string", "null"]},
    },
    "timeout": {
        "label": "Request time-out (seconds)",
        "description": "How long one API call may take to answer (default 30 s).",
        "schema": {"type": ["number", "null"], "default": 30.0},
    },
    "rate_limit_per_minute": {
        "label": "Rate limit (requests per minute)",
        "description": "The client's own budget; Ecwid allows 600 a minute per token.",
        "schema": {"type": ["integer", "null"], "default": 500},
    },
    "rate_limit_storage": {
        "label": "Rate limit storage",
        "description": "Where every task, trigger and worker using this token shares the rate limit: empty for a "
        "SQLite file in this machine's temp directory (one machine), or sqlite:///path, redis://host:6379/0 or "
        "postgresql://user@host/db (many machines).",
        "schema": {"type": ["string", "null"]},
    },
    "max_retries": {
        "label": "Max retries",
        "description": "Retries of 5xx, time-outs and connection errors (0: no retries at all). 403 is never retried.",
        "schema": {"type": ["integer", "null"], "default": 5},
    },
    "max_retry_wait": {
        "label": "Max retry wait (seconds)",
        "description": "The most time spent waiting between the attempts of one call; 429 and 449 (an import "
        "in progress) are retried until it is spent.",
        "schema": {"type": ["number", "null"], "default": 300.0},
    },
}

#: The form's field behaviour in provider info (``ui-field-behaviour``, kebab-case keys; read by Airflow >= 3.2).
UI_FIELD_BEHAVIOUR: dict[str, Any] = {
    "hidden-fields": ["schema", "port", "host"],
    "relabeling": {"login": "Store ID", "password": "Secret token"},
    "placeholders": {
        "login": "1234567",
        "password": "secret_...",
        "base_url": DEFAULT_BASE_URL,
        "extra": '{"base_url": "http://127.0.0.1:8089/api/v3", "rate_limit_per_minute": 500}',
    },
}

PROVIDER_INFO: dict[str, Any] = {
    "package-name": "airflow-provider-ecwid",
    "name": "Ecwid",
    "description": "Push product catalogs and other bulk changes into Ecwid stores through Ecwid's batch API.",
    "versions": ["0.1.0"],
    "integrations": [
        {
            "integration-name": INTEGRATION,
            "external-doc-url": "https://docs.ecwid.com/api-reference/rest-api",
            "tags": ["service"],
        }
    ],
    "hooks": [{"integration-name": INTEGRATION, "python-modules": ["airflow_provider_ecwid.hooks.ecwid"]}],
    "operators": [
        {
            "integration-name": INTEGRATION,
            "python-modules": [
                "airflow_provider_ecwid.operators.batch",
                "airflow_provider_ecwid.operators.catalog",
                "airflow_provider_ecwid.operators.export",
            ],
        }
    ],
    "sensors": [{"integration-name": INTEGRATION, "python-modules": ["airflow_provider_ecwid.sensors.batch"]}],
    "triggers": [{"integration-name": INTEGRATION, "python-modules": ["airflow_provider_ecwid.triggers.batch"]}],
    "extra-links": ["airflow_provider_ecwid.links.EcwidStoreLink"],
    "connection-types": [
        {
            "hook-class-name": "airflow_provider_ecwid.hooks.ecwid.EcwidHook",
            "hook-name": "Ecwid",
            "connection-type": "ecwid",
            "conn-fields": CONNECTION_FIELDS,
            "ui-field-behaviour": UI_FIELD_BEHAVIOUR,
        }
    ],
}


def provider_info() -> dict[str, Any]:
    """A copy of :data:`PROVIDER_INFO`, which a caller may change freely."""
    return copy.deepcopy(PROVIDER_INFO)
