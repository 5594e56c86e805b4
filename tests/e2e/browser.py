"""Headless Chromium for the browser tests: the system's build, never a downloaded one.

Playwright drives it through ``executable_path``; the flags below keep it quiet
on a machine without a network (no background fetches, no update checks, no
sync) and let it run as root in a container (no sandbox).
"""
from __future__ import annotations

import os
import shutil
from pathlib import Path

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-dev-shm-usage",
]

# Tall enough that a whole cluster widget fits on screen for its screenshot.
VIEWPORT = {"width": 1400, "height": 1700}
# How long one browser action may wait for the page before the test fails (ms);
# generous, because a busy two-core CI machine can be slow, and a passing run
# never waits this long.
ACTION_TIMEOUT_MS = 60_000


def find_chromium() -> str | None:
    """The Chromium binary to use: $RAFTBOOK_CHROMIUM, else chromium on PATH, else None."""
    override = os.environ.get("RAFTBOOK_CHROMIUM")
    if override:
        return override if Path(override).is_file() else None
    for name in ("chromium", "chromium-browser"):
        found = shutil.which(name)
        if found:
            return found
    return None


def launch_chromium(playwright, executable: str, home: Path):
    """Launch headless Chromium (Playwright gives it a fresh, temporary profile).

    ``home`` stands in for the user's home, where Chromium would otherwise keep
    its crash reports and caches.
    """
    env = {k: v for k, v in os.environ.items() if not k.startswith("XDG_")}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"),
               XDG_CACHE_HOME=str(home / ".cache"))
    return playwright.chromium.launch(executable_path=executable, headless=True,
                                      chromium_sandbox=False, args=CHROMIUM_FLAGS, env=env)


def new_student_page(browser):
    """A fresh context and page; returns (context, page, console lines collected)."""
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(ACTION_TIMEOUT_MS)
    page = context.new_page()
    console: list[str] = []
    page.on("console", lambda m: console.append(f"[{m.type}] {m.text}"))
    page.on("pageerror", lambda e: console.append(f"[pageerror] {e}"))
    return context, page, console
