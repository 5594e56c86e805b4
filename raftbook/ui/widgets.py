"""The interactive cluster widget: step, break and rewind a live Raft cluster in a notebook.

``rb.ClusterWidget(c)`` wraps a :class:`~raftbook.cluster.Cluster` in ipywidgets
controls and draws it with :func:`raftbook.view.render_svg`. The code lives in
:mod:`raftbook.ui.widget`, one module per job; this module is its public face
(and ``raftbook.widgets`` the old path to it). Every button is one
call on the cluster (its tooltip and the status line say which), so what a
student does by clicking is exactly what they could type, and ``c.history``
records it either way.

Design choices:

- Redraw only what is visible: the picture on the Cluster tab costs about a
  millisecond; tables, the narrated history and the space-time diagram are built
  only while their tab is open.
- Errors never escape: a refused call (no message selected, crashing a crashed
  server, no leader for a proposal) shows its message in the status line, and
  the cluster is unchanged (the core guarantees that a call that raises changes
  nothing).
- Time travel without loss: moving the history slider back keeps the latest
  state aside, so you can look around and come back ("Latest"); acting while in
  the past branches from there, and the status line says how many later events
  were discarded.
- Play runs on the kernel's event loop with one timer callback per frame, and
  only while playing: paused or idle, nothing is scheduled, nothing runs.
"""
from __future__ import annotations

from ..core.describe import command_text, describe_message
# Names the single-module widget happened to import; kept so old imports still work.
from ..errors import InvalidArgument, InvalidState, RaftbookError, UnknownMessage
from ..sim.cluster import Cluster
from .loggrid import MAX_LOG
from .svg import render_svg
from .widget import (EXPLAIN_ROWS, MAX_FPS, NO_MESSAGE, SPEEDS, ClusterWidget, parse_groups,
                     parse_value, show)

__all__ = ["ClusterWidget", "show", "parse_groups", "parse_value", "SPEEDS", "MAX_FPS",
           "EXPLAIN_ROWS", "NO_MESSAGE", "MAX_LOG", "Cluster", "command_text", "describe_message",
           "render_svg", "InvalidArgument", "InvalidState", "RaftbookError", "UnknownMessage"]
