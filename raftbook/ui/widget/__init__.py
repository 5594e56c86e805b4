"""The interactive cluster widget, one module per job (see :mod:`.shell` for the map)."""
from __future__ import annotations

from .explain_tab import EXPLAIN_ROWS
from .controls import NO_MESSAGE
from .form import parse_groups, parse_value
from .play import MAX_FPS, SPEEDS
from .shell import ClusterWidget, show

__all__ = ["ClusterWidget", "show", "parse_groups", "parse_value", "SPEEDS", "MAX_FPS",
           "EXPLAIN_ROWS", "NO_MESSAGE"]
