"""Partial partitions: one cut link between two servers that both still reach the others.

c.cut(a, b) loses every message between a and b in both directions and nothing else;
c.heal(a, b) restores that link, c.heal() every link and the partition. The scenario
partial_partition shows why production Raft turns on PreVote and CheckQuorum.
"""
import json
import xml.etree.ElementTree as ET

import pytest

import raftbook as rb
from raftbook.sim.scenarios import partial_partition
from raftbook.sim.trace import state_data
from raftbook.ui.state import picture_state


def elected(n=5, seed=0, **config):
    c = rb.Cluster(n, seed=seed, config=rb.Config(**config))
    assert c.run_until(lambda c: c.leader is not None, 500)
    c.run(20)
    return c


def calls(c):
    return [(e.kind, e.args) for e in c.history]


# -- the call and what it cuts ------------------------------------------------------------

def test_a_cut_link_loses_messages_both_ways_and_only_between_its_two_servers():
    c = rb.Cluster(3, seed=1)
    ev = c.cut(2, 1)
    assert c.cuts == {(1, 2)} and ev.args == {"a": 1, "b": 2}
    assert "cut the link between S1 and S2" in ev.summary
    assert not c.can_reach(1, 2) and not c.can_reach(2, 1)
    assert c.can_reach(1, 3) and c.can_reach(3, 2) and c.can_reach(2, 3)
    c.timeout(1)
    by_dst = {e.msg.dst: e.id for e in c.in_flight}
    lost = c.deliver(by_dst[2])
    assert "the link between S1 and S2 is cut" in lost.summary
    assert c.nodes[2].current_term == 0  # S2 never heard the request
    c.deliver(by_dst[3])
    assert c.nodes[3].current_term == 1 and c.nodes[3].voted_for == 1
    # the loss is a reason for the receiver, as for a partition
    assert any(r.code == "message_lost_cut" and r.node == 2 for r in lost.reasons)


def test_automatic_runs_lose_messages_across_a_cut_link():
    c = elected(3, seed=1)
    leader = c.leader
    other = next(i for i in c.nodes if i != leader)
    c.cut(leader, other)
    ev = c.run(40)
    lost = [(m.src, m.dst) for _, what, _, m, _ in ev.network if what == "lost_cut"]
    assert lost and all({s, d} == {leader, other} for s, d in lost)
    assert ev.args and ev.stats["lost"] == len(lost)


def test_heal_one_link_or_everything():
    c = rb.Cluster(5, seed=0)
    c.cut(1, 2)
    c.cut(1, 3)
    c.partition({4}, {1, 2, 3, 5})
    ev = c.heal(2, 1)
    assert ev.summary == "restored the link between S1 and S2"
    assert c.cuts == {(1, 3)} and c.groups is not None
    ev = c.heal()
    assert ev.summary == "healed the partition and restored 1 cut link"
    assert c.cuts == frozenset() and c.groups is None
    c.cut(4, 5)
    assert c.heal().summary == "restored 1 cut link"
    c.partition({1})
    assert c.heal().summary == "healed the partition"  # as before cuts existed


@pytest.mark.parametrize("call, text", [
    (lambda c: c.cut(1, 1), "two different servers"),
    (lambda c: c.cut(1, 9), "no server 9"),
    (lambda c: c.cut("1", 2), "no server"),
    (lambda c: c.cut(1, 2) and c.cut(2, 1), "already cut"),
    (lambda c: c.heal(1, 3), "is not cut"),
    (lambda c: c.heal(), "nothing to heal"),
])
def test_bad_cuts_are_refused_clearly_and_change_nothing(call, text):
    c = rb.Cluster(3, seed=0)
    c.tick()
    if "already" in text:
        c.cut(1, 2)
        call = (lambda c: c.cut(2, 1))
    before, history, cuts = c.fingerprint(), calls(c), c.cuts
    with pytest.raises(rb.RaftbookError, match=text):
        call(c)
    assert c.fingerprint() == before and calls(c) == history and c.cuts == cuts


def test_undo_goto_and_traces_bring_cuts_back(tmp_path):
    c = elected(5, seed=2)
    seen = {len(c.history): c.fingerprint()}
    c.cut(1, 2)
    seen[len(c.history)] = c.fingerprint()
    c.run(50)
    c.cut(3, 5)
    c.run(30)
    seen[len(c.history)] = c.fingerprint()
    c.heal(1, 2)
    c.run(30)
    seen[len(c.history)] = c.fingerprint()
    assert c.cuts == {(3, 5)}
    path = tmp_path / "cut.json"
    c.save_trace(path)
    again = rb.Cluster.load_trace(path)
    assert again.fingerprint() == c.fingerprint() and again.cuts == {(3, 5)}
    assert [e["kind"] for e in json.loads(path.read_text())["events"]].count("cut") == 2
    for seq, fp in sorted(seen.items(), reverse=True):
        c.goto(seq)
        assert c.fingerprint() == fp
    c.goto(0)
    assert c.cuts == frozenset()


def test_a_cut_is_part_of_the_fingerprint_but_a_plain_cluster_is_as_before():
    a, b = rb.Cluster(3, seed=4), rb.Cluster(3, seed=4)
    assert "cuts" not in state_data(a)
    a.cut(1, 2)
    assert a.fingerprint() != b.fingerprint()
    a.heal()
    b.cut(1, 2)
    b.heal()
    assert a.fingerprint() == b.fingerprint()


def asked_across_a_cut(a, b):
    """Three servers with the link a-b cut; S1 times out and every message is delivered."""
    c = rb.Cluster(3, seed=0)
    c.cut(a, b)
    c.timeout(1)
    for e in list(c.in_flight):
        c.deliver(e.id)
    return c


def test_explain_shows_messages_lost_on_a_cut_link():
    c = asked_across_a_cut(1, 3)
    rows = c.explain(kind="network")
    assert any("never got RequestVote" in s for s in rows["sentence"])
    assert list(c.explain(kind="partition")["code"]) == ["message_lost_cut"]
    assert list(c.explain(kind="message_lost_cut")["node"]) == [3]
    assert c.explain(kind="cut").empty  # a valid filter; the cut itself records no reason


# -- the picture ---------------------------------------------------------------------------

def test_the_picture_draws_a_cut_link_and_marks_messages_it_will_lose():
    c = rb.Cluster(3, seed=0)
    c.cut(1, 2)
    c.timeout(1)
    root = ET.fromstring(c._repr_svg_())
    cut = [g for g in root.iter("{http://www.w3.org/2000/svg}g") if g.get("data-cut")]
    assert [g.get("data-cut") for g in cut] == ["1-2"]
    lost = {g.get("data-dst"): g.get("data-lost") for g in root.iter("{http://www.w3.org/2000/svg}g")
            if g.get("data-msg")}
    assert lost == {"2": "partition", "3": "false"}
    assert "1 link cut" in c._repr_svg_()
    state = picture_state(c)
    assert state["cuts"] == [[1, 2]]
    assert picture_state(rb.Cluster(3, seed=0))["cuts"] == []


def test_the_widget_cuts_and_restores_a_link_picked_in_the_picture():
    from raftbook.ui.widget import ClusterWidget
    c, twin = rb.Cluster(3, seed=0), rb.Cluster(3, seed=0)
    w = ClusterWidget(c)
    w.front_link(1, 3, True)
    twin.cut(1, 3)
    assert calls(c) == calls(twin) and "c.cut(1, 3)" in w.status.value
    w.front_link(3, 1, False)
    twin.heal(1, 3)
    assert calls(c) == calls(twin) and c.cuts == frozenset()
    before = calls(c)
    w.front_link(1, 3, False)
    assert "is not cut" in w.last_error
    w.front_link(1, 3, "yes")
    assert "true or false" in w.last_error
    w.front_link(1, 1, True)
    assert "two different servers" in w.last_error
    assert calls(c) == before
    # the browser sends this message; the picture passes it on
    w.picture._on_front(w.picture, {"kind": "link", "a": 2, "b": 3, "cut": True}, [])
    assert c.cuts == {(2, 3)}


# -- the scenario: why PreVote and CheckQuorum ----------------------------------------------

def run_cut(c, rounds=60, ticks=20):
    leaders = []
    for _ in range(rounds):
        c.run(ticks)
        leaders.append(c.leader)
        assert c.violation is None
    changes = sum(1 for x, y in zip(leaders, leaders[1:]) if x != y)
    return changes, max(n.current_term for n in c.nodes.values())


def test_partial_partition_without_either_option_moves_leadership():
    c = partial_partition()
    old, term = c.leader, c.nodes[c.leader].current_term
    assert old == 5 and c.cuts == {(3, 5), (4, 5)}
    run_cut(c)
    # the cut-off servers stood for election and won through the servers in the middle
    assert c.nodes[c.leader].current_term > term
    assert any(r.code == "became_leader" and r.node != old for r in c.reasons())


def test_partial_partition_with_checkquorum_keeps_the_leader_but_terms_run_away():
    c = partial_partition(check_quorum=True)
    old, term = c.leader, c.nodes[c.leader].current_term
    changes, top = run_cut(c)
    assert changes == 0 and c.leader == old and c.nodes[old].current_term == term
    assert top > term + 20  # S3 and S4 stand again and again, ignored
    assert any(r.code == "vote_request_ignored_leader_alive" for r in c.reasons())
    c.heal()
    c.run(300)
    assert c.nodes[c.leader].current_term >= top  # their term deposed the leader on healing


def test_partial_partition_with_prevote_changes_nothing():
    c = partial_partition(pre_vote=True)
    old, term = c.leader, c.nodes[c.leader].current_term
    changes, top = run_cut(c)
    assert changes == 0 and top == term
    assert any(r.code == "pre_vote_refused_leader_alive" for r in c.reasons())
    c.heal()
    c.run(300)
    assert c.leader == old and c.nodes[old].current_term == term


def test_partial_partition_is_a_named_scenario():
    c = rb.scenarios.build("partial_partition", pre_vote=True, check_quorum=True)
    assert c.cuts and c.config.pre_vote and c.config.check_quorum


# -- campaigns ------------------------------------------------------------------------------

def test_the_cut_fault_is_opt_in_and_the_reference_survives_it():
    from raftbook.search.faults import ALL_FAULTS, FAULTS, schedule
    assert "cut" in ALL_FAULTS and "cut" not in FAULTS
    assert all(a[0] != "cut" for seed in range(20) for a in schedule(seed, 80))
    cuts = [a for a in schedule(3, 80, FAULTS + ("cut",)) if a[0] == "cut"]
    assert cuts and all(len(a[1]) == 2 and a[1][0] < a[1][1] for a in cuts)
    assert "cuts" not in rb.campaign(5, progress=False).table
    for config in (rb.Config(), rb.Config(pre_vote=True, check_quorum=True)):
        r = rb.campaign(60, n=5, faults=FAULTS + ("cut",), steps=100, progress=False, config=config)
        assert r.failures == [] and r.table["cuts"].sum() > 0


def test_cuts_and_link_heals_unroll_to_single_events_that_replay():
    from raftbook.search.minimize import replay_events, unroll
    c = elected(5, seed=4)
    c.cut(1, 3)
    c.run(30)
    c.cut(2, 5)
    c.heal(1, 3)
    c.run(20)
    c.heal()
    c.run(10)
    events = unroll(c)
    assert ("cut", 1, 3) in events and ("heal", 1, 3) in events and ("heal",) in events
    again, used = replay_events(rb.Cluster(5, seed=4), events, flood_cap=500)
    assert used == len(events) and again.fingerprint() == c.fingerprint()


def test_the_space_time_diagram_marks_messages_lost_on_a_cut_link():
    c = asked_across_a_cut(1, 2)
    svg = rb.spacetime_svg(c)
    assert 'data-outcome="lost_cut"' in svg and 'data-cause="cut"' in svg
    assert "the link between S1 and S2 was cut" in svg
