"""The rendering path every other browser test stands on: JupyterLab shows ipywidgets.

A notebook built here (a plain ipywidgets Button and an HTML widget holding an
SVG) must render, and a click in the browser must reach the kernel and come
back as a redraw. If this fails, the widget tests below cannot pass either, and
the fault is in the Jupyter setup (the jupyterlab_widgets extension), not in
raftbook.
"""
from __future__ import annotations

import pytest

from .notebook_ui import Notebook, write_notebook

SMOKE = [
    "import ipywidgets as W\n"
    "clicks = 0\n"
    "view = W.HTML(value='<svg width=\"60\" height=\"20\"><rect data-clicks=\"0\" width=\"10\" height=\"10\"/></svg>')\n"
    "button = W.Button(description='Tick')\n"
    "def on_click(_):\n"
    "    global clicks\n"
    "    clicks += 1\n"
    "    view.value = f'<svg width=\"60\" height=\"20\"><rect data-clicks=\"{clicks}\" width=\"10\" height=\"10\"/></svg>'\n"
    "button.on_click(on_click)\n"
    "W.VBox([button, view])",
    "print('kernel says', 6 * 7)",
]


def test_ipywidgets_render_and_answer_clicks(page, jupyter_lab, lab_root, artifacts_dir):
    write_notebook(lab_root / "e2e" / "widget_smoke.ipynb", SMOKE)
    nb = Notebook(page, jupyter_lab, "e2e/widget_smoke.ipynb").open()
    nb.run_all()

    assert nb.prompts() == ["[1]:", "[2]:"]
    assert "kernel says 42" in nb.cell(1).locator(".jp-OutputArea").inner_text()
    widget = nb.cell(0).locator(".jp-OutputArea .widget-vbox")
    rect = widget.locator("svg rect[data-clicks]")
    assert rect.get_attribute("data-clicks") == "0"

    button = widget.get_by_role("button", name="Tick")
    for n in (1, 2, 3):
        button.click()
        widget.locator(f'svg rect[data-clicks="{n}"]').wait_for()
    nb.screenshot(artifacts_dir / "widget-smoke.png")


def test_a_failing_cell_is_reported_not_waited_on(page, jupyter_lab, lab_root):
    """The harness itself: an exception in a cell ends the wait and fails with its text."""
    write_notebook(lab_root / "e2e" / "failing.ipynb",
                   ["x = 1", "raise ValueError('the student broke it')", "y = 2"])
    nb = Notebook(page, jupyter_lab, "e2e/failing.ipynb").open()
    with pytest.raises(AssertionError, match="the student broke it"):
        nb.run_all()
    assert nb.prompts()[:2] == ["[1]:", "[2]:"]
    assert "[3]" not in nb.prompts()[2]  # Run All stops at the error
