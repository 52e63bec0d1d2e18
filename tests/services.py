"""The system services some tests start for themselves, from Debian's packages: Redis (the shared rate budget, the
Celery configuration's broker), PostgreSQL (the shared rate budget, the Celery configuration's metadata database and
result backend) and chromium (the browser tests).

``scripts/services install`` (which ``scripts/test`` runs first) installs the missing ones where it can. Where it
cannot, the tests that need them, marked ``@pytest.mark.needs("redis-server")`` and so on, are skipped at collection
(see ``tests/conftest.py``), and the run ends with one loud line naming them: a missing service is never an error
deep inside a test. ``present`` below finds them as ``scripts/services`` does.

PostgreSQL refuses to run as root: as root, its data folder belongs to the ``postgres`` user, and ``initdb`` and the
server run as that user (``runuser``). Every server listens on 127.0.0.1 only, on a port of its own, keeps no data
between sessions, and is stopped with its test.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

#: Debian's server binaries (postgresql-15 on bookworm); the newest version installed wins.
POSTGRES_BIN_GLOB = "/usr/lib/postgresql/*/bin"
REDIS_SERVER = "/usr/bin/redis-server"
CHROMIUM = Path("/usr/bin/chromium")
DATABASE_USER = "airflow"

#: Each service a test can need: what it is for (the loud line's group).
SERVICES = {
    "redis-server": "the Redis rate-budget tests and the Celery deployment",
    "postgresql": "the PostgreSQL rate-budget tests and the Celery deployment",
    "chromium": "the browser tests",
}
#: The start of a skip reason for a missing service (the end-of-run line collects these).
MISSING_PREFIX = "missing service"


def present(service: str) -> bool:
    """Whether ``service`` (a key of :data:`SERVICES`) is installed here."""
    if service == "redis-server":
        return Path(REDIS_SERVER).exists() or shutil.which("redis-server") is not None
    if service == "postgresql":
        return bool(glob.glob(f"{POSTGRES_BIN_GLOB}/postgres"))
    if service == "chromium":
        return CHROMIUM.exists()
    raise ValueError(f"unknown service {service!r}; known: {sorted(SERVICES)}")


def missing_reason(services: list[str]) -> str:
    """The skip reason of a test that needs ``services``, which are missing (the end-of-run line reads it)."""
    return (
        f"{MISSING_PREFIX} {' '.join(services)}: not installed, and scripts/services could not install it. "
        f"Install with: sudo apt-get update && sudo apt-get install -y {' '.join(services)}"
    )


def missing_in(reason: str) -> list[str]:
    """The services a skip reason made by :func:`missing_reason` names (none for any other reason)."""
    if MISSING_PREFIX not in reason:
        return []
    return reason.split(MISSING_PREFIX, 1)[1].split(":", 1)[0].split()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServiceMissing(RuntimeError):
    """A package the distributed deployment needs is not installed; the message says which."""


def postgres_bin() -> Path:
    found = sorted(glob.glob(POSTGRES_BIN_GLOB), key=lambda path: int(Path(path).parent.name))
    if not found:
        raise ServiceMissing(missing_reason(["postgresql"]))
    return Path(found[-1])


def redis_server() -> Path:
    found = REDIS_SERVER if Path(REDIS_SERVER).exists() else shutil.which("redis-server")
    if not found:
        raise ServiceMissing(missing_reason(["redis-server"]))
    return Path(found)


def as_postgres_user(command: list[str]) -> list[str]:
    """The command as the ``postgres`` user when we are root (PostgreSQL refuses root), else as it is."""
    return ["runuser", "-u", "postgres", "--", *command] if os.geteuid() == 0 else command


@dataclass
class Postgres:
    """A throw-away PostgreSQL cluster: its data folder (outside pytest's root-only temp folders) and port."""

    data: Path
    port: int

    @classmethod
    def create(cls, port: int) -> Postgres:
        data = Path(tempfile.mkdtemp(prefix="ecwid-deployment-postgres-"))
        if os.geteuid() == 0:
            shutil.chown(data, "postgres", "postgres")
        initdb = subprocess.run(
            as_postgres_user([str(postgres_bin() / "initdb"), "-D", str(data), "-U", DATABASE_USER, "-A", "trust"]),
            capture_output=True,
            text=True,
            timeout=120,
        )
        if initdb.returncode:
            raise RuntimeError(f"initdb failed: {initdb.stdout[-2000:]}{initdb.stderr[-2000:]}")
        return cls(data, port)

    def command(self) -> list[str]:
        server = str(postgres_bin() / "postgres")
        settings = ["-c", "listen_addresses=127.0.0.1", "-c", f"unix_socket_directories={self.data}"]
        return as_postgres_user([server, "-D", str(self.data), "-p", str(self.port), *settings])

    def sqlalchemy_url(self) -> str:
        return f"postgresql+psycopg2://{DATABASE_USER}@127.0.0.1:{self.port}/postgres"

    def url(self, password: str | None = None) -> str:
        """A libpq URL of the server's ``postgres`` database (local connections are trusted: any password works)."""
        user = f"{DATABASE_USER}:{password}" if password else DATABASE_USER
        return f"postgresql://{user}@127.0.0.1:{self.port}/postgres"

    def accepts_connections(self) -> bool:
        ready = subprocess.run(
            [str(postgres_bin() / "pg_isready"), "-h", "127.0.0.1", "-p", str(self.port)],
            capture_output=True,
            timeout=10,
        )
        return ready.returncode == 0

    def remove(self) -> None:
        shutil.rmtree(self.data, ignore_errors=True)


@dataclass
class Redis:
    """A Redis server on a port of its own, with no persistence.

    :param port: the port it listens on (loopback only).
    :param password: the password it requires (``requirepass``); none by default.
    """

    port: int
    password: str | None = None

    def command(self) -> list[str]:
        return [
            str(redis_server()),
            "--port",
            str(self.port),
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
            *(["--requirepass", self.password] if self.password else []),
        ]

    def url(self, database: int = 0, password: str | None = None) -> str:
        """The server's URL, with ``password`` (by default the server's own, if it has one)."""
        password = self.password if password is None else password
        userinfo = f":{password}@" if password else ""
        return f"redis://{userinfo}127.0.0.1:{self.port}/{database}"

    def accepts_connections(self) -> bool:
        import redis  # the deployment group's client (Celery's broker transport uses it too)

        try:
            return bool(redis.Redis(host="127.0.0.1", port=self.port, password=self.password, socket_timeout=2).ping())
        except redis.RedisError:
            return False


class ServerProcess:
    """One server started from ``command``, that a test can stop and start again (an outage), logging to ``log``.

    :param command: the server's command line.
    :param ready: answers whether the server accepts connections.
    :param log: the file its output goes to.
    :param stop_signal: what stops it at once and cleanly (PostgreSQL: SIGINT, its fast shutdown; SIGTERM would
        wait for every client to leave).
    """

    def __init__(
        self, command: list[str], ready: Callable[[], bool], log: Path, stop_signal: int = signal.SIGTERM
    ) -> None:
        self.command = command
        self.ready = ready
        self.log = log
        self.stop_signal = stop_signal
        self.process: subprocess.Popen[bytes] | None = None

    def start(self, timeout: float = 60) -> None:
        with open(self.log, "ab") as out:
            self.process = subprocess.Popen(self.command, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + timeout
        while not self.ready():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{self.command[0]} did not start; see {self.log}: {self.log.read_text()[-2000:]}")
            time.sleep(0.2)

    def stop(self) -> None:
        """Stop it (its whole process group: as root, PostgreSQL runs under ``runuser``) and wait for it."""
        if self.process is not None and self.process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, self.stop_signal)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
        self.process = None


@contextmanager
def running_postgres(log: Path) -> Iterator[tuple[Postgres, ServerProcess]]:
    """A throw-away PostgreSQL cluster, running until the block ends."""
    postgres = Postgres.create(free_port())
    server = ServerProcess(postgres.command(), postgres.accepts_connections, log, stop_signal=signal.SIGINT)
    try:
        server.start()
        yield postgres, server
    finally:
        server.stop()
        postgres.remove()


@contextmanager
def running_redis(log: Path, password: str | None = None) -> Iterator[tuple[Redis, ServerProcess]]:
    """A Redis server with no persistence (requiring ``password``, if given), running until the block ends."""
    redis = Redis(free_port(), password)
    server = ServerProcess(redis.command(), redis.accepts_connections, log)
    try:
        server.start()
        yield redis, server
    finally:
        server.stop()
