# Shared by scripts/test, scripts/demo and scripts/pin-constraints: make virtual environments and install the
# provider into them from a row's constraints file.
#
# Each row has two files in constraints/:
#   airflow-X.in   the row's ranges (Airflow X, its pandas, and the caps we know we need), edited by hand;
#   airflow-X.txt  every package of the row's environment pinned (==), generated from the .in file by
#                  scripts/pin-constraints. scripts/test installs the rows from these, so CI is reproducible.
#
# uv does the resolving because it is several times faster than pip. It lives in a venv of its own (.venv-uv),
# so that pinning works before any row's environment exists.

NEWEST_ROW_CONSTRAINTS=constraints/airflow-3.3.txt

# uv_bin: the path of uv, installed into .venv-uv from PyPI on first use.
uv_bin() {
  local python="${PYTHON:-python3}"
  if [ ! -x .venv-uv/bin/uv ]; then
    "$python" -m venv .venv-uv >&2
    .venv-uv/bin/python -m pip install --quiet --disable-pip-version-check uv >&2
  fi
  echo .venv-uv/bin/uv
}

# groups_for CONSTRAINTS: the dependency groups a row installs (pyproject.toml's [dependency-groups]). The newest
# row also gets `deployment` (Playwright, OpenLineage) for tests/deployment.
groups_for() {
  case "$1" in
    constraints/airflow-3.3.*) echo deployment ;;
    *) echo test ;;
  esac
}

# ensure_venv [VENV [CONSTRAINTS]]: VENV defaults to .venv, CONSTRAINTS to the newest row's pinned file.
# Installs the provider (editable, with its `testing` extra, the emulator) and the row's dependency group.
ensure_venv() {
  local venv="${1:-.venv}" constraints="${2:-$NEWEST_ROW_CONSTRAINTS}"
  local python="${PYTHON:-python3}" uv group
  uv=$(uv_bin)
  group=$(groups_for "$constraints")
  if [ ! -x "$venv/bin/python" ]; then
    echo "== creating $venv with $($python --version)"
    "$python" -m venv "$venv"
  fi
  echo "== installing airflow-provider-ecwid[testing] and the '$group' group into $venv with $constraints"
  "$uv" pip install --quiet --python "$venv/bin/python" -e ".[testing]" --group "$group" --constraint "$constraints"
}

# The versions a venv resolved, on one line: Python, Airflow, pandas, pyarrow, cryptography, common-compat.
resolved_versions() {
  "$1/bin/python" - <<'PY'
import platform
from importlib.metadata import version

names = ["apache-airflow", "pandas", "pyarrow", "cryptography", "apache-airflow-providers-common-compat"]
print(f"Python {platform.python_version()}, " + ", ".join(f"{name} {version(name)}" for name in names))
PY
}
