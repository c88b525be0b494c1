# Sourced by scripts/demo and scripts/test: makes .venv with the project's dependencies.
# Needs only Python 3.11 on the machine; uses uv when it is there (or installable) for speed.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-$(command -v python3.11 || command -v python3)}"
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info[:2] != (3, 11))'; then
  echo "ml-connector needs Python 3.11 (Django 5.2 LTS); $PYTHON is $("$PYTHON" --version 2>&1)." >&2
  exit 1
fi
PYTHON="$("$PYTHON" -c 'import sys; print(sys.executable)')"

stamp=.venv/.installed-$(sha256sum pyproject.toml | cut -c1-16)
if [ ! -f "$stamp" ]; then
  echo "== Installing dependencies into .venv"
  if ! command -v uv >/dev/null 2>&1; then
    "$PYTHON" -m pip install -q uv >/dev/null 2>&1 || true
  fi
  if command -v uv >/dev/null 2>&1; then
    [ -x .venv/bin/python ] || uv venv -q -p "$PYTHON" .venv
    uv pip install -q -p .venv/bin/python -r pyproject.toml --extra test
  else
    [ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
    .venv/bin/pip install -q --upgrade pip
    .venv/bin/pip install -q -e ".[test]"
  fi
  rm -f .venv/.installed-*
  touch "$stamp"
fi
export PATH="$PWD/.venv/bin:$PATH"
