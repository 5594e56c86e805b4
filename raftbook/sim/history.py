"""A cluster's history: its recorded events, their checkpoints, and going back in time.

The cluster is deterministic given its seed and its events, so going back means
loading the nearest earlier checkpoint and replaying the events after it, instead
of copying the world after every step.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

from ..errors import HandlerError, InvalidArgument, RaftbookError
from ..explain.reasons import explain_reason

#: A checkpoint every this many events ...
CHECKPOINT_EVERY = 16
#: ... and once automatic runs took this many ticks since the newest one: a checkpoint
#: costs about as much as simulating three ticks, and replaying this many takes a few ms.
CHECKPOINT_TICKS = 100

#: The network actions an Event records, in the order a message meets them.
NETWORK_ACTIONS = ("sent", "duplicated", "delivered", "dropped", "lost_crash", "lost_partition")
#: The reason code a network action also records for the message's receiver.
NETWORK_REASONS = {"dropped": "message_dropped", "lost_crash": "message_lost_crashed",
                   "lost_partition": "message_lost_partition", "duplicated": "message_duplicated"}


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


class Recorder:
    """Records a cluster's events one at a time and takes it back to any earlier one.

    While an event runs, ``sent``, ``reasons`` and ``notes`` collect what it did
    (``reasons`` and ``notes`` stay None when reasons are not kept). The recorder
    holds no reference to its cluster (the cluster passes itself in), so a
    cluster without a safety monitor is freed as soon as it is dropped.
    """

    __slots__ = ("events", "checkpoints", "replaying", "keep_reasons", "sent", "reasons", "notes")

    def __init__(self, keep_reasons: bool):
        self.events: list[Event] = []
        self.checkpoints: dict = {}  # seq -> the cluster's state before event seq
        self.replaying = False
        self.keep_reasons = keep_reasons
        self.sent = self.reasons = self.notes = None

    def record(self, cluster, kind: str, args: dict, fn) -> Event:
        """Carry out one event with ``fn()`` and record it; on any error rewind and raise."""
        seq = len(self.events)
        checkpoints = self.checkpoints
        # Checkpoint every few events, and once automatic runs have covered a stretch of
        # time (runs are costly to replay, so undo and goto should not redo long ones).
        # Checkpoints are added in seq order, so the newest is the last key.
        if seq not in checkpoints and (
                seq % CHECKPOINT_EVERY == 0
                or cluster.now - checkpoints[next(reversed(checkpoints))][0] >= CHECKPOINT_TICKS):
            checkpoints[seq] = cluster._capture()
        self.sent = []
        self.reasons = [] if self.keep_reasons else None
        self.notes = [] if self.keep_reasons else None
        time = cluster.now
        try:
            summary, stats = fn()
        except RaftbookError:
            self._abort(cluster, seq)
            raise
        except Exception as exc:
            self._abort(cluster, seq)
            raise HandlerError(f"{kind} failed inside the simulation: {type(exc).__name__}: {exc}") from exc
        ev = Event(seq, time, kind, args, summary, tuple(self.sent), tuple(self.reasons or ()),
                   stats, tuple(self.notes or ()))
        self.sent = self.reasons = self.notes = None
        self.events.append(ev)
        return ev

    def _abort(self, cluster, seq: int) -> None:
        self.sent = self.reasons = self.notes = None
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
        self.replaying = True
        try:
            for ev in events[cp:m]:
                cluster.apply_event(ev.kind, ev.args)
        finally:
            self.replaying = False

    def snapshot(self, cluster) -> Snapshot:
        return Snapshot(id(cluster), cluster._capture(), tuple(self.events), dict(self.checkpoints))

    def restore(self, cluster, snapshot: Snapshot) -> None:
        if not isinstance(snapshot, Snapshot) or snapshot._owner != id(cluster):
            raise InvalidArgument("restore() takes a snapshot made by this cluster's snapshot()")
        self.events[:] = snapshot._history
        cluster._load(snapshot._state)
        self.checkpoints = dict(snapshot._checkpoints)


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
    return df.astype({"node": "Int64", "msg_id": "Int64"})
