"""Reasons: why a node did what it did, as a rule code plus fields.

The core records ``(code, fields)`` with ``node.note``; the cluster stamps them
with the time and node id (:class:`raftbook.cluster.Reason`). This module turns
each into one plain-English sentence.
"""
from __future__ import annotations


def _s(i):
    return "nobody" if i is None else f"S{i}"


_SENTENCES = {
    "election_timeout": lambda f: (f"election timer fired after {f['timeout']} ticks"
                                   + (" (forced)" if f.get("forced") else "")),
    "election_started": lambda f: f"became a candidate for term {f['term']} and voted for itself",
    "became_leader": lambda f: (f"won the election for term {f['term']} with votes from "
                                + ", ".join(_s(v) for v in f["votes"])),
    "heartbeat_sent": lambda f: f"sent AppendEntries to every follower (heartbeat, term {f['term']})",
    "term_adopted": lambda f: f"saw term {f['new_term']} > its term {f['old_term']}: adopted it and cleared its vote",
    "stepped_down": lambda f: f"stepped down from {f['role']} to follower in term {f['term']}",
    "vote_granted": lambda f: (f"granted its vote in term {f['term']} to {_s(f['candidate'])}, whose log "
                               f"(last term {f['candidate_last_term']}, index {f['candidate_last_index']}) is at "
                               f"least as up to date as its own (last term {f['own_last_term']}, index "
                               f"{f['own_last_index']})"),
    "vote_refused_stale_term": lambda f: (f"refused {_s(f['candidate'])}'s vote request: its term "
                                          f"{f['msg_term']} is older than the current term {f['current_term']}"),
    "vote_refused_already_voted": lambda f: (f"refused {_s(f['candidate'])}'s vote request: it already "
                                             f"voted for {_s(f['voted_for'])} in term {f['term']}"),
    "vote_refused_log_not_up_to_date": lambda f: (
        f"refused {_s(f['candidate'])}'s vote request in term {f['term']}: the candidate's log (last term "
        f"{f['candidate_last_term']}, index {f['candidate_last_index']}) is less up to date than its own "
        f"(last term {f['own_last_term']}, index {f['own_last_index']})"),
    "vote_received": lambda f: f"got a vote from {_s(f['voter'])}: {f['votes']} of the {f['needed']} needed",
    "vote_denied_received": lambda f: f"{_s(f['voter'])} denied its vote ({f['votes']} of {f['needed']} needed)",
    "reply_ignored_stale": lambda f: (f"ignored a stale {f['type']} from {_s(f['sender'])} (term "
                                      f"{f['msg_term']}, it is a {f['role']} in term {f['current_term']})"),
    "append_refused_stale_term": lambda f: (f"refused AppendEntries from {_s(f['leader'])}: its term "
                                            f"{f['msg_term']} is older than the current term {f['current_term']}"),
    "append_refused_log_mismatch": lambda f: (
        f"refused AppendEntries from {_s(f['leader'])}: it has "
        + ("no entry" if f["found_term"] is None else f"an entry of term {f['found_term']}")
        + f" at index {f['prev_log_index']}, where the leader expects term {f['prev_log_term']}"),
    "leader_recognised": lambda f: f"recognised {_s(f['leader'])} as leader of term {f['term']}",
    "entries_appended": lambda f: (f"appended {f['count']} entr{'y' if f['count'] == 1 else 'ies'} "
                                   f"({f['first']}..{f['last']}) from {_s(f['leader'])}"),
    "conflict_truncated": lambda f: (f"deleted {f['removed']} conflicting entr{'y' if f['removed'] == 1 else 'ies'} "
                                     f"from index {f['from_index']} (term {f['old_term']} where the leader has "
                                     f"term {f['new_term']})"),
    "commit_advanced": lambda f: (f"advanced its commit index from {f['old']} to {f['new']} "
                                  + (f"because a majority ({f['replicas']} of {f['needed']} needed) holds it"
                                     if f.get("by") == "majority" else
                                     f"= min(leader commit {f['leader_commit']}, last new entry {f['last_new_index']})")),
    "commit_not_advanced_earlier_term": lambda f: (
        f"did not commit index {f['index']} although {f['replicas']} servers hold it: its entry is from "
        f"term {f['entry_term']}, not the current term {f['current_term']} (Figure 8)"),
    "match_index_advanced": lambda f: f"match index of {_s(f['follower'])} moved from {f['old']} to {f['new']}",
    "next_index_backed_off": lambda f: f"next index of {_s(f['follower'])} backed off from {f['old']} to {f['new']}",
    "proposal_appended": lambda f: f"appended client command {f['command']!r} at index {f['index']} (term {f['term']})",
    "applied": lambda f: f"applied entry {f['index']} ({'no-op' if f['command'] is None else repr(f['command'])}) to its state machine",
    "restarted": lambda f: f"restarted in term {f['term']} with {f['log_length']} log entries",
}

REASON_CODES = tuple(sorted(_SENTENCES))


def explain_reason(reason) -> str:
    """One plain-English sentence for a :class:`raftbook.cluster.Reason`."""
    render = _SENTENCES.get(reason.code)
    body = render(reason.fields) if render else f"{reason.code} {reason.fields}"
    return f"S{reason.node} {body}."
