"""DAG files import the operators: that must stay cheap, so the data stack loads only when a task runs."""

from __future__ import annotations

import subprocess
import sys

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
