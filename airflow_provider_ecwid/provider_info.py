"""The provider's description for Airflow's ProvidersManager; kept import-light (no Airflow import)."""

from __future__ import annotations

import copy
from typing import Any

from airflow_provider_ecwid.api.connection import CONNECTION_FIELDS, UI_FIELD_BEHAVIOUR

INTEGRATION = "Ecwid"


def provider_info() -> dict[str, Any]:
    from airflow_provider_ecwid import __version__

    return {
        "package-name": "airflow-provider-ecwid",
        "name": "Ecwid",
        "description": "Push product catalogs and other bulk changes into Ecwid stores through Ecwid's batch API.",
        "versions": [__version__],
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
                "conn-fields": copy.deepcopy(CONNECTION_FIELDS),
                "ui-field-behaviour": copy.deepcopy(UI_FIELD_BEHAVIOUR),
            }
        ],
    }
