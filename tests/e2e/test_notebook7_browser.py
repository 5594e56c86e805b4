"""The cluster widget in Jupyter Notebook 7 (not only JupyterLab): it draws and answers a click.

Notebook 7 is a different front end on the same server: its own page at
``/notebooks/<path>``, its own widget manager set-up. A student who opens a
notebook there must get the same picture, and Tick must move it on.
"""
from __future__ import annotations

import time
import urllib.error

import pytest

import raftbook as rb

from .cluster_ui import ClusterWidgetUI
from .lab_server import JupyterLabServer
from .notebook_ui import RUN_ALL_TIMEOUT_MS, write_notebook

CELL = "import raftbook as rb\nc = rb.Cluster(5, seed=7)\nrb.show(c)"


@pytest.fixture(scope="module")
def notebook7(chromium_path, tmp_path_factory, artifacts_dir):
    """A Jupyter Notebook 7 server (loopback, no token, throwaway config), with one widget notebook."""
    pytest.importorskip("notebook", reason="Jupyter Notebook 7 (the 'notebook' package) is not installed")
    root = tmp_path_factory.mktemp("nb7-root")
    write_notebook(root / "widget.ipynb", [CELL])
    server = JupyterLabServer(root, tmp_path_factory.mktemp("nb7-home"),
                              log_path=artifacts_dir / "notebook7-server.log", app="notebook")
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _kernel_ready(server) -> bool:
    try:
        kernels = server.api("/api/kernels") or []
    except urllib.error.HTTPError:  # the server may answer 500 while the kernel starts
        return False
    return any(k.get("connections", 0) > 0 and k.get("execution_state") == "idle" for k in kernels)


class _Page:
    """What ClusterWidgetUI.find needs: the page and the notebook's panel."""

    def __init__(self, page):
        self.page = page
        self.panel = page.locator(".jp-NotebookPanel")


def test_widget_in_notebook_7_draws_and_ticks(page, notebook7, artifacts_dir):
    page.goto(notebook7.lab_url("widget.ipynb"))
    page.locator(".jp-NotebookPanel .jp-Notebook").wait_for(state="visible", timeout=RUN_ALL_TIMEOUT_MS)
    # The page has a kernel once the server reports one connected and idle (Notebook 7 has
    # no status bar; its execution indicator says "idle" before a kernel even exists).
    deadline = time.monotonic() + RUN_ALL_TIMEOUT_MS / 1000
    while not _kernel_ready(notebook7):
        assert time.monotonic() < deadline, "Notebook 7 never connected the notebook to a kernel"
        time.sleep(0.2)  # polling the server's own status, not waiting for the page
    page.locator(".lm-MenuBar-item", has_text="Run").first.click()
    page.locator(".lm-Menu:visible .lm-Menu-item", has_text="Run All Cells").first.click()
    w = ClusterWidgetUI.find(_Page(page))
    twin = rb.Cluster(5, seed=7)
    w.wait_for_cluster(twin, "opening in Notebook 7")
    assert w.root.locator(".rb-pic:not(.rb-part)").count() == 1
    for k in range(2):
        w.click("Tick")
        twin.tick()
        w.wait_for_cluster(twin, f"Tick {k + 1} in Notebook 7")
    assert "c.tick()" in w.root.locator(".rb-status").inner_text()
    w.screenshot(artifacts_dir / "notebook7-widget.png")
    notebook7.shutdown_sessions()
