"""EcwidExportOperator's arguments: a wrong one fails when the DAG file is parsed, and the window is checked."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from airflow_provider_ecwid.errors import EcwidConfigError
from airflow_provider_ecwid.operators.export import EcwidExportOperator
from airflow_provider_ecwid.reading.window import Window


def export(**arguments: Any) -> EcwidExportOperator:
    return EcwidExportOperator(task_id="export", **{"entity": "orders", "output": "/tmp/o.parquet", **arguments})


@pytest.mark.parametrize(
    ("arguments", "match"),
    [
        ({"entity": "invoices"}, "entity must be one of"),
        ({"filters": {"status": "PAID"}}, "'status' is not a filter of orders"),
        ({"filters": {"paymentStatus": "PAYED"}}, "not among"),
        ({"output": "/tmp/orders.csv"}, "output must end in .parquet"),
        ({"format": "xlsx"}, "format must be one of"),
        ({"entity": "categories", "deleted_output": "/tmp/d.parquet"}, "no deleted categories"),
        ({"pages_per_batch": 501}, "pages_per_batch must be 1 to 500"),
    ],
)
def test_a_wrong_argument_fails_when_the_dag_file_is_parsed(arguments: dict[str, Any], match: str) -> None:
    with pytest.raises(EcwidConfigError, match=match):
        export(**arguments)


def test_the_default_window_is_the_runs_data_interval_and_is_templated() -> None:
    operator = export()
    assert "updated_from" in operator.template_fields
    assert "output_url" in operator.template_fields
    operator.updated_from, operator.updated_to = "2026-12-01T00:00:00+00:00", "2026-12-02 00:00:00+00:00"
    assert operator.window() == Window(1_796_083_200, 1_796_169_600)


@pytest.mark.parametrize(
    ("start", "end", "match"),
    [
        ("None", "None", "no data interval"),  # a manual run of an unscheduled DAG: never an empty file
        ("2026-12-01T00:00:00+00:00", "2026-12-01T00:00:00+00:00", "the window is empty"),
        (1_796_169_600, 1_796_083_200, "is not before"),
        ("2026-12-01", 1_796_083_200, "must name its time zone"),
        ("yesterday", 1_796_083_200, "ISO 8601"),
        (1_796_083_200, None, "updated_to is missing"),
    ],
)
def test_a_window_that_cannot_be_exported_is_refused(start: Any, end: Any, match: str) -> None:
    operator = export()
    operator.updated_from, operator.updated_to = start, end
    with pytest.raises(EcwidConfigError, match=match):
        operator.window()


def test_none_for_both_ends_is_the_whole_entity_and_datetimes_are_taken_as_they_are() -> None:
    assert export(updated_from=None, updated_to=None).window() is None
    start = datetime(2026, 12, 1, tzinfo=UTC)
    assert export(updated_from=start, updated_to=start.replace(day=2)).window() == Window(1_796_083_200, 1_796_169_600)
