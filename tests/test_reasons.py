"""Every reason code, produced by a minimal scenario, asserted with its fields and its sentence."""
import pytest

import raftbook as rb
from raftbook.exercises.bugs import BUGS
from raftbook.messages import AppendEntriesReply, RequestVoteReply
from raftbook.reasons import REASON_CODES, REASON_FAMILIES, families_of, reason_code, rule_of


def reasons(ev, code=None, node=None):
    return [r for r in ev.reasons if (code is None or r.code == code) and (node is None or r.node == node)]


def one(ev, code, node=None):
    found = reasons(ev, code, node)
    assert len(found) == 1, (code, [(r.node, r.code) for r in ev.reasons])
    return found[0]


def flight(c, kind, src=None, dst=None):
    return [e for e in c.in_flight if e.type == kind and (src is None or e.msg.src == src)
            and (dst is None or e.msg.dst == dst)]


def elect(c, i=1):
    """Time out ``i`` and deliver votes until it leads; returns the event that made it leader."""
    c.timeout(i)
    for env in flight(c, "RequestVote", src=i):
        c.deliver(env.id)
    while c.nodes[i].role is not rb.Role.LEADER:
        env = flight(c, "RequestVoteReply", dst=i)[0]
        ev = c.deliver(env.id)
    return ev


def deliver_all(c, kind, dst=None):
    return [c.deliver(e.id) for e in flight(c, kind, dst=dst)]


# -- one scenario per code: each returns (reason, expected fields, words the sentence holds) -------

def s_election_timeout():
    c = rb.Cluster(3, seed=0)
    drawn = {i: n.election_timeout for i, n in c.nodes.items()}
    first = min(drawn, key=lambda i: (drawn[i], i))
    while True:
        ev = c.tick()
        found = reasons(ev, "election_timeout")
        if found:
            break
    r = found[0]
    assert (r.node, r.time) == (first, drawn[first])
    return r, {"term": 0, "timeout": drawn[first], "forced": None}, \
        ["timed out in term 0", f"{drawn[first]} ticks passed without a message from a leader"]


def s_election_timeout_forced():
    c = rb.Cluster(3, seed=0)
    r = one(c.timeout(2), "election_timeout")
    return r, {"term": 0, "forced": True}, ["S2 timed out in term 0", "fired by hand"]


def s_election_started():
    c = rb.Cluster(3, seed=0)
    r = one(c.timeout(1), "election_started")
    return r, {"term": 1}, ["S1 became a candidate for term 1", "voted for itself"]


def s_vote_requested():
    c = rb.Cluster.from_state({1: {"log": [1, 1]}, 2: {"log": [1]}}, n=3)
    r = one(c.timeout(1), "vote_requested")
    return r, {"term": 2, "peers": [2, 3], "last_log_index": 2, "last_log_term": 1}, \
        ["S1 asked S2, S3 for their votes in term 2", "last term 1, last index 2"]


def s_term_adopted():
    c = rb.Cluster(3, seed=0)
    c.timeout(1)
    r = one(c.deliver(flight(c, "RequestVote", dst=2)[0].id), "term_adopted")
    return r, {"old_term": 0, "new_term": 1, "role": "follower"}, \
        ["S2 saw term 1, newer than its term 0", "cleared its vote"]


def s_vote_granted():
    c = rb.Cluster.from_state({1: {"log": [1, 2]}, 2: {"log": [1, 1, 1]}}, n=3)
    c.timeout(1)
    r = one(c.deliver(flight(c, "RequestVote", dst=2)[0].id), "vote_granted")
    return r, {"candidate": 1, "term": 3, "candidate_last_term": 2, "candidate_last_index": 2,
               "own_last_term": 1, "own_last_index": 3}, \
        ["S2 granted its vote in term 3 to S1", "at least as up to date", "last term 2 > 1"]


def s_vote_refused_stale_term():
    c = rb.Cluster.from_state({2: {"current_term": 5}}, n=3)
    c.timeout(1)
    r = one(c.deliver(flight(c, "RequestVote", dst=2)[0].id), "vote_refused_stale_term")
    return r, {"candidate": 1, "msg_term": 1, "current_term": 5}, \
        ["S2 refused S1's vote request: the request's term 1 is older than its current term 5"]


def s_vote_refused_already_voted():
    c = rb.Cluster.from_state({2: {"current_term": 1, "voted_for": 3}}, n=3)
    c.timeout(1)
    r = one(c.deliver(flight(c, "RequestVote", dst=2)[0].id), "vote_refused_already_voted")
    return r, {"candidate": 1, "term": 1, "voted_for": 3}, ["already voted for S3 in term 1"]


def s_vote_refused_already_voted_for_itself():
    c = rb.Cluster(3, seed=0)
    c.timeout(1)
    c.timeout(2)  # a split vote: both candidates in term 1
    r = one(c.deliver(flight(c, "RequestVote", dst=2)[0].id), "vote_refused_already_voted")
    return r, {"candidate": 1, "term": 1, "voted_for": 2}, \
        ["S2 refused S1's vote request: it already voted for itself in term 1"]


def s_vote_refused_log_not_up_to_date():
    c = rb.Cluster.from_state({1: {"log": [1, 1, 1]}, 2: {"log": [1, 2]}}, n=3)
    c.timeout(1)
    r = one(c.deliver(flight(c, "RequestVote", dst=2)[0].id), "vote_refused_log_not_up_to_date")
    return r, {"candidate": 1, "term": 2, "candidate_last_term": 1, "candidate_last_index": 3,
               "own_last_term": 2, "own_last_index": 2}, \
        ["less up to date than its own", "last term 1 < 2"]


def s_vote_refused_log_same_term():
    c = rb.Cluster.from_state({1: {"log": [1]}, 2: {"log": [1, 1]}}, n=3)
    c.timeout(1)
    r = one(c.deliver(flight(c, "RequestVote", dst=2)[0].id), "vote_refused_log_not_up_to_date")
    return r, {"candidate_last_index": 1, "own_last_index": 2}, \
        ["same last term 1, last index 1 < 2"]


def s_vote_received():
    c = rb.Cluster(5, seed=0)
    c.timeout(1)
    deliver_all(c, "RequestVote")
    r = one(c.deliver(flight(c, "RequestVoteReply", src=2)[0].id), "vote_received")
    return r, {"voter": 2, "term": 1, "votes": 2, "needed": 3}, \
        ["S1 got a vote from S2 in term 1: 2 of the 3 needed"]


def s_vote_denied_received():
    c = rb.Cluster.from_state({1: {"log": [1]}, 2: {"log": [1, 2]}}, n=3)
    c.timeout(1)
    c.deliver(flight(c, "RequestVote", dst=2)[0].id)
    r = one(c.deliver(flight(c, "RequestVoteReply", src=2)[0].id), "vote_denied_received")
    return r, {"voter": 2, "term": 2, "votes": 1, "needed": 2}, ["was denied a vote by S2 in term 2"]


def s_became_leader():
    c = rb.Cluster(3, seed=0)
    r = one(elect(c), "became_leader")
    return r, {"term": 1, "votes": [1, 2], "needed": 2}, \
        ["S1 won the election for term 1 with 2 votes (S1, S2)", "2 needed"]


def s_noop_appended():
    c = rb.Cluster.from_state({1: {"log": [1, 1]}}, n=3)
    r = one(elect(c), "noop_appended")
    return r, {"index": 3, "term": 2}, ["appended a no-op entry at index 3 for its new term 2"]


def s_reply_ignored_stale():
    c = rb.Cluster(3, seed=0)
    elect(c)
    r = one(c.deliver(flight(c, "RequestVoteReply", src=3)[0].id), "reply_ignored_stale")
    return r, {"sender": 3, "msg_term": 1, "current_term": 1, "role": "leader",
               "type": "RequestVoteReply"}, ["no longer a candidate", "now a leader in term 1"]


def s_reply_ignored_older_term():
    c = rb.Cluster(3, seed=0)
    c.timeout(1)
    c.deliver(flight(c, "RequestVote", dst=2)[0].id)
    c.timeout(1)  # a new election: the term-1 reply is stale now
    r = one(c.deliver(flight(c, "RequestVoteReply", src=2)[0].id), "reply_ignored_stale")
    return r, {"msg_term": 1, "current_term": 2}, ["ignored a stale RequestVoteReply from S2",
                                                    "from term 1", "moved on to term 2"]


def s_stepped_down():
    c = rb.Cluster.from_state({2: {"current_term": 4}}, n=3)
    c.timeout(1)
    c.deliver(flight(c, "RequestVote", dst=2)[0].id)
    ev = c.deliver(flight(c, "RequestVoteReply", src=2)[0].id)
    assert one(ev, "term_adopted").fields == {"old_term": 1, "new_term": 4, "role": "candidate"}
    r = one(ev, "stepped_down")
    return r, {"term": 4, "role": "candidate"}, ["stepped down from candidate to follower in term 4"]


def s_heartbeat_sent():
    c = rb.Cluster(3, seed=0)
    elect(c)
    for _ in range(c.config.heartbeat_interval - 1):
        assert not reasons(c.tick(), "heartbeat_sent")
    r = one(c.tick(), "heartbeat_sent")
    return r, {"term": 1}, ["sent AppendEntries to every follower as leader of term 1"]


def s_leader_recognised():
    c = rb.Cluster(3, seed=0)
    elect(c)
    r = one(c.deliver(flight(c, "AppendEntries", dst=3)[0].id), "leader_recognised")
    return r, {"leader": 1, "term": 1}, ["S3 recognised S1 as the leader of term 1"]


def s_entries_appended():
    c = rb.Cluster(3, seed=0)
    elect(c)
    r = one(c.deliver(flight(c, "AppendEntries", dst=2)[0].id), "entries_appended")
    return r, {"leader": 1, "first": 1, "last": 1, "count": 1}, ["appended 1 entry at index 1 from S1"]


def s_entries_already_present():
    c = rb.Cluster(3, seed=0)
    elect(c)
    env = flight(c, "AppendEntries", dst=2)[0]
    copy = c.duplicate(env.id)
    c.deliver(env.id)
    ev = c.deliver(copy.id)
    assert not reasons(ev, "conflict_truncated") and not reasons(ev, "entries_appended")
    r = one(ev, "entries_already_present")
    return r, {"leader": 1, "first": 1, "last": 1, "count": 1}, \
        ["already held the entry at index 1 sent by S1", "nothing to truncate"]


def s_append_refused_stale_term():
    c = rb.Cluster(3, seed=0)
    elect(c)
    c.timeout(2)  # S2 moves on to term 2 before the leader's AppendEntries arrives
    r = one(c.deliver(flight(c, "AppendEntries", dst=2)[0].id), "append_refused_stale_term")
    return r, {"leader": 1, "msg_term": 1, "current_term": 2}, \
        ["S2 refused AppendEntries from S1: the sender's term 1 is older than its current term 2",
         "S1 is not the current leader"]


def _figure7ish():
    """S1 (log 1,1,3) leads term 4; S2 (log 1,2) must back up and truncate."""
    c = rb.Cluster.from_state({1: {"log": [1, 1, 3], "current_term": 3},
                               2: {"log": [1, 2], "current_term": 2}}, n=3)
    elect(c)
    return c


def s_append_refused_log_mismatch_short():
    c = _figure7ish()
    r = one(c.deliver(flight(c, "AppendEntries", dst=2)[0].id), "append_refused_log_mismatch")
    return r, {"leader": 1, "prev_log_index": 3, "prev_log_term": 3, "found_term": None,
               "last_index": 2}, ["no entry at index 3 (its log ends at 2)", "has term 3"]


def _backed_off_once(c):
    c.deliver(flight(c, "AppendEntries", dst=2)[0].id)
    return c.deliver(flight(c, "AppendEntriesReply", src=2)[0].id)


def s_next_index_backed_off():
    c = _figure7ish()
    r = one(_backed_off_once(c), "next_index_backed_off")
    return r, {"follower": 2, "old": 4, "new": 3, "conflict_index": 3, "conflict_term": 0}, \
        ["backed next index of S2 off from 4 to 3", "ends before index 3"]


def s_append_refused_log_mismatch_term():
    c = _figure7ish()
    _backed_off_once(c)
    r = one(c.deliver(flight(c, "AppendEntries", dst=2)[0].id), "append_refused_log_mismatch")
    return r, {"prev_log_index": 2, "prev_log_term": 1, "found_term": 2}, \
        ["its entry at index 2 has term 2", "leader's entry there has term 1"]


def s_conflict_truncated():
    c = _figure7ish()
    _backed_off_once(c)
    c.deliver(flight(c, "AppendEntries", dst=2)[0].id)
    c.deliver(flight(c, "AppendEntriesReply", src=2)[0].id)
    ev = c.deliver(flight(c, "AppendEntries", dst=2)[0].id)
    r = one(ev, "conflict_truncated")
    assert one(ev, "entries_appended").fields["last"] == 4
    assert [e.term for e in c.nodes[2].log] == [1, 1, 3, 4]
    return r, {"from_index": 2, "old_term": 2, "new_term": 1, "removed": 1}, \
        ["deleted 1 entry from index 2 on", "term 2 where the leader's has term 1"]


def s_match_index_advanced():
    c = rb.Cluster(3, seed=0)
    elect(c)
    c.deliver(flight(c, "AppendEntries", dst=2)[0].id)
    r = one(c.deliver(flight(c, "AppendEntriesReply", src=2)[0].id), "match_index_advanced")
    return r, {"follower": 2, "old": 0, "new": 1}, ["S1 learned that S2 matches its log up to index 1"]


def s_commit_advanced_majority():
    c = rb.Cluster(3, seed=0)
    elect(c)
    c.deliver(flight(c, "AppendEntries", dst=2)[0].id)
    r = one(c.deliver(flight(c, "AppendEntriesReply", src=2)[0].id), "commit_advanced")
    return r, {"old": 0, "new": 1, "by": "majority", "replicas": 2, "needed": 2}, \
        ["advanced its commit index from 0 to 1", "a majority (2 servers, 2 needed)",
         "from the current term"]


def s_commit_advanced_follower():
    c = rb.Cluster(3, seed=0)
    elect(c)
    c.deliver(flight(c, "AppendEntries", dst=2)[0].id)
    c.deliver(flight(c, "AppendEntriesReply", src=2)[0].id)
    c.propose(("set", "x", 1))
    r = one(c.deliver(flight(c, "AppendEntries", dst=2)[-1].id), "commit_advanced", node=2)
    return r, {"old": 0, "new": 1, "by": "leader", "leader_commit": 1, "last_new_index": 2}, \
        ["S2 advanced its commit index from 0 to 1 = min(leader commit 1, index of the last new entry 2)"]


def s_commit_not_advanced_earlier_term():
    # Figure 8: S1 leads term 3 and replicates its term-2 entry to S2, one entry per message.
    c = rb.Cluster.from_state({1: {"log": [1, 2], "current_term": 2}, 2: {"log": [1]}}, n=3,
                              config=rb.Config(max_entries=1))
    elect(c)
    _backed_off_once(c)  # S2 lacks index 2: back up to it
    c.deliver(flight(c, "AppendEntries", dst=2)[0].id)  # carries index 2 (term 2) only
    r = one(c.deliver(flight(c, "AppendEntriesReply", src=2)[0].id), "commit_not_advanced_earlier_term")
    assert c.nodes[1].commit_index == 0
    return r, {"index": 2, "entry_term": 2, "current_term": 3, "replicas": 2}, \
        ["did not commit index 2 although 2 servers hold it", "from term 2, not the current term 3",
         "Figure 8"]


def s_proposal_appended():
    c = rb.Cluster(3, seed=0)
    elect(c)
    r = one(c.propose(("set", "x", 1)) and c.history[-1], "proposal_appended")
    return r, {"index": 2, "term": 1, "command": ("set", "x", 1)}, \
        ["appended the client command ('set', 'x', 1) at index 2 (term 1)"]


def s_applied():
    c = rb.Cluster(3, seed=0)
    elect(c)
    c.deliver(flight(c, "AppendEntries", dst=2)[0].id)
    r = one(c.deliver(flight(c, "AppendEntriesReply", src=2)[0].id), "applied")
    return r, {"index": 1, "term": 1, "command": None, "result": None}, \
        ["S1 applied entry 1 (a no-op) to its state machine"]


def s_crashed():
    c = rb.Cluster(3, seed=0)
    elect(c)
    r = one(c.crash(1), "crashed")
    return r, {"term": 1, "role": "leader", "voted_for": 1, "log_length": 1, "commit_index": 0}, \
        ["S1 crashed as a leader in term 1", "its term, vote and 1 entry survive"]


def s_restarted():
    c = rb.Cluster(3, seed=0)
    elect(c)
    c.crash(1)
    r = one(c.restart(1), "restarted")
    return r, {"term": 1, "log_length": 1}, ["S1 restarted as a follower in term 1 with 1 entry"]


def s_message_dropped():
    c = rb.Cluster(3, seed=0)
    c.timeout(1)
    env = flight(c, "RequestVote", dst=3)[0]
    r = one(c.drop(env.id), "message_dropped")
    return r, {"msg_id": env.id, "type": "RequestVote", "src": 1, "dst": 3, "term": 1}, \
        [f"S3 never got RequestVote #{env.id} from S1 (term 1): the network dropped it"]


def s_message_duplicated():
    c = rb.Cluster(3, seed=0)
    c.timeout(1)
    env = flight(c, "RequestVote", dst=3)[0]
    copy = c.duplicate(env.id)
    r = one(c.history[-1], "message_duplicated")
    return r, {"msg_id": copy.id, "copy_of": env.id, "type": "RequestVote", "src": 1, "dst": 3}, \
        [f"S3 will get RequestVote #{env.id} from S1 (term 1) twice", f"duplicated it as #{copy.id}"]


def s_message_lost_crashed():
    c = rb.Cluster(3, seed=0)
    c.timeout(1)
    c.crash(3)
    env = flight(c, "RequestVote", dst=3)[0]
    r = one(c.deliver(env.id), "message_lost_crashed")
    return r, {"msg_id": env.id, "src": 1, "dst": 3}, ["it was crashed when the message arrived"]


def s_message_lost_partition():
    c = rb.Cluster(3, seed=0)
    c.timeout(1)
    c.partition({1}, {2, 3})
    env = flight(c, "RequestVote", dst=2)[0]
    r = one(c.deliver(env.id), "message_lost_partition")
    return r, {"msg_id": env.id, "src": 1, "dst": 2}, ["a network partition separates the two servers"]


def s_message_lost_cut():
    c = rb.Cluster(3, seed=0)
    c.timeout(1)
    c.cut(1, 2)
    env = flight(c, "RequestVote", dst=2)[0]
    r = one(c.deliver(env.id), "message_lost_cut")
    return r, {"msg_id": env.id, "src": 1, "dst": 2}, ["the link between the two servers is cut"]


# -- codes inferred from a replaced handler --------------------------------------------

def refuse_everything(node, msg):
    if msg.term > node.current_term:
        node.become_follower(msg.term)
    return [RequestVoteReply(node.id, msg.src, node.current_term, False)]


def s_vote_refused_without_rule():
    c = rb.Cluster(3, seed=0, handlers={"request_vote": refuse_everything})
    c.timeout(1)
    ev = c.deliver(flight(c, "RequestVote", dst=2)[0].id)
    assert one(ev, "term_adopted").fields.get("inferred") is None  # noted by become_follower
    r = one(ev, "vote_refused_without_rule")
    return r, {"candidate": 1, "term": 1, "inferred": True}, \
        ["refused S1's vote request in term 1 although no rule of Figure 2 forbids the vote",
         "seen from what the replaced handler did"]


def s_request_unanswered():
    c = rb.Cluster(3, seed=0, handlers={"request_vote": lambda node, msg: []})
    c.timeout(1)
    r = one(c.deliver(flight(c, "RequestVote", dst=2)[0].id), "request_unanswered")
    return r, {"type": "RequestVote", "sender": 1, "inferred": True}, \
        ["did not answer the RequestVote from S1 (sent in term 1)"]


def never_append(node, msg):
    if msg.term > node.current_term:
        node.become_follower(msg.term)
    return [AppendEntriesReply(node.id, msg.src, node.current_term, False)]


def s_append_refused_without_rule():
    c = rb.Cluster(3, seed=0, handlers={"append_entries": never_append})
    elect(c)
    r = one(c.deliver(flight(c, "AppendEntries", dst=2)[0].id), "append_refused_without_rule")
    return r, {"leader": 1, "prev_log_index": 0, "prev_log_term": 0, "term": 1, "inferred": True}, \
        ["refused AppendEntries from S1 in term 1 although the consistency check passes",
         "matches the leader's at index 0, term 0"]


def truncate_after_prev(node, msg):
    """The classic bug: drop everything after prev_log_index, then append."""
    out = rb.reference_handlers["append_entries"](node, msg)
    if out[0].success and node.log.last_index > msg.prev_log_index + len(msg.entries):
        node.log.truncate_from(msg.prev_log_index + len(msg.entries) + 1)
    return out


def s_entries_truncated_without_conflict():
    c = rb.Cluster(3, seed=0, handlers={"append_entries": truncate_after_prev})
    elect(c)
    old = flight(c, "AppendEntries", dst=2)[0]           # carries index 1 only
    c.propose(("set", "x", 1))
    new = flight(c, "AppendEntries", dst=2)[-1]           # carries indexes 1..2
    c.deliver(new.id)
    r = one(c.deliver(old.id), "entries_truncated_without_conflict")  # late: must not truncate
    return r, {"leader": 1, "from_index": 2, "removed": 1, "last_new_index": 1, "inferred": True}, \
        ["deleted 1 entry from index 2 on although none conflicted", "end at index 1"]


def commit_to_leader_commit(node, msg):
    """Bug: commit_index = leader_commit, even when a late message carries a lower one."""
    out = rb.reference_handlers["append_entries"](node, msg)
    if out[0].success:
        node.commit_index = msg.leader_commit
    return out


def s_commit_index_decreased():
    c = rb.Cluster(3, seed=0, handlers={"append_entries": commit_to_leader_commit})
    elect(c)
    old = flight(c, "AppendEntries", dst=2)[0]            # leader_commit 0
    c.deliver(flight(c, "AppendEntries", dst=3)[0].id)
    c.deliver(flight(c, "AppendEntriesReply", src=3)[0].id)   # S1 commits index 1
    c.propose(("set", "x", 1))
    c.deliver(flight(c, "AppendEntries", dst=2)[-1].id)  # leader_commit 1: S2 commits 1
    assert c.nodes[2].commit_index == 1
    r = one(c.deliver(old.id), "commit_index_decreased")
    return r, {"old": 1, "new": 0, "inferred": True}, \
        ["S2 lowered its commit index from 1 to 0, which Raft never does"]


def trust_every_reply(node, msg):
    """Bug: take match_index from any successful reply, even a stale one."""
    if msg.term > node.current_term:
        node.become_follower(msg.term)
        return []
    if msg.success and node.role is rb.Role.LEADER:
        node.match_index[msg.src] = msg.match_index
        node.next_index[msg.src] = msg.match_index + 1
        node.advance_commit_index()
        return []
    return rb.reference_handlers["append_entries_reply"](node, msg)


def s_match_index_decreased():
    c = rb.Cluster(3, seed=0, handlers={"append_entries_reply": trust_every_reply})
    elect(c)
    c.propose(("set", "x", 1))
    first, second = flight(c, "AppendEntries", dst=2)      # carry up to index 1, then 2
    c.deliver(first.id)
    c.deliver(second.id)
    low, high = flight(c, "AppendEntriesReply", src=2)
    assert one(c.deliver(high.id), "match_index_advanced").fields["inferred"] is True
    r = one(c.deliver(low.id), "match_index_decreased")
    return r, {"follower": 2, "old": 2, "new": 1, "inferred": True}, \
        ["S1 lowered the match index of S2 from 2 to 1"]


# A student's vote rule that compares log lengths instead of last terms.
by_length = BUGS["up_to_date_by_length"].fn


def s_vote_granted_breaking_rule():
    c = rb.Cluster.from_state({1: {"log": [1, 1, 2]}, 2: {"log": [1, 3]}}, n=3,
                              handlers={"request_vote": by_length})
    c.timeout(1)
    r = one(c.deliver(flight(c, "RequestVote", dst=2)[0].id), "vote_granted")
    return r, {"candidate": 1, "term": 3, "candidate_last_term": 2, "own_last_term": 3,
               "inferred": True}, \
        ["S2 granted its vote in term 3 to S1 although its own log was more up to date: last term 3 > 2"]


# -- log compaction and persistence (section 7, Figure 13) -------------------------------
def _behind(caught_up=False):
    return rb.scenarios.follower_behind_snapshot(caught_up=caught_up)


def s_snapshot_taken():
    c = _behind(caught_up=True)
    r = one(c.compact(2), "snapshot_taken")
    return r, {"index": 6, "term": 1, "discarded": 1, "kept": 0, "automatic": False}, \
        ["S2 compacted its log (compaction was asked for)", "at index 6 (term 1) replaces 1 entry"]


def s_snapshot_taken_automatic():
    c = rb.Cluster.from_state({1: {"current_term": 1, "log": [1, 1, 1], "commit_index": 3}}, n=1,
                              config=rb.Config(snapshot_threshold=3))
    r = one(c.tick(), "snapshot_taken")
    return r, {"index": 3, "automatic": True}, ["it had applied enough entries past its last snapshot"]


def s_snapshot_sent():
    c = _behind()
    r = [r for r in c.reasons() if r.code == "snapshot_sent"][-1]
    return r, {"follower": 3, "index": 4, "term": 1, "next_index": 2}, \
        ["S1 sent its snapshot (up to index 4, term 1) to S3", "its next index 2 is compacted"]


def s_snapshot_installed():
    c = _behind()
    r = one(c.deliver(c.in_flight[0].id), "snapshot_installed")
    return r, {"leader": 1, "index": 4, "term": 1, "kept": 0, "keys": 1}, \
        ["S3 installed the snapshot from S1 up to index 4 (term 1)", "discarded its whole log"]


def s_snapshot_refused_stale_term():
    c = _behind()
    env = c.in_flight[0]
    c.timeout(3)
    r = one(c.deliver(env.id), "snapshot_refused_stale_term")
    return r, {"leader": 1, "msg_term": 1, "current_term": 2}, \
        ["S3 refused InstallSnapshot from S1: the sender's term 1 is older than its current term 2"]


def s_snapshot_ignored_stale():
    c = rb.scenarios.stale_snapshot()
    r = one(c.history[-1], "snapshot_ignored_stale")
    return r, {"leader": 1, "index": 4}, ["S3 ignored the snapshot from S1 up to index 4"]


def s_append_below_snapshot():
    c = _behind()
    c.duplicate(c.in_flight[0].id)
    c.deliver(c.in_flight[0].id)               # installs the snapshot, S1 sends 5..6 at once
    c.deliver(c.in_flight[0].id)               # the late copy: ignored
    c.deliver(c.in_flight[0].id)               # its reply: nothing new
    first_ae = [e for e in c.in_flight if e.type == "AppendEntries"][0]
    c.deliver(first_ae.id)
    stale = rb.AppendEntries(1, 3, 1, 1, 1, (rb.Entry(2, 1, ("set", "x", 1)),), 4)
    node = c.nodes[3]
    node.step(stale)
    code, fields = [x for x in node.take_reasons() if x[0] == "append_below_snapshot"][0]
    r = rb.Reason(c.now, 3, code, fields)
    return r, {"leader": 1, "prev_log_index": 1, "snapshot_index": 4, "skipped": 1}, \
        ["S3 skipped 1 entry of the AppendEntries from S1 (prevLogIndex 1)", "covers indexes 1..4"]


def s_state_machine_restored():
    c = _behind(caught_up=True)
    c.crash(1)
    r = one(c.restart(1), "state_machine_restored")
    return r, {"index": 4, "term": 1, "keys": 1}, \
        ["S1 restored its state machine from its snapshot", "commit index and last applied 4"]


def s_restarted_after_snapshot():
    c = _behind(caught_up=True)
    c.crash(1)
    r = one(c.restart(1), "restarted")
    return r, {"snapshot_index": 4}, ["after its snapshot of indexes 1..4"]


def s_state_saved():
    c = rb.Cluster(3, seed=0, config=rb.Config(persistence="explicit"))
    r = one(c.timeout(1), "state_saved")
    return r, {"term": 1, "voted_for": 1, "last_index": 0}, \
        ["S1 saved its term 1, vote (S1) and log (last index 0) on stable storage"]


def s_unsaved_state_lost():
    c = rb.scenarios.crash_between_reply_and_save(saves_first=False)
    r = next(r for r in c.reasons() if r.code == "unsaved_state_lost")
    return r, {"lost": ["current_term", "voted_for"], "old_term": 1, "term": 0}, \
        ["S2 lost what it had not saved before crashing: its term went back from 1 to 0",
         "its vote from S1 to nobody"]


def s_replied_before_saving():
    c = rb.scenarios.crash_between_reply_and_save(saves_first=False)
    r = next(r for r in c.reasons() if r.code == "replied_before_saving")
    return r, {"type": "RequestVote", "sender": 1, "inferred": True}, \
        ["S2 answered the RequestVote from S1 before saving its term and vote"]


def s_crashed_unsaved():
    c = rb.scenarios.crash_between_reply_and_save(saves_first=False)
    r = next(r for r in c.reasons() if r.code == "crashed")
    return r, {"unsaved": ["current_term", "voted_for"]}, \
        ["S2 crashed as a follower in term 1 before saving its term and vote"]

from reasons_beyond import *  # noqa: E402,F401,F403  the codes beyond Figure 2

SCENARIOS = {name[2:]: fn for name, fn in dict(globals()).items() if name.startswith("s_")}


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_scenario_produces_its_reason(name):
    r, fields, words = SCENARIOS[name]()
    assert isinstance(r, rb.Reason)
    for k, v in fields.items():
        assert r.fields.get(k) == v, (k, r.fields)
    sentence = r.sentence()
    assert sentence == rb.explain_reason(r)
    assert sentence.startswith(f"S{r.node} ") and sentence.endswith(".")
    for w in words:
        assert w in sentence, (w, sentence)
    assert "{" not in sentence and "noted " not in sentence  # rendered, not dumped
    assert rule_of(r) and families_of(r)


def test_every_code_has_a_scenario():
    produced = set()
    for fn in SCENARIOS.values():
        produced.add(fn()[0].code)
    assert produced == set(REASON_CODES)


def test_every_code_has_a_rule_family_and_sentence():
    for code in REASON_CODES:
        info = reason_code(code)
        assert info.rule and info.families
        assert any(code in REASON_FAMILIES[f] for f in info.families)
    with pytest.raises(rb.RaftbookError, match="unknown reason code"):
        reason_code("no_such_code")


def test_reference_rules_never_read_as_broken():
    """Across seeded runs with faults, no reference step is 'although' or a suspect code."""
    for seed in range(3):
        c = rb.Cluster(5, seed=seed)
        c.run_until(lambda c: c.leader is not None, 400, drop_rate=0.1, duplicate_rate=0.1)
        c.propose(("set", "a", seed))
        c.crash(c.leader)
        c.run(150, drop_rate=0.1, duplicate_rate=0.1)
        for r in c.reasons():
            assert "suspect" not in families_of(r)
            assert " although " not in r.sentence() or r.code == "commit_not_advanced_earlier_term", r


def test_unknown_code_and_odd_fields_still_read():
    r = rb.Reason(3, 2, "my_own_note", {"x": 1})
    assert rb.explain_reason(r) == "S2 noted my_own_note {'x': 1}."
    odd = rb.Reason(3, 2, "vote_granted", {"term": 1})   # a handler noted it with too few fields
    assert rb.explain_reason(odd).startswith("S2 noted vote_granted")


def test_commit_rule_cites_the_leaders_or_the_followers_half():
    leader = SCENARIOS["commit_advanced_majority"]()[0]
    follower = SCENARIOS["commit_advanced_follower"]()[0]
    assert "majority has matchIndex" in rule_of(leader) and "min(" not in rule_of(leader)
    assert "AppendEntries RPC, receiver rule 5" in rule_of(follower)
    assert "majority" not in rule_of(follower)
