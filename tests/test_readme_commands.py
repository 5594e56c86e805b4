"""The README's two commands stay true: the notebooks command really opens JupyterLab
in notebooks/ with the assignments reachable, and the test command is what CI runs."""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
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


def test_notebooks_command_opens_jupyterlab_in_notebooks(tmp_path):
    port = _free_port()
    env = dict(os.environ, HOME=str(tmp_path), JUPYTER_CONFIG_DIR=str(tmp_path / "config"),
               JUPYTER_DATA_DIR=str(tmp_path / "data"), JUPYTER_RUNTIME_DIR=str(tmp_path / "run"),
               IPYTHONDIR=str(tmp_path / "ipython"))
    env.pop("JUPYTER_PATH", None)
    log = open(tmp_path / "lab.log", "w")
    proc = subprocess.Popen(
        ["bash", "scripts/notebooks.sh", "--no-browser", f"--port={port}", "--ServerApp.ip=127.0.0.1",
         "--ServerApp.token=", "--ServerApp.password=", "--ServerApp.port_retries=0"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240
        while True:
            assert proc.poll() is None, (tmp_path / "lab.log").read_text()
            try:
                status, _, _ = _get(base + "/api/status")
                if status == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "JupyterLab did not start:\n" + (tmp_path / "lab.log").read_text()
            time.sleep(1)
        status, headers, _ = _get(base + "/")
        location = headers["Location"]
        assert status in (301, 302) and location.split("?")[0].rstrip("/").endswith("/lab/tree/notebooks"), location
        status, _, body = _get(base + "/api/contents/notebooks")
        names = {item["name"] for item in json.loads(body)["content"]}
        assert "00_tour.ipynb" in names
        status, _, body = _get(base + "/api/contents/course/release")
        assert status == 200 and {"A1", "A2", "A3", "A4"} <= {i["name"] for i in json.loads(body)["content"]}
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
        log.close()
