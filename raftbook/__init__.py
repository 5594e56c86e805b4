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
from .exercises import grade
from . import exercises
from .explore import ExploreResult, explore
from .campaigns import CampaignResult, campaign
from .linearizability import LinearizabilityResult, Operation, check_linearizability
from .clients import Clients

__version__ = "0.1.0"

# The widget, the picture and the tables pull in ipywidgets, networkx and pandas:
# they load on first use, so `import raftbook` stays quick for graders and campaigns.
_LAZY = {"ClusterWidget": "widgets", "show": "widgets", "cluster_graph": "view",
         "render_svg": "view", "logs_table": "tables", "nodes_table": "tables",
         "messages_table": "tables", "proposals_table": "tables"}


def __getattr__(name):
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'raftbook' has no attribute {name!r}")
    from importlib import import_module
    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


__all__ = [
    "AppendEntries", "AppendEntriesReply", "Cluster", "Config", "Entry", "Envelope", "Event",
    "HandlerError", "InvalidArgument", "InvalidCommand", "InvalidState", "NotLeader", "Proposal",
    "RaftLog", "RaftNode", "RaftbookError", "Reason", "RequestVote", "RequestVoteReply", "Role",
    "SAFETY_PROPERTIES", "SafetyViolation", "Snapshot", "TraceError", "UnknownMessage",
    "UnknownNode", "check_safety", "reference_handlers",
    "Diagram", "REASON_CODES", "REASON_FAMILIES", "explain_reason", "explain_text",
    "explain_violation", "spacetime", "spacetime_svg", "scenarios",
    "exercises", "grade",
    "explore", "ExploreResult", "campaign", "CampaignResult", "check_linearizability",
    "LinearizabilityResult", "Operation", "Clients",
    "ClusterWidget", "show", "cluster_graph", "render_svg", "logs_table", "nodes_table",
    "messages_table", "proposals_table",
]
