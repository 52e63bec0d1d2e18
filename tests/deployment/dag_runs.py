"""Driving DAG runs through Airflow's REST API (v2), as a user's tooling would: shared by both configurations."""

from __future__ import annotations

import json
from typing import Any

from tests.deployment.deployment import Deployment, DeploymentError

FINISHED = {"success", "failed"}
RUN_TIMEOUT = 150


def wait_for_dags(deployment: Deployment, dag_ids: set[str]) -> None:
    """Wait until the DAG processor has parsed ``dag_ids``; fail at once on an import error."""

    def parsed() -> bool:
        errors = deployment.api("GET", "/importErrors")
        if errors["total_entries"]:
            raise DeploymentError(f"import errors: {json.dumps(errors)[:3000]}\n{deployment.where_to_look()}")
        parsed_ids = {dag["dag_id"] for dag in deployment.api("GET", "/dags", params={"limit": 100})["dags"]}
        return dag_ids <= parsed_ids

    deployment.wait_for("the DAG processor to parse the example DAGs", parsed, timeout=120)


def trigger(deployment: Deployment, dag_id: str, run_id: str, conf: dict[str, Any] | None = None) -> None:
    deployment.api(
        "POST", f"/dags/{dag_id}/dagRuns", json={"dag_run_id": run_id, "logical_date": None, "conf": conf or {}}
    )


def task_state(deployment: Deployment, dag_id: str, run_id: str, task_id: str) -> str | None:
    ti = deployment.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}")
    state: str | None = ti["state"]
    return state


def wait_for_run(
    deployment: Deployment, dag_id: str, run_id: str, watch: str | None = None, timeout: float = RUN_TIMEOUT
) -> tuple[dict[str, Any], list[str | None]]:
    """Wait until the run finishes; return it and the states seen of task ``watch`` (in order, without repeats).

    :param timeout: seconds for the run to finish (a queued run's wait counts).
    """
    seen: list[str | None] = []

    def finished() -> dict[str, Any] | None:
        if watch is not None:
            state = task_state(deployment, dag_id, run_id, watch)
            if not seen or seen[-1] != state:
                seen.append(state)
        run = deployment.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}")
        return run if run["state"] in FINISHED else None

    run = deployment.wait_for(f"run {run_id} of {dag_id}", finished, timeout=timeout, every=0.3)
    return run, seen


def xcom(deployment: Deployment, dag_id: str, run_id: str, task_id: str, key: str = "return_value") -> Any:
    entry = deployment.api(
        "GET",
        f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/xcomEntries/{key}",
        params={"deserialize": "true", "stringify": "false"},
    )
    return entry["value"]


def assert_succeeded(deployment: Deployment, run: dict[str, Any]) -> None:
    if run["state"] != "success":
        states = deployment.api("GET", f"/dags/{run['dag_id']}/dagRuns/{run['dag_run_id']}/taskInstances")
        summary = {ti["task_id"]: ti["state"] for ti in states["task_instances"]}
        raise DeploymentError(
            f"run {run['dag_run_id']} of {run['dag_id']} ended {run['state']}: {summary}\n{deployment.where_to_look()}"
        )


def assert_deferred(
    deployment: Deployment, dag_id: str, run_id: str, task_id: str, states: list[str | None], *, once: bool = True
) -> None:
    """The task was seen deferred, the triggerer ran its trigger (once, or once per deferral), and it finished in
    one try (a trigger that ended in an error event would have failed it: ``execute_complete`` fails closed)."""
    assert "deferred" in states, f"{task_id} never deferred: {states}"
    assert states[-1] == "success"
    task_logs = deployment.home / "logs" / f"dag_id={dag_id}" / f"run_id={run_id}" / f"task_id={task_id}"
    trigger_logs = list(task_logs.glob("attempt=1.log.trigger.*.log"))
    assert trigger_logs, f"no log of the triggerer's run of the trigger under {task_logs}"
    assert len(trigger_logs) == 1 or not once, f"more than one trigger ran: {trigger_logs}"
    tries = deployment.api("GET", f"/dags/{dag_id}/dagRuns/{run_id}/taskInstances/{task_id}/tries")
    assert [attempt["state"] for attempt in tries["task_instances"]] == ["success"]  # one try: deferring is no retry
