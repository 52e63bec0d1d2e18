"""A real Airflow deployment for tests: the emulator, then Airflow's API server, scheduler, DAG processor and
triggerer (LocalExecutor, SQLite) in a temporary AIRFLOW_HOME with the example DAGs, each process in a process
group of its own, logging to a file of its own, and all stopped by process group when the session ends.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import requests

from airflow_provider_ecwid.testing.server import DEFAULT_STORE_ID, DEFAULT_TOKEN, count_calls
from tests.conftest import FERNET_KEY
from tests.waiting import WaitTimedOut, wait_until

AIRFLOW = str(Path(sys.executable).with_name("airflow"))
EXAMPLES = Path(__file__).resolve().parents[2] / "dags_examples"
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
USER = "admin"
#: 1,000 products x 10 ms of emulated processing: the nightly import's sensor finds work pending and defers
PROCESSING_TIME = 0.01
#: A second store, for the browser test (so that its runs leave the first store to the REST API test)
OTHER_STORE_ID, OTHER_TOKEN = 2002, "secret_other"

T = TypeVar("T")


class DeploymentError(AssertionError):
    """Something in the deployment did not behave; the message names the component logs to read."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Deployment:
    """A running deployment: where it is, how to reach it, and its processes (by name)."""

    root: Path
    api_port: int
    emulator_port: int
    password: str
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    token: str | None = None

    # -- where things are ------------------------------------------------------------------------------------

    @property
    def home(self) -> Path:
        return self.root / "airflow-home"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    @property
    def emulator_url(self) -> str:
        return f"http://127.0.0.1:{self.emulator_port}"

    def log_of(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    def where_to_look(self) -> str:
        """The line a failure message ends with: every component's log, and the task logs' folder."""
        names = ["emulator", "db-migrate", *COMPONENTS]
        files = ", ".join(str(self.log_of(name)) for name in names)
        return f"component logs: {files}; task logs under {self.home / 'logs'}"

    def connection_json(self, store_id: int = DEFAULT_STORE_ID, token: str = DEFAULT_TOKEN) -> str:
        return json.dumps(
            {
                "conn_type": "ecwid",
                "login": str(store_id),
                "password": token,
                "extra": {"base_url": f"{self.emulator_url}/api/v3", "max_retry_wait": 5},
            }
        )

    def env(self) -> dict[str, str]:
        env = {
            key: value
            for key, value in os.environ.items()
            if not key.startswith(("AIRFLOW__", "AIRFLOW_CONN_", "PYTEST_", "E2E_"))
        }
        env.update(
            AIRFLOW_HOME=str(self.home),
            AIRFLOW__CORE__DAGS_FOLDER=str(EXAMPLES),
            AIRFLOW__CORE__LOAD_EXAMPLES="False",
            AIRFLOW__CORE__FERNET_KEY=FERNET_KEY,
            AIRFLOW__CORE__EXECUTOR="LocalExecutor",
            AIRFLOW__CORE__PARALLELISM="4",
            AIRFLOW__CORE__EXECUTION_API_SERVER_URL=f"{self.url}/execution/",
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_USERS=f"{USER}:admin",
            AIRFLOW__CORE__SIMPLE_AUTH_MANAGER_PASSWORDS_FILE=str(self.home / "passwords.json"),
            # the UI's Test button and POST /connections/test (off by default)
            AIRFLOW__CORE__TEST_CONNECTION="Enabled",
            AIRFLOW__API__HOST="127.0.0.1",
            AIRFLOW__API__PORT=str(self.api_port),
            AIRFLOW__API__BASE_URL=self.url,
            AIRFLOW__API__WORKERS="1",
            # one secret for every component, so that the API server accepts the tokens the scheduler issues
            AIRFLOW__API_AUTH__JWT_SECRET=self.password + "-jwt",
            AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT=str(free_port()),
            AIRFLOW__LOGGING__TRIGGER_LOG_SERVER_PORT=str(free_port()),
            AIRFLOW__DAG_PROCESSOR__REFRESH_INTERVAL="5",
            AIRFLOW__SCHEDULER__ENABLE_HEALTH_CHECK="False",
            AIRFLOW__OPENLINEAGE__DISABLED="True",
            AIRFLOW_CONN_ECWID_DEFAULT=self.connection_json(),
            AIRFLOW_CONN_ECWID_OTHER_STORE=self.connection_json(OTHER_STORE_ID, OTHER_TOKEN),
        )
        return env

    # -- processes -------------------------------------------------------------------------------------------

    def spawn(self, name: str, args: list[str]) -> None:
        """Start one process in a new process group (so that stopping it stops its children too)."""
        log = open(self.log_of(name), "wb")  # noqa: SIM115 - kept open for the process's life
        self.processes[name] = subprocess.Popen(
            args, env=self.env(), stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=self.root
        )
        log.close()

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise DeploymentError(
                    f"{name} exited with {process.returncode}; see {self.log_of(name)}\n{self.where_to_look()}"
                )

    def stop(self) -> None:
        """SIGTERM every process group, then SIGKILL what is left after 20 seconds."""
        for process in self.processes.values():
            if process.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(process.pid, signal.SIGTERM)
        deadline = time.monotonic() + 20
        for process in self.processes.values():
            with contextlib.suppress(subprocess.TimeoutExpired):
                process.wait(timeout=max(0.1, deadline - time.monotonic()))
            with contextlib.suppress(ProcessLookupError):  # the group's children too, even when the leader is gone
                os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def start(self) -> None:
        self.logs.mkdir(parents=True)
        self.home.mkdir(parents=True)
        (self.home / "passwords.json").write_text(json.dumps({USER: self.password}))
        self.spawn(
            "emulator",
            [
                sys.executable,
                "-m",
                "airflow_provider_ecwid.testing.emulator",
                "--port",
                str(self.emulator_port),
                "--processing-time",
                str(PROCESSING_TIME),
                "--store",
                f"{OTHER_STORE_ID}:{OTHER_TOKEN}",
            ],
        )
        migrate = subprocess.run(
            [AIRFLOW, "db", "migrate"], env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300
        )
        self.log_of("db-migrate").write_bytes(migrate.stdout)
        if migrate.returncode:
            raise DeploymentError(f"airflow db migrate failed\n{self.where_to_look()}")
        for name in COMPONENTS:
            extra = ["--port", str(self.api_port), "--host", "127.0.0.1"] if name == "api-server" else []
            self.spawn(name, [AIRFLOW, name, *extra])
        self.wait_for("the emulator", lambda: _get_ok(f"{self.emulator_url}/_emulator/stats"), timeout=60)
        self.wait_for("the API server", lambda: _get_ok(f"{self.url}/api/v2/monitor/health"), timeout=120)
        self.token = self.login()

    # -- talking to it ---------------------------------------------------------------------------------------

    def wait_for(self, what: str, probe: Callable[[], T | None], timeout: float, every: float = 0.5) -> T:
        """Call ``probe`` until it returns something truthy, failing at once if a component exits; fail naming
        the logs after ``timeout`` seconds."""

        def alive_and_probed() -> T | None:
            self.check_alive()
            return probe()

        try:
            value = wait_until(alive_and_probed, what=what, timeout=timeout, interval=every)
        except WaitTimedOut as timed_out:
            raise DeploymentError(f"{timed_out}\n{self.where_to_look()}") from timed_out
        assert value is not None  # wait_until returns a truthy value
        return value

    def login(self) -> str:
        answer = requests.post(f"{self.url}/auth/token", json={"username": USER, "password": self.password}, timeout=30)
        answer.raise_for_status()
        return str(answer.json()["access_token"])

    def api(self, method: str, path: str, **kwargs: Any) -> Any:
        """Call the REST API (v2) with the session's token; fail on an error status, naming the logs."""
        answer = requests.request(
            method,
            f"{self.url}/api/v2{path}",
            headers={"Authorization": f"Bearer {self.token}"},
            timeout=60,
            **kwargs,
        )
        if answer.status_code >= 400:
            raise DeploymentError(
                f"{method} {path} answered {answer.status_code}: {answer.text[:2000]}\n{self.where_to_look()}"
            )
        return answer.json() if answer.content else None

    def emulator(self, path: str) -> Any:
        answer = requests.get(f"{self.emulator_url}/_emulator{path}", timeout=30)
        answer.raise_for_status()
        return answer.json()

    def calls(self, **filters: Any) -> int:
        """The emulator's call counter (see ``count_calls``)."""
        return count_calls(self.emulator("/stats"), **filters)

    def products(self, store_id: int = DEFAULT_STORE_ID) -> list[dict[str, Any]]:
        return list(self.emulator(f"/stores/{store_id}/products"))


def _get_ok(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


def start_deployment(root: Path) -> Deployment:
    deployment = Deployment(
        root=root, api_port=free_port(), emulator_port=free_port(), password=secrets.token_urlsafe(12)
    )
    try:
        deployment.start()
    except BaseException:
        deployment.stop()
        raise
    return deployment
