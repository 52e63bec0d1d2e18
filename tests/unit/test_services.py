"""A missing system service skips the tests that need it at collection, with one loud line at the end of the run."""

from __future__ import annotations

import pytest

from tests import services

pytest_plugins = ["pytester"]


@pytest.fixture
def suite(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> pytest.Pytester:
    """A small suite run as a user runs it, without CI's ECWID_TESTS_REQUIRE_SERVICES (tests that want it set it)."""
    monkeypatch.delenv("ECWID_TESTS_REQUIRE_SERVICES", raising=False)
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makeconftest(
        "from tests.conftest import pytest_collection_modifyitems, pytest_configure, pytest_terminal_summary\n"
    )
    pytester.makepyfile(
        test_needs="""
import pytest

@pytest.mark.needs("redis-server")
def test_with_redis():
    assert True

@pytest.mark.needs("chromium", "redis-server")
def test_with_browser_and_redis():
    assert True

def test_without_services():
    assert True
"""
    )
    return pytester


def test_tests_whose_service_is_missing_are_skipped_and_named_once(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "present", lambda service: service == "postgresql")
    result = suite.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, skipped=2)
    loud = [line for line in result.outlines if line.startswith("!!!! SKIPPED for missing services")]
    assert loud == [
        "!!!! SKIPPED for missing services: chromium (1 file(s): test_needs.py); redis-server (1 file(s): "
        "test_needs.py). Install them with: sudo apt-get update && sudo apt-get install -y chromium redis-server"
    ]


def test_nothing_is_skipped_or_said_when_every_service_is_there(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "present", lambda service: True)
    result = suite.runpytest_inprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=3)
    assert not any("SKIPPED for missing services" in line for line in result.outlines)


def test_an_unknown_service_is_a_usage_error(pytester: pytest.Pytester) -> None:
    pytester.makeini("[pytest]\nasyncio_default_fixture_loop_scope = function\n")
    pytester.makeconftest("from tests.conftest import pytest_collection_modifyitems, pytest_configure\n")
    pytester.makepyfile(test_typo='import pytest\n\n@pytest.mark.needs("redis")\ndef test_it():\n    pass\n')
    result = pytester.runpytest_inprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "unknown service(s) ['redis']" in "\n".join(result.errlines + result.outlines)


def test_a_missing_service_is_an_error_where_every_test_must_run(
    suite: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "present", lambda service: service != "chromium")
    monkeypatch.setenv("ECWID_TESTS_REQUIRE_SERVICES", "1")  # as .ci/run sets it
    result = suite.runpytest_inprocess("-p", "no:cacheprovider")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert "missing service chromium" in "\n".join(result.errlines + result.outlines)
