"""What each button does: one cluster call per click, refused calls shown in the status line.

:class:`Actions` is the part of :class:`~raftbook.ui.widget.shell.ClusterWidget`
that turns a click into the call a student could type (``c.tick()``,
``c.crash(2)``, ...). Every action goes through the widget's action runner, so
a refused call (no server or message selected, crashing a crashed server, no
leader for a proposal) leaves the cluster unchanged and says why.
"""
from __future__ import annotations

from ...core.describe import command_text
from ...core.messages import command_from_json
from ...errors import InvalidArgument, InvalidState, RaftbookError, UnknownMessage
from ...sim.cluster import Cluster
from .controls import server_options, target_options
from .form import client_command, groups_call_text, parse_groups, parse_link


class Actions:
    """The buttons' methods; mixed into the widget, which supplies the cluster, the form and ``_act``."""

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

    # -- time
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
        """c.run(N, ...) with the network options of the controls: time passes and messages arrive."""
        n = self.n_ticks.value
        lo, hi = self.latency.value
        drop, dup = self.drop_rate.value, self.duplicate_rate.value
        return self._act(f"c.run({n}, latency=({lo}, {hi}), drop_rate={drop:g}, duplicate_rate={dup:g})",
                         lambda: self.cluster.run(n, latency=(lo, hi), drop_rate=drop,
                                                  duplicate_rate=dup))

    # -- servers
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

    def do_compact(self):
        """c.compact(selected server): a snapshot of its applied state replaces the entries it covers."""
        i = self.selected_node
        return self._act(f"c.compact({i})", lambda: self.cluster.compact(self._need_node()))

    # -- messages
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

    # -- the network
    def do_partition(self):
        """c.partition(*groups typed in the groups box)"""
        text = self.groups_text.value

        def go():
            groups = parse_groups(text)
            return self.cluster.partition(*groups)
        return self._act(f"c.partition({groups_call_text(text)})", go)

    def do_cut(self):
        """c.cut(a, b) with the two servers typed in the groups box"""
        text = self.groups_text.value

        def go():
            return self.cluster.cut(*parse_link(text))
        return self._act(f"c.cut({groups_call_text(text)[1:-1]})", go)

    def do_heal(self):
        """c.heal()"""
        return self._act("c.heal()", self.cluster.heal)

    # -- clients
    def command(self) -> tuple:
        """The client command the form describes, e.g. ("set", "x", 1)."""
        return client_command(self.op.value, self.key.value, self.value.value)

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

    # -- history
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
        return self._travel.back_to_latest()

    def do_reset(self):
        """Start over (same config and handlers).

        With the cluster's own seed and size this rewinds the very cluster the
        widget drives to its start (``c.goto(0)``), so a student's variable
        still names what the widget shows. Another seed or size needs a new
        cluster: the status line says so, and that it is ``widget.cluster``.
        """
        self.pause()
        old = self.cluster
        n, seed = self.size.value, self.seed.value
        if n == old.n and seed == old.seed:
            try:  # (also from the past: the kept latest state is forgotten below)
                old.goto(0)
            except RaftbookError as exc:
                self._error(exc)
                return None
            self._after_reset()
            self._say(f"<b>c.goto(0)</b>  Reset: back to the start of the same cluster (seed {seed}, "
                      f"{n} servers); the variable you passed to the widget still drives it")
            self.refresh()
            return old
        kw = dict(seed=seed, config=old.config, handlers=old.handlers or None,
                  record_reasons=old.record_reasons, monitor=old.monitor is not None)
        try:
            if old.initial and n == old.n:
                nodes = {int(i): {**st, "log": [(t, command_from_json(cmd)) for t, cmd in st["log"]]}
                         for i, st in old.initial.items()}
                new = Cluster.from_state(nodes, n=n, **kw)
            else:
                new = Cluster(n, **kw)
        except RaftbookError as exc:
            self._error(exc)
            return None
        self.cluster = new
        self._after_reset()
        made = f"rb.Cluster.from_state(..., seed={seed})" if new.initial else f"rb.Cluster({n}, seed={seed})"
        start = "the same starting logs" if new.initial else "empty logs"
        why = "another seed" if n == old.n else ("another size" if seed == old.seed else
                                                  "another seed and size")
        self._say(f"<b>w.cluster = {made}</b>  Reset with {why} made a NEW cluster with {start}. "
                  "The widget now drives it; your own variable still holds the old one. "
                  "Get the new one with  c = widget.cluster")
        self.refresh()
        return new

    def _after_reset(self):
        """Forget what belonged to the run before Reset: kept states, caches, selection, filters."""
        new = self.cluster
        self._travel.forget()
        self._msg_key = None
        self._explain.forget()
        self.selected_node = min(new.nodes)
        self.selected_msg = None
        self._quiet = True
        try:
            self.server_select.options = server_options(new)
            self.server_select.value = self.selected_node
            self.target.options = target_options(new)
            self.target.value = 0
        finally:
            self._quiet = False
        self._explain.fill_filters()
        self.last_error = None
