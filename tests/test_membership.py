"""Membership changes (paper §6, thesis §4): add and remove servers, the 2015 bug, joint consensus."""
import pytest

import raftbook as rb
from raftbook.explore import MEMBERSHIP_2015_SEARCH


def _leader(c, ticks=600):
    assert c.run_until(lambda c: c.leader is not None, ticks)
    return c.leader


def _settled(c, ticks=200):
    c.run(ticks)
    return c


def test_defaults_are_unchanged():
    a = rb.Cluster(5, seed=3)
    b = rb.Cluster(5, seed=3, members=None, config=rb.Config(membership="single", membership_fix=True,
                                                              pre_vote=False, check_quorum=False))
    a.run(500)
    b.run(500)
    assert a.fingerprint() == b.fingerprint()
    assert all(n.members == frozenset(range(1, 6)) and not n.reconfig for n in a.nodes.values())


def test_grow_3_to_4_to_5():
    c = rb.Cluster(5, seed=1, members={1, 2, 3})
    _leader(c)
    c.run(30)
    assert c.nodes[4].log.last_index == 0  # a waiting server gets nothing
    c.add_server(4)
    _settled(c, 50)
    assert c.members == {1, 2, 3, 4}
    c.add_server(5)
    _settled(c, 50)
    assert all(n.members == {1, 2, 3, 4, 5} for n in c.nodes.values())
    p = c.propose(("set", "x", 1))
    _settled(c, 50)
    assert c.status(p) == "committed"
    assert all(n.kv == {"x": 1} for n in c.nodes.values())
    rb.check_safety(c, full=True)
    again = rb.Cluster.from_trace(c.trace())
    assert again.fingerprint() == c.fingerprint()


def test_a_new_server_catches_up_before_it_counts():
    c = rb.Cluster(3, seed=0, members={1, 2})
    _leader(c)
    c.run(20)
    leader = c.nodes[c.leader]
    c.crash(3)
    c.add_server(3)
    assert leader.learners == {3: leader.log.last_index}
    assert leader.members == {1, 2}  # not added while it has not caught up
    c.run(60)
    assert leader.members == {1, 2}
    c.restart(3)
    c.run(60)
    assert leader.members == {1, 2, 3} and not leader.learners


def test_remove_the_leader_it_steps_down_once_committed():
    c = rb.Cluster(5, seed=2)
    old = _leader(c)
    c.run(30)
    c.remove_server(old)
    assert c.nodes[old].role is rb.Role.LEADER  # manages the cluster until the change commits
    c.run(300)
    assert c.leader not in (None, old)
    assert c.nodes[old].role is rb.Role.FOLLOWER
    assert old not in c.members
    codes = [r.code for r in c.reasons() if r.node == old]
    assert "stepped_down_removed" in codes
    rb.check_safety(c, full=True)


def test_one_change_at_a_time_and_the_2015_fix_refuse_clearly():
    c = rb.Cluster(5, seed=0, members={1, 2, 3})
    with pytest.raises(rb.NotLeader):
        c.add_server(4)
    _leader(c)
    c.run(30)
    c.add_server(4)
    before = c.fingerprint()
    with pytest.raises(rb.InvalidState, match="catching up"):
        c.add_server(5)
    assert c.fingerprint() == before
    with pytest.raises(rb.InvalidState, match="already a member"):
        rb.Cluster(3, seed=0).remove_server  # the method exists
        c.run(60)
        c.add_server(1)
    # a fresh leader that has not committed its no-op: the 2015 fix says wait
    d = rb.Cluster(3, seed=0)
    d.timeout(1)
    for e in [e for e in d.in_flight if e.type == "RequestVote"]:
        d.deliver(e.id)
    for e in [e for e in d.in_flight if e.type == "RequestVoteReply"]:
        d.deliver(e.id)
    assert d.leader == 1
    with pytest.raises(rb.InvalidState, match="2015"):
        d.remove_server(3)
    e = rb.Cluster(3, seed=0, config=rb.Config(membership_fix=False))
    e.timeout(1)
    for m in [m for m in e.in_flight if m.type == "RequestVote"]:
        e.deliver(m.id)
    for m in [m for m in e.in_flight if m.type == "RequestVoteReply"]:
        e.deliver(m.id)
    e.remove_server(3)  # allowed without the fix
    assert e.nodes[1].members == {1, 2}


def test_bad_arguments():
    with pytest.raises(rb.InvalidArgument):
        rb.Cluster(3, members={1, 7})
    with pytest.raises(rb.InvalidArgument):
        rb.Cluster(3, members=set())
    with pytest.raises(rb.InvalidArgument):
        rb.Config(membership="double")
    with pytest.raises(rb.InvalidArgument):
        rb.Config(pre_vote="yes")
    c = rb.Cluster(3, seed=0)
    _leader(c)
    with pytest.raises(rb.UnknownNode):
        c.add_server(9)
    with pytest.raises(rb.InvalidArgument, match="joint"):
        c.change_members({1})


def test_the_2015_bug_is_found_and_the_fix_holds():
    bug = rb.explore(membership_fix=False, progress=False, **MEMBERSHIP_2015_SEARCH)
    assert bug.violation is not None and bug.violation.property == "leader_completeness"
    assert len(bug.path) == 11
    c = bug.cluster()  # replays in the widget, and the cluster's own monitor agrees
    assert c.violation is not None and c.violation.property == "leader_completeness"
    assert rb.Cluster.from_trace(bug.trace()).fingerprint() == c.fingerprint()
    fixed = rb.explore(progress=False, **MEMBERSHIP_2015_SEARCH)
    assert fixed.ok and fixed.depth == 11


def test_joint_consensus_moves_three_servers_to_three_others():
    c = rb.Cluster(6, seed=4, members={1, 2, 3}, config=rb.Config(membership="joint"))
    _leader(c)
    c.run(30)
    c.change_members({4, 5, 6})
    c.run(400)
    assert c.leader in (4, 5, 6)
    assert all(c.nodes[i].members == {4, 5, 6} for i in (4, 5, 6))
    codes = {r.code for r in c.reasons()}
    assert {"joint_committed", "stepped_down_removed", "catch_up_done"} <= codes
    p = c.propose(("set", "k", "v"))
    c.run(60)
    assert c.status(p) == "committed"
    rb.check_safety(c, full=True)


def test_undo_before_the_first_change_restores_figure_2_rules():
    c = rb.Cluster(3, seed=5)
    _leader(c)
    c.run(20)
    before = c.fingerprint()
    c.remove_server(3)
    c.undo()
    assert c.fingerprint() == before
    assert not any(n.reconfig for n in c.nodes.values())


def test_membership_campaign_stays_safe():
    for seed in range(6):
        c = rb.Cluster(5, seed=seed, members={1, 2, 3})
        c.run(200, drop_rate=0.05)
        for step, change in enumerate([("add", 4), ("add", 5), ("remove", 1), ("remove", 2)]):
            c.run_until(lambda c: c.leader is not None, 500, drop_rate=0.05)
            kind, j = change
            try:
                (c.add_server if kind == "add" else c.remove_server)(j)
            except (rb.InvalidState, rb.NotLeader):
                pass
            if step == 1:
                c.crash(c.leader or 3)
                c.run(100, drop_rate=0.05)
                c.restart(next(iter(c.crashed)))
            c.partition({1, 2})
            c.run(80, drop_rate=0.05)
            c.heal()
            c.run(200, drop_rate=0.05)
            rb.check_safety(c, full=True)


def test_history_travel_works_on_a_cluster_that_changed_its_configuration():
    # Undo and goto rebuild each server from a checkpoint; its configuration is read from
    # its log, so the log must be back first (the History slider goes through goto).
    c = rb.Cluster(5, seed=3, members={1, 2, 3})
    seen = [c.fingerprint()]
    c.run_until(lambda c: c.leader is not None, 500)
    seen.append(c.fingerprint())
    c.run(30)  # the leader's no-op commits (a change waits for it)
    seen.append(c.fingerprint())
    c.add_server(4)
    seen.append(c.fingerprint())
    for _ in range(6):
        c.run(10)
        seen.append(c.fingerprint())
    assert c.nodes[c.leader].members >= {1, 2, 3, 4}
    for seq in range(len(c.history) - 1, -1, -1):
        c.goto(seq)
        assert c.fingerprint() == seen[seq]


def test_fingerprints_carry_learners_and_a_transfer_under_way():
    from raftbook.sim.trace import state_data
    c = rb.Cluster(5, seed=3, members={1, 2, 3})
    c.run_until(lambda c: c.leader is not None, 500)
    c.run(30)
    assert all(len(row) == 12 for row in state_data(c)["nodes"].values())  # as before any change
    c.add_server(4)
    row = state_data(c)["nodes"][c.leader]
    assert ["learners", sorted(c.nodes[c.leader].learners.items()), "transfer_to", None] == row[-1]
    assert c.nodes[c.leader].learners
    t = rb.scenarios.lagging_transfer_target()
    before = t.fingerprint()
    t.transfer_leadership(1)
    assert state_data(t)["nodes"][t.leader][-1][-2:] == ["transfer_to", 1]
    assert t.fingerprint() != before


def test_during_joint_consensus_a_candidate_alone_is_no_majority_of_both():
    # C_new = {leader}, C_old = {2, 3}: the other server's own vote is a majority of neither
    # C_new nor C_old. It once won at once (it compared one vote with C_new's majority of 1).
    c = rb.Cluster(3, seed=2, members={2, 3}, config=rb.Config(membership="joint"))
    c.run_until(lambda c: c.leader, 500)
    c.run(30)
    leader = c.leader
    other = ({2, 3} - {leader}).pop()
    c.change_members({leader})
    for _ in range(30):
        c.tick()
        for e in list(c.in_flight):
            c.deliver(e.id)
        if c.nodes[other].members_old is not None:
            break
    assert c.nodes[other].members == {leader} and c.nodes[other].members_old == {2, 3}
    c.crash(leader)
    c.timeout(other)
    assert c.nodes[other].role is rb.Role.CANDIDATE and c.violation is None
