"""A cluster's history: its recorded events, their checkpoints, and going back in time.

The cluster is deterministic given its seed and its events, so going back means
loading the nearest earlier checkpoint and replaying the events after it, instead
of copying the world after every step.
"""
from __future__ import annotations

import itertools
import weakref
from collections import deque
from dataclasses import dataclass, field
from operator import attrgetter
from typing import NamedTuple

from ..errors import HandlerError, InvalidArgument, InvalidState, RaftbookError
from ..explain.reasons import explain_reason
from ..frames import whole_text_class

#: A checkpoint every this many events ...
CHECKPOINT_EVERY = 64
#: ... and once events took this many ticks since the newest one. A checkpoint holds
#: every server's state (about 20 KB for five), and replaying up to 64 events or 400
#: ticks to undo takes a few milliseconds.
CHECKPOINT_TICKS = 400
#: The per-message records (network notes and reasons) of the most recent events are
#: kept up to about this many; older events keep their summary and stats and give their
#: records back on demand by replaying from the checkpoint before them (see FoldedEvent).
RECENT_RECORDS = 50_000
#: At most about this many checkpoints: beyond it every other one in the older half
#: goes (undo uses the newest; going far back replays a little more).
MAX_CHECKPOINTS = 200

_owner_tokens = itertools.count(1)

#: The network actions an Event records, in the order a message meets them.
NETWORK_ACTIONS = ("sent", "duplicated", "delivered", "dropped", "lost_crash", "lost_partition",
                   "lost_cut")
#: The reason code a network action also records for the message's receiver.
NETWORK_REASONS = {"dropped": "message_dropped", "lost_crash": "message_lost_crashed",
                   "lost_partition": "message_lost_partition", "lost_cut": "message_lost_cut",
                   "duplicated": "message_duplicated"}


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
        # explain is a layer above the simulator: imported on use, never at load time.
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


class FoldedEvent(Event):
    """An older event whose per-message records were let go to bound memory.

    It reads like any Event: ``reasons`` and ``network`` are rebuilt on demand by
    replaying the events since the checkpoint before it (the run is deterministic,
    so they come back identical).
    """

    __slots__ = ("_cluster",)

    @property
    def reasons(self) -> tuple:
        return self._records()[0]

    @property
    def network(self) -> tuple:
        return self._records()[1]

    def _records(self) -> tuple:
        c = self._cluster()
        if c is None:
            return (), ()
        return c._rec.regenerate(c, self.seq)


_EVENT_FIELDS = ("seq", "time", "kind", "args", "summary", "sent", "stats")


def fold(ev: Event, cluster) -> FoldedEvent:
    """``ev`` without its per-message records, rebuilt from ``cluster``'s checkpoints on demand."""
    out = object.__new__(FoldedEvent)
    for name in _EVENT_FIELDS:
        Event.__dict__[name].__set__(out, getattr(ev, name))
    FoldedEvent.__dict__["_cluster"].__set__(out, weakref.ref(cluster))
    return out


@dataclass(frozen=True)
class Snapshot:
    """An opaque saved state of a cluster, for :meth:`Cluster.restore`."""

    _owner: int  # the owning cluster's token: unique for the life of the process
    _state: tuple
    _history: tuple
    _checkpoints: dict
    _n: int = 0

    @property
    def history(self) -> tuple:
        """The events that led to this state, oldest first."""
        return self._history


class Recorder:
    """Records a cluster's events one at a time and takes it back to any earlier one.

    While an event runs, ``sent``, ``reasons`` and ``notes`` collect what it did
    (``reasons`` and ``notes`` stay None when reasons are not kept). The recorder
    holds no reference to its cluster (the cluster passes itself in), so a
    cluster without a safety monitor is freed as soon as it is dropped.
    """

    __slots__ = ("events", "checkpoints", "replaying", "keep_reasons", "sent", "reasons", "notes",
                 "busy", "window", "truncated", "token", "_full", "_full_count", "_regen",
                 "_interned", "stamp")

    def __init__(self, keep_reasons: bool):
        self.events: list[Event] = []
        self.checkpoints: dict = {}  # seq -> the cluster's state before event seq
        self.replaying = False
        self.keep_reasons = keep_reasons
        self.sent = self.reasons = self.notes = None
        self.busy = None  # the kind of the event being carried out, or None
        self.window = RECENT_RECORDS if keep_reasons else None  # None: keep every record
        self.truncated = False  # the current event's records outgrew the window
        self.token = next(_owner_tokens)  # what snapshots name their owner by
        self._full: deque = deque()  # (seq, records, event) of events still holding records
        self._full_count = 0
        self._regen = None  # seq -> (reasons, network) of the last segment rebuilt
        self._interned: dict = {}  # equal small args and stats dicts share one object
        self.stamp = None  # the cluster's _stamp() after the last event (see Cluster.tampered)

    def check_idle(self, what: str) -> None:
        """InvalidState if an event is being carried out (a run_until predicate calling back)."""
        if self.busy is not None:
            raise InvalidState(f"{what} cannot be called while {self.busy} is being carried out "
                               "(from a run_until predicate, say): a predicate only reads the "
                               "cluster; change it after the run returns")

    def record(self, cluster, kind: str, args: dict, fn) -> Event:
        """Carry out one event with ``fn()`` and record it; on any error rewind and raise.

        An interrupt (KeyboardInterrupt, as Jupyter's Interrupt sends) rewinds too, so
        the cluster is never left with time advanced and nothing recorded.
        """
        self.check_idle(f"c.{kind}()")
        seq = len(self.events)
        checkpoints = self.checkpoints
        # Checkpoint every few events, and once events have covered a stretch of time
        # (runs are costly to replay, so undo and goto should not redo long ones).
        # Checkpoints are added in seq order, so the newest is the last key.
        if seq not in checkpoints:
            last = next(reversed(checkpoints))
            if seq - last >= CHECKPOINT_EVERY or cluster.now - checkpoints[last][0] >= CHECKPOINT_TICKS:
                checkpoints[seq] = cluster._capture()
                if len(checkpoints) > MAX_CHECKPOINTS:
                    self._thin()
        self.sent = []
        self.reasons = [] if self.keep_reasons else None
        self.notes = [] if self.keep_reasons else None
        self.truncated = False
        time = cluster.now
        self.busy = kind
        try:
            summary, stats = fn()
        except RaftbookError:
            self._abort(cluster, seq)
            raise
        except Exception as exc:
            self._abort(cluster, seq)
            raise HandlerError(f"{kind} failed inside the simulation: {type(exc).__name__}: {exc}") from exc
        except BaseException:  # KeyboardInterrupt, SystemExit: rewind, then let it through
            self._abort(cluster, seq)
            raise
        finally:
            self.busy = None
        ev = Event(seq, time, kind, self._intern(args), summary, tuple(self.sent),
                   tuple(self.reasons or ()), self._intern(stats), tuple(self.notes or ()))
        self.sent = self.reasons = self.notes = None
        if self.truncated:
            self.truncated = False
            ev = fold(ev, cluster)
        self.events.append(ev)
        self.stamp = cluster._stamp()
        if self.window is not None and type(ev) is Event:
            self._keep(cluster, ev)
        return ev

    def _intern(self, d):
        """One shared dict for equal args or stats of plain numbers (runs repeat them a lot)."""
        if type(d) is not dict or len(d) > 8:
            return d
        try:
            key = tuple((k, tuple(v) if type(v) is list else v) for k, v in d.items())
            hash(key)
        except TypeError:
            return d
        interned = self._interned
        got = interned.get(key)
        if got is not None and got == d:
            return got
        if len(interned) >= 4096:
            interned.clear()
        interned[key] = d
        return d

    def _thin(self) -> None:
        """Drop every other checkpoint of the older half (never the first)."""
        keys = list(self.checkpoints)
        for k in keys[1:len(keys) // 2:2]:
            del self.checkpoints[k]

    def _keep(self, cluster, ev: Event) -> None:
        """Count ``ev``'s records among the recent ones; fold the oldest beyond the window."""
        n = len(ev.reasons) + len(ev.network)
        if not n:
            return
        full = self._full
        full.append((ev.seq, n, ev))
        self._full_count += n
        events = self.events
        while self._full_count > self.window and full:
            seq, k, old = full.popleft()
            self._full_count -= k
            if seq < len(events) and events[seq] is old:
                events[seq] = fold(old, cluster)

    def trim(self) -> None:
        """During a long event: let its records go once they outgrow the window (see FoldedEvent)."""
        notes, reasons = self.notes, self.reasons
        if notes is not None and self.window is not None and \
                len(notes) + len(reasons) > self.window:
            notes.clear()
            reasons.clear()
            self.truncated = True

    def _forget_after(self, m: int) -> None:
        full = self._full
        while full and full[-1][0] >= m:
            self._full_count -= full.pop()[1]
        self._regen = None

    def _recount(self) -> None:
        """Rebuild the window's bookkeeping from the events (after a restore)."""
        self._full.clear()
        self._full_count = 0
        self._regen = None
        kept = []
        for ev in reversed(self.events):
            if type(ev) is not Event:
                break
            n = len(ev.reasons) + len(ev.network)
            kept.append((ev.seq, n, ev))
            self._full_count += n
        self._full.extend(reversed(kept))

    def regenerate(self, cluster, seq: int) -> tuple:
        """(reasons, network) of event ``seq``, rebuilt by replaying from the checkpoint before it."""
        regen = self._regen
        if regen is not None and seq in regen:
            return regen[seq]
        checkpoints = self.checkpoints
        cp = max(k for k in checkpoints if k <= seq)
        later = [k for k in checkpoints if k > seq]
        end = min(later[0] if later else len(self.events), len(self.events))
        shadow = cluster._shadow()
        shadow._load(checkpoints[cp])
        out = {}
        total = 0
        for k in range(cp, max(end, seq + 1)):
            ev = self.events[k]
            shadow.apply_event(ev.kind, ev.args)
            new = shadow.history[-1]
            out[k] = (new.reasons, new.network)
            total += len(new.reasons) + len(new.network)
        if total <= RECENT_RECORDS:  # keep the segment for the next reads, unless it is huge
            self._regen = out
        return out[seq]

    def _abort(self, cluster, seq: int) -> None:
        self.sent = self.reasons = self.notes = None
        self.truncated = False
        self.busy = None
        if not self.replaying:
            self.rewind(cluster, seq)

    def note(self, now: int, what: str, env, ref=None) -> None:
        """Record what the network did to one message; a loss is also a reason for its receiver."""
        notes = self.notes
        if notes is None:
            return
        m = env.msg
        notes.append((now, what, env.id, m, ref))
        code = NETWORK_REASONS.get(what)
        if code is not None and self.reasons is not None:
            fields = {"msg_id": env.id, "type": type(m).__name__, "src": m.src, "dst": m.dst,
                      "term": m.term}
            if ref is not None:
                fields["copy_of"] = ref
            self.reasons.append(Reason(now, m.dst, code, fields))

    def rewind(self, cluster, m: int) -> None:
        """Bring ``cluster`` to its state after the first ``m`` events of its history."""
        events = self.events[:]
        checkpoints = self.checkpoints
        cp = max(k for k in checkpoints if k <= m)
        cluster._load(checkpoints[cp])
        for k in [k for k in checkpoints if k > m]:
            del checkpoints[k]
        self._forget_after(cp)
        self.replaying = True
        try:
            for ev in events[cp:m]:
                cluster.apply_event(ev.kind, ev.args)
        finally:
            self.replaying = False

    def snapshot(self, cluster) -> Snapshot:
        return Snapshot(self.token, cluster._capture(), tuple(self.events), dict(self.checkpoints),
                        len(cluster.nodes))

    def restore(self, cluster, snapshot: Snapshot) -> None:
        self.check_idle("c.restore()")
        if not isinstance(snapshot, Snapshot) or snapshot._owner != self.token \
                or snapshot._n != len(cluster.nodes) or not snapshot._checkpoints:
            raise InvalidArgument("restore() takes a snapshot made by this cluster's snapshot() "
                                  "(a snapshot of another cluster, or a copy of one, cannot be "
                                  "restored here)")
        self.events[:] = snapshot._history
        cluster._load(snapshot._state)
        self.checkpoints = dict(snapshot._checkpoints)
        self._recount()


def state_stamp(nodes: dict, kv_hashes: dict | None = None) -> tuple:
    """A cheap summary of every server's state, to notice changes made outside events.

    A server's StateMachine counts its changes, so its version stands for its content. A
    plain dict put in its place costs a hash of its size, so the stamp taken after every event keeps
    ``kv_hashes`` (server id -> ((id of its kv, last_applied, size), hash)) and rehashes only a
    state an applied entry (or a new dict) changed. The stamp that checks for tampering
    passes none and hashes afresh, so an edit by hand between events still shows.
    """
    out = []
    for n in nodes.values():
        kv, log = n.kv, n.log
        version = getattr(kv, "version", None)
        if version is not None:  # a StateMachine counts its own changes: no hashing needed
            kv_hash = version
        elif kv_hashes is None:
            kv_hash = _kv_hash(kv)
        else:
            key = (id(kv), n.last_applied, len(kv))
            known = kv_hashes.get(n.id)
            if known is not None and known[0] == key:
                kv_hash = known[1]
            else:
                kv_hash = _kv_hash(kv)
                kv_hashes[n.id] = (key, kv_hash)
        out.append((_fields(n), log.last_index, log.last_term, id(log), id(kv), kv_hash))
    return tuple(out)


#: The scalar parts of a server's state the stamp compares (read in one C call).
_fields = attrgetter("role", "current_term", "voted_for", "commit_index", "last_applied", "leader_id")


def _kv_hash(kv: dict):
    try:
        return hash(frozenset(kv.items()))
    except TypeError:  # an unhashable value: its size will have to do
        return len(kv)


def events_frame(events):
    """The events as a pandas DataFrame, one row per event, indexed by seq."""
    import pandas as pd

    rows = [{"seq": e.seq, "time": e.time, "kind": e.kind,
             "node": e.args.get("node"), "msg_id": e.args.get("msg_id"),
             "summary": e.summary, "sent": len(e.sent), "reasons": len(e.reasons)}
            for e in events]
    cols = ["seq", "time", "kind", "node", "msg_id", "summary", "sent", "reasons"]
    df = pd.DataFrame(rows, columns=cols).set_index("seq")
    # node and msg_id are blank for most events: keep them whole numbers, not floats
    df = df.astype({"node": "Int64", "msg_id": "Int64"})
    # shown with every summary whole and left-aligned (pandas would cut them at 50 characters)
    return whole_text_class("Events", left=("kind", "summary"))(df)
