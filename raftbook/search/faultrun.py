"""The fault-campaign engine: one cluster driven through a schedule of actions, judged after each.

:class:`FaultRun` carries out the actions of :mod:`.faults` on a cluster with
the safety monitor on, and stops at the first trouble: a safety violation, a
flood (too many messages in flight at once, or, with a rate cap, delivered per
server per tick), or a handler that raises or breaks its server. The trouble
is recorded as a plain :class:`Trouble`; the public campaigns and the graders
put it in their own words. Everything is a recorded cluster event, so the
cluster's history up to the trouble is the failing run.
"""
from __future__ import annotations

from typing import NamedTuple

from ..core.roles import Role
from ..errors import HandlerError, InvalidArgument, InvalidState, NotLeader, RaftbookError


class Trouble(NamedTuple):
    """What stopped a run. ``kind``: "safety", "flood" (in flight), "rate" (delivered),
    "handler_error", "not_leader", "refused" (the cluster refused a call), "broken"
    (an unexpected exception) or "expectation" (a caller's own check)."""

    kind: str
    property: str | None
    detail: str
    error: BaseException | None = None
    count: int = 0
    cap: int = 0
    method: str = ""


class Halt(Exception):
    """The run hit trouble; ``run.trouble`` says which."""


class FaultRun:
    """One cluster under a fault campaign, checked after every step.

    ``net`` is the network of ``run`` actions (an action may override the loss
    and duplication rates); ``flood_cap`` the messages allowed in flight at once
    (default 100 per server); ``rate_cap`` the messages delivered per server per
    tick (None: unchecked). ``track_changes`` adds the counts of membership changes
    carried out and refused to ``stats``, ``track_compactions`` the count of compactions,
    ``track_cuts`` the count of links cut.
    """

    def __init__(self, cluster, *, net=None, flood_cap: int | None = None, rate_cap: int | None = None,
                 track_changes: bool = False, track_compactions: bool = False,
                 track_cuts: bool = False):
        self.c = cluster
        self.net = dict(net or {})
        self.flood_cap = flood_cap or 100 * cluster.n
        self.rate_cap = rate_cap
        self.trouble: Trouble | None = None
        self.at: int | None = None  # index of the action that failed
        self.actions: list = []      # the actions carried out, the failing one last
        self.delivered = 0           # messages delivered so far (for the rate cap)
        self._counted = len(cluster.history)
        self.stats = {"delivered": 0, "dropped": 0, "duplicated": 0, "lost": 0, "crashes": 0,
                      "partitions": 0, "timeouts": 0}
        if track_changes:  # only for runs that may change the configuration (keeps old tables as they were)
            self.stats.update(changes=0, refused=0)
        if track_compactions:  # likewise, only for runs with the compact fault
            self.stats["compactions"] = 0
        if track_cuts:  # and with the cut fault
            self.stats["cuts"] = 0

    # -- stopping ------------------------------------------------------------------
    def record(self, trouble: Trouble) -> None:
        """Note what stopped the run (a subclass may put it in its own words too)."""
        self.trouble = trouble

    def halt(self, trouble: Trouble):
        self.record(trouble)
        raise Halt

    def check(self):
        """Halt on a safety violation or a flood of messages."""
        c = self.c
        v = c.violation
        if v is not None:
            self.halt(Trouble("safety", v.property, str(v), v))
        flying = len(c.flight)
        if flying > self.flood_cap:
            self.halt(Trouble("flood", None, f"{flying} messages in flight at once (cap {self.flood_cap}): "
                              "a handler floods the network", count=flying, cap=self.flood_cap))
        if self.rate_cap is None:
            return
        history = c.history
        for ev in history[self._counted:]:
            self.delivered += 1 if ev.kind == "deliver" else (ev.stats or {}).get("delivered", 0)
        self._counted = len(history)
        if self.delivered > self.rate_cap * c.n * max(c.now, 20):
            self.halt(Trouble("rate", None, f"{self.delivered} messages were delivered in {c.now} ticks",
                              count=self.delivered, cap=self.rate_cap))

    # -- stepping ------------------------------------------------------------------
    def call(self, method: str, *args, **kwargs):
        """Carry out one cluster call; a handler error, a refusal or a violation halts."""
        try:
            out = getattr(self.c, method)(*args, **kwargs)
        except HandlerError as exc:
            self.halt(Trouble("handler_error", None, str(exc), exc, method=method))
        except NotLeader as exc:
            self.halt(Trouble("not_leader", None, str(exc), exc, method=method))
        except RaftbookError as exc:
            self.halt(Trouble("refused", None, str(exc), exc, method=method))
        self.check()
        return out

    def run(self, ticks: int, until=None, **net) -> bool:
        """Run automatically for ``ticks`` (stopping early at trouble or ``until(cluster)``).

        Returns whether ``until`` holds at the end.
        """
        cap = self.flood_cap
        flight = self.c.flight
        if until is None:
            def goal(c):
                return c.violation is not None or len(flight) > cap
        else:
            def goal(c):
                return len(flight) > cap or c.violation is not None or until(c)
        try:
            self.c.run_until(goal, max(ticks, 0), **net)
        except HandlerError as exc:
            self.halt(Trouble("handler_error", None, str(exc), exc, method="run_until"))
        ev = self.c.history[-1]
        stats = self.stats
        for k in ("delivered", "dropped", "duplicated", "lost"):
            stats[k] += ev.stats.get(k, 0)
        self.check()
        return until is not None and bool(until(self.c))

    def act(self, action: tuple) -> None:
        """Carry out one action of :mod:`.faults` (skipped when it does not fit the state)."""
        c = self.c
        kind = action[0]
        if kind == "run":
            net = self.net
            if len(action) > 2:
                net = {**net, "drop_rate": action[2], "duplicate_rate": action[3]}
            self.run(action[1], **net)
        elif kind == "propose":
            target = _target(action[2], [i for i in c.running if c.nodes[i].role is Role.LEADER])
            if target is not None:
                self.call("propose", action[1], node=target)
        elif kind == "crash":
            target = c.leader if action[1] == "leader" else _target(action[1], c.running)
            if target is not None and len(c.crashed) < (c.n - 1) // 2:
                self.call("crash", target)
                self.stats["crashes"] += 1
        elif kind == "restart":
            target = _target(action[1], sorted(c.crashed))
            if target is not None:
                self.call("restart", target)
        elif kind == "timeout":
            target = _target(action[1], [i for i in c.running if c.nodes[i].role is not Role.LEADER])
            if target is not None:
                self.call("timeout", target)
                self.stats["timeouts"] += 1
        elif kind == "partition":
            if c.groups is None:
                self.call("partition", *[set(g) for g in action[1]])
                self.stats["partitions"] += 1
        elif kind == "heal":
            if c.groups is not None or c.cuts:
                self.call("heal")
        elif kind == "cut":
            if tuple(action[1]) not in c.cuts:
                self.call("cut", *action[1])
                if "cuts" in self.stats:
                    self.stats["cuts"] += 1
        elif kind in ("add_server", "remove_server"):
            self.reconfigure(kind, action[1])
        elif kind == "compact":
            nodes = c.nodes
            target = _target(action[1], [i for i in c.running
                                         if nodes[i].last_applied > nodes[i].snapshot_index])
            if target is not None:
                self.call("compact", target)
                if "compactions" in self.stats:
                    self.stats["compactions"] += 1
        else:
            raise InvalidArgument(f"unknown campaign action {action!r}")

    def reconfigure(self, kind: str, target) -> None:
        """Ask the leader to add a server outside its configuration, or remove a member.

        A change the cluster refuses (no leader, another change under way, the 2015 fix
        waiting for an entry of the leader's term) is skipped, not a finding: it changes nothing.
        """
        c = self.c
        leader = c.leader
        if leader is None:
            target = None
        else:
            members = c.nodes[leader].members
            if kind == "add_server":
                target = _target(target, [i for i in sorted(c.nodes) if i not in members])
            else:
                target = leader if target == "leader" else _target(target, sorted(members))
        if target is None:
            return
        try:
            getattr(c, kind)(target)
        except HandlerError as exc:
            self.halt(Trouble("handler_error", None, str(exc), exc, method=kind))
        except (NotLeader, InvalidState):
            if "refused" in self.stats:
                self.stats["refused"] += 1
            return
        except RaftbookError as exc:
            self.halt(Trouble("refused", None, str(exc), exc, method=kind))
        if "changes" in self.stats:
            self.stats["changes"] += 1
        self.check()

    def play(self, actions):
        """Carry out ``actions`` (a list, or a generator reading the cluster) until trouble."""
        start = len(self.actions)
        try:
            for action in actions:
                self.actions.append(action)
                self.act(action)
        except Halt:
            self.at = len(self.actions) - 1 - start
        except Exception as exc:  # a server's state broken beyond what the core can run
            self.at = len(self.actions) - 1 - start
            self.record(Trouble("broken", None, f"{type(exc).__name__}: {exc}", exc))
        return self

    def outcome(self):
        """(kind, property) of the trouble, or None: what a shorter run must reproduce."""
        t = self.trouble
        return None if t is None else (t.kind, t.property)


def _target(target, options):
    """A server among ``options``: the one named, or the one a fraction in [0, 1] picks."""
    if isinstance(target, float):
        return options[min(int(target * len(options)), len(options) - 1)] if options else None
    return target if target in options else None
