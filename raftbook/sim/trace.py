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
          "heal", "propose", "run", "run_until",
          "add_server", "remove_server", "change_members", "transfer_leadership"}


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
        raise TraceError(f"a trace is saved to a file path (a str or pathlib.Path); got {path!r}") from None
    except OSError as exc:
        raise TraceError(f"cannot write the trace file {str(path)!r}: {exc.strerror or exc}") from None


def load_trace(path, cls, handlers=None):
    try:
        text = Path(path).read_text(encoding="utf-8")
    except TypeError:
        raise TraceError(f"a trace is loaded from a file path (a str or pathlib.Path); got {path!r}") from None
    except UnicodeDecodeError:
        raise TraceError(f"{str(path)!r} is not a JSON trace (it is not UTF-8 text)") from None
    except OSError as exc:
        raise TraceError(f"cannot read the trace file {str(path)!r}: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise TraceError(f"{str(path)!r} is not a JSON trace (line {exc.lineno}: {exc.msg})") from None
    return trace_to_cluster(data, cls, handlers=handlers)


def _validate(data):
    if not isinstance(data, dict) or data.get("format") != FORMAT:
        raise TraceError(f"not a raftbook trace: expected a JSON object with \"format\": \"{FORMAT}\"")
    if data.get("version") != VERSION:
        raise TraceError(f"trace version {data.get('version')!r} is not supported (this raftbook "
                         f"reads version {VERSION})")
    events = data.get("events")
    if not isinstance(events, list):
        raise TraceError("the trace has no \"events\" list")
    for k, ev in enumerate(events):
        if not isinstance(ev, dict) or not isinstance(ev.get("kind"), str) or ev["kind"] not in _KINDS \
                or not isinstance(ev.get("args"), dict):
            raise TraceError(f"event {k} of the trace is malformed: {ev!r}")
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


def trace_to_cluster(data, cls, handlers=None):
    """Replay trace data into a new ``cls`` (the Cluster class, passed in: it imports this module)."""
    _validate(data)
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
    except (KeyError, TypeError, ValueError) as exc:
        raise TraceError(f"the trace is malformed: {type(exc).__name__}: {exc}") from None
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
    return {
        "now": cluster.now, "nodes": nodes, "crashed": sorted(cluster.crashed),
        "groups": None if cluster.groups is None else [sorted(g) for g in cluster.groups],
        "in_flight": [[e.id, message_to_dict(e.msg), e.sent_at] for e in cluster.flight.values()],
    }


def fingerprint(cluster) -> str:
    blob = json.dumps(state_data(cluster), sort_keys=True, default=repr).encode()
    return hashlib.sha256(blob).hexdigest()[:16]
