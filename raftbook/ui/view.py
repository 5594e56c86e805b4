"""The cluster picture's public face: the graph model, the SVG renderer and their helpers.

The work is split by job: :mod:`.graph` turns a cluster into a networkx graph
(:func:`cluster_graph`), :mod:`.layout` places the servers, :mod:`.loggrid`
draws the logs, :mod:`.palette` holds the colours and :mod:`.svg` draws the
whole picture (:func:`render_svg`, :func:`render_html`). This module gathers
their names, so ``raftbook.ui.view`` (and the old ``raftbook.view``) import
path keeps answering everything it always did.
"""
from __future__ import annotations

from ..core.describe import command_text, describe_message
# Names the single-module view happened to import; kept so old imports still work.
from ..core.messages import AppendEntries, AppendEntriesReply, RequestVote, RequestVoteReply
from ..core.roles import Role
from ..errors import InvalidArgument, SafetyViolation, UnknownMessage, UnknownNode
from .graph import cluster_graph, message_label
from .layout import BANNER_H, NODE_R, RING_R, RING_TOP, RING_W, layout
from .loggrid import CELL_H, CELL_W, LOG_X, MAX_LOG, log_window
from .palette import CRASHED_FILL, MSG_COLOUR, ROLE_FILL, TERM_COLOURS, term_colour
from .svg import render_html, render_svg

__all__ = [
    "cluster_graph", "message_label", "render_svg", "render_html", "layout", "log_window",
    "term_colour", "command_text", "describe_message", "MAX_LOG", "ROLE_FILL", "CRASHED_FILL",
    "MSG_COLOUR", "TERM_COLOURS", "BANNER_H", "RING_W", "RING_R", "RING_TOP", "NODE_R", "LOG_X",
    "CELL_W", "CELL_H",
    "AppendEntries", "AppendEntriesReply", "RequestVote", "RequestVoteReply", "Role",
    "InvalidArgument", "SafetyViolation", "UnknownMessage", "UnknownNode",
]
