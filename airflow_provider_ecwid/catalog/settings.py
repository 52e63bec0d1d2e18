"""The sync's own settings, checked when the operator is made, before any call (and without pandas)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal, get_args

from airflow_provider_ecwid.errors import EcwidConfigError

#: How SKUs are mapped to product ids: ``auto`` (the cheaper way), ``scan`` (page the catalog) or ``batch``.
LookupMode = Literal["auto", "scan", "batch"]

#: Seconds between status calls while batched lookups run: GETs run fast, so sooner than the operator's poll.
LOOKUP_POLL_INTERVAL = 2.0


def check_lookup(mode: Any) -> LookupMode:
    """Accept a lookup mode; refuse anything else before the first call."""
    if mode not in get_args(LookupMode):
        raise EcwidConfigError(f"lookup must be 'auto', 'scan' or 'batch', got {mode!r}")
    return mode  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Lookup:
    """
    How the sync maps SKUs to product ids, and how long batched lookups may wait (the operator's own limits).

    :param mode: ``auto`` (the cheaper way), ``scan`` (page the catalog) or ``batch`` (lookups inside batches).
    :param timeout: the most seconds batched lookups may wait in all (None: no limit).
    :param progress_timeout: seconds without a newly completed lookup before failing (None: no limit).
    :param poll_interval: seconds between status calls while they run.
    """

    mode: LookupMode = "auto"
    timeout: float | None = None
    progress_timeout: float | None = 3600.0
    poll_interval: float = LOOKUP_POLL_INTERVAL

    def __post_init__(self) -> None:
        check_lookup(self.mode)

    def deadline(self) -> float | None:
        """The wall-clock time after which waiting fails, counted from now (None: no limit)."""
        return None if self.timeout is None else time.time() + self.timeout
