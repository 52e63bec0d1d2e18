"""The few task-instance pieces an operator touches, for running execute() against the emulator directly.

Real Airflow runs are in tests/e2e; these keep the wire real while the task instance is a small stand-in.
"""

from __future__ import annotations

import copy
import logging
from typing import TYPE_CHECKING, Any, cast

import pytest

if TYPE_CHECKING:
    from airflow.providers.common.compat.sdk import Context


class FakeTaskInstance:
    def __init__(
        self, dag_id: str = "dag", run_id: str = "run-1", task_id: str = "import", map_index: int = -1
    ) -> None:
        self.dag_id, self.run_id, self.task_id, self.map_index = dag_id, run_id, task_id, map_index
        self.try_number = 1
        self.max_tries = 0  # Airflow 2.11's reschedule-mode sensors read it
        self.xcom: dict[str, Any] = {}
        self.pushes: list[tuple[str, Any]] = []

    def xcom_push(self, key: str, value: Any) -> None:
        self.xcom[key] = copy.deepcopy(value)
        self.pushes.append((key, copy.deepcopy(value)))

    def xcom_pull(self, task_ids: Any = None, key: str = "return_value", **_: Any) -> Any:
        return self.xcom.get(key)

    def get_first_reschedule_date(self, context: Any) -> None:  # reschedule-mode sensors ask for it
        return None


class FakeStateStore:
    """Airflow 3.3's task_state_store: get/set of JSON values, kept across tries of one task."""

    def __init__(self) -> None:
        self.values: dict[str, Any] = {}

    def get(self, key: str, default: Any = None) -> Any:
        return self.values.get(key, default)

    def set(self, key: str, value: Any, **_: Any) -> None:
        if value is None:  # as Airflow 3.3's accessor does: a key is removed with delete()
            raise ValueError("Cannot set value as None")
        self.values[key] = value

    def delete(self, key: str) -> None:
        self.values.pop(key, None)


def make_context(ti: FakeTaskInstance | None = None, state_store: FakeStateStore | None = None) -> Context:
    """The few context keys the operators read, typed as Airflow's Context (a TypedDict the fakes only partly fill)."""
    context: dict[str, Any] = {"ti": ti or FakeTaskInstance()}
    if state_store is not None:
        context["task_state_store"] = state_store
    return cast("Context", context)


class TaskLogs:
    """What a task logged: Airflow 3 task loggers write to stdout, plain loggers reach caplog."""

    def __init__(self, capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> None:
        self.capsys, self.caplog = capsys, caplog
        caplog.set_level(logging.DEBUG)
        self._seen = ""

    def text(self) -> str:
        captured = self.capsys.readouterr()
        self._seen += captured.out + captured.err
        return self._seen + self.caplog.text
