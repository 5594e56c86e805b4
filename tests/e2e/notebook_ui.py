"""Driving a notebook in JupyterLab the way a student does, and reading what it shows.

Waiting is always on the page's own signals: the notebook's kernel status
indicator (``data-status="idle"``), the input prompts (``[*]`` while a cell is
queued or running, ``[n]`` once it ran) and the elements a test expects to
see. There is no sleeping for a fixed time anywhere.
"""
from __future__ import annotations

import re
from pathlib import Path

import nbformat

from .browser import ACTION_TIMEOUT_MS

# Running every cell of a teaching notebook (a fresh kernel included) may take this long (ms).
RUN_ALL_TIMEOUT_MS = 180_000

PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"

# The status bar's kernel item ("Python 3 (ipykernel) | Idle") says Idle only once
# the notebook is connected to a running kernel that has nothing to do. The
# notebook's own execution indicator starts out "idle" before any kernel exists,
# so it alone is not enough; both must say idle.
_IDLE_JS = """
(panel) => {
  const nb = document.querySelector(panel);
  const ind = nb && nb.querySelector('.jp-Notebook-ExecutionIndicator');
  if (!ind || ind.dataset.status !== 'idle') return false;
  const item = [...document.querySelectorAll('#jp-main-statusbar .jp-StatusBar-TextItem')]
      .find(e => (e.title || '').startsWith('Change kernel for'));
  return !!item && /\\|\\s*Idle\\s*$/.test(item.textContent);
}
"""

# Settled: the kernel is idle, nothing is queued or running, and either every
# code cell that has source ran or some output shows an error.
_SETTLED_JS = """
(panel) => {
  if (!(%s)(panel)) return false;
  const nb = document.querySelector(panel);
  const cells = [...nb.querySelectorAll('.jp-Notebook .jp-CodeCell')];
  const prompts = cells.map(c => (c.querySelector('.jp-InputArea-prompt') || {}).textContent || '');
  if (prompts.some(t => t.includes('*'))) return false;
  if (nb.querySelector('.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'))
    return true;
  return cells.every((c, i) => {
    const src = (c.querySelector('.jp-InputArea-editor') || {}).textContent || '';
    return src.trim() === '' || /\\[\\d+\\]/.test(prompts[i]);
  });
}
""" % _IDLE_JS


def fresh_copy(src: Path, dst: Path) -> None:
    """Copy a notebook with its outputs and execution counts cleared.

    A test then sees only what the run in the browser produced, never output
    stored in the file.
    """
    nb = nbformat.read(src, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cell.outputs = []
            cell.execution_count = None
    dst.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, dst)


def write_notebook(path: Path, sources: list[str]) -> None:
    """Write a small Python notebook of code cells (for tests that build their own)."""
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3 (ipykernel)",
                                 "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(s) for s in sources]
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)


class Notebook:
    """One notebook open in JupyterLab in a Playwright page."""

    def __init__(self, page, server, relpath: str):
        self.page = page
        self.server = server
        self.relpath = relpath
        self.panel = page.locator(PANEL)

    # ------------------------------------------------------------------ opening and running
    def open(self) -> "Notebook":
        """Open the notebook in a reset workspace and wait for its kernel to be idle."""
        self.page.goto(self.server.lab_url(self.relpath) + "?reset")
        self.panel.locator(".jp-Notebook").wait_for(state="visible", timeout=RUN_ALL_TIMEOUT_MS)
        self.wait_idle(RUN_ALL_TIMEOUT_MS)
        return self

    def wait_idle(self, timeout_ms: int = ACTION_TIMEOUT_MS) -> None:
        """Wait until the notebook is connected to its kernel and the kernel is idle."""
        try:
            self.page.wait_for_function(_IDLE_JS, arg=PANEL, timeout=timeout_ms)
        except Exception as exc:
            raise AssertionError(f"{self.relpath}: the kernel was not connected and idle within "
                                 f"{timeout_ms / 1000:.0f} s") from exc

    def menu(self, *path: str) -> None:
        """Click through the main menu, e.g. menu("Run", "Run All Cells")."""
        top, *rest = path
        self.page.locator(".lm-MenuBar-item").filter(
            has=self.page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(f"^{re.escape(top)}$"))
        ).click()
        for label in rest:
            self.page.locator(".lm-Menu:visible .lm-Menu-item").filter(
                has=self.page.locator(".lm-Menu-itemLabel",
                                      has_text=re.compile(f"^{re.escape(label)}$"))
            ).first.click()

    def run_all(self, timeout_ms: int = RUN_ALL_TIMEOUT_MS) -> None:
        """Run > Run All Cells, wait until it settles, and fail on any error shown."""
        self.menu("Run", "Run All Cells")
        self.wait_settled(timeout_ms)
        self.assert_no_errors()

    def wait_settled(self, timeout_ms: int = RUN_ALL_TIMEOUT_MS) -> None:
        """Wait until nothing is queued or running and the kernel is idle."""
        try:
            self.page.wait_for_function(_SETTLED_JS, arg=PANEL, timeout=timeout_ms)
        except Exception as exc:
            raise AssertionError(f"{self.relpath}: the cells did not finish running within "
                                 f"{timeout_ms / 1000:.0f} s; prompts: {self.prompts()}") from exc

    # ------------------------------------------------------------------ reading
    def prompts(self) -> list[str]:
        return [t.strip() for t in self.panel.locator(".jp-CodeCell .jp-InputArea-prompt").all_inner_texts()]

    def errors(self) -> list[str]:
        """Text of every error or stderr output and every widget that failed to render."""
        found = self.panel.locator(
            '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
        ).all_inner_texts()
        for text in self.panel.locator(".jp-OutputArea-output").all_inner_texts():
            if "Error displaying widget" in text or "Failed to load model" in text:
                found.append(text)
        return found

    def cell_errors(self, cell) -> list[str]:
        """Text of the error (or stderr) outputs of one cell."""
        return cell.locator(
            '.jp-OutputArea-output[data-mime-type="application/vnd.jupyter.stderr"]'
        ).all_inner_texts()

    def assert_no_errors(self) -> None:
        errs = self.errors()
        assert not errs, f"{self.relpath} shows errors after running:\n" + "\n---\n".join(
            e[-2000:] for e in errs)

    def cell(self, index: int):
        """The index-th cell (0-based, markdown cells included)."""
        return self.panel.locator(".jp-Notebook .jp-Cell").nth(index)

    def code_cell_containing(self, text: str):
        """The first code cell whose source contains ``text``."""
        return self.panel.locator(".jp-Notebook .jp-CodeCell").filter(
            has=self.page.locator(".jp-InputArea-editor", has_text=text)).first

    # ------------------------------------------------------------------ editing
    def set_cell_source(self, cell, source: str) -> None:
        """Replace a cell's source as a student would: click in, select all, type."""
        editor = cell.locator(".jp-InputArea-editor .cm-content")
        editor.click()
        self.page.keyboard.press("Control+A")
        self.page.keyboard.press("Delete")
        # insert_text pastes the text at once, so the editor's auto-indent and
        # bracket closing do not rewrite what a student would have pasted.
        self.page.keyboard.insert_text(source)
        shown = "\n".join(cell.locator(".jp-InputArea-editor .cm-line").all_inner_texts())
        shown = shown.replace("\xa0", " ").replace("\u200b", "")
        assert shown.strip() == source.strip(), (
            f"the editor shows something else than what was typed:\n{shown}")

    def run_cell(self, cell, timeout_ms: int = RUN_ALL_TIMEOUT_MS) -> None:
        """Run one cell with Ctrl+Enter and wait until it has run."""
        prompt = cell.locator(".jp-InputArea-prompt")
        before = prompt.inner_text().strip()
        cell.locator(".jp-InputArea-editor").click()
        self.page.keyboard.press("Control+Enter")
        self.page.wait_for_function(
            "([el, before]) => /\\[\\d+\\]/.test(el.textContent) && el.textContent.trim() !== before",
            arg=[prompt.element_handle(), before], timeout=timeout_ms)
        self.wait_idle(timeout_ms)

    def screenshot(self, path: Path) -> Path:
        self.page.screenshot(path=str(path), full_page=True)
        return path
