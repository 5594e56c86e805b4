"""The Binder recipe (binder/), tested as Binder uses it.

The quick checks read the recipe: exact pins, no test tools, every module the
notebooks import is installed, the runtime and postBuild are what repo2docker
expects. The slow test builds it: a fresh virtual environment from
binder/requirements.txt (downloaded from PyPI, as Binder does), the postBuild
step in a copy of the repository, every notebook run top to bottom in that
environment's kernel, and JupyterLab started there to check it opens in
notebooks/ with the widget extension. It takes a minute or two with a warm pip
cache; set RAFTBOOK_SKIP_BINDER=1 to skip it locally (CI runs it).
"""
from __future__ import annotations

import ast
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
BINDER = ROOT / "binder"
NOTEBOOKS = ROOT / "notebooks"
#: Distributions a Binder environment must not carry: test and grading tools.
TEST_TOOLS = {"pytest", "hypothesis", "nbgrader", "playwright", "pytest-xdist", "nbclient"}
#: Import names that differ from their distribution's name.
DISTRIBUTION_OF = {"matplotlib": "matplotlib", "pandas": "pandas", "networkx": "networkx",
                   "ipywidgets": "ipywidgets"}
SKIP = os.environ.get("RAFTBOOK_SKIP_BINDER", "") not in ("", "0")


def pins() -> dict[str, str]:
    """binder/requirements.txt as {distribution: version}; every line must be name==version."""
    found = {}
    for line in (BINDER / "requirements.txt").read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        m = re.fullmatch(r"([A-Za-z0-9_.-]+)==([0-9][A-Za-z0-9_.+-]*)", line)
        assert m, f"binder/requirements.txt: {line!r} is not an exact pin (name==version)"
        found[m.group(1).lower()] = m.group(2)
    return found


def canonical(name: str) -> str:
    return re.split(r"[<>=!~;\[ ]", name, maxsplit=1)[0].strip().lower()


# -- reading the recipe --------------------------------------------------------------------

def test_requirements_are_exact_pins_without_test_tools():
    found = pins()
    assert {"jupyterlab", "ipywidgets", "pandas", "networkx", "matplotlib"} <= set(found)
    assert not TEST_TOOLS & set(found), f"test tools in the Binder environment: {TEST_TOOLS & set(found)}"


def test_requirements_cover_raftbooks_own_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    needed = {canonical(d) for d in project["dependencies"]}
    missing = needed - set(pins())
    assert not missing, (f"raftbook needs {sorted(missing)}, which binder/requirements.txt does not "
                         "pin (postBuild installs raftbook with --no-deps)")


def test_every_module_the_notebooks_import_is_installed_on_binder():
    local = {p.stem for p in NOTEBOOKS.glob("*.py")}
    wanted = set()
    for path in NOTEBOOKS.glob("*.ipynb"):
        for cell in nbformat.read(path, as_version=4).cells:
            if cell.cell_type != "code":
                continue
            for node in ast.walk(ast.parse(cell.source)):
                if isinstance(node, ast.Import):
                    wanted |= {a.name.split(".")[0] for a in node.names}
                elif isinstance(node, ast.ImportFrom) and node.level == 0:
                    wanted.add(node.module.split(".")[0])
    third_party = wanted - set(sys.stdlib_module_names) - local - {"raftbook"}
    unknown = {m for m in third_party if DISTRIBUTION_OF.get(m) not in pins()}
    assert not unknown, (f"the notebooks import {sorted(unknown)}: pin the distribution in "
                         "binder/requirements.txt (and name it in DISTRIBUTION_OF here)")


def test_runtime_and_post_build_are_what_repo2docker_expects():
    assert (BINDER / "runtime.txt").read_text().strip() == "python-3.11"
    post = BINDER / "postBuild"
    assert os.access(post, os.X_OK), "binder/postBuild must be executable (git add --chmod=+x)"
    text = post.read_text()
    assert text.startswith("#!/usr/bin/env bash") and "set -euo pipefail" in text
    assert re.search(r"pip install .*--no-deps \.$", text, re.M), "postBuild must install raftbook"


# -- building it ---------------------------------------------------------------------------

def run(cmd, **kw):
    done = subprocess.run(cmd, capture_output=True, text=True, **kw)
    assert done.returncode == 0, (f"{' '.join(map(str, cmd))} failed ({done.returncode}):\n"
                                  f"{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return done


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


RUN_NOTEBOOKS = r"""
import json, sys
from pathlib import Path
import nbformat
from nbclient import NotebookClient
report = {}
for path in sorted(Path(".").glob("*.ipynb")):
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=240, kernel_name="python3",
                   resources={"metadata": {"path": "."}}).execute()
    text = "".join(o.get("text", "") for c in nb.cells for o in c.get("outputs", []))
    report[path.stem] = text
print(json.dumps(report))
"""


@pytest.fixture(scope="module")
def binder_env(tmp_path_factory):
    """A repository copy with a fresh environment built from binder/, as repo2docker would."""
    base = tmp_path_factory.mktemp("binder")
    repo = base / "repo"
    shutil.copytree(ROOT, repo, ignore=shutil.ignore_patterns(
        ".git", ".venv", "__pycache__", "*.egg-info", "build", "dist", ".pytest_cache",
        ".hypothesis", ".ipynb_checkpoints", "test-artifacts", "node_modules"))
    venv = base / "env"
    run([sys.executable, "-m", "venv", str(venv)])
    bin_dir = venv / "bin"
    env = {k: v for k, v in os.environ.items()
           if k not in ("VIRTUAL_ENV", "PYTHONPATH", "PYTHONHOME", "JUPYTER_PATH")}
    env.update(PATH=f"{bin_dir}{os.pathsep}{env.get('PATH', '')}", VIRTUAL_ENV=str(venv),
               HOME=str(base / "home"), JUPYTER_CONFIG_DIR=str(base / "jupyter-config"),
               JUPYTER_DATA_DIR=str(base / "jupyter-data"),
               JUPYTER_RUNTIME_DIR=str(base / "jupyter-runtime"),
               PIP_CACHE_DIR=os.environ.get("PIP_CACHE_DIR",
                                            str(Path.home() / ".cache" / "pip")),
               PIP_DISABLE_PIP_VERSION_CHECK="1", MPLBACKEND="Agg")
    (base / "home").mkdir()
    run([bin_dir / "python", "-m", "pip", "install", "--quiet", "-r",
         repo / "binder" / "requirements.txt"], env=env, cwd=repo)
    run(["bash", "binder/postBuild"], env=env, cwd=repo)
    return {"repo": repo, "venv": venv, "bin": bin_dir, "env": env}


@pytest.mark.skipif(SKIP, reason="RAFTBOOK_SKIP_BINDER is set")
def test_raftbook_comes_from_the_binder_environment(binder_env):
    out = run([binder_env["bin"] / "python", "-c", "import raftbook, sys; print(raftbook.__file__)"],
              env=binder_env["env"], cwd=binder_env["repo"] / "notebooks").stdout.strip()
    assert Path(out).is_relative_to(binder_env["venv"]), f"raftbook imported from {out}"


@pytest.mark.skipif(SKIP, reason="RAFTBOOK_SKIP_BINDER is set")
def test_every_notebook_runs_in_the_binder_environment(binder_env):
    done = run([binder_env["bin"] / "python", "-c", RUN_NOTEBOOKS], env=binder_env["env"],
               cwd=binder_env["repo"] / "notebooks", timeout=900)
    report = json.loads(done.stdout.strip().splitlines()[-1])
    assert sorted(report) == sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))
    for stem, text in report.items():
        assert "Not quite" not in text and "no self-check question" not in text, stem


@pytest.mark.skipif(SKIP, reason="RAFTBOOK_SKIP_BINDER is set")
def test_jupyterlab_opens_in_notebooks_with_the_widget_extension(binder_env):
    bin_dir, env, repo = binder_env["bin"], binder_env["env"], binder_env["repo"]
    extensions = run([bin_dir / "jupyter", "labextension", "list"], env=env, cwd=repo)
    assert "@jupyter-widgets/jupyterlab-manager" in extensions.stdout + extensions.stderr
    port, token = free_port(), "raftbook-binder-test"
    server = subprocess.Popen(
        [bin_dir / "jupyter", "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
         f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={repo}"]
        + (["--allow-root"] if os.geteuid() == 0 else []),  # Binder runs as a user, CI may not
        env=env, cwd=repo, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # a hang guard while the server starts
        while True:
            try:
                urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5)
                break
            except (urllib.error.URLError, ConnectionError):
                assert server.poll() is None, f"JupyterLab exited:\n{server.stderr.read()[-3000:]}"
                assert time.monotonic() < deadline, "JupyterLab did not start within 120 s"
                time.sleep(0.5)

        class NoRedirect(urllib.request.HTTPRedirectHandler):
            def redirect_request(self, *args, **kwargs):
                return None
        opener = urllib.request.build_opener(NoRedirect)
        try:
            opener.open(f"{base}/?token={token}", timeout=10)
            location = ""
        except urllib.error.HTTPError as redirect:
            location = redirect.headers.get("Location", "")
        assert urllib.parse.urlsplit(location).path.endswith("/lab/tree/notebooks"), \
            f"/ redirects to {location!r}, not to JupyterLab in notebooks/"
        with urllib.request.urlopen(f"{base}/api/contents/notebooks?token={token}", timeout=10) as r:
            listed = {item["name"] for item in json.load(r)["content"]}
        assert {p.name for p in NOTEBOOKS.glob("*.ipynb")} <= listed
        with urllib.request.urlopen(f"{base}/lab/tree/notebooks/00_tour.ipynb?token={token}",
                                    timeout=10) as r:
            assert r.status == 200
    finally:
        stop(server)


def stop(server: subprocess.Popen) -> None:
    """Stop the server we started, and its kernels (its own process group)."""
    if server.poll() is not None:
        return
    os.killpg(server.pid, signal.SIGTERM)
    try:
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait()
