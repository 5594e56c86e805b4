"""Shortcuts the node takes for speed, kept apart from the code students read.

Each one gives exactly the result of the plain code it replaces, draws the
same random numbers in the same order, and exists only because it runs for
every message or timer reset of every simulated server (see bench/bench_core.py):

- :func:`draw_timeout` is ``rng.randint(lo, hi)`` without randint's two
  wrapper calls;
- :func:`step_reference` is ``RaftNode._step`` for a node running only the
  reference rules: it calls the rule straight away, with none of the checks a
  replaced (student) handler needs.
"""
from __future__ import annotations

import random

from . import rules
from .messages import (AppendEntries, AppendEntriesReply, InstallSnapshot, InstallSnapshotReply,
                       RequestVote, RequestVoteReply)


def draw_timeout(rng, bounds) -> int:
    """``rng.randint(*bounds)``: the same number, drawn without randint's two wrapper calls."""
    if type(rng) is not random.Random:  # a subclass may draw its own way
        return rng.randint(*bounds)
    lo, hi = bounds
    return lo + rng._randbelow(hi - lo + 1)


#: The reference rule for each message type.
REFERENCE_STEP = {
    RequestVote: rules.handle_request_vote,
    RequestVoteReply: rules.handle_request_vote_reply,
    AppendEntries: rules.handle_append_entries,
    AppendEntriesReply: rules.handle_append_entries_reply,
    InstallSnapshot: rules.handle_install_snapshot,
    InstallSnapshotReply: rules.handle_install_snapshot_reply,
}


def step_reference(node, msg) -> list:
    """What ``node._step(msg)`` does when every rule is the reference one."""
    out = REFERENCE_STEP[type(msg)](node, msg)
    if node.last_applied < node.commit_index:
        rules.apply_committed(node)
    return out
