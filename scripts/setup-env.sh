#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment in .venv and install raftbook
# with the extras named as arguments, e.g.: bash scripts/setup-env.sh test notebooks
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
    echo "raftbook needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2
    exit 1
fi
[ -x .venv/bin/python ] || "$PYTHON" -m venv .venv
extras=$(IFS=,; echo "$*")
.venv/bin/python -m pip install --quiet --upgrade pip
.venv/bin/python -m pip install --quiet -e ".${extras:+[$extras]}"
