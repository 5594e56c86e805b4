"""A6, PreVote: rule cases and scenes for the answer to a pre-vote request (thesis section 9.6).

The graded name "pre_vote" is the handler a server with ``Config(pre_vote=True)``
runs for a ``RequestVote`` that has ``pre_vote=True`` (:mod:`.targets`). Its rule
has three refusals and a grant: refuse a term that is not newer than the server's
own, refuse while a current leader is heard from (``node.leader_alive()``), refuse
a log that is not at least as up to date (both comparisons of section 5.4.1), grant
otherwise. A pre-vote changes nothing on the server that answers it, so every case
also checks that the term, vote, role, leader, log and election timer are as they
were; and that the reply carries the term asked about when granted, the server's
own term when refused.

Its scenes (registered with :func:`.scenes.register_scenarios`) run clusters whose
servers all use PreVote: a server cut off for long rejoins without raising anyone's
term, an election after the leader crashes still succeeds, a stale log loses the
pre-vote, and a pre-vote for a term a server has already reached is refused.
"""
from __future__ import annotations

from ..core.config import Config
from ..core.messages import RequestVote, RequestVoteReply
from ..core.roles import Role
from ..sim.cluster import Cluster
from .play import Play, converged, one_leader
from .rulecase import rule_case
from .scenes import Scenario, register_scenarios

H = "pre_vote"
#: Ticks into the election timer: one that is still within the minimum election timeout
#: (15 ticks by default) of hearing from a leader, and one well past it.
RECENT, SILENT = 4, 20

STALE = ("PreVote (thesis section 9.6): a pre-vote is for a term newer than the server's own; "
         "refuse one for the server's own term or an older one")
ALIVE = ("PreVote (thesis sections 9.6 and 4.2.3): refuse a pre-vote while hearing from a current "
         "leader, that is within the minimum election timeout of its last message")
LOG = ("PreVote with the election restriction (sections 9.6 and 5.4.1): grant a pre-vote only to a "
       "log at least as up to date as the server's own (a later last term, or the same last term "
       "and at least as long)")
GRANT = ("PreVote (thesis section 9.6): a newer term, no leader heard from and an up-to-date log: "
         "grant the pre-vote, answering in the term asked about")
NOTHING = ("PreVote (thesis section 9.6): a pre-vote changes nothing on the server that answers it: "
           "not its term, its vote, its role, its leader or its election timer")


def _state(node) -> dict:
    return {"current_term": node.current_term, "voted_for": node.voted_for, "role": node.role.value,
            "leader_id": node.leader_id, "election_elapsed": node.election_elapsed,
            "log": [e.term for e in node.log], "commit_index": node.commit_index}


def _unchanged(k, node, before: dict) -> None:
    after = _state(node)
    changed = {f: (before[f], after[f]) for f in before if before[f] != after[f]}
    k.expect(not changed, "S1's state unchanged by a pre-vote (" + ", ".join(
        f"{f} = {v!r}" for f, v in before.items()) + ")",
        ", ".join(f"{f} went from {a!r} to {b!r}" for f, (a, b) in changed.items()))


def _answer(k, node, msg, granted: bool, term: int) -> None:
    """Hand S1 the pre-vote ``msg``; expect one pre-vote reply with ``granted`` in ``term``,
    and S1's state exactly as before."""
    before = _state(node)
    out = k.call(node, msg)
    k.reply(out, RequestVoteReply, msg.src, pre_vote=True, vote_granted=granted, term=term)
    _unchanged(k, node, before)


def _ask(term, last_index, last_term):
    return RequestVote(2, 1, term, last_index, last_term, pre_vote=True)


@rule_case(H, STALE)
def a_pre_vote_for_an_older_term_is_refused(k):
    T = k.T
    k.given(f"S1 is a follower in term {T + 3} that hears from no leader; S2 asks for a pre-vote for "
            f"term {T + 2} with an equal log")
    node = k.node(term=T + 3, log=[T + 1], election_elapsed=SILENT)
    _answer(k, node, _ask(T + 2, 1, T + 1), False, T + 3)


@rule_case(H, STALE)
def a_pre_vote_for_the_servers_own_term_is_refused(k):
    T = k.T
    k.given(f"S1 is a follower in term {T + 2} that hears from no leader; S2 asks for a pre-vote for "
            f"term {T + 2} (S1's own term) with an equal log")
    node = k.node(term=T + 2, log=[T + 1, T + 2], election_elapsed=SILENT)
    _answer(k, node, _ask(T + 2, 2, T + 2), False, T + 2)


@rule_case(H, ALIVE)
def a_pre_vote_is_refused_while_the_leader_is_heard(k):
    T = k.T
    k.given(f"S1 is a follower in term {T + 2}; it heard from its leader S3 {RECENT} ticks ago (the "
            f"minimum election timeout is 15); S2 asks for a pre-vote for term {T + 3} with an equal "
            "log")
    node = k.node(term=T + 2, log=[T + 1, T + 2], leader_id=3, election_elapsed=RECENT)
    _answer(k, node, _ask(T + 3, 2, T + 2), False, T + 2)


@rule_case(H, ALIVE)
def a_leader_refuses_a_pre_vote(k):
    T = k.T
    k.given(f"S1 is the leader of term {T + 2}; S2 asks for a pre-vote for term {T + 3} with an equal "
            "log")
    node = k.node(term=T + 2, log=[T + 1, T + 2], role="leader")
    _answer(k, node, _ask(T + 3, 2, T + 2), False, T + 2)


@rule_case(H, GRANT)
def a_leader_silent_for_the_minimum_timeout_is_no_longer_heard(k):
    T = k.T
    k.given(f"S1 is a follower in term {T + 2}; its leader S3 last spoke exactly 15 ticks ago, the "
            f"minimum election timeout; S2 asks for a pre-vote for term {T + 3} with an equal log")
    node = k.node(term=T + 2, log=[T + 1, T + 2], leader_id=3, election_elapsed=15)
    _answer(k, node, _ask(T + 3, 2, T + 2), True, T + 3)


@rule_case(H, LOG)
def a_log_with_an_earlier_last_term_is_refused(k):
    T = k.T
    k.given(f"S1 is a follower in term {T + 2} that hears from no leader, its last entry of term "
            f"{T + 2} at index 2; S2 asks for a pre-vote for term {T + 3} with a longer log whose last "
            f"entry is of term {T + 1} (index 3)")
    node = k.node(term=T + 2, log=[T + 1, T + 2], election_elapsed=SILENT)
    _answer(k, node, _ask(T + 3, 3, T + 1), False, T + 2)


@rule_case(H, LOG)
def a_shorter_log_with_the_same_last_term_is_refused(k):
    T = k.T
    k.given(f"S1 is a follower in term {T + 1} that hears from no leader, holding 3 entries of term "
            f"{T + 1}; S2 asks for a pre-vote for term {T + 2} with 2 entries of term {T + 1}")
    node = k.node(term=T + 1, log=[T + 1] * 3, election_elapsed=SILENT)
    _answer(k, node, _ask(T + 2, 2, T + 1), False, T + 1)


@rule_case(H, LOG)
def a_later_last_term_wins_over_a_longer_log(k):
    T = k.T
    k.given(f"S1 is a follower in term {T + 2} that hears from no leader, holding 3 entries of term "
            f"{T + 1}; S2 asks for a pre-vote for term {T + 3} with one entry of term {T + 1} and one "
            f"of term {T + 2}")
    node = k.node(term=T + 2, log=[T + 1] * 3, election_elapsed=SILENT)
    _answer(k, node, _ask(T + 3, 2, T + 2), True, T + 3)


@rule_case(H, GRANT)
def an_equal_log_gets_the_pre_vote(k):
    T = k.T
    k.given(f"S1 is a follower in term {T + 1} that hears from no leader, holding 2 entries of term "
            f"{T + 1}; S2 asks for a pre-vote for term {T + 2} with the same log")
    node = k.node(term=T + 1, log=[T + 1, T + 1], election_elapsed=SILENT)
    _answer(k, node, _ask(T + 2, 2, T + 1), True, T + 2)


@rule_case(H, NOTHING)
def a_server_that_voted_still_grants_a_pre_vote_and_keeps_its_vote(k):
    T = k.T
    k.given(f"S1 is a follower in term {T + 2} that voted for S3 in that term and hears from no "
            f"leader; S2 asks for a pre-vote for term {T + 3} with an equal log")
    node = k.node(term=T + 2, voted_for=3, log=[T + 1], election_elapsed=SILENT)
    _answer(k, node, _ask(T + 3, 1, T + 1), True, T + 3)


@rule_case(H, NOTHING)
def a_candidate_grants_a_pre_vote_and_stays_a_candidate(k):
    T = k.T
    k.given(f"S1 is a candidate in term {T + 2} (it voted for itself, {SILENT} ticks into its "
            f"election timer); S2 asks for a pre-vote for term {T + 3} with a longer log")
    node = k.node(term=T + 2, log=[T + 1], role="candidate", election_elapsed=SILENT)
    _answer(k, node, _ask(T + 3, 2, T + 1), True, T + 3)


@rule_case(H, NOTHING)
def a_refused_pre_vote_for_a_newer_term_changes_no_term(k):
    T = k.T
    k.given(f"S1 is a follower in term {T + 1} that hears from no leader, its last entry of term "
            f"{T + 1}; S2, far ahead in terms but with an empty log, asks for a pre-vote for term "
            f"{T + 5}")
    node = k.node(term=T + 1, log=[T + 1], election_elapsed=SILENT)
    _answer(k, node, _ask(T + 5, 0, 0), False, T + 1)


# -- scenes: PreVote in a running cluster, every server with Config(pre_vote=True) ---------

PRE_VOTE = Config(pre_vote=True)
DISRUPT = ("PreVote (thesis section 9.6): a server that rejoins after a partition cannot raise the "
           "cluster's term or depose a leader that the others still hear from")
ELECT = ("PreVote (thesis section 9.6): with pre-votes granted by a majority, a candidate starts a "
         "real election and wins it")
KEPT = "Leader completeness (section 5.4): the new leader holds every committed entry"
_NET = dict(latency=(1, 2))


def _terms_of(c) -> dict:
    return {i: n.current_term for i, n in c.nodes.items()}


def disruptive_server_rejoins(handlers, seed):
    """A follower cut off for a long time keeps timing out; once back, the leader stays."""
    c = Cluster(5, seed=seed, config=PRE_VOTE, handlers=handlers)
    p = Play(c)
    yield p
    p.run_until(one_leader, 300, "a first leader being elected", ELECT, **_NET)
    x = p.do("propose", ("set", "x", 1))
    p.run_until(lambda c: c.status(x) == "committed" and converged(c), 200,
                "x=1 committing on every server", ELECT, **_NET)
    leader = c.leader
    term = c.nodes[leader].current_term
    lone = max(i for i in c.nodes if i != leader)
    p.do("partition", {lone}, set(c.nodes) - {lone})
    p.run_until(lambda c: False, 150, **_NET)
    p.expect(c.nodes[lone].current_term == term, DISRUPT,
             f"S{lone}, cut off alone, should never win a pre-vote and so stay in term {term}; it is "
             f"in term {c.nodes[lone].current_term}")
    p.expect(c.leader == leader and _terms_of(c) == {i: term for i in c.nodes}, DISRUPT,
             f"while S{lone} was cut off, S{leader} should have stayed leader of term {term} on every "
             f"server; the terms are {_terms_of(c)} and the leader is S{c.leader}")
    p.do("heal")
    p.do("timeout", lone)  # its timer fires as it rejoins, before the leader's next heartbeat
    p.run_until(lambda c: False, 150, **_NET)
    p.expect(c.leader == leader and _terms_of(c) == {i: term for i in c.nodes}, DISRUPT,
             f"S{lone} rejoined with a log as up to date as everyone's, but the others hear from "
             f"their leader S{leader}: they must refuse its pre-votes and nobody's term may change "
             f"from {term}; now the terms are {_terms_of(c)} and the leader is "
             + (f"S{c.leader}" if c.leader else "nobody"))
    y = p.do("propose", ("set", "y", 2))
    p.run_until(lambda c: c.status(y) == "committed" and converged(c), 200,
                "y=2 committing on every server after the heal", ELECT, **_NET)


def election_after_leader_crash(handlers, seed):
    """The leader crashes: pre-votes are granted, a new leader is elected and keeps x=1."""
    c = Cluster(5, seed=seed, config=PRE_VOTE, handlers=handlers)
    p = Play(c)
    yield p
    p.run_until(one_leader, 300, "a first leader being elected", ELECT, **_NET)
    x = p.do("propose", ("set", "x", 1))
    p.run_until(lambda c: c.status(x) == "committed" and converged(c), 200,
                "x=1 committing on every server", ELECT, **_NET)
    old = c.leader
    p.do("crash", old)
    p.run_until(lambda c: c.leader is not None and c.leader != old, 300,
                f"a new leader elected after S{old} crashed (every server runs a pre-vote first)",
                ELECT, **_NET)
    new = c.leader
    p.expect(c.nodes[new].log.term_at(x.index) == x.term, KEPT,
             f"S{new} became leader without the committed entry x=1 at index {x.index}")
    p.do("restart", old)
    y = p.do("propose", ("set", "y", 2))
    p.run_until(lambda c: c.status(y) == "committed" and converged(c), 250,
                "y=2 committing on every server, the old leader included", ELECT, **_NET)


def _log(*terms):
    return [(t, ("set", f"k{i}", t)) for i, t in enumerate(terms, start=1)]


def _one_reply(p, src, dst):
    env = p.find("RequestVoteReply", src, dst)
    if env is None:
        p.fail("Each request gets an answer (Figure 2: every RPC has a reply)",
               f"S{src} got S{dst}'s pre-vote request but sent no reply")
    return env.msg


def stale_log_loses_the_pre_vote(handlers, seed):
    """No leader: S3, missing an entry, asks first and is refused; S1 asks next and wins."""
    state = {1: {"current_term": 1, "log": _log(1, 1)}, 2: {"current_term": 1, "log": _log(1, 1)},
             3: {"current_term": 1, "log": _log(1)}}
    c = Cluster.from_state(state, seed=seed, config=PRE_VOTE, handlers=handlers)
    p = Play(c)
    yield p
    p.do("timeout", 3)
    for i in (1, 2):
        p.deliver("RequestVote", 3, i, " (S3's pre-vote request for term 2)")
        reply = _one_reply(p, i, 3)
        p.expect(not reply.vote_granted and reply.term == 1, LOG,
                 f"S{i} (last entry index 2, term 1) should refuse S3 (last entry index 1, term 1) a "
                 f"pre-vote for term 2, answering in its own term 1; it answered term {reply.term}, "
                 f"vote_granted={reply.vote_granted}")
        p.expect(c.nodes[i].current_term == 1 and c.nodes[i].voted_for is None, NOTHING,
                 f"S{i} refused a pre-vote, which changes nothing, yet it is now in term "
                 f"{c.nodes[i].current_term} with voted_for {c.nodes[i].voted_for}")
    p.settle()
    p.expect(c.nodes[3].current_term == 1, LOG,
             f"S3 was refused by both others, so it must not start an election; it is in term "
             f"{c.nodes[3].current_term}")
    p.do("timeout", 1)
    p.deliver("RequestVote", 1, 2, " (S1's pre-vote request for term 2)")
    reply = _one_reply(p, 2, 1)
    p.expect(reply.vote_granted and reply.term == 2, GRANT,
             f"S2 hears from no leader and S1's log is as up to date as its own: it should grant S1 "
             f"the pre-vote for term 2, answering in term 2; it answered term {reply.term}, "
             f"vote_granted={reply.vote_granted}")
    s2 = c.nodes[2]
    p.expect(s2.current_term == 1 and s2.voted_for is None, NOTHING,
             f"S2 granted a pre-vote, which changes nothing, yet it is now in term {s2.current_term} "
             f"with voted_for {s2.voted_for}")
    p.settle(until=lambda c: c.nodes[1].role is Role.LEADER, what="S1 winning the election of term 2")
    p.run_until(lambda c: one_leader(c) and converged(c), 200,
                "every log the same and committed under S1", ELECT, **_NET)


def pre_vote_for_a_term_already_started(handlers, seed):
    """S2 voted for S1 in term 2; S3, still in term 1, asks S2 for a pre-vote for term 2."""
    state = {i: {"current_term": 1, "log": _log(1)} for i in (1, 2, 3)}
    c = Cluster.from_state(state, seed=seed, config=PRE_VOTE, handlers=handlers)
    p = Play(c)
    yield p
    p.do("timeout", 1)
    p.deliver("RequestVote", 1, 2, " (S1's pre-vote request for term 2)")
    p.deliver("RequestVoteReply", 2, 1, " (S2's answer to S1's pre-vote)")
    p.expect(c.nodes[1].current_term == 2, ELECT,
             f"S1 got a pre-vote from S2 (with its own, 2 of 3): it should start the election of "
             f"term 2; it is a {c.nodes[1].role.value} in term {c.nodes[1].current_term}")
    p.deliver("RequestVote", 1, 2, " (S1's vote request for term 2)")
    p.do("timeout", 3)
    p.deliver("RequestVote", 3, 2, " (S3's pre-vote request for term 2)")
    reply = _one_reply(p, 2, 3)
    p.expect(not reply.vote_granted and reply.term == 2, STALE,
             f"S2 is already in term 2 (it voted for S1 there): S3's pre-vote for term 2 asks for no "
             f"newer term and must be refused in term 2; S2 answered term {reply.term}, "
             f"vote_granted={reply.vote_granted}")
    p.settle(until=lambda c: c.nodes[1].role is Role.LEADER, what="S1 winning the election of term 2")
    p.run_until(lambda c: one_leader(c) and converged(c), 200,
                "every log the same and committed under S1", ELECT, **_NET)


PRE_VOTE_SCENARIOS = register_scenarios(H, (
    Scenario("disruptive_server_rejoins", "a cut-off server rejoins", disruptive_server_rejoins),
    Scenario("election_after_leader_crash", "an election after the leader crashes",
             election_after_leader_crash),
    Scenario("stale_log_loses_the_pre_vote", "a stale log loses the pre-vote",
             stale_log_loses_the_pre_vote),
    Scenario("pre_vote_for_a_term_already_started", "a pre-vote for a term already started",
             pre_vote_for_a_term_already_started),
))
