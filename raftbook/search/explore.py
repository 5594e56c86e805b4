"""Bounded model checking: breadth-first search over every interleaving of events.

Random runs find the common bugs; the subtle ones (Figure 8 and its cousins) hide
in rare interleavings. :func:`explore` tries them all, within bounds, on the real
step-function core: from a starting state it applies every enabled event (a
server's election timeout, the delivery, loss or duplication of any message in
flight, a crash, a restart, a client proposal, a leader heartbeat), breadth
first, and judges the paper's five safety properties after every one. Because
the search is breadth first, the first violation it meets is one of the
shortest; it comes back as a :class:`~raftbook.Cluster` history that replays in
the widget and saves as a JSON trace.

How it works, briefly (the same choices TLC makes for the TLA+ spec):

- Timers are not state. Time passes only through explicit events: ``timeout``
  fires one server's election timer, ``heartbeat`` makes every leader send
  AppendEntries (a counterexample replays on a cluster whose configuration has
  one-tick heartbeats and election timers that never fire on their own).
- A state is every server's Figure 2 state (persistent and volatile), which
  servers are crashed, the multiset of messages in flight, and two history
  variables the safety properties need: the leader of each term so far
  (election safety) and the committed entries with the term they were first
  seen committed in (leader completeness, state machine safety). TLA+'s Raft
  spec keeps history variables for the same reason. Leader append-only is
  judged on each transition; log matching on each state.
- States are deduplicated by a 64-bit fingerprint of a canonical key, as TLC
  does; only the frontier is kept whole. Left out of the key, because no rule
  reads them: the key-value store and results (functions of the log and
  ``last_applied``), ``leader_id``, a follower's stale ``next_index`` and
  ``match_index`` and a non-candidate's ``votes``. A student handler that
  reads those fields is still run, but states differing only in them merge.
- Symmetry: server ids are interchangeable when every server starts alike,
  so states equal up to renaming servers are explored once. With an initial
  state that tells servers apart the reduction is unsound and is turned off.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

from .bfs import bfs
from ..sim.membership import check_members
from ..sim.cluster import Cluster
from ..core.config import Config
from ..errors import HandlerError, InvalidArgument, RaftbookError, SafetyViolation
from ..core.kv import validate_command
from ..core.node import _is_int
from .progress import check_progress, progress_bar
from .statespace import EVENT_KINDS, GOALS, NEVER, NODE_FIELDS, NodeView, StateSpace, StateView

__all__ = ["explore", "ExploreResult", "explore_bugs", "materialize", "StateView", "NodeView",
           "EVENT_KINDS", "DEFAULT_EVENTS", "GOALS", "NODE_FIELDS", "SEARCH_CONFIG",
           "FIGURE8_START", "LAGGING_START", "BUG_SEARCHES", "MEMBERSHIP_2015_START",
           "MEMBERSHIP_2015_SEARCH"]

#: What :func:`explore` tries unless told otherwise (no faults beyond message reordering).
DEFAULT_EVENTS = ("timeout", "deliver", "heartbeat", "propose")
#: The cluster configuration a counterexample replays on (one-tick heartbeats; election
#: timers that never fire by themselves).
SEARCH_CONFIG = Config(election_timeout=(NEVER, NEVER), heartbeat_interval=1)

# ----------------------------------------------------------------------------- the report
@dataclass
class ExploreResult:
    """What a search found, and how much it looked at.

    ``states`` counts every state generated (duplicates included), ``distinct``
    the distinct states within bounds, ``depth`` the deepest breadth-first level
    reached; ``exhausted`` is True when every state within the bounds was explored.
    ``workers`` processes shared the large levels (``worker_cpu``: the CPU
    seconds each used). ``violation`` is the first :class:`~raftbook.SafetyViolation` found (or
    None), ``handler_error`` a handler that raised; ``goal_reached`` says the
    goal was met. ``path`` lists the events from the start to what was found;
    :meth:`cluster` replays them on a real cluster, :meth:`trace` gives JSON.
    """

    n: int
    bounds: dict
    events: tuple
    symmetry: bool
    symmetry_note: str
    states: int = 0
    distinct: int = 0
    depth: int = 0
    out_of_bounds: int = 0
    exhausted: bool = False
    stopped: str = ""
    seconds: float = 0.0
    violation: SafetyViolation | None = None
    handler_error: HandlerError | None = None
    goal: str | None = None
    goal_reached: bool = False
    workers: int = 1
    worker_cpu: list = field(default_factory=list)
    path: list = field(default_factory=list)
    _setup: dict = field(default_factory=dict, repr=False)

    @property
    def ok(self) -> bool:
        """No safety violation and no handler error within the bounds."""
        return self.violation is None and self.handler_error is None

    @property
    def found(self) -> bool:
        """Something to show: a violation, a handler error or a reached goal."""
        return not self.ok or self.goal_reached

    @property
    def states_per_second(self) -> float:
        return self.states / self.seconds if self.seconds > 0 else 0.0

    @property
    def distinct_per_second(self) -> float:
        return self.distinct / self.seconds if self.seconds > 0 else 0.0

    @property
    def collision_probability(self) -> float:
        """Rough chance that two distinct states shared a 64-bit fingerprint (as TLC reports)."""
        return min(1.0, self.distinct * self.distinct / 2.0 ** 65)

    def verdict(self) -> str:
        """One sentence: what the search concluded."""
        if self.violation is not None:
            return (f"{self.violation.property} violated after {len(self.path)} events: "
                    f"{self.violation}")
        if self.handler_error is not None:
            return f"a handler raised after {len(self.path) - 1} events: {self.handler_error}"
        scope = ("every reachable state within the bounds" if self.exhausted else
                 f"all states up to depth {self.depth} ({self.stopped})")
        if self.goal is not None:
            if self.goal_reached:
                return f"goal {self.goal!r} reached in {len(self.path)} events; no violation on the way"
            return f"goal {self.goal!r} never reached and no violation in {scope}"
        return f"no violation in {scope}"

    def summary(self):
        """The figures as a one-column pandas DataFrame."""
        import pandas as pd

        rows = {"servers": self.n, **{k: v for k, v in self.bounds.items()},
                "events": ", ".join(self.events), "symmetry": self.symmetry, "workers": self.workers,
                "states": self.states, "distinct states": self.distinct, "depth": self.depth,
                "out of bounds": self.out_of_bounds, "exhausted": self.exhausted,
                "seconds": round(self.seconds, 3),
                "states/s": round(self.states_per_second),
                "distinct states/s": round(self.distinct_per_second),
                "verdict": self.verdict()}
        return pd.DataFrame({"value": pd.Series(rows, dtype=object)})

    def steps(self) -> list[str]:
        """The events of :attr:`path`, one readable line each."""
        return [_describe_event(ev) for ev in self.path]

    def cluster(self) -> Cluster:
        """Replay :attr:`path` on a fresh cluster (monitor on): widget-ready, undoable.

        After a handler error, the cluster stops just before the event that raised.
        """
        if not self.found:
            raise InvalidArgument("the search found nothing to replay (result.found is False)")
        events = self.path[:-1] if self.handler_error is not None else self.path
        return materialize(self._setup, events)

    def trace(self) -> dict:
        """The counterexample (or the way to the goal) as a JSON-ready trace dict;
        ``rb.Cluster.from_trace(trace, handlers=...)`` replays it."""
        return self.cluster().trace()

    def save_trace(self, path) -> None:
        """Write :meth:`trace` as JSON to ``path``."""
        Path(path).write_text(json.dumps(self.trace(), indent=1) + "\n", encoding="utf-8")

    def __repr__(self):
        return (f"<ExploreResult n={self.n} states={self.states} distinct={self.distinct} "
                f"depth={self.depth} {self.seconds:.2f}s: {self.verdict()}>")

    def _repr_html_(self):
        return self.summary()._repr_html_()


def _describe_event(ev) -> str:
    kind = ev[0]
    if kind in ("timeout", "crash", "restart", "compact"):
        return f"{kind} S{ev[1]}"
    if kind == "heartbeat":
        return "heartbeat (every leader sends AppendEntries)"
    if kind == "propose":
        return f"propose {ev[2]!r} to S{ev[1]}"
    if kind == "reconfigure":
        return f"S{ev[1]} is asked to {ev[2][0]} S{ev[2][1]}"
    m = ev[1]
    return f"{kind} {type(m).__name__} S{m.src}→S{m.dst} t{m.term}"


def materialize(setup: dict, events) -> Cluster:
    """Replay search events on a fresh :class:`Cluster` (the counterexample's history)."""
    kwargs = dict(n=setup["n"], seed=0, config=setup["config"], handlers=setup["handlers"])
    if setup.get("members") is not None:
        kwargs["members"] = setup["members"]
    c = Cluster.from_state(setup["initial"], **kwargs) if setup["initial"] else Cluster(**kwargs)
    for ev in events:
        kind = ev[0]
        if kind == "timeout":
            c.timeout(ev[1])
        elif kind == "compact":
            c.compact(ev[1])
        elif kind == "crash":
            c.crash(ev[1])
        elif kind == "restart":
            c.restart(ev[1])
        elif kind == "heartbeat":
            c.tick()
        elif kind == "propose":
            c.propose(ev[2], node=ev[1])
        elif kind == "reconfigure":
            change, j = ev[2]
            (c.add_server if change == "add" else c.remove_server)(j, leader=ev[1])
        else:
            msg = ev[1]
            mid = next((e.id for e in c.in_flight if e.msg == msg), None)
            if mid is None:
                raise RaftbookError(f"cannot replay the search: {_describe_event(ev)} is not in flight")
            getattr(c, kind)(mid)
    return c



# ----------------------------------------------------------------------------- the search
def _check_bound(name, value, lo, allow_none=False):
    if value is None and allow_none:
        return None
    if not _is_int(value) or value < lo:
        extra = " or None (no bound)" if allow_none else ""
        raise InvalidArgument(f"{name} must be a whole number >= {lo}{extra}; got {value!r}")
    return value


#: The most client values a search proposes: each one multiplies the state space, and a
#: search with more than a handful never finishes (raise it here if you really need more).
MAX_VALUES = 16


def _commands(values) -> tuple:
    if _is_int(values):
        if values < 0:
            raise InvalidArgument(f"values must be >= 0 (how many client values to propose); got {values}")
        if values > MAX_VALUES:
            raise InvalidArgument(f"values is at most {MAX_VALUES} (every value multiplies the states to "
                                  f"search; 1 or 2 find every bug in the catalogue); got "
                                  f"{'a number of ' + str(values.bit_length()) + ' bits' if values > 10**12 else values}"
                                  f" (raise raftbook.search.explore.MAX_VALUES if you need more)")
        return tuple(("set", "x", v) for v in range(1, values + 1))
    if isinstance(values, (list, tuple)):
        if len(values) > MAX_VALUES:
            raise InvalidArgument(f"values holds {len(values)} commands; at most {MAX_VALUES} (raise "
                                  "raftbook.search.explore.MAX_VALUES if you need more)")
        try:
            return tuple(validate_command(v) for v in values)
        except RaftbookError as exc:
            raise InvalidArgument(f"values must be client commands: {exc}") from None
    raise InvalidArgument(f"values is a number of client values or a list of commands like "
                          f"[('set', 'x', 1)]; got {values!r}")

def explore(n: int = 3, *, handlers=None, initial=None, max_term: int = 2, max_log: int = 2,
            max_in_flight: int = 4, max_depth: int | None = None, max_states: int = 2_000_000,
            values=1, events=DEFAULT_EVENTS, max_entries: int | None = None, symmetry="auto",
            goal=None, workers: int = 1, progress=None, persistence: str = "auto",
            max_snapshots: int = 1, members=None, membership_fix: bool = True) -> ExploreResult:
    """Search every interleaving of events breadth first, within bounds; check safety on each.

    ``n`` servers start empty (or from ``initial``, as in :meth:`Cluster.from_state`)
    and run the reference rules, or ``handlers`` in their place. Bounds: terms up
    to ``max_term``, logs up to ``max_log`` entries, at most ``max_in_flight``
    messages in flight, ``max_depth`` events (None: until the bounded space is
    exhausted) and ``max_states`` distinct states. States beyond a bound are
    still checked, just not explored further. ``values`` client values (or a
    list of commands) may be proposed to a leader. ``events`` picks the kinds of
    event from :data:`EVENT_KINDS`; ``max_entries`` caps entries per
    AppendEntries (None: the whole tail). ``symmetry`` ("auto", True, False)
    merges states equal up to renaming servers, when sound. ``goal`` ("leader",
    "commit", "client_commit", or a function of a :class:`StateView`) stops the
    search at the first state that meets it. ``workers`` processes share the
    large breadth-first levels (the result does not depend on how many).
    ``progress`` shows a bar (default: in notebooks). ``persistence="explicit"``
    explores servers that keep across a crash only what they saved (add "crash"
    and "restart" to ``events``); a "compact" event snapshots one server's applied
    state, at most ``max_snapshots`` times per server (``max_log`` then bounds the
    last index, snapshot included).
    ``members`` is the starting
    configuration (as in ``rb.Cluster(members=...)``); the event "reconfigure" lets a
    leader add or remove one server, and ``membership_fix=False`` drops the rule that
    a leader commits an entry of its term first (the 2015 bug; see
    :data:`MEMBERSHIP_2015_START`). Returns an :class:`ExploreResult`.
    """
    if not _is_int(n) or not 1 <= n <= 7:
        raise InvalidArgument(f"explore searches clusters of 1 to 7 servers; got n={n!r} "
                              "(exhaustive search grows very fast with n: try 3)")
    max_term = _check_bound("max_term", max_term, 1)
    max_log = _check_bound("max_log", max_log, 1)
    max_in_flight = _check_bound("max_in_flight", max_in_flight, 0)
    max_depth = _check_bound("max_depth", max_depth, 0, allow_none=True)
    max_states = _check_bound("max_states", max_states, 1)
    if isinstance(events, str):
        events = (events,)
    if not isinstance(events, (list, tuple, set, frozenset)) or not events:
        raise InvalidArgument(f"events is a list of event kinds from {list(EVENT_KINDS)}; got {events!r}")
    unknown = [e for e in events if e not in EVENT_KINDS]
    if unknown:
        raise InvalidArgument(f"unknown event kinds {unknown}; choose from {list(EVENT_KINDS)}")
    kinds = frozenset(events)
    commands = _commands(values)
    if "propose" in kinds and not commands:
        kinds = kinds - {"propose"}
    if max_entries is not None:
        _check_bound("max_entries", max_entries, 1)
    if symmetry not in ("auto", True, False):
        raise InvalidArgument(f"symmetry is 'auto', True or False; got {symmetry!r}")
    goal_name = None
    if isinstance(goal, str):
        if goal not in GOALS:
            raise InvalidArgument(f"unknown goal {goal!r}; named goals are {sorted(GOALS)}, or "
                                  "pass a function of the state (a StateView) that returns True")
        goal_name, goal_fn = goal, GOALS[goal]
    elif goal is None or callable(goal):
        goal_name = None if goal is None else getattr(goal, "__name__", "goal")
        goal_fn = goal
    else:
        raise InvalidArgument(f"goal is a name from {sorted(GOALS)} or a function; got {goal!r}")
    if initial is not None and not isinstance(initial, dict):
        raise InvalidArgument(f"initial maps server ids to state dicts, as Cluster.from_state "
                              f"takes; got {type(initial).__name__}")

    check_progress(progress)
    if not _is_int(workers) or workers < 1:
        raise InvalidArgument(f"workers is a number of processes >= 1; got {workers!r}")
    if persistence not in ("auto", "explicit"):
        raise InvalidArgument(f"persistence is 'auto' or 'explicit'; got {persistence!r}")
    max_snapshots = _check_bound("max_snapshots", max_snapshots, 0)
    members = check_members(members, n)
    if not isinstance(membership_fix, bool):
        raise InvalidArgument(f"membership_fix is True or False; got {membership_fix!r}")
    search = StateSpace(n, handlers, initial or None, (max_term, max_log, max_in_flight), kinds,
                        commands, max_entries, symmetry, goal_fn, persistence, max_snapshots,
                        members, membership_fix)
    asym, use_sym = search.asym, search.symmetry
    if not use_sym:
        note = ("off: " + asym) if asym else ("off (asked)" if symmetry is False else "off")
    else:
        note = ("on: every server starts alike, so states equal up to renaming servers are "
                "explored once (assumes the handlers treat server ids alike)")
    bounds = {"max_term": max_term, "max_log": max_log, "max_in_flight": max_in_flight,
              "max_depth": max_depth, "values": len(commands), "max_entries": max_entries}
    if search.extended:
        bounds.update(persistence=persistence, max_snapshots=max_snapshots)
    result = ExploreResult(n, bounds, tuple(e for e in EVENT_KINDS if e in kinds), use_sym, note,
                           goal=goal_name, _setup=search.setup)
    bar = progress_bar(progress, max_depth, "depth")
    try:
        bfs(search, result, max_depth, max_states, bar, workers)
    finally:
        if bar is not None:
            bar.close()
    return result


# ----------------------------------------------------------------------------- bug hunting
#: Starting states where classic bugs show within a few events (3 servers, as in the paper's
#: figures). Figure 8: S1 holds an entry of term 2 and S2 one of term 3 at index 2; S3 lacks both.
FIGURE8_START = {1: {"current_term": 3, "log": [1, 2], "commit_index": 1},
                 2: {"current_term": 3, "log": [1, 3], "commit_index": 1},
                 3: {"current_term": 3, "log": [1], "commit_index": 1}}
#: S1 holds two uncommitted entries of term 1; S2 and S3 committed one of term 2 at index 2.
LAGGING_START = {1: {"current_term": 2, "log": [1, 1, 1], "commit_index": 1},
                 2: {"current_term": 2, "log": [1, 2], "commit_index": 2},
                 3: {"current_term": 2, "log": [1, 2], "commit_index": 2}}

#: The single-server membership bug reported in 2015, 4 servers: S1, leader of term 1, removed
#: S4 (its configuration {S1, S2, S3} is at index 2, on S1 only) and then timed out once
#: (term 2); the others hold the committed no-op of term 1. With ``membership_fix=False``
#: :data:`MEMBERSHIP_2015_SEARCH` finds a committed entry lost in 11 events.
MEMBERSHIP_2015_START = {1: {"current_term": 2, "log": [1, (1, ("config", (1, 2, 3)))],
                             "commit_index": 1},
                         2: {"current_term": 1, "log": [1], "commit_index": 1},
                         3: {"current_term": 1, "log": [1], "commit_index": 1},
                         4: {"current_term": 1, "log": [1], "commit_index": 1}}
#: explore() arguments for the 2015 bug (add ``membership_fix=False`` to find it).
MEMBERSHIP_2015_SEARCH = dict(n=4, initial=MEMBERSHIP_2015_START,
                              events=("timeout", "deliver", "reconfigure"), values=0, max_term=3,
                              max_log=3, max_in_flight=7, max_depth=11)

#: The searches :func:`explore_bugs` tries, cheapest first: (name, explore() arguments).
#: The reference rules pass every one of them.
BUG_SEARCHES = (
    ("lagging", dict(n=3, initial=LAGGING_START, max_term=3, max_log=4, max_in_flight=4,
                     max_depth=8)),
    ("figure8", dict(n=3, initial=FIGURE8_START, max_term=5, max_log=3, max_in_flight=4,
                     max_entries=1, values=0, max_depth=12)),
    ("empty", dict(n=3, max_term=2, max_log=2, max_in_flight=4, max_states=20_000)),
)


def explore_bugs(bugs=None, searches=BUG_SEARCHES, progress=None):
    """Search for each bug of a catalogue; a pandas DataFrame, one row per bug.

    ``bugs`` maps a name to ``(handler name, buggy function, ...)`` (default: the
    course's catalogue, :data:`raftbook.exercises.BUGS`). Each bug goes through
    ``searches`` until one finds a violation; ``confirmed`` says the cluster's own
    safety monitor sees the same violation when the counterexample is replayed.
    """
    import pandas as pd

    if bugs is None:
        from ..exercises.bugs import BUGS as bugs
    if not isinstance(bugs, dict):
        raise InvalidArgument(f"bugs maps a name to (handler name, function, ...); got {type(bugs).__name__}")
    rows = []
    bar = progress_bar(progress, len(bugs), "bugs")
    for name, bug in bugs.items():
        handler, fn = tuple(bug)[:2]
        row = {"bug": name, "handler": handler, "found": False, "property": "", "search": "",
               "events": None, "distinct": 0, "seconds": 0.0, "confirmed": None}
        for label, kwargs in searches:
            r = explore(handlers={handler: fn}, progress=False, **kwargs)
            row["distinct"] += r.distinct
            row["seconds"] += r.seconds
            if not r.ok:
                prop = r.violation.property if r.violation is not None else "handler_error"
                confirmed = None
                if r.violation is not None:
                    v = r.cluster().violation
                    confirmed = v is not None and v.property == prop
                row.update(found=True, property=prop, search=label, events=len(r.path),
                           confirmed=confirmed)
                break
        row["seconds"] = round(row["seconds"], 2)
        rows.append(row)
        if bar is not None:
            bar.update(len(rows), f"{len(rows)}/{len(bugs)} bugs")
    if bar is not None:
        bar.close()
    return pd.DataFrame(rows).set_index("bug")
