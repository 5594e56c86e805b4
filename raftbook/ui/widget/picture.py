"""The cluster picture drawn in the browser: an anywidget fed with compact state and diffs.

:class:`ClusterPicture` ships one hand-written ES module (``ui/static/cluster.js``)
that draws the cluster as SVG at the cell's width, animates messages while time
runs and takes clicks and keys. The kernel never sends the picture itself, and
after an event it sends exactly one message:

- when a view starts it asks for the whole state (``{"kind": "hello"}``) and
  gets ``{"kind": "full", "rev", "state", "ui"}``;
- after each event the kernel sends ``{"kind": "patch", "rev", "base", "diff",
  "ui", "ui_del"}``: only what changed in the cluster
  (:func:`raftbook.ui.state.state_diff`) and in the widget around it (``ui``:
  the selection, the status line, the history position and its label, the
  details of the selected server and message; see :meth:`ClusterPicture.ui_info`);
  a view that missed one asks for the whole state again;
- the browser sends what the student did: ``{"kind": "act", "action": "Tick",
  "node": 2, "msg": 17}`` (a button label of the widget: the same method runs,
  so the same event is recorded), ``{"kind": "select", ...}``,
  ``{"kind": "partition", "groups": [[1, 2], [3, 4, 5]]}``,
  ``{"kind": "link", "a": 1, "b": 3, "cut": true}`` (cut or restore one link),
  ``{"kind": "history", "delta": -1}``, ``{"kind": "history", "to": 12}``.

:class:`ClusterPart` shows one more piece of the same state elsewhere in the
widget's layout (the status line, the history slider, the message list, the
details table): it reads what the picture received, so it costs no message of
its own.

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


def ui_diff(old: dict, new: dict):
    """(changed keys with their new values, keys that are gone) between two flat ``ui`` dicts."""
    changed = {k: v for k, v in new.items() if k not in old or old[k] != v}
    gone = [k for k in old if k not in new]
    return changed, gone


class ClusterPicture(anywidget.AnyWidget):
    """The browser-side picture of one :class:`~raftbook.ui.widget.shell.ClusterWidget`."""

    _esm = STATIC / "cluster.js"
    _css = STATIC / "cluster.css"
    #: How many log columns the browser may draw at most (it fits fewer to the width).
    max_log = T.Int(14).tag(sync=True)
    #: This picture's id: the browser keeps the state it was sent under it.
    uid = T.Unicode().tag(sync=True)
    #: Which part of the widget this view draws ("picture" here; see :class:`ClusterPart`).
    part = T.Unicode("picture").tag(sync=True)

    def __init__(self, owner, **kwargs):
        super().__init__(uid=uuid.uuid4().hex, **kwargs)
        self._owner = owner
        self._rb_state = None
        self._rb_ui = None
        self.rev = 0
        self.sent = 0        # messages sent, for tests and benchmarks
        self.sent_bytes = 0  # a rough count of what was sent, for tests and benchmarks
        self.on_msg(self._on_front)

    # ------------------------------------------------------------------ what the kernel sends
    def ui_info(self) -> dict:
        """The widget around the picture, as one flat dict of JSON values (diffed key by key)."""
        return self._owner.ui_info()

    def push(self, graph=None):
        """Send what changed since the last push, as one message (nothing if nothing did)."""
        new = picture_state(self._owner.cluster, graph)
        ui = self.ui_info()
        old = self._rb_state
        if old is None or old["n"] != new["n"]:
            self._rb_state, self._rb_ui = new, ui
            self.rev += 1
            self._rb_send({"kind": "full", "rev": self.rev, "state": new, "ui": ui})
            return
        diff = state_diff(old, new)
        changed, gone = ui_diff(self._rb_ui, ui)
        if not diff and not changed and not gone:
            return
        if new["events"] > old["events"]:  # messages delivered by hand travel to the end
            hist = self._owner.cluster.history
            got = [e.args["msg_id"] for e in hist[old["events"]:new["events"]]
                   if e.kind == "deliver"]
            if got:
                diff["delivered"] = got
        self._rb_state, self._rb_ui = new, ui
        base = self.rev
        self.rev += 1
        msg = {"kind": "patch", "rev": self.rev, "base": base, "diff": diff}
        if changed:
            msg["ui"] = changed
        if gone:
            msg["ui_del"] = gone
        self._rb_send(msg)

    def _rb_send(self, content):
        if self.comm is None:
            return
        self.sent += 1
        self.sent_bytes += len(json.dumps(content, separators=(",", ":")))
        self.send(content)

    def _rb_full(self):
        if self._rb_state is None:
            self.push()
            return
        self._rb_send({"kind": "full", "rev": self.rev, "state": self._rb_state, "ui": self._rb_ui})

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
        elif kind == "link":
            w.front_link(content.get("a"), content.get("b"), content.get("cut"))
        elif kind == "history":
            if "to" in content:
                w.front_history_to(content.get("to"))
            else:
                w.front_history(content.get("delta"))

    # ------------------------------------------------------------------ the static picture
    @property
    def value(self) -> str:
        """The state shown, as the static SVG (what nbconvert and GitHub show)."""
        w = self._owner
        return render_svg(w.cluster, w.selected_node, w.selected_msg, max_log=w.max_log)


class ClusterPart(anywidget.AnyWidget):
    """One more piece of the picture's state shown elsewhere in the layout.

    ``part`` is "status" (the status line), "history" (the history slider and
    its label), "messages" (the Message list) or "details" (the selected
    server's and message's fields). The browser draws it from what the picture
    ``uid`` received, so it never needs a message of its own; what the student
    does in it goes to the picture's handler.
    """

    _esm = STATIC / "cluster.js"
    _css = STATIC / "cluster.css"
    uid = T.Unicode().tag(sync=True)
    part = T.Unicode().tag(sync=True)

    def __init__(self, picture: ClusterPicture, part: str, **kwargs):
        super().__init__(uid=picture.uid, part=part, **kwargs)
        self._picture = picture
        self.on_msg(lambda _w, content, buffers: picture._on_front(picture, content, buffers))
