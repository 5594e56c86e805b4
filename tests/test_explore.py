"""Bounded exhaustive search (rb.explore) and fault campaigns at scale (rb.campaign)."""
import json
import os
import subprocess
import sys

import pytest

import raftbook as rb
from raftbook.campaigns import schedule, shrink
from raftbook.explore import (BUG_SEARCHES, FIGURE8_START, NODE_FIELDS, explore_bugs,
                              materialize)
from raftbook.exercises.bugs import BUGS
from raftbook.roles import Role


def commit_without_term_check(node):
    """advance_commit_index with Figure 8's current-term check removed."""
    if node.role is not Role.LEADER:
        return
    for n in range(node.log.last_index, node.commit_index, -1):
        if 1 + sum(1 for p in node.peers if node.match_index.get(p, 0) >= n) >= node.quorum:
            node.commit_index = n
            return


FIG8 = dict(n=3, initial=FIGURE8_START, max_term=5, max_log=3, max_in_flight=4, values=0,
            max_depth=12)
SMALL = dict(n=3, max_term=1, max_log=2, max_in_flight=3)


# -- Figure 8 ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def figure8():
    return explore(handlers={"advance_commit_index": commit_without_term_check},
                   max_entries=1, **FIG8)


def explore(**kw):
    return rb.explore(progress=False, **kw)


def test_search_finds_figure8_when_the_current_term_rule_is_removed(figure8):
    r = figure8
    assert not r.ok and r.violation.property == "leader_completeness"
    # S1 (term 4) commits the term-2 entry at index 2 by counting; S2 then wins term 5 without it.
    assert r.violation.index == 2 and r.violation.term == 5
    assert len(r.path) == 12 and r.path[0] == ("timeout", 1)
    assert r.states > r.distinct > 0 and r.depth == 12


def test_reference_core_is_safe_within_the_same_bounds():
    r = explore(max_entries=1, **FIG8)
    assert r.ok and r.violation is None and r.depth == 12
    assert r.distinct > 5000  # it did look: the same space the buggy rule fails in


def test_figure8_needs_appendentries_that_split_the_tail():
    """With whole-tail AppendEntries the leader's no-op rides along with the old entry, so the
    wrong commit rule never commits an earlier-term entry alone (the DESIGN note's point)."""
    r = explore(handlers={"advance_commit_index": commit_without_term_check}, **FIG8)
    assert r.ok


def test_counterexample_replays_in_a_cluster_and_as_json(figure8):
    c = figure8.cluster()
    with pytest.raises(rb.SafetyViolation) as err:
        rb.check_safety(c)
    assert err.value.property == "leader_completeness"
    assert len(c.history) == len(figure8.path)
    assert [e.kind for e in c.history][:1] == ["timeout"]
    data = json.loads(json.dumps(figure8.trace()))
    handlers = {"advance_commit_index": commit_without_term_check}
    again = rb.Cluster.from_trace(data, handlers=handlers)
    assert again.fingerprint() == c.fingerprint()
    assert again.violation is not None and again.violation.property == "leader_completeness"
    c.undo()  # widget-ready: the history steps back
    assert c.violation is None


def test_save_trace_writes_json(figure8, tmp_path):
    path = tmp_path / "fig8.json"
    figure8.save_trace(path)
    c = rb.Cluster.load_trace(path, handlers={"advance_commit_index": commit_without_term_check})
    assert c.violation.property == "leader_completeness"


# -- determinism, symmetry, bounds --------------------------------------------------------------
def test_state_counts_are_stable_across_runs():
    a, b = explore(**SMALL), explore(**SMALL)
    assert (a.states, a.distinct, a.depth, a.exhausted) == (b.states, b.distinct, b.depth, True)


def test_state_counts_do_not_depend_on_string_hashing():
    code = ("import raftbook as rb; r = rb.explore(3, max_term=1, max_log=2, max_in_flight=3, "
            "progress=False); print(r.states, r.distinct, r.depth)")
    outs = set()
    for hashseed in ("1", "2"):
        env = dict(os.environ, PYTHONHASHSEED=hashseed)
        outs.add(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                                text=True, check=True).stdout)
    here = explore(**SMALL)
    assert outs == {f"{here.states} {here.distinct} {here.depth}\n"}


@pytest.fixture
def parallel_early(monkeypatch):
    """Hand levels to the workers from the first one of 8 states on."""
    monkeypatch.setattr("raftbook.bfs.PARALLEL_FROM", 8)


@pytest.mark.parametrize("kwargs", [
    dict(symmetry=False, **SMALL),                                    # exhausted
    dict(max_states=500, **SMALL),                                    # stopped by max_states
    dict(goal="client_commit", n=3, max_term=1, max_log=2, max_in_flight=5),
    dict(handlers={"advance_commit_index": commit_without_term_check}, max_entries=1, **FIG8),
])
def test_workers_do_not_change_the_result(parallel_early, kwargs):
    one, two = explore(**kwargs), explore(workers=2, **kwargs)
    assert two.workers == 2 and len(two.worker_cpu) == 2 and one.workers == 1
    assert (one.distinct, one.depth, one.exhausted, one.stopped, one.path, one.goal_reached) == \
        (two.distinct, two.depth, two.exhausted, two.stopped, two.path, two.goal_reached)
    assert (one.states, one.out_of_bounds) == (two.states, two.out_of_bounds)
    assert str(one.violation) == str(two.violation)


def test_symmetry_reduction_merges_renamed_states_and_keeps_verdicts():
    sym, full = explore(**SMALL), explore(symmetry=False, **SMALL)
    assert sym.symmetry and not full.symmetry
    assert sym.distinct < full.distinct <= 6 * sym.distinct  # 3! renamings at most
    assert sym.depth == full.depth and sym.ok and full.ok
    bug = BUGS["second_vote_in_a_term"]
    kw = dict(handlers={bug.handler: bug.fn}, n=3, max_term=1, max_log=1, max_in_flight=6, values=0)
    a, b = explore(**kw), explore(symmetry=False, **kw)
    assert a.violation.property == b.violation.property == "election_safety"
    assert len(a.path) == len(b.path) == 6  # both breadth first: equally short


def test_symmetry_is_off_when_servers_start_differently():
    r = explore(**FIG8)
    assert not r.symmetry and "S1" in r.symmetry_note
    with pytest.raises(rb.InvalidArgument, match="unsound"):
        explore(symmetry=True, **FIG8)


def test_bounds_hold_in_every_explored_state():
    seen = []

    def record(state):
        seen.append(state)
        return False
    r = explore(goal=record, **SMALL)
    assert r.ok and r.exhausted and len(seen) == r.distinct
    for s in seen:
        assert len(s.in_flight) <= 3
        assert all(n.current_term <= 1 and len(n.log) <= 2 for n in s.nodes.values())


def test_max_depth_and_max_states_stop_the_search():
    r = explore(max_depth=4, **SMALL)
    assert r.depth == 4 and not r.exhausted and "max_depth" in r.stopped
    r = explore(max_states=100, **SMALL)
    assert not r.exhausted and "max_states" in r.stopped and r.distinct >= 100


# -- goals and handler errors -------------------------------------------------------------------
def test_goal_gives_the_shortest_way_there():
    r = explore(goal="commit", n=3, max_term=1, max_log=1, max_in_flight=8, values=0)
    # timeout, one vote request and its reply, one AppendEntries and its reply.
    assert r.goal_reached and r.ok and len(r.path) == 5
    c = r.cluster()
    assert c.nodes[r.path[0][1]].commit_index == 1
    r = explore(goal="client_commit", n=3, max_term=1, max_log=2, max_in_flight=8)
    assert r.goal_reached and len(r.path) == 6
    assert [p[0] for p in r.path].count("propose") == 1


def test_goal_function_sees_a_state_view():
    r = explore(goal=lambda s: s.leader is not None and len(s.in_flight) == 0, **SMALL)
    assert r.goal_reached
    c = r.cluster()
    assert c.leader is not None and not c.in_flight
    never = explore(goal=lambda s: False, **SMALL)
    assert not never.goal_reached and never.exhausted and "never reached" in never.verdict()


def test_goal_functions_turn_symmetry_off_unless_told_otherwise():
    """'S3 leads' is no goal up to renaming servers: the default search must not merge it away."""
    def s3_leads(s):
        return s.nodes[3].role is Role.LEADER
    r = explore(goal=s3_leads, **SMALL)
    assert r.goal_reached and not r.symmetry and "goal function" in r.symmetry_note
    assert r.cluster().nodes[3].role is Role.LEADER
    assert explore(goal="leader", **SMALL).symmetry  # named goals are symmetric


def test_a_handler_that_raises_is_a_finding():
    def fragile(node, msg):
        if msg.term > 1:
            raise ValueError("cannot handle term 2")
        return rb.reference_handlers["request_vote"](node, msg)
    r = explore(handlers={"request_vote": fragile}, n=3, max_term=2, max_log=1, max_in_flight=3)
    assert not r.ok and isinstance(r.handler_error, rb.HandlerError) and r.violation is None
    assert "cannot handle term 2" in str(r.handler_error)
    c = r.cluster()  # replays up to the event that raised
    assert len(c.history) == len(r.path) - 1
    with pytest.raises(rb.HandlerError):
        materialize(r._setup, r.path)


def test_faults_widen_the_search():
    every = ("timeout", "deliver", "heartbeat", "propose", "drop", "duplicate", "crash", "restart")
    calm = explore(max_depth=6, **SMALL)
    faulty = explore(events=every, max_depth=6, **SMALL)
    assert calm.ok and faulty.ok and faulty.distinct > calm.distinct
    assert set(faulty.events) == set(every)


def test_node_fields_are_all_known_to_the_search():
    """A new field in RaftNode must be saved and restored by the search (NODE_FIELDS)."""
    node = rb.RaftNode(1, [2, 3])
    assert set(vars(node)) == NODE_FIELDS


def test_report_and_summary():
    r = explore(**SMALL)
    table = r.summary()
    assert table.loc["distinct states", "value"] == r.distinct
    assert r.states_per_second > 0 and r.distinct_per_second > 0
    assert "no violation" in r.verdict() and "ExploreResult" in repr(r)
    assert r.collision_probability < 1e-9
    with pytest.raises(rb.InvalidArgument):
        r.cluster()  # nothing was found


def test_progress_text(capsys):
    rb.explore(progress="text", **SMALL)
    assert "distinct" in capsys.readouterr().err


@pytest.mark.parametrize("kwargs", [
    dict(n=0), dict(n=9), dict(max_term=0), dict(max_term="2"), dict(max_depth=-1),
    dict(events=["fly"]), dict(events=[]), dict(goal="win"), dict(goal=3), dict(symmetry="yes"),
    dict(values=-1), dict(values=[("jump",)]), dict(progress="loud"), dict(initial=[1]),
    dict(initial={9: {}}), dict(max_entries=0), dict(handlers={"nope": len}), dict(workers=0),
])
def test_bad_arguments_are_clear_errors(kwargs):
    with pytest.raises(rb.RaftbookError):
        rb.explore(**kwargs)


# -- the bug catalogue ----------------------------------------------------------------------------
FOUND_BY_SEARCH = {
    "second_vote_in_a_term": "election_safety",
    "up_to_date_by_length": "leader_completeness",
    "truncate_on_duplicate": "leader_completeness",
    "no_term_check_at_prev_index": "log_matching",
    "accept_stale_leader": "leader_completeness",
    "match_index_from_next_index": "leader_completeness",
    "commit_earlier_term_by_counting": "leader_completeness",
}


def test_search_finds_the_catalogued_safety_bugs():
    table = explore_bugs({name: BUGS[name] for name in FOUND_BY_SEARCH})
    assert table["found"].all() and table["confirmed"].all()
    assert table["property"].to_dict() == FOUND_BY_SEARCH
    assert (table["events"] <= 13).all()


def test_reference_passes_every_bug_search():
    for label, kwargs in BUG_SEARCHES:
        r = rb.explore(progress=False, **kwargs)
        assert r.ok, label


# -- campaigns --------------------------------------------------------------------------------
def test_schedule_is_a_function_of_the_seed():
    assert schedule(7) == schedule(7) != schedule(8)
    kinds = {a[0] for a in schedule(3, steps=200)}
    assert kinds == {"run", "propose", "crash", "restart", "timeout", "partition", "heal"}
    assert {a[0] for a in schedule(3, steps=200, faults=())} == {"run", "propose"}


def test_campaign_on_the_reference_core_is_clean_and_tabulated():
    r = rb.campaign(12, n=3, workers=1)
    t = r.table
    assert r.ok and not r.failures and len(t) == 12 and list(t.index) == list(range(12))
    assert t["committed"].sum() > 0 and t["delivered"].sum() > 0 and (t["ticks"] > 0).all()
    assert t["max_term"].max() >= 1 and t["leaders"].min() >= 1
    s = r.summary()
    assert s.loc["seeds", "value"] == 12 and s.loc["failed", "value"] == 0


def test_campaign_results_do_not_depend_on_the_number_of_workers():
    bug = BUGS["second_vote_in_a_term"]
    kw = dict(n=3, handlers={bug.handler: bug.fn}, minimize=0)
    one = rb.campaign(range(10, 18), workers=1, **kw).table.drop(columns="seconds")
    two = rb.campaign(range(10, 18), workers=2, **kw).table.drop(columns="seconds")
    assert one.equals(two)
    assert not one["ok"].all()


def test_failing_seed_is_minimized_to_a_short_replayable_trace():
    bug = BUGS["second_vote_in_a_term"]
    handlers = {bug.handler: bug.fn}
    r = rb.campaign(6, n=3, handlers=handlers, workers=1)
    assert r.failures and set(r.counterexamples) == {r.failures[0]}
    ex = r.counterexamples[r.failures[0]]
    assert ex.finding == "safety" and ex.property == "election_safety"
    assert len(ex.actions) <= ex.original_actions
    assert ex.events is not None  # unrolled into single events
    kinds = {e["kind"] for e in ex.trace["events"]}
    assert "run" not in kinds and "tick" in kinds
    c = ex.cluster()
    assert c.violation is not None and c.violation.property == "election_safety"
    again = rb.Cluster.from_trace(json.loads(json.dumps(ex.trace)), handlers=handlers)
    assert again.fingerprint() == c.fingerprint()


def test_campaign_reports_floods_and_handler_errors():
    def flood(node, msg):  # answers every reply with a fresh round of AppendEntries
        out = rb.reference_handlers["append_entries_reply"](node, msg)
        if node.role is Role.LEADER:
            out = out + [node.append_entries_for(p) for p in node.peers] * 3
        return out
    r = rb.campaign(3, n=3, handlers={"append_entries_reply": flood}, workers=1, flood_cap=60,
                    faults=(), minimize=0)
    assert set(r.table["finding"]) == {"flood"}

    def crashy(node, msg):
        raise RuntimeError("oops")
    r = rb.campaign(2, n=3, handlers={"request_vote": crashy}, workers=1)
    assert set(r.table["finding"]) == {"handler_error"} and "oops" in r.table["detail"].iloc[0]
    ex = r.counterexamples[0]
    assert ex.finding == "handler_error" and ex.events is None and len(ex.actions) == 1
    c = ex.cluster(handlers={"request_vote": crashy})  # replays up to the tick that raised
    assert c.history and {e.kind for e in c.history} == {"run_until"}
    assert any(type(env.msg).__name__ == "RequestVote" for env in c.in_flight)
    with pytest.raises(rb.HandlerError, match="oops"):
        c.run(5)


def test_shrink_keeps_what_the_predicate_needs():
    items = list(range(40))
    assert shrink(items, lambda xs: 7 in xs and 30 in xs, budget=500) == [7, 30]
    assert shrink(items, lambda xs: 7 in xs, budget=2) != [7]  # budget stops it early


@pytest.mark.parametrize("kwargs", [
    dict(seeds=0), dict(seeds=[1, 1]), dict(seeds="x"), dict(n=0), dict(steps=0),
    dict(faults=["meteor"]), dict(load=2), dict(workers=0), dict(minimize=-1),
    dict(latency=(0, 1)), dict(config=3), dict(handlers={"nope": len}), dict(flood_cap=0),
])
def test_campaign_bad_arguments_are_clear_errors(kwargs):
    with pytest.raises(rb.RaftbookError):
        rb.campaign(**{"seeds": 2, **kwargs})
