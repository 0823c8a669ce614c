#!/usr/bin/env bash
# Gradescope runs this once, as root, when it builds the autograder image.
# AUTOGRADER_ROOT exists for local trials (the venv goes into ROOT/source/.venv).
set -euo pipefail
cd "${AUTOGRADER_ROOT:-/autograder}/source"
export DEBIAN_FRONTEND=noninteractive
PYTHON=""
for candidate in python3.13 python3.12 python3.11 python3; do
  if command -v "$candidate" >/dev/null && "$candidate" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    PYTHON="$candidate"; break
  fi
done
if [ -z "$PYTHON" ]; then  # Ubuntu 22.04 images ship Python 3.10
  apt-get update
  apt-get install -y software-properties-common
  add-apt-repository -y ppa:deadsnakes/ppa
  apt-get update
  apt-get install -y python3.11 python3.11-venv
  PYTHON=python3.11
fi
# Ubuntu's Python keeps ensurepip (which venv needs) in the separate python3.X-venv package.
if ! "$PYTHON" -c 'import ensurepip, venv' >/dev/null 2>&1; then
  version="$("$PYTHON" -c 'import sys; print("%d.%d" % sys.version_info[:2])')"
  apt-get update
  apt-get install -y "python${version}-venv" || apt-get install -y python3-venv
fi
apt-get install -y util-linux >/dev/null 2>&1 || true   # unshare and setpriv for the sandbox
# The CPU build of torch (the default one pulls gigabytes of CUDA libraries no grader uses).
PYTHON="$PYTHON" COURSE_EXTRAS="@@extras@@" TORCH_INDEX_URL="https://download.pytorch.org/whl/cpu" \
  bash scripts/setup.sh
# Hidden tests, their expected values and the quiz keys: readable by root (the grader)
# only, never by the unprivileged user that runs student code.
chmod -R go-rwx autograder quizzes
