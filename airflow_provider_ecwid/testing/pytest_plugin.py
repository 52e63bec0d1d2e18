"""A pytest fixture that runs the Ecwid emulator: ``ecwid_emulator``.

Enable it with ``pytest_plugins = ["airflow_provider_ecwid.testing.pytest_plugin"]`` in a conftest.py.
Configure one test with ``@pytest.mark.ecwid_emulator(processing_time=0.01, error_rate=0.1)``; seed orders and
customers with ``@pytest.mark.ecwid_emulator(customers=200, orders=5_000, seed=1)`` (one time range), or call
``ecwid_emulator.seed_customers(...)`` and ``seed_orders(...)`` in the test (a time range per call).
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
    """A started emulator (store 1002, token ``secret_demo`` unless the marker says otherwise); stopped after
    (without waiting for uvicorn to finish shutting down)."""
    marker = request.node.get_closest_marker("ecwid_emulator")
    knobs = dict(marker.kwargs) if marker else {}
    emulator = EcwidEmulator(**knobs).start()
    try:
        yield emulator
    finally:
        # each test's emulator has a port and a state of its own: the next test need not wait for this one to end
        emulator.stop(wait=False)
