# Shared by scripts/test and scripts/demo: make a virtual environment and install the provider with its test extras.
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
  echo "== installing airflow-provider-ecwid[test] into $venv with $constraints"
  "$venv/bin/uv" pip install --quiet --python "$venv/bin/python" -e ".[test]" --constraint "$constraints"
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
