"""The cluster simulator: nodes, messages in flight, faults, time and history.

Every public call is one explicit event: it is validated first (bad input
raises and changes nothing), then carried out, then recorded in
``history``. Because the whole cluster is deterministic given its seed and
its events, undo and restore replay events from the nearest checkpoint
instead of copying the world after every step.
"""
from __future__ import annotations

import gc
import heapq
import random
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, NamedTuple

from ..core.config import Config
from ..errors import (HandlerError, InvalidArgument, InvalidState, NotLeader, RaftbookError,
                     UnknownMessage, UnknownNode)
from ..core.kv import apply_command, validate_command
from ..core.describe import describe_message
from ..core.messages import Entry, command_to_json
from ..core.node import RaftNode, _is_int
from ..core.roles import Role
from ..check.safety import SafetyMonitor

MAX_NODES = 15
CHECKPOINT_EVERY = 16
#: ... and once automatic runs took this many ticks since the newest one: a checkpoint
#: costs about as much as simulating three ticks, and replaying this many takes a few ms.
CHECKPOINT_TICKS = 100


@dataclass(slots=True)
class Envelope:
    """A message in flight. ``deliver_at`` is set by automatic runs only."""

    id: int
    msg: Any
    sent_at: int
    deliver_at: int | None = None

    @property
    def type(self) -> str:
        return type(self.msg).__name__


@dataclass(frozen=True, slots=True)
class Proposal:
    """A client command accepted by a leader at ``index`` in ``term``."""

    id: int
    command: tuple
    node: int
    index: int
    term: int
    time: int


class Reason(NamedTuple):
    """Why a node did something: a rule code and its fields (see raftbook.reasons).

    A named tuple rather than a dataclass: runs record tens of thousands, and a
    tuple is made about ten times faster while reading the same (``r.code``).
    """

    time: int
    node: int
    code: str
    fields: dict

    def sentence(self) -> str:
        from ..explain.reasons import explain_reason
        return explain_reason(self)


@dataclass(frozen=True, slots=True)
class Event:
    """One recorded call on the cluster. ``args`` replay it; the rest describe it."""

    seq: int
    time: int
    kind: str
    args: dict
    summary: str
    sent: tuple = ()
    reasons: tuple = ()
    stats: dict = field(default_factory=dict)
    #: What the network did during the event (kept when reasons are recorded), oldest
    #: first: ``(time, what, msg_id, msg, ref)`` tuples, ``what`` one of NETWORK_ACTIONS;
    #: ``ref`` is the original's id for "duplicated" (msg_id is the copy), else None.
    network: tuple = ()


#: The network actions an Event records, in the order a message meets them.
NETWORK_ACTIONS = ("sent", "duplicated", "delivered", "dropped", "lost_crash", "lost_partition")
_NETWORK_REASONS = {"dropped": "message_dropped", "lost_crash": "message_lost_crashed",
                    "lost_partition": "message_lost_partition", "duplicated": "message_duplicated"}


@dataclass(frozen=True)
class Snapshot:
    """An opaque saved state of a cluster, for :meth:`Cluster.restore`."""

    _owner: int
    _state: tuple
    _history: tuple
    _checkpoints: dict

    @property
    def history(self) -> tuple:
        """The events that led to this state, oldest first."""
        return self._history


def _node_name(i):
    return f"S{i}"


def _clean_initial_state(i, st) -> dict:
    if not isinstance(st, dict):
        raise InvalidArgument(f"the state of S{i} must be a dict, got {st!r}")
    unknown = set(st) - {"current_term", "voted_for", "log", "commit_index"}
    if unknown:
        raise InvalidArgument(f"unknown state fields for S{i}: {sorted(unknown)}; use current_term, "
                              "voted_for, log and commit_index")
    entries = []
    log = st.get("log", ())
    if isinstance(log, (str, bytes)) or not isinstance(log, (list, tuple)):
        raise InvalidArgument(f"S{i} log must be a list of terms, (term, command) pairs or Entry "
                              f"objects; got {log!r}")
    for k, item in enumerate(log, start=1):
        if isinstance(item, Entry):
            term, cmd = item.term, item.command
        elif _is_int(item):
            term, cmd = item, None
        elif isinstance(item, (tuple, list)) and len(item) == 2:
            term, cmd = item
            cmd = None if cmd is None else validate_command(cmd)
        else:
            raise InvalidArgument(f"S{i} log entry {k} must be a term, a (term, command) pair or an "
                                  f"Entry; got {item!r}")
        if not _is_int(term) or term < 1 or (entries and term < entries[-1].term):
            raise InvalidArgument(f"S{i} log entry {k} has term {term!r}: terms are >= 1 and never "
                                  "decrease along a log")
        entries.append(Entry(k, term, cmd))
    last_term = entries[-1].term if entries else 0
    term = st.get("current_term", last_term)
    if not _is_int(term) or term < last_term:
        raise InvalidArgument(f"S{i} current_term {term!r} must be a whole number at least the "
                              f"last log term ({last_term})")
    voted = st.get("voted_for")
    if voted is not None and not _is_int(voted):
        raise InvalidArgument(f"S{i} voted_for must be a server id or None; got {voted!r}")
    commit = st.get("commit_index", 0)
    if not _is_int(commit) or not 0 <= commit <= len(entries):
        raise InvalidArgument(f"S{i} commit_index {commit!r} must be between 0 and its log length "
                              f"{len(entries)}")
    return {"current_term": term, "voted_for": voted, "log": entries, "commit_index": commit}


def _check_network_names(unknown) -> None:
    if unknown:
        raise InvalidArgument(f"unknown network option{'s' if len(unknown) > 1 else ''} "
                              f"{', '.join(sorted(unknown))}: the options are latency=(lo, hi), "
                              "drop_rate and duplicate_rate")


def _initial_to_json(st) -> dict:
    return {"current_term": st["current_term"], "voted_for": st["voted_for"],
            "log": [[e.term, command_to_json(e.command)] for e in st["log"]],
            "commit_index": st["commit_index"]}


class Cluster:
    """A simulated Raft cluster of nodes 1..n, driven one explicit event at a time.

    ``record_reasons``: keep every node's reasons in the history (what
    :meth:`explain` reads). ``monitor``: watch every step with the safety
    monitor (what :func:`raftbook.check_safety` reads).
    """

    def __init__(self, n: int = 5, seed: int = 0, config=None, handlers=None, *,
                 record_reasons: bool = True, monitor: bool = True):
        if not _is_int(n) or not 1 <= n <= MAX_NODES:
            raise InvalidArgument(f"a cluster has 1 to {MAX_NODES} servers; got n={n!r}")
        if not _is_int(seed):
            raise InvalidArgument(f"seed must be a whole number (it makes runs repeatable); got {seed!r}")
        if config is None:
            config = Config()
        elif isinstance(config, dict):
            config = Config.from_dict(config)
        elif not isinstance(config, Config):
            raise InvalidArgument(f"config must be a raftbook.Config (or None); got {type(config).__name__}")
        from ..core.rules import resolve_handlers
        resolve_handlers(handlers)  # validate before building anything
        self.n = n
        self.seed = seed
        self.config = config
        self.handlers = dict(handlers or {})
        self.record_reasons = bool(record_reasons)
        master = random.Random(seed)
        self.nodes: dict[int, RaftNode] = {}
        for i in range(1, n + 1):
            peers = [p for p in range(1, n + 1) if p != i]
            node = RaftNode(i, peers, config, random.Random(master.getrandbits(64)), handlers)
            if not self.record_reasons:
                node._reasons = None
            self.nodes[i] = node
        self._net_rng = random.Random(master.getrandbits(64))
        self._randbelow = getattr(self._net_rng, "_randbelow", None) or \
            (lambda k, rng=self._net_rng: rng.randint(0, k - 1))
        self.now = 0
        self._flight: dict[int, Envelope] = {}
        self._next_msg_id = 1
        self.crashed: set[int] = set()
        self.groups: tuple | None = None  # the partition, as a tuple of frozensets
        self._group_of: dict | None = None
        self.history: list[Event] = []
        self.proposals: list[Proposal] = []
        self._monitor = SafetyMonitor(self) if monitor else None
        self._event_sent: list | None = None
        self._event_reasons: list | None = None
        self._event_net: list | None = None
        self._run_due: list | None = None
        self._run_net = None
        self._run_lo = self._run_width = 1  # latency lo and hi - lo + 1 of the current run
        self._replaying = False
        self.initial: dict | None = None  # node states set by from_state (kept in traces)
        self._checkpoints = {0: self._capture()}

    @classmethod
    def from_state(cls, nodes: dict, n: int | None = None, seed: int = 0, config=None,
                   handlers=None, **options) -> "Cluster":
        """A cluster whose servers start from given persistent state, for scenarios and graders.

        ``nodes`` maps a server id to a dict with any of ``current_term``,
        ``voted_for``, ``log`` (a list of terms, of ``(term, command)`` pairs or of
        ``Entry``) and ``commit_index`` (entries up to it are applied). Servers not
        named start empty. The history starts here: undo cannot go before it, and
        traces carry these states so they replay exactly.
        """
        if not isinstance(nodes, dict):
            raise InvalidArgument(f"nodes must be a dict of server id -> state dict; got {type(nodes).__name__}")
        if n is None:
            n = max(nodes, default=0) if all(_is_int(k) for k in nodes) else 0
        c = cls(n=n, seed=seed, config=config, handlers=handlers, **options)
        clean = {}
        for i, st in nodes.items():
            c.check_node(i)
            clean[i] = _clean_initial_state(i, st)
            voted = clean[i]["voted_for"]
            if voted is not None and voted not in c.nodes:
                raise InvalidArgument(f"S{i} voted_for {voted!r} is not a server of this cluster "
                                      f"(1..{c.n}) nor None")
        for i, st in clean.items():
            node = c.nodes[i]
            node.current_term = st["current_term"]
            node.voted_for = st["voted_for"]
            for e in st["log"]:
                node.log.append(e)
            node.commit_index = st["commit_index"]
            node.apply_committed()
            node.take_reasons()
        c.initial = {i: _initial_to_json(st) for i, st in clean.items()}
        if c._monitor is not None:
            c._monitor = SafetyMonitor(c)
        c._checkpoints = {0: c._capture()}
        return c

    # ------------------------------------------------------------------ reading
    @property
    def in_flight(self) -> list[Envelope]:
        """Messages sent and not yet delivered or dropped, oldest first."""
        return list(self._flight.values())

    @property
    def flight(self):
        """The messages in flight as a read-only mapping envelope id -> Envelope (no copy)."""
        return MappingProxyType(self._flight)

    @property
    def monitor(self):
        """The safety monitor watching every step, or None when made with monitor=False."""
        return self._monitor

    def envelope(self, msg_id: int) -> Envelope:
        """The in-flight envelope with this id."""
        self.check_msg(msg_id)
        return self._flight[msg_id]

    @property
    def leader(self) -> int | None:
        """The leader of the highest term among running nodes, or None."""
        best = None
        for i, node in self.nodes.items():
            if node.role is Role.LEADER and i not in self.crashed:
                if best is None or node.current_term > self.nodes[best].current_term:
                    best = i
        return best

    @property
    def running(self) -> list[int]:
        return [i for i in self.nodes if i not in self.crashed]

    @property
    def violation(self):
        """The first safety violation the monitor saw, or None."""
        return None if self._monitor is None else self._monitor.violation

    def reasons(self) -> list[Reason]:
        """Every reason recorded in the history, oldest first."""
        return [r for ev in self.history for r in ev.reasons]

    def explain(self, node=None, kind=None, start=None, end=None):
        """Why each step happened: one row per reason, in plain English (a pandas DataFrame).

        ``node`` keeps one server (or a list), ``kind`` a reason code, a family
        ("vote", "append", "commit", "election", ...) or an event kind; ``start``/``end``
        slice the history by event seq. See :func:`raftbook.explain.explain`.
        """
        from ..explain.narrate import explain
        return explain(self, node=node, kind=kind, start=start, end=end)

    def can_reach(self, src: int, dst: int) -> bool:
        """Would a message from src to dst be delivered now (no partition, dst running)?"""
        if dst in self.crashed:
            return False
        g = self._group_of
        return g is None or g[src] == g[dst]

    # ------------------------------------------------------------------ validation
    def check_node(self, i) -> int:
        """``i`` if it names a server of this cluster; else UnknownNode saying which exist."""
        if not _is_int(i) or i not in self.nodes:
            raise UnknownNode(f"there is no server {i!r}: this cluster has servers "
                              f"1..{self.n} (S1..S{self.n})")
        return i

    def check_msg(self, msg_id) -> int:
        """``msg_id`` if that message is in flight; else UnknownMessage listing what is."""
        if not _is_int(msg_id) or msg_id not in self._flight:
            ids = list(self._flight)
            hint = f"messages in flight: {ids[:20]}{' ...' if len(ids) > 20 else ''}" if ids \
                else "no messages are in flight"
            raise UnknownMessage(f"no message {msg_id!r} is in flight ({hint}); it may have been "
                                 "delivered or dropped already")
        return msg_id

    def _check_running(self, i, action):
        if i in self.crashed:
            raise InvalidState(f"S{i} is crashed and cannot {action}; restart it first (c.restart({i}))")

    @staticmethod
    def check_network(latency, drop_rate, duplicate_rate) -> dict:
        """Validated network options as stored in a run's args; InvalidArgument otherwise."""
        if isinstance(latency, list):
            latency = tuple(latency)
        if not (isinstance(latency, tuple) and len(latency) == 2 and all(_is_int(x) for x in latency)
                and 1 <= latency[0] <= latency[1]):
            raise InvalidArgument(f"latency must be a pair of whole tick counts (lo, hi) with "
                                  f"1 <= lo <= hi; got {latency!r}")
        # drop_rate may be 1 (a network that loses everything); duplicate_rate must stay
        # below 1, or every delivery would copy the message again, forever.
        for name, p in (("drop_rate", drop_rate), ("duplicate_rate", duplicate_rate)):
            if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
                raise InvalidArgument(f"{name} is a probability in [0, 1]; got {p!r}")
        if duplicate_rate == 1:
            raise InvalidArgument("duplicate_rate must be below 1: at 1 every delivery would "
                                  "copy the message again, forever")
        return {"latency": list(latency), "drop_rate": float(drop_rate),
                "duplicate_rate": float(duplicate_rate)}

    # ------------------------------------------------------------------ events
    def _record(self, kind, args, fn):
        """Carry out one event and record it; on a handler error rewind and re-raise."""
        seq = len(self.history)
        # Checkpoint every few events, and once automatic runs have covered a stretch of
        # time (runs are costly to replay, so undo and goto should not redo long ones).
        # Checkpoints are added in seq order, so the newest is the last key.
        if seq not in self._checkpoints and (
                seq % CHECKPOINT_EVERY == 0
                or self.now - self._checkpoints[next(reversed(self._checkpoints))][0]
                >= CHECKPOINT_TICKS):
            self._checkpoints[seq] = self._capture()
        self._event_sent = []
        self._event_reasons = [] if self.record_reasons else None
        self._event_net = [] if self.record_reasons else None
        time = self.now
        try:
            summary, stats = fn()
        except RaftbookError:
            self._abort(seq)
            raise
        except Exception as exc:
            self._abort(seq)
            raise HandlerError(f"{kind} failed inside the simulation: {type(exc).__name__}: {exc}") from exc
        ev = Event(seq, time, kind, args, summary, tuple(self._event_sent),
                   tuple(self._event_reasons or ()), stats, tuple(self._event_net or ()))
        self._event_sent = self._event_reasons = self._event_net = None
        self.history.append(ev)
        return ev

    def _abort(self, seq):
        self._event_sent = self._event_reasons = self._event_net = None
        self._run_due = self._run_net = None
        if not self._replaying:
            self._rewind(seq)

    def _send(self, msgs):
        """Put messages in flight (in an automatic run, with their delivery time)."""
        if self._run_due is not None:
            self._send_timed(msgs)
            return
        net, sent, flight, now = self._event_net, self._event_sent, self._flight, self.now
        for m in msgs:
            mid = self._next_msg_id
            self._next_msg_id = mid + 1
            flight[mid] = Envelope(mid, m, now)
            if net is not None:
                net.append((now, "sent", mid, m, None))
            if sent is not None:
                sent.append(mid)

    def _send_timed(self, msgs):
        """_send in an automatic run: each message draws its latency and joins the queue."""
        now, lo, width = self.now, self._run_lo, self._run_width
        draw, flight, due, net = self._randbelow, self._flight, self._run_due, self._event_net
        for m in msgs:
            mid = self._next_msg_id
            self._next_msg_id = mid + 1
            at = now + lo + draw(width)  # what randint(lo, hi) draws, minus two calls
            flight[mid] = Envelope(mid, m, now, at)
            heapq.heappush(due, (at, mid))
            if net is not None:
                net.append((now, "sent", mid, m, None))

    def _after_step(self, node, out):
        """After every step of a node: keep its reasons, let the monitor look, send its messages."""
        if node._reasons and self._event_reasons is not None:
            now, nid = self.now, node.id
            self._event_reasons.extend([Reason(now, nid, code, f) for code, f in node.take_reasons()])
        if self._monitor is not None:
            self._monitor.observe(node)
        if out:
            self._send(out)

    def _step(self, node, msg):
        self._after_step(node, node._step(msg))

    def _net_note(self, what, env, ref=None):
        """Record what the network did to one message; a loss is also a reason for its receiver."""
        if self._event_net is None:
            return
        m = env.msg
        self._event_net.append((self.now, what, env.id, m, ref))
        code = _NETWORK_REASONS.get(what)
        if code is not None and self._event_reasons is not None:
            fields = {"msg_id": env.id, "type": type(m).__name__, "src": m.src, "dst": m.dst,
                      "term": m.term}
            if ref is not None:
                fields["copy_of"] = ref
            self._event_reasons.append(Reason(self.now, m.dst, code, fields))

    def _deliver_env(self, env) -> str:
        msg = env.msg
        if self._deliver_quietly(env):
            return f"delivered #{env.id} {describe_message(msg)}"
        if msg.dst in self.crashed:
            return f"lost #{env.id} {describe_message(msg)}: S{msg.dst} is crashed"
        return f"lost #{env.id} {describe_message(msg)}: a partition separates S{msg.src} and S{msg.dst}"

    def _deliver_quietly(self, env) -> bool:
        """Deliver (True) or lose (False) one message in flight, without describing it."""
        del self._flight[env.id]
        msg = env.msg
        dst = msg.dst
        if dst in self.crashed:
            self._net_note("lost_crash", env)
            return False
        group_of = self._group_of
        if group_of is not None and group_of[msg.src] != group_of[dst]:
            self._net_note("lost_partition", env)
            return False
        net = self._event_net
        if net is not None:
            net.append((self.now, "delivered", env.id, msg, None))
        node = self.nodes[dst]
        self._after_step(node, node._step(msg))
        return True

    def _running_nodes(self) -> list:
        crashed = self.crashed
        return [node for i, node in self.nodes.items() if i not in crashed]

    def _tick_all(self, running=None):
        """One tick for every running node (``running``: those nodes, if the caller knows)."""
        self.now += 1
        for node in self._running_nodes() if running is None else running:
            out = node.tick()
            # Most ticks change nothing anyone watches: skip the bookkeeping then.
            if out or node._reasons or node.log.changed_from is not None:
                self._after_step(node, out)

    def tick(self) -> Event:
        """One tick of time for every running node (messages stay in flight)."""
        def run():
            self._tick_all()
            return f"tick to t={self.now}", {}
        return self._record("tick", {}, run)

    def timeout(self, node: int) -> Event:
        """Node ``node``'s election timer fires now (a running follower or candidate)."""
        i = self.check_node(node)
        self._check_running(i, "time out")
        n = self.nodes[i]
        if n.role is Role.LEADER:
            raise InvalidState(f"S{i} is the leader of term {n.current_term}; only a follower or a "
                               "candidate has an election timer to fire")

        def run():
            self._after_step(n, n.timeout())
            return f"S{i} timed out and started an election for term {n.current_term}", {}
        return self._record("timeout", {"node": i}, run)

    def deliver(self, msg_id: int) -> Event:
        """Deliver one message in flight (lost if a partition or a crash is in the way)."""
        self.check_msg(msg_id)
        env = self._flight[msg_id]
        return self._record("deliver", {"msg_id": msg_id}, lambda: (self._deliver_env(env), {}))

    def drop(self, msg_id: int) -> Event:
        """The network loses one message in flight."""
        self.check_msg(msg_id)

        def run():
            env = self._flight.pop(msg_id)
            self._net_note("dropped", env)
            return f"dropped #{msg_id} {describe_message(env.msg)}", {}
        return self._record("drop", {"msg_id": msg_id}, run)

    def duplicate(self, msg_id: int) -> Envelope:
        """The network duplicates one message in flight; returns the copy's envelope."""
        self.check_msg(msg_id)
        env = self._flight[msg_id]

        def run():
            self._send([env.msg])
            self._net_note("duplicated", self._flight[self._next_msg_id - 1], msg_id)
            return f"duplicated #{msg_id} as #{self._next_msg_id - 1} {describe_message(env.msg)}", {}
        self._record("duplicate", {"msg_id": msg_id}, run)
        return self._flight[self._next_msg_id - 1]

    def crash(self, node: int) -> Event:
        """Node ``node`` stops; its state stays visible, frozen, until it restarts."""
        i = self.check_node(node)
        if i in self.crashed:
            raise InvalidState(f"S{i} is already crashed; restart it with c.restart({i})")

        def run():
            self.crashed.add(i)
            if self._event_reasons is not None:
                n = self.nodes[i]
                self._event_reasons.append(Reason(self.now, i, "crashed", {
                    "term": n.current_term, "role": n.role.value, "voted_for": n.voted_for,
                    "log_length": n.log.last_index, "commit_index": n.commit_index}))
            return f"S{i} crashed", {}
        return self._record("crash", {"node": i}, run)

    def restart(self, node: int) -> Event:
        """A crashed node comes back with its persistent state; volatile state is rebuilt."""
        i = self.check_node(node)
        if i not in self.crashed:
            raise InvalidState(f"S{i} is running; only a crashed server can restart (c.crash({i}) first)")

        def run():
            self.crashed.discard(i)
            n = self.nodes[i]
            n.restart()
            if self._monitor is not None:
                self._monitor.node_restarted(n)
            self._after_step(n, [])
            return f"S{i} restarted in term {n.current_term} with {n.log.last_index} log entries", {}
        return self._record("restart", {"node": i}, run)

    def partition(self, *groups) -> Event:
        """Split the network: ``c.partition({1, 2}, {3, 4, 5})``; unnamed nodes form one more group."""
        if not groups:
            raise InvalidArgument("name at least one group of servers, e.g. c.partition({1, 2}, {3, 4, 5})")
        seen = set()
        clean = []
        for g in groups:
            if isinstance(g, (str, bytes)) or not isinstance(g, (set, frozenset, list, tuple)):
                raise InvalidArgument(f"each group is a set of server ids like {{1, 2}}; got {g!r}")
            if not g:
                raise InvalidArgument("a group in a partition cannot be empty")
            for i in g:
                self.check_node(i)
                if i in seen:
                    raise InvalidArgument(f"S{i} is named in two groups; each server belongs to one group")
                seen.add(i)
            clean.append(frozenset(g))
        rest = frozenset(self.nodes) - seen
        if rest:
            clean.append(rest)
        if len(clean) < 2:
            raise InvalidArgument("that partition puts every server in one group, which cuts "
                                  "nothing; name at least two groups (or leave some servers out)")
        final = tuple(sorted(clean, key=min))

        def run():
            self.groups = final
            self._group_of = {i: k for k, g in enumerate(final) for i in g}
            desc = " | ".join("{" + ", ".join(f"S{i}" for i in sorted(g)) + "}" for g in final)
            return f"partitioned: {desc}", {}
        return self._record("partition", {"groups": [sorted(g) for g in final]}, run)

    def heal(self) -> Event:
        """Remove the partition: every server can reach every other again."""
        if self.groups is None:
            raise InvalidState("the network is not partitioned; there is nothing to heal")

        def run():
            self.groups = None
            self._group_of = None
            return "healed the partition", {}
        return self._record("heal", {}, run)

    # ------------------------------------------------------------------ clients
    def propose(self, command, node: int | None = None) -> Proposal:
        """Send a client command to the leader (or to ``node``); returns the proposal."""
        command = validate_command(command)
        if node is None:
            i = self.leader
            if i is None:
                raise NotLeader("there is no leader right now; run the cluster until one is "
                                "elected (c.run_until(lambda c: c.leader, 500)) and propose again")
        else:
            i = self.check_node(node)
            n = self.nodes[i]
            if i in self.crashed:
                raise NotLeader(f"S{i} is crashed and cannot take proposals", leader_hint=self.leader)
            if n.role is not Role.LEADER:
                n.propose(command)  # raises NotLeader with the node's own leader hint
        target = self.nodes[i]
        holder = []

        def run():
            entry = target.propose(command)
            self._after_step(target, target.replicate())
            p = Proposal(len(self.proposals) + 1, command, i, entry.index, entry.term, self.now)
            self.proposals.append(p)
            holder.append(p)
            return f"client proposed {command!r} to S{i}: index {entry.index}, term {entry.term}", {}
        self._record("propose", {"command": command_to_json(command), "node": i}, run)
        return holder[0]

    def _check_proposal(self, p):
        if not isinstance(p, Proposal) or p.id > len(self.proposals) or self.proposals[p.id - 1] != p:
            raise InvalidArgument(f"{p!r} is not a proposal of this cluster (use what c.propose returned)")

    def status(self, proposal: Proposal) -> str:
        """"committed", "pending" or "lost" (a different entry committed there, or no log holds it)."""
        self._check_proposal(proposal)
        idx, term = proposal.index, proposal.term
        # Committed stays committed, even after every server that knew restarted
        # (commit_index is volatile): the monitor remembers what it saw committed.
        seen = None if self._monitor is None else self._monitor.committed.get(idx)
        if seen is not None:
            return "committed" if seen[0] == term else "lost"
        for node in self.nodes.values():
            if node.commit_index >= idx:
                t = node.log.term_at(idx)
                if t is not None:
                    return "committed" if t == term else "lost"
        for node in self.nodes.values():
            if node.log.term_at(idx) == term:
                return "pending"
        return "lost"

    def result(self, proposal: Proposal):
        """The state machine's answer to a committed proposal (``get`` returns the value)."""
        st = self.status(proposal)
        if st != "committed":
            raise InvalidState(f"proposal {proposal.id} ({proposal.command!r}) is {st}, so it has no "
                               "result; run the cluster until it commits (c.status(p) == 'committed')")
        idx, term = proposal.index, proposal.term
        for node in self.nodes.values():
            if node.last_applied >= idx and node.log.term_at(idx) == term:
                return node.results[idx]
        # No state machine holds it now (restarts rebuild them): the answer is that of
        # applying the committed prefix 1..idx, which any log holding the entry has.
        for node in self.nodes.values():
            if node.log.term_at(idx) == term:
                kv, out = {}, None
                for e in node.log.entries_from(1, idx):
                    out = apply_command(kv, e.command)
                return out
        raise InvalidState(f"proposal {proposal.id} is committed but no server has applied it yet")

    # ------------------------------------------------------------------ automatic mode
    def _schedule(self, env):
        # lo + _randbelow(hi - lo + 1) is exactly what randint(lo, hi) draws, minus two calls.
        env.deliver_at = self.now + self._run_lo + self._randbelow(self._run_width)
        heapq.heappush(self._run_due, (env.deliver_at, env.id))

    def _run(self, ticks, net, until=None):
        """Advance ``ticks`` ticks, delivering messages as their latency elapses."""
        self._run_net = net
        lo, hi = net["latency"]
        self._run_lo, self._run_width = lo, hi - lo + 1
        due = self._run_due = []
        for env in self._flight.values():
            if env.deliver_at is None or env.deliver_at <= self.now:
                self._schedule(env)
            else:
                heapq.heappush(due, (env.deliver_at, env.id))
        drop_rate, dup_rate = net["drop_rate"], net["duplicate_rate"]
        rnd = self._net_rng.random
        flight = self._flight
        pop = heapq.heappop
        delivered = dropped = duplicated = lost = 0
        done = 0
        reached = False
        # Crashes, restarts and partitions are events of their own, never inside a run.
        running = self._running_nodes()
        # A run makes many short-lived objects and no reference cycles: the cyclic garbage
        # collector would only rescan the ever longer history, so it waits for the run's end.
        collecting = gc.isenabled()
        gc.disable()
        try:
            if until is not None and until(self):
                ticks = 0  # the goal already holds: run no tick at all
                reached = True
            for _ in range(ticks):
                self._tick_all(running)
                now = self.now
                while due and due[0][0] <= now:
                    at, mid = pop(due)
                    env = flight.get(mid)
                    if env is None or env.deliver_at != at:
                        continue
                    if drop_rate and rnd() < drop_rate:
                        del flight[mid]
                        self._net_note("dropped", env)
                        dropped += 1
                        continue
                    if dup_rate and rnd() < dup_rate:
                        self._send([env.msg])
                        self._net_note("duplicated", flight[self._next_msg_id - 1], mid)
                        duplicated += 1
                    if self._deliver_quietly(env):
                        delivered += 1
                    else:
                        lost += 1
                done += 1
                if until is not None:
                    if until(self):
                        reached = True
                        break
                    running = self._running_nodes()  # the goal is user code: take no chances
        finally:
            self._run_due = self._run_net = None
            if collecting:
                gc.enable()
        return done, reached, {"delivered": delivered, "dropped": dropped,
                               "duplicated": duplicated, "lost": lost}

    def run(self, ticks: int, *, latency=(1, 3), drop_rate: float = 0.0,
            duplicate_rate: float = 0.0, **unknown) -> Event:
        """Advance ``ticks`` ticks automatically, with seeded random latency, loss and duplication."""
        if not _is_int(ticks) or ticks < 0:
            raise InvalidArgument(f"ticks must be a whole number >= 0; got {ticks!r}")
        _check_network_names(unknown)
        net = self.check_network(latency, drop_rate, duplicate_rate)

        def go():
            done, _, stats = self._run(ticks, net)
            return (f"ran {done} ticks to t={self.now}: {stats['delivered']} delivered, "
                    f"{stats['dropped']} dropped, {stats['lost']} lost"), stats
        return self._record("run", {"ticks": ticks, **net}, go)

    def run_until(self, predicate, max_ticks: int, *, latency=(1, 3), drop_rate: float = 0.0,
                  duplicate_rate: float = 0.0, **unknown) -> bool:
        """Run until ``predicate(cluster)`` is true (checked after each tick) or ``max_ticks`` pass."""
        if not callable(predicate):
            raise InvalidArgument(f"predicate must be a function of the cluster, e.g. "
                                  f"lambda c: c.leader is not None; got {predicate!r}")
        if not _is_int(max_ticks) or max_ticks < 0:
            raise InvalidArgument(f"max_ticks must be a whole number >= 0; got {max_ticks!r}")
        _check_network_names(unknown)
        net = self.check_network(latency, drop_rate, duplicate_rate)
        # The replayable form records how many ticks actually ran (a function is not data);
        # go() fills it in before the event is built.
        args = {"max_ticks": max_ticks, **net}

        def checked(c):
            try:
                return bool(predicate(c))
            except RaftbookError:
                raise
            except Exception as exc:
                raise InvalidArgument(f"the run_until predicate raised {type(exc).__name__}: {exc}") from exc

        def go():
            done, reached, stats = self._run(max_ticks, net, checked)
            args["ticks"], args["reached"] = done, reached
            return self._run_until_summary(done, reached), stats
        self._record("run_until", args, go)
        return args["reached"]

    def _run_until_summary(self, done, reached) -> str:
        word = "reached the goal" if reached else "gave up"
        return f"ran {done} ticks to t={self.now} and {word}"

    # ------------------------------------------------------------------ history and time travel
    def events(self):
        """The history as a pandas DataFrame, one row per event."""
        import pandas as pd

        rows = [{"seq": e.seq, "time": e.time, "kind": e.kind,
                 "node": e.args.get("node"), "msg_id": e.args.get("msg_id"),
                 "summary": e.summary, "sent": len(e.sent), "reasons": len(e.reasons)}
                for e in self.history]
        cols = ["seq", "time", "kind", "node", "msg_id", "summary", "sent", "reasons"]
        df = pd.DataFrame(rows, columns=cols).set_index("seq")
        # node and msg_id are blank for most events: keep them whole numbers, not floats
        return df.astype({"node": "Int64", "msg_id": "Int64"})

    def _capture(self):
        return (self.now, self._next_msg_id,
                tuple((e.id, e.msg, e.sent_at, e.deliver_at) for e in self._flight.values()),
                frozenset(self.crashed), self.groups,
                {i: n._export() for i, n in self.nodes.items()},
                self._net_rng.getstate(), len(self.proposals),
                None if self._monitor is None else self._monitor._export(), len(self.history))

    def _load(self, s):
        (self.now, self._next_msg_id, flight, crashed, groups, nodes, net, nprop, mon, nhist) = s
        self._flight = {i: Envelope(i, m, t, d) for i, m, t, d in flight}
        self.crashed = set(crashed)
        self.groups = groups
        self._group_of = None if groups is None else {i: k for k, g in enumerate(groups) for i in g}
        for i, st in nodes.items():
            self.nodes[i]._import(st)
        self._net_rng.setstate(net)
        del self.proposals[nprop:]
        if self._monitor is not None:
            self._monitor._import(mon)
        del self.history[nhist:]

    def _rewind(self, m: int):
        """Bring the cluster to its state after the first ``m`` events of its history."""
        events = self.history[:]
        cp = max(k for k in self._checkpoints if k <= m)
        self._load(self._checkpoints[cp])
        for k in [k for k in self._checkpoints if k > m]:
            del self._checkpoints[k]
        self._replaying = True
        try:
            for ev in events[cp:m]:
                self.apply_event(ev.kind, ev.args)
        finally:
            self._replaying = False

    def apply_event(self, kind: str, args: dict) -> None:
        """Carry out a recorded event again from its kind and args (replay, undo, traces)."""
        if kind == "tick":
            self.tick()
        elif kind in ("timeout", "crash", "restart"):
            getattr(self, kind)(args["node"])
        elif kind in ("deliver", "drop", "duplicate"):
            getattr(self, kind)(args["msg_id"])
        elif kind == "partition":
            self.partition(*[set(g) for g in args["groups"]])
        elif kind == "heal":
            self.heal()
        elif kind == "propose":
            self.propose(tuple(args["command"]), node=args["node"])
        elif kind == "run":
            self.run(args["ticks"], latency=tuple(args["latency"]), drop_rate=args["drop_rate"],
                     duplicate_rate=args["duplicate_rate"])
        elif kind == "run_until":
            net = self.check_network(args["latency"], args["drop_rate"], args["duplicate_rate"])
            ticks = args["ticks"]

            def go():
                done, _, stats = self._run(ticks, net)
                return self._run_until_summary(done, args["reached"]), stats
            self._record("run_until", dict(args), go)
        else:
            raise InvalidArgument(f"unknown event kind {kind!r}")

    _apply = apply_event  # the first round's private name, still used by older tests

    def undo(self) -> None:
        """Revert the last event."""
        if not self.history:
            raise InvalidState("there is nothing to undo: the history is empty")
        self._rewind(len(self.history) - 1)

    def goto(self, seq: int) -> None:
        """Go back to the state just before event ``seq`` (0 = the start); later events are dropped."""
        if not _is_int(seq) or not 0 <= seq <= len(self.history):
            raise InvalidArgument(f"seq must be between 0 and {len(self.history)} (the number of "
                                  f"events so far); got {seq!r}")
        self._rewind(seq)

    def snapshot(self) -> Snapshot:
        """Save the whole state, history included, for :meth:`restore`."""
        return Snapshot(id(self), self._capture(), tuple(self.history), dict(self._checkpoints))

    def restore(self, snapshot: Snapshot) -> None:
        """Return to a snapshot of this cluster; the history is rewound (or restored) too."""
        if not isinstance(snapshot, Snapshot) or snapshot._owner != id(self):
            raise InvalidArgument("restore() takes a snapshot made by this cluster's snapshot()")
        self.history[:] = snapshot._history
        self._load(snapshot._state)
        self._checkpoints = dict(snapshot._checkpoints)

    # ------------------------------------------------------------------ traces
    def trace(self) -> dict:
        """The seed, config and history as plain JSON-ready data."""
        from .trace import cluster_to_trace
        return cluster_to_trace(self)

    def save_trace(self, path) -> None:
        """Write the trace as JSON to ``path``; :meth:`load_trace` replays it."""
        from .trace import save_trace
        save_trace(self, path)

    @classmethod
    def load_trace(cls, path, handlers=None) -> "Cluster":
        """Replay a trace file to the identical state and history."""
        from .trace import load_trace
        return load_trace(path, handlers=handlers)

    @classmethod
    def from_trace(cls, data: dict, handlers=None) -> "Cluster":
        """Replay trace data (as :meth:`trace` returns it)."""
        from .trace import trace_to_cluster
        return trace_to_cluster(data, handlers=handlers)

    def fingerprint(self) -> str:
        """A short hash of the whole observable state (equal states, equal fingerprints)."""
        from .trace import fingerprint
        return fingerprint(self)

    # ------------------------------------------------------------------ display
    def __repr__(self):
        roles = " ".join(f"S{i}:{n.role.value[0].upper()}{n.current_term}{'x' if i in self.crashed else ''}"
                         for i, n in self.nodes.items())
        return f"<Cluster n={self.n} seed={self.seed} t={self.now} {roles} in_flight={len(self._flight)}>"

    def _repr_svg_(self):
        from ..ui.view import render_svg
        return render_svg(self)

    def _repr_html_(self):
        from ..ui.view import render_html
        return render_html(self)
