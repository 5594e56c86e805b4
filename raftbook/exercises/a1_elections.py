"""A1, elections: the rule cases for handling RequestVote (Figure 2, section 5.2, 5.4.1).

The server under test is S1 of three (S4 of five in one case); candidates are
S2 and S3. ``T`` shifts every term so hidden tests differ from visible ones.
"""
from __future__ import annotations

from ..core.messages import RequestVote, RequestVoteReply
from ..core.roles import Role
from .rulecase import rule_case

H = "request_vote"
TERMS = "Term rule (Figure 2, all servers): a higher term is adopted, a lower one refused"
ONE_VOTE = "One vote per term (Figure 2, RequestVote: grant only if votedFor is null or candidateId)"
UP_TO_DATE = "Election restriction (section 5.4.1): compare last log terms first, then lengths"
TIMER = "Election timer (Figure 2, followers): reset it only when granting a vote"


@rule_case(H, ONE_VOTE)
def grants_a_first_vote(k):
    T = k.T
    k.given(f"S1 is a follower in term {T + 1} that has not voted; S2 asks for its vote in term "
            f"{T + 2} with a log as up to date as S1's")
    node = k.node(term=T + 1, log=[T + 1], election_elapsed=9)
    out = k.call(node, RequestVote(2, 1, T + 2, 1, T + 1))
    k.reply(out, RequestVoteReply, 2, term=T + 2, vote_granted=True)
    k.expect(node.voted_for == 2, "voted_for = 2 after granting the vote", f"voted_for={node.voted_for!r}")
    k.expect(node.current_term == T + 2, f"current_term = {T + 2}", f"{node.current_term}")
    k.expect(node.election_elapsed == 0, "the election timer to be reset when the vote is granted",
             f"election_elapsed={node.election_elapsed} (it was 9)")


@rule_case(H, TERMS)
def refuses_a_stale_candidate(k):
    T = k.T
    k.given(f"S1 is a follower in term {T + 3} that has not voted; S2 asks for a vote in the older "
            f"term {T + 2}")
    node = k.node(term=T + 3, log=[T + 1])
    out = k.call(node, RequestVote(2, 1, T + 2, 1, T + 1))
    k.reply(out, RequestVoteReply, 2, vote_granted=False, term=T + 3)
    k.expect(node.current_term == T + 3 and node.voted_for is None,
             f"S1 to stay in term {T + 3} without a vote", f"term {node.current_term}, voted_for={node.voted_for!r}")


@rule_case(H, ONE_VOTE)
def refuses_a_second_candidate_in_the_same_term(k):
    T = k.T
    k.given(f"S1 already voted for S3 in term {T + 2}; S2 asks for its vote in the same term")
    node = k.node(term=T + 2, voted_for=3, log=[T + 1])
    out = k.call(node, RequestVote(2, 1, T + 2, 1, T + 1))
    k.reply(out, RequestVoteReply, 2, vote_granted=False, term=T + 2)
    k.expect(node.voted_for == 3, "voted_for to stay 3", f"voted_for={node.voted_for!r}")


@rule_case(H, ONE_VOTE)
def grants_the_same_candidate_again(k):
    T = k.T
    k.given(f"S1 voted for S2 in term {T + 2}; S2's request arrives again (duplicated by the network)")
    node = k.node(term=T + 2, voted_for=2, log=[T + 1])
    out = k.call(node, RequestVote(2, 1, T + 2, 1, T + 1))
    k.reply(out, RequestVoteReply, 2, vote_granted=True, term=T + 2)


@rule_case(H, TERMS)
def a_higher_term_clears_the_old_vote(k):
    T = k.T
    k.given(f"S1 voted for S3 in term {T + 2}; S2 asks for its vote in the newer term {T + 3}")
    node = k.node(term=T + 2, voted_for=3, log=[T + 1])
    out = k.call(node, RequestVote(2, 1, T + 3, 1, T + 1))
    k.reply(out, RequestVoteReply, 2, vote_granted=True, term=T + 3)
    k.expect(node.current_term == T + 3 and node.voted_for == 2,
             f"current_term = {T + 3} and voted_for = 2",
             f"current_term={node.current_term}, voted_for={node.voted_for!r}")


@rule_case(H, TERMS)
def a_higher_term_is_adopted_even_when_refusing(k):
    T = k.T
    k.given(f"S1 is in term {T + 2} with log terms [{T + 1}, {T + 2}]; S2 asks for its vote in term "
            f"{T + 4} with a less up-to-date log (last term {T + 1})")
    node = k.node(term=T + 2, voted_for=3, log=[T + 1, T + 2])
    out = k.call(node, RequestVote(2, 1, T + 4, 1, T + 1))
    k.reply(out, RequestVoteReply, 2, vote_granted=False, term=T + 4)
    k.expect(node.current_term == T + 4, f"S1 to adopt term {T + 4} although it refuses the vote",
             f"current_term={node.current_term}")
    k.expect(node.voted_for is None, "voted_for = None in the new term (it has voted for nobody yet)",
             f"voted_for={node.voted_for!r}")


@rule_case(H, TERMS)
def a_leader_steps_down_on_a_higher_term(k):
    T = k.T
    k.given(f"S1 is the leader of term {T + 2}; S2 asks for its vote in term {T + 3} with an "
            "equally up-to-date log")
    node = k.node(term=T + 2, voted_for=1, log=[T + 1, T + 2], role="leader")
    out = k.call(node, RequestVote(2, 1, T + 3, 2, T + 2))
    k.expect(node.role is Role.FOLLOWER, "S1 to step down to follower", f"role={node.role.value}")
    k.reply(out, RequestVoteReply, 2, vote_granted=True, term=T + 3)


@rule_case(H, ONE_VOTE)
def a_candidate_refuses_a_rival_of_its_own_term(k):
    T = k.T
    k.given(f"S1 is a candidate in term {T + 2} (it voted for itself); S2, another candidate of "
            f"term {T + 2}, asks for its vote")
    node = k.node(term=T + 2, log=[T + 1], role="candidate")
    out = k.call(node, RequestVote(2, 1, T + 2, 1, T + 1))
    k.reply(out, RequestVoteReply, 2, vote_granted=False)
    k.expect(node.voted_for == 1, "S1's vote to stay with itself", f"voted_for={node.voted_for!r}")


@rule_case(H, UP_TO_DATE)
def a_later_last_term_wins_over_a_longer_log(k):
    T = k.T
    k.given(f"S1's log has terms [{T + 1}, {T + 1}, {T + 1}]; S2's log is shorter (2 entries) but "
            f"ends in the later term {T + 2}")
    node = k.node(term=T + 2, log=[T + 1, T + 1, T + 1])
    out = k.call(node, RequestVote(2, 1, T + 3, 2, T + 2))
    k.reply(out, RequestVoteReply, 2, vote_granted=True)


@rule_case(H, UP_TO_DATE)
def a_longer_log_with_an_earlier_last_term_loses(k):
    T = k.T
    k.given(f"S1's log has terms [{T + 1}, {T + 2}]; S2's log is longer (3 entries) but ends in the "
            f"earlier term {T + 1}")
    node = k.node(term=T + 2, log=[T + 1, T + 2])
    out = k.call(node, RequestVote(2, 1, T + 3, 3, T + 1))
    k.reply(out, RequestVoteReply, 2, vote_granted=False)


@rule_case(H, UP_TO_DATE)
def same_last_term_shorter_log_loses(k):
    T = k.T
    k.given(f"S1's log has 3 entries of term {T + 1}; S2's log ends in the same term with only 2")
    node = k.node(term=T + 1, log=[T + 1, T + 1, T + 1])
    out = k.call(node, RequestVote(2, 1, T + 2, 2, T + 1))
    k.reply(out, RequestVoteReply, 2, vote_granted=False)


@rule_case(H, UP_TO_DATE)
def same_last_term_same_length_wins(k):
    T = k.T
    k.given(f"S1's and S2's logs both end at index 2 in term {T + 1}")
    node = k.node(term=T + 1, log=[T + 1, T + 1])
    out = k.call(node, RequestVote(2, 1, T + 2, 2, T + 1))
    k.reply(out, RequestVoteReply, 2, vote_granted=True)


@rule_case(H, UP_TO_DATE)
def empty_logs_are_equally_up_to_date(k):
    T = k.T
    k.given(f"S1 and S2 both have empty logs; S2 asks for a vote in term {T + 1}")
    node = k.node(term=T)
    out = k.call(node, RequestVote(2, 1, T + 1, 0, 0))
    k.reply(out, RequestVoteReply, 2, vote_granted=True)


@rule_case(H, TIMER)
def no_timer_reset_when_refusing_a_second_candidate(k):
    T = k.T
    k.given(f"S1 voted for S3 in term {T + 2}, and 9 ticks of its election timer have passed; S2 "
            "asks for its vote in the same term")
    node = k.node(term=T + 2, voted_for=3, log=[T + 1], election_elapsed=9)
    k.call(node, RequestVote(2, 1, T + 2, 1, T + 1))
    k.expect(node.election_elapsed == 9, "the election timer to keep running (a refused vote does "
             "not reset it, or a stream of hopeless candidates keeps S1 from ever standing)",
             f"election_elapsed={node.election_elapsed} (it was 9)")


@rule_case(H, TIMER)
def no_timer_reset_when_refusing_an_out_of_date_log(k):
    T = k.T
    k.given(f"S1 (log terms [{T + 1}, {T + 2}], 9 ticks into its election timer) gets a vote request "
            f"from S2 in term {T + 3} whose log ends in term {T + 1}")
    node = k.node(term=T + 2, log=[T + 1, T + 2], election_elapsed=9)
    k.call(node, RequestVote(2, 1, T + 3, 5, T + 1))
    k.expect(node.election_elapsed == 9, "the election timer to keep running when the vote is refused",
             f"election_elapsed={node.election_elapsed} (it was 9)")


@rule_case(H, ONE_VOTE)
def the_reply_goes_back_to_the_candidate(k):
    T = k.T
    k.given(f"S4 of five servers gets S2's vote request in term {T + 1}")
    node = k.node(id=4, n=5, term=T)
    out = k.call(node, RequestVote(2, 4, T + 1, 0, 0))
    k.expect(len(out) == 1, "exactly one message (the reply) and nothing else",
             f"{len(out)} messages")
    k.reply(out, RequestVoteReply, 2, src=4, term=T + 1, vote_granted=True)
