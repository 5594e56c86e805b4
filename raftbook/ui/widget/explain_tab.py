"""The Explain tab: the recorded reasons of the latest history, filtered, and a jump to any of them.

The list is built from ``explain()`` of the latest state (also while the
slider shows the past) and cached until the history or the filters change;
oldest first, or newest first with the "newest first" box; picking a reason
travels to the state right after its event.
"""
from __future__ import annotations

from ...errors import RaftbookError
from ...explain.narrate import EVENT_KINDS, explain
from ...explain.reasons import REASON_FAMILIES
from ..svg import render_svg

#: The Explain tab lists at most this many reasons (the most recent that match).
EXPLAIN_ROWS = 400


class ExplainTab:
    """The Explain tab of one widget: its filters, its cached list and the events behind it."""

    def __init__(self, widget, travel):
        self.widget = widget
        self.travel = travel  # the widget's TimeTravel: the latest history lives there
        self.cache = None    # (key, DataFrame) of the last explain() call
        self.seqs: list = []  # the event seq of each row in the list

    def forget(self):
        self.cache = None

    def fill_filters(self):
        """The server and kind choices for this cluster, both reset to "everything"."""
        w = self.widget
        w._quiet = True
        try:
            w.explain_node.options = [("all", 0)] + [(f"S{i}", i) for i in w.cluster.nodes]
            w.explain_node.value = 0
            kinds = [("everything", "")] + [(f"{f} (reasons)", f) for f in REASON_FAMILIES]
            kinds += [(f"{k} (events)", k) for k in EVENT_KINDS if k not in REASON_FAMILIES]
            w.explain_kind.options = kinds
            w.explain_kind.value = ""
        finally:
            w._quiet = False

    def on_filter(self, _change):
        if self.widget._quiet:
            return
        self.cache = None
        self.widget.refresh()

    def latest_explanation(self):
        """explain() of the latest history (also while looking at the past), cached."""
        w = self.widget
        c = w.cluster
        latest = self.travel.latest_history()
        key = (id(c), len(latest), latest[-1] if latest else None, w.explain_node.value,
               w.explain_kind.value)
        if self.cache is not None and self.cache[0] == key:
            return self.cache[1]
        node, kind = w.explain_node.value or None, w.explain_kind.value or None
        df = self.travel.on_latest(lambda: explain(c, node=node, kind=kind))
        self.cache = (key, df)
        return df

    def refresh(self):
        w = self.widget
        try:
            df = self.latest_explanation()
        except RaftbookError as exc:
            w._error(exc)
            return
        total = len(df)
        shown = df.iloc[-EXPLAIN_ROWS:]
        rows = list(zip(shown["seq"], shown["time"], shown["sentence"]))
        if w.explain_newest.value:  # the latest reason on top
            rows.reverse()
        opts = [(f"#{seq} t={t}  {sentence}", k) for k, (seq, t, sentence) in enumerate(rows)]
        self.seqs = [seq for seq, _t, _s in rows]
        w._quiet = True
        try:
            if list(w.explain_list.options) != opts:
                w.explain_list.options = opts
                w.explain_list.value = None
        finally:
            w._quiet = False
        more = f" (the last {EXPLAIN_ROWS} of {total}; narrow with the filters)" if total > len(shown) else ""
        w.explain_note.value = (f'<span style="font-size:12px">{len(shown)} reasons{more}. Pick one '
                                "to see the cluster right after its event.</span>")
        w.explain_picture.value = render_svg(w.cluster, w.selected_node, w.selected_msg,
                                             max_log=w.max_log)

    def on_pick(self, change):
        if self.widget._quiet or change["new"] is None:
            return
        self.widget.travel(self.seqs[change["new"]] + 1)
