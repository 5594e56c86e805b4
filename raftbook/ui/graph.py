"""One state of a cluster as a networkx graph: the model every picture is drawn from.

Servers are nodes, messages in flight are edges (keyed by envelope id), and
every attribute a picture needs is on them, so a drawing never reads the
cluster itself.
"""
from __future__ import annotations

import networkx as nx

from ..check.safety import check_safety
from ..core.describe import command_text
from ..core.messages import (AppendEntries, AppendEntriesReply, InstallSnapshot,
                             InstallSnapshotReply, RequestVote, RequestVoteReply, TimeoutNow)
from ..core.roles import Role
from ..errors import InvalidArgument, SafetyViolation
from ..sim.cluster import Cluster


def _kind(msg) -> str:
    t = type(msg)
    if t is RequestVoteReply:
        if msg.pre_vote:
            return "pre-vote granted" if msg.vote_granted else "pre-vote denied"
        return "vote granted" if msg.vote_granted else "vote denied"
    if t is RequestVote and msg.pre_vote:
        return "PreVote"
    if t is AppendEntriesReply:
        return "append ok" if msg.success else "append failed"
    return t.__name__


def message_label(msg) -> str:
    """A short label for an arrow: RV, vote yes/no, AE 3 / AE hb, ok 5 / fail, snap 6,
    PV / PV yes / PV no (a pre-vote round), TimeoutNow."""
    t = type(msg)
    if t is AppendEntries:
        return f"AE {len(msg.entries)}" if msg.entries else "AE hb"
    if t is AppendEntriesReply:
        return f"ok {msg.match_index}" if msg.success else "fail"
    if t is RequestVoteReply:
        if msg.pre_vote:
            return "PV yes" if msg.vote_granted else "PV no"
        return "vote yes" if msg.vote_granted else "vote no"
    if t is RequestVote and msg.pre_vote:
        return "PV"
    if t is TimeoutNow:
        return "TimeoutNow"
    if t is InstallSnapshot:
        return f"snap {msg.last_included_index}"
    if t is InstallSnapshotReply:
        return f"snap ok {msg.match_index}"
    return "RV"


def ids_text(ids) -> str:
    """``{1,2,4}``: a configuration as the picture writes it."""
    return "{" + ",".join(str(i) for i in sorted(ids)) + "}"


def entry_text(command) -> str:
    """A log entry's command as the picture writes it: ``x=1``, ``no-op``, ``config {1,2,4}``
    (a configuration entry), ``config {1,2,4} (joint)`` (joint consensus: new and old)."""
    if isinstance(command, tuple) and command and command[0] == "config":
        try:
            if len(command) == 3 and command[2] is not None:
                return f"config {ids_text(command[1])} (joint)"
            return f"config {ids_text(command[1])}"
        except TypeError:
            pass
    return command_text(command)


def unsaved_from(node):
    """The first log index a crash now would lose (explicit persistence), or None."""
    if "log" not in node.unsaved:
        return None
    saved = getattr(node, "_saved", None)
    log = node.log
    if saved is None:
        return log.first_index
    entries, length, _trunc, snap, _snap_term = saved[2]
    if snap != log.snapshot_index:
        return log.first_index if log.last_index >= log.first_index else None
    for e in log:
        k = e.index - snap - 1
        if k >= length or (entries[k] is not e and entries[k] != e):
            return e.index
    return None


def _safety(cluster):
    try:
        check_safety(cluster)
    except SafetyViolation as exc:
        return exc
    return None


def cluster_graph(cluster) -> nx.MultiDiGraph:
    """The cluster now as a networkx graph: servers are nodes, messages in flight are edges.

    Node attributes: ``role``, ``term``, ``voted_for``, ``crashed``, ``group``
    (index into ``cluster.groups``, or None), ``log`` (tuple of entries),
    ``commit_index``, ``last_applied``, ``next_index``, ``match_index``,
    ``leader_id``, ``votes``, ``quorum``, ``election_elapsed``,
    ``election_timeout``, ``ticks_left``. Edges are keyed by envelope id with
    ``msg``, ``type``, ``kind``, ``label``, ``sent_at`` and ``lost`` (None, or
    why the message would be lost if delivered now: "partition" or "crashed").
    Graph attributes: ``now``, ``leader``, ``groups``, ``violation``, ``tick_ms``,
    ``membership`` (True once the cluster uses membership changes: every server's
    configuration is then drawn).

    Beyond Figure 2, nodes also carry ``snapshot_index`` / ``snapshot_term`` (0 when
    none; ``log`` holds only the entries after it, each with its real index),
    ``unsaved`` (explicit persistence: the fields a crash now would lose) and
    ``unsaved_from`` (the first log index it would lose, or None), ``members`` /
    ``members_old`` (the configuration the server uses; old is None outside joint
    consensus), ``member`` (whether the server is in it), ``learner`` (the leader
    is catching it up before adding it) and ``transfer_to`` (a leader handing over).
    """
    if not isinstance(cluster, Cluster):
        raise InvalidArgument(f"expected a raftbook Cluster, got {type(cluster).__name__}")
    groups = cluster.groups
    group_of = {} if groups is None else {i: k for k, g in enumerate(groups) for i in g}
    crashed = cluster.crashed
    nodes = cluster.nodes
    reconfig = any(node.reconfig for node in nodes.values())
    top = cluster.leader
    learners = nodes[top].learners if top is not None else {}
    cuts = cluster.cuts
    g = nx.MultiDiGraph(now=cluster.now, leader=top, groups=groups, cuts=tuple(sorted(cuts)),
                        violation=_safety(cluster), tick_ms=cluster.config.tick_ms,
                        n=cluster.n, membership=reconfig)
    for i, node in nodes.items():
        is_leader = node.role is Role.LEADER
        members, old = node.members, node.members_old
        g.add_node(i, role=node.role.value, term=node.current_term, voted_for=node.voted_for,
                   crashed=i in crashed, group=group_of.get(i), log=tuple(node.log),
                   commit_index=node.commit_index, last_applied=node.last_applied,
                   next_index=node.next_index if is_leader else {},
                   match_index=node.match_index if is_leader else {},
                   leader_id=node.leader_id, votes=tuple(sorted(node.votes)), quorum=node.quorum,
                   election_elapsed=node.election_elapsed, election_timeout=node.election_timeout,
                   ticks_left=node.ticks_until_timeout,
                   snapshot_index=node.snapshot_index, snapshot_term=node.snapshot_term,
                   unsaved=tuple(node.unsaved), unsaved_from=unsaved_from(node),
                   members=tuple(sorted(members)), members_old=None if old is None else tuple(sorted(old)),
                   member=i in members or (old is not None and i in old),
                   learner=i in learners, transfer_to=node.transfer_to if is_leader else None)
    add = g.add_edge
    gid = group_of.get
    for env in cluster.flight.values():
        msg = env.msg
        src, dst = msg.src, msg.dst
        if dst in crashed:
            lost = "crashed"
        elif (groups is not None and gid(src) != gid(dst)) or \
                (cuts and (min(src, dst), max(src, dst)) in cuts):
            lost = "partition"
        else:
            lost = None
        add(src, dst, key=env.id, msg=msg, type=type(msg).__name__, kind=_kind(msg),
            label=message_label(msg), sent_at=env.sent_at, lost=lost)
    return g
