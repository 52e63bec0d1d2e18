"""What the operator and the sensor share once the tickets are known: waiting, deferring and the report."""

from __future__ import annotations

import ast
import csv
import json
import time
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from airflow.providers.common.compat.sdk import AirflowException

from airflow_provider_ecwid.batch.accounting import EXPECTED_XCOM_KEY
from airflow_provider_ecwid.batch.models import BatchState, BatchStatus
from airflow_provider_ecwid.batch.report import BatchReport, FailOn
from airflow_provider_ecwid.client import EcwidClient
from airflow_provider_ecwid.errors import EcwidConfigError
from airflow_provider_ecwid.triggers.batch import EcwidBatchTrigger

RESULT_FORMATS = (".csv", ".jsonl", ".ndjson")


def normalize_tickets(value: Any) -> list[str]:
    """
    Accept what a task hands over: a list of tickets, one ticket, a list rendered as text by a template, the
    outputs of a mapped operator (a sequence of ticket lists, flattened in map order) or a report.
    """
    if value is None:
        raise EcwidConfigError("tickets is None: pass the batch operator's output or a list of tickets")
    if isinstance(value, str):
        text = value.strip()
        if not text.startswith("["):
            return [text] if text else []
        value = ast.literal_eval(text)
    if isinstance(value, dict):
        if value.get("dry_run") is True:
            return []  # a dry run sent nothing
        if "tickets" not in value:
            raise EcwidConfigError("tickets is a dict without a 'tickets' entry")
        value = [item["ticket"] if isinstance(item, dict) else item for item in value["tickets"]]
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise EcwidConfigError(f"tickets must be a list of ticket strings, got {type(value).__name__}")
    tickets: list[str] = []
    for item in value:
        if isinstance(item, str | int) and not isinstance(item, bool):
            tickets.append(str(item))
        else:
            tickets.extend(normalize_tickets(item))  # a mapped task's output: one list per map index
    return tickets


def check_results_path(path: str | None) -> None:
    if path and not path.lower().endswith(RESULT_FORMATS):
        raise EcwidConfigError(f"results_path must end in .csv or .jsonl (.ndjson), got {path!r}")


def final_statuses(client: EcwidClient, tickets: Sequence[str]) -> list[BatchStatus]:
    """Read every ticket once more for the row results; fail closed if one is not finished."""
    statuses = [client.get_batch(ticket) for ticket in tickets]
    unfinished = [status.ticket for status in statuses if status.state is not BatchState.COMPLETED]
    if unfinished:
        raise AirflowException(f"Ecwid reports ticket(s) {unfinished[:5]} as not finished after the wait ended")
    return statuses


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


def make_trigger(
    *,
    conn_id: str,
    tickets: list[str],
    poll_interval: float,
    timeout: float | None,
    progress_timeout: float | None,
    group_id: str | None,
    cancel_on_kill: bool,
    poller_state: dict[str, Any] | None = None,
) -> EcwidBatchTrigger:
    """A trigger whose deadlines are wall-clock epochs computed here, on the worker, before deferring."""
    state = poller_state or {}
    return EcwidBatchTrigger(
        conn_id=conn_id,
        tickets=tickets,
        poll_interval=poll_interval,
        deadline=time.time() + timeout if timeout is not None else None,
        progress_timeout=progress_timeout,
        next_index=int(state.get("next_index", 0)),
        last_progress_at=state.get("last_progress_at") or time.time(),
        progress_mark=int(state.get("progress_mark", -1)),
        group_id=group_id,
        cancel_on_kill=cancel_on_kill,
    )


def pull_expected(ti: Any, task_id: str, map_index: int | None) -> dict[str, Any] | None:
    """
    The expectations an EcwidBatchOperator task pushed for its tickets (None when there are none).

    :param ti: the running task instance.
    :param task_id: the submitting task.
    :param map_index: its map index; None for every map index of a mapped task (their expectations merged).
    """
    found = ti.xcom_pull(task_ids=task_id, key=EXPECTED_XCOM_KEY, map_indexes=map_index)
    pieces = found if isinstance(found, list) else [found]
    merged: dict[str, Any] = {}
    for piece in pieces:
        if isinstance(piece, Mapping):
            merged.update(piece)
    return merged or None


def check_event(event: Any, tickets: Sequence[str]) -> None:
    """Fail closed on a missing, malformed, failed or foreign trigger event."""
    if not isinstance(event, dict) or "status" not in event:
        raise AirflowException(f"The Ecwid batch trigger ended without a usable event ({event!r:.200}); failing")
    if event["status"] == "error":
        raise AirflowException(f"Waiting for Ecwid batches failed: {event.get('message', 'no message')}")
    if event["status"] != "success":
        raise AirflowException(f"The Ecwid batch trigger sent an unknown status {event['status']!r}; failing")
    if list(event.get("tickets", [])) != list(tickets):
        raise AirflowException("The Ecwid batch trigger reported on other tickets than this task's; failing")
