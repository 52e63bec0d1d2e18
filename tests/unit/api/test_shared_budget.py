"""The token's shared budget: two processes on one SQLite bucket, a 429 pausing every client, keys without tokens."""

from __future__ import annotations

import logging
import sys
import time
from pathlib import Path

import pytest
import requests_mock as rm
from pyrate_limiter import SQLiteBucket

from airflow_provider_ecwid.api import ratelimit
from airflow_provider_ecwid.api.client import EcwidClient
from airflow_provider_ecwid.api.connection import settings_from_connection
from airflow_provider_ecwid.api.ratelimit import SharedBudget, budget_key, budget_rates
from airflow_provider_ecwid.api.ratestorage import default_sqlite_path, masked_url, open_shared_budget
from airflow_provider_ecwid.errors import EcwidConfigError
from tests.budget_checks import assert_two_processes_share_one_bucket

TOKEN = "secret_SHAREDBUDGETTOKEN0123456789"
BASE = "https://app.ecwid.com/api/v3"


def test_two_processes_share_one_sqlite_bucket(tmp_path: Path) -> None:
    assert_two_processes_share_one_bucket(f"sqlite:///{tmp_path / 'budget.sqlite'}")


def test_a_429_pauses_every_client_of_the_token(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'budget.sqlite'}"
    key = budget_key("1002", TOKEN, BASE)
    waited: list[float] = []
    now = [time.time()]

    def first_sleeps(seconds: float) -> None:  # the first client's time moves on as it waits
        waited.append(seconds)
        now[0] += seconds

    first_budget = open_shared_budget(storage, key, 6000, sleep=first_sleeps, clock=lambda: now[0])
    first = EcwidClient(1002, TOKEN, shared_budget=first_budget, sleep=first_sleeps)
    second_budget = open_shared_budget(storage, key, 6000, sleep=waited.append)
    second = EcwidClient(1002, TOKEN, shared_budget=second_budget, sleep=waited.append)
    with rm.Mocker() as http:
        http.get(f"{BASE}/1002/profile", [{"status_code": 429, "headers": {"Retry-After": "30"}}, {"json": {}}])
        first.get_profile()  # answered 429, waited (by its own retry, not again for the pause) and succeeded
        assert waited == [30.0]
        http.get(f"{BASE}/1002/profile", json={"second": True})
        assert second.get_profile() == {"second": True}
    # the second client, which never saw the 429, waited out the rest of the same Retry-After before calling
    assert len(waited) == 2
    assert 29.0 < waited[1] <= 30.0
    first.close()
    second.close()


def test_a_pause_is_only_for_the_token_that_was_answered_429(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'budget.sqlite'}"
    answered = open_shared_budget(storage, budget_key("1002", TOKEN, BASE), 6000)
    other = open_shared_budget(storage, budget_key("1002", TOKEN + "X", BASE), 6000)
    answered.pause(30)
    assert other.wait_for_pause() == 0.0
    assert answered.pauses.until() > time.time() + 29
    answered.close()
    other.close()


def test_the_token_appears_in_no_key_file_name_or_log(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    storage_file = tmp_path / "budget.sqlite"
    settings = settings_from_connection(
        "ecwid_test",
        login="1002",
        password=TOKEN,
        extra={"base_url": BASE, "rate_limit_storage": f"sqlite:///{storage_file}"},
    )
    client = settings.make_client()
    assert client.shared_budget is not None
    key = client.shared_budget.key
    with rm.Mocker() as http:
        http.get(f"{BASE}/1002/profile", [{"status_code": 429, "headers": {"Retry-After": "0.01"}}, {"json": {}}])
        client.get_profile()
    client.close()
    secret = TOKEN.removeprefix("secret_")
    assert secret not in key
    assert key.startswith("ecwid_1002_")
    assert all(secret not in path.name for path in tmp_path.rglob("*"))
    contents = b"".join(path.read_bytes() for path in tmp_path.rglob("*") if path.is_file())
    assert key.encode() in contents  # the key is stored (the bucket's table, the pause's row)...
    assert secret.encode() not in contents  # ...and the token is not
    assert secret not in caplog.text
    assert secret not in repr(settings)
    assert secret not in repr(client.shared_budget)


def test_the_key_depends_on_store_token_and_api() -> None:
    keys = {
        budget_key("1002", TOKEN, BASE),
        budget_key("1003", TOKEN, BASE),
        budget_key("1002", TOKEN + "X", BASE),
        budget_key("1002", TOKEN, "http://127.0.0.1:8089/api/v3"),
    }
    assert len(keys) == 4
    assert budget_key("1002", TOKEN, BASE) == budget_key("1002", TOKEN, BASE)


def test_rates_keep_the_budget_and_its_bursts() -> None:
    short, minute = budget_rates(500)
    assert (minute.limit, minute.interval) == (500, 60_000)
    assert (short.limit, short.interval) == (50, 6_000)  # bursts of a tenth, as the token bucket
    (only,) = budget_rates(0.5)  # one call in two minutes: no room for a burst
    assert (only.limit, only.interval) == (1, 120_000)
    with pytest.raises(ValueError, match="positive"):
        budget_rates(0)


def test_the_default_storage_is_a_per_user_file_in_the_temp_dir() -> None:
    import tempfile

    path = default_sqlite_path()
    assert path.is_relative_to(tempfile.gettempdir())
    assert path.name == "rate-budget.sqlite"


@pytest.mark.parametrize(
    ("storage", "message"),
    [("memcached://host", "must be empty or"), ("sqlite://", "sqlite:///absolute"), ("sqlite://host/x", "absolute")],
)
def test_a_storage_url_of_another_kind_is_refused(storage: str, message: str) -> None:
    with pytest.raises(EcwidConfigError, match=message):
        settings_from_connection(
            "ecwid_test", login="1002", password=TOKEN, extra={"rate_limit_storage": storage}
        ).make_client()


def test_postgres_without_its_library_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "psycopg_pool", None)  # as where the postgres extra is not installed
    with pytest.raises(EcwidConfigError, match=r"airflow-provider-ecwid\[postgres\]"):
        open_shared_budget("postgresql://user:pw@127.0.0.1:1/db", "ecwid_1_x", 500)


@pytest.mark.parametrize(
    ("url", "shown"),
    [
        ("redis://:hunter2@redis:6379/0", "redis://:***@redis:6379/0"),
        ("postgresql://ecwid:pa#ss@127.0.0.1:5432/db", "postgresql://ecwid:***@127.0.0.1:5432/db"),  # unencoded #
        ("redis://ecwid:pa/ss@redis/0", "redis://ecwid:***@redis/0"),  # unencoded /
        (
            "postgresql://db/budget?sslmode=require&password=hunter2",
            "postgresql://db/budget?sslmode=require&password=***",
        ),
        ("redis://redis:6379/0", "redis://redis:6379/0"),
    ],
)
def test_a_storage_url_is_shown_with_every_password_masked(url: str, shown: str) -> None:
    assert masked_url(url) == shown


class FlakyPauses:
    """A pause store whose server can be switched off (it then raises what a refused connection raises)."""

    def __init__(self) -> None:
        self.down = False
        self.broken: Exception | None = None

    def until(self) -> float:
        if self.broken is not None:
            raise self.broken
        if self.down:
            raise ConnectionRefusedError("connection refused")
        return 0.0

    def extend(self, until: float) -> None:
        self.until()

    def close(self) -> None:
        pass


def flaky_budget(tmp_path: Path, pauses: FlakyPauses) -> SharedBudget:
    rates = budget_rates(60_000)
    bucket = SQLiteBucket.init_from_file(rates, table="ecwid_1_x", db_path=str(tmp_path / "b.sqlite"))
    return SharedBudget(bucket, pauses, "ecwid_1_x", storage="the flaky store", storage_errors=(OSError,))


def test_a_storage_outage_fails_no_call_and_is_said_once_then_over(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ratelimit, "OUTAGE_RETRY_INTERVAL", 0.0)
    caplog.set_level(logging.WARNING, logger=ratelimit.__name__)
    pauses = FlakyPauses()
    budget = flaky_budget(tmp_path, pauses)
    budget.acquire()
    pauses.down = True
    for _ in range(5):
        budget.acquire()  # no call fails
    budget.pause(30)  # a 429's pause cannot be shared now: no error either
    assert budget.in_outage
    assert (budget.outages, budget.calls_during_outages) == (1, 5)
    assert [r.getMessage() for r in caplog.records if "cannot be reached" in r.getMessage()] == [
        "The shared rate budget ecwid_1_x in the flaky store cannot be reached (ConnectionRefusedError): this "
        "client keeps to a budget of its own at the same rate until it is back (other clients' calls are not "
        "counted meanwhile, and a 429 pauses this client only). Trying it again every 0 s."
    ]
    pauses.down = False
    budget.acquire()
    assert not budget.in_outage
    assert "is reachable again after" in caplog.text
    assert "5 call(s) of this client were counted by its own budget" in caplog.text


def test_an_error_that_is_not_the_storages_is_raised(tmp_path: Path) -> None:
    pauses = FlakyPauses()
    pauses.broken = KeyError("a bug, not an outage")
    with pytest.raises(KeyError):
        flaky_budget(tmp_path, pauses).acquire()
