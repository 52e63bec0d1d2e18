"""A pytest fixture that runs the Ecwid emulator: ``ecwid_emulator``.

Enable it with ``pytest_plugins = ["airflow_provider_ecwid.testing.pytest_plugin"]`` in a conftest.py.
Configure one test with ``@pytest.mark.ecwid_emulator(processing_time=0.01, error_rate=0.1)``.
It needs the ``testing`` extra (FastAPI and uvicorn): ``pip install "airflow-provider-ecwid[testing]"``.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from airflow_provider_ecwid.testing.server import EcwidEmulator


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "ecwid_emulator(**knobs): EmulatorConfig fields for the ecwid_emulator fixture of this test"
    )


@pytest.fixture
def ecwid_emulator(request: pytest.FixtureRequest) -> Iterator[EcwidEmulator]:
    """A started emulator (store 1002, token ``secret_demo`` unless the marker says otherwise); stopped after."""
    marker = request.node.get_closest_marker("ecwid_emulator")
    knobs = dict(marker.kwargs) if marker else {}
    with EcwidEmulator(**knobs) as emulator:
        yield emulator
