"""Shrinking a failing run under a fixed budget: the minimizer of every fault campaign.

A failing campaign is cut down while it still fails the same way: actions
are removed in chunks (halves, quarters, ... single ones), then stretches of
running are shortened. The budget counts replays and, if asked, simulated
work (ticks plus events plus deliveries), never seconds, so the same failing
run always shrinks to the same result however busy the machine is.
``rb.campaign`` then unrolls the result into single events (:func:`unroll`)
and shrinks those again, so a student steps through it in the widget.
"""
from __future__ import annotations

from ..core.roles import Role
from ..errors import InvalidArgument, InvalidState, NotLeader, RaftbookError


class Budget:
    """What a minimization may spend: ``calls`` replays and (if not None) ``work`` simulated work."""

    def __init__(self, calls: int, work: int | None = None):
        self.calls, self.work = calls, work
        self.calls_spent = self.work_spent = 0

    @property
    def left(self) -> bool:
        return self.calls_spent < self.calls and (self.work is None or self.work_spent <= self.work)

    def charge(self, cluster) -> None:
        """Count the simulated work of one replay (the minimizer counts the replays)."""
        if self.work is not None:
            self.work_spent += work(cluster)


def work(c) -> int:
    """Ticks simulated plus messages delivered plus events: what a replay cost, without a clock."""
    return c.now + sum(ev.stats.get("delivered", 0) for ev in c.history if ev.stats) + len(c.history)


def shrink(items: list, fails, budget) -> list:
    """Remove chunks (halves, quarters, ... single items) while ``fails(rest)`` holds.

    Greedy and deterministic. ``budget`` is a number of calls of ``fails`` or a
    :class:`Budget` (``fails`` charges it the work of each replay); it stops when spent.
    """
    if not isinstance(budget, Budget):
        budget = Budget(budget)
    size = max(len(items) // 2, 1)
    while size >= 1 and budget.left:
        start = len(items) - size
        changed = False
        while start >= 0 and budget.left:
            rest = items[:start] + items[start + size:]
            budget.calls_spent += 1
            if rest and fails(rest):
                items = rest
                changed = True
            start -= size
            start = min(start, len(items) - size)
        if not changed:
            size //= 2
    return items


def shorten_runs(actions: list, fails, budget: Budget) -> list:
    """Shorten each ``("run", ticks, ...)`` action (binary search) while ``fails`` holds."""
    for k, a in enumerate(actions):
        if a[0] != "run":
            continue
        lo, hi = 1, a[1]
        while lo < hi and budget.left:
            mid = (lo + hi) // 2
            budget.calls_spent += 1
            trial = actions[:k] + [(a[0], mid) + a[2:]] + actions[k + 1:]
            if fails(trial):
                hi = mid
                actions = trial
            else:
                lo = mid + 1
    return actions


# ----------------------------------------------------------------------------- single events
def unroll(cluster) -> list | None:
    """The run of ``cluster`` as single events: each tick, delivery, drop and duplication, each
    fault, compaction and membership change.

    Uses the network record of each automatic run; None when a run has none.
    """
    events = []
    for ev in cluster.history:
        if ev.kind not in ("run", "run_until"):
            events.append(_single(ev.kind, ev.args))
            continue
        network = getattr(ev, "network", None)
        if network is None:
            return None
        by_time: dict = {}
        for t, what, _mid, msg, _ref in network:
            if what != "sent":
                by_time.setdefault(t, []).append((what, msg))
        for t in range(ev.time + 1, ev.time + ev.args["ticks"] + 1):
            events.append(("tick",))
            for what, msg in by_time.get(t, ()):
                kind = {"dropped": "drop", "duplicated": "duplicate"}.get(what, "deliver")
                events.append((kind, msg))
    return events


def _single(kind: str, args: dict) -> tuple:
    """One recorded event other than a run, as a single event :func:`replay_events` takes."""
    if kind == "propose":
        return ("propose", tuple(args["command"]), args["node"])
    if kind == "partition":
        return ("partition", tuple(tuple(g) for g in args["groups"]))
    if kind == "heal":
        return ("heal",) if "a" not in args else ("heal", args["a"], args["b"])
    if kind == "cut":
        return ("cut", args["a"], args["b"])
    if kind in ("add_server", "remove_server"):
        return (kind, args["node"], args.get("leader"))
    if kind == "change_members":
        return ("change_members", tuple(args["members"]))
    return (kind, args["node"])  # crash, restart, timeout, compact, transfer_leadership


def _change(c, ev) -> None:
    """Replay one membership change; one the cluster now refuses (no leader, another change
    under way, the named leader gone, a set no longer one server away) is skipped."""
    kind = ev[0]
    try:
        if kind in ("add_server", "remove_server"):
            getattr(c, kind)(ev[1], leader=ev[2] if len(ev) > 2 else None)
        elif kind == "change_members":
            c.change_members(set(ev[1]))
        elif ev[1] not in c.crashed:  # transfer_leadership
            c.transfer_leadership(ev[1])
    except (NotLeader, InvalidState, InvalidArgument):
        pass


#: The membership events :func:`replay_events` takes (each skipped when the cluster refuses it).
_CHANGES = ("add_server", "remove_server", "change_members", "transfer_leadership")


def replay_events(c, events, flood_cap: int, stop: bool = False):
    """Replay single events on fresh cluster ``c``; messages are found by content, events that
    no longer fit are skipped (a membership change the cluster refuses too). Returns (cluster,
    number of events used); a handler error, or a call the core refuses on a server a handler
    broke (e.g. compacting entries its log no longer holds), ends it."""
    used = 0
    for ev in events:
        used += 1
        kind = ev[0]
        try:
            if kind == "tick":
                c.tick()
            elif kind in ("deliver", "drop", "duplicate"):
                msg = ev[1]
                mid = next((e.id for e in c.flight.values() if e.msg == msg), None)
                if mid is not None:
                    getattr(c, kind)(mid)
            elif kind == "propose":
                if ev[2] not in c.crashed and c.nodes[ev[2]].role is Role.LEADER:
                    c.propose(ev[1], node=ev[2])
            elif kind == "partition":
                if c.groups is None:
                    c.partition(*[set(g) for g in ev[1]])
            elif kind == "heal":
                if len(ev) == 3:
                    if (ev[1], ev[2]) in c.cuts:
                        c.heal(ev[1], ev[2])
                elif c.groups is not None or c.cuts:
                    c.heal()
            elif kind == "cut":
                if (ev[1], ev[2]) not in c.cuts:
                    c.cut(ev[1], ev[2])
            elif kind == "crash":
                if ev[1] not in c.crashed:
                    c.crash(ev[1])
            elif kind == "restart":
                if ev[1] in c.crashed:
                    c.restart(ev[1])
            elif kind == "timeout":
                if ev[1] not in c.crashed and c.nodes[ev[1]].role is not Role.LEADER:
                    c.timeout(ev[1])
            elif kind == "compact":
                node = c.nodes[ev[1]]
                if ev[1] not in c.crashed and node.last_applied > node.snapshot_index:
                    c.compact(ev[1])
            elif kind in _CHANGES:
                _change(c, ev)
        except RaftbookError:  # a handler raised, or left its server in a state the core refuses
            return c, used
        if stop and (c.violation is not None or len(c.flight) > flood_cap):
            break
    return c, used
