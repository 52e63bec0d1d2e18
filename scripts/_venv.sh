# Shared by scripts/test and scripts/demo: make .venv and install the provider with its test extras.
# uv (installed into the venv from PyPI) does the resolving because it is several times faster than pip.
ensure_venv() {
  local python="${PYTHON:-python3}"
  if [ ! -x .venv/bin/python ]; then
    echo "== creating .venv with $($python --version)"
    "$python" -m venv .venv
  fi
  if [ ! -x .venv/bin/uv ]; then
    .venv/bin/python -m pip install --quiet --disable-pip-version-check uv
  fi
  echo "== installing airflow-provider-ecwid[test] into .venv"
  .venv/bin/uv pip install --quiet --python .venv/bin/python -e ".[test]"
}
