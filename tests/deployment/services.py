"""The services a distributed Airflow needs, started from Debian's packages for one test session: PostgreSQL (the
metadata database and Celery's result backend) and Redis (Celery's broker). ``.ci/run`` installs both packages.

PostgreSQL refuses to run as root: as root, its data folder belongs to the ``postgres`` user, and ``initdb`` and the
server run as that user (``runuser``). The server listens on 127.0.0.1 only, trusts local connections, keeps no
data between sessions, and is stopped with the deployment.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

#: Debian's server binaries (postgresql-15 on bookworm); the newest version installed wins.
POSTGRES_BIN_GLOB = "/usr/lib/postgresql/*/bin"
REDIS_SERVER = "/usr/bin/redis-server"
DATABASE_USER = "airflow"


class ServiceMissing(RuntimeError):
    """A package the distributed deployment needs is not installed; the message says which."""


def postgres_bin() -> Path:
    found = sorted(glob.glob(POSTGRES_BIN_GLOB), key=lambda path: int(Path(path).parent.name))
    if not found:
        raise ServiceMissing("PostgreSQL is not installed: apt-get install -y postgresql (.ci/run does)")
    return Path(found[-1])


def redis_server() -> Path:
    if not Path(REDIS_SERVER).exists():
        raise ServiceMissing("Redis is not installed: apt-get install -y redis-server (.ci/run does)")
    return Path(REDIS_SERVER)


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
    """A Redis server on a port of its own, with no persistence."""

    port: int

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
        ]

    def url(self, database: int = 0) -> str:
        return f"redis://127.0.0.1:{self.port}/{database}"

    def accepts_connections(self) -> bool:
        import redis  # the deployment group's client (Celery's broker transport uses it too)

        try:
            return bool(redis.Redis(host="127.0.0.1", port=self.port, socket_timeout=2).ping())
        except redis.RedisError:
            return False
