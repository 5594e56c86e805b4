"""The widget itself: its state, the action runner, the status line and redrawing.

:class:`ClusterWidget` holds the cluster and the selection and hands each job
to a part with one job: :mod:`.controls` builds and wires the controls,
:class:`~.actions.Actions` gives the buttons their methods, :mod:`.play` runs
automatic mode, :mod:`.timetravel` keeps the latest state while the history
slider looks back, :mod:`.panels` and :mod:`.explain_tab` fill the tabs. The
parts call back into the widget through its underscore methods (``_act``,
``_say``, ``_error``, ``_quiet``), which are private to this package.
"""
from __future__ import annotations

from html import escape

import ipywidgets as W

from ...errors import InvalidArgument, RaftbookError
from ...sim.cluster import Cluster
from ..checks import check_max_log
from ..loggrid import MAX_LOG
from ..svg import render_html
from . import controls
from .actions import Actions
from .explain_tab import ExplainTab
from .panels import details_html, details_ui, spacetime_html, spacetime_list_html, tables_html
from .play import SPEEDS, Player, running_loop
from .timetravel import TimeTravel


class ClusterWidget(Actions, W.VBox):
    """Drive and draw a cluster: buttons for every event, a picture, tables and a history.

    ``cluster``: the cluster to drive (None: a new 5-server cluster, seed 0).
    ``max_log``: log columns drawn in the picture. ``speed``: ticks per second
    when playing. ``latency``, ``drop_rate``, ``duplicate_rate``: the network of
    automatic mode (as ``c.run``). After "Reset" the widget drives a new
    cluster: read it as ``widget.cluster``.
    """

    def __init__(self, cluster: Cluster | None = None, *, max_log: int = MAX_LOG, speed: int = 10,
                 latency=(1, 3), drop_rate: float = 0.0, duplicate_rate: float = 0.0):
        if cluster is None:
            cluster = Cluster(5, seed=0)
        if not isinstance(cluster, Cluster):
            hint = ""
            if isinstance(cluster, dict) and cluster.get("format") == "raftbook-trace":
                hint = (" This is a trace: replay it first with rb.Cluster.from_trace(trace, "
                        "handlers={...}) (a grading report does that for you: report.replay()).")
            raise InvalidArgument(f"ClusterWidget takes a raftbook Cluster (rb.Cluster(5, seed=0)); "
                                  f"got {type(cluster).__name__}.{hint}")
        check_max_log(max_log)
        if speed not in SPEEDS:
            raise InvalidArgument(f"speed is ticks per second, one of {SPEEDS}; got {speed!r}")
        net = Cluster.check_network(latency, drop_rate, duplicate_rate)
        super().__init__()
        self.cluster = cluster
        self.max_log = max_log
        self.selected_node: int | None = min(cluster.nodes)
        self.selected_msg: int | None = None
        self._quiet = False      # set while the widget itself changes its controls
        self._msg_key = None     # what the message list was built from
        self._status = ("", False)  # the status line: (HTML, is it an error)
        self._details_ui: dict = {}  # the details table as last built (on the Cluster tab)
        self.last_error: str | None = None
        self._player = Player(self)
        self._travel = TimeTravel(self)
        self._explain = ExplainTab(self, self._travel)
        self.children = controls.build(self, net, speed)
        self._explain.fill_filters()
        controls.wire(self, self._explain)
        self._say("each button makes one call on the cluster; that call and what it did show here")
        self.refresh()

    # ------------------------------------------------------------------ state
    @property
    def playing(self) -> bool:
        """True while automatic mode is on (a frame is scheduled)."""
        return self._player.playing

    @property
    def viewing_past(self) -> bool:
        """True while the history slider shows an earlier state (the latest is kept aside)."""
        return self._travel.active

    @property
    def _timer(self):
        """The pending frame callback while playing (None otherwise)."""
        return self._player.timer

    @property
    def _explain_seqs(self) -> list:
        """The event seq of each row of the Explain list."""
        return self._explain.seqs

    # ------------------------------------------------------------------ the status line
    def _say(self, html_text: str, error: bool = False):
        """Show ``html_text`` in the status line (drawn in the page from the picture's next message)."""
        self._status = (html_text, error)
        colour, bg = ("#8b0000", "#fff0f0") if error else ("#1b4332", "#f1f8f4")
        self.status.value = (f'<div style="padding:4px 8px;border-radius:4px;background:{bg};'
                             f'color:{colour};font-family:monospace;font-size:12px;'
                             f'white-space:pre-wrap">{html_text}</div>')
        if error and getattr(self, "picture", None) is not None:
            self.picture.push()  # a refusal changes nothing else, but must be seen

    def _error(self, exc_or_text):
        text = str(exc_or_text)
        self.last_error = text
        self._say("⚠ " + escape(text), error=True)

    def _act(self, code: str, fn, describe=None):
        """Run one user action: errors become a message, success branches and redraws.

        ``code`` is the Python call it stands for, shown in the status line with
        the event's summary (or ``describe(result)``). Returns what ``fn``
        returned, or None when the call was refused.
        """
        kept = self._travel.kept()
        here = len(self.cluster.history)
        was_safe = self.cluster.violation is None
        try:
            result = fn()
        except RaftbookError as exc:
            self._error(exc)
            self.refresh()
            return None
        self.last_error = None
        note = self._travel.branch(kept, here)
        ev = self.cluster.history[-1] if self.cluster.history else None
        summary = ev.summary if ev is not None else ""
        if describe is not None:
            summary = describe(result)
        elif len(self.cluster.history) - here > 1:
            summary = f"{len(self.cluster.history) - here} events; the last: {summary}"
        violation = self.cluster.violation
        if was_safe and violation is not None:
            note += f"\nSAFETY VIOLATED ({violation.property}): {violation}"
        self._say(f"<b>{escape(code)}</b>  {escape(summary)}{escape(note)}")
        self.refresh()
        return result if result is not None else True

    # ------------------------------------------------------------------ automatic mode
    def _get_loop(self):
        """The running event loop (a notebook kernel runs one); Play needs it."""
        return running_loop()

    def frame(self):
        """(ticks per frame, seconds between frames) for the chosen speed."""
        return self._player.frame()

    def toggle_play(self):
        """Play (automatic mode) or Pause, by the button's current label."""
        return self._player.toggle()

    def play(self):
        """Start automatic mode: every frame runs c.run(k, latency=..., drop_rate=...)."""
        return self._player.play()

    def pause(self):
        """Stop automatic mode: cancel the pending frame; nothing is left scheduled."""
        self._player.pause()

    def close(self):
        """Stop playing and close the widget."""
        if getattr(self, "buttons", None) is not None:  # not a half-built widget
            self.pause()
        super().close()

    # ------------------------------------------------------------------ selections and history
    def _on_server(self, change):
        if self._quiet:
            return
        self.selected_node = change["new"]
        self.refresh()

    def _on_message(self, change):
        if self._quiet:
            return
        self.selected_msg = change["new"] or None  # 0 is "no message"
        self.refresh()

    def select(self, node=..., msg=...):
        """Select a server and/or a message by id (None clears the message)."""
        c = self.cluster
        if node is not ...:
            c.check_node(node)
            self.selected_node = node
        if msg is not ...:
            if msg is not None:
                c.check_msg(msg)
            self.selected_msg = msg
        self.refresh()

    def _on_slider(self, change):
        if self._quiet:
            return
        self.travel(change["new"])

    def travel(self, m: int):
        """Show the state after the first ``m`` events; the latest state is kept until you act."""
        return self._travel.travel(m)

    def ui_info(self) -> dict:
        """What the page shows around the picture, as one flat dict (the picture sends what changed).

        The selection, Play and its frame length, the status line, the history
        position and its label, and the Figure 2 state of the selected server
        and the fields of the selected message (``dn`` / ``dm``: the title;
        ``dn_k`` / ``dm_k``: the row names; ``dn/<name>``: each value).
        """
        _per, interval = self.frame()
        html_text, error = self._status
        ui = {"node": self.selected_node, "msg": self.selected_msg, "playing": self.playing,
              "frame_ms": round(interval * 1000), "n_ticks": self.n_ticks.value,
              "past": self.viewing_past, "status": html_text, "error": error,
              "hist": [self.history_slider.value, self.history_slider.max],
              "hist_label": self.history_label.value}
        ui.update(self._details_ui)
        return ui

    # ------------------------------------------------------------------ the browser picture
    def front_select(self, node=..., msg=...):
        """The student picked a server or a message in the picture (ids as the picture sends them)."""
        try:
            self.select(node=node, msg=msg)
        except RaftbookError as exc:
            self._error(exc)
            self.refresh()

    def front_act(self, action, node=None, msg=None):
        """A button of the picture (or its keyboard shortcut): the same method as the button's.

        ``node`` / ``msg`` select first, so clicking Timeout on S3 in the picture is
        exactly picking S3 and pressing Timeout: the same call, the same event.
        """
        method = controls.ACTIONS.get(action) if isinstance(action, str) else None
        if method is None:
            self._error(f"the picture asked for an unknown action {action!r}; the actions are "
                        + ", ".join(controls.ACTIONS))
            return None
        try:
            if node is not None:
                self.cluster.check_node(node)
                self.selected_node = node
                if action == "Propose":  # "Propose to S3" in the picture
                    self._quiet = True
                    try:
                        self.target.value = node
                    finally:
                        self._quiet = False
            if msg is not None:
                self.cluster.check_msg(msg)
                self.selected_msg = msg
        except RaftbookError as exc:
            self._error(exc)
            self.refresh()
            return None
        return getattr(self, method)()

    def front_partition(self, groups):
        """Groups picked in the picture: written into the groups box, then Partition as the button."""
        if (not isinstance(groups, list) or not groups
                or not all(isinstance(g, list) and g for g in groups)):
            self._error(f"the picture sent groups {groups!r}; expected lists of server ids")
            return None
        text = " | ".join(",".join(str(i) for i in g) for g in groups)
        self._quiet = True
        try:
            self.groups_text.value = text
        finally:
            self._quiet = False
        return self.do_partition()

    def front_link(self, a, b, cut):
        """Cut (``cut`` true) or restore the link between servers ``a`` and ``b``, picked in the picture."""
        if not isinstance(cut, bool):
            self._error(f"the picture sent cut={cut!r}; expected true or false")
            return None
        if cut:
            return self._act(f"c.cut({a!r}, {b!r})", lambda: self.cluster.cut(a, b))
        return self._act(f"c.heal({a!r}, {b!r})", lambda: self.cluster.heal(a, b))

    def front_history(self, delta):
        """One step back (-1) or forward (+1) in the history, as the History slider."""
        if delta not in (-1, 1):
            self._error(f"history steps are -1 or +1; got {delta!r}")
            return False
        total = len(self._travel.latest_history())
        m = len(self.cluster.history) + delta
        if not 0 <= m <= total:
            self._error("already at the " + ("start" if m < 0 else "latest state")
                        + " of the history")
            self.refresh()
            return False
        return self.travel(m)

    def front_history_to(self, m):
        """The history slider drawn in the page was moved to ``m``."""
        if not isinstance(m, int) or isinstance(m, bool):
            self._error(f"the history slider sent {m!r}; expected an event number")
            return False
        return self.travel(m)

    def _repr_mimebundle_(self, **kwargs):
        """The live widget, plus the static picture for places without widgets (nbconvert,
        nbgrader feedback, GitHub): they fall back to the HTML."""
        data = super()._repr_mimebundle_(**kwargs)
        if isinstance(data, tuple):  # (data, metadata)
            data = data[0]
        if data is None:
            return None
        data = dict(data)
        try:
            data["text/html"] = render_html(self.cluster)
        except RaftbookError:
            pass
        return data

    # ------------------------------------------------------------------ redrawing
    def _sync_controls(self):
        c = self.cluster
        self._travel.forget_if_stale()
        self._quiet = True
        try:
            if self.selected_msg is not None and self.selected_msg not in c.flight:
                self.selected_msg = None
            key = (tuple(c.flight), c.groups, c.cuts, frozenset(c.crashed))
            if key != self._msg_key:  # Python-side only: the page builds its list from the picture
                self._msg_key = key
                self.message_select.options = controls.message_options(c)
            if self.message_select.value != (self.selected_msg or 0):
                self.message_select.value = self.selected_msg or 0
            if self.server_select.value != self.selected_node:
                self.server_select.value = self.selected_node
            self._travel.sync()
        finally:
            self._quiet = False

    def refresh(self):
        """Bring the controls and the visible tab up to date with the cluster.

        The picture sends one message with everything that changed (the status
        line, the history and the message list are drawn from it too); the
        other tabs are rebuilt only while open.
        """
        self._sync_controls()
        tab = self.tabs.selected_index or 0
        c = self.cluster
        if tab == 0:
            self._details_ui = details_ui(c, self.selected_node, self.selected_msg)
            self.details.value = details_html(c, self.selected_node, self.selected_msg)
        self.picture.push()
        if tab == 0:
            return
        if tab == 1:
            self.tables.value = tables_html(c)
        elif tab == 2:
            self._explain.refresh()
        else:
            try:
                self.spacetime.value = spacetime_html(c, self.spacetime_events.value)
                self.spacetime_list.value = spacetime_list_html(c, self.spacetime_events.value)
            except RaftbookError as exc:
                self._error(exc)


def show(cluster: Cluster | None = None, **options) -> ClusterWidget:
    """A :class:`ClusterWidget` for ``cluster`` (a new 5-server cluster if None).

    Put it last in a notebook cell (or pass it to ``display``) to see it;
    ``options`` go to :class:`ClusterWidget` (``max_log``, ``speed``, ``latency``, ...).
    """
    return ClusterWidget(cluster, **options)
