"""The README's two commands stay true: the notebooks command really opens JupyterLab
in notebooks/ with the assignments reachable, a second time with no network at all, and the
test command is what CI runs."""
from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


def test_readme_names_both_commands_and_ci_runs_the_test_command():
    commands = re.findall(r"^    (bash scripts/\S+\.sh)$", README, flags=re.M)
    assert commands[:2] == ["bash scripts/notebooks.sh", "bash scripts/test.sh"]
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert "bash scripts/test.sh" in ci
    for script in ("notebooks.sh", "test.sh", "setup-env.sh"):
        assert (ROOT / "scripts" / script).is_file()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url):
    req = urllib.request.Request(url)
    opener = urllib.request.build_opener(_NoRedirect)
    try:
        with opener.open(req, timeout=5) as r:
            return r.status, r.headers, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.headers, b""


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def _lab_env(tmp_path, **extra):
    """An environment for JupyterLab with its settings in ``tmp_path``, not in the user's home."""
    env = dict(os.environ, HOME=str(tmp_path), JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTER_DATA_DIR=str(tmp_path / "data"), JUPYTER_RUNTIME_DIR=str(tmp_path / "run"),
               IPYTHONDIR=str(tmp_path / "ipython"), **extra)
    env.pop("JUPYTER_PATH", None)
    return env


def _offline(tmp_path):
    """pip settings under which any download fails at once: no index, no local wheels."""
    nowhere = tmp_path / "no-wheels"
    nowhere.mkdir(exist_ok=True)
    return {"PIP_NO_INDEX": "1", "PIP_INDEX_URL": "http://127.0.0.1:9/simple",
            "PIP_EXTRA_INDEX_URL": "http://127.0.0.1:9/simple", "PIP_FIND_LINKS": str(nowhere)}


class _Lab:
    """`bash scripts/notebooks.sh` started on a free port; waits until JupyterLab answers."""

    def __init__(self, tmp_path, env):
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = tmp_path / "lab.log"
        self._log = open(self.log_path, "w")
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            ["bash", "scripts/notebooks.sh", "--no-browser", f"--port={self.port}",
             "--ServerApp.ip=127.0.0.1", "--ServerApp.token=", "--ServerApp.password=",
             "--ServerApp.port_retries=0"],
            cwd=ROOT, env=env, stdout=self._log, stderr=subprocess.STDOUT, start_new_session=True)

    def log(self):
        return self.log_path.read_text()

    def wait(self, timeout):
        """Seconds until /api/status answered; fails if the script exits or time runs out."""
        deadline = self.started + timeout
        while True:
            assert self.proc.poll() is None, "scripts/notebooks.sh exited:\n" + self.log()
            try:
                status, _, _ = _get(self.base + "/api/status")
                if status == 200:
                    return time.monotonic() - self.started
            except OSError:
                pass
            assert time.monotonic() < deadline, "JupyterLab did not start:\n" + self.log()
            time.sleep(0.5)

    def stop(self):
        """Stop the server we started, and its kernels (its own process group)."""
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=20)
        except ProcessLookupError:  # it had exited already
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        self._log.close()


def test_notebooks_command_opens_jupyterlab_in_notebooks(tmp_path):
    lab = _Lab(tmp_path, _lab_env(tmp_path))
    try:
        lab.wait(240)  # the first launch may install the environment
        status, headers, _ = _get(lab.base + "/")
        location = headers["Location"]
        assert status in (301, 302) and location.split("?")[0].rstrip("/").endswith("/lab/tree/notebooks"), location
        status, _, body = _get(lab.base + "/api/contents/notebooks")
        names = {item["name"] for item in json.loads(body)["content"]}
        assert "00_tour.ipynb" in names
        status, _, body = _get(lab.base + "/api/contents/course/release")
        assert status == 200 and {"A1", "A2", "A3", "A4"} <= {i["name"] for i in json.loads(body)["content"]}
    finally:
        lab.stop()


def _setup(*extras, env=None):
    return subprocess.run(["bash", "scripts/setup-env.sh", *extras], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=900)


STAMP = ROOT / ".venv" / "raftbook-setup.json"


def test_notebooks_command_starts_without_network_once_installed(tmp_path):
    done = _setup("notebooks")  # with the network: installs only if this checkout lacks it
    assert done.returncode == 0, done.stderr
    key = json.loads(STAMP.read_text())["key"]
    lab = _Lab(tmp_path, _lab_env(tmp_path, **_offline(tmp_path)))
    try:
        seconds = lab.wait(60)
        status, _, body = _get(lab.base + "/api/contents/notebooks")
        assert status == 200 and "00_tour.ipynb" in {i["name"] for i in json.loads(body)["content"]}
    finally:
        lab.stop()
    assert "Installing raftbook" not in lab.log(), lab.log()
    assert json.loads(STAMP.read_text())["key"] == key  # no reinstall
    print(f"second launch, offline: JupyterLab answered after {seconds:.1f} s")


def test_setup_remembers_each_extra_and_installs_the_missing_ones(tmp_path):
    """test.sh after notebooks.sh must still install the test extras; either order after both
    needs no network."""
    done = _setup("test", "notebooks")
    assert done.returncode == 0, done.stderr
    offline = dict(os.environ, **_offline(tmp_path))
    for extras in (("notebooks",), ("test", "notebooks"), ("notebooks", "test"), ()):
        done = _setup(*extras, env=offline)
        assert done.returncode == 0 and "Installing" not in done.stderr, (extras, done.stderr)
    saved = STAMP.read_bytes()
    try:  # as if only `bash scripts/notebooks.sh` had ever run
        recorded = json.loads(saved)
        assert sorted(recorded["extras"]) == ["notebooks", "test"]
        STAMP.write_text(json.dumps(dict(recorded, extras=["notebooks"])))
        assert _setup("notebooks", env=offline).returncode == 0
        done = _setup("test", "notebooks", env=offline)  # pip must run, and cannot
        assert done.returncode == 1
        assert "Installing raftbook[test,notebooks]" in done.stderr
        assert "could not reach the Python package index" in done.stderr, done.stderr
    finally:
        STAMP.write_bytes(saved)
    done = _setup("notebooks", "nonsense", env=offline)
    assert done.returncode == 1 and "raftbook has no extra nonsense" in done.stderr, done.stderr


def test_first_setup_without_network_says_what_to_do(tmp_path):
    """A fresh checkout with no package index: a short, clear error, not a traceback."""
    repo = tmp_path / "repo"
    (repo / "scripts").mkdir(parents=True)
    for name in ("scripts/setup-env.sh", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, repo / name)
    started = time.monotonic()
    done = subprocess.run(["bash", "scripts/setup-env.sh", "notebooks"], cwd=repo,
                          env=dict(os.environ, PYTHON=sys.executable, **_offline(tmp_path)),
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 1, done.stderr
    message = done.stderr.split("\n\nerror: ")[-1]
    assert message.startswith("could not reach the Python package index"), done.stderr
    assert "Connect and run this again" in message and "PIP_INDEX_URL" in message
    assert not (repo / ".venv" / "raftbook-setup.json").exists()
    assert time.monotonic() - started < 120
