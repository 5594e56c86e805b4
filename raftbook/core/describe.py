"""Words for messages and commands: the one place that turns core data into short text.

The simulator's event summaries, the picture's tooltips, the tables and the graders'
findings all describe messages; they call these two functions so a message reads the
same everywhere (``detail=True`` adds the fields a person checks by hand).
"""
from __future__ import annotations

from .messages import AppendEntries, AppendEntriesReply, RequestVote, RequestVoteReply


def describe_message(msg, detail: bool = False) -> str:
    """One line saying what a message is, e.g. ``AppendEntries S1→S3 t2 (3 entries)``."""
    base = f"{type(msg).__name__} S{msg.src}→S{msg.dst} t{msg.term}"
    t = type(msg)
    if t is AppendEntries:
        n = len(msg.entries)
        what = f"{n} entr{'y' if n == 1 else 'ies'}" if n else "heartbeat"
        if detail:
            return f"{base} ({what}, prev {msg.prev_log_index}/t{msg.prev_log_term}, commit {msg.leader_commit})"
        return f"{base} ({what})"
    if t is RequestVoteReply:
        return base + (" granted" if msg.vote_granted else " denied")
    if t is AppendEntriesReply:
        if detail:
            return base + (f" success, match {msg.match_index}" if msg.success else " failed")
        return base + (f" ok match={msg.match_index}" if msg.success else " fail")
    if t is RequestVote and detail:
        return f"{base} (last log {msg.last_log_index}/t{msg.last_log_term})"
    return base


def command_text(command) -> str:
    """A short text for a log entry's command: ``x=1``, ``get x``, ``del x``, ``no-op``."""
    if command is None:
        return "no-op"
    op = command[0]
    if op == "set":
        return f"{command[1]}={command[2]!r}" if isinstance(command[2], str) else f"{command[1]}={command[2]}"
    if op == "get":
        return f"get {command[1]}"
    if op == "delete":
        return f"del {command[1]}"
    return repr(command)
