"""The token's shared budget in PostgreSQL (the ``postgres`` extra): in the PostgreSQL that the Celery configuration
uses as its metadata database, as a deployment on many hosts would, and in a throw-away one that is restarted."""

from __future__ import annotations

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
from tests.deployment.deployment import Deployment
from tests.services import free_port, running_postgres

pytestmark = [pytest.mark.deployment, pytest.mark.needs("postgresql", "redis-server")]


def deployment_database(deployment: Deployment) -> str:
    assert deployment.postgres is not None
    return deployment.postgres.url(password="not-checked")  # local connections are trusted


def test_two_processes_share_one_postgres_budget(celery_deployment: Deployment) -> None:
    assert_two_processes_share_one_bucket(deployment_database(celery_deployment), store_id="5001")


def test_a_429_pauses_every_client_through_postgres(celery_deployment: Deployment) -> None:
    assert_a_429_pauses_every_client(deployment_database(celery_deployment), store_id="5002")


def test_a_postgres_restart_mid_run_fails_no_call_and_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_postgres(tmp_path / "postgres.log") as (postgres, server):
        password = "hunter2secret"  # local connections are trusted: any password works, none may be logged
        storage = postgres.url(password=password)
        assert_an_outage_fails_no_call_and_is_logged(storage, server, caplog, monkeypatch, password=password)


@pytest.mark.parametrize(
    ("url", "error", "reason"),
    [
        (
            f"postgresql://ecwid:hunter2secret@127.0.0.1:{free_port()}/budget",  # nobody listens there
            EcwidStorageUnreachableError,
            "OperationalError",
        ),
        ("postgresql://ecwid:hunter2secret@127.0.0.1:notaport/budget", EcwidConfigError, "invalid"),
    ],
    ids=["unreachable", "malformed"],
)
def test_a_bad_postgres_storage_is_a_clear_error_with_its_password_masked(
    url: str, error: type[Exception], reason: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ratestorage, "OPEN_PATIENCE", 1.5)  # one try again, after a second
    with pytest.raises(error) as raised:
        open_shared_budget(url, budget_key("1002", TOKEN, BASE), 500)
    message = str(raised.value)
    assert message.startswith("rate_limit_storage postgresql://ecwid:***@127.0.0.1:")
    assert reason in message
    assert "hunter2secret" not in message


def test_a_wrong_database_is_a_configuration_error(celery_deployment: Deployment) -> None:
    assert celery_deployment.postgres is not None
    url = celery_deployment.postgres.url(password="hunter2secret").rsplit("/", 1)[0] + "/no_such_database"
    with pytest.raises(EcwidConfigError, match="no_such_database") as raised:  # not retried: it cannot get better
        open_shared_budget(url, budget_key("1002", TOKEN, BASE), 500)
    assert "hunter2secret" not in str(raised.value)
