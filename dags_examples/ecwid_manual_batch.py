"""Manual correction: send a few batch requests by hand from the Airflow UI.

Press "Trigger DAG" and fill in the form: the connection, then either a file of ready requests (JSON Lines or
CSV with ``id``, ``method``, ``path`` and ``body`` columns) or an inline JSON list of requests such as
``[{"method": "PUT", "path": "/products/123", "body": {"price": 9.5}}]``. Keep "dry run" on to only validate
and see a summary in the log; switch it off to send. The sensor then reports every request's outcome.
"""

from __future__ import annotations

import json
from typing import Any

import pendulum
from airflow.providers.common.compat.sdk import Param, dag, task

from airflow_provider_ecwid.operators.batch import EcwidBatchOperator
from airflow_provider_ecwid.sensors.batch import EcwidBatchSensor


@dag(
    schedule=None,
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    tags=["ecwid", "example"],
    render_template_as_native_obj=True,
    doc_md=__doc__,
    params={
        "ecwid_conn_id": Param(
            "ecwid_default", type="string", title="Connection", description="The Ecwid connection to use."
        ),
        "file_path": Param(
            None,
            type=["null", "string"],
            title="File of requests",
            description="A path or URL (file://, s3://...) of a .jsonl or .csv file of ready requests. "
            "Leave empty to use the inline list below.",
        ),
        "requests_json": Param(
            '[{"method": "PUT", "path": "/products/123", "body": {"price": 9.5}}]',
            type="string",
            title="Inline requests (JSON)",
            description='A JSON list such as [{"method": "PUT", "path": "/products/123", "body": {"price": 9.5}}].',
        ),
        "dry_run": Param(True, type="boolean", title="Dry run", description="Only validate and summarise."),
        "stop_on_first_failure": Param(
            True,
            type="boolean",
            title="Stop on first failure",
            description="Ecwid skips the rest of a batch after a failed request (its default).",
        ),
    },
)
def ecwid_manual_batch() -> None:
    @task
    def choose_input(params: dict[str, Any] | None = None) -> Any:
        """The file path if one was given, else the inline list (checked to be a JSON list)."""
        assert params is not None
        if (params["file_path"] or "").strip():
            return params["file_path"].strip()
        requests = json.loads(params["requests_json"])
        if not isinstance(requests, list) or not requests:
            raise ValueError("Give a file of requests or a non-empty inline JSON list of requests.")
        return requests

    send = EcwidBatchOperator(
        task_id="send_requests",
        data=choose_input(),
        ecwid_conn_id="{{ params.ecwid_conn_id }}",
        # templates: the operator turns the rendered "True"/"False" into a bool (its signature says bool)
        dry_run="{{ params.dry_run }}",  # type: ignore[arg-type]
        stop_on_first_failure="{{ params.stop_on_first_failure }}",  # type: ignore[arg-type]
        chunk_size=100,
    )
    EcwidBatchSensor(
        task_id="report",
        tickets=send.output,
        ecwid_conn_id="{{ params.ecwid_conn_id }}",
        poke_interval=2,
        timeout=3600,
        deferrable=True,  # waits in the triggerer, not in a worker slot (Airflow's own default is False)
    )


ecwid_manual_batch()
