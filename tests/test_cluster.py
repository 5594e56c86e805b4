"""The cluster simulator: manual events, faults, clients, automatic runs, history."""
import pytest

import raftbook as rb
from raftbook import scenarios
from raftbook.roles import Role


def elect(c, node=1):
    """Manual election of ``node``; its first AppendEntries stay in flight."""
    assert scenarios.stand_for_election(c, node)


def test_new_cluster():
    c = rb.Cluster(n=5, seed=3)
    assert sorted(c.nodes) == [1, 2, 3, 4, 5]
    assert c.nodes[2].peers == (1, 3, 4, 5)
    assert c.leader is None and c.now == 0 and c.in_flight == [] and c.history == []
    assert all(n.role is Role.FOLLOWER and n.current_term == 0 for n in c.nodes.values())


def test_tick_advances_time_for_running_nodes_only():
    c = rb.Cluster(n=3, seed=0)
    c.crash(2)
    c.tick()
    c.tick()
    assert c.now == 2
    assert c.nodes[1].election_elapsed == 2 and c.nodes[2].election_elapsed == 0
    assert [e.kind for e in c.history] == ["crash", "tick", "tick"]


def test_timeout_sends_vote_requests_recorded_in_the_event():
    c = rb.Cluster(n=3, seed=0)
    ev = c.timeout(2)
    assert c.nodes[2].role is Role.CANDIDATE
    assert [c.envelope(i).msg for i in ev.sent] == [rb.RequestVote(2, 1, 1, 0, 0),
                                                   rb.RequestVote(2, 3, 1, 0, 0)]
    ids = [e.id for e in c.in_flight]
    assert ids == sorted(ids) and len(set(ids)) == 2


def test_manual_election_and_leader_property():
    c = rb.Cluster(n=3, seed=0)
    elect(c, 3)
    assert c.leader == 3 and c.nodes[3].log.terms() == [1]
    assert {e.msg.dst for e in c.in_flight} == {1, 2}


def test_deliver_drop_duplicate():
    c = rb.Cluster(n=3, seed=0)
    c.timeout(1)
    a, b = [e.id for e in c.in_flight]
    copy = c.duplicate(a)
    assert copy.id > b and copy.msg == c.envelope(a).msg
    c.drop(b)
    assert c.nodes[3].current_term == 0       # the request never arrived
    c.deliver(a)
    c.deliver(copy.id)                        # the same request twice: same vote, twice
    replies = [e.msg for e in c.in_flight]
    assert replies == [rb.RequestVoteReply(2, 1, 1, True)] * 2
    with pytest.raises(rb.UnknownMessage):
        c.deliver(a)
    assert [e.kind for e in c.history] == ["timeout", "duplicate", "drop", "deliver", "deliver"]


def test_delivery_to_a_crashed_node_is_lost_and_says_so():
    c = rb.Cluster(n=3, seed=0)
    c.timeout(1)
    c.crash(2)
    to2 = next(e.id for e in c.in_flight if e.msg.dst == 2)
    ev = c.deliver(to2)
    assert "lost" in ev.summary and "crashed" in ev.summary
    assert c.nodes[2].current_term == 0


def test_crashed_state_stays_visible_and_frozen():
    c = rb.Cluster(n=3, seed=0)
    elect(c, 1)
    c.crash(1)
    assert c.nodes[1].role is Role.LEADER and c.leader is None   # visible, but not running
    for _ in range(10):
        c.tick()
    assert c.nodes[1].log.terms() == [1]
    c.restart(1)
    assert c.nodes[1].role is Role.FOLLOWER and c.nodes[1].current_term == 1


def test_partition_groups_and_loss_across_them():
    c = rb.Cluster(n=5, seed=0)
    c.partition({1, 2}, {3})
    assert c.groups == (frozenset({1, 2}), frozenset({3}), frozenset({4, 5}))
    assert c.can_reach(1, 2) and not c.can_reach(1, 3) and c.can_reach(4, 5)
    c.timeout(1)
    for env in list(c.in_flight):
        ev = c.deliver(env.id)
        if env.msg.dst == 2:
            assert ev.summary.startswith("delivered")
        else:
            assert "partition" in ev.summary
    c.heal()
    assert c.groups is None and c.can_reach(1, 3)


def test_messages_sent_before_a_partition_are_lost_if_delivered_across_it():
    c = rb.Cluster(n=3, seed=0)
    c.timeout(1)
    c.partition({1})
    for env in list(c.in_flight):
        assert "lost" in c.deliver(env.id).summary
    assert c.nodes[2].current_term == 0


def test_propose_status_and_result():
    c = rb.Cluster(n=3, seed=0)
    with pytest.raises(rb.NotLeader, match="no leader"):
        c.propose(("set", "x", 1))
    elect(c, 1)
    scenarios.deliver_all(c)
    p = c.propose(("set", "x", 1))
    assert (p.index, p.term, p.node) == (2, 1, 1)
    assert c.status(p) == "pending"
    with pytest.raises(rb.InvalidState, match="pending"):
        c.result(p)
    scenarios.deliver_all(c)
    assert c.status(p) == "committed" and c.result(p) == 1
    g = c.propose(("get", "x"))
    scenarios.deliver_all(c)
    assert c.result(g) == 1


def test_propose_to_a_follower_names_the_leader():
    c = rb.Cluster(n=3, seed=0)
    elect(c, 1)
    scenarios.deliver_all(c)
    with pytest.raises(rb.NotLeader) as info:
        c.propose(("set", "x", 1), node=2)
    assert info.value.leader_hint == 1
    c.crash(1)
    with pytest.raises(rb.NotLeader, match="crashed"):
        c.propose(("set", "x", 1), node=1)


def test_status_lost_when_overwritten():
    c = scenarios.leader_crash_after_submit(winner=3)
    assert c.status(c.proposals[0]) == "lost"
    c = scenarios.leader_crash_after_submit(winner=2)
    p = c.proposals[0]
    assert c.status(p) == "committed" and c.result(p) == 1


def test_status_lost_when_no_log_holds_it():
    c = scenarios.stale_leader_steps_down()
    scenarios.deliver_all(c)
    stale = c.proposals[0]
    assert all(n.log.term_at(stale.index) != stale.term for n in c.nodes.values())
    assert c.status(stale) == "lost"


def test_leader_is_the_highest_term_among_running():
    c = scenarios.partition_two_leaders()
    assert c.nodes[1].role is Role.LEADER and c.nodes[3].role is Role.LEADER
    assert c.leader == 3
    c.crash(3)
    assert c.leader == 1


def test_run_elects_a_leader_and_commits():
    c = rb.Cluster(n=5, seed=7)
    assert c.run_until(lambda c: c.leader is not None, 200)
    assert c.history[-1].kind == "run_until" and c.history[-1].args["reached"] is True
    p = c.propose(("set", "y", 2))
    ev = c.run(20)
    assert ev.kind == "run" and ev.stats["delivered"] > 0 and len(c.history) == 3
    assert c.status(p) == "committed"
    assert all(n.kv == {"y": 2} for n in c.nodes.values())


def test_run_until_gives_up():
    c = rb.Cluster(n=3, seed=0)
    assert c.run_until(lambda c: False, 10) is False and c.now == 10


@pytest.mark.parametrize("seed", range(12))
def test_every_seed_elects_within_bounded_ticks(seed):
    c = rb.Cluster(n=5, seed=seed)
    assert c.run_until(lambda c: c.leader is not None, 300)
    rb.check_safety(c, full=True)


def test_latency_stays_in_range():
    c = rb.Cluster(n=3, seed=1)
    c.run_until(lambda c: c.leader is not None, 200)
    c.run(1, latency=(1, 1))   # let what the election left in flight get scheduled
    c.timeout(next(i for i in c.nodes if i != c.leader))
    c.run(1, latency=(4, 6))
    fresh = [env for env in c.in_flight if env.sent_at == c.now - 1]
    assert fresh
    for env in fresh:
        assert 4 <= env.deliver_at - env.sent_at <= 6


def test_loss_and_duplication_rates():
    c = rb.Cluster(n=5, seed=2)
    c.run(300, drop_rate=0.3, duplicate_rate=0.3)
    st = c.history[-1].stats
    assert st["dropped"] > 0 and st["duplicated"] > 0 and st["delivered"] > 0
    rb.check_safety(c, full=True)


def test_manual_messages_left_in_flight_are_delivered_by_a_run():
    c = rb.Cluster(n=3, seed=0)
    c.timeout(1)
    c.run(5)
    assert c.leader == 1


def test_events_dataframe():
    c = rb.Cluster(n=3, seed=0)
    c.timeout(1)
    c.deliver(c.in_flight[0].id)
    c.tick()
    df = c.events()
    assert list(df.columns) == ["time", "kind", "node", "msg_id", "summary", "sent", "reasons"]
    assert list(df["kind"]) == ["timeout", "deliver", "tick"]
    assert df.index.name == "seq" and df.loc[0, "node"] == 1 and df.loc[0, "sent"] == 2


def test_from_state_builds_logs_and_applies_commits():
    c = rb.Cluster.from_state({1: {"current_term": 3, "log": [1, (2, ("set", "x", 5))],
                                   "commit_index": 2},
                               2: {"log": [1]}}, n=3)
    assert c.nodes[1].log.terms() == [1, 2] and c.nodes[1].kv == {"x": 5}
    assert c.nodes[2].current_term == 1 and c.nodes[3].log.terms() == []
    assert c.history == []
    with pytest.raises(rb.InvalidState):
        c.undo()
    c.timeout(1)
    c.undo()
    assert c.nodes[1].current_term == 3 and c.nodes[1].kv == {"x": 5}


def test_handlers_apply_to_every_node():
    seen = set()

    def spy(node, msg):
        seen.add(node.id)
        return rb.reference_handlers["request_vote"](node, msg)
    c = rb.Cluster(n=3, seed=0, handlers={"request_vote": spy})
    c.timeout(1)
    scenarios.deliver_all(c)
    c.timeout(2)
    scenarios.deliver_all(c)
    assert seen == {1, 2, 3}


def test_handler_error_rewinds_the_event():
    def bad(node, msg):
        raise KeyError("oops")
    c = rb.Cluster(n=3, seed=0, handlers={"request_vote": bad})
    c.timeout(1)
    fp, n = c.fingerprint(), len(c.history)
    with pytest.raises(rb.HandlerError, match="oops"):
        c.deliver(c.in_flight[0].id)
    assert c.fingerprint() == fp and len(c.history) == n
    with pytest.raises(rb.HandlerError):
        c.run(5)
    assert c.fingerprint() == fp and len(c.history) == n


def test_monitor_and_reasons_can_be_switched_off():
    fast = rb.Cluster(n=5, seed=4, monitor=False, record_reasons=False)
    full = rb.Cluster(n=5, seed=4)
    for c in (fast, full):
        c.run_until(lambda c: c.leader is not None, 200)
        c.propose(("set", "a", 1))
        c.run(30)
    assert fast.fingerprint() == full.fingerprint()
    assert fast.reasons() == [] and full.reasons()
    rb.check_safety(fast)   # runs the full state check instead


def test_repr_names_roles_and_terms():
    c = scenarios.partition_two_leaders()
    assert "S1:L1" in repr(c) and "S3:L2" in repr(c)


def test_committed_stays_committed_after_the_only_knowing_server_restarts():
    c = rb.Cluster(n=3, seed=0)
    elect(c, 1)
    scenarios.deliver_all(c)
    p = c.propose(("set", "x", 1))
    g = c.propose(("get", "x"))
    scenarios.deliver_all(c)          # S1 commits both; S2 and S3 hold them, not yet told
    assert c.nodes[2].commit_index < g.index
    assert (c.status(p), c.result(p), c.result(g)) == ("committed", 1, 1)
    c.crash(1)
    c.restart(1)                      # S1 forgets its commit_index (volatile)
    assert all(n.commit_index < g.index for n in c.nodes.values())
    assert (c.status(p), c.result(p), c.status(g), c.result(g)) == ("committed", 1, "committed", 1)
    c.undo()                          # before the restart: the same answers
    assert c.status(g) == "committed" and c.result(g) == 1


def test_drop_rate_one_loses_every_message_and_duplicate_rate_one_is_refused():
    c = rb.Cluster(3, seed=0)
    assert not c.run_until(lambda c: c.leader is not None, 200, drop_rate=1)
    stats = c.history[-1].stats
    assert stats["delivered"] == 0 and stats["dropped"] > 0
    before = (c.fingerprint(), len(c.history))
    with pytest.raises(rb.InvalidArgument, match="duplicate_rate must be below 1"):
        c.run(5, duplicate_rate=1)
    assert (c.fingerprint(), len(c.history)) == before
