"""Campaigns compare the progress a handler makes with the reference's on the same seeds."""
from __future__ import annotations

import raftbook as rb
from raftbook.core.roles import Role
from raftbook.exercises import BUGS
from raftbook.exercises import bugs as catalogue
from raftbook.exercises.campaign import (SIZES, SLOW, _campaign, campaign_seeds, compare_progress,
                                         reference_progress, run_campaigns)
from raftbook.rules import reference_handlers_all


def test_campaigns_run_on_odd_and_even_clusters():
    assert set(SIZES) == {3, 4, 5, 6}
    result = run_campaigns("request_vote", reference_handlers_all["request_vote"], 0)
    # every campaign, plus the comparison of progress
    assert result.checks == 24 + 1 and not result.findings


def test_progress_is_measured_and_the_reference_matches_itself():
    s, n = campaign_seeds(0, 1)[0], 3
    finding, progress = _campaign("append_entries", reference_handlers_all["append_entries"], s, n)
    assert finding is None and set(progress) == {"leader", "commit", "terms", "elections"}
    assert progress == reference_progress("append_entries", s, n)
    measured = [(s, SIZES[k % 4], reference_progress("request_vote", s, SIZES[k % 4]))
                for k, s in enumerate(campaign_seeds(0, 24))]
    assert compare_progress("request_vote", reference_handlers_all["request_vote"], measured) is None


def test_clearly_slower_progress_is_a_liveness_finding_with_a_run():
    bug = BUGS["timer_reset_on_every_request_vote"]
    result = run_campaigns(bug.handler, bug.fn, 0)
    assert len(result.findings) == 1
    finding = result.findings[0]
    assert finding.rule == SLOW and finding.check == "progress compared with the reference"
    assert "with your function and" in finding.message and "with the reference rule" in finding.message
    c = rb.Cluster.from_trace(finding.trace, handlers={bug.handler: bug.fn})
    assert len(c.history) == len(finding.trace["events"])
    # Same seed, same finding.
    assert run_campaigns(bug.handler, bug.fn, 0).findings[0].message == finding.message


def _one_step_back_off(node, msg):
    """Correct, but ignores the follower's hints: backs off one entry at a time."""
    if not msg.success and msg.term == node.current_term and node.role is Role.LEADER:
        node.next_index[msg.src] = max(node.next_index[msg.src] - 1, 1)
        return [node.append_entries_for(msg.src)]
    return catalogue._bookkeeping(node, msg)


def test_a_correct_handler_written_differently_is_not_called_slow():
    for seed in (0, 1, 7):
        assert rb.grade("append_entries_reply", _one_step_back_off, seed=seed).passed
