#!/usr/bin/env bash
# Set up raftbook with its test tools and run the whole test suite.
# Extra arguments go to pytest, e.g.: bash scripts/test.sh -k election
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-env.sh test notebooks
exec .venv/bin/python -m pytest "$@"
