"""A2, replication: the rule cases for handling AppendEntries on a follower (Figure 2, 5.3).

The server under test is S1 of three; the leader is S2. Commands are
("set", "x", i) so every entry is distinct.
"""
from __future__ import annotations

from ..core.messages import AppendEntries, AppendEntriesReply, Entry
from ..core.roles import Role
from .rulecase import rule_case

H = "append_entries"
TERMS = "Term rule (Figure 2, AppendEntries 1): refuse a lower term, adopt a higher one"
LEADER = "Recognising the leader (section 5.2): an AppendEntries of the current term comes from its leader"
CHECK = "Consistency check (Figure 2, AppendEntries 2): refuse if the log has no entry at prevLogIndex with prevLogTerm"
CONFLICT = "Conflicts (Figure 2, AppendEntries 3): delete an entry and all after it only if it conflicts"
APPEND = "Appending (Figure 2, AppendEntries 4): append any new entries not already in the log"
COMMIT = "Commit index (Figure 2, AppendEntries 5): commitIndex = min(leaderCommit, index of last new entry)"
MONOTONE = "Commit index only grows (a late, stale AppendEntries must not lower it)"


def _e(index, term, k=None):
    return Entry(index, term, ("set", "x", index if k is None else k))


def _log(*terms):
    return [(t, ("set", "x", i)) for i, t in enumerate(terms, start=1)]


@rule_case(H, TERMS)
def refuses_a_stale_leader(k):
    T = k.T
    k.given(f"S1 is a follower in term {T + 3}; a deposed leader S2 sends AppendEntries of term {T + 2}")
    node = k.node(term=T + 3, log=_log(T + 1), election_elapsed=9)
    out = k.call(node, AppendEntries(2, 1, T + 2, 1, T + 1, (_e(2, T + 2),), 2))
    k.reply(out, AppendEntriesReply, 2, success=False, term=T + 3)
    k.expect(node.log.last_index == 1, "the log to stay as it was (1 entry)", f"{node.log.last_index} entries")
    k.expect(node.commit_index == 0, "commit_index to stay 0", f"commit_index={node.commit_index}")
    k.expect(node.election_elapsed == 9, "the election timer not to be reset by a stale leader",
             f"election_elapsed={node.election_elapsed} (it was 9)")
    k.expect(node.leader_id is None, "S1 not to take the stale S2 for its leader", f"leader_id={node.leader_id!r}")


@rule_case(H, TERMS)
def adopts_a_higher_term(k):
    T = k.T
    k.given(f"S1 is in term {T + 1} and voted for S3; S2 sends a heartbeat of term {T + 2}")
    node = k.node(term=T + 1, voted_for=3, log=_log(T + 1), election_elapsed=9)
    out = k.call(node, AppendEntries(2, 1, T + 2, 1, T + 1, (), 0))
    k.reply(out, AppendEntriesReply, 2, success=True, term=T + 2)
    k.expect(node.current_term == T + 2 and node.voted_for is None,
             f"current_term = {T + 2} and voted_for = None",
             f"current_term={node.current_term}, voted_for={node.voted_for!r}")


@rule_case(H, LEADER)
def a_candidate_steps_down_for_the_leader_of_its_term(k):
    T = k.T
    k.given(f"S1 is a candidate in term {T + 2}; S2, which won the election of term {T + 2}, sends a heartbeat")
    node = k.node(term=T + 2, log=_log(T + 1), role="candidate")
    out = k.call(node, AppendEntries(2, 1, T + 2, 1, T + 1, (), 0))
    k.expect(node.role is Role.FOLLOWER, "S1 to become a follower", f"role={node.role.value}")
    k.reply(out, AppendEntriesReply, 2, success=True, term=T + 2)
    k.expect(node.leader_id == 2, "leader_id = 2", f"leader_id={node.leader_id!r}")


@rule_case(H, LEADER)
def a_heartbeat_resets_the_election_timer(k):
    T = k.T
    k.given(f"S1 follows S2 in term {T + 1} and is 9 ticks into its election timer; S2 sends a heartbeat")
    node = k.node(term=T + 1, log=_log(T + 1), leader_id=2, election_elapsed=9)
    out = k.call(node, AppendEntries(2, 1, T + 1, 1, T + 1, (), 0))
    k.reply(out, AppendEntriesReply, 2, success=True)
    k.expect(node.election_elapsed == 0, "the election timer to be reset",
             f"election_elapsed={node.election_elapsed} (it was 9)")


@rule_case(H, CHECK)
def refuses_when_prev_log_index_is_past_the_end(k):
    T = k.T
    k.given(f"S1's log has 1 entry; S2 sends entries after index 3 (prevLogIndex=3, prevLogTerm={T + 1})")
    node = k.node(term=T + 1, log=_log(T + 1))
    out = k.call(node, AppendEntries(2, 1, T + 1, 3, T + 1, (_e(4, T + 1),), 0))
    k.reply(out, AppendEntriesReply, 2, success=False, term=T + 1)
    k.expect(node.log.terms() == [T + 1], "the log to stay unchanged", f"log terms {node.log.terms()}")


@rule_case(H, CHECK)
def refuses_when_prev_log_term_differs(k):
    T = k.T
    k.given(f"S1's log has terms [{T + 1}, {T + 1}, {T + 1}]; S2 (term {T + 3}) sends entry 4 after "
            f"prevLogIndex=3 with prevLogTerm={T + 2}")
    node = k.node(term=T + 3, log=_log(T + 1, T + 1, T + 1))
    out = k.call(node, AppendEntries(2, 1, T + 3, 3, T + 2, (_e(4, T + 3),), 0))
    k.reply(out, AppendEntriesReply, 2, success=False, term=T + 3)
    k.expect(node.log.terms() == [T + 1] * 3, "the log to stay unchanged: a failed check appends and "
             "deletes nothing (the leader will back up and retry)", f"log terms {node.log.terms()}")


@rule_case(H, APPEND)
def appends_new_entries(k):
    T = k.T
    k.given(f"S1's log has 1 entry (term {T + 1}); S2 sends entries 2 and 3 of term {T + 2}")
    node = k.node(term=T + 2, log=_log(T + 1))
    out = k.call(node, AppendEntries(2, 1, T + 2, 1, T + 1, (_e(2, T + 2), _e(3, T + 2)), 0))
    k.reply(out, AppendEntriesReply, 2, success=True, term=T + 2, match_index=3)
    k.expect(node.log.terms() == [T + 1, T + 2, T + 2], f"log terms [{T + 1}, {T + 2}, {T + 2}]",
             f"{node.log.terms()}")


@rule_case(H, APPEND)
def accepts_entries_from_the_very_start(k):
    T = k.T
    k.given(f"S1's log is empty; S2 sends entry 1 (prevLogIndex=0, prevLogTerm=0)")
    node = k.node(term=T + 1)
    out = k.call(node, AppendEntries(2, 1, T + 1, 0, 0, (_e(1, T + 1),), 0))
    k.reply(out, AppendEntriesReply, 2, success=True, match_index=1)
    k.expect(node.log.last_index == 1, "one entry in the log", f"{node.log.last_index}")


@rule_case(H, CONFLICT)
def truncates_a_real_conflict(k):
    T = k.T
    k.given(f"S1's log has terms [{T + 1}, {T + 1}, {T + 1}]; S2, leader of term {T + 2}, sends entry 2 "
            f"of term {T + 2} after index 1")
    node = k.node(term=T + 2, log=_log(T + 1, T + 1, T + 1))
    out = k.call(node, AppendEntries(2, 1, T + 2, 1, T + 1, (_e(2, T + 2, "new"),), 0))
    k.reply(out, AppendEntriesReply, 2, success=True, match_index=2)
    k.expect(node.log.terms() == [T + 1, T + 2], f"log terms [{T + 1}, {T + 2}] (entries 2 and 3 deleted, "
             "the new entry 2 appended)", f"{node.log.terms()}")


@rule_case(H, CONFLICT)
def keeps_entries_on_a_duplicated_append(k):
    T = k.T
    k.given(f"S1 holds entries 1-4 of term {T + 1} from leader S2; an old AppendEntries carrying only "
            "entry 2 arrives late (the network duplicated it)")
    node = k.node(term=T + 1, log=_log(T + 1, T + 1, T + 1, T + 1), leader_id=2)
    out = k.call(node, AppendEntries(2, 1, T + 1, 1, T + 1, (_e(2, T + 1),), 0))
    k.expect(node.log.last_index == 4, "all 4 entries kept: nothing conflicts, so nothing may be deleted "
             "(entries 3 and 4 may already be committed)", f"{node.log.last_index} entries left")
    k.reply(out, AppendEntriesReply, 2, success=True, match_index=2)


@rule_case(H, CONFLICT)
def keeps_entries_on_a_late_heartbeat(k):
    T = k.T
    k.given(f"S1 holds entries 1-3 of term {T + 1}; an old heartbeat (prevLogIndex=2, no entries) arrives")
    node = k.node(term=T + 1, log=_log(T + 1, T + 1, T + 1), leader_id=2)
    out = k.call(node, AppendEntries(2, 1, T + 1, 2, T + 1, (), 0))
    k.expect(node.log.last_index == 3, "all 3 entries kept", f"{node.log.last_index} entries left")
    k.reply(out, AppendEntriesReply, 2, success=True, match_index=2)


@rule_case(H, COMMIT)
def commit_is_capped_by_the_last_new_entry(k):
    T = k.T
    k.given(f"S1 holds 3 entries; index 3 came from an earlier leader and was never checked. S2 sends "
            f"entry 2 after index 1 with leaderCommit=3")
    node = k.node(term=T + 2, log=_log(T + 1, T + 1, T + 1), leader_id=2)
    out = k.call(node, AppendEntries(2, 1, T + 2, 1, T + 1, (_e(2, T + 1),), 3))
    k.reply(out, AppendEntriesReply, 2, success=True, match_index=2)
    k.expect(node.commit_index == 2, "commit_index = min(leaderCommit 3, last new entry 2) = 2: S1 "
             "only knows its log matches the leader's up to index 2", f"commit_index={node.commit_index}")


@rule_case(H, COMMIT)
def a_heartbeat_commits_only_what_it_checked(k):
    T = k.T
    k.given(f"S1 holds 3 entries; S2's heartbeat checks index 1 only (prevLogIndex=1) with leaderCommit=3")
    node = k.node(term=T + 2, log=_log(T + 1, T + 1, T + 1), leader_id=2)
    out = k.call(node, AppendEntries(2, 1, T + 2, 1, T + 1, (), 3))
    k.reply(out, AppendEntriesReply, 2, success=True)
    k.expect(node.commit_index == 1, "commit_index = min(leaderCommit 3, last new entry 1) = 1",
             f"commit_index={node.commit_index}")


@rule_case(H, COMMIT)
def commit_follows_the_leader(k):
    T = k.T
    k.given(f"S1 holds 2 entries, none committed; S2's heartbeat (prevLogIndex=2) says leaderCommit=2")
    node = k.node(term=T + 1, log=_log(T + 1, T + 1), leader_id=2)
    out = k.call(node, AppendEntries(2, 1, T + 1, 2, T + 1, (), 2))
    k.reply(out, AppendEntriesReply, 2, success=True, match_index=2)
    k.expect(node.commit_index == 2, "commit_index = 2", f"commit_index={node.commit_index}")


@rule_case(H, COMMIT)
def commit_never_passes_the_log(k):
    T = k.T
    k.given(f"S1 holds 1 entry; S2 sends entry 2 with leaderCommit=5 (S1 has not got entries 3-5 yet)")
    node = k.node(term=T + 1, log=_log(T + 1), leader_id=2)
    out = k.call(node, AppendEntries(2, 1, T + 1, 1, T + 1, (_e(2, T + 1),), 5))
    k.reply(out, AppendEntriesReply, 2, success=True, match_index=2)
    k.expect(node.commit_index == 2, "commit_index = 2", f"commit_index={node.commit_index}")


@rule_case(H, MONOTONE)
def a_stale_append_does_not_lower_the_commit_index(k):
    T = k.T
    k.given(f"S1 holds 3 entries, all committed; a late AppendEntries from S2 carries entry 2 with "
            "leaderCommit=1")
    node = k.node(term=T + 1, log=_log(T + 1, T + 1, T + 1), commit_index=3, leader_id=2)
    out = k.call(node, AppendEntries(2, 1, T + 1, 1, T + 1, (_e(2, T + 1),), 1))
    k.reply(out, AppendEntriesReply, 2, success=True)
    k.expect(node.commit_index == 3, "commit_index to stay 3", f"commit_index={node.commit_index}")


@rule_case(H, MONOTONE)
def a_stale_append_with_a_higher_leader_commit_does_not_lower_it(k):
    T = k.T
    k.given(f"S1 holds 4 entries, all committed; a late AppendEntries carries entry 2 with leaderCommit=3")
    node = k.node(term=T + 1, log=_log(T + 1, T + 1, T + 1, T + 1), commit_index=4, leader_id=2)
    out = k.call(node, AppendEntries(2, 1, T + 1, 1, T + 1, (_e(2, T + 1),), 3))
    k.reply(out, AppendEntriesReply, 2, success=True)
    k.expect(node.commit_index == 4, "commit_index to stay 4", f"commit_index={node.commit_index}")
