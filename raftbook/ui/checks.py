"""Argument checks shared by the picture and the widget, so both refuse the same way."""
from __future__ import annotations

from ..errors import InvalidArgument


def is_whole(x) -> bool:
    """True for an int that is not a bool (True is not a server id or a column count)."""
    return isinstance(x, int) and not isinstance(x, bool)


def check_max_log(max_log) -> int:
    """``max_log`` if it is a usable number of log columns; else InvalidArgument."""
    if not is_whole(max_log) or max_log < 1:
        raise InvalidArgument(f"max_log must be a whole number >= 1, got {max_log!r}")
    return max_log
