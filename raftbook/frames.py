"""Tables of whole sentences: pandas frames whose notebook view never cuts text.

pandas shows at most 50 characters of a cell and JupyterLab right-aligns cells, so an
explanation or an event summary would read "S1 did not commit index 2 although 3 servers h…".
Frames made here print and render every cell whole, left-aligned; anything derived from
them (a groupby, a describe) shows as an ordinary DataFrame. pandas loads on first use.
"""
from __future__ import annotations

_CLASSES: dict = {}


def whole_text_class(name: str, shown=None, plain=None, empty: str = "(nothing to show)",
                     left=None):
    """A DataFrame subclass called ``name`` that shows ``shown(frame)`` with whole, left-aligned
    cells, unless ``plain(frame)`` says the frame is a derived one (then pandas' own view).
    ``left`` names the text columns padded to the left in plain text (default: all text)."""
    key = (name, shown, plain, empty, left)
    if key in _CLASSES:
        return _CLASSES[key]
    import pandas as pd

    class WholeText(pd.DataFrame):
        _metadata: list = []

        @property
        def _constructor(self):
            return cls

        def _view(self):
            return shown(self) if shown is not None else pd.DataFrame(self)

        def _plain(self) -> bool:
            return plain(self) if plain is not None else self.index.nlevels != 1

        def _repr_html_(self):
            if self._plain():
                return super()._repr_html_()
            view = self._view()
            with pd.option_context("display.max_colwidth", None):
                html = view.to_html(index=view.index.name is not None,
                                    max_rows=pd.get_option("display.max_rows"))
            # JupyterLab right-aligns table cells by default; whole sentences read from the left
            html = html.replace("<td>", '<td style="text-align:left">')
            html = html.replace("<th>", '<th style="text-align:left">')
            return html.replace('<table border="1" class="dataframe">',
                                '<table border="1" class="dataframe raftbook-whole" '
                                'style="text-align:left">', 1)

        def __repr__(self):
            if self._plain():
                return super().__repr__()
            if self.empty:
                return empty
            view = self._view()
            pad = {}
            for col in view.columns:
                if (col in left) if left is not None else view[col].dtype == object:
                    width = max(len(str(v)) for v in view[col])
                    pad[col] = (lambda w: lambda v: str(v).ljust(w))(width)
            with pd.option_context("display.max_colwidth", None, "display.width", 10_000):
                text = view.to_string(index=view.index.name is not None, formatters=pad,
                                      justify="left", max_rows=pd.get_option("display.max_rows"))
            return "\n".join(line.rstrip() for line in text.splitlines())

    WholeText.__name__ = WholeText.__qualname__ = name
    cls = _CLASSES[key] = WholeText
    return cls
