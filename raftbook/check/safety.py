"""The five safety properties of the Raft paper (Figure 3), checked incrementally.

A :class:`SafetyMonitor` watches every step a cluster takes and keeps just
enough history to judge each property in O(change) time:

- election safety: the leader seen for each term;
- leader append-only: each sitting leader's log length and truncation count;
- log matching: for every (index, term) ever seen, its command and the term of
  the entry before it (equal everywhere iff all logs match, by induction);
- leader completeness: the committed entries and the term they committed in;
- state machine safety: the entry applied at each index; a snapshot must be
  the state machine of the committed entries up to its last index.

With log compaction the monitor never reads an entry a server has compacted:
it looks at the entries that follow a snapshot, and judges the snapshot itself
against what it saw committed (its last term, and the key-value state that
applying the committed commands gives, computed once per snapshot index).

The first violation is kept (with the tick and event it happened at) and
raised by :func:`check_safety`. ``check_safety(c, full=True)`` also re-derives
what it can from the current state alone, a cross-check of the monitor.

What counts as broken, and the sentence saying so, is written once in
:mod:`raftbook.check.properties`; this module decides what to remember and
when to ask.
"""
from __future__ import annotations

import itertools

from ..errors import InvalidArgument, SafetyViolation
from ..core.kv import apply_command
from ..core.roles import Role
from .properties import (election_safety, entry_conflict, leader_append_only, leader_completeness,
                         logs_disagree, snapshot_disagrees, state_machine_safety)

_LEADER = Role.LEADER


class SafetyMonitor:
    __slots__ = ("cluster", "leaders", "entries", "committed", "applied", "leader_logs",
                 "seen_commit", "seen_applied", "violation", "seen_snapshot", "_kv_at")

    def __init__(self, cluster):
        self.cluster = cluster
        self.leaders: dict = {}       # term -> leader id
        self.entries: dict = {}       # (index, term) -> (node id, command, prev_term)
        self.committed: dict = {}     # index -> (term, command, commit_term, node id)
        self.applied: dict = {}       # index -> (node id, term, command)
        self.leader_logs: dict = {}   # node id -> (term, last_index, truncations)
        self.seen_commit: dict = {}   # node id -> commit_index last looked at
        self.seen_applied: dict = {}  # node id -> last_applied last looked at
        self.violation: SafetyViolation | None = None
        self.seen_snapshot: dict = {}  # node id -> snapshot index last judged
        self._kv_at: dict = {}  # index -> the state machine of the committed entries 1..index
        for node in cluster.nodes.values():
            self.observe(node)

    # -- snapshots ---------------------------------------------------------------
    def _export(self):
        # leaders, entries, committed and applied only ever gain keys (a record is never
        # rewritten or removed), so a dict and its length stand for it at this moment: O(1)
        # per checkpoint instead of a copy that grows with the run.
        return ((self.leaders, len(self.leaders)), (self.entries, len(self.entries)),
                (self.committed, len(self.committed)), (self.applied, len(self.applied)),
                dict(self.leader_logs), dict(self.seen_commit), dict(self.seen_applied),
                self.violation, dict(self.seen_snapshot))

    def _import(self, s):
        (leaders, entries, committed, applied, leader_logs, seen_commit, seen_applied,
         self.violation, seen_snapshot) = s
        self.seen_snapshot = dict(seen_snapshot)
        self._kv_at = {}  # derived from committed, which a rewind may shorten
        self.leaders, self.entries = _prefix(*leaders), _prefix(*entries)
        self.committed, self.applied = _prefix(*committed), _prefix(*applied)
        self.leader_logs, self.seen_commit = dict(leader_logs), dict(seen_commit)
        self.seen_applied = dict(seen_applied)

    # -- observing -----------------------------------------------------------------
    def _fail(self, violation):
        """Keep the first violation, stamped with the tick and event it was seen at."""
        c = self.cluster
        violation.time, violation.event = c.now, len(c.history)
        self.violation = violation

    def node_restarted(self, node):
        self.seen_commit[node.id] = 0
        self.seen_applied[node.id] = 0
        self.leader_logs.pop(node.id, None)
        self.seen_snapshot[node.id] = node.log.snapshot_index  # judged when it was taken
        self.observe(node)

    def observe(self, node) -> None:
        """Look at what changed on ``node`` since the last look."""
        nid = node.id
        log = node.log
        # Fast path, most steps: nothing this monitor judges has changed since the last look.
        if log.changed_from is None and node.commit_index == self.seen_commit.get(nid, 0) \
                and node.last_applied == self.seen_applied.get(nid, 0) and self.violation is None:
            if node.role is not _LEADER:
                if nid not in self.leader_logs:
                    return
            elif self.leader_logs.get(nid) == (node.current_term, log.last_index, log.truncations) \
                    and self.leaders.get(node.current_term) == nid:
                return
        if self.violation is not None:
            log.changed_from = None
            return
        term = node.current_term
        is_leader = node.role is _LEADER

        # Election safety and leader completeness for a newly seen leader.
        if is_leader:
            first = self.leaders.get(term)
            if first is None:
                self.leaders[term] = nid
                if not self._leader_has_committed(node):
                    return
            else:
                v = election_safety(term, first, nid)
                if v is not None:
                    self._fail(v)
                    return

        # Leader append-only: a sitting leader never deletes or overwrites entries.
        prev = self.leader_logs.get(nid)
        if prev is not None and is_leader and prev[0] == term:
            v = leader_append_only(nid, term, prev[1], log.last_index, log.truncations != prev[2])
            if v is not None:
                self._fail(v)
                return
        if is_leader:
            self.leader_logs[nid] = (term, log.last_index, log.truncations)
        elif prev is not None:
            del self.leader_logs[nid]

        # Log matching, over the entries that changed.
        start = log.changed_from
        if start is not None:
            log.changed_from = None
            start = max(start, log.snapshot_index + 1)  # compacted entries were judged before
            entries = self.entries
            prev_term = log.term_at(start - 1)
            for e in log.entries_from(start):
                key = (e.index, e.term)
                rec = entries.get(key)
                if rec is None:
                    entries[key] = (nid, e.command, prev_term)
                else:
                    v = entry_conflict(e.index, e.term, rec, (nid, e.command, prev_term))
                    if v is not None:
                        self._fail(v)
                        return
                prev_term = e.term

        # State machine safety: one entry applied per index, everywhere.
        seen = self.seen_applied.get(nid, 0)
        if node.last_applied > seen:
            applied = self.applied
            # What a snapshot covers is judged with the snapshot (below).
            snap = log.snapshot_index
            for i in range((seen if seen >= snap else snap) + 1, node.last_applied + 1):
                t = log.term_at(i)
                if t is None:
                    break
                cmd = log[i].command
                rec = applied.get(i)
                if rec is None:
                    applied[i] = (nid, t, cmd)
                else:
                    v = state_machine_safety(i, rec, (nid, t, cmd))
                    if v is not None:
                        self._fail(v)
                        return
        self.seen_applied[nid] = node.last_applied

        # Newly committed entries: record them; sitting leaders of later terms must hold them.
        seen = self.seen_commit.get(nid, 0)
        if node.commit_index > seen:
            committed = self.committed
            new = []
            snap = log.snapshot_index
            for i in range((seen if seen >= snap else snap) + 1, node.commit_index + 1):
                if i in committed:
                    continue
                t = log.term_at(i)
                if t is None:
                    break
                committed[i] = (t, log[i].command, term, nid)
                new.append(i)
            if new:
                for other in self.cluster.nodes.values():
                    if other.role is Role.LEADER and other.current_term > term and \
                            other.id not in self.cluster.crashed:
                        if not self._leader_has_committed(other, new):
                            return
        self.seen_commit[nid] = node.commit_index

        # A new snapshot: it must be the state machine of the committed log up to its index.
        # (node_restarted records the snapshot a restart brings back, so 0 needs no look)
        snap = log.snapshot_index
        if snap and snap != self.seen_snapshot.get(nid, 0):
            self.seen_snapshot[nid] = snap
            v = self._judge_snapshot(node)
            if v is not None:
                self._fail(v)

    def _judge_snapshot(self, node):
        log = node.log
        index, term = log.snapshot_index, log.snapshot_term
        rec = self.committed.get(index)
        data = node.snapshot_data or {}
        kv = {k: v for k, v in data.get("kv", ())}
        expected = None if rec is None else self._committed_kv(index)
        if rec is not None and expected is None:
            rec = None  # an index before it was never committed
        return snapshot_disagrees(node.id, index, term, rec and rec[:2], kv, expected)

    def _committed_kv(self, index):
        """The key-value state of applying the committed commands 1..index (None: a gap)."""
        memo = self._kv_at
        kv = memo.get(index)
        if kv is not None:
            return kv
        start = max((k for k in memo if k < index), default=0)
        kv = dict(memo[start]) if start else {}
        committed = self.committed
        for i in range(start + 1, index + 1):
            rec = committed.get(i)
            if rec is None:
                return None
            apply_command(kv, rec[1])
        memo[index] = kv
        return kv

    def _leader_has_committed(self, leader, indexes=None) -> bool:
        lterm = leader.current_term
        committed = self.committed
        term_at = leader.log.term_at
        snap = leader.log.snapshot_index
        for i in (indexes if indexes is not None else committed):
            t, cmd, cterm, who = committed[i]
            # An entry inside the leader's snapshot is held: the snapshot was judged against it.
            found = t if i <= snap else term_at(i)
            v = leader_completeness(i, t, cterm, leader.id, lterm, found, seen_on=who)
            if v is not None:
                self._fail(v)
                return False
        return True


def _prefix(records: dict, count: int) -> dict:
    """The first ``count`` records of an insert-only dict, as a new dict."""
    return dict(itertools.islice(records.items(), count))


def check_safety(cluster, full: bool = False) -> None:
    """Raise :class:`SafetyViolation` if the cluster broke one of the five properties.

    With the cluster's monitor on (the default) this is O(1): the monitor has
    already looked at every step. ``full=True`` also checks what can be seen
    in the current state alone (and is what runs when the monitor is off).
    """
    # Any simulated cluster will do (the checkers sit below the simulator and never import it).
    if not all(hasattr(cluster, name) for name in ("nodes", "monitor", "now", "history")):
        raise InvalidArgument(f"check_safety takes a raftbook Cluster, got {type(cluster).__name__}")
    monitor = cluster.monitor
    if monitor is not None and monitor.violation is not None:
        raise monitor.violation
    # State changed outside the recorded events (c.nodes[2].role = ..., an edited log):
    # the monitor never saw it, so look at everything the state shows.
    tampered = getattr(cluster, "tampered", None)
    changed = bool(tampered()) if callable(tampered) else False
    if full or monitor is None or changed:
        check_state(cluster, deep=full or changed)


def _judge_node(n):
    """What one server's own state shows broken: its log's terms, commit index, applied state."""
    log = list(n.log)
    last = 0
    for e in log:
        if e.term < last or e.term > n.current_term:
            return SafetyViolation(
                "log_matching", f"S{n.id}'s log has an entry of term {e.term} at index {e.index} "
                f"after term {last}, in current term {n.current_term}: terms never decrease along a "
                "log, and no entry is newer than its server's term", nodes=(n.id,), term=e.term,
                index=e.index)
        last = e.term
    if not 0 <= n.commit_index <= n.log.last_index or n.last_applied > n.commit_index:
        return SafetyViolation(
            "state_machine_safety", f"S{n.id} has commit_index {n.commit_index} and last_applied "
            f"{n.last_applied} with {n.log.last_index} log entries: it cannot have committed or "
            "applied entries it does not hold", nodes=(n.id,), index=n.commit_index)
    if getattr(n, "snapshot_index", 0) or (log and log[0].index != 1):
        return None  # the applied state starts from a snapshot: nothing to replay it from
    kv = {}
    try:
        for e in log[:n.last_applied]:
            apply_command(kv, e.command)
    except Exception:  # a command the state machine does not know (a membership change, say)
        return None
    if kv != n.kv:
        return SafetyViolation(
            "state_machine_safety", f"S{n.id}'s key-value state {_short(n.kv)} is not what applying "
            f"its log up to index {n.last_applied} gives ({_short(kv)})", nodes=(n.id,),
            index=n.last_applied)
    return None


def _short(x) -> str:
    text = repr(x)
    return text if len(text) <= 80 else text[:77] + "..."


def check_state(cluster, deep: bool = False) -> None:
    """The properties that the current state alone can show broken.

    ``deep`` also checks each server on its own: log terms against its term,
    commit index within its log, and its applied key-value state against its log.
    """
    nodes = list(cluster.nodes.values())
    v = _judge_state(nodes)
    if v is None and deep:
        for n in nodes:
            v = _judge_node(n)
            if v is not None:
                break
    if v is not None:
        v.time = cluster.now
        raise v


def _judge_state(nodes):
    leaders = {}
    for n in nodes:
        if n.role is Role.LEADER:
            v = election_safety(n.current_term, leaders.setdefault(n.current_term, n.id), n.id)
            if v is not None:
                return v
    # Compacted prefixes (log compaction) are judged with the snapshots: compare what follows.
    logs = {n.id: [(e.term, e.command) for e in n.log] for n in nodes}
    for a_i, a in enumerate(nodes):
        for b in nodes[a_i + 1:]:
            base = max(a.log.snapshot_index, b.log.snapshot_index)
            la, lb = logs[a.id], logs[b.id]
            if base:
                pad = [(None, None)] * base
                la = pad + la[base - a.log.snapshot_index:]
                lb = pad + lb[base - b.log.snapshot_index:]
            v = logs_disagree(a.id, la, b.id, lb)
            if v is not None:
                return v
            for i in range(base + 1, min(a.last_applied, b.last_applied) + 1):
                if i > a.log.last_index or i > b.log.last_index:
                    break
                ea, eb = a.log[i], b.log[i]
                v = state_machine_safety(i, (a.id, ea.term, ea.command), (b.id, eb.term, eb.command))
                if v is not None:
                    return v
    for leader in nodes:
        if leader.role is not Role.LEADER:
            continue
        for n in nodes:
            if n.current_term >= leader.current_term:
                continue
            for i in range(n.log.snapshot_index + 1, n.commit_index + 1):
                t = n.log.term_at(i)
                if t is None or i <= leader.log.snapshot_index:
                    continue
                # committed on n, so in a term no later than n's, which is before the leader's
                v = leader_completeness(i, t, None, leader.id, leader.current_term,
                                        leader.log.term_at(i), seen_on=n.id)
                if v is not None:
                    return v
    return None
