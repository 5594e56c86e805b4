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

import itertools
import json
import multiprocessing
import random
import sys
import time
import zlib
from array import array
from dataclasses import dataclass, field
from operator import itemgetter
from pathlib import Path

from .cluster import Cluster
from .config import Config
from .errors import HandlerError, InvalidArgument, RaftbookError, SafetyViolation
from .kv import validate_command
from .messages import AppendEntries, AppendEntriesReply, RequestVote, RequestVoteReply
from .node import _is_int
from .roles import Role

#: Every kind of event the search can take.
EVENT_KINDS = ("timeout", "deliver", "heartbeat", "propose", "duplicate", "drop", "crash",
               "restart")
#: What :func:`explore` tries unless told otherwise (no faults beyond message reordering).
DEFAULT_EVENTS = ("timeout", "deliver", "heartbeat", "propose")
#: An election timeout no search ever reaches: timers fire only through explicit timeouts.
NEVER = 10 ** 9
#: The cluster configuration a counterexample replays on.
SEARCH_CONFIG = Config(election_timeout=(NEVER, NEVER), heartbeat_interval=1)

_KIND_CODE = {k: i for i, k in enumerate(EVENT_KINDS)}
_LEADER, _CANDIDATE = Role.LEADER, Role.CANDIDATE
_first = itemgetter(0)
# Attributes of a RaftNode the search saves and restores (or knowingly resets). A test
# compares this with a fresh node, so a new field in the core cannot slip past the search.
NODE_FIELDS = frozenset({
    "id", "peers", "config", "rng", "handlers", "quorum", "_custom", "_reasons",
    "_h_request_vote", "_h_request_vote_reply", "_h_append_entries", "_h_append_entries_reply",
    "_h_advance_commit_index", "_h_apply_committed",
    "current_term", "voted_for", "log", "role", "commit_index", "last_applied", "kv", "results",
    "next_index", "match_index", "leader_id", "votes", "heartbeat_elapsed", "election_elapsed",
    "election_timeout"})


def _goal_leader(state) -> bool:
    return any(ns[0][1] == 2 and not ns[0][0] for ns in state[0])


def _goal_commit(state) -> bool:
    return bool(state[3])


def _goal_client_commit(state) -> bool:
    return any(rec[1] != 0 for rec in state[3])


#: Named goals: a leader is elected; some entry is committed; a client command is committed.
GOALS = {"leader": _goal_leader, "commit": _goal_commit, "client_commit": _goal_client_commit}


# ----------------------------------------------------------------------------- views for goals
@dataclass(frozen=True)
class NodeView:
    """One server in a search state, read-only, with the Figure 2 names (for goal functions)."""

    id: int
    role: Role
    current_term: int
    voted_for: int | None
    log: tuple
    commit_index: int
    last_applied: int
    kv: dict
    crashed: bool


@dataclass(frozen=True)
class StateView:
    """A search state as a goal function sees it: ``nodes``, ``in_flight``, ``crashed``.

    ``committed`` maps each committed index to ``(term, command)``.
    """

    nodes: dict
    in_flight: tuple
    crashed: frozenset
    committed: dict

    @property
    def leader(self):
        """The leader of the highest term among running servers, or None."""
        best = None
        for n in self.nodes.values():
            if n.role is Role.LEADER and not n.crashed:
                if best is None or n.current_term > best.current_term:
                    best = n
        return None if best is None else best.id


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
    if kind in ("timeout", "crash", "restart"):
        return f"{kind} S{ev[1]}"
    if kind == "heartbeat":
        return "heartbeat (every leader sends AppendEntries)"
    if kind == "propose":
        return f"propose {ev[2]!r} to S{ev[1]}"
    m = ev[1]
    return f"{kind} {type(m).__name__} S{m.src}→S{m.dst} t{m.term}"


def materialize(setup: dict, events) -> Cluster:
    """Replay search events on a fresh :class:`Cluster` (the counterexample's history)."""
    kwargs = dict(n=setup["n"], seed=0, config=setup["config"], handlers=setup["handlers"])
    c = Cluster.from_state(setup["initial"], **kwargs) if setup["initial"] else Cluster(**kwargs)
    for ev in events:
        kind = ev[0]
        if kind == "timeout":
            c.timeout(ev[1])
        elif kind == "crash":
            c.crash(ev[1])
        elif kind == "restart":
            c.restart(ev[1])
        elif kind == "heartbeat":
            c.tick()
        elif kind == "propose":
            c.propose(ev[2], node=ev[1])
        else:
            msg = ev[1]
            mid = next((e.id for e in c.in_flight if e.msg == msg), None)
            if mid is None:
                raise RaftbookError(f"cannot replay the search: {_describe_event(ev)} is not in flight")
            getattr(c, kind)(mid)
    return c


# ----------------------------------------------------------------------------- progress
class _Progress:
    """A progress line: an ipywidgets bar in a notebook, a text line on stderr elsewhere."""

    def __init__(self, mode, total, label):
        self.mode = mode
        self.last = 0.0
        self.widget = None
        if mode == "widget":
            import ipywidgets as w
            from IPython.display import display
            self.bar = w.IntProgress(min=0, max=total or 1, description=label)
            self.text = w.HTML()
            self.widget = w.HBox([self.bar, self.text])
            display(self.widget)

    def update(self, value, text, force=False):
        now = time.perf_counter()
        if not force and now - self.last < 0.25:
            return
        self.last = now
        if self.widget is not None:
            self.bar.value = min(value, self.bar.max)
            self.text.value = text
        elif self.mode == "text":
            print("\r" + text, end="", file=sys.stderr, flush=True)

    def close(self):
        if self.mode == "text":
            print(file=sys.stderr, flush=True)


def check_progress(progress) -> None:
    if progress not in (None, True, False, "text", "widget"):
        raise InvalidArgument(f"progress is None (auto), True, False, 'text' or 'widget'; got {progress!r}")


def progress_bar(progress, total, label):
    """A :class:`_Progress` for ``progress`` (None: a widget in notebooks, else nothing)."""
    check_progress(progress)
    mode = ("widget" if _in_notebook() else False) if progress is None else progress
    if mode is True:
        mode = "widget" if _in_notebook() else "text"
    return _Progress(mode, total, label) if mode else None


def _in_notebook() -> bool:
    try:
        from IPython import get_ipython
    except ImportError:
        return False
    shell = get_ipython()
    return shell is not None and hasattr(shell, "kernel")


# ----------------------------------------------------------------------------- the search
def _check_bound(name, value, lo, allow_none=False):
    if value is None and allow_none:
        return None
    if not _is_int(value) or value < lo:
        extra = " or None (no bound)" if allow_none else ""
        raise InvalidArgument(f"{name} must be a whole number >= {lo}{extra}; got {value!r}")
    return value


def _commands(values) -> tuple:
    if _is_int(values):
        if values < 0:
            raise InvalidArgument(f"values must be >= 0 (how many client values to propose); got {values}")
        return tuple(("set", "x", v) for v in range(1, values + 1))
    if isinstance(values, (list, tuple)):
        try:
            return tuple(validate_command(v) for v in values)
        except RaftbookError as exc:
            raise InvalidArgument(f"values must be client commands: {exc}") from None
    raise InvalidArgument(f"values is a number of client values or a list of commands like "
                          f"[('set', 'x', 1)]; got {values!r}")


def _symmetric(c: Cluster) -> str:
    """'' when every server starts alike, else the reason they do not."""
    first = c.nodes[1]
    for i, node in c.nodes.items():
        if node.voted_for is not None:
            return f"S{i} starts having voted for S{node.voted_for}"
        if (node.current_term, list(node.log), node.commit_index) != \
                (first.current_term, list(first.log), first.commit_index):
            return f"S1 and S{i} start in different states"
    return ""


class _Search:
    """The state space of one explore() call; see the module docstring for the encoding."""

    def __init__(self, n, handlers, initial, bounds, kinds, commands, max_entries, symmetry,
                 goal):
        self.config = Config(election_timeout=(NEVER, NEVER), heartbeat_interval=1,
                             max_entries=max_entries)
        kwargs = dict(n=n, seed=0, config=self.config, handlers=handlers, record_reasons=False,
                      monitor=False)
        c = Cluster.from_state(initial, **kwargs) if initial else Cluster(**kwargs)
        self.setup = {"n": n, "config": self.config, "handlers": handlers,
                      "initial": {i: dict(st) for i, st in initial.items()} if initial else None}
        self.n = n
        self.ids = tuple(range(1, n + 1))
        self.asym = _symmetric(c)
        self.workers = c.nodes
        for node in self.workers.values():
            node._reasons = None  # no explanations: speed
            node.rng = _FixedRandom()  # every timeout is NEVER: no draw needed
        self.logs = {i: node.log for i, node in c.nodes.items()}
        self.max_term, self.max_log, self.max_in_flight = bounds
        self.kinds = kinds
        self.commands = commands
        if symmetry is True and self.asym:
            raise InvalidArgument(f"symmetry reduction is unsound here: {self.asym}, so renaming "
                                  "servers changes the problem; use symmetry='auto' or False")
        if symmetry == "auto" and goal is not None and goal not in GOALS.values() and n > 1:
            self.asym = self.asym or ("a goal function may tell servers apart (pass "
                                      "symmetry=True if yours does not)")
        self.symmetry = symmetry is not False and not self.asym and n > 1
        self.goal = goal
        self.cmd_ids = {None: 0}
        for cmd in commands:
            self.cmd_ids.setdefault(cmd, len(self.cmd_ids))
        self.cmd_of = {v: k for k, v in self.cmd_ids.items()}
        for node in c.nodes.values():
            for e in node.log:
                self.cmd_id(e.command)
        committed = []
        for node in c.nodes.values():
            for i in range(len(committed) + 1, node.commit_index + 1):
                e = node.log[i]
                committed.append((e.term, self.cmd_id(e.command), node.current_term))
        self.root = (tuple(self.save(node, False) for node in c.nodes.values()), (),
                     tuple(sorted((nd.current_term, i) for i, nd in c.nodes.items()
                                  if nd.role is Role.LEADER)), tuple(committed))

    # -- encoding ----------------------------------------------------------------
    def cmd_id(self, cmd) -> int:
        """A small int per command. Commands met during the search (only a handler can
        invent one) get an id computed from the command itself, so that parallel
        workers agree on it."""
        ids = self.cmd_ids
        k = ids.get(cmd)
        if k is None:
            k = ids[cmd] = 1000 + zlib.crc32(repr(cmd).encode())
            self.cmd_of[k] = cmd
        return k

    def msg_key(self, m):
        """A message as a tuple of ints (computed afresh: cheaper than hashing the message)."""
        t = type(m)
        if t is AppendEntries:
            ids = self.cmd_ids
            if m.entries:
                ents = tuple([(e.term, ids[e.command] if e.command in ids else self.cmd_id(e.command))
                              for e in m.entries])
            else:
                ents = ()
            return (2, m.src, m.dst, m.term, m.prev_log_index, m.prev_log_term, ents,
                    m.leader_commit)
        if t is RequestVote:
            return (0, m.src, m.dst, m.term, m.last_log_index, m.last_log_term, 0, 0)
        if t is AppendEntriesReply:
            return (3, m.src, m.dst, m.term, int(m.success), m.match_index, m.conflict_index,
                    m.conflict_term)
        return (1, m.src, m.dst, m.term, int(m.vote_granted), 0, 0, 0)

    def save(self, node, crashed, old=None):
        """A node's state as (key, symmetry signature, payload to load it back).

        ``old`` is the state the node was loaded from: an unchanged log is reused.
        """
        role = node.role
        rc = 2 if role is _LEADER else (1 if role is _CANDIDATE else 0)
        log = node.log
        if old is not None and log is self.logs[node.id] and log.changed_from is None \
                and not log.truncations:
            entries, log_key = old[2][3], old[0][4]
        else:
            ck = self.cmd_id
            entries = tuple(log._entries)
            log_key = tuple([(e.term, ck(e.command)) for e in entries])
        voted = node.voted_for or 0
        if rc == 2:
            ni, mi = node.next_index, node.match_index
            nxt = tuple([ni.get(j, 0) for j in self.ids])
            mat = tuple([mi.get(j, 0) for j in self.ids])
        else:
            nxt = mat = ()
        votes = tuple(sorted(node.votes)) if rc == 1 else ()
        term = node.current_term
        key = (crashed, rc, term, voted, log_key, node.commit_index, node.last_applied, nxt, mat,
               votes)
        sig = (crashed, rc, term, log_key, node.commit_index, node.last_applied,
               voted == node.id, voted != 0, len(votes)) if self.symmetry else None
        payload = (role, term, node.voted_for, entries, node.commit_index, node.last_applied,
                   node.next_index, node.match_index, node.leader_id, node.votes, node.kv)
        return key, sig, payload

    def load(self, i, ns):
        """Put a saved state into server i's working node; returns the node."""
        node = self.workers[i]
        node.log = self.logs[i]
        (node.role, node.current_term, node.voted_for, entries, node.commit_index,
         node.last_applied, nxt, mat, node.leader_id, votes, kv) = ns[2]
        log = node.log
        log._entries = list(entries)
        log.truncations = 0
        log.changed_from = None
        node.next_index, node.match_index = dict(nxt), dict(mat)
        node.votes, node.kv = set(votes), dict(kv)
        node.results = {}
        node.heartbeat_elapsed = node.election_elapsed = 0
        return node

    def key(self, state):
        nodes, flight, leaders, committed = state
        if not self.symmetry:
            return (tuple([ns[0] for ns in nodes]), tuple([mk for mk, _ in flight]), leaders,
                    committed)
        n = self.n
        sigs = [ns[1] for ns in nodes]
        order = sorted(range(n), key=sigs.__getitem__)
        groups, start = [], 0
        for k in range(1, n + 1):
            if k == n or sigs[order[k]] != sigs[order[start]]:
                groups.append(order[start:k])
                start = k
        if len(groups) == n:
            orders = (order,)
        else:
            orders = (list(itertools.chain.from_iterable(choice)) for choice in
                      itertools.product(*[itertools.permutations(g) for g in groups]))
        best = None
        for ordering in orders:
            p = [0] * (n + 1)
            for new, old in enumerate(ordering):
                p[old + 1] = new + 1
            k = self.permuted(state, p)
            if best is None or k < best:
                best = k
        return best

    def permuted(self, state, p):
        nodes, flight, leaders, committed = state
        n = self.n
        out = [None] * n
        for old, ns in enumerate(nodes):
            crashed, rc, term, voted, log_key, ci, la, nxt, mat, votes = ns[0]
            if nxt:
                a, b = [0] * n, [0] * n
                for j in range(n):
                    a[p[j + 1] - 1] = nxt[j]
                    b[p[j + 1] - 1] = mat[j]
                nxt, mat = tuple(a), tuple(b)
            if votes:
                votes = tuple(sorted([p[v] if 0 < v <= n else v for v in votes]))
            if 0 < voted <= n:
                voted = p[voted]
            out[p[old + 1] - 1] = (crashed, rc, term, voted, log_key, ci, la, nxt, mat, votes)
        fl = sorted([(mk[0], p[mk[1]], p[mk[2]]) + mk[3:] for mk, _ in flight])
        ld = tuple(sorted([(t, p[i]) for t, i in leaders]))
        return (tuple(out), tuple(fl), ld, committed)

    # -- events --------------------------------------------------------------------
    def enabled(self, state):
        """The events enabled in ``state``, in a fixed order, as compact int codes."""
        nodes, flight, _, _ = state
        kinds = self.kinds
        out = []
        running = [i for i in self.ids if not nodes[i - 1][0][0]]
        if "timeout" in kinds:
            for i in running:
                k = nodes[i - 1][0]
                if k[1] != 2 and k[2] < self.max_term:
                    out.append(0 + 8 * i)
        deliver = "deliver" in kinds
        dup = "duplicate" in kinds and len(flight) < self.max_in_flight
        drop = "drop" in kinds
        prev = None
        for pos, (mk, _) in enumerate(flight):
            if mk == prev:
                continue  # an identical copy: same successors
            prev = mk
            if deliver and not (drop and nodes[mk[2] - 1][0][0]):
                out.append(1 + 8 * pos)
        if "heartbeat" in kinds and any(nodes[i - 1][0][1] == 2 for i in running):
            out.append(2)
        if "propose" in kinds:
            nv = len(self.commands)
            for i in running:
                k = nodes[i - 1][0]
                if k[1] == 2 and len(k[4]) < self.max_log:
                    out.extend(3 + 8 * ((i - 1) * nv + v) for v in range(nv))
        if dup or drop:
            prev = None
            for pos, (mk, _) in enumerate(flight):
                if mk == prev:
                    continue
                prev = mk
                if dup:
                    out.append(4 + 8 * pos)
                if drop:
                    out.append(5 + 8 * pos)
        if "crash" in kinds:
            out.extend(6 + 8 * i for i in running)
        if "restart" in kinds:
            out.extend(7 + 8 * i for i in self.ids if nodes[i - 1][0][0])
        return out

    def decode(self, state, code):
        """The readable event of an int code in ``state``."""
        kind, arg = EVENT_KINDS[code & 7], code >> 3
        if kind in ("timeout", "crash", "restart"):
            return (kind, arg)
        if kind == "heartbeat":
            return ("heartbeat",)
        if kind == "propose":
            nv = len(self.commands)
            return ("propose", arg // nv + 1, self.commands[arg % nv])
        return (kind, state[1][arg][1])

    def apply(self, state, code):
        """The successor of ``state`` under event ``code``, checked for safety.

        Returns ``(successor, violation, within bounds)``; a handler that raises propagates.
        """
        nodes, flight, leaders, committed = state
        kind, arg = code & 7, code >> 3
        if kind == 1:  # deliver
            mk, msg = flight[arg]
            rest = flight[:arg] + flight[arg + 1:]
            d = msg.dst
            if nodes[d - 1][0][0]:  # crashed: the message is lost
                return (nodes, rest, leaders, committed), None, True
            node = self.load(d, nodes[d - 1])
            return self.stepped(state, d, node, node._step(msg), rest)
        if kind == 0:  # timeout
            node = self.load(arg, nodes[arg - 1])
            return self.stepped(state, arg, node, node.timeout(), flight)
        if kind == 3:  # propose
            nv = len(self.commands)
            i = arg // nv + 1
            node = self.load(i, nodes[i - 1])
            node.propose(self.commands[arg % nv])
            return self.stepped(state, i, node, node.replicate(), flight)
        if kind == 2:  # heartbeat: every running leader sends AppendEntries
            sent = []
            for i in self.ids:
                k = nodes[i - 1][0]
                if k[1] == 2 and not k[0]:
                    sent.extend(self.load(i, nodes[i - 1]).replicate())
            flight = self.add(flight, sent)
            return (nodes, flight, leaders, committed), None, len(flight) <= self.max_in_flight
        if kind == 4:  # duplicate
            flight = self.add(flight, [flight[arg][1]])
            return (nodes, flight, leaders, committed), None, len(flight) <= self.max_in_flight
        if kind == 5:  # drop
            return (nodes, flight[:arg] + flight[arg + 1:], leaders, committed), None, True
        if kind == 6:  # crash
            ns = nodes[arg - 1]
            sig = ns[1] and (True,) + ns[1][1:]
            new = ((True,) + ns[0][1:], sig, ns[2])
            return (nodes[:arg - 1] + (new,) + nodes[arg:], flight, leaders, committed), None, True
        # restart: persistent state kept, volatile state rebuilt
        node = self.load(arg, nodes[arg - 1])
        node.restart()
        return self.stepped(state, arg, node, [], flight)

    def add(self, flight, msgs):
        if not msgs:
            return flight
        mkey = self.msg_key
        return tuple(sorted(flight + tuple([(mkey(m), m) for m in msgs]), key=_first))

    def stepped(self, state, i, node, sent, flight):
        """Build the successor after server i changed, and judge the properties."""
        nodes, _, leaders, committed = state
        old = nodes[i - 1]
        new = self.save(node, False, old)
        if sent:
            flight = self.add(flight, sent)
        okey, nkey = old[0], new[0]
        if okey == nkey and not node.log.truncations:  # nothing that matters changed
            return (nodes, flight, leaders, committed), None, len(flight) <= self.max_in_flight
        nodes = nodes[:i - 1] + (new,) + nodes[i:]
        viol = None
        term = nkey[2]
        # Election safety (history: the leader of each term).
        if nkey[1] == 2:
            holder = None
            for t, j in leaders:
                if t == term:
                    holder = j
                    break
            if holder is None:
                leaders = tuple(sorted(leaders + ((term, i),)))
                viol = self.completeness(i, term, nkey[4], committed)
            elif holder != i:
                viol = SafetyViolation(
                    "election_safety", f"election safety broken: S{holder} and S{i} were both "
                    f"leader in term {term}", nodes=(holder, i), term=term)
        # Leader append-only (a transition property).
        if viol is None and okey[1] == 2 and nkey[1] == 2 and okey[2] == term and \
                (node.log.truncations or len(nkey[4]) < len(okey[4])):
            viol = SafetyViolation(
                "leader_append_only", f"leader append-only broken: S{i}, leader of term {term}, "
                f"deleted entries from its own log (it had {len(okey[4])} entries, now "
                f"{len(nkey[4])})", nodes=(i,), term=term, index=len(nkey[4]) + 1)
        # Log matching, between the changed log and every other.
        if viol is None and nkey[4] != okey[4]:
            viol = self.log_matching(i, nkey[4], nodes)
        # Newly committed entries (history) and the leaders they must be on.
        ci = nkey[5]
        if viol is None and ci > len(committed):
            log_key = nkey[4]
            committed = committed + tuple((log_key[j][0], log_key[j][1], term)
                                          for j in range(len(committed), min(ci, len(log_key))))
            for j, ns in enumerate(nodes):
                k = ns[0]
                if k[1] == 2 and not k[0] and k[2] > term:
                    viol = self.completeness(j + 1, k[2], k[4], committed)
                    if viol is not None:
                        break
        # State machine safety: what this server applied matches what was committed.
        if viol is None and nkey[6] > okey[6]:
            for j in range(okey[6], min(nkey[6], len(nkey[4]), len(committed))):
                e, rec = nkey[4][j], committed[j]
                if e[0] != rec[0] or e[1] != rec[1]:
                    viol = SafetyViolation(
                        "state_machine_safety", f"state machine safety broken: index {j + 1} "
                        f"holds {_show(self.cmd_of[rec[1]])} (term {rec[0]}) committed, but S{i} "
                        f"applied {_show(self.cmd_of[e[1]])} (term {e[0]})",
                        nodes=(i,), term=e[0], index=j + 1)
                    break
        ok = len(flight) <= self.max_in_flight and term <= self.max_term and \
            len(nkey[4]) <= self.max_log
        return (nodes, flight, leaders, committed), viol, ok

    @staticmethod
    def completeness(i, lterm, log_key, committed):
        """Leader completeness: leader i of term lterm holds every entry committed before."""
        for j, (t, _, cterm) in enumerate(committed):
            if cterm < lterm and (j >= len(log_key) or log_key[j][0] != t):
                has = "no entry" if j >= len(log_key) else f"an entry of term {log_key[j][0]}"
                return SafetyViolation(
                    "leader_completeness", f"leader completeness broken: the entry at index "
                    f"{j + 1} (term {t}) was committed in term {cterm}, but S{i}, leader "
                    f"of term {lterm}, has {has} there", nodes=(i,), term=lterm, index=j + 1)
        return None

    def log_matching(self, i, log_key, nodes):
        for j, ns in enumerate(nodes):
            if j == i - 1:
                continue
            other = ns[0][4]
            for k in range(min(len(log_key), len(other)), 0, -1):
                if log_key[k - 1][0] == other[k - 1][0]:
                    if log_key[:k] != other[:k]:
                        bad = next(x for x in range(k) if log_key[x] != other[x])
                        return SafetyViolation(
                            "log_matching", f"log matching broken: S{i} and S{j + 1} agree on "
                            f"the term of the entry at index {k} (term {log_key[k - 1][0]}) but "
                            f"differ at index {bad + 1}", nodes=(i, j + 1),
                            term=log_key[k - 1][0], index=bad + 1)
                    break
        return None

    def view(self, state) -> StateView:
        nodes, flight, _, committed = state
        views = {}
        for i, ns in zip(self.ids, nodes):
            role, term, voted, entries, ci, la, _, _, _, _, kv = ns[2]
            views[i] = NodeView(i, role, term, voted, entries, ci, la, dict(kv), ns[0][0])
        return StateView(views, tuple(m for _, m in flight),
                         frozenset(i for i in self.ids if nodes[i - 1][0][0]),
                         {j + 1: (t, self.cmd_of[c]) for j, (t, c, _) in enumerate(committed)})

    def in_bounds(self, state) -> bool:
        if len(state[1]) > self.max_in_flight:
            return False
        mt, ml = self.max_term, self.max_log
        for ns in state[0]:
            k = ns[0]
            if k[2] > mt or len(k[4]) > ml:
                return False
        return True


class _FixedRandom(random.Random):
    """The search's node rng: the only draws are timeouts from (NEVER, NEVER)."""

    def randint(self, a, b):
        return a


def _show(cmd):
    return "a no-op" if cmd is None else repr(cmd)


def explore(n: int = 3, *, handlers=None, initial=None, max_term: int = 2, max_log: int = 2,
            max_in_flight: int = 6, max_depth: int | None = None, max_states: int = 2_000_000,
            values=1, events=DEFAULT_EVENTS, max_entries: int | None = None, symmetry="auto",
            goal=None, workers: int = 1, progress=None) -> ExploreResult:
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
    ``progress`` shows a bar (default: in notebooks). Returns an :class:`ExploreResult`.
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
    search = _Search(n, handlers, initial or None, (max_term, max_log, max_in_flight), kinds,
                     commands, max_entries, symmetry, goal_fn)
    asym, use_sym = search.asym, search.symmetry
    if not use_sym:
        note = ("off: " + asym) if asym else ("off (asked)" if symmetry is False else "off")
    else:
        note = ("on: every server starts alike, so states equal up to renaming servers are "
                "explored once (assumes the handlers treat server ids alike)")
    bounds = {"max_term": max_term, "max_log": max_log, "max_in_flight": max_in_flight,
              "max_depth": max_depth, "values": len(commands), "max_entries": max_entries}
    result = ExploreResult(n, bounds, tuple(e for e in EVENT_KINDS if e in kinds), use_sym, note,
                           goal=goal_name, _setup=search.setup)
    bar = progress_bar(progress, max_depth, "depth")
    try:
        _bfs(search, result, max_depth, max_states, bar, workers)
    finally:
        if bar is not None:
            bar.close()
    return result


def _report(bar, depth, states, distinct, frontier, t0, force=False):
    elapsed = time.perf_counter() - t0
    rate = distinct / elapsed if elapsed > 0 else 0.0
    bar.update(depth, f"depth {depth}: {states:,} states, {distinct:,} distinct, {frontier:,} to "
                      f"expand, {rate:,.0f} distinct/s", force)


#: Parents expanded together between progress reports and max_states checks.
CHUNK = 256


def _expand(search, items, seen, keep=True):
    """Expand ``items`` ((state, index) pairs): new children in order, and what was found.

    Returns ``(children, states, out_of_bounds, finding)``; each child is
    ``(parent index, event code, fingerprint, state, meets the goal)`` (state None
    unless ``keep``). Stops at the first violation, handler error or goal.
    """
    enabled, apply, keyfn = search.enabled, search.apply, search.key
    goal = search.goal
    named_goal = goal in GOALS.values()
    local = set()
    out = []
    states = out_of_bounds = 0
    for state, idx in items:
        for code in enabled(state):
            try:
                child, viol, ok = apply(state, code)
            except HandlerError as exc:
                return out, states, out_of_bounds, (idx, code, "error", exc)
            except RaftbookError as exc:
                return out, states, out_of_bounds, (idx, code, "error", HandlerError(
                    f"a handler left the node in a state the core rejects: {exc}"))
            states += 1
            if viol is not None:
                return out, states, out_of_bounds, (idx, code, "violation", viol)
            if not ok:
                out_of_bounds += 1
                continue
            fp = hash(keyfn(child))
            if fp in seen or fp in local:
                continue
            local.add(fp)
            hit = goal is not None and bool(goal(child) if named_goal else goal(search.view(child)))
            out.append((idx, code, fp, child if keep else None, hit))
            if hit:
                return out, states, out_of_bounds, None
    return out, states, out_of_bounds, None


#: Frontier size from which a search with several workers hands the levels to them.
PARALLEL_FROM = 256


def _worker(conn, search, frontier):
    """A search process: it owns the states it finds, and sends only fingerprints.

    Each round it expands its share of the level and reports, per parent, the
    new children ``(parent index, ordinal, code, fingerprint, meets goal)``,
    the counts, and its first finding; then it keeps the children the main
    process accepted (``("keep", [(position, index), ...])``).
    """
    sent = set()  # fingerprints already reported: the main process has them all
    enabled, apply, keyfn, goal = search.enabled, search.apply, search.key, search.goal
    named_goal = goal in GOALS.values()
    try:
        while True:
            msg = conn.recv()
            if msg[0] == "stop":
                conn.send(("cpu", time.process_time()))
                return
            if msg[0] == "keep":
                frontier = [(pending[j], g) for j, g in msg[1]]
                pending = None
                continue
            items, counts, pending, finding = [], [], [], None
            for state, gidx in frontier:
                n_states = n_oob = 0
                for t, code in enumerate(enabled(state)):
                    try:
                        child, viol, ok = apply(state, code)
                    except HandlerError as exc:
                        finding = (gidx, t, code, "error", exc)
                        break
                    except RaftbookError as exc:
                        finding = (gidx, t, code, "error", HandlerError(
                            f"a handler left the node in a state the core rejects: {exc}"))
                        break
                    n_states += 1
                    if viol is not None:
                        finding = (gidx, t, code, "violation", viol)
                        break
                    if not ok:
                        n_oob += 1
                        continue
                    fp = hash(keyfn(child))
                    if fp in sent:
                        continue
                    sent.add(fp)
                    hit = goal is not None and bool(goal(child) if named_goal
                                                    else goal(search.view(child)))
                    items.append((gidx, t, code, fp, hit))
                    pending.append(child)
                    if hit:
                        finding = (gidx, t, code, "goal", None)
                        break
                counts.append((gidx, n_states, n_oob))
                if finding is not None:
                    break
            conn.send((items, counts, finding))
    except Exception as exc:  # a bug here must not leave the main process waiting
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))


class _Workers:
    """The forked search processes of one parallel search."""

    def __init__(self, search, frontier, workers):
        ctx = multiprocessing.get_context("fork")
        self.conns, self.procs = [], []
        for w in range(workers):
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(target=_worker, args=(theirs, search, frontier[w::workers]),
                               daemon=True)
            proc.start()
            theirs.close()
            self.conns.append(mine)
            self.procs.append(proc)

    def expand(self):
        for conn in self.conns:
            conn.send(("expand",))
        out = []
        for conn in self.conns:
            got = conn.recv()
            if got[0] == "failed":
                raise RaftbookError(f"a search worker failed: {got[1]}")
            out.append(got)
        return out

    def keep(self, kept):
        for conn, mine in zip(self.conns, kept):
            conn.send(("keep", mine))

    def close(self):
        """Stop the workers; returns the CPU seconds each one used (None if unknown)."""
        cpu = []
        for conn in self.conns:
            try:
                conn.send(("stop",))
                got = conn.recv() if conn.poll(5) else None
            except (OSError, EOFError):
                got = None
            cpu.append(got[1] if got and got[0] == "cpu" else None)
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()
        return cpu


def _parallel_level(pool, first, size, seen, parents, codes, max_states):
    """Merge one level the workers expanded, in the order a single process would.

    Returns ``(states, out_of_bounds, accepted, found, stopped)``.
    """
    import heapq

    results = pool.expand()
    stop = min(((f[0], f[1]) for _, _, f in results if f is not None), default=None)
    finding = next((f for _, _, f in results if f is not None and (f[0], f[1]) == stop), None)
    counts = heapq.merge(*[c for _, c, _ in results])
    items = heapq.merge(*[[(g, t, code, fp, hit, w, j) for j, (g, t, code, fp, hit) in enumerate(i)]
                          for w, (i, _, _) in enumerate(results)])
    item = next(items, None)
    kept = [[] for _ in results]
    states = oob = accepted = 0
    found, stopped = None, ""
    for gidx, n_states, n_oob in counts:
        pos = gidx - first
        if pos and pos % CHUNK == 0 and len(seen) >= max_states:
            stopped = f"stopped at max_states={max_states:,}"
            break
        if stop is not None and gidx > stop[0]:
            break
        states += n_states
        oob += n_oob
        while item is not None and item[0] == gidx:
            g, t, code, fp, hit, w, j = item
            item = next(items, None)
            if fp in seen:
                continue
            seen.add(fp)
            parents.append(g)
            codes.append(code)
            kept[w].append((j, len(parents) - 1))
            accepted += 1
            if hit:
                found = (len(parents) - 1, None, "goal", None)
                break
        if found is not None:
            break
        if stop is not None and gidx == stop[0]:
            found = (finding[0], finding[2], finding[3], finding[4])
            break
    else:
        if size and len(seen) >= max_states:
            stopped = f"stopped at max_states={max_states:,}"
    if found is None and not stopped:
        pool.keep(kept)
    return states, oob, accepted, found, stopped


def _bfs(search, result, max_depth, max_states, bar, workers=1):
    t0 = time.perf_counter()
    root = search.root
    goal = search.goal
    parents = array("q", [-1])
    codes = array("q", [-1])
    seen = {hash(search.key(root))}
    states = 1
    out_of_bounds = 0
    found = None  # (index of the parent, code, kind of finding, payload)
    if goal is not None and (goal(root) if goal in GOALS.values() else goal(search.view(root))):
        found = (-1, None, "goal", None)
    frontier = [(root, 0)]
    size = 1  # states in the frontier (held by the workers once they run)
    pool = None
    depth = 0
    stopped = ""
    try:
        while size and found is None:
            if max_depth is not None and depth >= max_depth:
                stopped = f"stopped at max_depth={max_depth}"
                break
            first = len(parents) - size
            if pool is None and workers > 1 and size >= PARALLEL_FROM and \
                    "fork" in multiprocessing.get_all_start_methods():
                pool = _Workers(search, frontier, workers)
                frontier = None
            if pool is not None:
                n_states, n_oob, size, found, stopped = _parallel_level(
                    pool, first, size, seen, parents, codes, max_states)
                states += n_states
                out_of_bounds += n_oob
                if bar is not None:
                    _report(bar, depth + 1, states, len(seen), size, t0)
                depth += 1
                if stopped:
                    break
                continue
            nxt = []
            for k in range(0, len(frontier), CHUNK):
                children, n_states, n_oob, finding = _expand(search, frontier[k:k + CHUNK], seen)
                states += n_states
                out_of_bounds += n_oob
                for idx, code, fp, child, hit in children:
                    if fp in seen:
                        continue
                    seen.add(fp)
                    parents.append(idx)
                    codes.append(code)
                    nxt.append((child, len(parents) - 1))
                    if hit:
                        found = (len(parents) - 1, None, "goal", None)
                        break
                if found is None and finding is not None:
                    found = finding
                if bar is not None:
                    _report(bar, depth + 1, states, len(seen), len(nxt), t0)
                if found is not None:
                    break
                if len(seen) >= max_states:
                    stopped = f"stopped at max_states={max_states:,}"
                    break
            frontier = nxt
            size = len(nxt)
            depth += 1
            if stopped:
                break
    finally:
        if pool is not None:
            result.worker_cpu = pool.close()
    result.workers = len(result.worker_cpu) or 1
    frontier = size
    result.exhausted = found is None and not frontier and not stopped
    if found is None and not frontier and not stopped:
        depth -= 1  # the last level added nothing new
    result.stopped = stopped or ("exhausted" if result.exhausted else "")
    result.seconds = time.perf_counter() - t0
    result.states, result.distinct, result.out_of_bounds = states, len(seen), out_of_bounds
    result.depth = max(depth, 0)
    if bar is not None:
        _report(bar, result.depth, states, len(seen), 0, t0, force=True)
    if found is None:
        return
    idx, code, what, payload = found
    chain = []
    while idx > 0:
        chain.append(codes[idx])
        idx = parents[idx]
    chain.reverse()
    if code is not None:
        chain.append(code)
    path, state = [], root
    for k, c in enumerate(chain):
        path.append(search.decode(state, c))
        if what == "error" and k == len(chain) - 1:
            break  # this event raised
        state = search.apply(state, c)[0]
    result.path = path
    result.depth = max(result.depth, len(path))
    if what == "violation":
        payload.event = len(path) - 1
        payload.time = sum(1 for ev in path if ev[0] == "heartbeat")  # one tick each
        result.violation = payload
    elif what == "error":
        result.handler_error = payload
    else:
        result.goal_reached = True


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
        from .exercises.bugs import BUGS as bugs
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
