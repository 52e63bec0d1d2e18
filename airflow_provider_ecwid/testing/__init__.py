"""The bundled Ecwid emulator, for tests, demos and your own DAG tests."""

from __future__ import annotations

from airflow_provider_ecwid.testing.config import EmulatorConfig
from airflow_provider_ecwid.testing.server import EcwidEmulator

__all__ = ["EcwidEmulator", "EmulatorConfig"]
