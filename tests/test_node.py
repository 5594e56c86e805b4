"""RaftNode as a step function: timers, elections, heartbeats, restarts and handlers."""
import random

import pytest

import raftbook as rb
from raftbook.roles import Role

RV, RVR, AE, AER, E = (rb.RequestVote, rb.RequestVoteReply, rb.AppendEntries,
                       rb.AppendEntriesReply, rb.Entry)


def test_follower_times_out_after_its_drawn_timeout(raft):
    node = raft.make_node(1, n=3, term=2, log=[1, 2])
    timeout = node.election_timeout
    assert 15 <= timeout <= 30
    for _ in range(timeout - 1):
        assert node.tick() == []
    assert node.ticks_until_timeout == 1
    out = node.tick()
    assert node.role is Role.CANDIDATE and node.current_term == 3 and node.voted_for == 1
    assert sorted(m.dst for m in out) == [2, 3]
    assert all(m == RV(1, m.dst, 3, 2, 2) for m in out)


def test_candidate_starts_a_new_term_when_its_timer_fires_again(raft):
    node = raft.make_node(1, n=3)
    node.timeout()
    node.step(RVR(2, 1, 1, False))
    for _ in range(node.election_timeout):
        out = node.tick()
    assert node.current_term == 2 and node.role is Role.CANDIDATE and node.votes == {1}
    assert {m.term for m in out} == {2}


def test_leader_sends_heartbeats_every_interval_and_no_election(raft):
    leader = raft.make_leader(1, n=3, term=1, config=rb.Config(heartbeat_interval=4))
    sent = []
    for t in range(1, 41):
        out = leader.tick()
        if out:
            sent.append(t)
            assert {m.dst for m in out} == {2, 3} and all(type(m) is AE for m in out)
    assert sent == [4, 8, 12, 16, 20, 24, 28, 32, 36, 40]
    assert leader.role is Role.LEADER and leader.current_term == 1
    assert leader.ticks_until_timeout is None


def test_heartbeat_carries_what_the_follower_lacks(raft):
    leader = raft.make_leader(1, n=3, term=2, log=[1], config=rb.Config(heartbeat_interval=1))
    leader.step(AER(2, 1, 2, True, match_index=2))
    leader.propose(("set", "x", 1))
    out = {m.dst: m for m in leader.tick()}
    assert out[2].prev_log_index == 2 and [e.index for e in out[2].entries] == [3]
    assert out[3].prev_log_index == 1 and [e.index for e in out[3].entries] == [2, 3]
    assert out[2].leader_commit == leader.commit_index == 2


def test_timeout_on_a_leader_is_refused(raft):
    leader = raft.make_leader(1, term=1)
    with pytest.raises(rb.InvalidState, match="leader"):
        leader.timeout()
    assert leader.role is Role.LEADER and leader.current_term == 1


def test_single_server_elects_itself_and_commits_alone():
    node = rb.RaftNode(1, [], rb.Config(), random.Random(0))
    node.timeout()
    assert node.role is Role.LEADER and node.commit_index == 1
    node.propose(("set", "x", 7))
    assert node.commit_index == 2 and node.kv == {"x": 7}


def test_candidate_loses_to_a_leader_of_its_term(raft):
    node = raft.make_node(1, n=3)
    node.timeout()
    [reply] = node.step(AE(2, 1, 1, 0, 0, (), 0))
    assert reply.success and node.role is Role.FOLLOWER and node.leader_id == 2
    assert node.current_term == 1 and node.voted_for == 1   # its vote of term 1 stays given


def test_restart_keeps_persistent_state_and_rebuilds_the_rest(raft):
    leader = raft.make_leader(1, n=3, term=3, log=[1, 2])
    leader.step(AER(2, 1, 3, True, match_index=3))
    leader.propose(("set", "x", 1))
    leader.step(AER(2, 1, 3, True, match_index=4))
    assert leader.commit_index == 4 and leader.kv == {"x": 1}
    log_before = list(leader.log)
    leader.restart()
    # Persistent (Figure 2): currentTerm, votedFor, log[].
    assert leader.current_term == 3 and leader.voted_for == 1 and list(leader.log) == log_before
    # Volatile: rebuilt.
    assert leader.role is Role.FOLLOWER
    assert (leader.commit_index, leader.last_applied, leader.kv) == (0, 0, {})
    assert leader.next_index == {} and leader.match_index == {} and leader.leader_id is None
    assert leader.election_elapsed == 0
    # The state machine is rebuilt from the log as commits are learnt again.
    leader.step(AE(2, 1, 4, 4, 3, (), 4))
    assert leader.kv == {"x": 1} and leader.last_applied == 4


def test_restarted_node_does_not_vote_twice_in_a_term(raft):
    node = raft.make_node(1, n=3, term=1)
    node.step(RV(2, 1, 2, 0, 0))
    node.restart()
    [reply] = node.step(RV(3, 1, 2, 0, 0))
    assert not reply.vote_granted and node.voted_for == 2


def test_same_rng_same_timeouts():
    def timeouts(seed):
        node = rb.RaftNode(1, [2, 3], rb.Config(), random.Random(seed))
        out = []
        for t in range(1, 20):
            node.step(RV(2, 1, t, 0, 0))
            out.append(node.election_timeout)
        return out
    assert timeouts(5) == timeouts(5)
    assert timeouts(5) != timeouts(6)


def test_max_entries_batches_and_continues_after_success(raft):
    leader = raft.make_leader(1, n=3, term=1, log=[], config=rb.Config(max_entries=2))
    for k in range(4):
        leader.propose(("set", "k", k))
    leader.next_index[2] = 1
    [first] = [m for m in leader.replicate() if m.dst == 2]
    assert [e.index for e in first.entries] == [1, 2]
    [more] = leader.step(AER(2, 1, 1, True, match_index=2))
    assert [e.index for e in more.entries] == [3, 4]
    assert leader.step(AER(2, 1, 1, True, match_index=5)) == []


def test_state_is_plain_data(raft):
    node = raft.make_node(1, n=3, term=2, log=[1, (2, ("set", "x", 1))], commit=2)
    st = node.state()
    assert st["role"] == "follower" and st["current_term"] == 2
    assert st["log"] == [(1, 1, None), (2, 2, ("set", "x", 1))]
    assert st["kv"] == {"x": 1} and st["commit_index"] == 2


# -- handlers --------------------------------------------------------------------------
def test_custom_handler_is_called_where_the_reference_is(raft):
    calls = []

    def spy(node, msg):
        calls.append((node.id, msg))
        return rb.reference_handlers["request_vote"](node, msg)
    node = raft.make_node(1, n=3, handlers={"request_vote": spy})
    msg = RV(2, 1, 1, 0, 0)
    [reply] = node.step(msg)
    assert calls == [(1, msg)] and reply.vote_granted
    node.step(AE(2, 1, 1, 0, 0, (), 0))
    assert len(calls) == 1


@pytest.mark.parametrize("bad, match", [
    (lambda node, msg: 1 / 0, "ZeroDivisionError"),
    (lambda node, msg: None, "must return a list"),
    (lambda node, msg: ["hello"], "not a message"),
    (lambda node, msg: [RVR(2, msg.src, 1, True)], "src"),
    (lambda node, msg: [RVR(node.id, 9, 1, True)], "not one of its peers"),
])
def test_broken_handlers_raise_handler_error(raft, bad, match):
    node = raft.make_node(1, n=3, handlers={"request_vote": bad})
    with pytest.raises(rb.HandlerError, match=match):
        node.step(RV(2, 1, 1, 0, 0))


def test_commit_handler_must_return_none(raft):
    def bad(node):
        return 5
    node = raft.make_node(1, n=1, handlers={"advance_commit_index": bad})
    with pytest.raises(rb.HandlerError, match="return None"):
        node.timeout()


def test_reference_handlers_are_the_four_public_rules():
    assert set(rb.reference_handlers) == {"request_vote", "append_entries",
                                          "append_entries_reply", "advance_commit_index"}


def test_unknown_handler_name_is_refused():
    with pytest.raises(rb.InvalidArgument, match="unknown handler"):
        rb.RaftNode(1, [2], handlers={"request_votes": lambda n, m: []})
    with pytest.raises(rb.InvalidArgument, match="function"):
        rb.RaftNode(1, [2], handlers={"request_vote": 3})
