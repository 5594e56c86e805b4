"""A throwaway JupyterLab server for the browser tests.

It listens on 127.0.0.1 only, on a free port, with no token and no password,
and keeps every directory it writes (config, data, runtime, IPython, settings,
workspaces, caches) inside a temporary home, so the user's own Jupyter setup
is neither read for settings nor changed. Its output goes to a log file that is
kept with the test artifacts, because that log is the first thing to read when
a browser test fails.
"""
from __future__ import annotations

import http.cookiejar
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]

START_TIMEOUT_S = 90
STOP_TIMEOUT_S = 20

# Settings a student never has to see in a test: no news or update toasts, and
# every cell in the page (not windowed), so every output can be found and read.
LAB_SETTINGS = {
    "@jupyterlab/apputils-extension/notification.jupyterlab-settings": {
        "fetchNews": "false", "checkForUpdates": False},
    "@jupyterlab/notebook-extension/tracker.jupyterlab-settings": {
        "windowingMode": "none"},
}


def free_loopback_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class JupyterLabServer:
    """Start, probe and stop one JupyterLab process serving ``root``.

    ``app="notebook"`` starts Jupyter Notebook 7 instead (same server, same
    isolation); :meth:`lab_url` then opens a notebook at ``/notebooks/...``.
    """

    def __init__(self, root: Path, home: Path, log_path: Path, app: str = "jupyterlab"):
        if app not in ("jupyterlab", "notebook"):
            raise ValueError(f"app is 'jupyterlab' or 'notebook'; got {app!r}")
        self.app = app
        self.root = Path(root)
        self.home = Path(home)
        self.log_path = Path(log_path)
        self.port: int | None = None
        self.proc: subprocess.Popen | None = None
        self._log = None
        self._opener = None
        self._xsrf = ""

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def lab_url(self, relpath: str) -> str:
        """The address that opens ``relpath`` (relative to the root) in this server's app."""
        if self.app == "notebook":
            return f"{self.url}/notebooks/{relpath}"
        return f"{self.url}/lab/tree/{relpath}"

    # ------------------------------------------------------------------ setup
    def _write_config(self) -> dict:
        """Write the throwaway config and return the environment the server runs in."""
        dirs = {name: self.home / name for name in
                ("config", "data", "runtime", "ipython", "settings", "workspaces", "cache",
                 "mplconfig")}
        for d in dirs.values():
            d.mkdir(parents=True, exist_ok=True)
        config = {
            "ServerApp": {
                "ip": "127.0.0.1",
                "port": self.port,
                "port_retries": 0,
                "open_browser": False,
                "root_dir": str(self.root),
                "password": "",
                "allow_remote_access": False,
                "allow_root": True,  # CI containers run as root
                "shutdown_no_activity_timeout": 0,
            },
            "IdentityProvider": {"token": ""},
            "LabApp": {
                "check_for_updates_class": "jupyterlab.NeverCheckForUpdate",
                "user_settings_dir": str(dirs["settings"]),
                "workspaces_dir": str(dirs["workspaces"]),
                "news_url": None,
            },
            "LanguageServerManager": {"autodetect": False},
        }
        (dirs["config"] / "jupyter_server_config.json").write_text(json.dumps(config, indent=1))
        for rel, values in LAB_SETTINGS.items():
            target = dirs["settings"] / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(json.dumps(values))
        env = {k: v for k, v in os.environ.items()
               if not k.startswith(("JUPYTER", "JPY_", "IPYTHON"))}
        env.update({
            "HOME": str(self.home),
            "JUPYTER_CONFIG_DIR": str(dirs["config"]),
            "JUPYTER_DATA_DIR": str(dirs["data"]),
            "JUPYTER_RUNTIME_DIR": str(dirs["runtime"]),
            "JUPYTERLAB_SETTINGS_DIR": str(dirs["settings"]),
            "JUPYTERLAB_WORKSPACES_DIR": str(dirs["workspaces"]),
            "IPYTHONDIR": str(dirs["ipython"]),
            "XDG_CACHE_HOME": str(dirs["cache"]),
            "MPLCONFIGDIR": str(dirs["mplconfig"]),
            "JUPYTER_PLATFORM_DIRS": "1",
            "PYTHONDONTWRITEBYTECODE": "1",
        })
        return env

    # ------------------------------------------------------------------ life cycle
    def start(self, attempts: int = 3) -> None:
        """Start the server and wait until its REST API answers.

        The free port is chosen just before the server binds it; if something
        else took it meanwhile, the server exits at once and we try another.
        """
        for _ in range(attempts):
            if self._start_once():
                return
        raise RuntimeError(f"JupyterLab found its port taken {attempts} times in a row; is "
                           f"something opening ports fast on 127.0.0.1? Its log: {self.log_path}")

    def _start_once(self) -> bool:
        """One start; False if the port was taken under us (the caller retries)."""
        self.port = free_loopback_port()
        env = self._write_config()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        self._log = open(self.log_path, "wb")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", self.app, "--no-browser"],
            cwd=self.root, env=env, stdin=subprocess.DEVNULL, stdout=self._log,
            stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + START_TIMEOUT_S
        while True:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                tail = self.log_tail()
                self.stop()
                if "already in use" in tail:
                    return False
                raise RuntimeError(f"JupyterLab exited with code {code} while starting; its "
                                   f"log is {self.log_path}:\n{tail}")
            if self._answers():
                return True
            if time.monotonic() > deadline:
                tail = self.log_tail()
                self.stop()
                raise RuntimeError(f"JupyterLab did not answer on {self.url} within "
                                   f"{START_TIMEOUT_S} s; its log is {self.log_path}:\n{tail}")
            time.sleep(0.2)  # polling the server's own status, not waiting for the page

    def _answers(self) -> bool:
        try:
            with urllib.request.urlopen(f"{self.url}/api/status", timeout=2) as r:
                return r.status == 200
        except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
            return False

    def api(self, path: str, method: str = "GET"):
        """Call the server's REST API, with the XSRF cookie and header a browser would send."""
        if self._opener is None:
            jar = http.cookiejar.CookieJar()
            self._opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(jar))
            start = "/lab" if self.app == "jupyterlab" else "/tree"
            self._opener.open(f"{self.url}{start}", timeout=30).read()  # sets the _xsrf cookie
            self._xsrf = next((c.value for c in jar if c.name == "_xsrf"), "")
        req = urllib.request.Request(f"{self.url}{path}", method=method,
                                     headers={"X-XSRFToken": self._xsrf})
        with self._opener.open(req, timeout=30) as r:
            body = r.read()
        return json.loads(body) if body else None

    def shutdown_sessions(self) -> None:
        """Shut down every notebook session and its kernel, so the next test starts fresh."""
        for session in self.api("/api/sessions") or []:
            try:
                self.api(f"/api/sessions/{session['id']}", method="DELETE")
            except urllib.error.HTTPError as exc:
                if exc.code != 404:  # already gone is fine
                    raise

    def stop(self) -> None:
        """Stop the server and its kernels (they share its process group)."""
        proc, self.proc = self.proc, None
        if proc is not None and proc.poll() is None:
            try:
                os.killpg(proc.pid, signal.SIGTERM)
                proc.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(STOP_TIMEOUT_S)
            except ProcessLookupError:
                pass
        if proc is not None:
            try:  # a kernel that outlived the server is still in its process group
                os.killpg(proc.pid, 0)
                os.killpg(proc.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        if self._log is not None:
            self._log.close()
            self._log = None

    def log_tail(self, lines: int = 40) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "(no log)"
        return "\n".join(text.splitlines()[-lines:])
