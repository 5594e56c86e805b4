#!/usr/bin/env bash
# Set up raftbook and open the notebooks in JupyterLab.
# Extra arguments go to JupyterLab, e.g.: bash scripts/notebooks.sh --no-browser --port 8899
# Only the first run (or one after pyproject.toml changes) needs the network: see setup-env.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-env.sh notebooks
extra=()
# JupyterLab refuses to start as root (containers, cloud shells) unless told it may.
[ "$(id -u)" = 0 ] && extra+=(--allow-root)
# Serve the whole repository (notebooks/ and the assignments in course/release/), opening notebooks/.
exec .venv/bin/jupyter lab --ServerApp.root_dir="$PWD" --LabApp.default_url=/lab/tree/notebooks \
    "${extra[@]}" "$@"
