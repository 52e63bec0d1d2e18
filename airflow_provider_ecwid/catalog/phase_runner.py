"""Running one phase of a whole-catalog sync: submit its batches, wait until they ran, say what each row became.

Later phases need ids that earlier ones create (a new product's id before its variations and images), so each
phase waits for its own batches before the next one is planned. Every phase is a submission of its own, with
deduplication keys derived from the task run, the phase's name and the chunk's content: a retried task that
plans the same requests within the hour gets the same tickets back instead of sending them twice. On Airflow
3.3 each phase's tickets are also kept in the task state store, under the phase's name.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import KW_ONLY, dataclass, field
from typing import Any

from airflow_provider_ecwid.api.client import EcwidClient
from airflow_provider_ecwid.batch.chunks import EncodedChunk, request_targets
from airflow_provider_ecwid.batch.models import BatchStatus
from airflow_provider_ecwid.batch.plan import BatchPlan, PlanSummary
from airflow_provider_ecwid.catalog.request_ids import sku_of
from airflow_provider_ecwid.tickets.report import BatchReport
from airflow_provider_ecwid.tickets.state import StateStore
from airflow_provider_ecwid.tickets.submission import Submission
from airflow_provider_ecwid.tickets.waiting import TicketPoller, wait_for_tickets

log = logging.getLogger(__name__)


#: The columns of a whole-catalog sync's results file, one row per request sent.
OUTCOME_FIELDS = (
    "phase",
    "sku",
    "method",
    "path",
    "status",
    "http_status",
    "error_code",
    "error_message",
    "id",
    "ticket",
)


@dataclass
class PhaseResult:
    """
    What one phase sent and what became of it.

    :param phase: the phase's name.
    :param report: the report of its batches (empty when it sent nothing).
    """

    phase: str
    report: BatchReport = field(default_factory=BatchReport)

    @property
    def sent(self) -> int:
        return self.report.total

    def created(self) -> dict[str, int]:
        """Request id -> the id Ecwid gave the created entity."""
        return dict(self.iter_created())

    def iter_created(self) -> Iterator[tuple[str, int]]:
        """Request id -> created id, one pair at a time (a phase of 750,000 creates builds no dict of them)."""
        for key, value in self.report.created_pairs():
            if str(value).isdigit():
                yield key, int(value)

    def failed_ids(self) -> set[str]:
        return {row.id for row in self.report.not_done if row.id is not None}

    def failures(self) -> list[dict[str, Any]]:
        """Every request that did not complete, with its SKU (the part of its id after the first colon)."""
        return [
            {
                "phase": self.phase,
                "sku": sku_of(row.id or ""),
                "request": row.id,
                "status": row.status,
                "http_status": row.http_status,
                "error_code": row.error_code,
                "error_message": row.error_message,
            }
            for row in self.report.not_done
        ]

    def outcomes(self, targets: Mapping[str, Sequence[str]]) -> list[dict[str, Any]]:
        """
        Every request's outcome, for a results file (see :data:`OUTCOME_FIELDS`).

        :param targets: the phase's requests by id: ``[method, path]``.
        """
        rows = []
        for row in self.report.rows():
            method, path = targets.get(row["id"] or "", ("", ""))
            rows.append(
                {
                    "phase": self.phase,
                    "sku": sku_of(row["id"] or ""),
                    "method": method,
                    "path": path,
                    **{name: row[name] for name in ("status", "http_status", "error_code", "error_message")},
                    "id": row["id"],
                    "ticket": row["ticket"],
                }
            )
        return rows


class PhaseStateStore:
    """
    Airflow 3.3's task state store, with every key kept apart per sync and phase (chunk 0 of one phase is not
    another's, nor an earlier sync's).

    :param store: the task's state store.
    :param phase: the phase's name.
    :param namespace: the sync's own key (``SyncProgress.run_key``).
    :param written: where to note each key written, so that the sync can delete them when it ends.
    """

    def __init__(self, store: StateStore, phase: str, namespace: str = "", written: list[str] | None = None) -> None:
        self.store = store
        self.prefix = f"ecwid_phase:{namespace}:{phase}:"
        self.written = written if written is not None else []

    def get(self, key: str, default: Any = None) -> Any:
        return self.store.get(self.prefix + key, default)

    def set(self, key: str, value: Any) -> None:
        if self.prefix + key not in self.written:
            self.written.append(self.prefix + key)
        self.store.set(self.prefix + key, value)

    def delete(self, key: str) -> None:
        self.store.delete(self.prefix + key)


@dataclass
class PhaseRunner:
    """
    Submits the phases of one task try and waits for them in the worker.

    :param client: the store's client.
    :param identity: the task run (dag, run, task, map index), the base of every deduplication key.
    :param group_id: the task run's batch group (``on_kill`` cancels it).
    :param ti: the task instance, for XCom.
    :param chunk_size: requests per batch.
    :param poll_interval: seconds between status calls.
    :param progress_timeout: seconds without a newly completed request before giving up.
    :param sleep: how to wait between status calls (stops early when the task is killed).
    :param state_store: Airflow 3.3's task state store, or None: each phase's chunks are kept there (under the
        phase's name), so a retried try resumes a phase at the chunk it reached.
    :param namespace: the sync's own key in the state store (see ``PhaseStateStore``).
    :param state_keys: where the keys written to the state store are noted.
    :param on_submission: told of each phase's ``Submission`` as it starts (the operator's ``on_kill`` stops it).
    :param record_targets: note each request's method and path as it is sent (in ``targets``, per phase), for
        a results file.
    """

    client: EcwidClient
    _: KW_ONLY
    identity: str
    group_id: str
    ti: Any
    chunk_size: int
    poll_interval: float
    progress_timeout: float | None
    sleep: Callable[[float], None]
    state_store: StateStore | None = None
    namespace: str = ""
    state_keys: list[str] = field(default_factory=list)
    on_submission: Callable[[Submission], None] | None = None
    record_targets: bool = False
    submission: Submission | None = field(default=None, init=False)
    #: the last phase's requests by id: [method, path] (only when ``record_targets``)
    targets: dict[str, list[str]] = field(default_factory=dict, init=False)

    def phase_store(self, phase: str) -> PhaseStateStore | None:
        """The state store as the phase's submission sees it (None without a state store)."""
        if self.state_store is None:
            return None
        return PhaseStateStore(self.state_store, phase, self.namespace, self.state_keys)

    def submit(
        self, phase: str, plan: BatchPlan, summary: PlanSummary, *, parallel: bool
    ) -> tuple[list[str], dict[str, dict[str, Any]]]:
        """Send a plan's batches as one phase; return the tickets and what each holds (see ``tickets.accounting``)."""
        log.info("Phase %s: %s request(s) in %s batch(es)", phase, f"{summary.requests:,}", f"{summary.chunks:,}")
        self.submission = Submission(
            self.client,
            identity=f"{self.identity}|phase:{phase}",
            group_id=self.group_id,
            ti=self.ti,
            state_store=self.phase_store(phase),
            stop_on_first_failure=False,  # one bad row must not stop its neighbours
            allow_parallel_mode=parallel,
        )
        if self.on_submission is not None:
            self.on_submission(self.submission)
        self.targets = {}
        tickets = self.submission.run(self._noted(plan.chunks()), summary.chunks, summary.requests)
        return tickets, self.submission.expected

    def _noted(self, chunks: Iterable[EncodedChunk]) -> Iterator[EncodedChunk]:
        """The chunks as they go, their requests' methods and paths noted when a results file wants them."""
        for chunk in chunks:
            if self.record_targets:
                self.targets.update({key: list(target) for key, target in request_targets(chunk.payload).items()})
            yield chunk

    def wait(self, tickets: Sequence[str]) -> list[BatchStatus]:
        """Wait here until every ticket's batch ran."""
        poller = TicketPoller(list(tickets), self.client.get_batch)
        return wait_for_tickets(
            poller,
            poll_interval=self.poll_interval,
            deadline=None,
            progress_timeout=self.progress_timeout,
            sleep=self.sleep,
        )


def settle(phase: str, statuses: Sequence[BatchStatus], expected: Mapping[str, Mapping[str, Any]]) -> PhaseResult:
    """What a phase's finished batches did."""
    result = PhaseResult(phase, BatchReport.from_statuses(statuses, expected))
    log.info("Phase %s done: %d completed, %d did not", phase, result.report.completed, len(result.report.not_done))
    return result
