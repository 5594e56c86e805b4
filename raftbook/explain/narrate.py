"""A narrated history: the reasons behind every step of a run, in plain English.

``explain(c)`` is a pandas DataFrame with one row per reason (what server, at
which event and tick, which rule, the sentence); ``explain_text(c)`` is the same
story as readable text grouped by event; ``explain_violation(c)`` quotes the
steps that led to a safety violation, the way a grader reports it.

A cluster made with ``record_reasons=False`` kept no reasons; these functions
then replay its history (it is deterministic) with reasons on, and read that.
"""
from __future__ import annotations

from ..check.safety import check_safety
from ..core.messages import command_from_json
from ..errors import InvalidArgument, SafetyViolation
from ..frames import whole_text_class
from ..sim.cluster import Cluster
from .reasons import REASON_CODES, REASON_FAMILIES, explain_reason, families_of, rule_of

#: The kinds of events a cluster records (the ``event`` column).
EVENT_KINDS = ("tick", "timeout", "deliver", "drop", "duplicate", "crash", "restart", "partition",
               "heal", "cut", "propose", "run", "run_until")

COLUMNS = ["seq", "time", "node", "event", "code", "sentence", "family", "rule", "fields"]
_SHOWN = ["seq", "time", "node", "event", "code", "sentence"]


# -- the reasons of a run ----------------------------------------------------------

def reasoned_history(cluster) -> list:
    """The cluster's history with reasons: its own, or a replay with reasons on."""
    _check_cluster(cluster)
    if cluster.record_reasons or not cluster.history:
        return cluster.history
    kwargs = dict(n=cluster.n, seed=cluster.seed, config=cluster.config,
                  handlers=cluster.handlers or None, record_reasons=True, monitor=False)
    if cluster.initial:
        nodes = {int(i): {**st, "log": [(t, command_from_json(cmd)) for t, cmd in st["log"]]}
                 for i, st in cluster.initial.items()}
        replica = Cluster.from_state(nodes, **kwargs)
    else:
        replica = Cluster(**kwargs)
    replica._replaying = True
    for ev in cluster.history:
        replica.apply_event(ev.kind, ev.args)
    return replica.history


def _check_cluster(cluster):
    if not isinstance(cluster, Cluster):
        raise InvalidArgument(f"explain takes a raftbook Cluster, got {type(cluster).__name__}")


def _window(history, start, end):
    for name, v in (("start", start), ("end", end)):
        if v is not None and (not isinstance(v, int) or isinstance(v, bool)):
            raise InvalidArgument(f"{name} must be an event seq (a whole number, as in c.history[seq]) "
                                  f"or None; got {v!r}")
    return range(len(history))[start:end]


def _node_filter(cluster, node):
    if node is None:
        return None
    ids = list(node) if isinstance(node, (list, tuple, set, frozenset)) else [node]
    if not ids:
        raise InvalidArgument("node must be a server id or a non-empty list of ids")
    for i in ids:
        cluster.check_node(i)
    return set(ids)


def _kind_filter(kind):
    if kind is None:
        return None
    kinds = list(kind) if isinstance(kind, (list, tuple, set, frozenset)) else [kind]
    if not kinds:
        raise InvalidArgument("kind must be a reason code, a family or an event kind (or a list)")
    for k in kinds:
        if not isinstance(k, str) or (k not in REASON_FAMILIES and k not in REASON_CODES
                                      and k not in EVENT_KINDS):
            raise InvalidArgument(
                f"unknown kind {k!r}: use a family ({', '.join(REASON_FAMILIES)}), an event kind "
                f"({', '.join(EVENT_KINDS)}) or a reason code (rb.REASON_CODES)")
    return set(kinds)


def _matches(reason, event_kind, kinds) -> bool:
    if kinds is None:
        return True
    if reason.code in kinds or event_kind in kinds:
        return True
    return any(f in kinds for f in families_of(reason))


def _rows(cluster, node, kind, start, end):
    """(event, reason) pairs that pass the filters, oldest first."""
    nodes = _node_filter(cluster, node)
    kinds = _kind_filter(kind)
    history = reasoned_history(cluster)
    for seq in _window(history, start, end):
        ev = history[seq]
        for r in ev.reasons:
            if (nodes is None or r.node in nodes) and _matches(r, ev.kind, kinds):
                yield ev, r


# -- the table ---------------------------------------------------------------------

def _shown(frame):
    import pandas as pd
    cols = [c for c in _SHOWN if c in frame.columns]
    view = pd.DataFrame(frame)[cols] if cols else pd.DataFrame(frame)
    if "node" in view.columns:
        view = view.assign(node=[f"S{i}" if isinstance(i, int) else i for i in view["node"]])
    return view


def _plain(frame) -> bool:
    """A frame derived from an explanation (a groupby, a describe) shows as any DataFrame."""
    return "sentence" not in frame.columns or frame.index.nlevels != 1 or frame.index.name is not None


def _explanation_class():
    return whole_text_class("Explanation", _shown, _plain, empty="(no reasons match)",
                            left=("event", "code", "sentence"))


_EXPLANATION = None


def _frame(rows):
    global _EXPLANATION
    if _EXPLANATION is None:
        _EXPLANATION = _explanation_class()
    return _EXPLANATION(rows, columns=COLUMNS)


def explain(cluster, node=None, kind=None, start=None, end=None):
    """Why each step happened: a pandas DataFrame with one row per reason, oldest first.

    Columns: ``seq`` (the event's index in ``c.history``), ``time`` (the tick),
    ``node``, ``event`` (the event kind), ``code``, ``sentence`` (plain English),
    ``family`` (the families of the code, comma-separated), ``rule`` (the rule of
    the paper behind it) and ``fields`` (the reason's data).

    ``node``: a server id or a list of them. ``kind``: a reason code
    ("vote_granted"), a family ("vote", "append", "commit", "election", ...; see
    ``rb.REASON_FAMILIES``), an event kind ("deliver", "run", ...), or a list of
    these. ``start``/``end`` slice the history by event seq, as ``c.history[start:end]``.
    """
    rows = []
    for ev, r in _rows(cluster, node, kind, start, end):
        rows.append({"seq": ev.seq, "time": r.time, "node": r.node, "event": ev.kind,
                     "code": r.code, "sentence": explain_reason(r),
                     "family": ", ".join(families_of(r)), "rule": rule_of(r),
                     "fields": dict(r.fields)})
    return _frame(rows)


def explain_text(cluster, node=None, kind=None, start=None, end=None) -> str:
    """The same story as :func:`explain`, as text: each event, then its reasons indented.

    Inside an automatic run the reasons are grouped by tick.
    """
    lines = []
    current = None
    tick = None
    for ev, r in _rows(cluster, node, kind, start, end):
        if ev.seq != current:
            current, tick = ev.seq, None
            lines.append(f"#{ev.seq} t={ev.time} {ev.kind}: {ev.summary}")
        if ev.kind in ("run", "run_until") and r.time != tick:
            tick = r.time
            lines.append(f"  t={tick}")
        indent = "    " if ev.kind in ("run", "run_until") else "  "
        lines.append(indent + explain_reason(r))
    if not lines:
        return "(no reasons match)"
    return "\n".join(lines)


# -- safety violations, in the paper's words ------------------------------------------

def _suspect(reason) -> bool:
    return "suspect" in families_of(reason) or " although " in explain_reason(reason)


def _covers(reason, index) -> bool:
    """Does this reason touch log index ``index``?"""
    f = reason.fields
    code = reason.code
    if code in ("entries_appended", "entries_already_present"):
        return f["first"] <= index <= f["last"]
    if code in ("conflict_truncated", "entries_truncated_without_conflict"):
        return f["from_index"] <= index
    if code in ("proposal_appended", "noop_appended", "applied"):
        return f["index"] == index
    if code == "commit_advanced":
        return f["old"] < index <= f["new"]
    return False


def _key_reason(v, reason) -> bool:
    """Is this one of the steps a violation of ``v.property`` is made of?"""
    nodes, term, index = set(v.nodes), v.term, v.index
    f, code = reason.fields, reason.code
    prop = v.property
    if prop == "election_safety":
        if code == "became_leader":
            return reason.node in nodes and f["term"] == term
        if code == "vote_granted":
            return f["term"] == term and f["candidate"] in nodes
        return False
    if prop == "leader_completeness":
        leader = v.nodes[-1]
        if code == "became_leader":
            return reason.node == leader and f["term"] == term
        if code == "vote_granted":
            return f["term"] == term and f["candidate"] == leader
        return index is not None and reason.node in nodes and _covers(reason, index)
    if prop == "leader_append_only":
        return reason.node in nodes and (code in ("conflict_truncated", "entries_truncated_without_conflict")
                                         or (code == "became_leader" and f["term"] == term))
    # log matching, state machine safety: what happened at that index on those servers
    if code == "became_leader":
        return f["term"] == term
    return index is not None and reason.node in nodes and _covers(reason, index)


def _find_violation(cluster, violation):
    if violation is not None:
        if not isinstance(violation, SafetyViolation):
            raise InvalidArgument(f"violation must be a raftbook.SafetyViolation (or None for the "
                                  f"cluster's own); got {type(violation).__name__}")
        return violation
    if cluster.violation is not None:
        return cluster.violation
    try:
        check_safety(cluster, full=True)
    except SafetyViolation as exc:
        return exc
    return None


def explain_violation(cluster, violation=None, last: int = 8) -> str:
    """The steps that led to a safety violation, quoted as reasons with the rules they rest on.

    ``violation`` defaults to the first one the cluster's monitor saw (or what
    ``check_safety(c, full=True)`` finds). At most ``last`` steps are quoted:
    the ones that make up the violation (the votes that elected both leaders,
    the commit and the election that lost an entry, ...) and the steps that
    broke a rule of Figure 2 (marked ``!``), most recent first kept, shown in order.
    """
    _check_cluster(cluster)
    if isinstance(last, bool) or not isinstance(last, int) or last < 1:
        raise InvalidArgument(f"last must be a whole number >= 1 (how many steps to quote); got {last!r}")
    v = _find_violation(cluster, violation)
    if v is None:
        return "No safety property is broken in this run."
    history = reasoned_history(cluster)
    upto = v.event if isinstance(v.event, int) and 0 <= v.event < len(history) else len(history) - 1
    when = v.time if isinstance(v.time, int) else None
    steps = []
    for ev in history[:upto + 1]:
        for r in ev.reasons:
            if ev.seq == upto and when is not None and r.time > when:
                break
            steps.append((ev, r))
    involved = set(v.nodes)
    key = [k for k, (ev, r) in enumerate(steps) if _key_reason(v, r)]
    suspect = [k for k, (ev, r) in enumerate(steps)
               if _suspect(r) and (r.node in involved or k in key or _mentions(r, involved))]
    chosen = sorted(set(suspect))[-last:]
    room = last - len(chosen)
    if room > 0:
        chosen = sorted(set(chosen) | set([k for k in key if k not in chosen][-room:]))
    room = last - len(chosen)
    if room > 0:  # fill with the latest steps of the servers involved
        recent = [k for k, (ev, r) in enumerate(steps) if r.node in involved and k not in chosen]
        chosen = sorted(set(chosen) | set(recent[-room:]))
    where = f"t={v.time}" if v.time is not None else "now"
    if isinstance(v.event, int):
        where += f", event #{v.event}"
    lines = [f"{v} ({v.property.replace('_', ' ')}, {where})"]
    if not chosen:
        lines.append("No reasons were recorded for the servers involved.")
        return "\n".join(lines)
    lines.append("The steps that led there (! marks a step that broke a rule of the paper):")
    rules = []
    for k in chosen:
        ev, r = steps[k]
        mark = "!" if k in suspect else " "
        lines.append(f" {mark} #{ev.seq} t={r.time}: {explain_reason(r)}")
        if k in suspect and rule_of(r) and rule_of(r) not in rules:
            rules.append(rule_of(r))
    for rule in rules:
        lines.append(f"Rule: {rule}.")
    return "\n".join(lines)


def _mentions(reason, nodes) -> bool:
    f = reason.fields
    return any(f.get(k) in nodes for k in ("candidate", "leader", "voter", "follower", "sender"))
