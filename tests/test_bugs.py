"""The bug catalogue: every classic bug fails its grader in exactly the layers it says."""
from __future__ import annotations

import functools

import pytest

import raftbook as rb
from raftbook.exercises import BUGS, GRADED, HIDDEN_SEED, LAYERS
from raftbook.exercises.delegation import reference_problem


@functools.lru_cache(maxsize=None)
def _failing_layers(name, seed):
    bug = BUGS[name]
    report = rb.grade(bug.handler, bug.fn, seed=seed)
    return tuple(layer for layer in LAYERS if not report.layer_passed(layer)), report


def test_the_catalogue_is_data_the_exploration_tools_can_use():
    assert len(BUGS) >= 12
    for name, bug in BUGS.items():
        handler, fn, breaks = bug
        assert name == bug.name == fn.__name__ and handler in GRADED
        assert callable(fn) and fn is not rb.reference_handlers.get(handler)
        # A catalogued bug is a student's own function: never flagged for using the reference.
        assert reference_problem(handler, fn) is None
        assert breaks.endswith(".") and len(breaks) > 30
        assert bug.fails and bug.fails[0] == "rules" and set(bug.fails) <= set(LAYERS)
    assert {bug.handler for bug in BUGS.values()} == set(GRADED)


#: Seeds an instructor might choose for the hidden tests (the nbgrader test uses 7).
OTHER_SEEDS = (HIDDEN_SEED, 7)


@pytest.mark.parametrize("name", sorted(BUGS))
def test_each_bug_fails_its_grader_in_the_catalogued_layers(name):
    visible, report = _failing_layers(name, 0)
    assert visible, f"{name} passed its grader"
    assert visible == BUGS[name].fails
    for seed in OTHER_SEEDS:  # so the visible and hidden cells together fail exactly these layers
        hidden, _ = _failing_layers(name, seed)
        assert hidden and set(hidden) <= set(visible), (seed, hidden)
    assert not report.passed and report.failures
    for finding in report.findings:
        assert finding.rule and finding.message and finding.layer in LAYERS
        if finding.layer != "rules":
            assert finding.trace is not None and finding.trace["events"]


@pytest.mark.parametrize("name", ["up_to_date_by_length", "truncate_on_duplicate",
                                  "commit_capped_by_log_length", "act_on_stale_replies", "apply_twice"])
def test_the_rule_finding_says_which_rule_broke(name):
    _, report = _failing_layers(name, 0)
    words = {"up_to_date_by_length": "Election restriction",
             "truncate_on_duplicate": "only if it conflicts",
             "commit_capped_by_log_length": "min(leaderCommit, index of last new entry)",
             "act_on_stale_replies": "Stale replies",
             "apply_twice": "once each"}[name]
    assert words in report.findings[0].rule


def test_failing_runs_of_scenarios_and_campaigns_replay():
    for name in ("no_term_check_at_prev_index", "forget_to_advance_commit"):
        bug = BUGS[name]
        _, report = _failing_layers(name, 0)
        for finding in report.findings:
            if finding.trace is None:
                continue
            c = rb.Cluster.from_trace(finding.trace, handlers={bug.handler: bug.fn})
            assert len(c.history) == len(finding.trace["events"])


@pytest.mark.parametrize("name", ["vote_without_saving", "vote_saved_before_it_is_cast"])
def test_an_unsaved_vote_is_a_double_vote_the_explorer_finds(name):
    handler, fn, _ = BUGS[name]  # the catalogue names the handler the function replaces
    assert BUGS[name].handler == "request_vote_persistent" and handler == "request_vote"
    r = rb.explore(3, max_term=1, max_log=1, max_in_flight=4, persistence="explicit",
                   handlers={handler: fn}, events=("timeout", "deliver", "crash", "restart"),
                   progress=False)
    assert r.violation is not None and r.violation.property == "election_safety"
    assert "crash S" in " ".join(r.steps())
