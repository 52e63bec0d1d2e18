# Shared by scripts/test and scripts/demo: make a virtual environment and install the provider with its test extras
# (the newest row: the deployment extra, which includes the test extra).
# uv (installed into the venv from PyPI) does the resolving because it is several times faster than pip.
#
# ensure_venv [VENV [CONSTRAINTS]]: VENV defaults to .venv, CONSTRAINTS to the newest row's file
# (constraints/airflow-3.3.txt); each matrix row of scripts/test passes its own pair.
ensure_venv() {
  local venv="${1:-.venv}" constraints="${2:-constraints/airflow-3.3.txt}"
  local python="${PYTHON:-python3}"
  if [ ! -x "$venv/bin/python" ]; then
    echo "== creating $venv with $($python --version)"
    "$python" -m venv "$venv"
  fi
  if [ ! -x "$venv/bin/uv" ]; then
    "$venv/bin/python" -m pip install --quiet --disable-pip-version-check uv
  fi
  # the newest row also gets the deployment extra (Playwright, OpenLineage) for tests/deployment
  local extras=test
  [ "$constraints" != constraints/airflow-3.3.txt ] || extras=deployment
  echo "== installing airflow-provider-ecwid[$extras] into $venv with $constraints"
  "$venv/bin/uv" pip install --quiet --python "$venv/bin/python" -e ".[$extras]" --constraint "$constraints"
}

# The versions a venv resolved, on one line: Python, Airflow, pandas, pyarrow, the common-compat provider.
resolved_versions() {
  "$1/bin/python" - <<'PY'
import platform
from importlib.metadata import version

names = ["apache-airflow", "pandas", "pyarrow", "apache-airflow-providers-common-compat"]
print(f"Python {platform.python_version()}, " + ", ".join(f"{name} {version(name)}" for name in names))
PY
}
