"""Collecting input problems so that all of them are reported together, before anything is sent."""

from __future__ import annotations

from dataclasses import dataclass, field

from airflow_provider_ecwid.errors import NOTHING_SENT, EcwidValidationError, RowProblem

__all__ = ["SHOWN_PROBLEMS", "ProblemLog", "RowProblem"]  # RowProblem lives with the error that lists it

SHOWN_PROBLEMS = 20


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
