"""The rules layer's comparison with the reference on a grid of one-server situations."""
from __future__ import annotations

import pytest

import raftbook as rb
from raftbook.core.roles import Role
from raftbook.exercises import BUGS, GRADED
from raftbook.exercises import bugs as catalogue
from raftbook.exercises.differential import GRIDS, reference_outcomes, run_differential
from raftbook.rules import reference_handlers_all


def test_every_figure_2_rule_graded_has_a_grid():
    # A5's functions are graded by their rule cases, scenes and campaigns (the persistent
    # vote rule also by the request_vote grid, on servers where persist() does nothing)
    assert set(GRADED) - set(GRIDS) <= {"install_snapshot", "request_vote_persistent"}


@pytest.mark.parametrize("name", sorted(GRIDS))
@pytest.mark.parametrize("seed", [0, 1])
def test_the_reference_matches_itself_everywhere(name, seed):
    checked, finding = run_differential(name, reference_handlers_all[name], seed)
    assert checked > 100 and finding is None


def _grid(name):
    return [sit for sit, _ in reference_outcomes(name, 0)]


def test_the_grids_cover_what_figure_2_distinguishes():
    for name in ("request_vote", "append_entries", "append_entries_reply"):
        sits = _grid(name)
        assert {s.state.get("role", "follower") for s in sits} == {"follower", "candidate", "leader"}
        assert {(s.msg.term > s.state["term"]) - (s.msg.term < s.state["term"]) for s in sits} == {-1, 0, 1}
        assert max(len(s.state["log"]) for s in sits) == 4
        assert {t for s in sits for t in s.state["log"]} == {1, 2, 3}
    ae = _grid("append_entries")
    kinds = set()
    for s in ae:
        log, prev = s.state["log"], s.msg.prev_log_index
        if prev > len(log):
            kinds.add("missing")
        elif prev == 0 or log[prev - 1] == s.msg.prev_log_term:
            kinds.add("matching")
        else:
            kinds.add("conflicting")
        kinds.add("entries" if s.msg.entries else "empty")
    assert kinds == {"missing", "matching", "conflicting", "entries", "empty"}
    for name in ("append_entries_reply", "advance_commit_index"):
        assert {s.state.get("n", 3) for s in _grid(name)} == {3, 4, 5, 6}


def test_a_finding_quotes_the_smallest_differing_case_with_code_to_repeat_it():
    bug = BUGS["candidate_steps_down_on_a_rival"]
    _, finding = run_differential(bug.handler, bug.fn, 0)
    assert finding.layer == "rules" and finding.check == "compared with the reference"
    m = finding.message
    assert m.startswith("given S1 is a candidate") and "when S2's RequestVote arrives" in m
    assert "the rule says: role 'candidate'; your function: role 'follower'" in m
    assert "make_node(" in finding.reproduce and "candidate_steps_down_on_a_rival(node, rb.RequestVote(" in finding.reproduce
    assert run_differential(bug.handler, bug.fn, 0)[1].message == m  # same seed, same finding


@pytest.mark.parametrize("name, words", [
    ("no_timer_reset_on_refused_append", "the rule says: the election timer reset"),
    ("heartbeat_skips_consistency_check", "no entries"),
    ("majority_of_peers", "4-server cluster"),
    ("leader_not_recorded", "leader_id"),
])
def test_bugs_the_rule_cases_once_missed_are_caught(name, words):
    bug = BUGS[name]
    for seed in (0, 1, 7):
        _, finding = run_differential(bug.handler, bug.fn, seed)
        assert finding is not None
    assert words in run_differential(bug.handler, bug.fn, 0)[1].message


def _back_off(step):
    def handle_append_entries_reply(node, msg):
        if not msg.success and msg.term == node.current_term and node.role is Role.LEADER:
            peer = msg.src
            node.next_index[peer] = step(node, peer)
            return [node.append_entries_for(peer)]
        return catalogue._bookkeeping(node, msg)
    return handle_append_entries_reply


def _no_hints(node, msg):
    if msg.term > node.current_term:
        node.become_follower(msg.term)
    early = catalogue._ae_prologue(node, msg)
    if early:
        r = early[0]
        return [rb.AppendEntriesReply(r.src, r.dst, r.term, r.success)]  # no back-up hint at all
    catalogue._append_new(node.log, msg.entries)
    last_new = msg.prev_log_index + len(msg.entries)
    if msg.leader_commit > node.commit_index:
        node.commit_index = max(node.commit_index, min(msg.leader_commit, last_new))
    return catalogue._ok(node, msg, last_new)


@pytest.mark.parametrize("name, fn", [
    ("append_entries_reply", _back_off(lambda node, p: max(node.next_index[p] - 1, 1))),  # one step
    ("append_entries_reply", _back_off(lambda node, p: 1)),  # straight back to the start
    ("append_entries", _no_hints),
])
def test_what_figure_2_leaves_free_is_accepted(name, fn):
    for seed in (0, 1):
        assert run_differential(name, fn, seed)[1] is None


def test_every_grid_is_quick_to_sweep():
    import time
    for name in GRIDS:
        reference_outcomes(name, 0)
        t = time.perf_counter()
        run_differential(name, reference_handlers_all[name], 0)
        assert time.perf_counter() - t < 2.0
