"""Reasons for steps taken by a replaced (student) handler.

The reference rules note why they act; a student's handler usually does not.
So when a node runs a replaced handler, it looks at the state before and after
and at the messages returned, and records the reasons the reference would have
noted, marked ``inferred=True``. Where the step breaks a rule of Figure 2 the
fields show it (a vote granted to a less up-to-date log, a commit past
``min(leaderCommit, last new index)``, entries deleted that did not conflict),
so a grader or the safety report can say what went wrong in the paper's terms.

Codes the handler noted itself (``node.note``) or that the building blocks it
called noted (``become_follower``, ``become_leader``) are not inferred twice.
"""
from __future__ import annotations

from ..core.messages import (AppendEntries, AppendEntriesReply, InstallSnapshot,
                             InstallSnapshotReply, RequestVote, RequestVoteReply)
from ..core.quorum import replicas
from ..core.rules import log_is_up_to_date
from ..core.roles import Role


def observe(node) -> tuple:
    """What inference compares against: the node's state before the handler ran."""
    log = node.log
    return (node.current_term, node.voted_for, node.role, log._export()[0], node.commit_index,
            node.leader_id, dict(node.match_index), dict(node.next_index),
            (log.snapshot_index, log.snapshot_term), node.last_applied)


def infer(node, name, msg, before, out, mark) -> None:
    """Note what a replaced handler did, unless it (or a building block) noted it already."""
    noted = {code for code, _ in node._reasons[mark:]}
    found = []
    rule = _RULES.get(name)
    if rule is not None:
        rule(node, msg, before, out or [], found)
    # Explicit persistence: a reply sent while the new state is unsaved (Figure 2, State).
    if msg is not None and type(msg) in _REQUESTS and out and node.unsaved:
        found.append(("replied_before_saving", {"type": type(msg).__name__, "sender": msg.src,
                                                "unsaved": node.unsaved,
                                                "term": node.current_term}))
    for code, fields in found:
        if code not in noted:
            fields["inferred"] = True
            node.note(code, **fields)


def _terms(node, before, found):
    term0, _, role0 = before[0], before[1], before[2]
    if node.current_term > term0:
        found.append(("term_adopted", {"old_term": term0, "new_term": node.current_term,
                                       "role": role0.value}))
    if role0 is not Role.FOLLOWER and node.role is Role.FOLLOWER:
        found.append(("stepped_down", {"term": node.current_term, "role": role0.value}))


def _request_vote(node, msg, before, out, found):
    term0, vote0, _, log0 = before[:4]
    snap_index, snap_term = before[8]
    _terms(node, before, found)
    own_term = log0[-1].term if log0 else snap_term
    own_index = snap_index + len(log0)
    vote_then = vote0 if term0 == node.current_term else None
    replies = [m for m in out if type(m) is RequestVoteReply and m.dst == msg.src]
    if not replies:
        found.append(("request_unanswered", {"type": "RequestVote", "sender": msg.src,
                                             "term": node.current_term, "msg_term": msg.term}))
        return
    common = {"candidate": msg.src, "term": node.current_term, "candidate_last_term": msg.last_log_term,
              "candidate_last_index": msg.last_log_index, "own_last_term": own_term,
              "own_last_index": own_index}
    if replies[0].vote_granted:
        found.append(("vote_granted", {**common, "msg_term": msg.term, "previous_vote": vote_then}))
    elif msg.term < node.current_term:
        found.append(("vote_refused_stale_term", {"candidate": msg.src, "msg_term": msg.term,
                                                  "current_term": node.current_term}))
    elif vote_then is not None and vote_then != msg.src:
        found.append(("vote_refused_already_voted", {"candidate": msg.src, "term": node.current_term,
                                                     "voted_for": vote_then}))
    elif not log_is_up_to_date(msg.last_log_term, msg.last_log_index, own_term, own_index):
        found.append(("vote_refused_log_not_up_to_date", common))
    else:
        found.append(("vote_refused_without_rule", common))


def _pre_vote(node, msg, before, out, found):
    """A replaced pre-vote rule: what it answered, and any state it should have left alone."""
    term0, _, _, log0 = before[:4]
    snap_index, snap_term = before[8]
    _terms(node, before, found)
    replies = [m for m in out if type(m) is RequestVoteReply and m.dst == msg.src]
    if not replies:
        found.append(("request_unanswered", {"type": "RequestVote", "sender": msg.src,
                                             "term": node.current_term, "msg_term": msg.term}))
        return
    own_term = log0[-1].term if log0 else snap_term
    own_index = snap_index + len(log0)
    if replies[0].vote_granted:
        found.append(("pre_vote_granted", {"candidate": msg.src, "msg_term": msg.term}))
    elif msg.term <= term0:
        found.append(("pre_vote_refused_stale_term", {"candidate": msg.src, "msg_term": msg.term,
                                                      "current_term": term0}))
    elif node.leader_alive():
        found.append(("pre_vote_refused_leader_alive", {"candidate": msg.src, "msg_term": msg.term,
                                                        "leader": node.leader_id}))
    elif not log_is_up_to_date(msg.last_log_term, msg.last_log_index, own_term, own_index):
        found.append(("pre_vote_refused_log_not_up_to_date", {
            "candidate": msg.src, "msg_term": msg.term, "candidate_last_term": msg.last_log_term,
            "candidate_last_index": msg.last_log_index, "own_last_term": own_term,
            "own_last_index": own_index}))


def _append_entries(node, msg, before, out, found):
    term0, _, _, log0, commit0, leader0 = before[:6]
    _terms(node, before, found)
    if node.leader_id == msg.src and leader0 != msg.src:
        found.append(("leader_recognised", {"leader": msg.src, "term": node.current_term}))
    replies = [m for m in out if type(m) is AppendEntriesReply and m.dst == msg.src]
    prev = msg.prev_log_index
    off = before[8][0]
    if off != node.log.snapshot_index or prev < off:
        return  # around a snapshot the positions below would not line up: infer nothing
    if prev == off:
        found_term = before[8][1]
    else:
        found_term = log0[prev - off - 1].term if prev - off <= len(log0) else None
    log1 = node.log._export()[0]
    # What happened to the log: the first index where before and after differ.
    k = 0
    limit = min(len(log0), len(log1))
    while k < limit and log0[k] == log1[k]:
        k += 1
    removed = len(log0) - k
    if removed:
        new_entry = next((e for e in msg.entries if e.index == off + k + 1), None)
        if new_entry is not None and new_entry.term != log0[k].term:
            found.append(("conflict_truncated", {"from_index": off + k + 1, "old_term": log0[k].term,
                                                 "new_term": new_entry.term, "removed": removed}))
        else:
            found.append(("entries_truncated_without_conflict", {
                "leader": msg.src, "from_index": off + k + 1, "removed": removed,
                "last_new_index": prev + len(msg.entries)}))
    if len(log1) > k:
        found.append(("entries_appended", {"leader": msg.src, "first": off + k + 1,
                                           "last": off + len(log1), "count": len(log1) - k}))
    if not replies:
        found.append(("request_unanswered", {"type": "AppendEntries", "sender": msg.src,
                                             "term": node.current_term, "msg_term": msg.term}))
    elif not replies[0].success:
        if msg.term < node.current_term:
            found.append(("append_refused_stale_term", {"leader": msg.src, "msg_term": msg.term,
                                                        "current_term": node.current_term}))
        elif found_term != msg.prev_log_term:
            found.append(("append_refused_log_mismatch", {
                "leader": msg.src, "prev_log_index": prev, "prev_log_term": msg.prev_log_term,
                "found_term": found_term, "last_index": off + len(log0)}))
        else:
            found.append(("append_refused_without_rule", {
                "leader": msg.src, "prev_log_index": prev, "prev_log_term": msg.prev_log_term,
                "term": node.current_term}))
    if node.commit_index != commit0:
        last_new = prev + len(msg.entries)
        if node.commit_index < commit0:
            found.append(("commit_index_decreased", {"old": commit0, "new": node.commit_index}))
        else:
            found.append(("commit_advanced", {"old": commit0, "new": node.commit_index,
                                              "leader_commit": msg.leader_commit,
                                              "last_new_index": last_new, "by": "leader"}))


def _append_entries_reply(node, msg, before, out, found):
    match0, next0 = before[6], before[7]
    _terms(node, before, found)
    peer = msg.src
    old, new = match0.get(peer, 0), node.match_index.get(peer, 0)
    if new > old:
        found.append(("match_index_advanced", {"follower": peer, "old": old, "new": new,
                                               "reply_match_index": msg.match_index}))
    elif new < old:
        found.append(("match_index_decreased", {"follower": peer, "old": old, "new": new}))
    old_next, new_next = next0.get(peer), node.next_index.get(peer)
    if old_next is not None and new_next is not None and new_next < old_next:
        found.append(("next_index_backed_off", {"follower": peer, "old": old_next, "new": new_next,
                                                "conflict_index": msg.conflict_index,
                                                "conflict_term": msg.conflict_term}))


def _advance_commit_index(node, msg, before, out, found):
    commit0 = before[4]
    n = node.commit_index
    if n < commit0:
        found.append(("commit_index_decreased", {"old": commit0, "new": n}))
        return
    if n == commit0:
        return
    held = replicas(n, node.log.last_index, [node.match_index.get(p, 0) for p in node.peers])
    found.append(("commit_advanced", {"old": commit0, "new": n, "by": "majority", "replicas": held,
                                      "needed": node.quorum, "entry_term": node.log.term_at(n),
                                      "current_term": node.current_term}))


def _install_snapshot(node, msg, before, out, found):
    _terms(node, before, found)
    if node.leader_id == msg.src and before[5] != msg.src:
        found.append(("leader_recognised", {"leader": msg.src, "term": node.current_term}))
    replies = [m for m in out if type(m) is InstallSnapshotReply and m.dst == msg.src]
    snap0, snap1 = before[8][0], node.log.snapshot_index
    if snap1 > snap0:
        found.append(("snapshot_installed", {"leader": msg.src, "index": snap1,
                                             "term": node.log.snapshot_term,
                                             "kept": node.log.last_index - snap1,
                                             "keys": len(node.kv)}))
    elif msg.term < node.current_term:
        found.append(("snapshot_refused_stale_term", {"leader": msg.src, "msg_term": msg.term,
                                                      "current_term": node.current_term}))
    elif msg.last_included_index <= snap0:
        found.append(("snapshot_ignored_stale", {"leader": msg.src,
                                                 "index": msg.last_included_index,
                                                 "term": msg.last_included_term,
                                                 "snapshot_index": snap0}))
    if not replies:
        found.append(("request_unanswered", {"type": "InstallSnapshot", "sender": msg.src,
                                             "term": node.current_term, "msg_term": msg.term}))


_REQUESTS = (RequestVote, AppendEntries, InstallSnapshot)

_RULES = {
    "install_snapshot": _install_snapshot,
    "request_vote": _request_vote,
    "pre_vote": _pre_vote,
    "append_entries": _append_entries,
    "append_entries_reply": _append_entries_reply,
    "advance_commit_index": _advance_commit_index,
}
