"""Grades that cannot be gamed: isolation, reference delegation, budgets, state checks, hidden seeds."""
from __future__ import annotations

import json
import random
import time

import pytest

import raftbook as rb
from raftbook.exercises import BUGS, GradeReport, LAYERS, grade_isolated, hidden_seed, isolate
from raftbook.exercises.budget import Limits
from raftbook.exercises.grader import run_checks
from raftbook.rules import reference_handlers_all


def wrong_vote(node, msg):
    """Grants every vote (no term, vote or log check): wrong in many ways."""
    node.voted_for = msg.src
    return [rb.RequestVoteReply(node.id, msg.src, node.current_term, True)]


def test_monkeypatching_the_kernel_does_not_change_an_isolated_grade(monkeypatch):
    honest = rb.grade("request_vote", wrong_vote)
    assert not honest.passed
    # What a notebook can replace in its own kernel: the grader, the report, the monitor, random.
    real = rb.grade
    monkeypatch.setattr(rb, "grade", lambda name, fn, *a, **k: real(name, rb.reference_handlers[name], *a, **k))
    monkeypatch.setattr(rb.exercises, "grade", rb.grade)
    monkeypatch.setattr(GradeReport, "passed", property(lambda self: True))
    monkeypatch.setattr(rb, "check_safety", lambda *a, **k: None)
    monkeypatch.setattr(random, "random", lambda: 0.5)
    assert rb.grade("request_vote", wrong_vote).passed  # the kernel's own grade is fooled ...
    monkeypatch.undo()
    monkeypatch.setattr(rb, "grade", lambda name, fn, *a, **k: real(name, rb.reference_handlers[name], *a, **k))
    monkeypatch.setattr(rb, "check_safety", lambda *a, **k: None)
    isolated = grade_isolated("request_vote", wrong_vote)  # ... the isolated one is not
    assert not isolated.passed
    assert isolated.failures == honest.failures
    assert isolated.fn_name == "wrong_vote" and isolated.trace == honest.trace


def test_an_isolated_grade_of_a_correct_function_passes_and_is_quick():
    bug = BUGS["apply_twice"]  # any function of an importable module travels by name
    t = time.perf_counter()
    report = grade_isolated(bug.handler, bug.fn, seed=0)
    assert time.perf_counter() - t < 20
    assert not report.passed and report.layers["rules"].findings
    assert not report.layer_passed("rules") and report.layer_passed("scenarios")

    def handle_request_vote(node, msg):
        if msg.term > node.current_term:
            node.become_follower(msg.term)
        granted = False
        if msg.term == node.current_term and node.voted_for in (None, msg.src):
            if (msg.last_log_term, msg.last_log_index) >= (node.log.last_term, node.log.last_index):
                granted = True
                node.voted_for = msg.src
                node.reset_election_timer()
        return [rb.RequestVoteReply(node.id, msg.src, node.current_term, granted)]
    ok = grade_isolated("request_vote", handle_request_vote)
    assert ok.passed, str(ok)
    assert set(ok.layers) == set(LAYERS)


def test_a_function_that_patches_the_grader_while_it_runs_earns_nothing():
    def sneaky(node, msg):
        import raftbook.exercises.report as r
        r.LayerResult.passed = property(lambda self: True)
        return wrong_vote(node, msg)
    report = grade_isolated("request_vote", sneaky, ["rules"])
    assert not report.passed
    assert "changed the grader's own code" in report.failures[0]
    assert "LayerResult" in report.failures[0]


def _wraps(node, msg):
    return rb.reference_handlers["request_vote"](node, msg)


def _calls_module(node, msg):
    return rb.rules.handle_request_vote(node, msg)


def _hides_it(node, msg):
    import sys
    mod = sys.modules["raftbook." + "core." + "".join(["ru", "les"])]
    return getattr(mod, "handle_" + "request_vote")(node, msg)


@pytest.mark.parametrize("fn, words", [
    (reference_handlers_all["request_vote"], "is the reference rule itself"),
    (_wraps, "reference_handlers"),
    (_calls_module, "raftbook.rules"),
    (_hides_it, "called the reference rule handle_request_vote"),
])
def test_the_reference_and_wrappers_of_it_are_flagged(fn, words):
    report = rb.grade("request_vote", fn, own_work=True)
    assert not any(report.layer_passed(layer) for layer in LAYERS)
    assert all(f.rule == "A graded function does the rule's work itself" for f in report.findings)
    assert words in report.failures[0] and "earns no points" in report.failures[0]
    # Practice grading keeps passing what behaves like the reference, with a note that says why
    # a graded cell will not.
    practice = rb.grade("request_vote", fn, layers=["rules"])
    assert practice.passed
    if fn is not _hides_it:  # only a run-time tripwire, which practice grading does not set, sees that one
        assert len(practice.notes) == 1
        assert "Note: " in str(practice) and "in a graded cell this part earns no points" in str(practice)


def test_the_reference_and_its_wrappers_are_flagged_in_isolation_too():
    assert "is the reference rule itself" in grade_isolated(
        "request_vote", reference_handlers_all["request_vote"], ["rules"]).failures[0]
    assert "reference_handlers" in grade_isolated("request_vote", _wraps, ["rules"]).failures[0]


def test_a_looping_handler_is_a_finding_within_the_budgets():
    def loops(node, msg):
        while True:
            try:
                pass
            except Exception:  # a student's catch-all does not swallow the watchdog
                pass
    t = time.perf_counter()
    report = rb.grade("append_entries", loops)
    assert time.perf_counter() - t < 10
    assert not any(report.layer_passed(layer) for layer in LAYERS)
    assert "did not return within 250 ms" in report.failures[0]
    t = time.perf_counter()
    isolated = grade_isolated("append_entries", loops, ["rules"])
    assert time.perf_counter() - t < 15
    assert "did not return within 250 ms" in isolated.failures[0]


def test_a_loop_that_swallows_even_the_watchdog_is_stopped_from_outside(monkeypatch):
    def stubborn(node, msg):
        while True:
            try:
                while True:
                    pass
            except BaseException:
                pass
    monkeypatch.setattr(isolate, "STARTUP_S", 4.0)
    t = time.perf_counter()
    report = grade_isolated("append_entries", stubborn, ["rules"], limits=Limits(grade_s=1.0))
    assert time.perf_counter() - t < 8
    assert "did not finish within 5 s" in report.failures[0]


def test_a_flooding_handler_is_a_finding_not_a_memory_hog():
    def floods(node, msg):
        return [rb.RequestVoteReply(node.id, msg.src, node.current_term, False)] * 200_000
    t = time.perf_counter()
    report = rb.grade("request_vote", floods)
    assert time.perf_counter() - t < 10
    assert not any(report.layer_passed(layer) for layer in LAYERS)
    assert "returned 200000 messages in one call" in report.failures[0]


@pytest.mark.parametrize("field, value, words", [
    ("role", "follower", "node.role is 'follower' (str); it must be a Role"),
    ("kv", None, "node.kv is None; it must stay a dict"),
    ("log", None, "node.log is None (NoneType); it must stay the server's log"),
    ("next_index", None, "node.next_index is None; it must stay a dict"),
    ("commit_index", 99, "node.commit_index is 99"),
    ("current_term", -1, "node.current_term is -1"),
])
def test_a_handler_that_breaks_its_state_is_a_finding_naming_the_field(field, value, words):
    def breaks(node, msg):
        out = reference_handlers_all["request_vote"](node, msg)
        setattr(node, field, value)
        return out
    report = run_checks("request_vote", breaks)  # every layer, no crash anywhere
    assert not any(report.layer_passed(layer) for layer in LAYERS)
    for layer in LAYERS:
        assert any(words in str(f) for f in report.layers[layer].findings), (layer, report.layers[layer].findings)


def test_log_terms_that_decrease_are_a_finding():
    def appends_old_term(node, msg):
        out = reference_handlers_all["append_entries"](node, msg)
        if node.log.last_index and node.log.last_term > 1:
            node.log.append(rb.Entry(node.log.last_index + 1, 1, None))
        return out
    report = run_checks("append_entries", appends_old_term, ["rules"])
    assert any("the terms along a log never decrease" in f for f in report.failures)


def test_the_hidden_seed_comes_from_the_instructor(monkeypatch):
    monkeypatch.setattr(isolate, "_HIDDEN", None)
    with pytest.raises(isolate.NoHiddenSeed, match="RAFTBOOK_HIDDEN_SEED"):
        hidden_seed()
    with pytest.raises(rb.RaftbookError):
        grade_isolated("request_vote", wrong_vote, ["rules"], hidden=True)
    monkeypatch.setattr(isolate, "_HIDDEN", "0")
    with pytest.raises(isolate.NoHiddenSeed, match="0 is the visible seed"):
        hidden_seed()
    monkeypatch.setattr(isolate, "_HIDDEN", "7")
    assert hidden_seed() == 7
    report = grade_isolated("request_vote", wrong_vote, ["rules"], hidden=True)
    assert report.seed == 7
    assert report.failures == rb.grade("request_vote", wrong_vote, ["rules"], seed=7).failures
    assert not hasattr(rb.exercises, "HIDDEN_SEED") or rb.exercises.HIDDEN_SEED != 7


def test_a_report_crosses_processes_as_plain_json():
    bug = BUGS["second_vote_in_a_term"]
    report = rb.grade(bug.handler, bug.fn, layers=["rules", "campaigns"])
    data = report.to_dict(picture=True)
    assert json.loads(json.dumps(data)) == data
    assert data["picture"].startswith("<svg")
    back = GradeReport.from_dict(data, fn=bug.fn)
    assert back.failures == report.failures and back.trace == report.trace
    assert back.replay().fingerprint() == report.replay().fingerprint()
    assert "<svg" in back._repr_html_()


def test_check_raises_with_the_report_and_assigns_nothing():
    with pytest.raises(AssertionError, match="wrong_vote"):
        rb.exercises.check("request_vote", wrong_vote, "rules")
    with pytest.raises(rb.InvalidArgument):
        rb.exercises.check("request_vote", wrong_vote, "rule")


def test_check_adds_the_instructors_seed_only_when_there_is_one(monkeypatch):
    seen = []
    real = isolate._grade_data

    def spy(name, fn, layers, seeds, limits):
        seen.append(list(seeds))
        return real(name, fn, layers, seeds, limits)
    monkeypatch.setattr(isolate, "_grade_data", spy)
    bug = BUGS["apply_twice"]  # passes its scenarios at every seed
    monkeypatch.setattr(isolate, "_HIDDEN", None)
    rb.exercises.check(bug.handler, bug.fn, "scenarios")
    monkeypatch.setattr(isolate, "_HIDDEN", "7")
    rb.exercises.check(bug.handler, bug.fn, "scenarios")
    with pytest.raises(AssertionError, match=r"apply_twice\): FAILED  \[rules 3/5\]"):
        rb.exercises.check(bug.handler, bug.fn, "rules")
    assert seen == [[0], [0, 7], [0, 7]]


# -- regrading outside any kernel --------------------------------------------------------------------

import json as _json
import subprocess as _subprocess
import sys as _sys
from pathlib import Path as _Path

from raftbook.exercises import isolate as _isolate


def _cli(*args, env=None):
    import os
    env = dict(os.environ if env is None else env)
    proc = _subprocess.run([_sys.executable, "-m", "raftbook.exercises.isolate", *args],
                           capture_output=True, text=True, timeout=240, env=env)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


def test_definitions_keep_functions_imports_and_constants_only():
    code = ("import raftbook as rb\nLIMIT = 3\nprint('x')\nc = rb.Cluster(3)\n"
            "def handle_request_vote(node, msg):\n    return []\n%time 1\n")
    kept = _isolate.definitions(code.replace("%time 1\n", ""))
    assert "import raftbook as rb" in kept and "LIMIT = 3" in kept and "def handle_request_vote" in kept
    assert "print" not in kept and "Cluster" not in kept


def test_the_regrade_command_grades_a_source_file_at_both_seeds(tmp_path):
    bug = BUGS["vote_for_stale_candidates"]
    import inspect
    src = tmp_path / "mine.py"
    src.write_text("from raftbook import RequestVoteReply, Role\n"
                   "from raftbook.exercises.bugs import _up_to_date, _refuse, _grant\n"
                   "print('not run')\n\n" + inspect.getsource(bug.fn).replace(bug.name, "handle_request_vote"))
    out = _json.loads(_cli("--source", str(src), "--name", "request_vote", "--hidden-seed", "7", "--json"))
    (item,) = out
    assert item["seeds"] == [0, 7]
    (fn,) = item["functions"]
    failed = tuple(layer for layer, v in fn["layers"].items() if not v["passed"])
    assert failed == bug.fails
    assert fn["points"] == 10 - sum(_isolate.POINTS[layer] for layer in bug.fails) and fn["max"] == 10


def test_the_regrade_command_summarizes_collected_notebooks(tmp_path):
    course = _Path(__file__).resolve().parent.parent / "course" / "source" / "A4"
    out = _cli(str(course), "--layers", "rules", "--hidden-seed", "3")
    assert "A4_commitment.ipynb: 10/10" in out
    assert "advance_commit_index (advance_commit_index): rules 5/5" in out
    assert "apply_committed (apply_committed): rules 5/5" in out
