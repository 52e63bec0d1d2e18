"""The bundled Ecwid emulator, for tests, demos and your own DAG tests.

It is a FastAPI app served by uvicorn, declared as the ``testing`` extra:
``pip install "airflow-provider-ecwid[testing]"`` (Airflow 3 brings both already; Airflow 2.11 does not).
"""

from __future__ import annotations

try:
    import fastapi  # noqa: F401
    import uvicorn  # noqa: F401
except ImportError as err:  # pragma: no cover - depends on the environment
    raise ImportError(
        f"The Ecwid emulator needs FastAPI and uvicorn ({err.name} is missing): "
        'pip install "airflow-provider-ecwid[testing]"'
    ) from err

from airflow_provider_ecwid.testing.config import EmulatorConfig
from airflow_provider_ecwid.testing.server import EcwidEmulator

__all__ = ["EcwidEmulator", "EmulatorConfig"]
