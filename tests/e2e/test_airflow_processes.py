"""Airflow in a process of its own: what its CLI, its UI's API server and a DAG file's parse see of the provider.

Each test starts a fresh interpreter (a few seconds each), which is why they live here and not in tests/unit; every
matrix row runs this folder, so each Airflow version still checks them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.unit.hooks.test_connection_form import AIRFLOW_3, EXTRA_FIELDS, LABELS

HEAVY = ("pandas", "numpy", "pyarrow")


def test_parsing_a_dag_file_does_not_load_pandas_numpy_or_pyarrow() -> None:
    code = (
        "import sys\n"
        "from airflow_provider_ecwid import EcwidBatchOperator, EcwidBatchSensor, EcwidBatchTrigger\n"
        "from airflow_provider_ecwid import EcwidCatalogSyncOperator, EcwidHook\n"
        "import airflow_provider_ecwid.links\n"
        f"print(sorted(name for name in {HEAVY!r} if name in sys.modules))\n"
    )
    loaded = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=300)
    found = loaded.stdout.strip().splitlines()[-1]  # Airflow may log to stdout first
    assert found == "[]", f"loaded at import time: {found}"


def test_airflow_cli_lists_the_provider(tmp_path: Path) -> None:
    env = {**os.environ, "AIRFLOW_HOME": str(tmp_path)}
    airflow = Path(sys.executable).with_name("airflow")
    result = subprocess.run(
        [str(airflow), "providers", "list", "--output", "json"],
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    listing = next(line for line in result.stdout.splitlines() if line.startswith("[{"))
    names = {provider["package_name"] for provider in json.loads(listing)}
    assert "airflow-provider-ecwid" in names


@pytest.mark.skipif(not AIRFLOW_3, reason="Airflow 3's UI metadata; Airflow 2 is checked through its Flask form")
def test_airflow_3_serves_the_ecwid_form_to_its_ui() -> None:
    # in a fresh interpreter, as in the API server: the ProvidersManager is a singleton, and Airflow 3.1 builds the
    # UI metadata from it only if no one loaded the hooks before with the real WTForms classes
    code = (
        "import json\n"
        "from airflow.api_fastapi.core_api.services.ui.connections import HookMetaService\n"
        "(meta,) = [h for h in HookMetaService.hook_meta_data() if h.connection_type == 'ecwid']\n"
        "print('META ' + meta.model_dump_json())\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=True)
    meta = json.loads(next(line for line in done.stdout.splitlines() if line.startswith("META "))[5:])
    standard: dict[str, Any] = meta["standard_fields"]
    assert standard is not None, "Airflow dropped the field behaviour: generic form"
    assert (standard["login"]["title"], standard["password"]["title"]) == ("Store ID", "Secret token")
    assert [standard[name]["hidden"] for name in ("host", "port", "url_schema")] == [True, True, True]
    extra = meta["extra_fields"] or {}
    assert set(extra) == set(EXTRA_FIELDS)
    for name in EXTRA_FIELDS:
        assert extra[name]["schema"]["title"] == LABELS[name]
        assert extra[name]["description"], f"{name} has no help text"
