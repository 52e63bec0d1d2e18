"""The one fail_on rule, as the batch report and the whole-catalog sync both ask it."""

from __future__ import annotations

import pytest

from airflow_provider_ecwid.tickets.verdict import judge


@pytest.mark.parametrize(
    ("fail_on", "not_done", "total", "fails"),
    [
        ("never", 5, 10, False),
        ("any_failed", 0, 10, False),
        ("any_failed", 1, 10, True),
        (0.1, 1, 10, False),  # exactly the allowed share passes
        (0.1, 2, 10, True),
        (0.0, 1, 1000, True),
        (1.0, 10, 10, False),
    ],
)
def test_fail_on_is_one_rule(fail_on: float | str, not_done: int, total: int, fails: bool) -> None:
    assert (judge(fail_on, not_done, total) is not None) is fails  # type: ignore[arg-type]


def test_the_reason_names_the_counts_and_the_share() -> None:
    assert judge("any_failed", 3, 1200, "request(s)") == "3 of 1,200 request(s) did not complete"
    assert judge(0.01, 30, 1000) == "30 of 1,000 rows did not complete (3.0% > the allowed 1.0%)"
