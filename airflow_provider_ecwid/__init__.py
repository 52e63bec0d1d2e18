"""Apache Airflow provider for Ecwid's batch API."""

from __future__ import annotations

from typing import Any

__version__ = "0.1.0"

__all__ = ["__version__", "get_provider_info"]


def get_provider_info() -> dict[str, Any]:
    """Describe this provider to Airflow's ProvidersManager (the ``apache_airflow_provider`` entry point)."""
    from airflow_provider_ecwid.provider_info import provider_info

    return provider_info()
