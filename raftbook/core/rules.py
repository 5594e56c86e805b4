"""The reference rules of Figure 2, one replaceable function each.

A node calls these through its ``handlers``; a student may replace any one of
them (``rb.Cluster(handlers={"request_vote": my_fn})``) and the rest stays as
here. Each function reads and changes the node it is given and returns the
messages to send. Every decision is recorded with ``node.note(code, ...)`` so
the run can be explained later (see :mod:`raftbook.reasons`).

What a handler may use on ``node``: the Figure 2 state (``current_term``,
``voted_for``, ``log``, ``commit_index``, ``next_index``, ``match_index``,
``role``, ``leader_id``, ``peers``, ``quorum``) and the building blocks
``become_follower(term)``, ``reset_election_timer()``, ``become_leader()``,
``append_entries_for(peer)`` and ``advance_commit_index()``.
"""
from __future__ import annotations

from .kv import apply_command
from .messages import AppendEntriesReply, RequestVoteReply
from .roles import Role


def log_is_up_to_date(cand_last_term: int, cand_last_index: int,
                      own_last_term: int, own_last_index: int) -> bool:
    """Section 5.4.1: compare last terms first, then last indexes."""
    if cand_last_term != own_last_term:
        return cand_last_term > own_last_term
    return cand_last_index >= own_last_index


def handle_request_vote(node, msg) -> list:
    """RequestVote RPC, receiver side (Figure 2)."""
    if msg.term > node.current_term:
        node.become_follower(msg.term)
    if msg.term < node.current_term:
        node.note("vote_refused_stale_term", candidate=msg.src, msg_term=msg.term,
                  current_term=node.current_term)
        return [RequestVoteReply(node.id, msg.src, node.current_term, False)]
    if node.voted_for is not None and node.voted_for != msg.src:
        node.note("vote_refused_already_voted", candidate=msg.src, term=node.current_term,
                  voted_for=node.voted_for)
        return [RequestVoteReply(node.id, msg.src, node.current_term, False)]
    own_term, own_index = node.log.last_term, node.log.last_index
    if not log_is_up_to_date(msg.last_log_term, msg.last_log_index, own_term, own_index):
        node.note("vote_refused_log_not_up_to_date", candidate=msg.src, term=node.current_term,
                  candidate_last_term=msg.last_log_term, candidate_last_index=msg.last_log_index,
                  own_last_term=own_term, own_last_index=own_index)
        return [RequestVoteReply(node.id, msg.src, node.current_term, False)]
    node.voted_for = msg.src
    node.reset_election_timer()  # only a granted vote resets the timer
    node.note("vote_granted", candidate=msg.src, term=node.current_term,
              candidate_last_term=msg.last_log_term, candidate_last_index=msg.last_log_index,
              own_last_term=own_term, own_last_index=own_index)
    return [RequestVoteReply(node.id, msg.src, node.current_term, True)]


def handle_request_vote_reply(node, msg) -> list:
    """A candidate counts votes; a majority makes it leader."""
    if msg.term > node.current_term:
        node.become_follower(msg.term)
        return []
    if msg.term < node.current_term or node.role is not Role.CANDIDATE:
        node.note("reply_ignored_stale", sender=msg.src, msg_term=msg.term,
                  current_term=node.current_term, role=node.role.value, type="RequestVoteReply")
        return []
    if not msg.vote_granted:
        node.note("vote_denied_received", voter=msg.src, term=node.current_term,
                  votes=len(node.votes), needed=node.quorum)
        return []
    node.votes.add(msg.src)
    node.note("vote_received", voter=msg.src, term=node.current_term, votes=len(node.votes),
              needed=node.quorum)
    if len(node.votes) >= node.quorum:
        return node.become_leader()
    return []


def handle_append_entries(node, msg) -> list:
    """AppendEntries RPC, receiver side (Figure 2), with fast back-up hints."""
    if msg.term > node.current_term:
        node.become_follower(msg.term)
    if msg.term < node.current_term:
        node.note("append_refused_stale_term", leader=msg.src, msg_term=msg.term,
                  current_term=node.current_term)
        return [AppendEntriesReply(node.id, msg.src, node.current_term, False)]
    # Same term: msg.src is the one legitimate leader of this term.
    if node.role is not Role.FOLLOWER:
        node.become_follower(msg.term)
    if node.leader_id != msg.src:
        node.note("leader_recognised", leader=msg.src, term=msg.term)
        node.leader_id = msg.src
    node.reset_election_timer()

    log = node.log
    prev = msg.prev_log_index
    if prev > log.last_index:
        node.note("append_refused_log_mismatch", leader=msg.src, prev_log_index=prev,
                  prev_log_term=msg.prev_log_term, found_term=None, last_index=log.last_index)
        return [AppendEntriesReply(node.id, msg.src, node.current_term, False,
                                   conflict_index=log.last_index + 1, conflict_term=0)]
    found = log.term_at(prev)
    if found != msg.prev_log_term:
        node.note("append_refused_log_mismatch", leader=msg.src, prev_log_index=prev,
                  prev_log_term=msg.prev_log_term, found_term=found, last_index=log.last_index)
        return [AppendEntriesReply(node.id, msg.src, node.current_term, False,
                                   conflict_index=log.first_index_of_term(found, prev),
                                   conflict_term=found)]
    appended = 0
    for entry in msg.entries:
        if entry.index <= log.last_index:
            if log.term_at(entry.index) == entry.term:
                continue  # already there: a duplicate or stale message must not truncate
            node.note("conflict_truncated", from_index=entry.index,
                      old_term=log.term_at(entry.index), new_term=entry.term,
                      removed=log.last_index - entry.index + 1)
            log.truncate_from(entry.index)
        log.append(entry)
        appended += 1
    last_new = prev + len(msg.entries)
    if appended:
        node.note("entries_appended", leader=msg.src, first=last_new - appended + 1,
                  last=last_new, count=appended)
    elif msg.entries:
        node.note("entries_already_present", leader=msg.src, first=prev + 1, last=last_new,
                  count=len(msg.entries))
    if msg.leader_commit > node.commit_index:
        new_commit = min(msg.leader_commit, last_new)
        if new_commit > node.commit_index:
            node.note("commit_advanced", old=node.commit_index, new=new_commit,
                      leader_commit=msg.leader_commit, last_new_index=last_new, by="leader")
            node.commit_index = new_commit
    return [AppendEntriesReply(node.id, msg.src, node.current_term, True, match_index=last_new)]


def handle_append_entries_reply(node, msg) -> list:
    """The leader's bookkeeping: match/next index from the reply, back-off on failure."""
    if msg.term > node.current_term:
        node.become_follower(msg.term)
        return []
    if msg.term < node.current_term or node.role is not Role.LEADER:
        node.note("reply_ignored_stale", sender=msg.src, msg_term=msg.term,
                  current_term=node.current_term, role=node.role.value, type="AppendEntriesReply")
        return []
    peer = msg.src
    if msg.success:
        advanced = msg.match_index > node.match_index[peer]
        if advanced:
            node.note("match_index_advanced", follower=peer, old=node.match_index[peer],
                      new=msg.match_index)
            node.match_index[peer] = msg.match_index
        node.next_index[peer] = max(node.next_index[peer], msg.match_index + 1)
        node.advance_commit_index()
        # More to send than one message holds: send the next batch, but only for a reply
        # that moved match_index (a duplicated or late reply must not start another chain).
        if advanced and node.config.max_entries is not None and \
                node.next_index[peer] <= node.log.last_index:
            return [node.append_entries_for(peer)]
        return []
    old = node.next_index[peer]
    if msg.conflict_term:
        last = node.log.last_index_of_term(msg.conflict_term)
        new = last + 1 if last else msg.conflict_index
    elif msg.conflict_index:
        new = msg.conflict_index
    else:
        new = old - 1
    new = max(min(new, old - 1), node.match_index[peer] + 1, 1)
    node.next_index[peer] = new
    node.note("next_index_backed_off", follower=peer, old=old, new=new,
              conflict_index=msg.conflict_index, conflict_term=msg.conflict_term)
    return [node.append_entries_for(peer)]


def advance_commit_index(node) -> None:
    """Leader: commit the highest index a majority holds, if it is of the current term."""
    if node.role is not Role.LEADER:
        return
    log = node.log
    for n in range(log.last_index, node.commit_index, -1):
        count = 1 + sum(1 for p in node.peers if node.match_index.get(p, 0) >= n)
        if count >= node.quorum:
            term = log.term_at(n)
            if term == node.current_term:
                node.note("commit_advanced", old=node.commit_index, new=n, by="majority",
                          replicas=count, needed=node.quorum)
                node.commit_index = n
            else:  # Figure 8: never commit an earlier term's entry by counting replicas
                node.note("commit_not_advanced_earlier_term", index=n, entry_term=term,
                          current_term=node.current_term, replicas=count)
            return


def apply_committed(node) -> None:
    """Apply entries last_applied+1 .. commit_index to the key-value store, once each."""
    while node.last_applied < node.commit_index:
        i = node.last_applied + 1
        entry = node.log[i]
        node.results[i] = apply_command(node.kv, entry.command)
        node.last_applied = i
        node.note("applied", index=i, term=entry.term, command=entry.command,
                  result=node.results[i])


#: The four rules a student may replace, by the names of the public contract.
reference_handlers = {
    "request_vote": handle_request_vote,
    "append_entries": handle_append_entries,
    "append_entries_reply": handle_append_entries_reply,
    "advance_commit_index": advance_commit_index,
}

#: Every replaceable rule, including two more a course may use.
reference_handlers_all = {
    **reference_handlers,
    "request_vote_reply": handle_request_vote_reply,
    "apply_committed": apply_committed,
}


def resolve_handlers(handlers) -> dict:
    """The full handler table: reference rules, overridden by ``handlers``."""
    from ..errors import InvalidArgument

    table = dict(reference_handlers_all)
    if handlers is None:
        return table
    if not isinstance(handlers, dict):
        raise InvalidArgument(f"handlers must be a dict of name -> function, got {type(handlers).__name__}")
    for name, fn in handlers.items():
        if name not in table:
            raise InvalidArgument(f"unknown handler {name!r}; the replaceable rules are "
                                  f"{sorted(table)}")
        if not callable(fn):
            raise InvalidArgument(f"handler {name!r} must be a function, got {fn!r}")
        table[name] = fn
    return table
