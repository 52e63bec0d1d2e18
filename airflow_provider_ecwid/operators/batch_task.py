"""What the Ecwid operators share, by composition: the hook, the task run's identity and batch group, sending a
validated plan, the waiter, the report after a deferral, the lineage and ``on_kill``.

:class:`EcwidBatchTaskMixin` goes before ``BaseOperator`` in an operator's bases. It declares the attributes it
reads; each operator sets them in its own ``__init__`` from its own arguments, so no
operator subclasses another, and each one's signature and templated fields hold only what it uses.
"""

from __future__ import annotations

import time
import uuid
from functools import cached_property
from typing import TYPE_CHECKING, Any, cast

from airflow.providers.common.compat.sdk import AirflowException, Context

from airflow_provider_ecwid.batch.chunks import DEDUPLICATION_NAMESPACE
from airflow_provider_ecwid.errors import EcwidConfigError, EcwidSubmissionKilledError
from airflow_provider_ecwid.hooks.ecwid import EcwidHook
from airflow_provider_ecwid.lineage import foreign_catalog_outlets, operator_lineage
from airflow_provider_ecwid.links import ADMIN_URL_XCOM_KEY, admin_url
from airflow_provider_ecwid.runtime import storage
from airflow_provider_ecwid.runtime.wait_or_defer import WaitOrDefer, fail_without_retry, pull_expected
from airflow_provider_ecwid.tickets.report import BatchReport
from airflow_provider_ecwid.tickets.results_file import check_results_path
from airflow_provider_ecwid.tickets.submission import TICKETS_XCOM_KEY, Submission
from airflow_provider_ecwid.tickets.waiting import TicketPoller

if TYPE_CHECKING:  # pandas, numpy and pyarrow load when a task runs, not when a DAG file is parsed
    from airflow.providers.common.compat.sdk import BaseOperator

    from airflow_provider_ecwid.api.client import EcwidClient
    from airflow_provider_ecwid.batch.plan import BatchPlan, PlanSummary
    from airflow_provider_ecwid.batch.sources import FileFormat, InputSource
    from airflow_provider_ecwid.tickets.verdict import FailOn


def as_bool(value: Any, name: str) -> bool:
    """A flag given as a bool or as text (``true``/``false``, ``1``/``0``, ``yes``/``no``)."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("true", "1", "yes", "on"):
        return True
    if text in ("false", "0", "no", "off", ""):
        return False
    raise EcwidConfigError(f"{name} must be true or false, got {value!r}")


def is_template(value: Any) -> bool:
    """Whether an argument is still a Jinja template (it is checked once rendered, when the task runs)."""
    return isinstance(value, str) and ("{{" in value or "{%" in value)


def group_id_of(identity: str) -> str:
    """The batch group of a task run: every batch it sends joins it, and a kill cancels it."""
    return str(uuid.uuid5(DEDUPLICATION_NAMESPACE, f"group|{identity}"))


def run_identity(context: Context) -> str:
    """A task run's identity (dag, run, task, map index): the base of every deduplication key and of its group."""
    ti = context["ti"]
    return f"{ti.dag_id}|{ti.run_id}|{ti.task_id}|{getattr(ti, 'map_index', -1)}"


def cancel_group(hook: EcwidHook, group_id: str | None, log: Any) -> None:
    """``on_kill``: cancel the not-yet-run requests of a task run's group (best effort, logged)."""
    if not group_id:
        return
    try:
        count = hook.get_conn().cancel_group(group_id)
        log.info("on_kill: cancelled %d not-yet-run request(s) of group %s", count, group_id)
    except Exception as err:
        log.warning("on_kill: could not cancel group %s: %s", group_id, err)


class EcwidBatchTaskMixin:
    """
    The parts every Ecwid operator has: see the module's docstring.

    The annotations without a value are what the mixin reads of the operator: each operator sets them from its own
    arguments (``log`` and ``task_id`` are ``BaseOperator``'s). Those with a value are what this try did.
    """

    if TYPE_CHECKING:
        log: Any  # BaseOperator's logger (its type differs between Airflow versions)
    task_id: str
    ecwid_conn_id: str
    data: Any
    file_format: FileFormat | None
    read_options: dict[str, Any] | None
    stop_on_first_failure: bool
    allow_parallel_mode: bool
    is_dry_run: bool
    wait_for_completion: bool
    deferrable: bool
    poll_interval: float
    wait_timeout: float | None
    progress_timeout: float | None
    defer_grace: float
    fail_on: FailOn
    results_path: str | None

    group_id: str | None = None
    submission: Submission | None = None
    #: the tickets this try submitted, and what each one holds
    tickets: list[str]
    expected: dict[str, dict[str, Any]]
    #: what this try did, for OpenLineage (``get_openlineage_facets_on_complete``)
    store_id: str | None = None
    rows_read: int | None = None
    rows_written: int | None = None

    @cached_property
    def hook(self) -> EcwidHook:
        """The hook of ``ecwid_conn_id``, made on first use."""
        return EcwidHook(self.ecwid_conn_id)

    def _source(self) -> InputSource:
        """The input, as the source registry recognises it (a DataFrame, rows, ready requests or a file)."""
        from airflow_provider_ecwid.batch.sources import make_source

        source = make_source(
            self.data, opener=storage.open_input, file_format=self.file_format, read_options=self.read_options
        )
        self.log.info("Reading %s", source.describe())
        return source

    def _open_group(self, context: Context) -> str:
        """This task run's identity (dag, run, task, map index), the base of every deduplication key; it also
        names the batch group that ``on_kill`` cancels."""
        identity = run_identity(context)
        self.group_id = group_id_of(identity)
        return identity

    def _start(self, context: Context) -> None:
        """Check the flags (they may come from a rendered template) and push the store's admin link."""
        check_results_path(self.results_path)
        # both may come from a rendered template (e.g. a Params form): accept "true"/"false" text too
        self.is_dry_run = as_bool(self.is_dry_run, "dry_run")
        self.stop_on_first_failure = as_bool(self.stop_on_first_failure, "stop_on_first_failure")
        self._push_admin_link(context)

    def _push_admin_link(self, context: Context) -> None:
        """The "Ecwid store" link's target, pushed first, so the link works when nothing is sent too."""
        try:
            self.store_id = store_id = self.hook.get_conn().store_id
        except Exception as err:  # a dry run may have no usable connection: it needs none
            self.log.info("No link to the store's admin: connection %r is not usable (%s)", self.ecwid_conn_id, err)
            return
        context["ti"].xcom_push(key=ADMIN_URL_XCOM_KEY, value=admin_url(store_id))
        for uri in foreign_catalog_outlets(getattr(self, "outlets", None) or (), store_id):
            self.log.warning(
                "Outlet %s names another store than connection %r (store %s)", uri, self.ecwid_conn_id, store_id
            )

    def _send(self, plan: BatchPlan, summary: PlanSummary, context: Context) -> Any:
        """Submit a validated plan (or only report it, in a dry run), then wait if asked."""
        self.log.info("Validated: %s", "\n".join(summary.lines()))
        self.rows_read = summary.requests
        if self.is_dry_run:
            self.log.info("Dry run: nothing was sent to Ecwid.")
            return {
                "dry_run": True,
                "requests": summary.requests,
                "chunks": summary.chunks,
                "by_pattern": dict(summary.by_pattern),
                # each the JSON text its batch would hold, byte for byte
                "first_requests": [request.decode() for request in summary.first_requests],
            }
        if not summary.requests:
            self.log.info("The input is empty: nothing to send.")
            self.rows_written = 0
            return BatchReport().to_xcom() if self.wait_for_completion else []
        client = self.hook.get_conn()
        identity = self._open_group(context)
        self.tickets = self._submit(plan, summary, client, identity, context)
        self.rows_written = summary.requests
        if not self.wait_for_completion:
            return self.tickets
        poller = TicketPoller(self.tickets, client.get_batch)
        if not self.deferrable:
            return self._written(self._waiter().in_worker(poller, self.expected, sleep=self._sleep_unless_killed))
        statuses = self._waiter().wait_briefly_or_defer(poller, sleep=self._sleep_unless_killed)
        return self._written(self._waiter().report(statuses, self.expected))

    def _submit(
        self, plan: BatchPlan, summary: PlanSummary, client: EcwidClient, identity: str, context: Context
    ) -> list[str]:
        assert self.group_id is not None
        self.submission = Submission(
            client,
            identity=identity,
            group_id=self.group_id,
            ti=context["ti"],
            state_store=context.get("task_state_store"),  # Airflow 3.3+: survives retries of this task
            stop_on_first_failure=self.stop_on_first_failure,
            allow_parallel_mode=self.allow_parallel_mode,
        )
        try:
            tickets = self.submission.run(plan.chunks(), summary.chunks, summary.requests)
        except EcwidSubmissionKilledError as err:
            raise AirflowException(str(err)) from err
        self.expected = self.submission.expected
        return tickets

    def _waiter(self) -> WaitOrDefer:
        return WaitOrDefer(
            task=cast("BaseOperator", self),  # the mixin is only ever an operator's
            conn_id=self.ecwid_conn_id,
            poll_interval=self.poll_interval,
            timeout=self.wait_timeout,
            progress_timeout=self.progress_timeout,
            fail_on=self.fail_on,
            results_path=self.results_path,
            group_id=self.group_id,
            cancel_on_kill=True,
            defer_grace=self.defer_grace,
        )

    def _sleep_unless_killed(self, seconds: float) -> None:
        if self.submission is None:
            time.sleep(seconds)
        elif self.submission.killed.wait(seconds):
            self.submission.check_killed()

    def _report_after_deferral(self, context: Context, event: Any) -> Any:
        """Resume after the trigger fired: fail closed on a bad event, else report the submitted batches."""
        ti = context["ti"]
        map_index = getattr(ti, "map_index", None)
        tickets = list(ti.xcom_pull(task_ids=self.task_id, key=TICKETS_XCOM_KEY, map_indexes=map_index) or [])
        expected = pull_expected(ti, self.task_id, map_index)
        client = self.hook.get_conn()
        self.store_id = client.store_id
        with fail_without_retry():
            return self._written(self._waiter().resume(client, event, tickets, expected))

    def _written(self, report: dict[str, Any]) -> dict[str, Any]:
        """Keep the completed rows for the lineage's output count; return the report."""
        self.rows_written = int(report["completed"])
        return report

    def get_openlineage_facets_on_complete(self, task_instance: Any) -> Any:
        """
        OpenLineage: the feed file (if ``data`` is a path or URL) -> the store's catalog, with row counts.

        :param task_instance: the finished task instance (unused: the operator remembers what it did).
        """
        return operator_lineage(self.data, self.store_id, self.rows_read, self.rows_written)

    def on_kill(self) -> None:
        """Cancel the not-yet-run requests of this task run's group and stop submitting (best effort, logged)."""
        if self.submission is not None:
            self.submission.kill()
            return
        cancel_group(self.hook, self.group_id, self.log)
