"""The one ``fail_on`` rule: when do requests that did not complete fail the task?

The batch report (:meth:`~airflow_provider_ecwid.tickets.report.BatchReport.verdict`) and the whole-catalog sync's
summary (:meth:`~airflow_provider_ecwid.catalog.run.CatalogRun.verdict`) both ask :func:`judge`.
"""

from __future__ import annotations

from typing import Any, Literal

from airflow_provider_ecwid.errors import EcwidConfigError

#: ``"any_failed"``, ``"never"``, or the fraction of requests allowed to not complete.
FailOn = Literal["any_failed", "never"] | float


def check_fail_on(fail_on: Any) -> FailOn:
    """Accept "any_failed", "never" or a fraction 0..1 of rows allowed to be not done."""
    if fail_on in ("any_failed", "never"):
        return fail_on  # type: ignore[no-any-return]
    if isinstance(fail_on, int | float) and not isinstance(fail_on, bool) and 0 <= fail_on <= 1:
        return float(fail_on)
    raise EcwidConfigError(f"fail_on must be 'any_failed', 'never' or a fraction from 0 to 1, got {fail_on!r}")


def check_fraction(value: Any, name: str) -> float | None:
    """A fraction from 0 to 1, or None; anything else is a configuration error naming ``name``."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value <= 1:
        raise EcwidConfigError(f"{name} must be a fraction from 0 to 1, or None; got {value!r}")
    return float(value)


def judge(fail_on: FailOn, not_done: int, total: int, unit: str = "rows") -> str | None:
    """
    Why ``not_done`` of ``total`` requests fail the task under ``fail_on``, or None when they do not.

    :param fail_on: the rule (see :func:`check_fail_on`).
    :param not_done: requests that did not complete.
    :param total: requests sent.
    :param unit: what the message calls them.
    """
    if fail_on == "never" or not not_done:
        return None
    if fail_on == "any_failed":
        return f"{not_done:,} of {total:,} {unit} did not complete"
    share = not_done / max(1, total)
    if share > float(fail_on):
        return f"{not_done:,} of {total:,} {unit} did not complete ({share:.1%} > the allowed {fail_on:.1%})"
    return None
