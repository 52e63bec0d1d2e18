"""The token's shared budget in a real Redis (Debian's redis-server, which .ci/run installs): never skipped."""

from __future__ import annotations

import shutil
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_ecwid.api.ratelimit import budget_key
from airflow_provider_ecwid.api.ratestorage import open_shared_budget

TOKEN = "secret_REDISBUDGETTOKEN0123456789"
BASE = "https://app.ecwid.com/api/v3"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    server = shutil.which("redis-server")
    assert server, "redis-server is not on PATH: install Debian's redis-server (.ci/run does)"
    port = _free_port()
    workdir: Path = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--dir", str(workdir)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for _ in range(200):
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.05)
        yield f"redis://127.0.0.1:{port}/0"
    finally:
        process.terminate()
        process.wait(10)


def test_two_clients_share_one_redis_budget(redis_url: str) -> None:
    key = budget_key("1002", TOKEN, BASE)
    first, second = (open_shared_budget(redis_url, key, 600) for _ in range(2))  # bursts of 60 in 6 s
    started = time.monotonic()
    for _ in range(30):
        first.acquire()
        second.acquire()
    assert time.monotonic() - started < 3  # 60 together: the burst, no wait
    waited = first.acquire()  # the 61st waits for the burst window (6 s) to move on
    assert waited > 3
    first.close()
    second.close()


def test_a_429_pauses_every_client_through_redis(redis_url: str) -> None:
    key = budget_key("1003", TOKEN, BASE)
    waited: list[float] = []
    answered = open_shared_budget(redis_url, key, 6000)
    other = open_shared_budget(redis_url, key, 6000, sleep=waited.append)
    answered.pause(20)
    answered.pause(5)  # a shorter pause does not cut a longer one
    other.acquire()
    assert len(waited) == 1
    assert 19 < waited[0] <= 20
    assert key.startswith("ecwid_1003_")
    assert TOKEN.removeprefix("secret_") not in key
    answered.close()
    other.close()
