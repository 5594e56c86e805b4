"""A5, persistence points: rule cases for the RequestVote receiver under explicit persistence.

The graded name "request_vote_persistent" is the RequestVote receiver on a server with
``Config(persistence="explicit")`` (:mod:`.targets`): a crash keeps only what
``node.persist()`` last saved. Figure 2 says persistent state is "updated on stable
storage before responding to RPCs", so each case checks ``node.saved`` at the moment
the handler returned its reply, besides the usual vote rules.
"""
from __future__ import annotations

from ..core.messages import RequestVote, RequestVoteReply
from ..core.roles import Role
from .rulecase import rule_case

H = "request_vote_persistent"
SAVE = ("Figure 2: persistent state (currentTerm, votedFor) is updated on stable storage before "
        "responding to RPCs; call node.persist() before returning the reply")
GRANT = ("RequestVote, receiver rule 2 (Figure 2): grant the vote if votedFor is null or the "
         "candidate, and its log is at least as up to date")
ONE = "RequestVote, receiver rule 2 (Figure 2): one vote per term"
STALE = "RequestVote, receiver rule 1 (Figure 2): reply false if term < currentTerm"
TERM = ("Rules for all servers (Figure 2): a message with a newer term makes the server adopt it "
        "and become a follower")


def _saved(k, node, term, voted_for, why):
    saved = node.saved or {}
    got = (saved.get("current_term"), saved.get("voted_for"))
    k.expect(got == (term, voted_for),
             f"node.saved to hold current_term = {term}, voted_for = {voted_for} when the reply was "
             f"returned ({why})",
             f"node.saved holds current_term = {got[0]}, voted_for = {got[1]}; a crash now would "
             f"lose {', '.join(node.unsaved) or 'nothing'}")


@rule_case(H, SAVE)
def a_granted_vote_is_saved_before_the_reply(k):
    T = k.T
    k.given(f"S1 is a follower in term {T + 1} that has not voted; S2, a candidate of term {T + 1} "
            "with an equal log, asks for its vote")
    node = k.node(term=T + 1, log=[T + 1])
    out = k.call(node, RequestVote(2, 1, T + 1, 1, T + 1))
    k.reply(out, RequestVoteReply, 2, term=T + 1, vote_granted=True)
    k.expect(node.voted_for == 2, "voted_for = 2", f"voted_for = {node.voted_for}")
    _saved(k, node, T + 1, 2, "after a restart S1 must remember this vote, or it can vote again")


@rule_case(H, SAVE)
def a_vote_in_a_newer_term_saves_term_and_vote(k):
    T = k.T
    k.given(f"S1 is a follower in term {T + 1} that voted for S3; S2 asks for its vote in term {T + 3}")
    node = k.node(term=T + 1, voted_for=3, log=[T + 1])
    out = k.call(node, RequestVote(2, 1, T + 3, 1, T + 1))
    k.reply(out, RequestVoteReply, 2, term=T + 3, vote_granted=True)
    k.expect(node.current_term == T + 3 and node.voted_for == 2,
             f"current_term = {T + 3}, voted_for = 2",
             f"current_term = {node.current_term}, voted_for = {node.voted_for}")
    _saved(k, node, T + 3, 2, "the new term and the vote in it, together")


@rule_case(H, SAVE)
def a_refused_vote_saves_the_newer_term(k):
    T = k.T
    k.given(f"S1 is a follower in term {T + 1} holding 2 entries of term {T + 1}; S2 asks for its "
            f"vote in term {T + 3} with a shorter log (last entry index 1, term {T + 1})")
    node = k.node(term=T + 1, log=[T + 1, T + 1])
    out = k.call(node, RequestVote(2, 1, T + 3, 1, T + 1))
    k.reply(out, RequestVoteReply, 2, term=T + 3, vote_granted=False)
    k.expect(node.current_term == T + 3 and node.voted_for is None,
             f"current_term = {T + 3} and no vote", f"current_term = {node.current_term}, "
             f"voted_for = {node.voted_for}")
    _saved(k, node, T + 3, None, "the reply tells S2 of term "
           f"{T + 3}; after a restart S1's term must not go back")


@rule_case(H, TERM)
def a_candidate_steps_down_votes_and_saves(k):
    T = k.T
    k.given(f"S1 is a candidate in term {T + 2} (it voted for itself); S2 asks for its vote in term "
            f"{T + 3} with an equal log")
    node = k.node(term=T + 2, log=[T + 1], role="candidate")
    out = k.call(node, RequestVote(2, 1, T + 3, 1, T + 1))
    k.expect(node.role is Role.FOLLOWER, "S1 to become a follower", node.role.value)
    k.reply(out, RequestVoteReply, 2, term=T + 3, vote_granted=True)
    _saved(k, node, T + 3, 2, "its own vote of term " f"{T + 2} is no longer what is on disk")


@rule_case(H, ONE)
def a_second_candidate_of_the_term_is_refused(k):
    T = k.T
    k.given(f"S1, follower in term {T + 2}, voted for S3 in that term (saved); S2 asks in term {T + 2}")
    node = k.node(term=T + 2, voted_for=3, log=[T + 1])
    out = k.call(node, RequestVote(2, 1, T + 2, 1, T + 1))
    k.reply(out, RequestVoteReply, 2, term=T + 2, vote_granted=False)
    k.expect(node.voted_for == 3, "voted_for to stay 3", f"voted_for = {node.voted_for}")
    _saved(k, node, T + 2, 3, "nothing changed, and what is saved stays")


@rule_case(H, STALE)
def a_stale_candidate_is_refused(k):
    T = k.T
    k.given(f"S1, follower in term {T + 3}, has not voted; S2 asks for its vote in term {T + 2}")
    node = k.node(term=T + 3, log=[T + 1])
    out = k.call(node, RequestVote(2, 1, T + 2, 1, T + 1))
    k.reply(out, RequestVoteReply, 2, term=T + 3, vote_granted=False)
    k.expect(node.current_term == T + 3 and node.voted_for is None,
             f"current_term = {T + 3} and no vote",
             f"current_term = {node.current_term}, voted_for = {node.voted_for}")
    _saved(k, node, T + 3, None, "a stale request changes nothing")


@rule_case(H, GRANT)
def a_candidate_with_an_older_log_is_refused(k):
    T = k.T
    k.given(f"S1, follower in term {T + 2}, holds an entry of term {T + 2}; S2 asks in term {T + 2} "
            f"with a last entry of term {T + 1} at index 3")
    node = k.node(term=T + 2, log=[T + 1, T + 2])
    out = k.call(node, RequestVote(2, 1, T + 2, 3, T + 1))
    k.reply(out, RequestVoteReply, 2, term=T + 2, vote_granted=False)
    k.expect(node.voted_for is None, "no vote", f"voted_for = {node.voted_for}")
    _saved(k, node, T + 2, None, "nothing changed")
