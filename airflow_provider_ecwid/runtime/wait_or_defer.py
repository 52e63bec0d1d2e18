"""What the operator and the sensor share once the tickets are known: one way to wait, defer, resume and report.

:class:`WaitOrDefer` is a small collaborator each of them holds (as Databricks' operators share their execute,
defer and ``execute_complete`` code): it waits in the worker with :func:`~airflow_provider_ecwid.tickets.waiting.
wait_for_tickets`, or hands the same poller's position to :class:`~airflow_provider_ecwid.triggers.batch.
EcwidBatchTrigger`, which waits on the newest ticket only; after the trigger fired, :func:`collect_or_defer` reads
each ticket's answer once and turns them into the task's report and verdict.
"""

from __future__ import annotations

import ast
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, NoReturn

from airflow.providers.common.compat.sdk import AirflowException, AirflowFailException, BaseOperator, TaskDeferred

from airflow_provider_ecwid.api.client import EcwidClient
from airflow_provider_ecwid.batch.models import BatchStatus
from airflow_provider_ecwid.errors import NOT_RETRYABLE, EcwidConfigError, EcwidSubmissionKilledError, EcwidWaitError
from airflow_provider_ecwid.runtime.finish import finish
from airflow_provider_ecwid.tickets.accounting import EXPECTED_XCOM_KEY
from airflow_provider_ecwid.tickets.verdict import FailOn
from airflow_provider_ecwid.tickets.waiting import TicketPoller, checked_state, wait_for_tickets
from airflow_provider_ecwid.triggers.batch import NOT_RETRYABLE_REASON, EcwidBatchTrigger

#: Seconds a deferrable task keeps polling in its worker before it defers. A deferral costs a round trip: the task
#: leaves its worker, the triggerer starts the trigger, the scheduler queues the task again and a worker starts it
#: and reads its feed again; from "Pausing task as DEFERRED" to the resumed stint's first line that took 5 to 8 s in
#: tests/deployment, on LocalExecutor and on Celery alike, for batches the store had finished in milliseconds. A
#: phase that finishes within that time is cheaper to wait for here, and it is exactly such a phase that lost tries
#: to Airflow's race between a deferred task's exit and its trigger's early event. 10 s covers the round trip with
#: room; a longer phase still waits in the triggerer, where waiting costs no worker slot.
DEFER_GRACE = 10.0


def grace_waits(grace: float) -> list[float]:
    """The sleeps between the polls within ``grace`` seconds: soon, then less often (5 for the default 10 s)."""
    waits: list[float] = []
    spent, step = 0.0, 0.5
    while spent < grace:
        wait = min(step, grace - spent)
        waits.append(wait)
        spent += wait
        step = min(step * 2, 4.0)
    return waits


#: Seconds after deferring before the trigger's first status read: by then the task has left its worker, so the
#: trigger's event cannot overtake the task's own exit (the race above; Airflow 3.3.2 showed it on a loaded
#: 2-core machine). ``defer_grace=0`` turns both guards off (the tests of deferring itself do).
TRIGGER_FIRST_READ_DELAY = 5.0


@contextmanager
def released_on_deferral() -> Iterator[None]:
    """
    A deferral leaves without the frames it was raised from: its traceback would keep them, and with them the
    whole run (the feed, the store's index), alive while the task is resumed in the same process (``dags test``,
    a triggerer-less test) and builds them again.
    """
    try:
        yield
    except TaskDeferred as deferral:
        raise deferral.with_traceback(None) from None


@contextmanager
def fail_without_retry() -> Iterator[None]:
    """Turn the failures another try cannot fix (see ``errors.NOT_RETRYABLE``) into AirflowFailException."""
    try:
        yield
    except NOT_RETRYABLE as err:
        raise AirflowFailException(f"{type(err).__name__}: {err}") from err


@dataclass
class WaitOrDefer:
    """
    How one task waits on its tickets and reports them.

    :param task: the operator or sensor that waits (it defers, and its logger reports).
    :param conn_id: the ``ecwid`` connection the trigger reads.
    :param poll_interval: seconds between polls.
    :param timeout: seconds the whole wait may take (None: no limit).
    :param progress_timeout: seconds without a newly completed request before failing (None: no limit).
    :param fail_on: which rows that did not complete fail the task.
    :param results_path: where to write every row's outcome, or None.
    :param group_id: the submission's group, for ``cancel_on_kill``.
    :param cancel_on_kill: cancel the group's not-yet-run requests when the deferred task is killed.
    :param defer_grace: seconds a deferrable task polls in its worker before deferring (see :data:`DEFER_GRACE`).
    """

    task: BaseOperator
    conn_id: str
    poll_interval: float
    timeout: float | None
    progress_timeout: float | None
    fail_on: FailOn
    results_path: str | None
    group_id: str | None = None
    cancel_on_kill: bool = False
    defer_grace: float = DEFER_GRACE

    def in_worker(
        self, poller: TicketPoller, expected: Mapping[str, Any] | None, sleep: Callable[[float], None] = time.sleep
    ) -> dict[str, Any]:
        """Wait here, polling between sleeps, then report."""
        deadline = time.time() + self.timeout if self.timeout is not None else None
        try:
            statuses = wait_for_tickets(
                poller,
                poll_interval=self.poll_interval,
                deadline=deadline,
                progress_timeout=self.progress_timeout,
                sleep=sleep,
            )
        except (EcwidWaitError, EcwidSubmissionKilledError) as err:
            raise AirflowException(str(err)) from err
        return self.report(statuses, expected)

    def wait_briefly_or_defer(
        self, poller: TicketPoller, sleep: Callable[[float], None] = time.sleep
    ) -> list[BatchStatus]:
        """
        Poll in the worker for ``defer_grace`` seconds at most; return every ticket's answer (each read once) when
        they finished by then, else defer (no return). With no grace (0), defer at once, without a poll. Each poll
        is a turn of the one wait (``TicketPoller.turn``): the deadlines hold during the grace too.

        :param poller: the tickets' poller, fresh or already polled.
        :param sleep: how to wait between polls (a kill-aware sleep in the task).
        """
        deadline = poller.clock() + self.timeout if self.timeout is not None else None
        for seconds in (0.0, *grace_waits(self.defer_grace)) if self.defer_grace > 0 else ():
            if seconds:
                sleep(seconds)
            try:
                done = poller.turn(deadline, self.progress_timeout)
            except EcwidWaitError as err:
                raise AirflowException(str(err)) from err
            if done:
                if seconds:
                    self.task.log.info("The batches finished within the %.0f s grace: no deferral", self.defer_grace)
                return poller.statuses()
        self.defer(poller)

    def defer(self, poller: TicketPoller) -> NoReturn:
        """Hand the rest of the wait, from the poller's position, to the triggerer."""
        self.task.defer(
            trigger=make_trigger(
                conn_id=self.conn_id,
                tickets=list(poller.tickets),
                poll_interval=self.poll_interval,
                timeout=self.timeout,
                progress_timeout=self.progress_timeout,
                group_id=self.group_id,
                cancel_on_kill=self.cancel_on_kill,
                poller_state=poller.state(),
                first_read_delay=min(TRIGGER_FIRST_READ_DELAY, self.defer_grace),
            ),
            method_name="execute_complete",
        )
        raise AssertionError("defer() returns only by raising TaskDeferred")  # pragma: no cover

    def resume(
        self, client: EcwidClient, event: Any, tickets: Sequence[str], expected: Mapping[str, Any] | None
    ) -> dict[str, Any]:
        """After the trigger fired: fail closed on a bad event, else read each answer once and report."""
        check_event(event, tickets)
        return self.report(self.collect_or_defer(client, tickets), expected)

    def collect_or_defer(self, client: EcwidClient, tickets: Sequence[str]) -> list[BatchStatus]:
        """
        After the trigger saw the newest ticket complete: read every ticket's answer, once each. Should an earlier
        one not be finished (tickets not in submission order), defer again to wait for it (with a new deadline).
        """
        poller = TicketPoller(list(tickets), client.get_batch)
        try:
            collected = poller.collect()
        except EcwidWaitError as err:  # a ticket Ecwid does not know (any more)
            raise AirflowException(str(err)) from err
        if not collected:
            self.defer(poller)
        self.task.log.info("Read the answers of %d ticket(s) in %d status call(s)", len(tickets), poller.calls)
        return poller.statuses()

    def report(self, statuses: Sequence[BatchStatus], expected: Mapping[str, Any] | None) -> dict[str, Any]:
        """The task's report; raises when ``fail_on`` says the task failed."""
        return finish(
            statuses, fail_on=self.fail_on, results_path=self.results_path, log=self.task.log, expected=expected
        )


def normalize_tickets(value: Any) -> list[str]:
    """
    Accept what a task hands over: a list of tickets, one ticket, a list rendered as text by a template, the
    outputs of a mapped operator (a sequence of ticket lists, flattened in map order) or a report.
    """
    if value is None:
        raise EcwidConfigError("tickets is None: pass the batch operator's output or a list of tickets")
    if isinstance(value, str):
        text = value.strip()
        if not text.startswith("["):
            return [text] if text else []
        value = ast.literal_eval(text)
    if isinstance(value, dict):
        if value.get("dry_run") is True:
            return []  # a dry run sent nothing
        if "tickets" not in value:
            raise EcwidConfigError("tickets is a dict without a 'tickets' entry")
        value = [item["ticket"] if isinstance(item, dict) else item for item in value["tickets"]]
    if isinstance(value, str | bytes) or not isinstance(value, Iterable):
        raise EcwidConfigError(f"tickets must be a list of ticket strings, got {type(value).__name__}")
    tickets: list[str] = []
    for item in value:
        if isinstance(item, str | int) and not isinstance(item, bool):
            tickets.append(str(item))
        else:
            tickets.extend(normalize_tickets(item))  # a mapped task's output: one list per map index
    return tickets


def make_trigger(
    *,
    conn_id: str,
    tickets: list[str],
    poll_interval: float,
    timeout: float | None,
    progress_timeout: float | None,
    group_id: str | None,
    cancel_on_kill: bool,
    poller_state: dict[str, Any] | None = None,
    first_read_delay: float = 0.0,
) -> EcwidBatchTrigger:
    """A trigger whose deadlines are wall-clock epochs computed here, on the worker, before deferring."""
    state = checked_state(poller_state, len(tickets))  # a few numbers, whatever the tickets
    state["last_progress_at"] = state["last_progress_at"] or time.time()
    return EcwidBatchTrigger(
        conn_id=conn_id,
        tickets=tickets,
        poll_interval=poll_interval,
        deadline=time.time() + timeout if timeout is not None else None,
        progress_timeout=progress_timeout,
        group_id=group_id,
        cancel_on_kill=cancel_on_kill,
        first_read_at=time.time() + first_read_delay if first_read_delay > 0 else None,
        **state,
    )


def pull_expected(ti: Any, task_id: str, map_index: int | None) -> dict[str, Any] | None:
    """
    The expectations an EcwidBatchOperator task pushed for its tickets (None when there are none).

    :param ti: the running task instance.
    :param task_id: the submitting task.
    :param map_index: its map index; None for every map index of a mapped task (their expectations merged).
    """
    found = ti.xcom_pull(task_ids=task_id, key=EXPECTED_XCOM_KEY, map_indexes=map_index)
    pieces = found if isinstance(found, list) else [found]
    merged: dict[str, Any] = {}
    for piece in pieces:
        if isinstance(piece, Mapping):
            merged.update(piece)
    return merged or None


def check_event(event: Any, tickets: Sequence[str]) -> None:
    """Fail closed on a missing, malformed, failed or foreign trigger event."""
    if not isinstance(event, dict) or "status" not in event:
        raise AirflowException(f"The Ecwid batch trigger ended without a usable event ({event!r:.200}); failing")
    if event["status"] == "error":
        if event.get("reason") == NOT_RETRYABLE_REASON:
            raise AirflowFailException(f"Waiting for Ecwid batches failed: {event.get('message', 'no message')}")
        raise AirflowException(f"Waiting for Ecwid batches failed: {event.get('message', 'no message')}")
    if event["status"] != "success":
        raise AirflowException(f"The Ecwid batch trigger sent an unknown status {event['status']!r}; failing")
    if list(event.get("tickets", [])) != list(tickets):
        raise AirflowException("The Ecwid batch trigger reported on other tickets than this task's; failing")
