#!/usr/bin/env bash
# Set up raftbook and open the notebooks in JupyterLab.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-env.sh notebooks
exec .venv/bin/jupyter lab notebooks/ "$@"
