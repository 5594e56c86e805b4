"""A3, leader bookkeeping: the rule cases for handling AppendEntries replies (Figure 2, 5.3).

The server under test is S1, leader of three; S2 and S3 reply. After a
success the leader calls ``node.advance_commit_index()`` (the reference rule
here), so a case can see whether that happened.
"""
from __future__ import annotations

from ..core.messages import AppendEntries, AppendEntriesReply
from ..core.roles import Role
from .rulecase import rule_case

H = "append_entries_reply"
STALE = "Stale replies: a reply from an older term (or to a leader that has moved on) is ignored"
TERMS = "Term rule (Figure 2, all servers): a higher term in a reply makes the leader step down"
MATCH = "matchIndex comes from what the follower confirmed (the reply), never from nextIndex"
NEXT = "Back-off (Figure 2, leaders): after a refusal, decrement nextIndex and retry"
COMMIT = "After a success the leader re-checks its commit index (Figure 2, leaders: advance_commit_index)"


def _leader(k, **extra):
    T = k.T
    state = dict(term=T + 2, voted_for=1, log=[T + 1, T + 1, T + 2], role="leader",
                 next_index={2: 4, 3: 4}, match_index={2: 0, 3: 0})
    state.update(extra)
    return k.node(**state)


def _state(node):
    return (node.current_term, node.role, dict(node.next_index), dict(node.match_index),
            node.commit_index)


@rule_case(H, MATCH)
def a_success_records_the_match(k):
    T = k.T
    k.given(f"S1, leader of term {T + 2} with 3 entries, hears from S2: success, matchIndex 3")
    node = _leader(k)
    k.call(node, AppendEntriesReply(2, 1, T + 2, True, match_index=3))
    k.expect(node.match_index[2] == 3, "match_index[2] = 3", f"match_index[2] = {node.match_index[2]}")
    k.expect(node.next_index[2] == 4, "next_index[2] = 4 (the entry after the match)",
             f"next_index[2] = {node.next_index[2]}")


@rule_case(H, COMMIT)
def a_success_can_commit(k):
    T = k.T
    k.given(f"S1, leader of term {T + 2} of three servers, hears from S2 that it holds all 3 entries "
            f"(the last one of term {T + 2}): S1 and S2 are a majority")
    node = _leader(k)
    k.call(node, AppendEntriesReply(2, 1, T + 2, True, match_index=3))
    k.expect(node.commit_index == 3, "commit_index = 3 after calling node.advance_commit_index()",
             f"commit_index = {node.commit_index}")


@rule_case(H, MATCH)
def match_comes_from_the_reply_not_from_next_index(k):
    T = k.T
    k.given(f"S1 already sent S2 everything (next_index[2] = 4), but this success reply answers an "
            "older AppendEntries and confirms only index 1 (matchIndex 1)")
    node = _leader(k)
    k.call(node, AppendEntriesReply(2, 1, T + 2, True, match_index=1))
    k.expect(node.match_index[2] == 1, "match_index[2] = 1: S2 has confirmed index 1 only",
             f"match_index[2] = {node.match_index[2]}")
    k.expect(node.commit_index == 0, "no commit (no entry of this term is on a majority)",
             f"commit_index = {node.commit_index}")
    k.expect(2 <= node.next_index[2] <= 4, "next_index[2] between 2 and 4",
             f"next_index[2] = {node.next_index[2]}")


@rule_case(H, MATCH)
def match_never_moves_back(k):
    T = k.T
    k.given(f"S1 knows S2 holds 3 entries (match_index[2] = 3); a reordered older success with "
            "matchIndex 1 arrives")
    node = _leader(k, match_index={2: 3, 3: 0}, commit_index=3)
    k.call(node, AppendEntriesReply(2, 1, T + 2, True, match_index=1))
    k.expect(node.match_index[2] == 3, "match_index[2] to stay 3 (matchIndex increases monotonically)",
             f"match_index[2] = {node.match_index[2]}")
    k.expect(node.next_index[2] >= 2, "next_index[2] >= 2", f"next_index[2] = {node.next_index[2]}")


@rule_case(H, STALE)
def a_reply_from_an_older_term_is_ignored(k):
    T = k.T
    k.given(f"S1 is leader of term {T + 2}; a success reply of term {T + 1} (to an AppendEntries S1 sent "
            f"as leader of term {T + 1}) arrives late with matchIndex 3")
    node = _leader(k)
    before = _state(node)
    out = k.call(node, AppendEntriesReply(2, 1, T + 1, True, match_index=3))
    k.expect(_state(node) == before, "nothing to change: the reply speaks of a log S1 had in an older term",
             f"next_index={node.next_index}, match_index={node.match_index}, commit_index={node.commit_index}")
    k.expect(out == [], "no messages", f"{len(out)} messages")


@rule_case(H, STALE)
def a_refusal_from_an_older_term_is_ignored(k):
    T = k.T
    k.given(f"S1 is leader of term {T + 2}; a refusal of term {T + 1} arrives late")
    node = _leader(k)
    before = _state(node)
    k.call(node, AppendEntriesReply(2, 1, T + 1, False))
    k.expect(_state(node) == before, "nothing to change (no back-off for an old term's refusal)",
             f"next_index={node.next_index}, match_index={node.match_index}")


@rule_case(H, STALE)
def a_candidate_ignores_replies_from_its_time_as_leader(k):
    T = k.T
    k.given(f"S1 was leader of term {T + 2} and is now a candidate in term {T + 3}; a success reply of "
            f"term {T + 2} arrives")
    node = k.node(term=T + 3, log=[T + 1, T + 1, T + 2], role="candidate",
                  next_index={2: 4, 3: 4}, match_index={2: 0, 3: 0})
    out = k.call(node, AppendEntriesReply(2, 1, T + 2, True, match_index=3))
    k.expect(node.role is Role.CANDIDATE and node.commit_index == 0,
             "S1 to stay a candidate and commit nothing", f"role={node.role.value}, commit_index={node.commit_index}")
    k.expect(out == [], "no messages", f"{len(out)} messages")


@rule_case(H, TERMS)
def a_higher_term_makes_the_leader_step_down(k):
    T = k.T
    k.given(f"S1, leader of term {T + 2}, gets a refusal of term {T + 4} from S2")
    node = _leader(k)
    out = k.call(node, AppendEntriesReply(2, 1, T + 4, False))
    k.expect(node.role is Role.FOLLOWER, "S1 to step down to follower", f"role={node.role.value}")
    k.expect(node.current_term == T + 4 and node.voted_for is None,
             f"current_term = {T + 4} and voted_for = None",
             f"current_term={node.current_term}, voted_for={node.voted_for!r}")
    k.expect(not any(isinstance(m, AppendEntries) for m in out),
             "no AppendEntries from a server that is no longer leader", f"{out}")


@rule_case(H, NEXT)
def a_refusal_backs_off_and_retries(k):
    T = k.T
    k.given(f"S1, leader of term {T + 2}, sent S2 entries after index 3 (next_index[2] = 4); S2 refuses")
    node = _leader(k)
    out = k.call(node, AppendEntriesReply(2, 1, T + 2, False))
    k.expect(1 <= node.next_index[2] < 4, "next_index[2] to move back (below 4)",
             f"next_index[2] = {node.next_index[2]}")
    expected = node.append_entries_for(2)
    k.reply(out, AppendEntries, 2, prev_log_index=expected.prev_log_index,
            prev_log_term=expected.prev_log_term, entries=expected.entries, term=T + 2)


@rule_case(H, NEXT)
def back_off_uses_the_hint_safely(k):
    T = k.T
    k.given(f"S1 (log terms [{T + 1}, {T + 1}, {T + 2}]) sent S2 entries after index 3; S2 refuses and "
            "says its log ends at index 1 (conflictIndex 2, conflictTerm 0)")
    node = _leader(k)
    out = k.call(node, AppendEntriesReply(2, 1, T + 2, False, conflict_index=2))
    k.expect(1 <= node.next_index[2] < 4, "next_index[2] to move back below 4 (to 2 at once with the "
             "hint, or one step at a time without it), and never below 1",
             f"next_index[2] = {node.next_index[2]}")
    expected = node.append_entries_for(2)
    k.reply(out, AppendEntries, 2, prev_log_index=expected.prev_log_index, entries=expected.entries)


@rule_case(H, NEXT)
def back_off_stops_at_the_start_of_the_log(k):
    T = k.T
    k.given("S1 already sends S2 its whole log (next_index[2] = 1); a duplicated refusal arrives")
    node = _leader(k, next_index={2: 1, 3: 4})
    out = k.call(node, AppendEntriesReply(2, 1, T + 2, False))
    k.expect(node.next_index[2] == 1, "next_index[2] to stay 1 (indexes start at 1)",
             f"next_index[2] = {node.next_index[2]}")
    k.reply(out, AppendEntries, 2, prev_log_index=0)
