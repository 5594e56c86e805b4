"""Progress for long searches and campaigns: an ipywidgets bar in a notebook, a text line elsewhere."""
from __future__ import annotations

import sys
import time

from ..errors import InvalidArgument

class _Progress:
    """A progress line: an ipywidgets bar in a notebook, a text line on stderr elsewhere."""

    def __init__(self, mode, total, label):
        self.mode = mode
        self.last = 0.0
        self.total = total
        self.pending = None  # the latest (value, text), shown or not, so close() can show it
        self.widget = None
        if mode == "widget":
            import ipywidgets as w
            from IPython.display import display
            self.bar = w.IntProgress(min=0, max=total or 1, description=label)
            self.text = w.HTML()
            self.widget = w.HBox([self.bar, self.text])
            display(self.widget)

    def update(self, value, text, force=False):
        self.pending = (value, text)
        now = time.perf_counter()
        if not force and now - self.last < 0.25:
            return
        self.last = now
        if self.widget is not None:
            self.bar.value = min(value, self.bar.max)
            self.text.value = text
        elif self.mode == "text":
            print("\r" + text, end="", file=sys.stderr, flush=True)

    def close(self):
        """The work is over: show the bar full, with the final count (updates may have been skipped)."""
        value, text = self.pending if self.pending is not None else (self.total, "")
        if self.widget is not None:
            self.bar.value = self.bar.max
            self.text.value = text
        elif self.mode == "text":
            print("\r" + text, file=sys.stderr, flush=True)


def check_progress(progress) -> None:
    if progress not in (None, True, False, "text", "widget"):
        raise InvalidArgument(f"progress is None (auto), True, False, 'text' or 'widget'; got {progress!r}")


def progress_bar(progress, total, label):
    """A :class:`_Progress` for ``progress`` (None: a widget in notebooks, else nothing)."""
    check_progress(progress)
    mode = ("widget" if _in_notebook() else False) if progress is None else progress
    if mode is True:
        mode = "widget" if _in_notebook() else "text"
    return _Progress(mode, total, label) if mode else None


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")

