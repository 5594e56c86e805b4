#!/usr/bin/env bash
# Set up raftbook with its test tools and run the whole test suite.
# Extra arguments go to pytest, e.g.: bash scripts/test.sh -k election
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-env.sh test notebooks
# The browser tests drive Debian's Chromium; test tools never download a browser of their own.
if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        (apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium) >/dev/null
    else
        echo "note: no chromium on this machine; the browser tests will be skipped" >&2
        echo "      (install it with: sudo apt-get install chromium)" >&2
    fi
fi
exec .venv/bin/python -m pytest "$@"
