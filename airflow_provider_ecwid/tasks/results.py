"""The task's verdict once every ticket finished: the report, logged, written to a file if asked, and judged."""

from __future__ import annotations

import csv
import json
from collections.abc import Mapping, Sequence
from typing import Any

from airflow.providers.common.compat.sdk import AirflowException

from airflow_provider_ecwid.batch.models import BatchStatus
from airflow_provider_ecwid.errors import EcwidConfigError
from airflow_provider_ecwid.tickets.report import BatchReport, FailOn

RESULT_FORMATS = (".csv", ".jsonl", ".ndjson")


def check_results_path(path: str | None) -> None:
    if path and not path.lower().endswith(RESULT_FORMATS):
        raise EcwidConfigError(f"results_path must end in .csv or .jsonl (.ndjson), got {path!r}")


def write_results(report: BatchReport, path: str, log: Any) -> None:
    """Write every row's outcome to a local path or an ObjectStoragePath URL, as CSV or JSON Lines."""
    if "://" in path:
        from airflow.providers.common.compat.sdk import ObjectStoragePath

        handle = ObjectStoragePath(path).open("w")
    else:
        handle = open(path, "w", newline="", encoding="utf-8")  # noqa: SIM115 - closed below
    written = 0
    with handle:
        if path.lower().endswith(".csv"):
            fields = ["ticket", "id", "status", "http_status", "error_code", "error_message", "entity_id"]
            writer = csv.DictWriter(handle, fieldnames=fields)
            writer.writeheader()
            for row in report.rows():
                writer.writerow(row)
                written += 1
        else:
            for row in report.rows():
                handle.write(json.dumps(row) + "\n")
                written += 1
    log.info("Wrote the outcome of %d row(s) to %s", written, path)


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
