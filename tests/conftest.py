"""Shared fixtures for the core tests: minimal nodes in a chosen state, and broken rules.

Helpers are handed out through fixtures (``raft``) rather than imported, so test
folders of other areas can keep conftest files of their own.
"""
from __future__ import annotations

import random
from types import SimpleNamespace

import pytest

import raftbook as rb
from raftbook.roles import Role


def make_node(node_id=1, n=3, *, term=0, log=(), voted_for=None, commit=0, seed=0,
              config=None, handlers=None):
    """A RaftNode with the given persistent state (``log`` is a list of terms or
    (term, command) pairs) and ``commit`` entries committed and applied."""
    peers = [p for p in range(1, n + 1) if p != node_id]
    node = rb.RaftNode(node_id, peers, config or rb.Config(), random.Random(seed), handlers=handlers)
    for k, item in enumerate(log, start=1):
        t, cmd = (item, None) if isinstance(item, int) else item
        node.log.append(rb.Entry(k, t, cmd))
    node.current_term = max(term, node.log.last_term)
    node.voted_for = voted_for
    node.commit_index = commit
    node.apply_committed()
    node.take_reasons()
    return node


def make_leader(node_id=1, n=3, *, term=1, log=(), **kw):
    """A node that won the election of ``term`` the real way (so it holds its no-op).

    Its log is ``log`` plus the no-op at the end; next_index is just past the
    log as it was before the no-op, match_index 0.
    """
    node = make_node(node_id, n, term=term - 1, log=log, **kw)
    node.timeout()
    assert node.current_term == term
    for p in node.peers:
        if node.role is Role.LEADER:
            break
        node.step(rb.RequestVoteReply(p, node_id, term, True))
    assert node.role is Role.LEADER
    node.take_reasons()
    return node


def codes(node):
    """The reason codes a node noted since the last call."""
    return [code for code, _ in node.take_reasons()]


def any_term_commit(node):
    """BROKEN advance_commit_index: commits the highest majority index of ANY term (Figure 8)."""
    if node.role is not Role.LEADER:
        return
    for n in range(node.log.last_index, node.commit_index, -1):
        if 1 + sum(1 for p in node.peers if node.match_index.get(p, 0) >= n) >= node.quorum:
            node.commit_index = n
            return


def vote_without_log_check(node, msg):
    """BROKEN request_vote: one vote per term, but no up-to-date check."""
    if msg.term > node.current_term:
        node.become_follower(msg.term)
    if msg.term < node.current_term or node.voted_for not in (None, msg.src):
        return [rb.RequestVoteReply(node.id, msg.src, node.current_term, False)]
    node.voted_for = msg.src
    node.reset_election_timer()
    return [rb.RequestVoteReply(node.id, msg.src, node.current_term, True)]


def all_safe(c):
    """check_safety and the full state cross-check."""
    rb.check_safety(c, full=True)


@pytest.fixture
def raft():
    """The helpers above, as one namespace."""
    return SimpleNamespace(make_node=make_node, make_leader=make_leader, codes=codes,
                           any_term_commit=any_term_commit,
                           vote_without_log_check=vote_without_log_check, all_safe=all_safe)
