"""raftbook: a step-by-step Raft consensus cluster for teaching, in Jupyter."""
from .cluster import Cluster, Envelope, Event, Proposal, Reason, Snapshot
from .config import Config
from .errors import (SAFETY_PROPERTIES, HandlerError, InvalidArgument, InvalidCommand, InvalidState,
                     NotLeader, RaftbookError, SafetyViolation, TraceError, UnknownMessage,
                     UnknownNode)
from .log import RaftLog
from .messages import AppendEntries, AppendEntriesReply, Entry, RequestVote, RequestVoteReply
from .node import RaftNode
from .roles import Role
from .rules import reference_handlers
from .safety import check_safety
from .diagram import Diagram, spacetime, spacetime_svg
from .explain import explain_text, explain_violation
from .reasons import REASON_CODES, REASON_FAMILIES, explain_reason
from . import scenarios

__version__ = "0.1.0"

__all__ = [
    "AppendEntries", "AppendEntriesReply", "Cluster", "Config", "Entry", "Envelope", "Event",
    "HandlerError", "InvalidArgument", "InvalidCommand", "InvalidState", "NotLeader", "Proposal",
    "RaftLog", "RaftNode", "RaftbookError", "Reason", "RequestVote", "RequestVoteReply", "Role",
    "SAFETY_PROPERTIES", "SafetyViolation", "Snapshot", "TraceError", "UnknownMessage",
    "UnknownNode", "check_safety", "reference_handlers",
    "Diagram", "REASON_CODES", "REASON_FAMILIES", "explain_reason", "explain_text",
    "explain_violation", "spacetime", "spacetime_svg", "scenarios",
]
