"""raftbook: a step-by-step Raft consensus cluster for teaching, in Jupyter.

The package reads in the direction data flows: ``core`` (one server: messages, log,
Figure 2's rules, the step function) -> ``sim`` (the cluster around it: network,
faults, time, history) -> ``check`` (the safety properties, linearizability) and
``explain`` (why each step happened) -> ``search`` (exploration and fault campaigns)
-> ``ui`` (pictures, tables, the widget) -> ``exercises`` (graded assignments).
"""
import sys as _sys

from . import _compat

_compat.install(__name__)
from .sim.cluster import Cluster, Envelope, Event, Proposal, Reason, Snapshot
from .core.config import Config
from .errors import (SAFETY_PROPERTIES, HandlerError, InvalidArgument, InvalidCommand, InvalidState,
                     LogCompacted, NotLeader, RaftbookError, SafetyViolation, TraceError,
                     UnknownMessage, UnknownNode)
from .core.log import RaftLog
from .core.messages import (AppendEntries, AppendEntriesReply, Entry, InstallSnapshot,
                            InstallSnapshotReply, RequestVote, RequestVoteReply, TimeoutNow)
from .core.node import RaftNode
from .core.roles import Role
from .core.rules import reference_handlers, reference_handlers_all
from .check.safety import check_safety
from .explain.diagram import Diagram, spacetime, spacetime_svg
from .explain.narrate import explain_text, explain_violation
from .explain.reasons import REASON_CODES, REASON_FAMILIES, explain_reason
from .sim import scenarios
from .exercises import grade
from . import exercises
from .search.explore import ExploreResult, explore
from .search.campaigns import CampaignResult, campaign
from .check.linearizability import LinearizabilityResult, Operation, check_linearizability
from .sim.clients import Clients

# ``rb.explore`` is the function; ``raftbook.explore`` the module (its old path) stays importable.
_sys.modules.setdefault(f"{__name__}.explore", _sys.modules[ExploreResult.__module__])

__version__ = "0.1.0"

# The widget, the picture and the tables pull in ipywidgets, networkx and pandas:
# they load on first use, so `import raftbook` stays quick for graders and campaigns.
_LAZY = {"ClusterWidget": "ui.widgets", "show": "ui.widgets", "cluster_graph": "ui.view",
         "render_svg": "ui.view", "logs_table": "ui.tables", "nodes_table": "ui.tables",
         "messages_table": "ui.tables", "proposals_table": "ui.tables"}


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
    "InstallSnapshot", "InstallSnapshotReply", "LogCompacted", "reference_handlers_all",
    "TimeoutNow",
    "Diagram", "REASON_CODES", "REASON_FAMILIES", "explain_reason", "explain_text",
    "explain_violation", "spacetime", "spacetime_svg", "scenarios",
    "exercises", "grade",
    "explore", "ExploreResult", "campaign", "CampaignResult", "check_linearizability",
    "LinearizabilityResult", "Operation", "Clients",
    "ClusterWidget", "show", "cluster_graph", "render_svg", "logs_table", "nodes_table",
    "messages_table", "proposals_table",
]
