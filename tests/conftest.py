"""Test-wide settings, set before Airflow is imported: every run gets its own throw-away AIRFLOW_HOME, and a Fernet
key, as every real deployment has (connections' passwords are then encrypted in the metadata database, the path
that broke on Airflow 2.11 with cryptography 51)."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from cryptography.fernet import Fernet

_home = tempfile.mkdtemp(prefix="ecwid-tests-airflow-home-")
os.environ["AIRFLOW_HOME"] = _home
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")
#: The Airflow processes the tests start (tests/e2e, tests/deployment) are given the same key.
FERNET_KEY = Fernet.generate_key().decode()
os.environ["AIRFLOW__CORE__FERNET_KEY"] = FERNET_KEY

pytest_plugins = ["airflow_provider_ecwid.testing.pytest_plugin"]

if os.environ.get("ECWID_TESTS_NEED_INSTALLED_PACKAGE"):
    # scripts/test --package: the tests must exercise the installed wheel, never a source folder on sys.path
    import airflow_provider_ecwid

    _where = os.path.dirname(airflow_provider_ecwid.__file__)
    if "site-packages" not in _where.split(os.sep):
        raise RuntimeError(f"the tests import airflow_provider_ecwid from {_where}, not from the installed wheel")


import pytest  # noqa: E402

# assertions in the shared check modules are reported like the tests' own
pytest.register_assert_rewrite("tests.budget_checks", "tests.catalog_checks")
from hypothesis import HealthCheck, settings  # noqa: E402

#: Property tests: a quick default for every run, and a deep profile (``pytest --hypothesis-profile=deep``) that
#: tries 3,000 examples a test, the count at which the dtype stress first found a bug. Examples that failed once
#: are kept in .hypothesis/ and tried first next time, in either profile.
settings.register_profile("quick", max_examples=50, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("deep", max_examples=3000, deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.load_profile("quick")  # --hypothesis-profile, read after this file, overrides it

from tests import services  # noqa: E402

if TYPE_CHECKING:
    from airflow_provider_ecwid.testing import EcwidEmulator
    from tests.integration.fakes import TaskLogs


@pytest.fixture
def emulator_conn(ecwid_emulator: EcwidEmulator, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> EcwidEmulator:
    """
    Point the connection ``ecwid_default`` at the test's emulator (fast retries, no client rate limit).

    Its shared rate budget lives in the test's own SQLite file, so no test shares a budget or a 429 pause with
    another, and nothing is left in the machine's temp directory.
    """
    monkeypatch.setenv(
        "AIRFLOW_CONN_ECWID_DEFAULT",
        ecwid_emulator.connection_json(
            rate_limit_per_minute=100_000,
            max_retry_wait=5,
            rate_limit_storage=f"sqlite:///{tmp_path / 'rate-budget.sqlite'}",
        ),
    )
    return ecwid_emulator


@pytest.fixture
def task_logs(capsys: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture) -> TaskLogs:
    """Everything logged during the test, from task loggers (stdout) and plain loggers alike."""
    from tests.integration.fakes import TaskLogs

    return TaskLogs(capsys, caplog)


@pytest.fixture(scope="session")
def airflow_2_metadata_db() -> None:
    """On Airflow 2, create the metadata database in this run's AIRFLOW_HOME (its sensors keep reschedules there).

    Airflow 3's Task SDK asks the API server instead, so there this does nothing.
    """
    from airflow import __version__ as airflow_version
    from packaging.version import Version

    if Version(airflow_version) < Version("3"):
        from airflow.utils.db import initdb

        initdb()


def pytest_xdist_make_scheduler(config: pytest.Config, log: object) -> object:
    """Under ``pytest -n`` (scripts/test), spread the tests one by one but keep ``tests/deployment`` on one worker:
    its tests share one real deployment, which a second worker would start again.

    (pytest-xdist's ``xdist_group`` mark does the same in principle, but with pytest 9 its grouping is lost.)
    """
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    # xdist ships no type information, so its scheduler is Any to mypy
    class OneWorkerForTheDeployment(LoadScopeScheduling):  # type: ignore[misc]
        def _split_scope(self, nodeid: str) -> str:
            return "tests/deployment" if nodeid.startswith("tests/deployment/") else nodeid

    return OneWorkerForTheDeployment(config, log)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"needs(*services): the test starts these system services ({', '.join(services.SERVICES)}): tests/services.py",
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip, at collection, the tests that need a service this machine lacks (scripts/services installs them where
    it can): a missing service is one loud line at the end of the run, never an error deep inside a test. With
    ECWID_TESTS_REQUIRE_SERVICES=1 (CI) a missing service is an error instead: CI never goes green by skipping."""
    present: dict[str, bool] = {}
    for item in items:
        needed = [service for marker in item.iter_markers("needs") for service in marker.args]
        unknown = sorted(set(needed) - set(services.SERVICES))
        if unknown:
            raise pytest.UsageError(f"{item.nodeid}: unknown service(s) {unknown}; known: {sorted(services.SERVICES)}")
        missing = [service for service in needed if not present.setdefault(service, services.present(service))]
        if missing and os.environ.get("ECWID_TESTS_REQUIRE_SERVICES") == "1":
            raise pytest.UsageError(
                f"{item.nodeid}: {services.missing_reason(missing)} (ECWID_TESTS_REQUIRE_SERVICES=1)"
            )
        if missing:
            item.add_marker(pytest.mark.skip(reason=services.missing_reason(missing)))


def pytest_terminal_summary(terminalreporter: Any) -> None:
    """The loud line: each missing service, the test files skipped for it, and the command that installs it."""
    skipped: dict[str, set[str]] = {}
    for report in terminalreporter.stats.get("skipped", []):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        for service in services.missing_in(reason):
            skipped.setdefault(service, set()).add(report.nodeid.split("::")[0])
    if skipped:
        groups = "; ".join(
            f"{service} ({len(files)} file(s): {', '.join(sorted(files))})"
            for service, files in sorted(skipped.items())
        )
        names = " ".join(sorted(skipped))
        terminalreporter.write_line(
            f"!!!! SKIPPED for missing services: {groups}. Install them with: "
            f"sudo apt-get update && sudo apt-get install -y {names}",
            red=True,
            bold=True,
        )
