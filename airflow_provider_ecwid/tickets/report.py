"""What happened to every row: a BatchReport built from the final status of each ticket."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from functools import cached_property
from itertools import islice
from typing import Any

from airflow_provider_ecwid.batch.models import BatchStatus, ItemStatus
from airflow_provider_ecwid.tickets.accounting import discrepancy
from airflow_provider_ecwid.tickets.verdict import FailOn, judge

XCOM_ROW_CAP = 100


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
    """
    Counts of one ticket: total, completed, failed, not executed (including missing and unknown), and superseded
    (requests a kill cancelled in this batch that a retry sent again in another one; not in ``total``).
    """

    ticket: str
    total: int
    completed: int
    failed: int
    not_executed: int
    superseded: int = 0


@dataclass
class BatchReport:
    """
    Every row's outcome across the tickets of one submission.

    Only the rows that did not complete are turned into :class:`RowOutcome` up front; the full list (for a
    results file) is built when asked, so a large clean import costs a count per ticket, not an object per row.

    :param tickets: per-ticket counts, in submission order.
    :param statuses: the final status of each ticket, in submission order.
    """

    tickets: list[TicketSummary] = field(default_factory=list)
    statuses: Sequence[BatchStatus] = ()
    discrepancies: list[str] = field(default_factory=list)

    @classmethod
    def from_statuses(
        cls, statuses: Sequence[BatchStatus], expected: Mapping[str, Mapping[str, Any]] | None = None
    ) -> BatchReport:
        """
        Build the report from the final status of each ticket.

        :param statuses: the final status of each ticket, in submission order.
        :param expected: per ticket, what was sent in it (see :mod:`~airflow_provider_ecwid.tickets.accounting`);
            a ticket's total is then the number of requests sent, whatever the answer says.
        """
        tickets, discrepancies = [], []
        for status in statuses:
            wanted = expected.get(status.ticket) if expected is not None else None
            problem = discrepancy(status, wanted)
            if problem is not None:
                discrepancies.append(problem)
            # superseded: requests a kill cancelled here and a retry sent again in a batch of their own
            superseded = int(wanted.get("superseded", 0)) if wanted is not None else 0
            total = int(wanted["requests"]) - superseded if wanted is not None else max(status.total_requests, 0)
            counts = Counter(item.status for item in status.responses)
            completed, failed = counts[ItemStatus.COMPLETED], counts[ItemStatus.FAILED]
            not_executed = max(0, total - completed - failed)  # fail closed: unanswered requests are not done
            tickets.append(TicketSummary(status.ticket, total, completed, failed, not_executed, superseded))
        return cls(tickets, list(statuses), discrepancies)

    def _outcomes(self, *, completed: bool) -> Iterator[RowOutcome]:
        for status, summary in zip(self.statuses, self.tickets, strict=True):
            for item in status.responses:
                if item.status is ItemStatus.COMPLETED and not completed:
                    continue
                if item.status is ItemStatus.NOT_EXECUTED and summary.superseded:
                    continue  # reported by the batch that sent it again
                entity = item.body.get("id") if isinstance(item.body, dict) else None
                yield RowOutcome(
                    status.ticket,
                    item.id,
                    item.status.value,
                    item.http_status_code,
                    item.error_code,
                    item.error_message,
                    entity if item.status is ItemStatus.COMPLETED and isinstance(entity, int | str) else None,
                )
            for _ in range(max(0, summary.total - len(status.responses))):
                yield RowOutcome(status.ticket, None, ItemStatus.MISSING.value)

    @cached_property
    def not_done(self) -> list[RowOutcome]:
        """Rows that did not complete: failed, not executed, unknown or missing."""
        return list(self._outcomes(completed=False))

    @property
    def failed(self) -> list[RowOutcome]:
        return [outcome for outcome in self.not_done if outcome.status == ItemStatus.FAILED]

    def created_pairs(self) -> Iterator[tuple[str, int | str]]:
        """``(request id, the id Ecwid gave the created entity)``, one at a time (no dict of every row)."""
        for status in self.statuses:
            for item in status.responses:
                if item.status is ItemStatus.COMPLETED and item.id is not None and isinstance(item.body, dict):
                    entity = item.body.get("id")
                    if isinstance(entity, int | str):
                        yield item.id, entity

    @property
    def created_ids(self) -> dict[str, int | str]:
        """The id Ecwid gave each created entity, by request id."""
        return dict(self.created_pairs())

    @property
    def total(self) -> int:
        return sum(ticket.total for ticket in self.tickets)

    @property
    def completed(self) -> int:
        return sum(ticket.completed for ticket in self.tickets)

    def verdict(self, fail_on: FailOn) -> str | None:
        """Why the task should fail under ``fail_on``, or None when it should not."""
        if self.discrepancies:  # doubt about what happened is never a success, whatever fail_on allows
            shown = "; ".join(self.discrepancies[:5])
            more = f" (and {len(self.discrepancies) - 5} more ticket(s))" if len(self.discrepancies) > 5 else ""
            return f"the answers do not account for every request sent: {shown}{more}"
        return judge(fail_on, len(self.not_done), self.total)

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
        not_executed = [o.id for o in self.not_done if o.status != ItemStatus.FAILED]
        pairs = self.created_pairs()
        created = dict(islice(pairs, cap))
        created_count = len(created) + sum(1 for _ in pairs)
        return {
            "total": self.total,
            "completed": self.completed,
            "failed_count": len(failed),
            "not_executed_count": len(not_executed),
            "tickets": [asdict(ticket) for ticket in self.tickets],
            "failed": [asdict(row) for row in failed[:cap]],
            "not_executed": not_executed[:cap],
            "created_ids": created,
            "created_count": created_count,
            "discrepancies": self.discrepancies[:cap],
            "truncated": len(failed) > cap or len(not_executed) > cap or created_count > cap,
        }

    def rows(self) -> Iterator[dict[str, Any]]:
        """Every row's outcome as a flat dict (for CSV / JSON Lines audit files)."""
        for outcome in self._outcomes(completed=True):
            yield asdict(outcome)
