"""The cluster picture drawn in the browser: an anywidget fed with compact state and diffs.

:class:`ClusterPicture` ships one hand-written ES module (``ui/static/cluster.js``)
that draws the cluster as SVG at the cell's width, animates messages while time
runs and takes clicks and keys. The kernel never sends the picture itself:

- when a view starts it asks for the whole state (``{"kind": "hello"}``) and
  gets ``{"kind": "full", "rev", "state", "view"}``;
- after each event the kernel sends ``{"kind": "patch", "rev", "base", "diff",
  "view"}``, only what changed (:func:`raftbook.ui.state.state_diff`); a view
  that missed one asks for the whole state again;
- the browser sends what the student did: ``{"kind": "act", "action": "Tick",
  "node": 2, "msg": 17}`` (a button label of the widget: the same method runs,
  so the same event is recorded), ``{"kind": "select", ...}``,
  ``{"kind": "partition", "groups": [[1, 2], [3, 4, 5]]}``,
  ``{"kind": "history", "delta": -1}``.

``picture.value`` is still the static SVG of the state shown (built when read),
so code and tests that parsed the old HTML picture keep working.
"""
from __future__ import annotations

import json
import uuid
from pathlib import Path

import anywidget
import traitlets as T

from ..state import picture_state, state_diff
from ..svg import render_svg

STATIC = Path(__file__).resolve().parent.parent / "static"


class ClusterPicture(anywidget.AnyWidget):
    """The browser-side picture of one :class:`~raftbook.ui.widget.shell.ClusterWidget`."""

    _esm = STATIC / "cluster.js"
    _css = STATIC / "cluster.css"
    #: How many log columns the browser may draw at most (it fits fewer to the width).
    max_log = T.Int(14).tag(sync=True)
    #: This picture's id: the browser keeps the state it was sent under it.
    uid = T.Unicode().tag(sync=True)

    def __init__(self, owner, **kwargs):
        super().__init__(uid=uuid.uuid4().hex, **kwargs)
        self._owner = owner
        self._rb_state = None
        self._rb_view = None
        self.rev = 0
        self.sent_bytes = 0  # a rough count of what was sent, for tests and benchmarks
        self.on_msg(self._on_front)

    # ------------------------------------------------------------------ what the kernel sends
    def view_info(self) -> dict:
        """The widget's side of the picture: selection, playing, frame length, N."""
        w = self._owner
        per, interval = w.frame()
        return {"node": w.selected_node, "msg": w.selected_msg, "playing": w.playing,
                "frame_ms": round(interval * 1000), "n_ticks": w.n_ticks.value,
                "past": w.viewing_past}

    def push(self, graph=None):
        """Send what changed since the last push (nothing if nothing did)."""
        new = picture_state(self._owner.cluster, graph)
        view = self.view_info()
        old = self._rb_state
        if old is None or old["n"] != new["n"]:
            self._rb_state, self._rb_view = new, view
            self.rev += 1
            self._rb_send({"kind": "full", "rev": self.rev, "state": new, "view": view})
            return
        diff = state_diff(old, new)
        if not diff and view == self._rb_view:
            return
        if new["events"] > old["events"]:  # messages delivered by hand travel to the end
            hist = self._owner.cluster.history
            got = [e.args["msg_id"] for e in hist[old["events"]:new["events"]]
                   if e.kind == "deliver"]
            if got:
                diff["delivered"] = got
        self._rb_state = new
        base = self.rev
        self.rev += 1
        msg = {"kind": "patch", "rev": self.rev, "base": base, "diff": diff}
        if view != self._rb_view:
            msg["view"] = view
            self._rb_view = view
        self._rb_send(msg)

    def _rb_send(self, content):
        if self.comm is None:
            return
        self.sent_bytes += len(json.dumps(content, separators=(",", ":")))
        self.send(content)

    def _rb_full(self):
        if self._rb_state is None:
            self.push()
            return
        self._rb_send({"kind": "full", "rev": self.rev, "state": self._rb_state, "view": self._rb_view})

    # ------------------------------------------------------------------ what the browser sends
    def _on_front(self, _widget, content, _buffers):
        if not isinstance(content, dict):
            return
        kind = content.get("kind")
        w = self._owner
        if kind == "hello":
            self._rb_full()
        elif kind == "select":
            w.front_select(content.get("node", ...), content.get("msg", ...))
        elif kind == "act":
            w.front_act(content.get("action"), content.get("node"), content.get("msg"))
        elif kind == "partition":
            w.front_partition(content.get("groups"))
        elif kind == "history":
            w.front_history(content.get("delta"))

    # ------------------------------------------------------------------ the static picture
    @property
    def value(self) -> str:
        """The state shown, as the static SVG (what nbconvert and GitHub show)."""
        w = self._owner
        return render_svg(w.cluster, w.selected_node, w.selected_msg, max_log=w.max_log)
