"""The task's verdict once every ticket finished: the report, logged, written to a file if asked, and judged."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from airflow.providers.common.compat.sdk import AirflowException

from airflow_provider_ecwid.batch.models import BatchStatus
from airflow_provider_ecwid.runtime.storage import open_url
from airflow_provider_ecwid.tickets.report import BatchReport
from airflow_provider_ecwid.tickets.results_file import BATCH_FIELDS, write_rows
from airflow_provider_ecwid.tickets.verdict import FailOn


def write_outcomes(rows: Iterable[Mapping[str, Any]], fields: Sequence[str], path: str, log: Any) -> None:
    """Write outcome rows to a local path or an ObjectStoragePath URL, as CSV or JSON Lines (by its suffix)."""
    with open_url(path, "w") as handle:
        written = write_rows(handle, rows, fields, as_csv=path.lower().endswith(".csv"))
    log.info("Wrote the outcome of %d row(s) to %s", written, path)


def write_results(report: BatchReport, path: str, log: Any) -> None:
    """Write every row of a batch report (see :data:`~airflow_provider_ecwid.tickets.results_file.BATCH_FIELDS`)."""
    write_outcomes(report.rows(), BATCH_FIELDS, path, log)


def finish(
    statuses: Sequence[BatchStatus],
    *,
    fail_on: FailOn,
    results_path: str | None,
    log: Any,
    expected: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, Any]:
    """
    Build the report, log it, write it if asked, and fail the task when ``fail_on`` says so or when the answers
    do not account for every request sent (``expected``: per ticket, what was sent in it).
    """
    report = BatchReport.from_statuses(statuses, expected)
    log.info(
        "Ecwid batches done: %d request(s) in %d ticket(s); %d completed, %d failed, %d not executed",
        report.total,
        len(report.tickets),
        report.completed,
        len(report.failed),
        len(report.not_done) - len(report.failed),
    )
    for problem in report.discrepancies:
        log.error("%s", problem)
    if report.not_done:
        log.warning("Rows that did not complete:\n%s", report.failure_table())
    if results_path:
        write_results(report, results_path, log)
    verdict = report.verdict(fail_on)
    if verdict is not None:
        raise AirflowException(f"Ecwid batch import failed: {verdict}.\n{report.failure_table()}")
    return report.to_xcom()
