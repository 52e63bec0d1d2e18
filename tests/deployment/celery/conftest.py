"""The Celery configuration: its own deployment, started once for this folder and stopped when its tests end."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.deployment.deployment import Deployment, start_deployment

#: The fan-out example's stores (id -> token), each with a connection ecwid_store_<id>
FAN_OUT_STORES = {3003: "secret_store_3003", 4004: "secret_store_4004"}
#: One store for each fault test (test_faults.py), so that each sync starts from an empty store
FAULT_STORES = {store_id: f"secret_store_{store_id}" for store_id in range(6001, 6006)}


@pytest.fixture(scope="package")
def celery_deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """PostgreSQL, Redis, the emulator, then Airflow's API server, scheduler, DAG processor, triggerer and two
    Celery workers; stopped by process group when the folder's tests are done, also after a failure."""
    started = time.monotonic()
    stores = {**FAN_OUT_STORES, **FAULT_STORES}
    running = start_deployment(tmp_path_factory.mktemp("celery"), executor="celery", extra_stores=stores)
    print(f"Celery deployment up in {time.monotonic() - started:.1f} s: {running.url} ({running.root})")  # noqa: T201
    try:
        yield running
    finally:
        running.stop()


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """What Airflow did about each fault of test_faults.py (README: When things fail), after the run's summary."""
    from tests.deployment.celery.test_faults import OUTCOMES

    if not OUTCOMES:
        return
    terminalreporter.write_line("faults on Celery + PostgreSQL + Redis (README: When things fail):")
    for outcome in OUTCOMES:
        terminalreporter.write_line(
            f"  {outcome.fault}: tries {outcome.tries}, success {outcome.recovery_s:.0f} s after the fault, run "
            f"{outcome.run_s:.0f} s, components restarted as a supervisor would: {outcome.revived or 'none'}"
            + (f"; {outcome.note}" if outcome.note else "")
        )
