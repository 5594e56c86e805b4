"""A cluster's state as pandas DataFrames: what a student compares side by side.

- :func:`logs_table`: every server's log in its own column, one row per index;
- :func:`nodes_table`: one row per server with its Figure 2 state;
- :func:`messages_table`: the messages in flight and whether they can arrive;
- :func:`proposals_table`: client proposals with their status and result.

The event history is ``cluster.events()``.
"""
from __future__ import annotations

import pandas as pd

from ..errors import InvalidArgument, RaftbookError
from ..core.describe import command_text, describe_message
from ..sim.cluster import Cluster
from .graph import entry_text


def _check(cluster):
    if not isinstance(cluster, Cluster):
        raise InvalidArgument(f"expected a raftbook Cluster, got {type(cluster).__name__}")


def logs_table(cluster, *, marks: bool = True) -> pd.DataFrame:
    """The logs side by side: rows are indexes, columns S1..Sn, cells ``"t2 x=1"``.

    With ``marks`` a committed entry ends in ``" ✓"`` (committed on that
    server) so divergence and commit progress read off one table. Empty cells
    (the log is shorter there) are empty strings. Rows are the entries' own
    indexes: after compaction the indexes a server's snapshot covers read
    ``"(snapshot)"``, its last one ``"snapshot ..5, term 2"``.
    """
    _check(cluster)
    longest = max((n.log.last_index for n in cluster.nodes.values()), default=0)
    cols = {}
    for i, node in cluster.nodes.items():
        snap = node.snapshot_index
        col = ["(snapshot)"] * max(0, snap - 1)
        if snap:
            col.append(f"snapshot ..{snap}, term {node.snapshot_term}")
        commit = node.commit_index
        for e in node.log:
            cell = f"t{e.term} {entry_text(e.command)}"
            if marks and e.index <= commit:
                cell += " ✓"
            col.append(cell)
        col.extend([""] * (longest - len(col)))
        cols[f"S{i}"] = col
    df = pd.DataFrame(cols, index=pd.RangeIndex(1, longest + 1, name="index"))
    return df


def nodes_table(cluster) -> pd.DataFrame:
    """One row per server: role, term, vote, log, commit, timer, crashed, group.

    Beyond Figure 2, columns appear when they say something: ``snapshot_index``
    (once a server has compacted), ``unsaved`` (explicit persistence: what a crash
    now would lose) and ``members`` (once the cluster uses membership changes).
    """
    _check(cluster)
    group_of = {} if cluster.groups is None else {
        i: k + 1 for k, g in enumerate(cluster.groups) for i in g}
    rows = []
    for i, n in cluster.nodes.items():
        rows.append({
            "server": f"S{i}", "role": n.role.value, "crashed": i in cluster.crashed,
            "current_term": n.current_term,
            "voted_for": None if n.voted_for is None else f"S{n.voted_for}",
            "log_length": n.log.last_index, "last_log_term": n.log.last_term,
            "commit_index": n.commit_index, "last_applied": n.last_applied,
            "leader_id": None if n.leader_id is None else f"S{n.leader_id}",
            "ticks_until_timeout": n.ticks_until_timeout,
            "group": group_of.get(i),
            "kv": dict(n.kv),
        })
    nodes = cluster.nodes.values()
    if any(n.snapshot_index for n in nodes):
        for row, n in zip(rows, nodes):
            row["snapshot_index"] = n.snapshot_index
    if cluster.config.persistence == "explicit":
        for row, n in zip(rows, nodes):
            row["unsaved"] = ", ".join(n.unsaved)
    if any(n.reconfig for n in nodes):
        for row, n in zip(rows, nodes):
            row["members"] = "{" + ",".join(map(str, sorted(n.members))) + "}" + (
                "" if n.members_old is None else " (joint)")
    df = pd.DataFrame(rows).set_index("server")
    # None (a leader has no timer; no partition) stays missing without turning ints into floats
    for col in ("ticks_until_timeout", "group"):
        df[col] = df[col].astype("Int64")
    return df


def messages_table(cluster) -> pd.DataFrame:
    """The messages in flight, oldest first, with whether each would arrive if delivered now."""
    _check(cluster)
    rows = []
    for env in cluster.flight.values():
        m = env.msg
        if m.dst in cluster.crashed:
            fate = f"lost: S{m.dst} is crashed"
        elif not cluster.can_reach(m.src, m.dst):
            fate = "lost: partition"
        else:
            fate = "arrives"
        rows.append({"id": env.id, "type": type(m).__name__, "src": f"S{m.src}", "dst": f"S{m.dst}",
                     "term": m.term, "sent_at": env.sent_at, "if delivered": fate,
                     "what": describe_message(m, detail=True)})
    cols = ["id", "type", "src", "dst", "term", "sent_at", "if delivered", "what"]
    return pd.DataFrame(rows, columns=cols).set_index("id")


def proposals_table(cluster) -> pd.DataFrame:
    """Client proposals: command, the server and index/term it got, status and result."""
    _check(cluster)
    rows = []
    for p in cluster.proposals:
        status = cluster.status(p)
        result = None
        if status == "committed":
            try:
                result = cluster.result(p)
            except RaftbookError:  # committed, but no server has applied it yet
                result = None
        rows.append({"id": p.id, "command": command_text(p.command), "to": f"S{p.node}",
                     "index": p.index, "term": p.term, "time": p.time, "status": status,
                     "result": result})
    cols = ["id", "command", "to", "index", "term", "time", "status", "result"]
    df = pd.DataFrame(rows, columns=cols)
    df["result"] = pd.Series([r["result"] for r in rows], dtype=object)  # keep 1 as 1, not 1.0
    return df.set_index("id")
