"""The messages of Figure 2 of the Raft paper, as plain frozen data.

Field names follow the paper. Every message has ``src``, ``dst`` and ``term``.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, Union

from ..errors import InvalidArgument


@dataclass(frozen=True, slots=True)
class Entry:
    """One log entry. Indexes start at 1; ``command`` None is a leader's no-op."""

    index: int
    term: int
    command: Any = None


@dataclass(frozen=True, slots=True)
class RequestVote:
    src: int
    dst: int
    term: int
    last_log_index: int
    last_log_term: int
    pre_vote: bool = False  # a pre-vote round asks without changing anyone's term (thesis 9.6)
    transfer: bool = False  # sent after TimeoutNow: answer even while hearing from a leader (3.10)


@dataclass(frozen=True, slots=True)
class RequestVoteReply:
    src: int
    dst: int
    term: int
    vote_granted: bool
    pre_vote: bool = False  # the answer to a pre-vote request


@dataclass(frozen=True, slots=True)
class AppendEntries:
    src: int
    dst: int
    term: int
    prev_log_index: int
    prev_log_term: int
    entries: tuple = ()
    leader_commit: int = 0


@dataclass(frozen=True, slots=True)
class AppendEntriesReply:
    """``match_index`` is the last index the follower now matches (on success).

    On failure ``conflict_index``/``conflict_term`` are the fast back-up hints:
    where the leader should try next (conflict_term 0 means "my log is too short").
    """

    src: int
    dst: int
    term: int
    success: bool
    match_index: int = 0
    conflict_index: int = 0
    conflict_term: int = 0


@dataclass(frozen=True, slots=True)
class InstallSnapshot:
    """Figure 13: a leader sends a follower its snapshot when the entries it needs are compacted.

    ``last_included_index``/``last_included_term`` are the snapshot's last entry;
    ``data`` is plain JSON data: ``{"kv": [[key, value], ...], "results": [[index,
    result], ...]}`` (the key-value state at that index and the results of the
    entries applied since the previous snapshot). raftbook sends a snapshot in one
    chunk: ``offset`` is 0 and ``done`` True.
    """

    src: int
    dst: int
    term: int
    last_included_index: int
    last_included_term: int
    data: Any = None
    offset: int = 0
    done: bool = True


@dataclass(frozen=True, slots=True)
class InstallSnapshotReply:
    """Figure 13's reply (``term``), plus ``match_index``: the snapshot's last index, which
    the follower now holds, so the leader can update its bookkeeping (0 on a refusal)."""

    src: int
    dst: int
    term: int
    match_index: int = 0



@dataclass(frozen=True, slots=True)
class TimeoutNow:
    """Leader transfer (thesis section 3.10): the leader tells ``dst`` to start an election now."""

    src: int
    dst: int
    term: int


Message = Union[RequestVote, RequestVoteReply, AppendEntries, AppendEntriesReply, InstallSnapshot,
                InstallSnapshotReply, TimeoutNow]
MESSAGE_TYPES = {cls.__name__: cls for cls in (RequestVote, RequestVoteReply, AppendEntries,
                                                AppendEntriesReply, InstallSnapshot,
                                                InstallSnapshotReply, TimeoutNow)}
#: Fields added after the first round, left out of a message's dict at their default value
#: (so a message and a fingerprint read exactly as before the field existed).
_OMITTED_AT_DEFAULT = {"pre_vote": False, "transfer": False}


def is_message(obj) -> bool:
    return type(obj) in _MESSAGE_CLASSES


_MESSAGE_CLASSES = frozenset(MESSAGE_TYPES.values())


def command_to_json(command):
    return None if command is None else list(command)


def command_from_json(data):
    return None if data is None else tuple(data)


def message_to_dict(msg) -> dict:
    """A JSON-ready dict of a message (``type`` names its class)."""
    d = {"type": type(msg).__name__}
    for f in fields(msg):
        v = getattr(msg, f.name)
        if f.name in _OMITTED_AT_DEFAULT and v == _OMITTED_AT_DEFAULT[f.name]:
            continue
        if f.name == "entries":
            v = [[e.index, e.term, command_to_json(e.command)] for e in v]
        elif f.name == "data":
            v = snapshot_data_copy(v)
        d[f.name] = v
    return d


def snapshot_data_copy(data):
    """A fresh copy of a snapshot's data (lists all the way down, as JSON gives them back)."""
    if not isinstance(data, dict):
        return data
    return _plain_copy(data)


def _plain_copy(v):
    if isinstance(v, (list, tuple)):
        return [_plain_copy(x) for x in v]
    if isinstance(v, dict):
        return {k: _plain_copy(x) for k, x in v.items()}
    return v


def message_from_dict(data) -> Message:
    try:
        kind = data["type"]
        cls = MESSAGE_TYPES[kind]
        kwargs = {k: v for k, v in data.items() if k != "type"}
        if "entries" in kwargs:
            kwargs["entries"] = tuple(Entry(i, t, command_from_json(c)) for i, t, c in kwargs["entries"])
        return cls(**kwargs)
    except (KeyError, TypeError, ValueError) as exc:
        raise InvalidArgument(f"not a raftbook message: {data!r} ({exc})") from None
