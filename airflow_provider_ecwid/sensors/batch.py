"""EcwidBatchSensor: waits on batch tickets and reports every row's outcome."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cached_property
from typing import Any

from airflow.providers.common.compat.sdk import (
    AirflowException,
    BaseSensorOperator,
    Context,
    PokeReturnValue,
    conf,
)

from airflow_provider_ecwid.batch.models import BatchStatus
from airflow_provider_ecwid.errors import EcwidWaitError
from airflow_provider_ecwid.hooks.ecwid import EcwidHook
from airflow_provider_ecwid.runtime.wait_or_defer import (
    DEFER_GRACE,
    WaitOrDefer,
    fail_without_retry,
    normalize_tickets,
    pull_expected,
)
from airflow_provider_ecwid.tickets.report import BatchReport
from airflow_provider_ecwid.tickets.results_file import check_results_path
from airflow_provider_ecwid.tickets.verdict import check_fail_on
from airflow_provider_ecwid.tickets.waiting import TicketPoller

#: Airflow 3.3's task state store: the poller's position (``TicketPoller.state``), between the pokes of a
#: reschedule-mode sensor.
WAIT_STATE_KEY = "ecwid_ticket_wait"


class EcwidBatchSensor(BaseSensorOperator):
    """
    Wait until Ecwid has run every batch of ``tickets``; return a report of every row's outcome.

    Batches of one store run in order, so only the newest unfinished ticket is polled, and every ticket's answer
    is read once, when it finished (see ``tickets.waiting``); progress is judged on where the store is, reading
    the oldest unfinished ticket when the newest shows no change for a while. In ``mode="reschedule"``, where
    Airflow makes a new sensor for every poke, the poller's position is kept between pokes in Airflow 3.3's task
    state store (on older Airflow only ``timeout`` bounds that wait). Waiting fails closed:
    an unknown ticket, a time-out, no progress for ``progress_timeout``, or an unusable trigger event fail the
    task. Rows that did not complete fail the task according to ``fail_on``.

    :param tickets: the tickets (templated), e.g. the output of ``EcwidBatchOperator``.
    :param ecwid_conn_id: the ``ecwid`` connection.
    :param progress_timeout: seconds without a newly completed request before failing (default one hour;
        None: no limit; a batch stuck in one state, known or not, fails then). The total limit is the sensor's
        ``timeout``.
    :param defer_grace: with ``deferrable=True``, seconds to keep polling in the worker before deferring (default
        10): batches that finish sooner cost no deferral round trip (5 to 8 s measured), and cannot race it.
    :param fail_on: ``"any_failed"`` (default), ``"never"``, or the fraction of rows allowed not to complete.
    :param results_path: where to write every row's outcome (``.csv`` or ``.jsonl``; local or an
        ObjectStoragePath URL such as ``s3://bucket/results.csv``); templated.
    :param deferrable: wait in the triggerer (default ``[operators] default_deferrable``).
    :param group_id: the submission's group, for ``cancel_on_kill``.
    :param cancel_on_kill: cancel the group's not-yet-run requests when the task is killed.
    """

    template_fields: Sequence[str] = ("tickets", "ecwid_conn_id", "results_path", "group_id")

    def __init__(
        self,
        *,
        tickets: Any,
        ecwid_conn_id: str = EcwidHook.default_conn_name,
        progress_timeout: float | None = 3600.0,
        defer_grace: float = DEFER_GRACE,
        fail_on: Any = "any_failed",
        results_path: str | None = None,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        group_id: str | None = None,
        cancel_on_kill: bool = False,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.tickets = tickets
        self.ecwid_conn_id = ecwid_conn_id
        self.progress_timeout = progress_timeout
        self.defer_grace = defer_grace
        self.fail_on = check_fail_on(fail_on)
        self.results_path = results_path
        self.deferrable = deferrable
        self.group_id = group_id
        self.cancel_on_kill = cancel_on_kill
        self._poller: TicketPoller | None = None
        # tickets=some_operator.output: that task also pushed what each ticket holds, to check the answers
        self.submitted_by: str | None = _submitting_task(tickets)
        self._expected: dict[str, Any] | None = None

    @cached_property
    def hook(self) -> EcwidHook:
        """The hook of ``ecwid_conn_id``, made on first use."""
        return EcwidHook(self.ecwid_conn_id)

    def _ticket_list(self) -> list[str]:
        return normalize_tickets(self.tickets)

    def _waiter(self) -> WaitOrDefer:
        return WaitOrDefer(
            task=self,
            conn_id=self.ecwid_conn_id,
            poll_interval=self.poke_interval,
            timeout=self.timeout,
            progress_timeout=self.progress_timeout,
            fail_on=self.fail_on,
            results_path=self.results_path,
            group_id=self.group_id,
            cancel_on_kill=self.cancel_on_kill,
            defer_grace=self.defer_grace,
        )

    def poke(self, context: Context) -> PokeReturnValue | bool:
        """Poll once; when every ticket has finished, return the report as the XCom value."""
        with fail_without_retry():
            statuses = self._poll(context)
        if statuses is None:
            return False
        return PokeReturnValue(is_done=True, xcom_value=self._waiter().report(statuses, self._expected))

    def _poll(self, context: Context) -> list[BatchStatus] | None:
        """
        One poll of the newest unfinished ticket (every answer read once, when it completed). Poke and deferrable
        modes keep the poller in memory from poke to poke; in reschedule mode Airflow makes a new sensor for every
        poke, so the poller's position goes to Airflow 3.3's task state store, and progress_timeout holds across
        pokes (without a state store only the sensor's timeout bounds the wait).
        """
        store = context.get("task_state_store") if self.reschedule else None
        if self._poller is None:
            check_results_path(self.results_path)
            self._poller = TicketPoller(self._ticket_list(), self.hook.get_conn().get_batch)
            if store is not None:
                self._poller.restore(store.get(WAIT_STATE_KEY))
        progress_timeout = None if self.reschedule and store is None else self.progress_timeout
        try:
            if self._poller.turn(None, progress_timeout):  # the total limit is the sensor's own timeout
                self._expected = self._pull_expected(context)
                return self._poller.statuses()
        except EcwidWaitError as err:
            raise AirflowException(str(err)) from err
        if store is not None:
            store.set(WAIT_STATE_KEY, self._poller.state())
        return None

    def _pull_expected(self, context: Context) -> dict[str, Any] | None:
        expected = pull_expected(context["ti"], self.submitted_by, None) if self.submitted_by else None
        if expected is None:
            self.log.info(
                "What each ticket holds is not known (tickets not from an EcwidBatchOperator's output); "
                "each answer is checked against itself only"
            )
        return expected

    def execute(self, context: Context) -> Any:
        """Wait for the tickets (poking, or deferring to :class:`EcwidBatchTrigger`) and return the report."""
        tickets = self._ticket_list()
        if not tickets:
            self.log.info("No tickets to wait for.")
            return BatchReport().to_xcom()
        if not self.deferrable:
            return super().execute(context)
        result = self.poke(context)
        if isinstance(result, PokeReturnValue):
            return result.xcom_value
        assert self._poller is not None
        statuses = self._waiter().wait_briefly_or_defer(self._poller)
        return self._waiter().report(statuses, self._pull_expected(context))

    def execute_complete(self, context: Context, event: Any = None) -> Any:
        """Resume after the trigger fired: fail closed on a bad event, else report."""
        expected = self._pull_expected(context)
        with fail_without_retry():
            return self._waiter().resume(self.hook.get_conn(), event, self._ticket_list(), expected)


def _submitting_task(tickets: Any) -> str | None:
    """The task id behind ``tickets=operator.output`` (an XComArg of a return value), else None."""
    if getattr(tickets, "key", None) != "return_value":
        return None
    task_id = getattr(getattr(tickets, "operator", None), "task_id", None)
    return task_id if isinstance(task_id, str) else None
