"""Scenarios for the reason codes beyond Figure 2 (membership, PreVote, CheckQuorum, transfer).

Imported by test_reasons.py, whose meta-test wants one scenario per code. Each returns
(reason, expected fields, words the sentence holds), like the scenarios there.
"""
import raftbook as rb
from raftbook.core.messages import RequestVoteReply, TimeoutNow


def _reasons(ev, code):
    return [r for r in ev.reasons if r.code == code]


def _one(ev, code, node=None):
    found = [r for r in _reasons(ev, code) if node is None or r.node == node]
    assert len(found) == 1, (code, [(r.node, r.code) for r in ev.reasons])
    return found[0]


def _flight(c, kind, src=None, dst=None):
    return [e for e in c.in_flight if e.type == kind and (src is None or e.msg.src == src)
            and (dst is None or e.msg.dst == dst)]


def _elect(c, i=1):
    c.timeout(i)
    while c.nodes[i].role is not rb.Role.LEADER:
        envs = _flight(c, "RequestVote", src=i) + _flight(c, "RequestVoteReply", dst=i)
        c.deliver(envs[0].id)
    return c


def _settle(c, limit=60):
    """Deliver every message in flight, oldest first, until none is left; the events."""
    out = []
    for _ in range(limit):
        if not c.in_flight:
            break
        out.append(c.deliver(c.in_flight[0].id))
    return out


def _committed_leader(n=3, **kw):
    c = _elect(rb.Cluster(n, seed=0, **kw))
    _settle(c)
    return c


def _direct(node, code):
    """A reason a lone RaftNode noted, as the cluster would record it."""
    found = [(k, f) for k, f in node.take_reasons() if k == code]
    assert len(found) == 1, (code, found)
    return rb.Reason(0, node.id, code, found[0][1])


def _find(events, code, node=None):
    found = [r for ev in events for r in _reasons(ev, code) if node is None or r.node == node]
    assert found, code
    return found[0]


def s_configuration_appended():
    c = _committed_leader()
    r = _one(c.remove_server(3), "configuration_appended")
    return r, {"members": [1, 2], "index": 2, "term": 1}, \
        ["S1 appended the configuration [S1, S2] at index 2 (term 1)", "takes effect at once"]


def s_configuration_adopted():
    c = _committed_leader()
    c.remove_server(3)
    r = _find(_settle(c), "configuration_adopted", node=2)
    return r, {"members": [1, 2], "index": 2, "member": True}, \
        ["S2 now uses the configuration [S1, S2], from its log entry 2"]


def s_catch_up_started():
    c = _committed_leader(members={1, 2})
    r = _one(c.add_server(3), "catch_up_started")
    return r, {"server": 3, "target": 1}, ["S1 started catching up S3 as a learner", "index 1"]


def s_catch_up_done():
    c = _committed_leader(members={1, 2})
    c.add_server(3)
    r = _find(_settle(c), "catch_up_done")
    return r, {"server": 3, "match_index": 1}, ["S1 saw S3 catch up (match index 1)"]


def s_joint_committed():
    c = _committed_leader(config=rb.Config(membership="joint"))
    c.change_members({1, 2})
    r = _find(_settle(c), "joint_committed")
    return r, {"index": 2, "members": [1, 2]}, \
        ["committed the joint configuration at index 2", "appends C_new = [S1, S2]"]


def s_stepped_down_removed():
    c = _committed_leader()
    c.remove_server(1)
    r = _find(_settle(c), "stepped_down_removed")
    return r, {"term": 1, "index": 2}, ["S1 stepped down in term 1", "does not include it"]


def s_election_skipped_not_member():
    c = rb.Cluster(3, seed=0, members={1, 2})
    r = _one(c.timeout(3), "election_skipped_not_member")
    return r, {"members": [1, 2]}, ["S3 did not start an election", "[S1, S2]"]


def s_vote_ignored_not_member():
    node = rb.RaftNode(1, [2, 3], members={1, 2})
    node.timeout()
    node.take_reasons()
    node.step(RequestVoteReply(3, 1, 1, True))
    r = _direct(node, "vote_ignored_not_member")
    return r, {"voter": 3, "members": [1, 2]}, ["did not count the vote of S3", "not in its configuration"]


def s_vote_request_ignored_leader_alive():
    c = _elect(rb.Cluster(3, seed=0, config=rb.Config(check_quorum=True)))
    c.deliver(_flight(c, "AppendEntries", dst=2)[0].id)
    c.timeout(3)
    r = _one(c.deliver(_flight(c, "RequestVote", src=3, dst=2)[0].id), "vote_request_ignored_leader_alive")
    return r, {"candidate": 3, "msg_term": 2, "term": 1, "leader": 1}, \
        ["S2 ignored S3's vote request for term 2 and kept term 1", "current leader (S1)"]


def _pre(n=3, **kw):
    return rb.Cluster(n, seed=0, config=rb.Config(pre_vote=True), **kw)


def s_pre_vote_started():
    c = _pre()
    r = _one(c.timeout(1), "pre_vote_started")
    assert c.nodes[1].current_term == 0
    return r, {"term": 1}, ["S1 started a pre-vote for term 1", "without changing any term"]


def s_pre_vote_granted():
    c = _pre()
    c.timeout(1)
    r = _one(c.deliver(_flight(c, "RequestVote", dst=2)[0].id), "pre_vote_granted")
    assert c.nodes[2].current_term == 0 and c.nodes[2].voted_for is None
    return r, {"candidate": 1, "msg_term": 1}, ["S2 would vote for S1 in term 1"]


def s_pre_vote_refused_stale_term():
    c = rb.Cluster.from_state({2: {"current_term": 5}}, n=3, config=rb.Config(pre_vote=True))
    c.timeout(1)
    r = _one(c.deliver(_flight(c, "RequestVote", dst=2)[0].id), "pre_vote_refused_stale_term")
    return r, {"candidate": 1, "msg_term": 1, "current_term": 5}, ["its own term is already 5"]


def s_pre_vote_refused_leader_alive():
    c = _elect(_pre())
    c.deliver(_flight(c, "AppendEntries", dst=2)[0].id)
    c.timeout(3)
    r = _one(c.deliver(_flight(c, "RequestVote", src=3, dst=2)[0].id), "pre_vote_refused_leader_alive")
    return r, {"candidate": 3, "leader": 1}, ["S2 refused S3 a pre-vote for term 2", "hears from a leader (S1)"]


def _log_refusal():
    c = rb.Cluster.from_state({2: {"log": [1, 1]}, 1: {"log": [1]}}, n=3,
                              config=rb.Config(pre_vote=True))
    c.timeout(1)
    return c, c.deliver(_flight(c, "RequestVote", dst=2)[0].id)


def s_pre_vote_refused_log_not_up_to_date():
    _, ev = _log_refusal()
    r = _one(ev, "pre_vote_refused_log_not_up_to_date")
    return r, {"candidate": 1, "msg_term": 2}, ["S2 refused S1 a pre-vote", "same last term 1, last index 1 < 2"]


def s_pre_vote_denied_received():
    c, _ = _log_refusal()
    r = _one(c.deliver(_flight(c, "RequestVoteReply", dst=1)[0].id), "pre_vote_denied_received")
    return r, {"voter": 2, "term": 2}, ["S1 was refused a pre-vote by S2 for term 2"]


def _won():
    c = _pre()
    c.timeout(1)
    c.deliver(_flight(c, "RequestVote", dst=2)[0].id)
    return c.deliver(_flight(c, "RequestVoteReply", dst=1)[0].id)


def s_pre_vote_received():
    r = _one(_won(), "pre_vote_received")
    return r, {"voter": 2, "term": 1, "votes": 2, "needed": 2}, ["S1 got a pre-vote from S2 for term 1 (2 of 2"]


def s_pre_vote_won():
    ev = _won()
    assert _one(ev, "election_started").fields["term"] == 1
    return _one(ev, "pre_vote_won"), {"term": 1}, ["S1 won the pre-vote for term 1"]


def s_stepped_down_no_quorum():
    c = _elect(rb.Cluster(3, seed=0, config=rb.Config(check_quorum=True)))
    for _ in range(40):
        found = _reasons(c.tick(), "stepped_down_no_quorum")
        if found:
            break
    r = found[0]
    assert c.nodes[1].role is rb.Role.FOLLOWER
    return r, {"term": 1, "heard": [1], "needed": 2}, ["S1 stepped down in term 1", "heard only from S1"]


def s_transfer_started():
    c = _committed_leader()
    r = _one(c.transfer_leadership(2), "transfer_started")
    return r, {"target": 2, "term": 1, "match_index": 1, "last_index": 1}, \
        ["S1 started handing leadership to S2 in term 1", "takes no more proposals"]


def s_timeout_now_sent():
    c = _committed_leader()
    r = _one(c.transfer_leadership(2), "timeout_now_sent")
    return r, {"target": 2, "term": 1}, ["S1 sent TimeoutNow to S2"]


def s_timeout_now_received():
    c = _committed_leader()
    c.transfer_leadership(2)
    r = _one(c.deliver(_flight(c, "TimeoutNow")[0].id), "timeout_now_received")
    assert c.nodes[2].role is rb.Role.CANDIDATE and c.nodes[2].current_term == 2
    return r, {"leader": 1, "term": 1}, ["S2 got TimeoutNow from S1 in term 1", "at once"]


def s_timeout_now_ignored():
    node = rb.RaftNode(2, [1, 3], config=rb.Config(pre_vote=True))
    node.current_term = 3
    node.step(TimeoutNow(1, 2, 1))
    r = _direct(node, "timeout_now_ignored")
    return r, {"leader": 1, "msg_term": 1, "term": 3}, ["S2 ignored TimeoutNow from S1 (term 1"]


def s_transfer_aborted():
    c = _elect(rb.Cluster(3, seed=0))
    c.transfer_leadership(2)  # S2 has not answered yet: the transfer waits for it
    for _ in range(40):
        found = _reasons(c.tick(), "transfer_aborted")
        if found:
            break
    return found[0], {"target": 2, "term": 1}, ["S1 gave up handing leadership to S2"]
