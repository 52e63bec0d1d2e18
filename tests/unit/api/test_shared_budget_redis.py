"""The token's shared budget in a real Redis (Debian's redis-server, which scripts/services installs)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from airflow_provider_ecwid.api import ratestorage
from airflow_provider_ecwid.api.ratelimit import budget_key
from airflow_provider_ecwid.api.ratestorage import open_shared_budget
from airflow_provider_ecwid.errors import EcwidConfigError, EcwidStorageUnreachableError
from tests.budget_checks import (
    BASE,
    TOKEN,
    assert_a_429_pauses_every_client,
    assert_an_outage_fails_no_call_and_is_logged,
    assert_two_processes_share_one_bucket,
)
from tests.services import free_port, running_redis

pytestmark = pytest.mark.needs("redis-server")


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_redis(tmp_path_factory.mktemp("redis") / "redis.log") as (redis, _):
        yield redis.url()


def test_two_processes_share_one_redis_budget(redis_url: str) -> None:
    assert_two_processes_share_one_bucket(redis_url)


def test_a_429_pauses_every_client_through_redis(redis_url: str) -> None:
    assert_a_429_pauses_every_client(redis_url)


def test_a_redis_restart_mid_run_fails_no_call_and_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_redis(tmp_path / "redis.log") as (redis, server):
        assert_an_outage_fails_no_call_and_is_logged(redis.url(), server, caplog, monkeypatch)


def test_an_unreachable_redis_is_a_clear_error_with_its_password_masked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(ratestorage, "OPEN_PATIENCE", 1.5)  # one try again, after a second
    url = f"redis://:hunter2secret@127.0.0.1:{free_port()}/0"  # nobody listens there
    with pytest.raises(EcwidStorageUnreachableError) as raised:  # Airflow retries: it may be restarting
        open_shared_budget(url, budget_key("1002", TOKEN, BASE), 500)
    message = str(raised.value)
    assert f"redis://:***@127.0.0.1:{url.rsplit(':', 1)[1]}" in message
    assert "cannot be used: ConnectionError" in message
    assert "hunter2secret" not in message


def test_a_redis_that_comes_back_while_a_client_opens_it_is_waited_for(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A trigger or a resumed task that opens its client while Redis restarts waits for it, saying so."""
    with running_redis(tmp_path / "redis.log") as (redis, server):
        server.stop()
        restart = threading.Timer(2.0, server.start)
        restart.start()
        budget = open_shared_budget(redis.url(), budget_key("1006", TOKEN, BASE), 60_000)
        restart.join()
        budget.acquire()
        assert not budget.in_outage
        assert "does not answer (ConnectionError): trying again in 1 s" in caplog.text
        budget.close()


def test_a_password_redis_refuses_is_a_configuration_error(tmp_path: Path) -> None:
    with running_redis(tmp_path / "redis.log", password="the-right-one") as (redis, _):
        url = redis.url(password="hunter2secret")
        with pytest.raises(EcwidConfigError) as raised:  # not retried: another try would fail the same way
            open_shared_budget(url, budget_key("1002", TOKEN, BASE), 500)
    assert "redis://:***@127.0.0.1" in str(raised.value)
    assert "hunter2secret" not in str(raised.value)


def test_a_redis_with_a_password_is_used_with_it(tmp_path: Path) -> None:
    with running_redis(tmp_path / "redis.log", password="the-right-one") as (redis, _):
        budget = open_shared_budget(redis.url(), budget_key("1007", TOKEN, BASE), 60_000)
        budget.acquire()
        assert not budget.in_outage
        budget.close()


def test_a_restart_between_two_calls_reloads_the_bucket_without_an_outage(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with running_redis(tmp_path / "redis.log") as (redis, server):
        budget = open_shared_budget(redis.url(), budget_key("1005", TOKEN, BASE), 60_000)
        budget.acquire()
        server.stop()
        server.start()  # the same port, empty: the bucket's script is gone
        budget.acquire()
        assert not budget.in_outage
        assert budget.outages == 0
        assert "cannot be reached" not in caplog.text
        budget.close()
