"""A narrated history: the reasons behind every step of a run, in plain English.

``explain(c)`` is a pandas DataFrame with one row per reason (what server, at
which event and tick, which rule, the sentence); ``explain_text(c)`` is the same
story as readable text grouped by event; ``explain_violation(c)`` quotes the
steps that led to a safety violation, the way a grader reports it.

A cluster made with ``record_reasons=False`` kept no reasons; these functions
then replay its history (it is deterministic) with reasons on, and read that.
"""
from __future__ import annotations

from .errors import InvalidArgument, SafetyViolation
from .reasons import REASON_CODES, REASON_FAMILIES, explain_reason, families_of, rule_of

#: The kinds of events a cluster records (the ``event`` column).
EVENT_KINDS = ("tick", "timeout", "deliver", "drop", "duplicate", "crash", "restart", "partition",
               "heal", "propose", "run", "run_until")

COLUMNS = ["seq", "time", "node", "event", "code", "sentence", "family", "rule", "fields"]
_SHOWN = ["seq", "time", "node", "event", "code", "sentence"]


# -- the reasons of a run ----------------------------------------------------------

def reasoned_history(cluster) -> list:
    """The cluster's history with reasons: its own, or a replay with reasons on."""
    _check_cluster(cluster)
    if cluster.record_reasons or not cluster.history:
        return cluster.history
    from .cluster import Cluster

    kwargs = dict(n=cluster.n, seed=cluster.seed, config=cluster.config,
                  handlers=cluster.handlers or None, record_reasons=True, monitor=False)
    if cluster.initial:
        from .messages import command_from_json
        nodes = {int(i): {**st, "log": [(t, command_from_json(cmd)) for t, cmd in st["log"]]}
                 for i, st in cluster.initial.items()}
        replica = Cluster.from_state(nodes, **kwargs)
    else:
        replica = Cluster(**kwargs)
    replica._replaying = True
    for ev in cluster.history:
        replica._apply(ev.kind, ev.args)
    return replica.history


def _check_cluster(cluster):
    from .cluster import Cluster

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
        cluster._check_node(i)
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

def _explanation_class():
    import pandas as pd

    class Explanation(pd.DataFrame):
        """A DataFrame of reasons whose notebook view shows each sentence in full."""

        _metadata: list = []

        @property
        def _constructor(self):
            return Explanation

        def _shown(self):
            cols = [c for c in _SHOWN if c in self.columns]
            frame = pd.DataFrame(self)[cols] if cols else pd.DataFrame(self)
            if "node" in frame.columns:
                frame = frame.assign(node=[f"S{i}" if isinstance(i, int) else i for i in frame["node"]])
            return frame

        def _repr_html_(self):
            with pd.option_context("display.max_colwidth", None):
                html = self._shown().to_html(index=False, max_rows=pd.get_option("display.max_rows"))
            return html.replace('<table border="1" class="dataframe">',
                                '<table border="1" class="dataframe raftbook-explain" '
                                'style="text-align:left">', 1)

        def __repr__(self):
            if self.empty:
                return "(no reasons match)"
            shown = self._shown()
            left = {}
            for col in ("event", "code", "sentence"):
                if col in shown.columns:
                    width = max(len(str(v)) for v in shown[col])
                    left[col] = (lambda w: lambda v: str(v).ljust(w))(width)
            with pd.option_context("display.max_colwidth", None, "display.width", 10_000):
                return shown.to_string(index=False, formatters=left, justify="left",
                                       max_rows=pd.get_option("display.max_rows"))

    return Explanation


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
