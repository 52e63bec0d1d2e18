"""EcwidBatchOperator: data -> validated, chunked, idempotent Ecwid batch submissions."""

from __future__ import annotations

import time
import uuid
from collections.abc import Sequence
from functools import cached_property
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import AirflowException, BaseOperator, Context, conf

from airflow_provider_ecwid.api.client import EcwidClient
from airflow_provider_ecwid.batch.chunks import DEDUPLICATION_NAMESPACE, check_chunk_size
from airflow_provider_ecwid.errors import EcwidConfigError, EcwidSubmissionKilledError
from airflow_provider_ecwid.hooks.ecwid import EcwidHook
from airflow_provider_ecwid.lineage import foreign_catalog_outlets, operator_lineage
from airflow_provider_ecwid.links import ADMIN_URL_XCOM_KEY, EcwidStoreLink, admin_url
from airflow_provider_ecwid.tasks import storage
from airflow_provider_ecwid.tasks.ticket_wait import DEFER_GRACE, TicketWait, fail_without_retry, pull_expected
from airflow_provider_ecwid.tickets.report import BatchReport
from airflow_provider_ecwid.tickets.results import check_results_path
from airflow_provider_ecwid.tickets.submission import TICKETS_XCOM_KEY, Submission
from airflow_provider_ecwid.tickets.verdict import check_fail_on
from airflow_provider_ecwid.tickets.waiting import TicketPoller

if TYPE_CHECKING:  # pandas, numpy and pyarrow load when a task runs, not when a DAG file is parsed
    from airflow_provider_ecwid.batch.build import BodyBuilder, NullValues
    from airflow_provider_ecwid.batch.plan import BatchPlan, PlanSummary
    from airflow_provider_ecwid.batch.sources import FileFormat, InputSource


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


class EcwidBatchOperator(BaseOperator):
    """
    Send rows to Ecwid's batch API: validate every row, cut them into batches, submit, return the tickets.

    Input (``data``, templated): a pandas DataFrame, a list of dicts (rows), a list of ready batch requests
    (``{"id"?, "path", "method", "body"?}`` dicts or ``BatchRequest`` objects), or the path / URL of a CSV,
    Parquet or JSON Lines file (local, ``file://``, or any ObjectStoragePath scheme such as ``s3://``), read in
    slices.

    Every row is checked before the first call; problems are reported together and nothing is sent. Each batch
    carries a deterministic ``deduplicationKey`` (a retry within the hour gets the same ticket) and the task
    run's ``groupId`` (cancelled by ``on_kill``). On Airflow 3.3+ each ticket is also kept in the task's state
    store, so a retried try resumes after the last submitted batch.

    :param data: the input (see above).
    :param path: the request path template, e.g. ``/products/{ecwid_id}``; fields are input columns. Not
        needed for ready requests.
    :param method: the HTTP method of every request (default POST).
    :param method_column: a column holding each row's method instead.
    :param body_columns: the columns that make the body; default all columns not used by the path template or
        ``method_column`` (an ``id_column`` such as ``sku`` stays in the body).
    :param body: a callable ``row -> dict`` that builds each body (nested options, attributes, categoryIds).
    :param id_column: a column holding each request's id (unique); default the row's position.
    :param null_values: ``"omit"`` (default) leaves empty fields out; ``"null"`` sends them as null.
    :param chunk_size: requests per batch, 1 to 500 (default 500).
    :param stop_on_first_failure: Ecwid's default True: the rest of a batch is NOT_EXECUTED after a failure.
    :param allow_parallel_mode: let Ecwid run up to 100 requests of a batch at once. Only safe when no request
        depends on another one in the same batch (e.g. updates of distinct products, never a create and an
        update of the same product).
    :param dry_run: validate, log a summary and return it (with the first requests as the JSON they would be
        sent as); send nothing.
    :param wait_for_completion: wait for the batches and return the report instead of the tickets.
    :param deferrable: wait in the triggerer (default ``[operators] default_deferrable``).
    :param poll_interval: seconds between status calls while waiting (the last ticket may be polled sooner,
        when it should finish).
    :param wait_timeout: the most seconds to wait in all (None: no limit).
    :param progress_timeout: seconds without a newly completed request before failing (None: no limit).
    :param defer_grace: with ``deferrable=True``, seconds to keep polling in the worker before deferring (default
        10): batches that finish sooner cost no deferral round trip (5 to 8 s measured), and cannot race it.
    :param fail_on: when waiting: ``"any_failed"`` (default), ``"never"``, or the fraction of rows allowed to
        not complete.
    :param results_path: when waiting: write every row's outcome to this ``.csv`` / ``.jsonl`` path or URL.
    :param file_format: ``csv``, ``parquet`` or ``jsonl`` when the file's suffix does not say.
    :param read_options: extra keyword arguments for the file reader (e.g. ``{"dtype": {"sku": "str"}}``).
    :param ecwid_conn_id: the ``ecwid`` connection.

    To schedule other DAGs on "the catalog changed", give the task that finishes the import
    ``outlets=[ecwid_catalog_asset(store_id)]`` (:mod:`airflow_provider_ecwid.lineage`); with the OpenLineage
    provider installed, the task reports the feed file and the store's catalog as its lineage.
    """

    template_fields: Sequence[str] = (
        "data",
        "path",
        "method",
        "method_column",
        "id_column",
        "body_columns",
        "results_path",
        "file_format",
        "ecwid_conn_id",
        "is_dry_run",
        "stop_on_first_failure",
    )
    operator_extra_links = (EcwidStoreLink(),)
    ui_color = "#3fb4e0"

    def __init__(
        self,
        *,
        data: Any,
        path: str | None = None,
        method: str = "POST",
        method_column: str | None = None,
        body_columns: Sequence[str] | None = None,
        body: BodyBuilder | None = None,
        id_column: str | None = None,
        null_values: NullValues = "omit",
        chunk_size: int = 500,
        stop_on_first_failure: bool = True,
        allow_parallel_mode: bool = False,
        dry_run: bool = False,
        wait_for_completion: bool = False,
        deferrable: bool = conf.getboolean("operators", "default_deferrable", fallback=False),
        poll_interval: float = 10.0,
        wait_timeout: float | None = None,
        progress_timeout: float | None = 3600.0,
        defer_grace: float = DEFER_GRACE,
        fail_on: Any = "any_failed",
        results_path: str | None = None,
        file_format: FileFormat | None = None,
        read_options: dict[str, Any] | None = None,
        ecwid_conn_id: str = EcwidHook.default_conn_name,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        self.data = data
        self.path = path
        self.method = method
        self.method_column = method_column
        self.body_columns = body_columns
        self.body = body
        self.id_column = id_column
        self.null_values = null_values
        self.chunk_size = check_chunk_size(chunk_size)
        self.stop_on_first_failure = stop_on_first_failure
        self.allow_parallel_mode = allow_parallel_mode
        self.is_dry_run = dry_run  # BaseOperator already has a dry_run() method
        self.wait_for_completion = wait_for_completion
        self.deferrable = deferrable
        self.poll_interval = poll_interval
        self.wait_timeout = wait_timeout
        self.progress_timeout = progress_timeout
        self.defer_grace = defer_grace
        self.fail_on = check_fail_on(fail_on)
        self.results_path = results_path
        self.file_format = file_format
        self.read_options = read_options
        self.ecwid_conn_id = ecwid_conn_id
        self.group_id: str | None = None
        self.tickets: list[str] = []
        self.expected: dict[str, dict[str, Any]] = {}  # per ticket, what was sent in it
        self.submission: Submission | None = None
        # what this try did, for OpenLineage (get_openlineage_facets_on_complete)
        self.store_id: str | None = None
        self.rows_read: int | None = None
        self.rows_written: int | None = None

    @cached_property
    def hook(self) -> EcwidHook:
        """The hook of ``ecwid_conn_id``, made on first use."""
        return EcwidHook(self.ecwid_conn_id)

    # -- planning -----------------------------------------------------------------------------------------

    def _plan(self, context: Context) -> BatchPlan:
        from airflow_provider_ecwid.batch.build import RequestBuilder
        from airflow_provider_ecwid.batch.plan import BatchPlan

        builder = RequestBuilder(
            path=self.path,
            method=self.method,
            method_column=self.method_column,
            body_columns=self.body_columns,
            body=self.body,
            id_column=self.id_column,
            null_values=self.null_values,
        )
        return BatchPlan(self._source(), builder, self.chunk_size)

    def _source(self) -> InputSource:
        """The input, as the source registry recognises it (a DataFrame, rows, ready requests or a file)."""
        from airflow_provider_ecwid.batch.sources import make_source

        source = make_source(
            self.data, opener=storage.open_input, file_format=self.file_format, read_options=self.read_options
        )
        self.log.info("Reading %s", source.describe())
        return source

    @staticmethod
    def _identity(context: Context) -> str:
        ti = context["ti"]
        return f"{ti.dag_id}|{ti.run_id}|{ti.task_id}|{getattr(ti, 'map_index', -1)}"

    # -- execute ------------------------------------------------------------------------------------------

    def execute(self, context: Context) -> Any:
        """Read and check the rows, then submit them (or only report them, in a dry run) and wait if asked."""
        with fail_without_retry():  # bad input, a refused sync or a 403: another try would fail the same way
            self._start(context)
            plan = self._plan(context)
            return self._send(plan, plan.validate(), context)

    def _start(self, context: Context) -> None:
        """Check the flags (they may come from a rendered template) and push the store's admin link."""
        check_results_path(self.results_path)
        # both may come from a rendered template (e.g. a Params form): accept "true"/"false" text too
        self.is_dry_run = as_bool(self.is_dry_run, "dry_run")
        self.stop_on_first_failure = as_bool(self.stop_on_first_failure, "stop_on_first_failure")
        self._push_admin_link(context)

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
        identity = self._identity(context)
        self.group_id = str(uuid.uuid5(DEDUPLICATION_NAMESPACE, f"group|{identity}"))
        self.tickets = self._submit(plan, summary, client, identity, context)
        self.rows_written = summary.requests
        if not self.wait_for_completion:
            return self.tickets
        poller = TicketPoller(self.tickets, client.get_batch)
        if not self.deferrable:
            return self._written(self._waiter().in_worker(poller, self.expected, sleep=self._sleep_unless_killed))
        statuses = self._waiter().wait_briefly_or_defer(poller, sleep=self._sleep_unless_killed)
        return self._written(self._waiter().report(statuses, self.expected))

    def _waiter(self) -> TicketWait:
        return TicketWait(
            task=self,
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

    def _sleep_unless_killed(self, seconds: float) -> None:
        if self.submission is None:
            time.sleep(seconds)
        elif self.submission.killed.wait(seconds):
            self.submission.check_killed()

    def execute_complete(self, context: Context, event: Any = None) -> Any:
        """Resume after the trigger fired: fail closed on a bad event, else report."""
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

        :param task_instance: the finished task instance (unused: this operator remembers what it did).
        """
        return operator_lineage(self.data, self.store_id, self.rows_read, self.rows_written)

    def on_kill(self) -> None:
        """Cancel the not-yet-run requests of this task run's group and stop submitting (best effort, logged)."""
        if self.submission is not None:
            self.submission.kill()
            return
        if not self.group_id:
            return
        try:
            count = self.hook.get_conn().cancel_group(self.group_id)
            self.log.info("on_kill: cancelled %d not-yet-run request(s) of group %s", count, self.group_id)
        except Exception as err:
            self.log.warning("on_kill: could not cancel group %s: %s", self.group_id, err)
