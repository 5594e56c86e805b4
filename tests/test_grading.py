"""rb.grade: the report contract, replayable traces, determinism, bad input, hostile handlers."""
from __future__ import annotations

import json

import pytest

import raftbook as rb
from raftbook.exercises import BUGS, GRADED, HIDDEN_SEED, LAYERS, make_node
from raftbook.exercises.campaign import run_campaign
from raftbook.exercises.grader import rule_count, run_checks
from raftbook.exercises.targets import handler_of
from raftbook.rules import reference_handlers_all

REFERENCE = {name: reference_handlers_all[handler_of(name)] for name in GRADED}


@pytest.mark.parametrize("name", sorted(GRADED))
@pytest.mark.parametrize("seed", [0, HIDDEN_SEED, 5])
def test_the_reference_rules_pass_every_layer(name, seed):
    report = run_checks(name, REFERENCE[name], seed=seed)
    assert report.passed, str(report)
    assert report.failures == [] and report.trace is None
    assert set(report.layers) == set(LAYERS)
    assert all(report.layers[layer].checks > 0 for layer in LAYERS)
    assert bool(report) and "PASSED" in str(report) and "Every check passed" in str(report)


def test_a_report_names_the_rule_and_hands_back_a_replayable_failing_run(tmp_path):
    bug = BUGS["commit_earlier_term_by_counting"]
    report = rb.grade(bug.handler, bug.fn)
    assert not report.passed and not report.layer_passed("rules") and not report.layer_passed("scenarios")
    assert report.layer_passed("campaigns")
    text = "\n".join(report.failures)
    assert "Figure 8" in text and "commit_index = 2" in text
    # The rule finding carries code that reproduces it on one node.
    rule = next(f for f in report.findings if f.layer == "rules")
    assert rule.trace is None and "make_node(n=5, term=3" in rule.reproduce
    ns = {"rb": rb, bug.fn.__name__: bug.fn}
    exec(rule.reproduce.replace("rb.exercises.make_node(", "rb.exercises.make_node({%r: %s}, " %
                                (bug.handler, bug.fn.__name__)), ns)
    assert ns["node"].commit_index == 2  # the buggy commit, reproduced by hand
    # The scenario finding carries a trace: replay it and see the same state.
    trace = report.trace
    assert trace is not None and json.loads(json.dumps(trace)) == trace
    c = report.replay()
    assert c.fingerprint() == trace["final"]["fingerprint"]
    assert c.nodes[1].commit_index == 2 and c.nodes[1].current_term == 4
    same = rb.Cluster.from_trace(trace, handlers={bug.handler: bug.fn})
    assert same.fingerprint() == c.fingerprint()
    path = tmp_path / "failing.json"
    report.save_trace(path)
    assert rb.Cluster.load_trace(path, handlers={bug.handler: bug.fn}).fingerprint() == c.fingerprint()


def test_a_safety_finding_replays_to_the_violation_and_quotes_the_steps():
    bug = BUGS["second_vote_in_a_term"]
    report = rb.grade(bug.handler, bug.fn, layers=["campaigns"])
    (finding,) = report.findings
    assert finding.rule.startswith("Election safety")
    assert any(step.startswith("!") and "already voted" in step for step in finding.steps)
    c = report.replay()
    with pytest.raises(rb.SafetyViolation) as info:
        rb.check_safety(c)
    assert info.value.property == "election_safety"
    # Minimized: far shorter than the campaign it came from.
    assert len(c.history) <= 20
    # The student steps through it in the widget.
    widget = rb.show(c)
    widget.buttons["Undo"].click()
    assert len(c.history) == len(report.trace["events"]) - 1


def test_grading_is_deterministic():
    bug = BUGS["match_index_from_next_index"]
    a = rb.grade(bug.handler, bug.fn)
    b = rb.grade(bug.handler, bug.fn)
    assert a.failures == b.failures
    assert a.trace == b.trace


def test_the_hidden_seed_shifts_the_terms_of_the_rule_cases():
    bug = BUGS["second_vote_in_a_term"]
    visible = rb.grade(bug.handler, bug.fn, layers="rules")
    hidden = rb.grade(bug.handler, bug.fn, layers="rules", seed=HIDDEN_SEED)
    assert [f.check for f in visible.findings] == [f.check for f in hidden.findings]
    assert visible.failures != hidden.failures
    assert "in term 2" in visible.failures[0] and "in term 3" in hidden.failures[0]


def test_layers_can_be_chosen():
    report = run_checks("request_vote", REFERENCE["request_vote"], layers=["rules"])
    assert list(report.layers) == ["rules"]
    assert report.layer_passed("rules") and not report.layer_passed("campaigns")


def test_the_report_renders_in_a_notebook():
    bug = BUGS["no_back_off"]
    report = rb.grade(bug.handler, bug.fn)
    html = report._repr_html_()
    assert "data-passed='false'" in html and "Back-off" in html and "rb.show(report.replay())" in html
    assert "<script" not in html
    ok = run_checks("append_entries_reply", REFERENCE["append_entries_reply"], layers=["rules"])
    assert "data-passed='true'" in ok._repr_html_()
    assert repr(ok).startswith("<GradeReport append_entries_reply")


@pytest.mark.parametrize("args, words", [
    (("vote", REFERENCE["request_vote"]), "no grader for 'vote'"),
    (("request_vote_reply", REFERENCE["request_vote"]), "no grader for it"),
    (("request_vote", None), "needs the function itself"),
    (("request_vote", REFERENCE["request_vote"](make_node(), rb.RequestVote(2, 1, 1, 0, 0))), "needs the function"),
])
def test_bad_input_is_a_clear_error(args, words):
    with pytest.raises(rb.InvalidArgument, match=words):
        rb.grade(*args)


@pytest.mark.parametrize("kwargs", [{"layers": ["rule"]}, {"layers": []}, {"layers": 3}, {"seed": -1},
                                    {"seed": "0"}, {"seed": True}])
def test_bad_options_are_clear_errors(kwargs):
    with pytest.raises(rb.RaftbookError):
        rb.grade("request_vote", REFERENCE["request_vote"], **kwargs)


def test_a_handler_that_raises_fails_every_layer_with_its_error():
    def handle_request_vote(node, msg):
        raise NotImplementedError()
    report = rb.grade("request_vote", handle_request_vote)
    assert not any(report.layer_passed(layer) for layer in LAYERS)
    assert "NotImplementedError" in report.failures[0]
    assert report.trace is not None  # the first run that called it


def test_a_handler_that_returns_garbage_is_reported():
    report = rb.grade("append_entries", lambda node, msg: None, layers=["rules"])
    assert "must return a list of messages" in report.failures[0]


def test_a_handler_that_breaks_its_server_is_a_finding():
    def replaces_the_log(node, msg):
        node.log = []
        return []
    report = rb.grade("append_entries", replaces_the_log)
    assert not any(report.layer_passed(layer) for layer in LAYERS)
    assert any("node.log is [] (list); it must stay the server's log" in f for f in report.failures)
    assert all(f.rule.startswith("A handler runs without raising") for f in report.findings
               if f.layer != "rules")


def test_a_flooding_handler_is_a_finding_not_a_hang():
    def flood(node, msg):
        out = reference_handlers_all["append_entries_reply"](node, msg)
        if node.role is rb.Role.LEADER:
            out = out + [node.append_entries_for(p) for p in node.peers for _ in range(2)]
        return out
    finding = run_campaign("append_entries_reply", flood, seed=3, n=3)
    assert finding is not None and finding.rule == "The network must not flood"
    assert "messages are in flight at once" in finding.message


def test_a_handler_that_never_elects_anyone_is_a_liveness_finding():
    def never(node, msg):
        if msg.term > node.current_term:
            node.become_follower(msg.term)
        return [rb.RequestVoteReply(node.id, msg.src, node.current_term, False)]
    report = rb.grade("request_vote", never, layers=["campaigns"])
    assert report.findings[0].rule.startswith("Liveness")
    assert "leader" in report.failures[0]


def test_make_node_builds_the_state_it_is_told():
    node = make_node(id=2, n=5, term=4, log=[1, (2, ("set", "x", 1)), 4], commit_index=2, role="leader",
                     match_index={1: 3})
    assert node.peers == (1, 3, 4, 5) and node.current_term == 4 and node.log.terms() == [1, 2, 4]
    assert node.kv == {"x": 1} and node.last_applied == 2
    assert node.next_index == {1: 4, 3: 4, 4: 4, 5: 4} and node.match_index[1] == 3
    assert node.leader_id == 2
    cand = make_node(term=3, role="candidate")
    assert cand.voted_for == 1 and cand.votes == {1}


@pytest.mark.parametrize("kwargs", [{"id": 4}, {"n": 0}, {"role": "king"}, {"term": 1, "log": [2]},
                                    {"log": [1], "commit_index": 2}])
def test_make_node_rejects_impossible_states(kwargs):
    with pytest.raises(rb.InvalidArgument):
        make_node(**kwargs)


def test_a_stuck_commit_is_not_labelled_as_a_missing_leader():
    bug = BUGS["forget_to_advance_commit"]
    report = rb.grade(bug.handler, bug.fn, layers=["scenarios"])
    crash = next(f for f in report.findings if f.check == "leader crash after submit")
    assert crash.rule.startswith("Commitment") and "no-op) committed and applied" in crash.message
    assert "first leader being elected" not in crash.message
    # The step where the rule broke is marked, and the words are the student's, not the tool's.
    assert crash.steps[-1].startswith("» t=")
    assert "What happened, oldest first (» marks where the rule broke)" in str(crash)
    text = "\n".join(str(f) for f in rb.grade(BUGS["second_vote_in_a_term"].handler,
                                               BUGS["second_vote_in_a_term"].fn, layers=["campaigns"]).findings)
    assert "replaced handler" not in text and "(what your function did)" in text


# -- A5: the InstallSnapshot grader (Figure 13) -------------------------------------------------
@pytest.mark.parametrize("seed", [0, HIDDEN_SEED, 7])
def test_install_snapshot_grader_passes_the_reference_and_exercises_it(seed):
    calls = []

    def counted(node, msg):
        calls.append(msg.last_included_index)
        return reference_handlers_all["install_snapshot"](node, msg)
    report = run_checks("install_snapshot", counted, seed=seed)
    assert report.passed, report.failures
    assert report.layers["rules"].checks == rule_count("install_snapshot") >= 8
    assert report.layers["scenarios"].checks == 3
    assert report.layers["campaigns"].checks == 49  # 48 campaigns and the progress comparison
    assert len(calls) > 50  # the campaigns' followers really fall behind snapshots


def test_make_node_builds_a_server_with_a_snapshot():
    node = make_node(log=[(1, ("set", "x", i)) for i in range(1, 6)], commit_index=5, snapshot=3, term=1)
    assert (node.snapshot_index, node.log.first_index, node.log.last_index) == (3, 4, 5)
    assert node.snapshot_data["kv"] == [["x", 3]] and dict(node.kv) == {"x": 5}
    with pytest.raises(rb.InvalidArgument, match="snapshot"):
        make_node(log=[1, 1], term=1, commit_index=1, snapshot=2)


def test_state_checks_read_a_compacted_log_and_catch_an_unapplied_snapshot():
    from raftbook.exercises.budget import state_problem
    node = make_node(log=[(1, ("set", "x", i)) for i in range(1, 6)], commit_index=5, snapshot=3, term=1)
    assert state_problem(node) is None
    node.log.install_snapshot(7, 1)
    node.commit_index = 7
    assert "below the snapshot's last index 7" in state_problem(node)


def test_a_stale_snapshot_is_reported_with_its_rule_and_a_replayable_run():
    bug = BUGS["stale_snapshot_installed"]
    report = rb.grade("install_snapshot", bug.fn, layers=["rules", "scenarios"])
    rules = [f.rule for f in report.findings]
    assert any("receiver rule 5" in r for r in rules)
    scene = next(f for f in report.findings if f.layer == "scenarios")
    c = rb.Cluster.from_trace(scene.trace, handlers={"install_snapshot": bug.fn})
    assert len(c.history) == len(scene.trace["events"])


# -- A5: persistence points (RequestVote under explicit persistence) ----------------------------
@pytest.mark.parametrize("seed", [0, HIDDEN_SEED, 7])
def test_the_persistent_vote_grader_runs_request_vote_on_explicit_servers(seed):
    seen = []

    def counted(node, msg):
        seen.append((node.config.persistence, type(msg).__name__))
        return reference_handlers_all["request_vote"](node, msg)
    report = run_checks("request_vote_persistent", counted, seed=seed)
    assert report.passed, report.failures
    assert report.layers["rules"].checks == rule_count("request_vote_persistent") + 1 >= 8
    assert report.layers["scenarios"].checks == 3
    assert report.layers["campaigns"].checks == 25
    # the cases, scenes and campaigns run explicit servers; the grid comparison with the
    # request_vote rule runs the default ones, where node.persist() does nothing
    assert seen.count(("explicit", "RequestVote")) > 100
    assert set(seen) == {("explicit", "RequestVote"), ("auto", "RequestVote")}


def test_an_unsaved_vote_is_found_on_one_node_and_in_a_replayable_double_vote():
    bug = BUGS["vote_without_saving"]
    report = rb.grade("request_vote_persistent", bug.fn, layers=["rules", "scenarios"])
    rule = next(f for f in report.findings if f.layer == "rules")
    assert "Figure 2" in rule.rule and "node.saved" in rule.message
    assert "persistence='explicit'" in rule.reproduce
    ns = {"rb": rb, bug.fn.__name__: bug.fn}
    exec(rule.reproduce.replace("rb.exercises.make_node(", "rb.exercises.make_node({'request_vote': %s}, "
                                % bug.fn.__name__), ns)
    node = ns["node"]
    assert node.voted_for == 2 and node.saved["voted_for"] is None and "voted_for" in node.unsaved
    scene = next(f for f in report.findings if f.layer == "scenarios")
    assert "same term 1" in scene.message
    c = rb.Cluster.from_trace(scene.trace, handlers={"request_vote": bug.fn})
    assert c.config.persistence == "explicit" and c.nodes[2].voted_for == 3
    assert any(e.kind == "restart" for e in c.history)
    assert report.replay().config.persistence == "explicit"
    # The correct rule, on the same scene: the restarted voter remembers S1.
    assert rb.grade("request_vote_persistent", reference_handlers_all["request_vote"],
                    layers=["scenarios"]).passed


def test_make_node_saves_the_chosen_state_under_explicit_persistence():
    node = make_node(term=3, voted_for=2, log=[1, 3], persistence="explicit")
    assert node.saved == {"current_term": 3, "voted_for": 2, "last_index": 2, "snapshot_index": 0}
    assert node.unsaved == [] and make_node(term=1).saved is None
    with pytest.raises(rb.InvalidArgument, match="persistence"):
        make_node(persistence="sometimes")
