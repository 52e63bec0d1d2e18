"""Apache Airflow provider for Ecwid's batch API.

Public API: :class:`~airflow_provider_ecwid.hooks.ecwid.EcwidHook`,
:class:`~airflow_provider_ecwid.operators.batch.EcwidBatchOperator`,
:class:`~airflow_provider_ecwid.operators.catalog.EcwidCatalogSyncOperator`,
:class:`~airflow_provider_ecwid.operators.export.EcwidExportOperator`,
:class:`~airflow_provider_ecwid.sensors.batch.EcwidBatchSensor`,
:class:`~airflow_provider_ecwid.triggers.batch.EcwidBatchTrigger`, and the emulator in
:mod:`airflow_provider_ecwid.testing`. Import them from their modules, or lazily from here. Every error the
provider raises on purpose is an :class:`EcwidError`; all of them live in :mod:`airflow_provider_ecwid.errors`
and are importable from here.
"""

from __future__ import annotations

from typing import Any

from airflow_provider_ecwid.errors import (
    EcwidApiError,
    EcwidAuthError,
    EcwidConfigError,
    EcwidError,
    EcwidInputError,
    EcwidNotFoundError,
    EcwidProgressLostError,
    EcwidResponseError,
    EcwidRetriesExhaustedError,
    EcwidStorageUnreachableError,
    EcwidSubmissionKilledError,
    EcwidSyncRefusedError,
    EcwidUnknownTicketError,
    EcwidUnsafePathError,
    EcwidValidationError,
    EcwidWaitError,
    deprecated_name,
)

__version__ = "0.1.0"

_LAZY = {
    "EcwidHook": "airflow_provider_ecwid.hooks.ecwid",
    "EcwidBatchOperator": "airflow_provider_ecwid.operators.batch",
    "EcwidCatalogSyncOperator": "airflow_provider_ecwid.operators.catalog",
    "EcwidExportOperator": "airflow_provider_ecwid.operators.export",
    "EcwidBatchSensor": "airflow_provider_ecwid.sensors.batch",
    "EcwidBatchTrigger": "airflow_provider_ecwid.triggers.batch",
    "EcwidClient": "airflow_provider_ecwid.api.client",
}

__all__ = [
    "__version__",
    "get_provider_info",
    "EcwidApiError",
    "EcwidAuthError",
    "EcwidConfigError",
    "EcwidError",
    "EcwidInputError",
    "EcwidNotFoundError",
    "EcwidResponseError",
    "EcwidRetriesExhaustedError",
    "EcwidStorageUnreachableError",
    "EcwidSubmissionKilledError",
    "EcwidProgressLostError",
    "EcwidSyncRefusedError",
    "EcwidUnknownTicketError",
    "EcwidUnsafePathError",
    "EcwidValidationError",
    "EcwidWaitError",
    *_LAZY,
]


def get_provider_info() -> dict[str, Any]:
    """Describe this provider to Airflow's ProvidersManager (the ``apache_airflow_provider`` entry point)."""
    from airflow_provider_ecwid.provider_info import provider_info  # plain data: imports nothing

    return provider_info()


def __getattr__(name: str) -> Any:
    """Import the public classes on first use, so that reading the provider info stays cheap."""
    if name in _LAZY:
        import importlib

        return getattr(importlib.import_module(_LAZY[name]), name)
    return deprecated_name(__name__, name)  # an old name, with a warning; else AttributeError
