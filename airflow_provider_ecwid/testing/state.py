"""Everything the emulator remembers: stores, tokens, batches, deduplication keys, counters, rate windows.

Shared between the event loop that serves HTTP and the Python handle used by tests, so every access goes
through one lock. Time that matters to Ecwid's rules (deduplication, rate windows, 449 windows) is read
from :meth:`EmulatorState.now`, which tests can move forward.
"""

from __future__ import annotations

import math
import random
import threading
import time
from collections import Counter, deque
from typing import Any

from airflow_provider_ecwid.testing.answers import EcwidFault, not_found
from airflow_provider_ecwid.testing.batches import Batch, BatchItem, new_ticket
from airflow_provider_ecwid.testing.config import EmulatorConfig
from airflow_provider_ecwid.testing.sales import CUSTOMERS, ORDERS, Churn, Sales
from airflow_provider_ecwid.testing.store import Store
from airflow_provider_ecwid.testing.tracking import ChangeLog, to_seconds


class EmulatorState:
    """
    The emulator's memory.

    :param config: the knobs.
    """

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.lock = threading.RLock()
        self.reset()

    def reset(self) -> None:
        """Forget every product, batch, counter and rate window; keep the configuration."""
        with self.lock:
            for batch in getattr(self, "batches", {}).values():
                batch.deleted = True  # queued or running work of the old state stops
            self.stores = {store_id: self._new_store(store_id) for store_id in self.config.stores}
            self.token_store = {token: sid for sid, tokens in self.config.stores.items() for token in tokens}
            self.rng = random.Random(self.config.seed)
            self.calls: Counter[tuple[str, str, str, int]] = Counter()
            #: inner requests by store, method, endpoint and status (what one store carried out)
            self.inner_calls: Counter[tuple[int, str, str, int]] = Counter()
            self.rate_windows: dict[str, deque[float]] = {}
            self.batches: dict[str, Batch] = {}
            self.dedup: dict[tuple[int, str], tuple[str, float]] = {}
            self.clock_offset = 0.0
            self.first_call_at: float | None = None  # 449 windows count from the first API call
            #: while True, no queued batch starts (the running one finishes): a test's way to make work wait
            self.processing_held = False

    def _new_store(self, store_id: int) -> Store:
        """A store as configured: an empty catalog, and the configured customers and orders."""
        config = self.config
        changes = self._change_log()
        churn = Churn(config.churn_updates, config.churn_deletes, config.seed)
        store = Store(store_id, changes=changes, sales=Sales(changes.stamp, config.order_prefix, churn))
        start, end = to_seconds(config.seeded_from), to_seconds(config.seeded_to)
        for kind, count in ((CUSTOMERS, config.customers), (ORDERS, config.orders)):
            if count:
                store.sales.seed(kind, count, start, end, config.seed or 0)
        return store

    # -- orders and customers ------------------------------------------------------------------------------

    def seed_sales(
        self,
        store_id: int,
        kind: str,
        count: int,
        updated_from: int | str | None = None,
        updated_to: int | str | None = None,
        seed: int | None = None,
    ) -> dict[str, Any]:
        """Seed ``count`` orders or customers in a store (see :meth:`Sales.seed`); dates as UNIX seconds or text."""
        start, end = to_seconds(updated_from), to_seconds(updated_to)
        with self.lock:
            store = self._store(store_id)
            if end is None:
                end = store.changes.stamp()
            return store.sales.seed(kind, count, start, end, (self.config.seed or 0) if seed is None else seed)

    def set_churn(self, store_id: int, updates: int, deletes: int, seed: int | None = None) -> dict[str, Any]:
        """Set a store's change-during-read knob; its log starts afresh. Return its report."""
        with self.lock:
            sales = self._store(store_id).sales
            sales.churn = Churn(updates, deletes, seed)
            return sales.churn.report()

    def churn_report(self, store_id: int) -> dict[str, Any]:
        """What a store's change-during-read knob is set to, and every change it made."""
        with self.lock:
            return self._store(store_id).sales.churn.report()

    def _store(self, store_id: int) -> Store:
        store = self.stores.get(store_id)
        if store is None:
            raise KeyError(f"no store {store_id}; stores: {sorted(self.stores)}")
        return store

    # -- time --------------------------------------------------------------------------------------------

    def _change_log(self) -> ChangeLog:
        config = self.config
        return ChangeLog(self.now, config.timestamp_resolution, config.nested_changes_move_product)

    def now(self) -> float:
        return time.time() + self.clock_offset

    def advance_clock(self, seconds: float) -> None:
        with self.lock:
            self.clock_offset += seconds

    def _since_first_call(self) -> float:
        with self.lock:
            if self.first_call_at is None:
                self.first_call_at = self.now()
            return self.now() - self.first_call_at

    def import_locked(self) -> bool:
        elapsed = self._since_first_call()
        return any(start <= elapsed < start + length for start, length in self.config.import_lock_windows)

    def lock_imports(self, seconds: float) -> None:
        """Answer 449 to catalog writes for the next ``seconds``."""
        with self.lock:
            self.config.import_lock_windows.append((self._since_first_call(), seconds))

    def hold_processing(self, held: bool) -> None:
        """Start no queued batch while ``held`` (the batch running finishes); release with ``False``."""
        with self.lock:
            self.processing_held = held

    # -- auth and limits ---------------------------------------------------------------------------------

    def authenticate(self, store_id: str, authorization: str | None, query_has_token: bool) -> str:
        """Return the caller's token, or raise EcwidFault(403) as Ecwid does (it never uses 401)."""
        if query_has_token:
            raise EcwidFault(403, "INVALID_API_TOKEN", "Tokens in the query string are not accepted")
        scheme, _, token = (authorization or "").partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise EcwidFault(403, "INVALID_API_TOKEN", "No API token in the Authorization header")
        owner = self.token_store.get(token.strip())
        if owner is None or str(owner) != store_id:
            raise EcwidFault(403, "INVALID_API_TOKEN", "The API token is not valid for this store")
        self._since_first_call()
        return token.strip()

    def check_rate(self, token: str) -> None:
        """Count a call against the token's rolling minute; raise EcwidFault(429) past the limit."""
        limit = self.config.rate_limit_per_minute
        if not limit:
            return
        now = self.now()
        with self.lock:
            window = self.rate_windows.setdefault(token, deque())
            span = self.config.rate_limit_window
            while window and window[0] <= now - span:
                window.popleft()
            if len(window) >= limit:
                wait = max(1, math.ceil(window[0] + span - now))
                raise EcwidFault(
                    429,
                    "RATE_LIMITED",
                    f"Too many requests: {limit} per {span:g} s allowed",
                    headers={"Retry-After": str(wait)},
                )
            window.append(now)

    def count(self, scope: str, method: str, endpoint: str, status: int, store_id: int | None = None) -> None:
        with self.lock:
            self.calls[(scope, method, endpoint, status)] += 1
            if store_id is not None:
                self.inner_calls[(store_id, method, endpoint, status)] += 1

    # -- batches -----------------------------------------------------------------------------------------

    def create_batch(self, store_id: int, items: list[BatchItem], params: dict[str, str]) -> tuple[Batch, bool]:
        """Return ``(batch, is_new)``; a known deduplicationKey within the TTL returns the first batch."""
        key = params.get("deduplicationKey") or None
        with self.lock:
            if key is not None:
                known = self.dedup.get((store_id, key))
                if known is not None and self.now() - known[1] < self.config.deduplication_ttl:
                    return self.batches[known[0]], False
            batch = Batch(
                ticket=new_ticket(),
                store_id=store_id,
                items=items,
                stop_on_first_failure=params.get("stopOnFirstFailure", "true").lower() != "false",
                parallel=params.get("allowParallelMode", "false").lower() == "true",
                group_id=params.get("groupId") or None,
                deduplication_key=key,
            )
            self.batches[batch.ticket] = batch
            if key is not None:
                self.dedup[(store_id, key)] = (batch.ticket, self.now())
            return batch, True

    def find_batch(self, store_id: int, ticket: str) -> Batch:
        batch = self.batches.get(ticket)
        if batch is None or batch.store_id != store_id or batch.deleted:
            raise not_found(f"Batch with ticket {ticket!r} not found", "BATCH_NOT_FOUND")
        return batch

    def delete_batch(self, store_id: int, ticket: str) -> int:
        with self.lock:
            batch = self.find_batch(store_id, ticket)
            if batch.state != "QUEUED":
                return 0
            batch.deleted = True
            return 1

    def cancel_group(self, store_id: int, group_id: str) -> int:
        """Mark every not-yet-run request of the group as NOT_EXECUTED; return how many."""
        updated = 0
        with self.lock:
            for batch in self.batches.values():
                if batch.store_id != store_id or batch.group_id != group_id or batch.deleted:
                    continue
                for item in batch.items:
                    if item.status is None:
                        item.status = "NOT_EXECUTED"
                        updated += 1
                if batch.state == "QUEUED":
                    batch.state = "COMPLETED"
        return updated

    def list_batches(self, store_id: int, status: str | None) -> list[dict[str, str]]:
        with self.lock:
            return [
                {"ticket": batch.ticket, "status": batch.state}
                for batch in self.batches.values()
                if batch.store_id == store_id and not batch.deleted and (status is None or batch.state == status)
            ]

    # -- inspection --------------------------------------------------------------------------------------

    def stats(self) -> dict[str, Any]:
        with self.lock:
            rows = [
                {"scope": scope, "method": method, "endpoint": endpoint, "status": status, "count": count}
                for (scope, method, endpoint, status), count in sorted(self.calls.items())
            ]
            by_store = [
                {"store_id": store_id, "method": method, "endpoint": endpoint, "status": status, "count": count}
                for (store_id, method, endpoint, status), count in sorted(self.inner_calls.items())
            ]
        return {
            "calls": rows,
            "inner_by_store": by_store,
            "http_total": sum(row["count"] for row in rows if row["scope"] == "http"),
            "inner_total": sum(row["count"] for row in rows if row["scope"] == "inner"),
        }
