"""The soak's short form: every fault at once through a real Airflow run, and a kill-and-retry of each operator.

``.venv/bin/python -m benchmarks.soak`` runs the long form (100,000 rows) and prints the same report.
"""

from __future__ import annotations

import pytest

from benchmarks.soak import kill_and_retry, soak_dag_run

pytestmark = pytest.mark.soak


def test_every_row_lands_once_under_every_fault() -> None:
    report = soak_dag_run(5_000)
    assert report["dag_run_ok"], report["log_tail"]
    assert (report["lost"], report["duplicated"], report["wrong_values"], report["extra"]) == (0, 0, 0, 0)
    faults = report["faults"]
    assert min(faults["503"], faults["429"], faults["449"]) > 0, faults  # the faults did happen


def test_each_operator_killed_and_retried_lands_every_row_once() -> None:
    for result in kill_and_retry(5_000, kill_after=4):
        assert result["first_try_stopped_by_kill"], result
        assert result["retry_completed"] == result["retry_sent"] > 0, result
        assert (result["lost"], result["duplicated"], result["wrong_values"]) == (0, 0, 0), result
