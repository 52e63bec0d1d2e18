"""EcwidBatchOperator: data -> validated, chunked, idempotent Ecwid batch submissions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from airflow.providers.common.compat.sdk import BaseOperator, Context, conf

from airflow_provider_ecwid.batch.chunks import check_chunk_size
from airflow_provider_ecwid.hooks.ecwid import EcwidHook
from airflow_provider_ecwid.links import EcwidStoreLink
from airflow_provider_ecwid.operators.batch_task import EcwidBatchTaskMixin
from airflow_provider_ecwid.runtime.wait_or_defer import DEFER_GRACE, fail_without_retry
from airflow_provider_ecwid.tickets.verdict import check_fail_on

if TYPE_CHECKING:  # pandas, numpy and pyarrow load when a task runs, not when a DAG file is parsed
    from airflow_provider_ecwid.batch.build import BodyBuilder, NullValues
    from airflow_provider_ecwid.batch.plan import BatchPlan
    from airflow_provider_ecwid.batch.sources import FileFormat


class EcwidBatchOperator(EcwidBatchTaskMixin, BaseOperator):
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
        self.tickets: list[str] = []
        self.expected: dict[str, dict[str, Any]] = {}  # per ticket, what was sent in it

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

    # -- execute ------------------------------------------------------------------------------------------

    def execute(self, context: Context) -> Any:
        """Read and check the rows, then submit them (or only report them, in a dry run) and wait if asked."""
        with fail_without_retry():  # bad input, a refused sync or a 403: another try would fail the same way
            self._start(context)
            plan = self._plan(context)
            return self._send(plan, plan.validate(), context)

    def execute_complete(self, context: Context, event: Any = None) -> Any:
        """Resume after the trigger fired: fail closed on a bad event, else report."""
        return self._report_after_deferral(context, event)
