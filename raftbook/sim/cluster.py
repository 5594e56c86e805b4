"""The cluster simulator: the one object a user drives, composed of small parts.

Every public call is one explicit event: it is validated first (bad input
raises and changes nothing), then carried out, then recorded in ``history``.
The parts, each in its own module: ``network`` (messages in flight, crashes,
partitions, the run's random draws), ``history`` (events, checkpoints, undo),
``manual`` (the events taken by hand), ``runloop`` (automatic runs),
``proposals`` (client commands) and ``validate`` (checks of user input). This
class composes them and wires the nodes' steps to the network and the history.
"""
from __future__ import annotations

import random
from types import MappingProxyType

from ..check.safety import SafetyMonitor
from ..core.kv import validate_command
from ..core.messages import command_to_json
from ..core.membership import is_config, refresh as membership_refresh
from ..core.node import RaftNode, _is_int
from ..core.roles import Role
from ..errors import InvalidArgument, InvalidState
from . import trace as _trace
from . import validate
from .history import (CHECKPOINT_EVERY, CHECKPOINT_TICKS, NETWORK_ACTIONS, Event, Reason,  # noqa: F401
                      Recorder, Snapshot, events_frame, state_stamp)
from .manual import ManualEvents
from .membership import MembershipEvents, check_members
from .network import Envelope, Network, pack_rng_state, unpack_rng_state
from .proposals import (Proposal, check_proposal, proposal_result, proposal_status,
                        proposal_target)
from .replay import replay_event
from .runloop import run_summary, run_ticks, run_until_summary
from .validate import MAX_NODES  # noqa: F401  (kept importable from here)


class Cluster(ManualEvents, MembershipEvents):
    """A simulated Raft cluster of nodes 1..n, driven one explicit event at a time.

    ``record_reasons``: keep every node's reasons in the history (what
    :meth:`explain` reads). ``monitor``: watch every step with the safety
    monitor (what :func:`raftbook.check_safety` reads).
    """

    def __init__(self, n: int = 5, seed: int = 0, config=None, handlers=None, *,
                 record_reasons: bool = True, monitor: bool = True, members=None):
        config = validate.check_cluster_args(n, seed, config, handlers)
        n, seed = validate.whole(n), validate.whole(seed)
        self.initial_members = check_members(members, n)  # None: every server votes
        self.n = n
        self.seed = seed
        self.config = config
        self.handlers = dict(handlers or {})
        self.record_reasons = bool(record_reasons)
        master = random.Random(seed)
        self.nodes: dict[int, RaftNode] = {}
        for i in range(1, n + 1):
            peers = [p for p in range(1, n + 1) if p != i]
            node = RaftNode(i, peers, config, random.Random(master.getrandbits(64)), handlers,
                            members=self.initial_members)
            if not self.record_reasons:
                node._reasons = None
            self.nodes[i] = node
        self._net = Network(random.Random(master.getrandbits(64)))
        self.now = 0
        self._kv_hashes: dict = {}  # see history.state_stamp
        self._rec = Recorder(self.record_reasons)
        self.history: list[Event] = self._rec.events  # the same list, grown by the recorder
        self.proposals: list[Proposal] = []
        self._monitor = SafetyMonitor(self) if monitor else None
        self.initial: dict | None = None  # node states set by from_state (kept in traces)
        self._rec.checkpoints = {0: self._capture()}
        self._rec.stamp = self._stamp()

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
        clean = validate.clean_initial_states(nodes, c.nodes)
        for i, st in clean.items():
            node = c.nodes[i]
            node.current_term = st["current_term"]
            node.voted_for = st["voted_for"]
            for e in st["log"]:
                node.log.append(e)
            node.commit_index = st["commit_index"]
            node.apply_committed()
            node.persist()  # a given starting state is on stable storage (explicit persistence)
            if node.reconfig:  # the newest configuration in the given log is the one in use
                membership_refresh(node, quiet=True)
            node.take_reasons()
        if any(is_config(e.command) for node in c.nodes.values() for e in node.log):
            c._enable_membership()  # a log holds a configuration: every server reads its own
        c.initial = {i: validate.initial_to_json(st) for i, st in clean.items()}
        if c._monitor is not None:
            c._monitor = SafetyMonitor(c)
        c._rec.checkpoints = {0: c._capture()}
        c._rec.stamp = c._stamp()
        return c

    # ------------------------------------------------------------------ reading
    @property
    def in_flight(self) -> list[Envelope]:
        """Messages sent and not yet delivered or dropped, oldest first."""
        return list(self._net.flight.values())

    @property
    def flight(self):
        """The messages in flight as a read-only mapping envelope id -> Envelope (no copy)."""
        return MappingProxyType(self._net.flight)

    @property
    def _flight(self) -> dict:  # the first round's name, still read by older tests
        return self._net.flight

    @property
    def crashed(self) -> set[int]:
        """The ids of the servers that are crashed now."""
        return self._net.crashed

    @property
    def groups(self) -> tuple | None:
        """The partition as a tuple of frozensets of server ids, or None when there is none."""
        return self._net.groups

    @property
    def cuts(self) -> frozenset:
        """The cut links (a partial partition) as (low id, high id) pairs; empty when none."""
        return self._net.cuts

    @property
    def monitor(self):
        """The safety monitor watching every step, or None when made with monitor=False."""
        return self._monitor

    def envelope(self, msg_id: int) -> Envelope:
        """The in-flight envelope with this id."""
        return self._net.flight[self.check_msg(msg_id)]

    @property
    def leader(self) -> int | None:
        """The leader of the highest term among running nodes, or None."""
        best = None
        crashed = self._net.crashed
        for i, node in self.nodes.items():
            if node.role is Role.LEADER and i not in crashed:
                if best is None or node.current_term > self.nodes[best].current_term:
                    best = i
        return best

    @property
    def running(self) -> list[int]:
        return [i for i in self.nodes if i not in self._net.crashed]

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
        from ..explain.narrate import explain  # explain is a layer above the simulator
        node, kind, start, end = validate.clean_explain_args(self.nodes, node, kind, start, end)
        return explain(self, node=node, kind=kind, start=start, end=end)

    def _stamp(self) -> tuple:
        """The stamp recorded after an event (it reuses unchanged key-value hashes)."""
        return state_stamp(self.nodes, self._kv_hashes)

    def tampered(self) -> bool:
        """Was a server's state changed since the last event by something other than an event?

        (``c.nodes[2].role = rb.Role.LEADER``, say.) :func:`raftbook.check_safety` then
        checks the whole state, since the safety monitor never saw the change.
        """
        return self._rec.stamp != state_stamp(self.nodes)

    def can_reach(self, src: int, dst: int) -> bool:
        """Would a message from src to dst be delivered now (no partition or cut link, dst running)?"""
        return self._net.can_reach(self.check_node(src), self.check_node(dst))

    # ------------------------------------------------------------------ validation
    def check_node(self, i) -> int:
        """``i`` if it names a server of this cluster; else UnknownNode saying which exist."""
        return validate.check_node(i, self.nodes)

    def check_msg(self, msg_id) -> int:
        """``msg_id`` if that message is in flight; else UnknownMessage listing what is."""
        return validate.check_msg(msg_id, self._net.flight)

    check_network = staticmethod(validate.check_network)

    # ------------------------------------------------------------------ stepping nodes
    def _record(self, kind, args, fn) -> Event:
        """Carry out one event and record it; on any error rewind and re-raise."""
        return self._rec.record(self, kind, args, fn)

    def _after_step(self, node, out):
        """After every step of a node: keep its reasons, let the monitor look, send its messages."""
        if node._reasons:
            reasons = self._rec.reasons
            if reasons is not None:
                now, nid = self.now, node.id
                reasons.extend([Reason(now, nid, code, f) for code, f in node.take_reasons()])
        if self._monitor is not None:
            self._monitor.observe(node)
        if out:
            rec = self._rec
            self._net.send(out, self.now, rec.notes, rec.sent)

    def _deliver_quietly(self, env) -> str | None:
        """Deliver one message in flight (None), or lose it (how: the network's LOST_* name),
        without describing it."""
        lost = self._net.take(env)
        if lost is not None:
            self._rec.note(self.now, lost, env)
            return lost
        self._arrive(env)
        return None

    def _arrive(self, env):
        """A message taken out of flight reaches its server, which steps on it."""
        msg = env.msg
        notes = self._rec.notes
        if notes is not None:
            notes.append((self.now, "delivered", env.id, msg, None))
        node = self.nodes[msg.dst]
        self._after_step(node, node._step(msg))

    def _copy(self, env) -> Envelope:
        """The network duplicates a message in flight; the copy is a new envelope."""
        rec = self._rec
        self._net.send([env.msg], self.now, rec.notes, rec.sent)
        copy = self._net.flight[self._net.next_id - 1]
        rec.note(self.now, "duplicated", copy, env.id)
        return copy

    def _running_nodes(self) -> list:
        crashed = self._net.crashed
        return [node for i, node in self.nodes.items() if i not in crashed]

    def _tick_all(self, running=None):
        """One tick for every running node (``running``: those nodes, if the caller knows)."""
        self.now += 1
        for node in self._running_nodes() if running is None else running:
            out = node.tick()
            # Most ticks change nothing anyone watches: skip the bookkeeping then.
            if out or node._reasons or node.log.changed_from is not None:
                self._after_step(node, out)

    # ------------------------------------------------------------------ clients
    def propose(self, command, node: int | None = None) -> Proposal:
        """Send a client command to the leader (or to ``node``); returns the proposal."""
        validate.check_command_size(command)
        command = validate_command(command)
        i = proposal_target(self, command, node)
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

    def status(self, proposal: Proposal) -> str:
        """"committed", "pending" or "lost" (a different entry committed there, or no log holds it)."""
        check_proposal(self.proposals, proposal)
        return proposal_status(self.nodes, self._monitor, proposal)

    def result(self, proposal: Proposal):
        """The state machine's answer to a committed proposal (``get`` returns the value)."""
        return proposal_result(self.nodes, proposal, self.status(proposal), self._monitor)

    # ------------------------------------------------------------------ automatic mode
    def run(self, ticks: int, *, latency=(1, 3), drop_rate: float = 0.0,
            duplicate_rate: float = 0.0, **unknown) -> Event:
        """Advance ``ticks`` ticks automatically, with seeded random latency, loss and duplication."""
        ticks = validate.check_count("ticks", ticks)
        validate.check_network_names(unknown)
        options = validate.check_network(latency, drop_rate, duplicate_rate)

        def go():
            done, _, stats = run_ticks(self, ticks, options)
            return run_summary(done, self.now, stats), stats
        return self._record("run", {"ticks": ticks, **options}, go)

    def run_until(self, predicate, max_ticks: int, *, latency=(1, 3), drop_rate: float = 0.0,
                  duplicate_rate: float = 0.0, **unknown) -> bool:
        """Run until ``predicate(cluster)`` is true (checked after each tick) or ``max_ticks`` pass."""
        checked = validate.checked_predicate(predicate)
        max_ticks = validate.check_count("max_ticks", max_ticks)
        validate.check_network_names(unknown)
        options = validate.check_network(latency, drop_rate, duplicate_rate)
        # The replayable form records how many ticks actually ran (a function is not data);
        # go() fills it in before the event is built.
        args = {"max_ticks": max_ticks, **options}

        def go():
            done, reached, stats = run_ticks(self, max_ticks, options, checked)
            args["ticks"], args["reached"] = done, reached
            return run_until_summary(done, self.now, reached), stats
        self._record("run_until", args, go)
        return args["reached"]

    # ------------------------------------------------------------------ history and time travel
    def events(self):
        """The history as a pandas DataFrame, one row per event."""
        return events_frame(self.history)

    def _capture(self) -> tuple:
        """The whole state (history aside) as data; its first item is the time."""
        return (self.now, self._net.export(), {i: _packed(n._export()) for i, n in self.nodes.items()},
                len(self.proposals), None if self._monitor is None else self._monitor._export(),
                len(self.history))

    def _load(self, s) -> None:
        self.now, net, nodes, nprop, mon, nhist = s
        self._net.load(net)
        for i, st in nodes.items():
            self.nodes[i]._import(_unpacked(st))
        del self.proposals[nprop:]
        if self._monitor is not None:
            self._monitor._import(mon)
        del self.history[nhist:]
        self._rec.stamp = self._stamp()

    def _shadow(self) -> "Cluster":
        """A fresh cluster like this one that keeps every record (to rebuild folded events)."""
        shadow = Cluster(self.n, self.seed, self.config, self.handlers or None,
                         record_reasons=True, monitor=self._monitor is not None)
        shadow._rec.window = None
        return shadow

    @property
    def _replaying(self) -> bool:  # True while events are carried out again (undo, replicas)
        return self._rec.replaying

    @_replaying.setter
    def _replaying(self, value: bool) -> None:
        self._rec.replaying = value

    def apply_event(self, kind: str, args: dict) -> None:
        """Carry out a recorded event again from its kind and args (replay, undo, traces)."""
        replay_event(self, kind, args)

    _apply = apply_event  # the first round's private name, still used by older tests

    def undo(self) -> None:
        """Revert the last event."""
        self._rec.check_idle("c.undo()")
        if not self.history:
            raise InvalidState("there is nothing to undo: the history is empty")
        self._rec.rewind(self, len(self.history) - 1)

    def goto(self, seq: int) -> None:
        """Go back to the state just before event ``seq`` (0 = the start); later events are dropped."""
        self._rec.check_idle("c.goto()")
        k = validate.whole(seq)
        if k is None or not 0 <= k <= len(self.history):
            raise InvalidArgument(f"seq must be between 0 and {len(self.history)} (the number of "
                                  f"events so far); got {validate.show(seq)}")
        self._rec.rewind(self, k)

    def snapshot(self) -> Snapshot:
        """Save the whole state, history included, for :meth:`restore`."""
        return self._rec.snapshot(self)

    def restore(self, snapshot: Snapshot) -> None:
        """Return to a snapshot of this cluster; the history is rewound (or restored) too."""
        self._rec.restore(self, snapshot)

    # ------------------------------------------------------------------ traces
    def trace(self) -> dict:
        """The seed, config and history as plain JSON-ready data."""
        return _trace.cluster_to_trace(self)

    def save_trace(self, path) -> None:
        """Write the trace as JSON to ``path``; :meth:`load_trace` replays it."""
        _trace.save_trace(self, path)

    @classmethod
    def load_trace(cls, path, handlers=None, *, require_final: bool = True) -> "Cluster":
        """Replay a trace file to the identical state and history.

        A trace file may come from anyone: it is plain JSON checked against the limits
        in :mod:`raftbook.sim.trace` before any work, and must end with the fingerprint
        of the state it recorded (``require_final=False`` replays one without, unchecked).
        """
        return _trace.load_trace(path, cls, handlers=handlers, require_final=require_final)

    @classmethod
    def from_trace(cls, data: dict, handlers=None, *, require_final: bool = False) -> "Cluster":
        """Replay trace data (as :meth:`trace` returns it); checked like a file, "final" optional."""
        return _trace.trace_to_cluster(data, cls, handlers=handlers, require_final=require_final)

    def fingerprint(self) -> str:
        """A short hash of the whole observable state (equal states, equal fingerprints)."""
        return _trace.fingerprint(self)

    # ------------------------------------------------------------------ display
    def __repr__(self):
        roles = " ".join(f"S{i}:{n.role.value[0].upper()}{n.current_term}{'x' if i in self.crashed else ''}"
                         for i, n in self.nodes.items())
        return f"<Cluster n={self.n} seed={self.seed} t={self.now} {roles} in_flight={len(self._net.flight)}>"

    # ui is the top layer and pulls in networkx: imported on first display only.
    def _repr_svg_(self):
        from ..ui.view import render_svg
        return render_svg(self)

    def _repr_html_(self):
        from ..ui.view import render_html
        return render_html(self)


def _packed(state: tuple) -> tuple:
    """A node's exported state with its random generator's state (its last item) packed small."""
    rng = state[-1] if state else None
    if type(rng) is tuple and rng[:1] == (3,):
        return state[:-1] + (pack_rng_state(rng),)
    return state


def _unpacked(state: tuple) -> tuple:
    if state and type(state[-1]) is bytes:
        return state[:-1] + (unpack_rng_state(state[-1]),)
    return state
