"""The cluster as compact JSON for the browser picture, and the difference between two states.

:func:`picture_state` describes one state with plain JSON values (roles,
terms, votes, timers, logs, messages in flight with their ids, partitions,
the safety verdict); :func:`state_diff` says what changed from one
description to the next, and :func:`apply_diff` puts it back together (the
browser does the same in ``static/cluster.js``). After a click only the diff
travels: a few hundred bytes for a Tick instead of the whole picture.

Shape of a state::

    {"n": 5, "now": 12, "tick_ms": 10, "leader": 3 | None, "groups": [[1, 2], [3, 4, 5]] | None,
     "cuts": [[1, 3], ...] (links cut between two servers, a partial partition),
     "safety": None | {"property": ..., "text": ...}, "events": 17,
     "servers": {"1": {"role", "term", "vote", "crashed", "commit", "elapsed", "timeout",
                       "left", "votes", "quorum", "next", "match", "group"}, ...},
     "logs": {"1": [[term, "command text"], ...], ...},
     "msgs": {"17": [src, dst, type, kind, label, term, sent_at, deliver_at, lost, description]},
     "more": {"1": {"snap": [index, term], "unsaved": [...], "unsaved_from": index,
                    "config": [ids], "config_old": [ids], "member": false, "learner": true,
                    "transfer": id}, ...}}

A log lists the entries the server still holds: after compaction the first one
has index ``snap[0] + 1`` (``more[id]["snap"]``, the snapshot's last index and
term), not 1. ``more`` holds only what goes beyond Figure 2, and only for the
servers where it says something (a snapshot, unsaved state under explicit
persistence, the configuration once the cluster uses membership changes), so a
plain cluster's state has ``"more": {}``.

A diff is ``{"set": {key: value}, "servers": {id: {field: value}},
"msgs": {id: [...] | None}, "logs": {id: [kept, [entries after kept]]},
"more": {id: {...} | None}}`` with only the parts that changed (a server's
``more`` travels whole).
"""
from __future__ import annotations

from ..core.describe import describe_message
from .graph import cluster_graph, entry_text

_TOP = ("n", "now", "tick_ms", "leader", "groups", "cuts", "safety", "events")


def picture_state(cluster, graph=None) -> dict:
    """One state of ``cluster`` as plain JSON values (see the module docstring)."""
    g = cluster_graph(cluster) if graph is None else graph
    violation = g.graph["violation"]
    groups = g.graph["groups"]
    servers, logs, more = {}, {}, {}
    membership = g.graph.get("membership", False)
    for i, a in g.nodes(data=True):
        servers[str(i)] = {
            "role": a["role"], "term": a["term"], "vote": a["voted_for"], "crashed": a["crashed"],
            "commit": a["commit_index"], "elapsed": a["election_elapsed"],
            "timeout": a["election_timeout"], "left": a["ticks_left"], "votes": list(a["votes"]),
            "quorum": a["quorum"], "group": a["group"],
            "next": {str(k): v for k, v in a["next_index"].items()},
            "match": {str(k): v for k, v in a["match_index"].items()},
        }
        logs[str(i)] = [[e.term, entry_text(e.command)] for e in a["log"]]
        extra = _more(a, membership)
        if extra:
            more[str(i)] = extra
    msgs = {}
    flight = cluster.flight
    for src, dst, key, a in g.edges(keys=True, data=True):
        msg = a["msg"]
        msgs[str(key)] = [src, dst, a["type"], a["kind"], a["label"], msg.term, a["sent_at"],
                          flight[key].deliver_at, a["lost"], describe_message(msg, detail=True)]
    return {
        "n": g.graph["n"], "now": g.graph["now"], "tick_ms": g.graph["tick_ms"],
        "leader": g.graph["leader"],
        "groups": None if groups is None else [sorted(m) for m in groups],
        "cuts": [list(link) for link in g.graph.get("cuts", ())],
        "safety": None if violation is None else {"property": violation.property,
                                                  "text": str(violation)},
        "events": len(cluster.history),
        "servers": servers, "logs": logs, "msgs": msgs, "more": more,
    }


def _more(a: dict, membership: bool) -> dict:
    """What a server's picture shows beyond Figure 2 (empty for a plain cluster)."""
    out: dict = {}
    if a.get("snapshot_index"):
        out["snap"] = [a["snapshot_index"], a["snapshot_term"]]
    if a.get("unsaved"):
        out["unsaved"] = list(a["unsaved"])
        if a["unsaved_from"] is not None:
            out["unsaved_from"] = a["unsaved_from"]
    if membership:
        out["config"] = list(a["members"])
        if a["members_old"] is not None:
            out["config_old"] = list(a["members_old"])
        out["member"] = a["member"]
        if a["learner"]:
            out["learner"] = True
        if a["transfer_to"] is not None:
            out["transfer"] = a["transfer_to"]
    return out


def _log_diff(old: list, new: list):
    k = 0
    stop = min(len(old), len(new))
    while k < stop and old[k] == new[k]:
        k += 1
    if k == len(old) == len(new):
        return None
    return [k, new[k:]]


def state_diff(old: dict, new: dict) -> dict:
    """What changed from ``old`` to ``new`` (two :func:`picture_state` results); {} if nothing."""
    out: dict = {}
    top = {k: new[k] for k in _TOP if old.get(k) != new[k]}
    if top:
        out["set"] = top
    servers = {}
    for i, s in new["servers"].items():
        before = old["servers"].get(i)
        if before is None:
            servers[i] = s
            continue
        changed = {f: v for f, v in s.items() if before.get(f) != v}
        if changed:
            servers[i] = changed
    for i in old["servers"]:
        if i not in new["servers"]:
            servers[i] = None
    if servers:
        out["servers"] = servers
    msgs = {k: v for k, v in new["msgs"].items() if old["msgs"].get(k) != v}
    msgs.update({k: None for k in old["msgs"] if k not in new["msgs"]})
    if msgs:
        out["msgs"] = msgs
    logs = {}
    for i, log in new["logs"].items():
        d = _log_diff(old["logs"].get(i, []), log)
        if d is not None:
            logs[i] = d
    if logs:
        out["logs"] = logs
    old_more, new_more = old.get("more", {}), new.get("more", {})
    more = {i: m for i, m in new_more.items() if old_more.get(i) != m}
    more.update({i: None for i in old_more if i not in new_more})
    if more:
        out["more"] = more
    return out


def apply_diff(state: dict, diff: dict) -> dict:
    """``state`` with ``diff`` applied (a new dict; ``state`` is left alone)."""
    out = {**state, **diff.get("set", {})}
    servers = dict(state["servers"])
    for i, s in diff.get("servers", {}).items():
        if s is None:
            servers.pop(i, None)
        else:
            servers[i] = {**servers.get(i, {}), **s}
    out["servers"] = servers
    msgs = dict(state["msgs"])
    for k, v in diff.get("msgs", {}).items():
        if v is None:
            msgs.pop(k, None)
        else:
            msgs[k] = v
    out["msgs"] = msgs
    logs = dict(state["logs"])
    for i, (kept, tail) in diff.get("logs", {}).items():
        logs[i] = logs.get(i, [])[:kept] + tail
    out["logs"] = logs
    for i in list(logs):
        if i not in servers:
            logs.pop(i)
    more = dict(state.get("more", {}))
    for i, m in diff.get("more", {}).items():
        if m is None:
            more.pop(i, None)
        else:
            more[i] = m
    out["more"] = {i: m for i, m in more.items() if i in servers}
    return out
