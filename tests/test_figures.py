"""Scenario replays: the paper's Figures 7 and 8, and the other named scenarios."""
import pytest

import raftbook as rb
from raftbook import scenarios as sc
from raftbook.roles import Role

FOLLOWERS = sc.FIGURE7_FOLLOWERS


def history_key(c):
    return [(e.kind, e.args) for e in c.history]


# -- Figure 7 ----------------------------------------------------------------------------
def test_figure7_logs_are_the_papers():
    logs = sc.FIGURE7_LOGS
    assert logs["leader"] == [1, 1, 1, 4, 4, 5, 5, 6, 6, 6]
    assert {k: len(v) for k, v in logs.items()} == {
        "leader": 10, "a": 9, "b": 4, "c": 11, "d": 12, "e": 7, "f": 11}


def test_figure7_election_of_term_8():
    c = sc.figure7()
    leader = c.nodes[1]
    assert c.leader == 1 and leader.current_term == 8
    assert leader.log.terms() == sc.FIGURE7_LOGS["leader"] + [8]    # plus its no-op
    granted = {r.node for r in c.reasons() if r.code == "vote_granted"}
    refused = {r.node for r in c.reasons() if r.code == "vote_refused_log_not_up_to_date"}
    # S2..S7 are (a)..(f): (a), (b), (e), (f) vote for S1; (c) and (d) have better logs.
    assert granted == {2, 3, 6, 7} and refused == {4, 5}
    for i, name in enumerate(FOLLOWERS, start=2):
        assert c.nodes[i].log.terms() == sc.FIGURE7_LOGS[name]


def test_figure7_leader_brings_every_follower_to_exactly_its_log():
    c = sc.figure7()
    sc.deliver_all(c)
    leader_log = list(c.nodes[1].log)
    for i, name in enumerate(FOLLOWERS, start=2):
        assert list(c.nodes[i].log) == leader_log, f"follower ({name})"
    # Only real conflicts truncated: (a) and (b) only lacked entries.
    truncated = {name: c.nodes[i].log.truncations for i, name in enumerate(FOLLOWERS, start=2)}
    assert truncated == {"a": 0, "b": 0, "c": 1, "d": 1, "e": 1, "f": 1}
    assert c.nodes[1].commit_index == 11
    rb.check_safety(c, full=True)


@pytest.mark.parametrize("follower", FOLLOWERS)
def test_figure7_each_follower_alone(follower):
    c = sc.figure7(follower)
    assert c.n == 3 and c.nodes[2].log.terms() == sc.FIGURE7_LOGS[follower]
    sc.deliver_all(c)
    assert list(c.nodes[2].log) == list(c.nodes[1].log)
    assert c.nodes[2].log.terms() == sc.FIGURE7_LOGS["leader"] + [8]
    rb.check_safety(c, full=True)


def test_figure7_before_the_election_and_by_automatic_run():
    c = sc.figure7(elected=False)
    assert c.history == [] and c.leader is None and c.nodes[1].current_term == 7
    c.timeout(1)
    c.run(80)
    assert c.leader == 1 and c.nodes[1].current_term == 8
    for i in range(2, 8):
        assert list(c.nodes[i].log) == list(c.nodes[1].log)
        assert c.nodes[i].commit_index == 11
    rb.check_safety(c, full=True)


# -- Figure 8 ----------------------------------------------------------------------------
def terms(c):
    return {i: n.log.terms() for i, n in c.nodes.items()}


def test_figure8_stages_follow_the_caption():
    a = sc.figure8("a")
    assert a.leader == 1 and a.nodes[1].current_term == 2
    assert terms(a) == {1: [1, 2], 2: [1, 2], 3: [1], 4: [1], 5: [1]}

    b = sc.figure8("b")
    assert 1 in b.crashed and b.leader == 5 and b.nodes[5].current_term == 3
    assert terms(b)[5] == [1, 3] and terms(b)[2] == [1, 2]
    voters = {r.node for r in b.reasons() if r.code == "vote_granted" and r.fields["term"] == 3}
    assert voters == {3, 4}

    c = sc.figure8("c")
    assert c.crashed == {5} and c.leader == 1 and c.nodes[1].current_term == 4
    assert terms(c) == {1: [1, 2, 4], 2: [1, 2], 3: [1, 2], 4: [1, 2], 5: [1, 3]}
    # Index 2 (term 2) is on a majority, but the reference rule does not commit it.
    assert c.nodes[1].commit_index < 2
    assert any(r.code == "commit_not_advanced_earlier_term" and r.fields["index"] == 2
               for r in c.reasons())

    d = sc.figure8("d")
    assert d.leader == 5 and d.nodes[5].current_term == 5
    voters = {r.node for r in d.reasons() if r.code == "vote_granted" and r.fields["term"] == 5}
    assert voters == {2, 3, 4}
    for i in (2, 3, 4, 5):
        assert terms(d)[i] == [1, 3, 5]     # index 2 overwritten with S5's term-3 entry
    assert d.nodes[5].commit_index == 3

    e = sc.figure8("e")
    assert e.nodes[1].commit_index == 3 and e.nodes[1].log.terms() == [1, 2, 4]
    assert sum(n.log.terms()[:3] == [1, 2, 4] for n in e.nodes.values()) >= 3


def test_figure8_stages_extend_each_other():
    keys = {s: history_key(sc.figure8(s)) for s in sc.FIGURE8_STAGES}
    for earlier, later in [("a", "b"), ("b", "c"), ("c", "d"), ("c", "e")]:
        assert keys[later][:len(keys[earlier])] == keys[earlier]
        assert len(keys[later]) > len(keys[earlier])


@pytest.mark.parametrize("stage", sc.FIGURE8_STAGES)
def test_figure8_reference_rule_is_safe(stage):
    c = sc.figure8(stage)
    rb.check_safety(c, full=True)


def test_figure8_counting_earlier_terms_breaks_safety_in_c_to_d(raft):
    broken = {"advance_commit_index": raft.any_term_commit}
    c = sc.figure8("c", handlers=broken)
    assert c.nodes[1].commit_index == 2          # committed the term-2 entry by counting
    rb.check_safety(c, full=True)                # ... which looks fine so far
    d = sc.figure8("d", handlers=broken)
    with pytest.raises(rb.SafetyViolation) as info:
        rb.check_safety(d)
    v = info.value
    assert v.property in ("leader_completeness", "state_machine_safety")
    assert v.index == 2 and 5 in v.nodes
    assert "index 2" in str(v)
    # The overwrite really happened: S1 applied the term-2 entry, the rest a term-3 one.
    assert d.nodes[1].log.term_at(2) == 2 and d.nodes[1].last_applied >= 2
    assert all(d.nodes[i].log.term_at(2) == 3 for i in (2, 3, 4, 5))
    # The full state check (no monitor history) sees it too.
    with pytest.raises(rb.SafetyViolation):
        rb.check_safety(sc.figure8("d", handlers=broken), full=True)


def test_figure8_e_is_safe_even_with_the_broken_rule(raft):
    c = sc.figure8("e", handlers={"advance_commit_index": raft.any_term_commit})
    rb.check_safety(c, full=True)


def test_figure8_e_s5_can_no_longer_win():
    c = sc.figure8("e")
    c.crash(1)
    c.restart(5)
    for _ in range(3):
        assert not sc.stand_for_election(c, 5)
    refusals = [r for r in c.reasons() if r.code == "vote_refused_log_not_up_to_date"
                and r.fields["candidate"] == 5]
    assert refusals
    rb.check_safety(c, full=True)


# -- the other scenarios ---------------------------------------------------------------
@pytest.mark.parametrize("n", [3, 4, 5, 6, 7])
def test_split_vote_nobody_wins_then_the_next_timeout_resolves(n):
    c = sc.split_vote(n)
    quorum = n // 2 + 1
    assert c.leader is None and c.in_flight == []
    for cand in (1, 2):
        node = c.nodes[cand]
        assert node.role is Role.CANDIDATE and node.current_term == 1
        assert 1 < len(node.votes) < quorum or (n == 3 and len(node.votes) == 1)
    assert sc.stand_for_election(c, 1)
    assert c.leader == 1 and c.nodes[1].current_term == 2
    rb.check_safety(c, full=True)


def test_split_vote_resolves_automatically_too():
    c = sc.split_vote()
    assert c.run_until(lambda c: c.leader is not None, 200)
    assert c.nodes[c.leader].current_term >= 2
    r = sc.split_vote(resolved=True)
    assert r.leader == 1 and r.nodes[1].current_term == 2


def test_leader_crash_after_submit_depends_on_the_winner():
    c = sc.leader_crash_after_submit()
    p = c.proposals[0]
    assert c.crashed == {1} and c.status(p) == "pending"
    holders = {i for i, n in c.nodes.items() if n.log.term_at(p.index) == p.term}
    assert holders == {1, 2}
    assert sc.leader_crash_after_submit(winner=2).status(p) == "committed"
    for w in (3, 4, 5):
        c = sc.leader_crash_after_submit(winner=w)
        assert c.leader == w and c.status(c.proposals[0]) == "lost"
        rb.check_safety(c, full=True)


def test_partition_two_leaders():
    c = sc.partition_two_leaders()
    stale, new = c.proposals
    assert c.nodes[1].role is Role.LEADER and c.nodes[1].current_term == 1
    assert c.leader == 3 and c.nodes[3].current_term == 2
    assert c.nodes[1].commit_index < stale.index         # it can never commit
    assert c.status(new) == "committed"
    rb.check_safety(c, full=True)
    h = sc.partition_two_leaders(healed=True)
    assert h.nodes[1].role is Role.FOLLOWER and h.nodes[1].current_term == 2
    assert h.status(h.proposals[0]) == "lost" and h.status(h.proposals[1]) == "committed"
    logs = {tuple(n.log) for n in h.nodes.values()}
    assert len(logs) == 1
    assert all(n.kv == {"x": "new"} for n in h.nodes.values())
    rb.check_safety(h, full=True)


def test_stale_leader_steps_down_on_the_first_message():
    c = sc.stale_leader_steps_down()
    assert c.nodes[1].role is Role.LEADER and c.nodes[1].current_term == 1
    to_s1 = [e for e in c.in_flight if e.msg.dst == 1]
    assert len(to_s1) == 1
    c.deliver(to_s1[0].id)
    assert c.nodes[1].role is Role.FOLLOWER and c.nodes[1].current_term == 2
    sc.deliver_all(c)
    assert c.nodes[1].log == c.nodes[2].log
    rb.check_safety(c, full=True)


# -- scenarios as a catalogue --------------------------------------------------------------
@pytest.mark.parametrize("name", list(sc.SCENARIOS))
def test_scenarios_are_deterministic_and_replayable(name, tmp_path):
    a, b = sc.build(name), sc.build(name)
    assert a.fingerprint() == b.fingerprint() and history_key(a) == history_key(b)
    assert a.history, "a scenario shows how it got there"
    a.save_trace(tmp_path / "t.json")
    assert rb.Cluster.load_trace(tmp_path / "t.json").fingerprint() == a.fingerprint()
    assert sc.SCENARIOS[name].__doc__.strip()


@pytest.mark.parametrize("call", [
    lambda: sc.figure7("g"), lambda: sc.figure7(1), lambda: sc.figure8("f"),
    lambda: sc.figure8(None), lambda: sc.split_vote(2), lambda: sc.split_vote("5"),
    lambda: sc.leader_crash_after_submit(winner=1), lambda: sc.partition_two_leaders(healed="yes"),
    lambda: sc.build("figure9"), lambda: sc.figure7(seed="0"),
])
def test_bad_scenario_arguments(call):
    with pytest.raises(rb.InvalidArgument):
        call()
