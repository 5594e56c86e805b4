"""The safety checker: each of the paper's five properties, caught and explained."""
import pickle

import pytest

import raftbook as rb
from raftbook import scenarios as sc
from raftbook.messages import RequestVoteReply


def violation(c, full=False):
    with pytest.raises(rb.SafetyViolation) as info:
        rb.check_safety(c, full=full)
    return info.value


def grant_everything(node, msg):
    """BROKEN request_vote: votes for every candidate, even twice in a term."""
    if msg.term > node.current_term:
        node.become_follower(msg.term)
    node.voted_for = msg.src
    return [RequestVoteReply(node.id, msg.src, node.current_term, msg.term >= node.current_term)]


def test_healthy_runs_pass():
    c = rb.Cluster(n=5, seed=1)
    c.run_until(lambda c: c.leader is not None, 300)
    for k in range(5):
        c.propose(("set", "k", k))
        c.run(7)
    assert rb.check_safety(c) is None and rb.check_safety(c, full=True) is None
    assert c.violation is None


def test_election_safety():
    c = rb.Cluster(n=3, seed=0, handlers={"request_vote": grant_everything})
    c.timeout(1)
    c.timeout(2)
    sc.deliver_all(c, lambda e: e.msg.dst == 3 or e.msg.src == 3)
    assert c.nodes[1].role == c.nodes[2].role == rb.Role.LEADER
    v = violation(c)
    assert v.property == "election_safety" and set(v.nodes) == {1, 2} and v.term == 1
    assert "S1" in str(v) and "S2" in str(v) and "term 1" in str(v)
    assert violation(c, full=True).property == "election_safety"


def test_leader_append_only():
    def eat_own_tail(node, msg):
        if node.log.last_index > 1:
            node.log.truncate_from(node.log.last_index)
        return rb.reference_handlers["append_entries_reply"](node, msg)
    c = rb.Cluster(n=3, seed=0, handlers={"append_entries_reply": eat_own_tail})
    assert sc.stand_for_election(c, 1)
    sc.deliver_all(c)
    rb.check_safety(c)
    c.propose(("set", "x", 1))
    sc.deliver_all(c)
    v = violation(c)
    assert v.property == "leader_append_only" and v.nodes == (1,) and v.term == 1
    assert "deleted" in str(v)


def test_log_matching():
    c = rb.Cluster.from_state({1: {"log": [(1, ("set", "x", 1))]},
                               2: {"log": [(1, ("set", "x", 2))]}}, n=3)
    v = violation(c)
    assert v.property == "log_matching" and set(v.nodes) == {1, 2} and v.index == 1 and v.term == 1
    assert "different commands" in str(v)


def test_log_matching_full_check_sees_diverging_history():
    c = rb.Cluster.from_state({1: {"log": [1, 2, 3]}, 2: {"log": [1, 1, 3]}}, n=3, monitor=False)
    v = violation(c, full=True)
    assert v.property == "log_matching" and v.index == 2


def test_leader_completeness():
    """With votes granted to stale logs, a leader can miss a committed entry."""
    c = rb.Cluster(n=3, seed=0, handlers={"request_vote": lambda n, m: _no_log_check(n, m)})
    assert sc.stand_for_election(c, 1)
    sc.deliver_all(c, lambda e: e.msg.dst in (1, 2))   # S3 never hears from S1
    c.propose(("set", "x", 1))
    sc.deliver_all(c, lambda e: e.msg.dst in (1, 2))
    assert c.status(c.proposals[0]) == "committed" and c.nodes[3].log.last_index == 0
    sc.drop_all(c, lambda e: True)
    c.crash(1)
    assert sc.stand_for_election(c, 3)          # S2 votes for S3 although S3's log is empty
    v = violation(c)
    assert v.property == "leader_completeness" and 3 in v.nodes and v.term == 2
    assert "committed" in str(v)


def _no_log_check(node, msg):
    if msg.term > node.current_term:
        node.become_follower(msg.term)
    ok = msg.term == node.current_term and node.voted_for in (None, msg.src)
    if ok:
        node.voted_for = msg.src
    return [RequestVoteReply(node.id, msg.src, node.current_term, ok)]


def test_state_machine_safety():
    c = rb.Cluster.from_state({1: {"log": [(1, ("set", "x", 1))], "commit_index": 1},
                               2: {"log": [(2, ("set", "x", 2))], "commit_index": 1}}, n=3)
    v = violation(c)
    assert v.property == "state_machine_safety" and set(v.nodes) == {1, 2} and v.index == 1
    assert "'set', 'x', 1" in str(v) and "'set', 'x', 2" in str(v)
    c2 = rb.Cluster.from_state({1: {"log": [(1, ("set", "x", 1))], "commit_index": 1},
                                2: {"log": [(2, ("set", "x", 2))], "commit_index": 1}}, n=3,
                               monitor=False)
    assert violation(c2, full=True).property == "state_machine_safety"


def test_first_violation_is_kept_with_time_and_event():
    c = rb.Cluster(n=3, seed=0, handlers={"request_vote": grant_everything})
    c.tick()
    c.timeout(1)
    c.timeout(2)
    sc.deliver_all(c, lambda e: e.msg.dst == 3 or e.msg.src == 3)
    first = c.violation
    assert first is not None and first.time == 1 and 0 < first.event <= len(c.history)
    c.run(50)
    assert c.violation is first


def test_undo_goes_back_to_before_the_violation():
    c = rb.Cluster(n=3, seed=0, handlers={"request_vote": grant_everything})
    c.timeout(1)
    c.timeout(2)
    sc.deliver_all(c, lambda e: e.msg.dst == 3 or e.msg.src == 3)
    assert c.violation is not None
    seq = c.violation.event
    c.goto(seq - 1)
    assert c.violation is None
    rb.check_safety(c, full=True)


def test_violation_pickles_for_parallel_campaigns():
    v = rb.SafetyViolation("log_matching", "broken", nodes=(1, 2), term=3, index=4, time=5, event=6)
    w = pickle.loads(pickle.dumps(v))
    assert (w.property, str(w), w.nodes, w.term, w.index, w.time, w.event) == \
        ("log_matching", "broken", (1, 2), 3, 4, 5, 6)
    assert isinstance(w, rb.RaftbookError)


def test_property_names_are_the_five():
    assert rb.SAFETY_PROPERTIES == ("election_safety", "leader_append_only", "log_matching",
                                    "leader_completeness", "state_machine_safety")


def test_check_safety_needs_a_cluster():
    with pytest.raises(rb.InvalidArgument, match="Cluster"):
        rb.check_safety("not a cluster")


def test_crashed_stale_leader_is_not_a_violation():
    """A frozen leader of an older term next to a new leader breaks nothing."""
    c = sc.leader_crash_after_submit(winner=3)
    assert c.nodes[1].role is rb.Role.LEADER and 1 in c.crashed
    rb.check_safety(c, full=True)
