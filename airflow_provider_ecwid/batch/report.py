"""What happened to every row: a BatchReport built from the final status of each ticket."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from airflow_provider_ecwid.batch.models import BatchStatus, ItemStatus
from airflow_provider_ecwid.errors import EcwidConfigError

FailOn = Literal["any_failed", "never"] | float
XCOM_ROW_CAP = 100


def check_fail_on(fail_on: Any) -> FailOn:
    """Accept "any_failed", "never" or a fraction 0..1 of rows allowed to be not done."""
    if fail_on in ("any_failed", "never"):
        return fail_on  # type: ignore[no-any-return]
    if isinstance(fail_on, int | float) and not isinstance(fail_on, bool) and 0 <= fail_on <= 1:
        return float(fail_on)
    raise EcwidConfigError(f"fail_on must be 'any_failed', 'never' or a fraction from 0 to 1, got {fail_on!r}")


@dataclass(frozen=True)
class RowOutcome:
    """
    The outcome of one request.

    :param ticket: the batch it was in.
    :param id: the request id (the input row's id).
    :param status: COMPLETED, FAILED, NOT_EXECUTED, UNKNOWN (an unrecognised status) or MISSING (no result).
    :param http_status: the inner call's HTTP status.
    :param error_code: Ecwid's errorCode for a failed row.
    :param error_message: Ecwid's errorMessage for a failed row.
    :param entity_id: the id Ecwid gave a created entity (``{"id": ...}`` answers).
    """

    ticket: str
    id: str | None
    status: str
    http_status: int | None = None
    error_code: str | None = None
    error_message: str | None = None
    entity_id: int | str | None = None


@dataclass(frozen=True)
class TicketSummary:
    """Counts of one ticket: total, completed, failed, not executed (including missing and unknown)."""

    ticket: str
    total: int
    completed: int
    failed: int
    not_executed: int


@dataclass
class BatchReport:
    """
    Every row's outcome across the tickets of one submission.

    :param tickets: per-ticket counts, in submission order.
    :param outcomes: every row's outcome, in order.
    """

    tickets: list[TicketSummary] = field(default_factory=list)
    outcomes: list[RowOutcome] = field(default_factory=list)

    @classmethod
    def from_statuses(cls, statuses: Sequence[BatchStatus]) -> BatchReport:
        """Build the report from the final status of each ticket."""
        report = cls()
        for status in statuses:
            completed = failed = not_executed = 0
            for item in status.responses:
                entity = (
                    item.body.get("id") if isinstance(item.body, dict) and item.status is ItemStatus.COMPLETED else None
                )
                outcome = RowOutcome(
                    status.ticket,
                    item.id,
                    item.status.value,
                    item.http_status_code,
                    item.error_code,
                    item.error_message,
                    entity if isinstance(entity, int | str) else None,
                )
                report.outcomes.append(outcome)
                if item.status is ItemStatus.COMPLETED:
                    completed += 1
                elif item.status is ItemStatus.FAILED:
                    failed += 1
                else:
                    not_executed += 1
            missing = max(0, status.total_requests - len(status.responses))
            for _ in range(missing):  # fail closed: a row without a result is not done
                report.outcomes.append(RowOutcome(status.ticket, None, "MISSING"))
            report.tickets.append(
                TicketSummary(status.ticket, status.total_requests, completed, failed, not_executed + missing)
            )
        return report

    @property
    def total(self) -> int:
        return sum(ticket.total for ticket in self.tickets)

    @property
    def completed(self) -> int:
        return sum(ticket.completed for ticket in self.tickets)

    @property
    def failed(self) -> list[RowOutcome]:
        return [outcome for outcome in self.outcomes if outcome.status == "FAILED"]

    @property
    def not_done(self) -> list[RowOutcome]:
        """Rows that did not complete: failed, not executed, unknown or missing."""
        return [outcome for outcome in self.outcomes if outcome.status != "COMPLETED"]

    @property
    def created_ids(self) -> dict[str, int | str]:
        return {o.id: o.entity_id for o in self.outcomes if o.id is not None and o.entity_id is not None}

    def verdict(self, fail_on: FailOn) -> str | None:
        """Why the task should fail under ``fail_on``, or None when it should not."""
        not_done = len(self.not_done)
        if fail_on == "never" or not not_done:
            return None
        if fail_on == "any_failed":
            return f"{not_done:,} of {self.total:,} rows did not complete"
        share = not_done / self.total if self.total else 0.0
        if share > float(fail_on):
            return f"{not_done:,} of {self.total:,} rows did not complete ({share:.1%} > the allowed {fail_on:.1%})"
        return None

    def failure_table(self, limit: int = 20) -> str:
        """A readable table of the first rows that did not complete."""
        rows = self.not_done[:limit]
        if not rows:
            return "every row completed"
        lines = [f"{'id':<24} {'status':<13} {'http':>4}  {'error code':<28} message"]
        for row in rows:
            lines.append(
                f"{(row.id or '?')[:24]:<24} {row.status:<13} {row.http_status or '':>4}  "
                f"{(row.error_code or '')[:28]:<28} {(row.error_message or '')[:120]}"
            )
        if len(self.not_done) > limit:
            lines.append(f"... and {len(self.not_done) - limit:,} more")
        return "\n".join(lines)

    def to_xcom(self, cap: int = XCOM_ROW_CAP) -> dict[str, Any]:
        """A compact JSON-safe summary: counts, per-ticket counts, the first ``cap`` failures and not-done ids."""
        failed = self.failed
        not_executed = [o.id for o in self.outcomes if o.status != "COMPLETED" and o.status != "FAILED"]
        created = self.created_ids
        return {
            "total": self.total,
            "completed": self.completed,
            "failed_count": len(failed),
            "not_executed_count": len(not_executed),
            "tickets": [asdict(ticket) for ticket in self.tickets],
            "failed": [asdict(row) for row in failed[:cap]],
            "not_executed": not_executed[:cap],
            "created_ids": dict(list(created.items())[:cap]),
            "created_count": len(created),
            "truncated": len(failed) > cap or len(not_executed) > cap or len(created) > cap,
        }

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every row's outcome as a flat dict (for CSV / JSON Lines audit files)."""
        for outcome in self.outcomes:
            yield asdict(outcome)
