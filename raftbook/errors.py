"""Errors raftbook raises on purpose.

Every one derives from :class:`RaftbookError` and says what was wrong and what
to do about it, so a student never has to read a traceback from deep inside.
"""
from __future__ import annotations


class RaftbookError(Exception):
    """Base class of every error raftbook raises on purpose."""


class InvalidArgument(RaftbookError, ValueError):
    """An argument had the wrong type or value; nothing was changed."""


class UnknownNode(InvalidArgument):
    """A node id that is not part of the cluster."""


class UnknownMessage(InvalidArgument):
    """A message id that is not (or no longer) in flight."""


class InvalidCommand(InvalidArgument):
    """A client command that is not ("set", k, v), ("get", k) or ("delete", k)."""


class InvalidState(RaftbookError):
    """The call does not fit the cluster's current state (crash a crashed node, ...)."""


class NotLeader(RaftbookError):
    """A client proposal reached a node that is not the leader.

    ``leader_hint`` is the id of the leader this node last heard from, or None.
    """

    def __init__(self, message: str, leader_hint: int | None = None):
        super().__init__(message)
        self.leader_hint = leader_hint


class LogCompacted(RaftbookError, IndexError):
    """An entry was asked for that the server has compacted into its snapshot.

    ``index`` is the entry asked for, ``snapshot_index`` the last index the
    snapshot covers (entries 1..snapshot_index are no longer in the log).
    """

    def __init__(self, message: str, index=None, snapshot_index=None):
        super().__init__(message)
        self.index = index
        self.snapshot_index = snapshot_index

    def __reduce__(self):  # picklable for multiprocessing campaigns
        return (type(self), (str(self), self.index, self.snapshot_index))


class HandlerError(RaftbookError):
    """A (student) handler raised or returned something that is not a list of messages.

    The cluster is rewound to the state before the event that called it.
    """


class TraceError(RaftbookError):
    """A trace file could not be read, or did not replay to the state it recorded."""


class SafetyViolation(RaftbookError):
    """One of the Raft paper's five safety properties was broken.

    ``property`` is one of ``SAFETY_PROPERTIES``; ``nodes``, ``term`` and
    ``index`` locate the violation, ``time`` is the cluster tick it was seen at.
    """

    def __init__(self, property: str, message: str, *, nodes=(), term=None, index=None,
                 time=None, event=None):
        super().__init__(message)
        self.property = property
        self.nodes = tuple(nodes)
        self.term = term
        self.index = index
        self.time = time
        self.event = event

    def __reduce__(self):  # keep it picklable for multiprocessing campaigns
        return (_rebuild_violation, (self.property, str(self), self.nodes, self.term,
                                     self.index, self.time, self.event))


def _rebuild_violation(prop, message, nodes, term, index, time, event):
    return SafetyViolation(prop, message, nodes=nodes, term=term, index=index, time=time,
                           event=event)


SAFETY_PROPERTIES = (
    "election_safety",
    "leader_append_only",
    "log_matching",
    "leader_completeness",
    "state_machine_safety",
)
