"""One paper rule, one minimal state, one message (Figure 2 of the Raft paper).

Each test builds a node in the smallest state that shows the rule, steps one
message (or tick) into it, and checks both the reply and the node's state.
"""
import pytest

import raftbook as rb
from raftbook.roles import Role

RV, RVR, AE, AER, E = (rb.RequestVote, rb.RequestVoteReply, rb.AppendEntries,
                       rb.AppendEntriesReply, rb.Entry)


def entries(*pairs):
    """Entries from (index, term) pairs."""
    return tuple(E(i, t) for i, t in pairs)


# -- the vote rule -------------------------------------------------------------------
def test_vote_granted_once_per_term(raft):
    node = raft.make_node(1, term=1, log=[1])
    [reply] = node.step(RV(2, 1, 2, 1, 1))
    assert reply == RVR(1, 2, 2, True)
    assert (node.current_term, node.voted_for) == (2, 2)
    # Another candidate of the same term, with an even better log: refused.
    [reply] = node.step(RV(3, 1, 2, 5, 2))
    assert reply == RVR(1, 3, 2, False)
    assert node.voted_for == 2
    assert "vote_refused_already_voted" in raft.codes(node)
    # The same candidate asking again (a duplicated request) gets the same answer.
    [reply] = node.step(RV(2, 1, 2, 1, 1))
    assert reply.vote_granted


@pytest.mark.parametrize("own, cand, granted", [
    # (own last term, own last index), (candidate last term, last index)
    ((2, 3), (3, 1), True),    # higher last term wins even with a shorter log
    ((3, 1), (2, 5), False),   # a longer log with an older last term loses (not by length!)
    ((2, 3), (2, 2), False),   # same last term: the shorter log loses
    ((2, 3), (2, 3), True),    # identical logs: up to date
    ((2, 3), (2, 4), True),    # same last term, longer: up to date
    ((0, 0), (0, 0), True),    # both empty
    ((1, 1), (0, 0), False),   # an empty log is behind any non-empty one
])
def test_vote_only_for_an_up_to_date_log(raft, own, cand, granted):
    own_term, own_index = own
    log = [1] * (own_index - 1) + [own_term] if own_index else []
    node = raft.make_node(1, term=5, log=log)
    [reply] = node.step(RV(2, 1, 6, cand[1], cand[0]))
    assert reply.vote_granted is granted
    assert node.current_term == 6  # the higher term is adopted either way
    assert node.voted_for == (2 if granted else None)
    expected = "vote_granted" if granted else "vote_refused_log_not_up_to_date"
    assert expected in raft.codes(node)


def test_log_is_up_to_date_compares_last_term_then_index():
    from raftbook.rules import log_is_up_to_date
    assert log_is_up_to_date(3, 1, 2, 9)
    assert not log_is_up_to_date(2, 9, 3, 1)
    assert log_is_up_to_date(2, 4, 2, 4)
    assert not log_is_up_to_date(2, 3, 2, 4)


def test_stale_vote_request_is_refused_and_changes_nothing(raft):
    node = raft.make_node(1, term=3, log=[1, 3], voted_for=None)
    node.election_elapsed = 7
    before = node.state()
    [reply] = node.step(RV(2, 1, 2, 9, 2))
    assert reply == RVR(1, 2, 3, False)   # carries the newer term so the candidate steps down
    assert node.state() == before
    assert raft.codes(node) == ["vote_refused_stale_term"]


# -- higher terms: adopt and step down, before handling ------------------------------
def _higher_term_messages():
    return {
        "RequestVote": RV(2, 1, 9, 50, 8),
        "RequestVoteReply": RVR(2, 1, 9, False),
        "AppendEntries": AE(2, 1, 9, 0, 0, (), 0),
        "AppendEntriesReply": AER(2, 1, 9, False),
    }


@pytest.mark.parametrize("kind", list(_higher_term_messages()))
@pytest.mark.parametrize("role", ["follower", "candidate", "leader"])
def test_higher_term_adopted_and_steps_down_for_every_message(raft, kind, role):
    if role == "leader":
        node = raft.make_leader(1, term=2)
    else:
        node = raft.make_node(1, term=2, voted_for=1)
        if role == "candidate":
            node.timeout()
            node.take_reasons()
    msg = _higher_term_messages()[kind]
    node.step(msg)
    assert node.current_term == 9
    assert node.role is Role.FOLLOWER
    # The vote of term 9 is free (only a RequestVote from a good-enough log takes it).
    assert node.voted_for == (2 if kind == "RequestVote" else None)
    codes = raft.codes(node)
    assert codes[0] == "term_adopted"
    if role != "follower":
        assert "stepped_down" in codes


def test_higher_term_is_adopted_before_the_vote_is_judged(raft):
    """A node that voted in term 2 can vote again in term 3: the term is adopted first."""
    node = raft.make_node(1, term=2, voted_for=3)
    [reply] = node.step(RV(2, 1, 3, 0, 0))
    assert reply == RVR(1, 2, 3, True)


def test_higher_term_append_entries_makes_a_leader_follow(raft):
    leader = raft.make_leader(1, term=2, log=[1])
    [reply] = leader.step(AE(3, 1, 4, 2, 2, (), 0))
    assert leader.role is Role.FOLLOWER and leader.leader_id == 3
    assert reply.term == 4 and reply.success  # its log holds (2, t2): its own no-op


# -- stale requests and stale replies ------------------------------------------------
def test_stale_append_entries_rejected_without_side_effects(raft):
    node = raft.make_node(1, term=5, log=[1, 1], commit=1)
    node.leader_id = 3
    node.election_elapsed = 4
    before = node.state()
    [reply] = node.step(AE(2, 1, 4, 2, 1, entries((3, 4)), 3))
    assert reply == AER(1, 2, 5, False)
    assert node.state() == before     # no entries, no commit, no timer reset, same leader
    assert raft.codes(node) == ["append_refused_stale_term"]


def test_stale_vote_reply_is_not_counted(raft):
    node = raft.make_node(1, n=5, term=3)
    node.timeout()            # candidate of term 4
    node.step(RVR(2, 1, 3, True))   # a vote from term 3's election
    node.step(RVR(3, 1, 3, True))
    assert node.role is Role.CANDIDATE and node.votes == {1}
    assert raft.codes(node).count("reply_ignored_stale") == 2


def test_vote_reply_after_winning_is_ignored(raft):
    node = raft.make_leader(1, n=3, term=1)
    log_before = node.log.terms()
    out = node.step(RVR(3, 1, 1, True))
    assert out == [] and node.role is Role.LEADER and node.log.terms() == log_before


def test_denied_vote_does_not_count(raft):
    node = raft.make_node(1, n=3, term=0)
    node.timeout()
    node.step(RVR(2, 1, 1, False))
    assert node.role is Role.CANDIDATE and node.votes == {1}
    node.step(RVR(3, 1, 1, True))
    assert node.role is Role.LEADER


def test_duplicate_vote_counts_once(raft):
    node = raft.make_node(1, n=5, term=0)
    node.timeout()
    node.step(RVR(2, 1, 1, True))
    node.step(RVR(2, 1, 1, True))
    assert node.role is Role.CANDIDATE and node.votes == {1, 2}


def test_stale_append_reply_is_ignored(raft):
    leader = raft.make_leader(1, term=3, log=[1, 2])
    leader.match_index[2] = 1
    leader.next_index[2] = 2
    before = leader.state()
    out = leader.step(AER(2, 1, 2, True, match_index=3))
    assert out == [] and leader.state() == before
    out = leader.step(AER(2, 1, 2, False, conflict_index=1))   # stale failure: no back-off
    assert out == [] and leader.state() == before


def test_append_reply_to_a_former_leader_is_ignored(raft):
    node = raft.make_node(1, term=3, log=[1, 3])
    before = node.state()
    assert node.step(AER(2, 1, 3, True, match_index=2)) == []
    assert node.state() == before


# -- AppendEntries: the consistency check ---------------------------------------------
def test_consistency_check_log_too_short(raft):
    node = raft.make_node(1, term=2, log=[1, 1])
    [reply] = node.step(AE(2, 1, 2, 5, 2, entries((6, 2)), 0))
    assert not reply.success
    assert (reply.conflict_index, reply.conflict_term) == (3, 0)  # "try from my end"
    assert node.log.terms() == [1, 1]
    assert node.leader_id == 2   # still the legitimate leader of term 2


def test_consistency_check_term_mismatch_hints_the_whole_run(raft):
    node = raft.make_node(1, term=4, log=[1, 2, 2, 2])
    [reply] = node.step(AE(2, 1, 4, 4, 3, entries((5, 4)), 0))
    assert not reply.success
    assert (reply.conflict_term, reply.conflict_index) == (2, 2)
    assert node.log.terms() == [1, 2, 2, 2]  # a failed check changes no entry


def test_consistency_check_passes_on_matching_prev(raft):
    node = raft.make_node(1, term=2, log=[1, 2])
    [reply] = node.step(AE(2, 1, 2, 2, 2, entries((3, 2)), 0))
    assert reply.success and reply.match_index == 3
    assert node.log.terms() == [1, 2, 2]


def test_empty_log_accepts_from_index_zero(raft):
    node = raft.make_node(1, term=1)
    [reply] = node.step(AE(2, 1, 1, 0, 0, entries((1, 1), (2, 1)), 0))
    assert reply.success and reply.match_index == 2 and node.log.terms() == [1, 1]


# -- conflicts truncate; duplicates and stale messages never do ------------------------
def test_real_conflict_truncates_the_suffix(raft):
    node = raft.make_node(1, term=3, log=[1, 1, 2, 2])
    [reply] = node.step(AE(2, 1, 3, 2, 1, entries((3, 3)), 0))
    assert reply.success and reply.match_index == 3
    assert node.log.terms() == [1, 1, 3]
    assert node.log.truncations == 1
    assert "conflict_truncated" in raft.codes(node)


def test_duplicate_append_entries_never_truncates(raft):
    node = raft.make_node(1, term=2, log=[1, 2, 2, 2])
    [reply] = node.step(AE(2, 1, 2, 1, 1, entries((2, 2)), 0))   # an old, shorter copy
    assert reply.success and reply.match_index == 2
    assert node.log.terms() == [1, 2, 2, 2] and node.log.truncations == 0


def test_reordered_append_entries_never_truncate(raft):
    """The leader sent [2..3] then [2..4]; the network delivers them the other way round."""
    first = AE(2, 1, 2, 1, 1, entries((2, 2), (3, 2)), 0)
    second = AE(2, 1, 2, 1, 1, entries((2, 2), (3, 2), (4, 2)), 0)
    node = raft.make_node(1, term=2, log=[1])
    node.step(second)
    [reply] = node.step(first)
    assert node.log.terms() == [1, 2, 2, 2] and node.log.truncations == 0
    assert reply.match_index == 3   # what THIS request proved, not the log length


def test_heartbeat_does_not_cut_a_matching_suffix(raft):
    node = raft.make_node(1, term=2, log=[1, 2, 2])
    [reply] = node.step(AE(2, 1, 2, 1, 1, (), 0))
    assert reply.success and reply.match_index == 1
    assert node.log.terms() == [1, 2, 2]


def test_conflict_after_matching_entries_truncates_from_the_conflict(raft):
    node = raft.make_node(1, term=3, log=[1, 2, 2, 2])
    node.step(AE(2, 1, 3, 1, 1, entries((2, 2), (3, 3)), 0))
    assert node.log.terms() == [1, 2, 3]


# -- commit index on followers ----------------------------------------------------------
def test_follower_commit_is_min_of_leader_commit_and_last_new_entry(raft):
    # S1 holds extra entries the leader has not vouched for (they may be stale).
    node = raft.make_node(1, term=3, log=[1, 1, 2, 2])
    [reply] = node.step(AE(2, 1, 3, 2, 1, (), 4))
    assert reply.success
    assert node.commit_index == 2      # min(4, 2): not 4
    assert node.last_applied == 2


def test_follower_commit_follows_leader_commit_when_lower(raft):
    node = raft.make_node(1, term=2, log=[1])
    node.step(AE(2, 1, 2, 1, 1, entries((2, 2), (3, 2)), 2))
    assert node.commit_index == 2


def test_commit_index_never_decreases(raft):
    node = raft.make_node(1, term=2, log=[1, 2, 2], commit=3)
    node.step(AE(2, 1, 2, 1, 1, entries((2, 2)), 1))   # late, stale message
    assert node.commit_index == 3 and node.last_applied == 3


# -- the leader's bookkeeping -------------------------------------------------------------
def test_match_index_comes_from_the_reply_not_next_index(raft):
    leader = raft.make_leader(1, term=2, log=[1, 1, 1])   # log 1,1,1 + no-op at 4
    assert leader.next_index[2] == 4
    leader.step(AER(2, 1, 2, True, match_index=2))   # the answer to an older, shorter request
    assert leader.match_index[2] == 2
    assert leader.next_index[2] == 4   # not moved back either


def test_match_index_never_goes_back_on_a_reordered_reply(raft):
    leader = raft.make_leader(1, term=2, log=[1, 1])
    leader.step(AER(2, 1, 2, True, match_index=3))
    leader.step(AER(2, 1, 2, True, match_index=1))
    assert leader.match_index[2] == 3 and leader.next_index[2] == 4


def test_next_index_backs_off_by_one_without_hints(raft):
    leader = raft.make_leader(1, term=3, log=[1, 1, 2])
    assert leader.next_index[2] == 4
    [retry] = leader.step(AER(2, 1, 3, False))
    assert leader.next_index[2] == 3
    assert (retry.dst, retry.prev_log_index, retry.prev_log_term) == (2, 2, 1)
    assert [e.index for e in retry.entries] == [3, 4]


def test_fast_backup_log_too_short(raft):
    leader = raft.make_leader(1, term=3, log=[1, 1, 2, 2, 2])
    [retry] = leader.step(AER(2, 1, 3, False, conflict_index=2, conflict_term=0))
    assert leader.next_index[2] == 2 and retry.prev_log_index == 1


def test_fast_backup_skips_a_conflicting_term_the_leader_lacks(raft):
    leader = raft.make_leader(1, term=4, log=[1, 1, 3, 3, 3])
    # The follower holds term 2 from index 2 on; the leader has no term 2.
    leader.step(AER(2, 1, 4, False, conflict_index=2, conflict_term=2))
    assert leader.next_index[2] == 2


def test_fast_backup_jumps_past_the_leaders_own_run_of_that_term(raft):
    leader = raft.make_leader(1, term=5, log=[1, 2, 2, 4, 4])
    # The follower has term 2 at the probed index, from index 2 on.
    leader.step(AER(2, 1, 5, False, conflict_index=2, conflict_term=2))
    assert leader.next_index[2] == 4     # just after the leader's last term-2 entry


def test_back_off_never_below_match_index_or_one(raft):
    leader = raft.make_leader(1, term=2, log=[1, 1])
    leader.match_index[2] = 2
    leader.step(AER(2, 1, 2, False, conflict_index=1))
    assert leader.next_index[2] == 3
    leader.next_index[3] = 1
    leader.step(AER(3, 1, 2, False))
    assert leader.next_index[3] == 1


# -- the commit rule ---------------------------------------------------------------------
def test_leader_does_not_commit_an_earlier_term_entry_by_counting(raft):
    """Figure 8: index 2 (term 2) sits on a majority, but it is not of the current term."""
    leader = raft.make_leader(1, n=5, term=4, log=[1, 2])        # log 1,2 + no-op (4) at 3
    leader.step(AER(2, 1, 4, True, match_index=2))
    leader.step(AER(3, 1, 4, True, match_index=2))
    assert leader.commit_index == 0
    assert "commit_not_advanced_earlier_term" in raft.codes(leader)
    # One replica of the term-4 entry more than the leader: index 3 on 3 of 5.
    leader.step(AER(2, 1, 4, True, match_index=3))
    leader.step(AER(3, 1, 4, True, match_index=3))
    assert leader.commit_index == 3    # ... and 1, 2 commit with it
    assert leader.last_applied == 3


def test_leader_commits_current_term_entry_on_majority(raft):
    leader = raft.make_leader(1, n=5, term=1)
    leader.step(AER(2, 1, 1, True, match_index=1))
    assert leader.commit_index == 0      # 2 of 5
    leader.step(AER(3, 1, 1, True, match_index=1))
    assert leader.commit_index == 1      # 3 of 5


def test_broken_commit_rule_would_commit_earlier_term(raft):
    """The broken rule the Figure 8 test injects really does behave differently here."""
    leader = raft.make_leader(1, n=5, term=4, log=[1, 2],
                              handlers={"advance_commit_index": raft.any_term_commit})
    leader.step(AER(2, 1, 4, True, match_index=2))
    leader.step(AER(3, 1, 4, True, match_index=2))
    assert leader.commit_index == 2


# -- election: the no-op ------------------------------------------------------------------
def test_new_leader_appends_a_noop_of_its_term_and_sends_it(raft):
    node = raft.make_node(1, n=3, term=2, log=[1, 2])
    node.timeout()
    out = node.step(RVR(2, 1, 3, True))
    assert node.role is Role.LEADER
    assert node.log[3] == E(3, 3, None)
    assert {m.dst for m in out} == {2, 3}
    for m in out:
        assert type(m) is AE and (m.prev_log_index, m.prev_log_term) == (2, 2)
        assert m.entries == (E(3, 3, None),)
    assert node.next_index == {2: 3, 3: 3} and node.match_index == {2: 0, 3: 0}


# -- applying ------------------------------------------------------------------------------
def test_apply_in_order_exactly_once(raft):
    node = raft.make_node(1, term=1)
    cmds = [("set", "x", 1), ("set", "x", 2), ("get", "x"), ("delete", "x")]
    msg = AE(2, 1, 1, 0, 0, tuple(E(i, 1, c) for i, c in enumerate(cmds, start=1)), 4)
    node.step(msg)
    node.step(msg)                       # a duplicate: nothing is applied again
    applied = [f["index"] for code, f in node.take_reasons() if code == "applied"]
    assert applied == [1, 2, 3, 4]
    assert node.results == {1: 1, 2: 2, 3: 2, 4: 2}
    assert node.kv == {} and node.last_applied == 4


def test_apply_waits_for_commit(raft):
    node = raft.make_node(1, term=1)
    node.step(AE(2, 1, 1, 0, 0, (E(1, 1, ("set", "x", 1)),), 0))
    assert node.kv == {} and node.last_applied == 0
    node.step(AE(2, 1, 1, 1, 1, (), 1))
    assert node.kv == {"x": 1} and node.last_applied == 1


# -- timers --------------------------------------------------------------------------------
def _aged(node, ticks=5):
    node.election_elapsed = ticks
    return node


def test_timer_reset_on_granting_a_vote(raft):
    node = _aged(raft.make_node(1, term=1))
    node.step(RV(2, 1, 2, 0, 0))
    assert node.election_elapsed == 0


@pytest.mark.parametrize("case", ["already_voted", "log_behind", "stale_term", "higher_term_refused"])
def test_timer_not_reset_on_refusing_a_vote(raft, case):
    if case == "already_voted":
        node, msg = raft.make_node(1, term=2, voted_for=3), RV(2, 1, 2, 0, 0)
    elif case == "log_behind":
        node, msg = raft.make_node(1, term=2, log=[2]), RV(2, 1, 2, 0, 0)
    elif case == "stale_term":
        node, msg = raft.make_node(1, term=3), RV(2, 1, 2, 9, 2)
    else:
        node, msg = raft.make_node(1, term=2, log=[2]), RV(2, 1, 5, 1, 1)
    _aged(node)
    timeout = node.election_timeout
    [reply] = node.step(msg)
    assert not reply.vote_granted
    assert (node.election_elapsed, node.election_timeout) == (5, timeout)


def test_timer_reset_on_hearing_the_current_leader_even_on_mismatch(raft):
    node = _aged(raft.make_node(1, term=2, log=[1]))
    [reply] = node.step(AE(2, 1, 2, 5, 2, (), 0))
    assert not reply.success and node.election_elapsed == 0


def test_timer_not_reset_by_replies(raft):
    node = raft.make_node(1, n=5, term=0)
    node.timeout()
    _aged(node, 3)
    node.step(RVR(2, 1, 1, False))
    node.step(RVR(3, 1, 1, True))
    assert node.election_elapsed == 3


def test_each_reset_draws_a_fresh_timeout_in_range(raft):
    node = raft.make_node(1, term=0, config=rb.Config(election_timeout=(10, 40), heartbeat_interval=3))
    seen = set()
    for t in range(1, 40):
        node.step(RV(2, 1, t, 0, 0))
        seen.add(node.election_timeout)
    assert all(10 <= x <= 40 for x in seen) and len(seen) > 5


# -- clients ------------------------------------------------------------------------------
def test_not_leader_carries_the_known_leader(raft):
    node = raft.make_node(1, term=1)
    node.step(AE(3, 1, 1, 0, 0, (), 0))
    with pytest.raises(rb.NotLeader, match="S3") as info:
        node.propose(("set", "x", 1))
    assert info.value.leader_hint == 3
    assert node.log.last_index == 0


def test_not_leader_without_a_known_leader(raft):
    node = raft.make_node(1, term=1)
    node.timeout()
    with pytest.raises(rb.NotLeader) as info:
        node.propose(("set", "x", 1))
    assert info.value.leader_hint is None


def test_leader_appends_a_proposal_at_the_next_index(raft):
    leader = raft.make_leader(1, term=2, log=[1])
    entry = leader.propose(("set", "k", "v"))
    assert entry == E(3, 2, ("set", "k", "v")) and leader.log[3] == entry
