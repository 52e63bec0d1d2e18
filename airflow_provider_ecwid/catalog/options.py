"""The sync's own option values, checked when the operator is made, before any call (and without pandas)."""

from __future__ import annotations

from typing import Any, Literal, get_args

from airflow_provider_ecwid.errors import EcwidConfigError

#: How SKUs are mapped to product ids: ``auto`` (the cheaper way), ``scan`` (page the catalog) or ``batch``.
LookupMode = Literal["auto", "scan", "batch"]


def check_lookup(mode: Any) -> LookupMode:
    """Accept a lookup mode; refuse anything else before the first call."""
    if mode not in get_args(LookupMode):
        raise EcwidConfigError(f"lookup must be 'auto', 'scan' or 'batch', got {mode!r}")
    return mode  # type: ignore[no-any-return]
