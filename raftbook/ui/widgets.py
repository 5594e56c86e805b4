"""The interactive cluster widget: step, break and rewind a live Raft cluster in a notebook.

``rb.ClusterWidget(c)`` wraps a :class:`~raftbook.cluster.Cluster` in ipywidgets
controls and draws it with :func:`raftbook.view.render_svg`. Every button is one
call on the cluster (its tooltip and the status line say which), so what a
student does by clicking is exactly what they could type, and ``c.history``
records it either way.

Design choices:

- Redraw only what is visible: the picture on the Cluster tab costs about a
  millisecond; tables, the narrated history and the space-time diagram are built
  only while their tab is open.
- Errors never escape: a refused call (no message selected, crashing a crashed
  server, no leader for a proposal) shows its message in the status line, and
  the cluster is unchanged (the core guarantees that a call that raises changes
  nothing).
- Time travel without loss: moving the history slider back keeps the latest
  state aside, so you can look around and come back ("Latest"); acting while in
  the past branches from there, and the status line says how many later events
  were discarded.
- Play runs on the kernel's event loop with one timer callback per frame, and
  only while playing: paused or idle, nothing is scheduled, nothing runs.
"""
from __future__ import annotations

import asyncio
import json
import re
from dataclasses import fields
from html import escape

import ipywidgets as W

from ..sim.cluster import Cluster
from ..errors import InvalidArgument, InvalidState, RaftbookError, UnknownMessage
from ..core.node import _is_int
from ..core.describe import command_text, describe_message
from .view import MAX_LOG, render_svg

#: Play speeds offered, in ticks per second of wall-clock time.
SPEEDS = (1, 2, 5, 10, 20, 50, 100, 200)
#: At most this many frames (redraws) per second while playing.
MAX_FPS = 10
#: The Explain tab lists at most this many reasons (the most recent that match).
EXPLAIN_ROWS = 400

_BTN = W.Layout(width="auto")
# Dropdown values standing for "nothing chosen" (a None value would show a blank box).
NO_MESSAGE = "(pick a message in flight)"


def _button(label, tip, style=""):
    return W.Button(description=label, tooltip=tip, layout=_BTN, button_style=style)


def parse_groups(text: str) -> list:
    """``"1,2 | 3,4,5"`` (or ``"S1 S2 | S3"``) -> ``[{1, 2}, {3, 4, 5}]``."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgument("type the groups to cut the network into, e.g. 1,2 | 3,4,5 "
                              "(servers you leave out form one more group)")
    groups = []
    for part in text.split("|"):
        ids = [int(x) for x in re.findall(r"\d+", part)]
        junk = re.sub(r"[\d\s,;{}()\[\]Ss]", "", part)
        if junk:
            raise InvalidArgument(f"cannot read {part.strip()!r} as a group of servers; write server "
                                  "numbers separated by commas, and groups separated by |, "
                                  "e.g. 1,2 | 3,4,5")
        if not ids:
            raise InvalidArgument(f"a group is empty in {text!r}; e.g. 1,2 | 3,4,5")
        groups.append(set(ids))
    return groups


def parse_value(text: str):
    """A value typed in the client form: JSON scalars (1, 2.5, true, null, "a") or plain text."""
    text = text.strip()
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return text


class ClusterWidget(W.VBox):
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
        if not _is_int(max_log) or max_log < 1:
            raise InvalidArgument(f"max_log must be a whole number >= 1, got {max_log!r}")
        if speed not in SPEEDS:
            raise InvalidArgument(f"speed is ticks per second, one of {SPEEDS}; got {speed!r}")
        net = Cluster.check_network(latency, drop_rate, duplicate_rate)
        super().__init__()
        self.cluster = cluster
        self.max_log = max_log
        self.selected_node: int | None = min(cluster.nodes)
        self.selected_msg: int | None = None
        self._future = None      # the latest state, kept while looking at the past
        self._timer = None       # the pending frame callback while playing
        self._loop = None
        self._quiet = False      # set while the widget itself changes its controls
        self._msg_key = None     # what the message list was built from
        self._explain_cache = None
        self._explain_seqs: list = []
        self.last_error: str | None = None
        self._build(net, speed)
        self.refresh()

    # ------------------------------------------------------------------ building
    def _build(self, net, speed):
        c = self.cluster
        b = {}
        b["Tick"] = _button("Tick", "c.tick(): one tick of time for every running server")
        b["Tick N"] = _button("Tick N", "c.tick() N times: time advances only, no message is "
                              "delivered (stops early if safety breaks)")
        b["Run N"] = _button("Run N", "c.run(N, latency=..., drop_rate=..., duplicate_rate=...): "
                             "time advances N ticks and the network delivers messages with the "
                             "chosen latency, drop and dup")
        b["Play"] = _button("Play", "automatic mode: c.run(...) a few ticks per frame until Pause",
                            "success")
        b["Undo"] = _button("Undo", "c.undo(): revert the last event")
        b["Reset"] = _button("Reset", "start over: a new cluster with this seed and size", "warning")
        b["Timeout"] = _button("Timeout", "c.timeout(server): its election timer fires now")
        b["Crash"] = _button("Crash", "c.crash(server)", "danger")
        b["Restart"] = _button("Restart", "c.restart(server)")
        b["Partition"] = _button("Partition", "c.partition(*groups): cut the network")
        b["Heal"] = _button("Heal", "c.heal(): remove the partition")
        b["Deliver"] = _button("Deliver", "c.deliver(message)", "primary")
        b["Drop"] = _button("Drop", "c.drop(message): the network loses it")
        b["Duplicate"] = _button("Duplicate", "c.duplicate(message): the network copies it")
        b["Deliver all"] = _button("Deliver all", "c.deliver(id) for every message now in flight, "
                                   "oldest first")
        b["Propose"] = _button("Propose", "c.propose(command, node): a client request", "info")
        b["Latest"] = _button("Latest", "back to the latest state (after looking at the past)")
        self.buttons = b

        self.n_ticks = W.BoundedIntText(value=10, min=1, max=10_000, description="N",
                                        layout=W.Layout(width="110px"),
                                        style={"description_width": "15px"})
        self.speed = W.Dropdown(options=[(f"{s} ticks/s", s) for s in SPEEDS], value=speed,
                                description="speed", layout=W.Layout(width="170px"),
                                style={"description_width": "40px"})
        self.latency = W.IntRangeSlider(value=tuple(net["latency"]), min=1, max=30,
                                        description="latency", layout=W.Layout(width="260px"),
                                        style={"description_width": "50px"})
        self.drop_rate = W.FloatSlider(value=net["drop_rate"], min=0, max=0.9, step=0.05,
                                       description="drop", layout=W.Layout(width="200px"),
                                       style={"description_width": "35px"})
        self.duplicate_rate = W.FloatSlider(value=net["duplicate_rate"], min=0, max=0.9, step=0.05,
                                            description="dup", layout=W.Layout(width="200px"),
                                            style={"description_width": "35px"})
        self.seed = W.IntText(value=c.seed, description="seed", layout=W.Layout(width="130px"),
                              style={"description_width": "32px"})
        sizes = sorted({3, 4, 5, 6, 7, c.n})
        self.size = W.Dropdown(options=[(f"{k} servers", k) for k in sizes], value=c.n,
                               layout=W.Layout(width="110px"))
        self.server_select = W.ToggleButtons(options=self._server_options(), value=self.selected_node,
                                             description="Server",
                                             style={"button_width": "44px", "description_width": "50px"})
        self.groups_text = W.Text(placeholder="1,2 | 3,4,5", description="groups",
                                  layout=W.Layout(width="200px"), style={"description_width": "45px"})
        self.message_select = W.Dropdown(options=[(NO_MESSAGE, 0)], value=0,
                                         description="Message", layout=W.Layout(width="560px"),
                                         style={"description_width": "60px"})
        self.op = W.Dropdown(options=["set", "get", "delete"], value="set", description="Client",
                             layout=W.Layout(width="150px"), style={"description_width": "45px"})
        self.key = W.Text(value="x", placeholder="key", layout=W.Layout(width="90px"))
        self.value = W.Text(value="1", placeholder='value: 1, "a", true',
                            layout=W.Layout(width="120px"))
        self.target = W.Dropdown(options=self._target_options(), value=0, description="to",
                                 layout=W.Layout(width="130px"), style={"description_width": "20px"})
        self.history_slider = W.IntSlider(value=0, min=0, max=0, description="History",
                                          continuous_update=False, layout=W.Layout(width="420px"),
                                          style={"description_width": "50px"})
        self.history_label = W.HTML()
        self.status = W.HTML()
        self.picture = W.HTML(layout=W.Layout(overflow="auto"))
        self.details = W.HTML()
        self.tables = W.HTML(layout=W.Layout(overflow="auto", max_height="640px"))
        self.explain_node = W.Dropdown(description="server", layout=W.Layout(width="150px"),
                                       style={"description_width": "45px"})
        self.explain_kind = W.Dropdown(description="kind", layout=W.Layout(width="200px"),
                                       style={"description_width": "35px"})
        self.explain_list = W.Select(options=[], rows=14, layout=W.Layout(width="98%"))
        self.explain_note = W.HTML()
        self.explain_picture = W.HTML(layout=W.Layout(overflow="auto"))
        self.spacetime_events = W.BoundedIntText(value=40, min=1, max=100_000,
                                                 description="last events",
                                                 layout=W.Layout(width="170px"),
                                                 style={"description_width": "70px"})
        self.spacetime = W.HTML(layout=W.Layout(overflow="auto", max_height="720px"))

        self._fill_explain_filters()

        row = lambda *kids: W.HBox(list(kids), layout=W.Layout(flex_flow="row wrap",  # noqa: E731
                                                                align_items="center"))
        controls = W.VBox([
            row(b["Tick"], b["Tick N"], b["Run N"], self.n_ticks, b["Play"], self.speed,
                self.latency, self.drop_rate, self.duplicate_rate),
            row(self.server_select, b["Timeout"], b["Crash"], b["Restart"], self.groups_text,
                b["Partition"], b["Heal"]),
            row(self.message_select, b["Deliver"], b["Drop"], b["Duplicate"], b["Deliver all"]),
            row(self.op, self.key, self.value, self.target, b["Propose"]),
            row(self.history_slider, b["Undo"], b["Latest"], self.history_label),
            row(self.seed, self.size, b["Reset"]),
        ])
        self.tabs = W.Tab(children=[
            W.VBox([self.picture, self.details]),
            self.tables,
            W.VBox([row(self.explain_node, self.explain_kind), self.explain_note, self.explain_list,
                    self.explain_picture]),
            W.VBox([self.spacetime_events, self.spacetime]),
        ])
        for k, title in enumerate(("Cluster", "Tables", "Explain", "Space-time")):
            self.tabs.set_title(k, title)
        self.children = [controls, self.status, self.tabs]

        on = lambda name, fn: b[name].on_click(lambda _b: fn())  # noqa: E731
        on("Tick", self.do_tick)
        on("Tick N", self.do_tick_n)
        on("Run N", self.do_run_n)
        on("Play", self.toggle_play)
        on("Undo", self.do_undo)
        on("Reset", self.do_reset)
        on("Timeout", self.do_timeout)
        on("Crash", self.do_crash)
        on("Restart", self.do_restart)
        on("Partition", self.do_partition)
        on("Heal", self.do_heal)
        on("Deliver", self.do_deliver)
        on("Drop", self.do_drop)
        on("Duplicate", self.do_duplicate)
        on("Deliver all", self.do_deliver_all)
        on("Propose", self.do_propose)
        on("Latest", self.do_latest)
        self.server_select.observe(self._on_server, names="value")
        self.message_select.observe(self._on_message, names="value")
        self.history_slider.observe(self._on_slider, names="value")
        self.tabs.observe(lambda _ch: self.refresh(), names="selected_index")
        self.explain_node.observe(self._on_explain_filter, names="value")
        self.explain_kind.observe(self._on_explain_filter, names="value")
        self.explain_list.observe(self._on_explain_pick, names="value")
        self.spacetime_events.observe(lambda _ch: self.refresh(), names="value")

    def _server_options(self):
        return [(f"S{i}", i) for i in self.cluster.nodes]

    def _target_options(self):
        return [("leader", 0)] + [(f"S{i}", i) for i in self.cluster.nodes]

    def _fill_explain_filters(self):
        from ..explain.narrate import EVENT_KINDS
        from ..explain.reasons import REASON_FAMILIES

        self._quiet = True
        try:
            self.explain_node.options = [("all", 0)] + [(f"S{i}", i) for i in self.cluster.nodes]
            self.explain_node.value = 0
            kinds = [("everything", "")] + [(f"{f} (reasons)", f) for f in REASON_FAMILIES]
            kinds += [(f"{k} (events)", k) for k in EVENT_KINDS if k not in REASON_FAMILIES]
            self.explain_kind.options = kinds
            self.explain_kind.value = ""
        finally:
            self._quiet = False

    # ------------------------------------------------------------------ state and messages
    @property
    def playing(self) -> bool:
        """True while automatic mode is on (a frame is scheduled)."""
        return self._timer is not None

    @property
    def viewing_past(self) -> bool:
        """True while the history slider shows an earlier state (the latest is kept aside)."""
        return self._future is not None

    def _say(self, html_text: str, error: bool = False):
        colour, bg = ("#8b0000", "#fff0f0") if error else ("#1b4332", "#f1f8f4")
        self.status.value = (f'<div style="padding:4px 8px;border-radius:4px;background:{bg};'
                             f'color:{colour};font-family:monospace;font-size:12px;'
                             f'white-space:pre-wrap">{html_text}</div>')

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
        before = len(self._future.history) if self._future is not None else None
        here = len(self.cluster.history)
        was_safe = self.cluster.violation is None
        try:
            result = fn()
        except RaftbookError as exc:
            self._error(exc)
            self.refresh()
            return None
        self.last_error = None
        note = ""
        if before is not None:
            dropped = before - here
            if dropped > 0:
                note = (f"\n(branched: the {dropped} later event{'s' if dropped != 1 else ''} "
                        f"you had moved back over {'were' if dropped != 1 else 'was'} discarded)")
            self._future = None
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

    def _need_node(self) -> int:
        if self.selected_node is None:
            raise InvalidArgument("no server selected: pick one with the Server buttons")
        return self.selected_node

    def _need_msg(self) -> int:
        if self.selected_msg is None:
            n = len(self.cluster.flight)
            raise UnknownMessage("no message selected: pick one in the Message list first "
                                 + (f"({n} in flight)" if n else "(none is in flight: Tick or "
                                    "Timeout a server to make some)"))
        return self.selected_msg

    # ------------------------------------------------------------------ the actions
    def do_tick(self):
        """c.tick()"""
        return self._act("c.tick()", self.cluster.tick)

    def do_tick_n(self):
        """c.tick() N times, stopping early if a safety property breaks."""
        n = self.n_ticks.value
        c = self.cluster

        def go():
            broken = c.violation is not None
            for k in range(n):
                c.tick()
                if not broken and c.violation is not None:
                    return k + 1  # stop where safety broke, so the picture shows it
            return n
        return self._act(f"for _ in range({n}): c.tick()", go)

    def do_run_n(self):
        """c.run(N, ...) with the latency, drop and dup controls: time passes and messages arrive."""
        n = self.n_ticks.value
        lo, hi = self.latency.value
        drop, dup = self.drop_rate.value, self.duplicate_rate.value
        return self._act(f"c.run({n}, latency=({lo}, {hi}), drop_rate={drop:g}, "
                         f"duplicate_rate={dup:g})",
                         lambda: self.cluster.run(n, latency=(lo, hi), drop_rate=drop,
                                                  duplicate_rate=dup))

    def do_timeout(self):
        """c.timeout(selected server)"""
        i = self.selected_node
        return self._act(f"c.timeout({i})", lambda: self.cluster.timeout(self._need_node()))

    def do_crash(self):
        """c.crash(selected server)"""
        i = self.selected_node
        return self._act(f"c.crash({i})", lambda: self.cluster.crash(self._need_node()))

    def do_restart(self):
        """c.restart(selected server)"""
        i = self.selected_node
        return self._act(f"c.restart({i})", lambda: self.cluster.restart(self._need_node()))

    def do_deliver(self):
        """c.deliver(selected message)"""
        m = self.selected_msg
        return self._act(f"c.deliver({m})", lambda: self.cluster.deliver(self._need_msg()))

    def do_drop(self):
        """c.drop(selected message)"""
        m = self.selected_msg
        return self._act(f"c.drop({m})", lambda: self.cluster.drop(self._need_msg()))

    def do_duplicate(self):
        """c.duplicate(selected message); returns the copy's envelope."""
        m = self.selected_msg
        return self._act(f"c.duplicate({m})", lambda: self.cluster.duplicate(self._need_msg()))

    def do_deliver_all(self):
        """c.deliver(id) for each message in flight now, oldest first (new replies stay in flight)."""
        c = self.cluster
        ids = [e.id for e in c.in_flight]

        def go():
            if not ids:
                raise InvalidState("no messages are in flight; Tick or Timeout a server to make some")
            broken = c.violation is not None
            for k, mid in enumerate(ids):
                c.deliver(mid)
                if not broken and c.violation is not None:
                    return k + 1  # stop where safety broke
            return len(ids)
        return self._act(f"for i in {ids if len(ids) <= 8 else '[...]'}: c.deliver(i)", go)

    def do_partition(self):
        """c.partition(*groups typed in the groups box)"""
        text = self.groups_text.value

        def go():
            groups = parse_groups(text)
            return self.cluster.partition(*groups)
        shown = ", ".join("{" + ", ".join(re.findall(r"\d+", p)) + "}" for p in text.split("|"))
        return self._act(f"c.partition({shown})", go)

    def do_heal(self):
        """c.heal()"""
        return self._act("c.heal()", self.cluster.heal)

    def command(self) -> tuple:
        """The client command the form describes, e.g. ("set", "x", 1)."""
        op = self.op.value
        key = self.key.value.strip()
        if not key:
            raise InvalidArgument("type a key for the client command (e.g. x)")
        if op == "set":
            if not self.value.value.strip():
                raise InvalidArgument('type a value to set (e.g. 1, "a" or true)')
            return ("set", key, parse_value(self.value.value))
        return (op, key)

    def do_propose(self):
        """c.propose(command, node) with the client form's command."""
        node = self.target.value or None  # 0 stands for "the leader"
        try:
            cmd = self.command()
        except RaftbookError as exc:
            self._error(exc)
            return None
        call = f"c.propose({cmd!r}{'' if node is None else f', node={node}'})"
        return self._act(call, lambda: self.cluster.propose(cmd, node=node),
                         lambda p: (f"proposal {p.id}: {command_text(cmd)} at index {p.index}, "
                                    f"term {p.term} on S{p.node}; status: {self.cluster.status(p)} "
                                    "(the Tables tab follows it)"))

    def do_undo(self):
        """c.undo(): revert the last event (the latest state, if you moved back, stays kept)."""
        self.pause()
        c = self.cluster
        try:
            c.undo()
        except RaftbookError as exc:
            self._error(exc)
            self.refresh()
            return None
        self.last_error = None
        self._say(f"<b>c.undo()</b>  back to after event {len(c.history)} (t={c.now})")
        self.refresh()
        return True

    def do_latest(self):
        """Return to the latest state after moving back in the history."""
        if self._future is None:
            self._error("already at the latest state")
            return None
        self.cluster.restore(self._future)
        self._future = None
        self.last_error = None
        self._say(f"back to the latest state: {len(self.cluster.history)} events, t={self.cluster.now}")
        self.refresh()
        return True

    def do_reset(self):
        """Start over with a new cluster of the chosen size and seed (same config and handlers)."""
        self.pause()
        old = self.cluster
        n, seed = self.size.value, self.seed.value
        kw = dict(seed=seed, config=old.config, handlers=old.handlers or None,
                  record_reasons=old.record_reasons, monitor=old._monitor is not None)
        try:
            if old.initial and n == old.n:
                from ..core.messages import command_from_json
                nodes = {int(i): {**st, "log": [(t, command_from_json(cmd)) for t, cmd in st["log"]]}
                         for i, st in old.initial.items()}
                new = Cluster.from_state(nodes, n=n, **kw)
            else:
                new = Cluster(n, **kw)
        except RaftbookError as exc:
            self._error(exc)
            return None
        self.cluster = new
        self._future = None
        self._msg_key = None
        self._explain_cache = None
        self.selected_node = min(new.nodes)
        self.selected_msg = None
        self._quiet = True
        try:
            self.server_select.options = self._server_options()
            self.server_select.value = self.selected_node
            self.target.options = self._target_options()
            self.target.value = 0
        finally:
            self._quiet = False
        self._fill_explain_filters()
        self.last_error = None
        made = f"rb.Cluster.from_state(..., seed={seed})" if new.initial else f"rb.Cluster({n}, seed={seed})"
        start = "the same starting logs" if new.initial else "empty logs"
        self._say(f"<b>{made}</b>  a new cluster with {start}; the widget now drives it "
                  "(widget.cluster)")
        self.refresh()
        return new

    # ------------------------------------------------------------------ automatic mode
    def _get_loop(self):
        """The running event loop (a notebook kernel runs one); Play needs it."""
        try:
            return asyncio.get_running_loop()
        except RuntimeError:
            raise InvalidState("Play needs a running event loop, as in a Jupyter kernel; outside "
                               "one, use Tick N or c.run(ticks) instead") from None

    def frame(self):
        """(ticks per frame, seconds between frames) for the chosen speed."""
        tps = self.speed.value
        per = max(1, round(tps / MAX_FPS))
        return per, per / tps

    def toggle_play(self):
        """Play (automatic mode) or Pause, by the button's current label."""
        if self.playing:
            self.pause()
            self._say("paused: nothing runs until you press Play again")
            return False
        return self.play()

    def play(self):
        """Start automatic mode: every frame runs c.run(k, latency=..., drop_rate=...)."""
        if self.playing:
            return True
        try:
            loop = self._get_loop()
        except RaftbookError as exc:
            self._error(exc)
            return False
        if self.cluster.violation is not None:
            self._error("safety is already violated; Undo or move back in the history before playing")
            return False
        self._loop = loop
        self.buttons["Play"].description = "Pause"
        self.buttons["Play"].button_style = "warning"
        self._timer = loop.call_soon(self._frame)
        self._say("playing: press Pause to stop")
        return True

    def pause(self):
        """Stop automatic mode: cancel the pending frame; nothing is left scheduled."""
        if self._timer is not None:
            self._timer.cancel()
        self._timer = None
        self.buttons["Play"].description = "Play"
        self.buttons["Play"].button_style = "success"

    def _frame(self):
        self._timer = None
        per, interval = self.frame()
        lo, hi = self.latency.value
        c = self.cluster
        ok = self._act(f"c.run({per}, latency=({lo}, {hi}), drop_rate={self.drop_rate.value:g}, "
                       f"duplicate_rate={self.duplicate_rate.value:g})",
                       lambda: c.run(per, latency=(lo, hi), drop_rate=self.drop_rate.value,
                                     duplicate_rate=self.duplicate_rate.value))
        if not ok:
            self.pause()
            return
        if c.violation is not None:
            self.pause()
            self._error(f"paused: {c.violation}")
            return
        if self.buttons["Play"].description == "Pause":  # not paused meanwhile
            self._timer = self._loop.call_later(interval, self._frame)

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
        self.pause()
        c = self.cluster
        total = len(self._future.history) if self._future is not None else len(c.history)
        if not _is_int(m) or not 0 <= m <= total:
            self._error(f"the history has events 0..{total}; got {m!r}")
            return False
        if self._future is None:
            if m == total:
                return True
            self._future = c.snapshot()
        else:
            c.restore(self._future)
            if m == total:
                self._future = None
                self._say("back at the latest state")
                self.refresh()
                return True
        c.goto(m)
        later = total - m
        self._say(f"looking at the state after event {m} of {total} (t={c.now}). Act now to branch "
                  f"from here (the {later} later event{'s' if later != 1 else ''} would be "
                  f"discarded), or press Latest to go back.")
        self.refresh()
        return True

    # ------------------------------------------------------------------ redrawing
    def _forget_stale_future(self):
        """Drop the kept latest state if the cluster was changed outside the widget meanwhile.

        The run is deterministic, so the kept history still applies as long as
        every event since the point we moved back to is the same call.
        """
        fut = self._future
        if fut is None:
            return
        now, kept = self.cluster.history, fut.history
        m = len(now)
        if m >= len(kept) or any((now[k].kind, now[k].args) != (kept[k].kind, kept[k].args)
                                 for k in range(max(0, m - 8), m)):
            self._future = None

    def _sync_controls(self):
        c = self.cluster
        self._forget_stale_future()
        self._quiet = True
        try:
            if self.selected_msg is not None and self.selected_msg not in c.flight:
                self.selected_msg = None
            key = (tuple(c.flight), c.groups, frozenset(c.crashed))
            if key != self._msg_key:
                self._msg_key = key
                opts = [(NO_MESSAGE, 0)]
                for env in c.flight.values():
                    m = env.msg
                    lost = "" if c.can_reach(m.src, m.dst) else "  ✕ will be lost"
                    opts.append((f"#{env.id} {describe_message(m, detail=True)}{lost}", env.id))
                self.message_select.options = opts
            if self.message_select.value != (self.selected_msg or 0):
                self.message_select.value = self.selected_msg or 0
            if self.server_select.value != self.selected_node:
                self.server_select.value = self.selected_node
            total = len(self._future.history) if self._future is not None else len(c.history)
            sl = self.history_slider
            if sl.max != total:
                sl.max = total
            if sl.value != len(c.history):
                sl.value = len(c.history)
            m = len(c.history)
            if m == 0:
                text = "the start: no events yet"
            else:
                text = f"after event {m}: {escape(c.history[m - 1].summary)}"
            if self._future is not None:
                text = f"<b>past</b> ({total - m} later kept) · " + text
            self.history_label.value = f'<span style="font-size:12px">{text}</span>'
            self.buttons["Latest"].disabled = self._future is None
        finally:
            self._quiet = False

    def refresh(self):
        """Bring the controls and the visible tab up to date with the cluster."""
        self._sync_controls()
        tab = self.tabs.selected_index or 0
        if tab == 0:
            self.picture.value = render_svg(self.cluster, self.selected_node, self.selected_msg,
                                            max_log=self.max_log)
            self.details.value = self._details_html()
        elif tab == 1:
            self.tables.value = self._tables_html()
        elif tab == 2:
            self._refresh_explain()
        else:
            self._refresh_spacetime()

    # -- details
    def _details_html(self) -> str:
        c = self.cluster
        parts = ['<div style="display:flex;gap:24px;flex-wrap:wrap;font-size:12px">']
        if self.selected_node is not None:
            i = self.selected_node
            node = c.nodes[i]
            st = node.state()
            rows = [("status", "crashed (state frozen)" if i in c.crashed else "running")]
            for k, v in st.items():
                if k == "log":
                    v = " ".join(f"{idx}:t{t}:{command_text(cmd)}" for idx, t, cmd in v) or "(empty)"
                elif k in ("next_index", "match_index"):
                    v = ", ".join(f"S{p}→{x}" for p, x in v.items()) or "(only on a leader)"
                elif k in ("voted_for", "leader_id"):
                    v = "None" if v is None else f"S{v}"
                rows.append((k, v))
            rows.append(("ticks_until_timeout", node.ticks_until_timeout))
            rows.append(("votes (this term)", ", ".join(f"S{v}" for v in sorted(node.votes)) or "none"))
            parts.append(_table(f"Server S{i}: Figure 2 state", rows))
        if self.selected_msg is not None:
            env = c.flight[self.selected_msg]
            m = env.msg
            rows = [("envelope id", env.id), ("type", type(m).__name__)]
            for f in fields(m):
                v = getattr(m, f.name)
                if f.name == "entries":
                    v = " ".join(f"{e.index}:t{e.term}:{command_text(e.command)}" for e in v) or \
                        "() (a heartbeat)"
                elif f.name in ("src", "dst"):
                    v = f"S{v}"
                rows.append((f.name, v))
            rows.append(("sent_at", env.sent_at))
            if m.dst in c.crashed:
                fate = f"lost: S{m.dst} is crashed"
            elif not c.can_reach(m.src, m.dst):
                fate = "lost: a partition separates the two servers"
            else:
                fate = f"arrives at S{m.dst}"
            rows.append(("if delivered now", fate))
            parts.append(_table(f"Message #{env.id}", rows))
        parts.append("</div>")
        return "".join(parts)

    # -- tables
    def _tables_html(self) -> str:
        import pandas as pd

        from .tables import logs_table, messages_table, nodes_table, proposals_table

        c = self.cluster
        with pd.option_context("display.max_colwidth", 80):
            parts = [
                "<h4>Logs side by side (✓ committed on that server)</h4>", logs_table(c).to_html(),
                "<h4>Servers</h4>", nodes_table(c).to_html(),
                "<h4>Messages in flight</h4>", messages_table(c).to_html(),
                "<h4>Client proposals</h4>", proposals_table(c).to_html(),
                "<h4>Event history (c.events())</h4>", c.events().to_html(max_rows=500),
            ]
        return '<div style="font-size:12px">' + "".join(parts) + "</div>"

    # -- explain
    def _on_explain_filter(self, _change):
        if self._quiet:
            return
        self._explain_cache = None
        self.refresh()

    def _latest_explanation(self):
        """explain() of the latest history (also while looking at the past), cached."""
        from ..explain.narrate import explain

        c = self.cluster
        latest = self._future.history if self._future is not None else c.history
        key = (id(c), len(latest), latest[-1] if latest else None, self.explain_node.value,
               self.explain_kind.value)
        if self._explain_cache is not None and self._explain_cache[0] == key:
            return self._explain_cache[1]
        node, kind = self.explain_node.value or None, self.explain_kind.value or None
        if self._future is None:
            df = explain(c, node=node, kind=kind)
        else:
            here = c.snapshot()
            c.restore(self._future)
            try:
                df = explain(c, node=node, kind=kind)
            finally:
                c.restore(here)
        self._explain_cache = (key, df)
        return df

    def _refresh_explain(self):
        try:
            df = self._latest_explanation()
        except RaftbookError as exc:
            self._error(exc)
            return
        total = len(df)
        shown = df.iloc[-EXPLAIN_ROWS:]
        opts = [(f"#{seq} t={t}  {sentence}", k)
                for k, (seq, t, sentence) in enumerate(zip(shown["seq"], shown["time"],
                                                           shown["sentence"]))]
        self._explain_seqs = list(shown["seq"])
        self._quiet = True
        try:
            if list(self.explain_list.options) != opts:
                self.explain_list.options = opts
                self.explain_list.value = None
        finally:
            self._quiet = False
        more = f" (the last {EXPLAIN_ROWS} of {total}; narrow with the filters)" if total > len(shown) else ""
        self.explain_note.value = (f'<span style="font-size:12px">{len(shown)} reasons{more}. Pick one '
                                   "to see the cluster right after its event.</span>")
        self.explain_picture.value = render_svg(self.cluster, self.selected_node, self.selected_msg,
                                                max_log=self.max_log)

    def _on_explain_pick(self, change):
        if self._quiet or change["new"] is None:
            return
        seq = self._explain_seqs[change["new"]]
        self.travel(seq + 1)

    # -- space-time
    def _refresh_spacetime(self):
        from ..explain.diagram import spacetime_svg

        c = self.cluster
        start = max(0, len(c.history) - self.spacetime_events.value)
        try:
            self.spacetime.value = spacetime_svg(c, start=start)
        except RaftbookError as exc:
            self._error(exc)


def _table(title, rows) -> str:
    cell = "text-align:left;padding:0 10px 0 0;border:none;line-height:1.35;vertical-align:top"
    body = "".join(f'<tr style="border:none"><td style="{cell};color:#495057">{escape(str(k))}</td>'
                   f'<td style="{cell};font-family:monospace;max-width:520px;'
                   f'overflow-wrap:anywhere">{escape(str(v))}</td></tr>' for k, v in rows)
    return (f'<div><b>{escape(title)}</b><table style="border-collapse:collapse;border:none;'
            f'font-size:12px">{body}</table></div>')


def show(cluster: Cluster | None = None, **options) -> ClusterWidget:
    """A :class:`ClusterWidget` for ``cluster`` (a new 5-server cluster if None).

    Put it last in a notebook cell (or pass it to ``display``) to see it;
    ``options`` go to :class:`ClusterWidget` (``max_log``, ``speed``, ``latency``, ...).
    """
    return ClusterWidget(cluster, **options)
