"""Traces: a cluster's seed, config and history as JSON, replayable exactly.

A trace holds events, not states: loading one builds a fresh cluster with the
same seed and config and carries out the same calls, then checks that it
arrived at the fingerprint the trace recorded. Traces are plain JSON, never
pickle, so they are safe to load from anyone.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ..core.config import Config
from ..core.messages import message_to_dict
from ..errors import InvalidArgument, RaftbookError, TraceError

FORMAT = "raftbook-trace"
VERSION = 1
_KINDS = {"tick", "timeout", "deliver", "drop", "duplicate", "crash", "restart", "partition",
          "heal", "cut", "propose", "run", "run_until", "compact",
          "add_server", "remove_server", "change_members", "transfer_leadership"}

# A trace may come from anyone: these limits are checked before any work, so an
# oversized or malformed one is refused at once. Raise them here if you need more.
#: The largest trace file read, in bytes.
MAX_TRACE_BYTES = 64 * 2**20
#: The most events a trace may hold.
MAX_TRACE_EVENTS = 1_000_000
#: The most ticks all of a trace's events may take together.
MAX_TRACE_TICKS = 10_000_000
#: How deeply a trace's JSON may nest.
MAX_TRACE_DEPTH = 32
#: The largest whole number a trace may hold, in bits (about 77 digits).
MAX_TRACE_INT_BITS = 256
#: The longest string a trace may hold.
MAX_TRACE_STRING = 10_000


def _handler_names(cluster) -> dict:
    return {name: f"{getattr(fn, '__module__', '?')}.{getattr(fn, '__qualname__', repr(fn))}"
            for name, fn in cluster.handlers.items()}


def cluster_to_trace(cluster) -> dict:
    return {
        "format": FORMAT,
        "version": VERSION,
        "n": cluster.n,
        "seed": cluster.seed,
        "config": cluster.config.to_dict(),
        "handlers": _handler_names(cluster),
        "initial": None if cluster.initial is None else {str(k): v for k, v in cluster.initial.items()},
        **({} if cluster.initial_members is None else {"members": sorted(cluster.initial_members)}),
        "events": [{"kind": e.kind, "args": e.args} for e in cluster.history],
        "final": {"time": cluster.now, "fingerprint": fingerprint(cluster)},
    }


def save_trace(cluster, path) -> None:
    data = cluster_to_trace(cluster)
    try:
        text = json.dumps(data, indent=1)
    except (TypeError, ValueError) as exc:
        raise InvalidArgument(f"this history holds something that is not JSON data: {exc}") from None
    try:
        Path(path).write_text(text + "\n", encoding="utf-8")
    except TypeError:
        raise TraceError(f"a trace is saved to a file path (a str or pathlib.Path); got {_show(path)}") from None
    except OSError as exc:
        raise TraceError(f"cannot write the trace file {str(path)!r}: {exc.strerror or exc}") from None


def load_trace(path, cls, handlers=None, require_final=True):
    try:
        p = Path(path)
        with p.open("rb") as f:
            raw = f.read(MAX_TRACE_BYTES + 1)
        if len(raw) > MAX_TRACE_BYTES:
            raise TraceError(f"{str(path)!r} is larger than the limit of {MAX_TRACE_BYTES:,} bytes "
                             "for a trace (raftbook.sim.trace.MAX_TRACE_BYTES)")
        text = raw.decode("utf-8")
    except TypeError:
        raise TraceError(f"a trace is loaded from a file path (a str or pathlib.Path); got {_show(path)}") from None
    except UnicodeDecodeError:
        raise TraceError(f"{str(path)!r} is not a JSON trace (it is not UTF-8 text)") from None
    except OSError as exc:
        raise TraceError(f"cannot read the trace file {str(path)!r}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TraceError(f"{str(path)!r} is not a JSON trace (line {exc.lineno}: {exc.msg})") from None
    except RecursionError:
        raise TraceError(f"{str(path)!r} nests deeper than a trace ever does "
                         f"(the limit is {MAX_TRACE_DEPTH} levels)") from None
    except ValueError as exc:  # a number too long to read, say
        raise TraceError(f"{str(path)!r} is not a trace raftbook can read: {str(exc)[:120]}") from None
    return trace_to_cluster(data, cls, handlers=handlers, require_final=require_final)


def _check_data(data) -> None:
    """Depth, numbers and strings within the limits, walked without recursion."""
    stack = [(data, 1)]
    while stack:
        x, depth = stack.pop()
        if depth > MAX_TRACE_DEPTH:
            raise TraceError(f"the trace nests deeper than {MAX_TRACE_DEPTH} levels "
                             "(raftbook.sim.trace.MAX_TRACE_DEPTH)")
        if isinstance(x, dict):
            stack.extend((k, depth + 1) for k in x)
            stack.extend((v, depth + 1) for v in x.values())
        elif isinstance(x, (list, tuple)):
            stack.extend((v, depth + 1) for v in x)
        elif isinstance(x, bool) or x is None:
            pass
        elif isinstance(x, int):
            if x.bit_length() > MAX_TRACE_INT_BITS:
                raise TraceError(f"the trace holds a whole number of more than {MAX_TRACE_INT_BITS} "
                                 "bits (raftbook.sim.trace.MAX_TRACE_INT_BITS)")
        elif isinstance(x, str):
            if len(x) > MAX_TRACE_STRING:
                raise TraceError(f"the trace holds a string longer than {MAX_TRACE_STRING:,} "
                                 "characters (raftbook.sim.trace.MAX_TRACE_STRING)")
        elif isinstance(x, float):
            pass
        else:
            raise TraceError(f"the trace holds a {type(x).__name__}, which is not JSON data")


def _ticks_of(ev: dict) -> int:
    """How many ticks a (validated-shape) event takes, for the limit on the whole trace."""
    kind, args = ev["kind"], ev["args"]
    if kind == "tick":
        return 1
    key = {"run": "ticks", "run_until": "ticks"}.get(kind)
    if key is None:
        return 0
    t = args.get(key)
    if isinstance(t, bool) or not isinstance(t, int) or t < 0:
        raise TraceError(f"a {kind} event of the trace has ticks={str(t)[:40]}: a whole number >= 0")
    return t


def _validate(data):
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise TraceError(f"not a raftbook trace: expected a JSON object with \"format\": \"{FORMAT}\"")
    if data.get("version") != VERSION:
        raise TraceError(f"trace version {data.get('version')!r} is not supported (this raftbook "
                         f"reads version {VERSION})")
    events = data.get("events")
    if not isinstance(events, list):
        raise TraceError("the trace has no \"events\" list")
    if len(events) > MAX_TRACE_EVENTS:
        raise TraceError(f"the trace holds {len(events):,} events, more than the limit of "
                         f"{MAX_TRACE_EVENTS:,} (raftbook.sim.trace.MAX_TRACE_EVENTS)")
    _check_data(data)
    ticks = 0
    for k, ev in enumerate(events):
        if not isinstance(ev, dict) or not isinstance(ev.get("kind"), str) or ev["kind"] not in _KINDS \
                or not isinstance(ev.get("args"), dict):
            raise TraceError(f"event {k} of the trace is malformed: {_show(ev)}")
        ticks += _ticks_of(ev)
        if ticks > MAX_TRACE_TICKS:
            raise TraceError(f"the trace's events take more than {MAX_TRACE_TICKS:,} ticks in all "
                             "(raftbook.sim.trace.MAX_TRACE_TICKS); it is refused unreplayed")
    initial = data.get("initial")
    if initial is not None and not isinstance(initial, dict):
        raise TraceError("the trace's \"initial\" states must be a JSON object of server id -> state")
    final = data.get("final")
    if final is not None and not (isinstance(final, dict) and isinstance(final.get("fingerprint"), str)):
        raise TraceError("the trace's \"final\" entry must be an object with the \"fingerprint\" "
                         "of the state it recorded")
    handlers = data.get("handlers")
    if handlers is not None and not isinstance(handlers, dict):
        raise TraceError("the trace's \"handlers\" must be a JSON object of rule name -> function name")


def _show(x, limit: int = 80) -> str:
    try:
        text = repr(x)
    except Exception:  # an int too long to write, say
        text = f"<a {type(x).__name__}>"
    return text if len(text) <= limit else text[:limit - 3] + "..."


def trace_to_cluster(data, cls, handlers=None, require_final=False):
    """Replay trace data into a new ``cls`` (the Cluster class, passed in: it imports this module).

    ``require_final``: refuse a trace without the "final" fingerprint that proves
    the replay arrived where the recording did (files loaded with load_trace do).
    """
    try:
        _validate(data)
    except RecursionError:
        raise TraceError(f"the trace nests deeper than {MAX_TRACE_DEPTH} levels") from None
    if require_final and data.get("final") is None:
        raise TraceError("the trace has no \"final\" fingerprint, so its replay could not be "
                         "checked; pass require_final=False to replay it unchecked")
    recorded = data.get("handlers") or {}
    if recorded and handlers is None:
        raise TraceError(
            "this trace was recorded with custom handlers "
            f"({', '.join(f'{k}={v}' for k, v in sorted(recorded.items()))}); pass the same functions "
            "as handlers={...} to replay it")
    try:
        kwargs = dict(n=data.get("n"), seed=data.get("seed"),
                      config=Config.from_dict(data.get("config", {})), handlers=handlers)
        if data.get("members") is not None:  # a cluster started with some servers outside
            kwargs["members"] = data["members"]
        initial = data.get("initial")
        if initial:
            c = cls.from_state({int(k): v for k, v in initial.items()}, **kwargs)
        else:
            c = cls(**kwargs)
        for ev in data["events"]:
            c.apply_event(ev["kind"], ev["args"])
    except TraceError:
        raise
    except RaftbookError as exc:
        raise TraceError(f"the trace does not replay: {exc}") from exc
    except (KeyError, TypeError, ValueError, AttributeError, IndexError, OverflowError,
            RecursionError) as exc:
        raise TraceError(f"the trace is malformed: {type(exc).__name__}: {_show(str(exc), 200)}") from None
    final = data.get("final")
    if isinstance(final, dict) and "fingerprint" in final and final["fingerprint"] != fingerprint(c):
        raise TraceError("the trace replayed to a different state than it recorded; it was made "
                         "with different handlers or a different raftbook version")
    return c


def state_data(cluster) -> dict:
    """The observable state of a cluster as plain data (what fingerprints hash)."""
    nodes = {}
    for i, n in cluster.nodes.items():
        nodes[i] = [n.role.value, n.current_term, n.voted_for,
                    [[e.index, e.term, e.command] for e in n.log], n.commit_index, n.last_applied,
                    sorted(n.kv.items(), key=repr), sorted(n.next_index.items()),
                    sorted(n.match_index.items()), n.leader_id, n.election_elapsed, n.election_timeout]
        # Only with a snapshot or explicit persistence, so older fingerprints stay the same.
        if n.log.snapshot_index:
            nodes[i].append(["snapshot", n.log.snapshot_index, n.log.snapshot_term, n.snapshot_data])
        if n.unsaved:
            nodes[i].append(["unsaved", n.unsaved])
        if n.learners or n.transfer_to is not None:
            nodes[i].append(["learners", sorted(n.learners.items()), "transfer_to", n.transfer_to])
    data = {
        "now": cluster.now, "nodes": nodes, "crashed": sorted(cluster.crashed),
        "groups": None if cluster.groups is None else [sorted(g) for g in cluster.groups],
        "in_flight": [[e.id, message_to_dict(e.msg), e.sent_at] for e in cluster.flight.values()],
    }
    if cluster.cuts:  # only when a link is cut, so older fingerprints stay the same
        data["cuts"] = sorted(cluster.cuts)
    return data


def fingerprint(cluster) -> str:
    blob = json.dumps(state_data(cluster), sort_keys=True, default=repr).encode()
    return hashlib.sha256(blob).hexdigest()[:16]
