"""The report built from final statuses, the fail_on rule, and the tickets a task hands over."""

from __future__ import annotations

import pytest

from airflow_provider_ecwid.batch.models import BatchState, BatchStatus, ItemResult, ItemStatus
from airflow_provider_ecwid.errors import EcwidConfigError
from airflow_provider_ecwid.tickets.report import BatchReport
from airflow_provider_ecwid.tickets.verdict import check_fail_on


def status(
    ticket: str, state: BatchState, done: int, total: int = 3, items: tuple[ItemResult, ...] = ()
) -> BatchStatus:
    return BatchStatus(ticket, state, state.value, total, done, items)


def failed_item(item_id: str) -> ItemResult:
    return ItemResult(item_id, ItemStatus.FAILED, 409, "Conflict", {}, "SKU_ALREADY_EXISTS", "SKU exists")


def test_report_counts_maps_ids_and_caps_xcom() -> None:
    items = (
        ItemResult("a", ItemStatus.COMPLETED, 200, body={"id": 77}),
        failed_item("b"),
        ItemResult("c", ItemStatus.NOT_EXECUTED),
    )
    second = tuple(failed_item(f"x{n}") for n in range(150))
    report = BatchReport.from_statuses(
        [status("t1", BatchState.COMPLETED, 3, 3, items), status("t2", BatchState.COMPLETED, 150, 151, second)]
    )
    assert [(t.ticket, t.total, t.completed, t.failed, t.not_executed) for t in report.tickets] == [
        ("t1", 3, 1, 1, 1),
        ("t2", 151, 0, 150, 1),  # one row without a result counts as not done
    ]
    assert report.created_ids == {"a": 77}
    compact = report.to_xcom(cap=100)
    assert compact["failed_count"] == 151
    assert len(compact["failed"]) == 100
    assert compact["truncated"] is True
    assert compact["not_executed"] == ["c", None]
    assert compact["failed"][0] == {
        "ticket": "t1",
        "id": "b",
        "status": "FAILED",
        "http_status": 409,
        "error_code": "SKU_ALREADY_EXISTS",
        "error_message": "SKU exists",
        "entity_id": None,
    }
    assert "b                        FAILED         409  SKU_ALREADY_EXISTS" in report.failure_table()


def test_fail_on() -> None:
    items = (*tuple(ItemResult(str(n), ItemStatus.COMPLETED, 200) for n in range(9)), failed_item("9"))
    report = BatchReport.from_statuses([status("t", BatchState.COMPLETED, 10, 10, items)])
    assert report.verdict("any_failed") == "1 of 10 rows did not complete"
    assert report.verdict("never") is None
    assert report.verdict(0.1) is None
    assert "10.0% > the allowed 5.0%" in str(report.verdict(0.05))
    assert check_fail_on(0.5) == 0.5
    for bad in ("sometimes", 2, -0.1, True):
        with pytest.raises(EcwidConfigError):
            check_fail_on(bad)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (["a", "b"], ["a", "b"]),
        ("a", ["a"]),
        ("['a', 'b']", ["a", "b"]),
        ([["a", "b"], ["c"]], ["a", "b", "c"]),  # a mapped operator's outputs
        ((t for t in ["a"]), ["a"]),
        ({"tickets": [{"ticket": "a"}, {"ticket": "b"}]}, ["a", "b"]),  # a report
        ([], []),
    ],
)
def test_normalize_tickets(value: object, expected: list[str]) -> None:
    from airflow_provider_ecwid.runtime.wait_or_defer import normalize_tickets

    assert normalize_tickets(value) == expected


@pytest.mark.parametrize("value", [None, 5, {"x": 1}, [1.5]])
def test_normalize_tickets_refuses(value: object) -> None:
    from airflow_provider_ecwid.runtime.wait_or_defer import normalize_tickets

    with pytest.raises(EcwidConfigError):
        normalize_tickets(value)
