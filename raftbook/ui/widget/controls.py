"""Building the widget: every control, the layout of its rows and tabs, and what each one calls.

:func:`build` puts the controls on the widget as attributes (``w.buttons``,
``w.history_slider``, ``w.picture``, ...: names tests and course material use)
and returns the widget's children; :func:`wire` connects them to the widget's
methods. Each button's tooltip is the cluster call it makes.
"""
from __future__ import annotations

import ipywidgets as W

from ...core.describe import describe_message
from .offstage import Choice, Shown, Slider
from .picture import ClusterPart, ClusterPicture
from .play import SPEEDS

# Dropdown values standing for "nothing chosen" (a None value would show a blank box).
NO_MESSAGE = "(pick a message in flight)"
TAB_TITLES = ("Cluster", "Tables", "Explain", "Space-time")

_BTN = W.Layout(width="auto")

#: Each button: label, tooltip (the call it makes), style.
BUTTONS = (
    ("Tick", "c.tick(): one tick of time for every running server", ""),
    ("Tick N", "c.tick() N times: time passes and timers fire, but no message is delivered "
               "(messages wait for Deliver); stops early if safety breaks", ""),
    ("Run N", "c.run(N, latency, drop, dup): N ticks of time AND the network delivers each "
              "message after a random latency, losing or copying some at the chosen rates", ""),
    ("Play", "automatic mode: c.run(...) a few ticks per frame until Pause", "success"),
    ("Undo", "c.undo(): revert the last event", ""),
    ("Reset", "start over: a new cluster with this seed and size", "warning"),
    ("Timeout", "c.timeout(server): its election timer fires now", ""),
    ("Crash", "c.crash(server)", "danger"),
    ("Restart", "c.restart(server)", ""),
    ("Compact", "c.compact(server): it snapshots its applied state and drops the log entries "
                "the snapshot covers", ""),
    ("Partition", "c.partition(*groups): cut the network", ""),
    ("Cut", "c.cut(a, b): cut only the link between the two servers typed in the groups box "
            "(e.g. 1,5); both still reach the others: a partial partition", ""),
    ("Heal", "c.heal(): remove the partition and every cut link", ""),
    ("Deliver", "c.deliver(message)", "primary"),
    ("Drop", "c.drop(message): the network loses it", ""),
    ("Duplicate", "c.duplicate(message): the network copies it", ""),
    ("Deliver all", "c.deliver(id) for every message now in flight, oldest first", ""),
    ("Propose", "c.propose(command, node): a client request", "info"),
    ("Latest", "back to the latest state (after looking at the past)", ""),
)

#: Which widget method each button calls.
ACTIONS = {
    "Tick": "do_tick", "Tick N": "do_tick_n", "Run N": "do_run_n", "Play": "toggle_play", "Undo": "do_undo",
    "Reset": "do_reset", "Timeout": "do_timeout", "Crash": "do_crash", "Restart": "do_restart",
    "Compact": "do_compact",
    "Partition": "do_partition", "Cut": "do_cut", "Heal": "do_heal", "Deliver": "do_deliver", "Drop": "do_drop",
    "Duplicate": "do_duplicate", "Deliver all": "do_deliver_all", "Propose": "do_propose",
    "Latest": "do_latest",
}


def server_options(cluster):
    return [(f"S{i}", i) for i in cluster.nodes]


def target_options(cluster):
    return [("leader", 0)] + [(f"S{i}", i) for i in cluster.nodes]


def message_options(cluster):
    """The Message list: every message in flight, described, and marked if it will be lost."""
    opts = [(NO_MESSAGE, 0)]
    for env in cluster.flight.values():
        m = env.msg
        lost = "" if cluster.can_reach(m.src, m.dst) else "  ✕ will be lost"
        opts.append((f"#{env.id} {describe_message(m, detail=True)}{lost}", env.id))
    return opts


def _row(*kids):
    return W.HBox(list(kids), layout=W.Layout(flex_flow="row wrap", align_items="center"))


def build(w, net, speed) -> list:
    """Make every control as an attribute of ``w``; returns ``w``'s children (controls, status, tabs)."""
    c = w.cluster
    w.buttons = b = {label: W.Button(description=label, tooltip=tip, layout=_BTN, button_style=style)
                     for label, tip, style in BUTTONS}
    w.n_ticks = W.BoundedIntText(value=10, min=1, max=10_000, description="N",
                                 layout=W.Layout(width="110px"),
                                 style={"description_width": "15px"})
    w.speed = W.Dropdown(options=[(f"{s} ticks/s", s) for s in SPEEDS], value=speed,
                         description="speed", layout=W.Layout(width="170px"),
                         style={"description_width": "40px"})
    w.latency = W.IntRangeSlider(value=tuple(net["latency"]), min=1, max=30,
                                 description="latency", layout=W.Layout(width="260px"),
                                 style={"description_width": "50px"})
    w.drop_rate = W.FloatSlider(value=net["drop_rate"], min=0, max=0.9, step=0.05,
                                description="drop", layout=W.Layout(width="200px"),
                                style={"description_width": "35px"})
    w.duplicate_rate = W.FloatSlider(value=net["duplicate_rate"], min=0, max=0.9, step=0.05,
                                     description="dup", layout=W.Layout(width="200px"),
                                     style={"description_width": "35px"})
    w.seed = W.IntText(value=c.seed, description="seed", layout=W.Layout(width="130px"),
                       style={"description_width": "32px"})
    sizes = sorted({3, 4, 5, 6, 7, c.n})
    w.size = W.Dropdown(options=[(f"{k} servers", k) for k in sizes], value=c.n,
                        layout=W.Layout(width="110px"))
    w.server_select = W.ToggleButtons(options=server_options(c), value=w.selected_node,
                                      description="Server",
                                      style={"button_width": "44px", "description_width": "50px"})
    w.groups_text = W.Text(placeholder="1,2 | 3,4,5", description="groups",
                           layout=W.Layout(width="200px"), style={"description_width": "45px"})
    # The Message list, the history slider and its label, the status line and the details
    # table are drawn in the page from the picture's messages (ClusterPart); in Python they
    # are plain values (offstage), so updating them sends nothing.
    w.message_select = Choice(options=[(NO_MESSAGE, 0)], value=0, description="Message")
    w.op = W.Dropdown(options=["set", "get", "delete"], value="set", description="Client",
                      layout=W.Layout(width="150px"), style={"description_width": "45px"})
    w.key = W.Text(value="x", placeholder="key", layout=W.Layout(width="90px"))
    w.value = W.Text(value="1", placeholder='value: 1, "a", true', layout=W.Layout(width="120px"))
    w.target = W.Dropdown(options=target_options(c), value=0, description="to",
                          layout=W.Layout(width="130px"), style={"description_width": "20px"})
    w.history_slider = Slider(description="History")
    w.history_label = Shown()
    w.status = Shown()
    w.details = Shown()
    w.picture = ClusterPicture(w, max_log=w.max_log, layout=W.Layout(width="100%"))
    w.parts = {name: ClusterPart(w.picture, name, layout=W.Layout(**lay)) for name, lay in (
        ("status", {"width": "100%"}), ("messages", {"flex": "0 1 520px", "min_width": "300px"}),
        ("history", {"flex": "1 1 480px", "min_width": "320px"}), ("details", {"width": "100%"}))}
    w.tables = W.HTML(layout=W.Layout(overflow="auto", max_height="640px"))
    w.explain_node = W.Dropdown(description="server", layout=W.Layout(width="150px"),
                                style={"description_width": "45px"})
    w.explain_kind = W.Dropdown(description="kind", layout=W.Layout(width="200px"),
                                style={"description_width": "35px"})
    w.explain_newest = W.Checkbox(value=False, description="newest first", indent=False,
                                  layout=W.Layout(width="auto"))
    w.explain_list = W.Select(options=[], rows=14, layout=W.Layout(width="98%"))
    w.explain_note = W.HTML()
    w.explain_picture = W.HTML(layout=W.Layout(overflow="auto"))
    w.spacetime_events = W.BoundedIntText(value=40, min=1, max=100_000, description="last events",
                                          layout=W.Layout(width="210px"),
                                          style={"description_width": "initial"})
    w.spacetime = W.HTML(layout=W.Layout(overflow="auto", max_height="720px"))
    w.spacetime_list = W.HTML()

    controls = W.VBox([
        _row(b["Tick"], b["Tick N"], b["Run N"], w.n_ticks, b["Play"], w.speed, w.latency,
             w.drop_rate, w.duplicate_rate),
        _row(w.server_select, b["Timeout"], b["Crash"], b["Restart"], b["Compact"], w.groups_text,
             b["Partition"], b["Cut"], b["Heal"]),
        _row(w.parts["messages"], b["Deliver"], b["Drop"], b["Duplicate"], b["Deliver all"]),
        _row(w.op, w.key, w.value, w.target, b["Propose"]),
        _row(b["Undo"], b["Latest"], w.parts["history"]),
        _row(w.seed, w.size, b["Reset"]),
    ])
    w.tabs = W.Tab(children=[
        W.VBox([w.picture, w.parts["details"]]),
        w.tables,
        W.VBox([_row(w.explain_node, w.explain_kind, w.explain_newest), w.explain_note,
                w.explain_list, w.explain_picture]),
        W.VBox([w.spacetime_events, w.spacetime, w.spacetime_list]),
    ])
    for k, title in enumerate(TAB_TITLES):
        w.tabs.set_title(k, title)
    return [controls, w.parts["status"], w.tabs]


def _caller(fn):
    return lambda _button: fn()


def wire(w, explain_tab):
    """Connect every button and selection of ``w`` to what it does."""
    for label, method in ACTIONS.items():
        w.buttons[label].on_click(_caller(getattr(w, method)))
    w.server_select.observe(w._on_server, names="value")
    w.message_select.observe(w._on_message, names="value")
    w.history_slider.observe(w._on_slider, names="value")
    w.tabs.observe(lambda _ch: w.refresh(), names="selected_index")
    w.explain_node.observe(explain_tab.on_filter, names="value")
    w.explain_kind.observe(explain_tab.on_filter, names="value")
    w.explain_newest.observe(explain_tab.on_filter, names="value")
    w.explain_list.observe(explain_tab.on_pick, names="value")
    w.spacetime_events.observe(lambda _ch: w.refresh(), names="value")
