"""A real Airflow deployment for tests: the emulator, then Airflow's API server, scheduler, DAG processor and
triggerer in a temporary AIRFLOW_HOME with the example DAGs, each process in a process group of its own, logging
to a file of its own, and all stopped by process group when the session ends.

Two configurations: ``local`` (LocalExecutor, SQLite) and ``celery`` (CeleryExecutor with two ``airflow celery
worker`` processes, Redis as the broker, PostgreSQL as the metadata database and Celery's result backend; see
``services.py``).
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import signal
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
from tests.services import Postgres, Redis, free_port
from tests.waiting import WaitTimedOut, wait_until

AIRFLOW = str(Path(sys.executable).with_name("airflow"))
EXAMPLES = Path(__file__).resolve().parents[2] / "dags_examples"
COMPONENTS = ("api-server", "scheduler", "dag-processor", "triggerer")
#: The Celery configuration's workers (each an ``airflow celery worker`` with a name and log server of its own).
CELERY_WORKERS = ("celery-worker-1", "celery-worker-2")
USER = "admin"
#: 20 ms of emulated processing a request: the manual DAG's 1,000 requests (20 s) and the nightly import's images
#: (1,125, 22 s) outlast the 10 s the tasks wait in their worker before deferring, so they defer; the smaller
#: phases finish within it and do not
PROCESSING_TIME = 0.02
#: Seconds without a heartbeat before the scheduler fails a try whose worker is gone (Celery configuration). A
#: running try heartbeats every 5 s (``[workers] min_heartbeat_interval``), so 20 s is four heartbeats missed in a row
HEARTBEAT_TIMEOUT = 20
#: How often the scheduler looks for tries without a heartbeat (Airflow's default: 10 s): a query every 2 s is
#: nothing to the scheduler here, and a lost worker's try is failed within 2 s of its timeout instead of 10
HEARTBEAT_TIMEOUT_DETECTION_INTERVAL = 2
#: Seconds after its last heartbeat (every 5 s, ``[triggerer] job_heartbeat_sec``) before a triggerer counts as gone
#: and another takes its triggers over (Airflow's default: 30 s): the killed triggerer's recovery time
TRIGGERER_HEALTH_CHECK_THRESHOLD = 15
#: A second store, for the browser test (so that its runs leave the first store to the REST API test)
OTHER_STORE_ID, OTHER_TOKEN = 2002, "secret_other"

T = TypeVar("T")


class DeploymentError(AssertionError):
    """Something in the deployment did not behave; the message names the component logs to read."""


@dataclass
class Deployment:
    """A running deployment: where it is, how to reach it, and its processes (by name)."""

    root: Path
    api_port: int
    emulator_port: int
    password: str
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    #: how each process was started (its command line and environment), to start it again after a fault
    launches: dict[str, tuple[list[str], dict[str, str]]] = field(default_factory=dict)
    token: str | None = None
    executor: str = "local"
    postgres: Postgres | None = None
    redis: Redis | None = None
    #: more stores (id -> token) for the emulator, each with a connection ``ecwid_store_<id>``
    extra_stores: dict[int, str] = field(default_factory=dict)

    @property
    def components(self) -> tuple[str, ...]:
        return COMPONENTS + (CELERY_WORKERS if self.executor == "celery" else ())

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
        services = ["postgres", "redis"] if self.executor == "celery" else []
        names = ["emulator", *services, "db-migrate", *self.components]
        files = ", ".join(str(self.log_of(name)) for name in names)
        return f"component logs: {files}; task logs under {self.home / 'logs'}"

    def connection_json(self, store_id: int = DEFAULT_STORE_ID, token: str = DEFAULT_TOKEN) -> str:
        return json.dumps(
            {
                "conn_type": "ecwid",
                "login": str(store_id),
                "password": token,
                "extra": {"base_url": f"{self.emulator_url}/api/v3", "max_retry_wait": 5, **self.budget_storage()},
            }
        )

    def budget_storage(self) -> dict[str, str]:
        """Where the connections share their rate budget: Redis in the Celery configuration (as on many hosts),
        the default per-host SQLite file in the local one."""
        return {"rate_limit_storage": self.redis.url(1)} if self.redis is not None else {}

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
        for store_id, token in self.extra_stores.items():
            env[f"AIRFLOW_CONN_ECWID_STORE_{store_id}"] = self.connection_json(store_id, token)
        env.update(self.executor_env())
        return env

    def executor_env(self) -> dict[str, str]:
        """The executor's settings: LocalExecutor on SQLite, or Celery on Redis with PostgreSQL."""
        if self.executor == "local":
            return {"AIRFLOW__CORE__EXECUTOR": "LocalExecutor"}
        assert self.postgres is not None, "start() creates the services first"
        assert self.redis is not None, "start() creates the services first"
        return {
            "AIRFLOW__CORE__EXECUTOR": "CeleryExecutor",
            "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": self.postgres.sqlalchemy_url(),
            "AIRFLOW__CELERY__BROKER_URL": self.redis.url(0),
            "AIRFLOW__CELERY__RESULT_BACKEND": "db+" + self.postgres.sqlalchemy_url(),
            "AIRFLOW__CELERY__WORKER_CONCURRENCY": "4",
            # a try lost with its worker is failed (then retried) after this long without a heartbeat: the
            # fault tests' recovery time; Airflow's default is 300 s (README: When things fail)
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT": str(HEARTBEAT_TIMEOUT),
            "AIRFLOW__SCHEDULER__TASK_INSTANCE_HEARTBEAT_TIMEOUT_DETECTION_INTERVAL": str(
                HEARTBEAT_TIMEOUT_DETECTION_INTERVAL
            ),
            "AIRFLOW__TRIGGERER__TRIGGERER_HEALTH_CHECK_THRESHOLD": str(TRIGGERER_HEALTH_CHECK_THRESHOLD),
        }

    # -- processes -------------------------------------------------------------------------------------------

    def spawn(self, name: str, args: list[str], env: dict[str, str] | None = None) -> None:
        """Start one process in a new process group (so that stopping it stops its children too)."""
        env = env or self.env()
        log = open(self.log_of(name), "ab")  # noqa: SIM115 - kept open for the process's life
        self.processes[name] = subprocess.Popen(
            args, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True, cwd=self.root
        )
        log.close()
        self.launches[name] = (args, env)

    # -- faults ----------------------------------------------------------------------------------------------

    def kill(self, name: str, sig: signal.Signals = signal.SIGKILL) -> None:
        """Send ``sig`` to the whole process group of ``name`` (SIGKILL: as a lost machine, children included) and
        wait until its leader has exited."""
        process = self.processes[name]
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, sig)
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        if sig != signal.SIGKILL:  # what a SIGTERM left behind in the group
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signal.SIGKILL)

    def respawn(self, name: str) -> None:
        """Start ``name`` again as it was first started (a supervisor's restart)."""
        args, env = self.launches[name]
        self.spawn(name, args, env)

    def owner_of(self, pid: int) -> str | None:
        """The name of the process that ``pid`` descends from (a task's process: its Celery worker), found by
        walking up its parents; None when it has exited or belongs to none of the deployment's processes."""
        ours = {process.pid: name for name, process in self.processes.items()}
        while pid > 1:
            if pid in ours:
                return ours[pid]
            try:
                stat = Path(f"/proc/{pid}/stat").read_text()
            except OSError:
                return None
            pid = int(stat.rsplit(")", 1)[1].split()[1])  # the field after the state: the parent's pid
        return None

    def revive_exited(self) -> list[str]:
        """Start again every Airflow component that has exited (as systemd's Restart=always would); their names."""
        exited = [
            name for name in self.components if name in self.processes and self.processes[name].poll() is not None
        ]
        for name in exited:
            self.respawn(name)
        return exited

    def check_alive(self) -> None:
        for name, process in self.processes.items():
            if process.poll() is not None:
                raise DeploymentError(
                    f"{name} exited with {process.returncode}; see {self.log_of(name)}\n{self.where_to_look()}"
                )

    def stop(self) -> None:
        """SIGTERM every process group, the last started first, then SIGKILL what is left after 20 seconds."""
        for process in reversed(self.processes.values()):
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
        if self.postgres is not None:
            self.postgres.remove()

    def start(self) -> None:
        self.logs.mkdir(parents=True)
        self.home.mkdir(parents=True)
        (self.home / "passwords.json").write_text(json.dumps({USER: self.password}))
        stores = [f"{OTHER_STORE_ID}:{OTHER_TOKEN}", *(f"{sid}:{token}" for sid, token in self.extra_stores.items())]
        emulator = [sys.executable, "-m", "airflow_provider_ecwid.testing.emulator", "--port", str(self.emulator_port)]
        emulator += [
            "--processing-time",
            str(PROCESSING_TIME),
            *(arg for store in stores for arg in ("--store", store)),
        ]
        if self.executor == "celery":
            self.start_services()  # first: every Airflow process's settings name them
        self.spawn("emulator", emulator)
        migrate = subprocess.run(
            [AIRFLOW, "db", "migrate"], env=self.env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=300
        )
        self.log_of("db-migrate").write_bytes(migrate.stdout)
        if migrate.returncode:
            raise DeploymentError(f"airflow db migrate failed\n{self.where_to_look()}")
        for name in COMPONENTS:
            extra = ["--port", str(self.api_port), "--host", "127.0.0.1"] if name == "api-server" else []
            self.spawn(name, [AIRFLOW, name, *extra])
        if self.executor == "celery":
            for number, name in enumerate(CELERY_WORKERS, start=1):
                # each worker serves its task logs on a port of its own
                env = {**self.env(), "AIRFLOW__LOGGING__WORKER_LOG_SERVER_PORT": str(free_port())}
                self.spawn(name, [AIRFLOW, "celery", "worker", "--celery-hostname", f"worker{number}@%h"], env)
        self.wait_for("the emulator", lambda: _get_ok(f"{self.emulator_url}/_emulator/stats"), timeout=60)
        self.wait_for("the API server", lambda: _get_ok(f"{self.url}/api/v2/monitor/health"), timeout=120)
        self.token = self.login()

    def start_services(self) -> None:
        """PostgreSQL and Redis for the Celery configuration, ready before Airflow's database is migrated."""
        self.postgres = Postgres.create(free_port())
        self.redis = Redis(free_port())
        self.spawn("postgres", self.postgres.command(), env=dict(os.environ))
        self.spawn("redis", self.redis.command(), env=dict(os.environ))
        self.wait_for("PostgreSQL", self.postgres.accepts_connections, timeout=60)
        self.wait_for("Redis", self.redis.accepts_connections, timeout=30)

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

    def products(self, store_id: int | None = None) -> list[dict[str, Any]]:
        return list(self.emulator(f"/stores/{store_id or DEFAULT_STORE_ID}/products"))

    def categories(self, store_id: int | None = None) -> list[dict[str, Any]]:
        return list(self.emulator(f"/stores/{store_id or DEFAULT_STORE_ID}/categories"))

    def images(self, store_id: int | None = None) -> list[dict[str, Any]]:
        return list(self.emulator(f"/stores/{store_id or DEFAULT_STORE_ID}/images"))


def _get_ok(url: str) -> bool:
    try:
        return requests.get(url, timeout=5).status_code == 200
    except requests.RequestException:
        return False


def start_deployment(root: Path, executor: str = "local", extra_stores: dict[int, str] | None = None) -> Deployment:
    """Start a deployment of the ``executor`` configuration (``local`` or ``celery``) in ``root``.

    :param extra_stores: more emulator stores (id -> token), each with a connection ``ecwid_store_<id>``.
    """
    deployment = Deployment(
        root=root,
        api_port=free_port(),
        emulator_port=free_port(),
        password=secrets.token_urlsafe(12),
        executor=executor,
        extra_stores=extra_stores or {},
    )
    try:
        deployment.start()
    except BaseException:
        deployment.stop()
        raise
    return deployment
