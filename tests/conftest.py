"""Test-wide settings: every run gets its own throw-away AIRFLOW_HOME, set before Airflow is imported."""

from __future__ import annotations

import os
import tempfile

_home = tempfile.mkdtemp(prefix="ecwid-tests-airflow-home-")
os.environ["AIRFLOW_HOME"] = _home
os.environ.setdefault("AIRFLOW__CORE__LOAD_EXAMPLES", "False")
os.environ.setdefault("AIRFLOW__CORE__UNIT_TEST_MODE", "True")

pytest_plugins = ["airflow_provider_ecwid.testing.pytest_plugin"]
