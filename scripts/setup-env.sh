#!/usr/bin/env bash
# Create (or reuse) the project's virtual environment in .venv and install raftbook
# with the extras named as arguments, e.g.: bash scripts/setup-env.sh test notebooks
#
# Once installed, nothing is downloaded again: a stamp in .venv records a hash of
# pyproject.toml (and the Python version) and the extras installed. raftbook is installed in
# editable mode, so edits to its code need no reinstall; pip runs again only when
# pyproject.toml changes, when extras not installed yet are asked for, or when a distribution
# the project needs is missing from .venv. So, after the first run, this works offline.
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON=${PYTHON:-python3}
STAMP=.venv/raftbook-setup.json

if [ -x .venv/bin/python ] && ! .venv/bin/python -c pass 2>/dev/null; then
    echo "error: .venv/bin/python does not run (was the Python it was made from removed?)." >&2
    echo "       Delete .venv (rm -rf .venv) and run this again to create it afresh." >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    if ! "$PYTHON" -c 'import sys; sys.exit(sys.version_info < (3, 11))'; then
        echo "raftbook needs Python 3.11 or newer; set PYTHON=/path/to/python3.11" >&2
        exit 1
    fi
    "$PYTHON" -m venv .venv
fi

# Reads the stamp and .venv. `check EXTRA...` exits 0 when the environment already holds
# everything asked for, 1 when pip must run, 2 for an unknown extra; `write EXTRA...` records a successful install.
stamp() {
    # -I: only .venv counts (not the checkout's own raftbook.egg-info, not PYTHON* variables)
    .venv/bin/python -I - "$STAMP" "$@" <<'PY'
import hashlib, json, re, sys, tomllib
from importlib import metadata
from pathlib import Path

stamp_path, action, extras = Path(sys.argv[1]), sys.argv[2], sorted(set(sys.argv[3:]))
root = Path.cwd().resolve()
recipe = b"".join(p.read_bytes() for p in (root / "pyproject.toml", root / "setup.py",
                                           root / "setup.cfg") if p.exists())
key = hashlib.sha256(recipe + sys.version.encode()).hexdigest()
try:
    old = json.loads(stamp_path.read_text())
except (OSError, ValueError):
    old = {}
if action == "write":
    kept = old.get("extras", []) if old.get("key") == key else []
    stamp_path.write_text(json.dumps({"key": key, "extras": sorted(set(kept) | set(extras))}) + "\n")
    sys.exit(0)
project = tomllib.loads(recipe.decode())["project"]
unknown = set(extras) - set(project.get("optional-dependencies", {}))
if unknown:
    print(f"error: raftbook has no extra {', '.join(sorted(unknown))} (its extras: "
          f"{', '.join(sorted(project.get('optional-dependencies', {})))})", file=sys.stderr)
    sys.exit(2)
if old.get("key") != key or not set(extras) <= set(old.get("extras", [])):
    sys.exit(1)
# The stamp agrees; check that .venv still holds what it promises.
wanted = list(project.get("dependencies", []))
for extra in extras:
    wanted += project.get("optional-dependencies", {}).get(extra, [])
try:
    from pip._vendor.packaging.requirements import Requirement
except ImportError:
    Requirement = None
for spec in wanted:
    name = re.split(r"[<>=!~;\[ ]", spec, maxsplit=1)[0]
    try:
        version = metadata.version(name)
    except metadata.PackageNotFoundError:
        sys.exit(1)
    if Requirement is not None:
        req = Requirement(spec)
        if (req.marker is None or req.marker.evaluate()) and not req.specifier.contains(version, prereleases=True):
            sys.exit(1)
try:
    url = json.loads(metadata.distribution("raftbook").read_text("direct_url.json") or "{}").get("url")
except metadata.PackageNotFoundError:
    sys.exit(1)
sys.exit(0 if url == root.as_uri() else 1)  # an editable install of this very checkout
PY
}

status=0
stamp check "$@" || status=$?
case $status in
    0) exit 0 ;;          # everything is installed already: no network needed
    1) ;;                 # something to install
    *) exit 1 ;;          # a mistake, already explained
esac

extras=$(IFS=,; echo "$*")
echo "Installing raftbook${extras:+[$extras]} and its dependencies into .venv ..." >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
if ! { .venv/bin/python -m pip install --quiet --upgrade pip &&
       .venv/bin/python -m pip install --quiet -e ".${extras:+[$extras]}"; } 2>"$log"; then
    cat "$log" >&2
    echo >&2
    if grep -qiE "connection|network|resolve|timed out|no matching distribution|could not find a version|proxy|ssl|HTTPError" "$log"; then
        echo "error: could not reach the Python package index to install raftbook${extras:+[$extras]}." >&2
        echo "       The first setup, and any change to pyproject.toml or to the extras asked for, needs" >&2
        echo "       the network (or a package mirror: set PIP_INDEX_URL). Connect and run this again;" >&2
        echo "       after that it starts without network." >&2
    else
        echo "error: pip could not install raftbook${extras:+[$extras]} into .venv (its messages are above)." >&2
        echo "       If .venv is damaged, delete it (rm -rf .venv) and run this again." >&2
    fi
    exit 1
fi
stamp write "$@"
