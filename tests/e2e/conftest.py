"""Fixtures for the real-browser end-to-end suite.

A throwaway JupyterLab server on a loopback port serves copies of the notebooks
from a temporary root; headless Debian Chromium, driven by Playwright, opens
them as a student would. Nothing here reads or writes the user's home: the
server gets its own config, data, runtime, settings and workspace directories.

The server and the browser live as long as this package's tests run (package
scope), so they are gone before the rest of the suite goes on.

Every test in this folder carries the ``e2e`` marker, so the suite can be run
alone (``pytest -m e2e``) or left out (``pytest -m "not e2e"``).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from .lab_server import REPO_ROOT, JupyterLabServer
from .browser import find_chromium, launch_chromium, new_student_page
from .notebook_ui import fresh_copy

ARTIFACTS = REPO_ROOT / "test-artifacts" / "e2e"
_artifacts_written = False  # set once this run has written there


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "e2e: real-browser end-to-end tests (JupyterLab + headless Chromium)")


def pytest_collection_modifyitems(config, items):
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.e2e)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Keep each phase's report on the test item, so fixtures can see a failure."""
    outcome = yield
    report = outcome.get_result()
    setattr(item, f"rep_{report.when}", report)


def pytest_terminal_summary(terminalreporter):
    if _artifacts_written:
        terminalreporter.write_sep("-", "end-to-end browser artifacts")
        terminalreporter.write_line(f"screenshots and logs of the browser tests: {ARTIFACTS}")


@pytest.fixture(scope="session")
def chromium_path():
    """The system Chromium; the whole suite is skipped (with the reason) if there is none."""
    path = find_chromium()
    if path is None:
        override = os.environ.get("RAFTBOOK_CHROMIUM")
        if override:
            pytest.skip(f"RAFTBOOK_CHROMIUM is {override!r}, which is not a file, so the browser "
                        "tests cannot run: point it at a Chromium binary or unset it")
        pytest.skip("no Chromium on this machine, so the browser tests cannot run: install "
                    "Debian's package (sudo apt-get install chromium) or point "
                    "RAFTBOOK_CHROMIUM at a Chromium binary")
    return path


@pytest.fixture(scope="package")
def artifacts_dir():
    """Where screenshots and the server log go (git-ignored); emptied at the start of a run."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    for old in ARTIFACTS.iterdir():  # files only: another run may be writing here too
        if old.is_file():
            old.unlink(missing_ok=True)
    global _artifacts_written
    _artifacts_written = True
    print(f"\nend-to-end screenshots and logs go to {ARTIFACTS}")
    return ARTIFACTS


@pytest.fixture(scope="package")
def lab_root(tmp_path_factory):
    """The server's root directory: copies of the notebooks under test, never the originals."""
    root = tmp_path_factory.mktemp("lab-root")
    for name in ("notebooks", "course"):
        src = REPO_ROOT / name
        if src.is_dir():
            shutil.copytree(src, root / name,
                            ignore=shutil.ignore_patterns(".ipynb_checkpoints", "__pycache__"))
    for nb in root.rglob("*.ipynb"):
        fresh_copy(nb, nb)
    return root


@pytest.fixture(scope="package")
def jupyter_lab(chromium_path, lab_root, artifacts_dir, tmp_path_factory):
    """A running JupyterLab on 127.0.0.1 with no token; stopped (kernels too) at the end."""
    home = tmp_path_factory.mktemp("lab-home")
    server = JupyterLabServer(lab_root, home, log_path=artifacts_dir / "jupyter-server.log")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="package")
def browser(chromium_path, tmp_path_factory):
    """One headless Chromium for the session (each test gets its own fresh context)."""
    from playwright.sync_api import sync_playwright

    pw = sync_playwright().start()
    try:
        b = launch_chromium(pw, chromium_path, tmp_path_factory.mktemp("chromium-home"))
        try:
            yield b
        finally:
            b.close()
    finally:
        pw.stop()


@pytest.fixture
def page(request, browser, jupyter_lab, artifacts_dir):
    """A fresh browser page; on failure its screenshot and console log are saved."""
    context, pg, console = new_student_page(browser)
    try:
        yield pg
    finally:
        failed = any(getattr(getattr(request.node, f"rep_{when}", None), "failed", False)
                     for when in ("setup", "call"))
        if failed:
            stem = artifacts_dir / f"FAILED-{request.node.name}"
            try:
                pg.screenshot(path=str(stem.with_suffix(".png")), full_page=True)
            except Exception as exc:  # the page may be gone; the log still helps
                console.append(f"(screenshot failed: {exc})")
            stem.parent.mkdir(parents=True, exist_ok=True)
            stem.with_suffix(".console.txt").write_text("\n".join(console), encoding="utf-8")
        context.close()
        jupyter_lab.shutdown_sessions()
