#!/usr/bin/env bash
# Create (or reuse) .venv and install the course package with what its tests need.
# Safe to run again: an existing venv is reused and pip skips what is installed.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python3}"
EXTRAS="${COURSE_EXTRAS:-dev}"
if [ ! -x .venv/bin/python ]; then
  "$PYTHON" -m venv .venv
  .venv/bin/python -m pip install --quiet --upgrade pip
fi
# TORCH_INDEX_URL (e.g. the CPU wheel index, for CI and autograders) installs the pinned
# torch from there first; the package install below then finds it satisfied.
if [ -n "${TORCH_INDEX_URL:-}" ]; then
  torch_pin="$(.venv/bin/python -c 'import tomllib; print(tomllib.load(open("pyproject.toml", "rb"))["project"]["optional-dependencies"]["torch"][0])')"
  .venv/bin/python -m pip install --disable-pip-version-check --quiet --index-url "$TORCH_INDEX_URL" "$torch_pin"
fi
if ! .venv/bin/python -m pip install --disable-pip-version-check -e ".[${EXTRAS}]" > .venv/pip.log 2>&1; then
  grep -v "is ignored: it is neither a file nor a directory" .venv/pip.log >&2
  echo "setup failed: pip could not install the course package (full log: .venv/pip.log)" >&2
  exit 1
fi
.venv/bin/python -c "import coursepack, torch; print('course package ready: torch', torch.__version__)"
