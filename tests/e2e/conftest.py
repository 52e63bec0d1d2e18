"""End-to-end runs: a real Airflow (its own AIRFLOW_HOME and SQLite database) runs DAGs against the emulator."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_ecwid.testing import EcwidEmulator
from tests.conftest import FERNET_KEY

AIRFLOW = str(Path(sys.executable).with_name("airflow"))

#: What `airflow dags test` logs when a task defers: Airflow 3 pauses it, Airflow 2.11 runs the trigger in line.
DEFERRAL_LINES = ("Pausing task as DEFERRED", "[DAG TEST] running trigger in line")


def deferred(output: str) -> bool:
    """Whether a task of this `airflow dags test` output deferred to a trigger.

    :param output: the command's stdout and stderr.
    """
    return any(line in output for line in DEFERRAL_LINES)


def without_airflows_mask_requests(output: str) -> str:
    """The output less the lines in which Airflow 3.0's `dags test` logs, at debug level, a task's request to mask a
    secret (``MaskSecret(value='...')``, the secret included): those are Airflow's own lines, not the provider's.

    :param output: the command's stdout and stderr.
    """
    return "\n".join(line for line in output.splitlines() if "MaskSecret" not in line)


@dataclass
class AirflowHome:
    home: Path
    dags: Path

    def latest_run(self, dag_id: str) -> RunRecord:
        """What the metadata database holds of the DAG's latest run (`airflow dags test` writes it there)."""
        return RunRecord(self.home / "airflow.db", dag_id)

    def env(self, emulator: EcwidEmulator, conn_extra: dict[str, Any] | None = None, **extra: str) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "E2E_", "PYTEST_"))
        }
        env.update(
            AIRFLOW_HOME=str(self.home),
            AIRFLOW__CORE__DAGS_FOLDER=str(self.dags),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__CORE__FERNET_KEY=FERNET_KEY,
            AIRFLOW_CONN_ECWID_DEFAULT=emulator.connection_json(**(conn_extra or {})),
        )
        env.update(extra)
        return env

    def dags_test(
        self, dag_id: str, emulator: EcwidEmulator, conn_extra: dict[str, Any] | None = None, **env: str
    ) -> subprocess.CompletedProcess[str]:
        return self.dags_test_with_conf(dag_id, emulator, None, conn_extra, **env)

    def dags_test_with_conf(
        self,
        dag_id: str,
        emulator: EcwidEmulator,
        conf: dict[str, Any] | None,
        conn_extra: dict[str, Any] | None = None,
        **env: str,
    ) -> subprocess.CompletedProcess[str]:
        environment = self.env(emulator, conn_extra, **env)
        command = [AIRFLOW, "dags", "test", dag_id] + (["-c", json.dumps(conf)] if conf else [])
        return subprocess.run(
            command,
            env=environment,
            capture_output=True,
            text=True,
            timeout=600,
        )


class RunRecord:
    """
    The latest run of one DAG as the metadata database (SQLite) holds it: its task states and XComs.

    The tests read these instead of matching sentences in the command's output. The columns read here are the
    same on every Airflow row (2.11 to 3.3).

    :param database: the SQLite file of the Airflow home.
    :param dag_id: the DAG.
    """

    def __init__(self, database: Path, dag_id: str) -> None:
        self.database = database
        self.dag_id = dag_id
        [self.run_id] = self._query("SELECT run_id FROM dag_run WHERE dag_id = ? ORDER BY id DESC LIMIT 1", dag_id)[0]

    def _query(self, sql: str, *parameters: object) -> list[tuple[Any, ...]]:
        with contextlib.closing(sqlite3.connect(self.database)) as connection:
            rows = connection.execute(sql, parameters).fetchall()
        assert rows, f"nothing in {self.database} for {sql} {parameters}"
        return rows

    def task_states(self) -> dict[str, str | None]:
        """Task id (with ``[map index]`` for a mapped task) -> its state."""
        rows = self._query(
            "SELECT task_id, map_index, state FROM task_instance WHERE dag_id = ? AND run_id = ?",
            self.dag_id,
            self.run_id,
        )
        return {(task if index < 0 else f"{task}[{index}]"): state for task, index, state in rows}

    def try_number(self, task_id: str) -> int:
        """How many tries the (unmapped) task took."""
        rows = self._query(
            "SELECT try_number FROM task_instance WHERE dag_id = ? AND run_id = ? AND task_id = ? AND map_index < 0",
            self.dag_id,
            self.run_id,
            task_id,
        )
        return int(rows[0][0])

    def xcom(self, task_id: str, key: str = "return_value", map_index: int = -1) -> Any:
        """The value a task pushed, as JSON (Airflow 3 stores JSON, Airflow 2.11 JSON bytes)."""
        [(raw,)] = self._query(
            "SELECT value FROM xcom WHERE dag_id = ? AND run_id = ? AND task_id = ? AND key = ? AND map_index = ?",
            self.dag_id,
            self.run_id,
            task_id,
            key,
            map_index,
        )
        value = json.loads(raw)
        return json.loads(value) if isinstance(value, str) and value[:1] in ("{", "[") else value


@pytest.fixture(scope="session")
def airflow_home(tmp_path_factory: pytest.TempPathFactory) -> AirflowHome:
    """One migrated Airflow home for the session, with the test DAGs and the example DAGs."""
    home = tmp_path_factory.mktemp("airflow-home")
    dags = Path(__file__).parent / "dags"
    env = {key: value for key, value in os.environ.items() if not key.startswith("AIRFLOW__")}
    env.update(
        AIRFLOW_HOME=str(home),
        AIRFLOW__CORE__DAGS_FOLDER=str(dags),
        AIRFLOW__CORE__LOAD_EXAMPLES="False",
        AIRFLOW__CORE__FERNET_KEY=FERNET_KEY,
    )
    subprocess.run([AIRFLOW, "db", "migrate"], env=env, capture_output=True, check=True, timeout=600)
    return AirflowHome(home, dags)
