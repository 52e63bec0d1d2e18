"""How far a whole-catalog sync got: what crosses a deferral (XCom) and a retry (Airflow 3.3's task state store).

The progress holds ids and SKU sets only, never the feed (a resumed try reads the feed again) and never the
store's listing: the store's categories are read once, before the first category level, and its products once,
when the products phase is planned; what later phases need of them (product and variation ids, the parents
whose options differ, the variation changes of known products) is kept here, small and JSON-serialisable.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd

from airflow_provider_ecwid.catalog.categories import Path
from airflow_provider_ecwid.catalog.phase_runner import PhaseResult

#: XCom and task-state-store key of the progress.
PROGRESS_KEY = "ecwid_sync_progress"
#: Joins a category path's levels in the progress (JSON keys are text; no category name holds this character).
PATH_JOIN = "\x1f"
#: How many failed requests and held-back SKUs the summary lists (it counts all of them).
LISTED = 100


@dataclass
class Pending:
    """
    A phase submitted and not yet waited for.

    :param phase: its name (``categories-2``, ``products``...).
    :param tickets: its tickets.
    :param expected: what each ticket holds (see ``tickets.accounting``).
    :param skus: SKUs the phase was planned for (products: the rows sent; categories: the level's paths).
    :param targets: its requests by id: ``[method, path]`` (only when the sync writes a results file).
    """

    phase: str
    tickets: list[str]
    expected: dict[str, dict[str, Any]]
    skus: list[str] = field(default_factory=list)
    targets: dict[str, list[str]] = field(default_factory=dict)


@dataclass
class SyncProgress:
    """
    How far one task run's whole-catalog sync got.

    :param step: the step to plan next (or whose pending phase to settle): a phase's name (``catalog.phases``), or
        ``done``.
    :param depth: category levels done.
    :param category_ids: the store's categories and those created, joined path -> id (None: not read yet).
    :param product_ids: feed SKU -> product id (the store's, then those created).
    :param created_products: SKUs this sync created.
    :param options_stale: known products whose options differ from the feed's.
    :param variation_requests: known product SKU -> its variation requests (planned with the store's listing).
    :param variation_ids: variation SKU -> its id in the store.
    :param new_variations: variation SKUs this sync created.
    :param blocked: SKU -> why it was not sent (a phase it needed failed).
    :param sent: requests sent per phase.
    :param failed_count: requests that did not complete, all phases.
    :param failed: the first of them, by SKU and phase.
    :param product_changes: the products phase's new / changed / unchanged counts.
    :param pending: the phase submitted and not yet settled.
    :param run_key: this sync's own name in the task state store: a sync that starts over (after a verdict, or a
        cleared task) gets a new one, so it never takes an earlier sync's chunk tickets for its own.
    :param state_keys: the task-state-store keys its phases wrote (deleted when the sync ends).
    :param feed_digest: a fingerprint of the checked feed; a resumed sync refuses a feed that changed under it.
    :param outcomes: every request's outcome, phase by phase (only when the sync writes a results file; see
        ``catalog.outcomes``).
    """

    step: str = "categories"
    depth: int = 0
    category_ids: dict[str, int] | None = None
    product_ids: dict[str, int] = field(default_factory=dict)
    created_products: list[str] = field(default_factory=list)
    options_stale: list[str] = field(default_factory=list)
    variation_requests: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    variation_ids: dict[str, int] = field(default_factory=dict)
    new_variations: list[str] = field(default_factory=list)
    blocked: dict[str, str] = field(default_factory=dict)
    sent: dict[str, int] = field(default_factory=dict)
    failed_count: int = 0
    failed: list[dict[str, Any]] = field(default_factory=list)
    product_changes: dict[str, int] = field(default_factory=dict)
    pending: Pending | None = None
    run_key: str = field(default_factory=lambda: uuid.uuid4().hex)
    state_keys: list[str] = field(default_factory=list)
    feed_digest: str = ""
    outcomes: list[dict[str, Any]] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_json(cls, value: dict[str, Any]) -> SyncProgress:
        values = dict(value)
        pending = values.pop("pending", None)
        return cls(**values, pending=Pending(**pending) if pending else None)

    def paths(self) -> dict[Path, int]:
        return {tuple(key.split(PATH_JOIN)): value for key, value in (self.category_ids or {}).items()}

    def keep_paths(self, ids: dict[Path, int]) -> None:
        self.category_ids = {PATH_JOIN.join(path): value for path, value in ids.items()}

    def record(self, phase: str, result: PhaseResult, failures: Sequence[dict[str, Any]] | None = None) -> None:
        """
        Add a settled round of a phase: what it sent (even nothing), and its failures by SKU and phase.

        :param phase: the phase's name (each category level adds to ``categories``).
        :param result: what the round's batches did.
        :param failures: its failures as the summary lists them (default: every request that did not complete).
        """
        self.sent[phase] = self.sent.get(phase, 0) + result.sent
        found = list(result.failures() if failures is None else failures)
        self.failed_count += len(found)
        self.failed = (self.failed + found)[:LISTED]


def feed_digest(frame: pd.DataFrame) -> str:
    """A fingerprint of a checked feed (its columns, values and order): a resumed sync compares it."""
    digest = hashlib.sha256()
    for name, column in frame.items():
        digest.update(f"{name}\x1f".encode())
        try:
            hashed = pd.util.hash_pandas_object(column, index=False)
        except TypeError:  # lists (a gallery column): by their text
            hashed = pd.util.hash_pandas_object(column.map(repr), index=False)
        digest.update(hashed.to_numpy().tobytes())
    return digest.hexdigest()
