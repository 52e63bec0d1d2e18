"""Collecting input problems so that all of them are reported together, before anything is sent."""

from __future__ import annotations

from dataclasses import dataclass, field

from airflow_provider_ecwid.errors import NOTHING_SENT, EcwidValidationError

SHOWN_PROBLEMS = 20


@dataclass(frozen=True)
class RowProblem:
    """
    One reason why one input row cannot be sent.

    :param row: the row's 0-based position in the input.
    :param request_id: the request id the row would have had, when known.
    :param column: the column (or request field) at fault.
    :param reason: what is wrong.
    """

    row: int
    request_id: str | None
    column: str
    reason: str

    def __str__(self) -> str:
        who = f"row {self.row}" + (f" (id {self.request_id!r})" if self.request_id is not None else "")
        return f"{who}, column {self.column!r}: {self.reason}"


@dataclass
class ProblemLog:
    """Keeps the first problems and counts them all."""

    keep: int = SHOWN_PROBLEMS
    shown: list[RowProblem] = field(default_factory=list)
    total: int = 0

    def add(self, problem: RowProblem) -> None:
        self.total += 1
        if len(self.shown) < self.keep:
            self.shown.append(problem)

    def extend(self, other: ProblemLog) -> None:
        """Take in the problems another log found (e.g. in another slice)."""
        self.shown.extend(other.shown[: max(self.keep - len(self.shown), 0)])
        self.total += other.total

    def raise_if_any(self, outcome: str = NOTHING_SENT) -> None:
        """
        Raise :class:`EcwidValidationError` when a problem was found.

        :param outcome: what was (not) sent, for the message.
        """
        if self.total:
            raise EcwidValidationError(self.shown, self.total, outcome)
