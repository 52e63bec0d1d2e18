"""The batch operator and sensor in real Airflow runs (`airflow dags test`), against the emulator over HTTP."""

from __future__ import annotations

import subprocess

import pytest
from airflow import __version__ as airflow_version
from packaging.version import Version

from airflow_provider_ecwid.testing import EcwidEmulator
from tests.e2e.conftest import AirflowHome, RunRecord, deferred, without_airflows_mask_requests

AIRFLOW_3_3 = Version(airflow_version) >= Version("3.3")


def succeeded(result: subprocess.CompletedProcess[str], run: RunRecord) -> bool:
    """The command ended well and every task of the run succeeded."""
    states = run.task_states()
    return result.returncode == 0 and set(states.values()) == {"success"}


# 50 requests x 0.3 s: the batches still run when the sensor first looks, so that it has to wait (and defer),
# also on a loaded machine where the sensor task starts seconds late (0.15 s was too short once under load)
@pytest.mark.ecwid_emulator(processing_time=0.3)
@pytest.mark.parametrize("deferrable", ["false", "true"])
def test_mapped_operator_then_sensor(airflow_home: AirflowHome, ecwid_emulator: EcwidEmulator, deferrable: str) -> None:
    result = airflow_home.dags_test(
        "e2e_mapped_import", ecwid_emulator, E2E_DEFERRABLE=deferrable, E2E_FEED_SIZES="30,20"
    )
    output = result.stdout + result.stderr
    run = airflow_home.latest_run("e2e_mapped_import")
    assert succeeded(result, run), output[-5000:]
    assert set(run.task_states()) == {"feeds", "submit[0]", "submit[1]", "wait"}
    assert sorted(p["sku"] for p in ecwid_emulator.products()) == sorted(
        [f"F0-{n}" for n in range(30)] + [f"F1-{n}" for n in range(20)]
    )
    assert ecwid_emulator.call_count(method="POST", endpoint="/batch") == 5
    tickets = run.xcom("submit", map_index=0) + run.xcom("submit", map_index=1)
    report = run.xcom("wait")
    assert (report["total"], report["completed"], report["failed_count"]) == (50, 50, 0)
    assert [t["ticket"] for t in report["tickets"]] == tickets
    assert len(set(tickets)) == 5
    if deferrable == "true":
        assert deferred(output)
    assert ecwid_emulator.token() not in without_airflows_mask_requests(output)


@pytest.mark.ecwid_emulator(processing_time=0.02)
@pytest.mark.parametrize("deferrable", ["false", "true"])
def test_operator_waits_itself(airflow_home: AirflowHome, ecwid_emulator: EcwidEmulator, deferrable: str) -> None:
    result = airflow_home.dags_test("e2e_wait_in_operator", ecwid_emulator, E2E_DEFERRABLE=deferrable)
    output = result.stdout + result.stderr
    run = airflow_home.latest_run("e2e_wait_in_operator")
    assert succeeded(result, run), output[-5000:]
    assert len(ecwid_emulator.products()) == 25
    report = run.xcom("submit_and_wait")
    assert (report["total"], report["completed"], report["failed_count"]) == (25, 25, 0)
    assert len(report["tickets"]) == 3  # chunks of 10


@pytest.mark.skipif(
    not AIRFLOW_3_3,
    reason="the task state store is Airflow 3.3's; before it a retried try resubmits every chunk and Ecwid's "
    "deduplication hands back the same tickets (tests/integration/operators/test_batch.py::"
    "test_a_retried_task_creates_each_chunk_exactly_once)",
)
@pytest.mark.ecwid_emulator(rate_limit_per_minute=3, rate_limit_window=2)
def test_a_retried_try_resumes_from_the_state_store(airflow_home: AirflowHome, ecwid_emulator: EcwidEmulator) -> None:
    # 3 calls per 2 s and a client that never retries: the first try fails at the 4th chunk; the task's retry
    # comes 3 s later, when the window is free again
    result = airflow_home.dags_test("e2e_retry_resumes", ecwid_emulator, conn_extra={"max_retries": 0})
    output = result.stdout + result.stderr
    run = airflow_home.latest_run("e2e_retry_resumes")
    assert succeeded(result, run), output[-5000:]
    assert run.try_number("submit") == 2  # the first try failed on the 429
    assert ecwid_emulator.call_count(method="POST", endpoint="/batch", status=429) >= 1
    assert len(ecwid_emulator.batches()) == 5  # each chunk created exactly once
    assert sorted(p["sku"] for p in ecwid_emulator.products()) == sorted(f"R{n}" for n in range(50))
    # Airflow 3.3 keeps the tickets in the task state store: the retry sends only the chunks not yet sent
    # (resubmitting them would be answered 200 again, with the same tickets, by Ecwid's deduplication)
    assert ecwid_emulator.call_count(method="POST", endpoint="/batch", status=200) == 5
    assert sorted(run.xcom("submit")) == sorted(batch["ticket"] for batch in ecwid_emulator.batches())
