"""One state of a cluster as a networkx graph: the model every picture is drawn from.

Servers are nodes, messages in flight are edges (keyed by envelope id), and
every attribute a picture needs is on them, so a drawing never reads the
cluster itself.
"""
from __future__ import annotations

import networkx as nx

from ..check.safety import check_safety
from ..core.messages import (AppendEntries, AppendEntriesReply, InstallSnapshot,
                             InstallSnapshotReply, RequestVoteReply)
from ..core.roles import Role
from ..errors import InvalidArgument, SafetyViolation
from ..sim.cluster import Cluster


def _kind(msg) -> str:
    t = type(msg)
    if t is RequestVoteReply:
        return "vote granted" if msg.vote_granted else "vote denied"
    if t is AppendEntriesReply:
        return "append ok" if msg.success else "append failed"
    return t.__name__


def message_label(msg) -> str:
    """A short label for an arrow: RV, vote yes/no, AE 3 / AE hb, ok 5 / fail."""
    t = type(msg)
    if t is AppendEntries:
        return f"AE {len(msg.entries)}" if msg.entries else "AE hb"
    if t is AppendEntriesReply:
        return f"ok {msg.match_index}" if msg.success else "fail"
    if t is RequestVoteReply:
        return "vote yes" if msg.vote_granted else "vote no"
    if t is InstallSnapshot:
        return f"snap {msg.last_included_index}"
    if t is InstallSnapshotReply:
        return f"snap ok {msg.match_index}"
    return "RV"


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
    Graph attributes: ``now``, ``leader``, ``groups``, ``violation``, ``tick_ms``.
    """
    if not isinstance(cluster, Cluster):
        raise InvalidArgument(f"expected a raftbook Cluster, got {type(cluster).__name__}")
    groups = cluster.groups
    group_of = {} if groups is None else {i: k for k, g in enumerate(groups) for i in g}
    crashed = cluster.crashed
    g = nx.MultiDiGraph(now=cluster.now, leader=cluster.leader, groups=groups,
                        violation=_safety(cluster), tick_ms=cluster.config.tick_ms,
                        n=cluster.n)
    for i, node in cluster.nodes.items():
        is_leader = node.role is Role.LEADER
        g.add_node(i, role=node.role.value, term=node.current_term, voted_for=node.voted_for,
                   crashed=i in crashed, group=group_of.get(i), log=tuple(node.log),
                   commit_index=node.commit_index, last_applied=node.last_applied,
                   next_index=node.next_index if is_leader else {},
                   match_index=node.match_index if is_leader else {},
                   leader_id=node.leader_id, votes=tuple(sorted(node.votes)), quorum=node.quorum,
                   election_elapsed=node.election_elapsed, election_timeout=node.election_timeout,
                   ticks_left=node.ticks_until_timeout)
    add = g.add_edge
    gid = group_of.get
    for env in cluster.flight.values():
        msg = env.msg
        src, dst = msg.src, msg.dst
        if dst in crashed:
            lost = "crashed"
        elif groups is not None and gid(src) != gid(dst):
            lost = "partition"
        else:
            lost = None
        add(src, dst, key=env.id, msg=msg, type=type(msg).__name__, kind=_kind(msg),
            label=message_label(msg), sent_at=env.sent_at, lost=lost)
    return g
