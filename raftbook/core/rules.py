"""The reference rules of Figure 2, one replaceable function each.

A node calls these through its ``handlers``; a student may replace any one of
them (``rb.Cluster(handlers={"request_vote": my_fn})``) and the rest stays as
here. Each function reads and changes the node it is given and returns the
messages to send. Every decision is recorded with ``node.note(code, ...)`` so
the run can be explained later (see :mod:`raftbook.reasons`).

Each branch carries, as a comment, the sentence of Figure 2 it implements;
docs/figure2.md maps every sentence of the figure to its line here.

What a handler may use on ``node``: the Figure 2 state (``current_term``,
``voted_for``, ``log``, ``commit_index``, ``next_index``, ``match_index``,
``role``, ``leader_id``, ``peers``, ``quorum``) and the building blocks
``become_follower(term)``, ``reset_election_timer()``, ``become_leader()``,
``append_entries_for(peer)``, ``advance_commit_index()`` and ``persist()``
(which saves the persistent state; it matters with
``Config(persistence="explicit")``, where a crash keeps only what was saved:
every rule saves before it sends a reply that depends on the new state); and from this
module ``adopt_newer_term(node, term)`` (the term rule, which every handler
must apply first) and ``log_is_up_to_date`` (the election restriction).
"""
from __future__ import annotations

from ..errors import InvalidArgument
from .kv import StateMachine, apply_command
from .messages import AppendEntriesReply, InstallSnapshotReply, RequestVoteReply
from .quorum import majority_index, replicas
from .roles import Role


def log_is_up_to_date(cand_last_term: int, cand_last_index: int,
                      own_last_term: int, own_last_index: int) -> bool:
    """The election restriction (§5.4.1): is the candidate's log at least as up to date?

    The one place this comparison is written; the vote rule, the explanations
    and the inference of a replaced handler's reasons all call it.
    """
    # A later last term wins; with equal last terms, the longer log wins (or ties).
    if cand_last_term != own_last_term:
        return cand_last_term > own_last_term
    return cand_last_index >= own_last_index


def adopt_newer_term(node, term: int) -> bool:
    """The term rule every RPC handler applies first; True when ``term`` was newer.

    Figure 2, Rules for Servers, all servers: a request or reply carrying a term
    newer than ours means we are behind, so we take that term (with no vote cast
    in it yet) and become a follower (§5.1). The node does not do this for a
    handler: a replaced handler must call it (or do the same) itself.
    """
    if term > node.current_term:
        node.become_follower(term)
        return True
    return False


def reply_is_stale(node, msg, role: Role) -> bool:
    """True (and noted) when a reply is from an older term or reaches a server no longer ``role``.

    Such a reply answers a request made in a situation that has passed: it counts for nothing.
    """
    if msg.term < node.current_term or node.role is not role:
        node.note("reply_ignored_stale", sender=msg.src, msg_term=msg.term,
                  current_term=node.current_term, role=node.role.value, type=type(msg).__name__)
        return True
    return False


def handle_request_vote(node, msg) -> list:
    """RequestVote RPC, receiver side (Figure 2)."""
    adopt_newer_term(node, msg.term)
    # Receiver rule 1: a candidate from an older term gets no vote.
    if msg.term < node.current_term:
        node.note("vote_refused_stale_term", candidate=msg.src, msg_term=msg.term,
                  current_term=node.current_term)
        return [RequestVoteReply(node.id, msg.src, node.current_term, False)]
    # Persistent state is updated on stable storage before responding to RPCs (the new term).
    node.persist()
    # Receiver rule 2, first half: one vote per term (votedFor null or this candidate).
    if node.voted_for is not None and node.voted_for != msg.src:
        node.note("vote_refused_already_voted", candidate=msg.src, term=node.current_term,
                  voted_for=node.voted_for)
        return [RequestVoteReply(node.id, msg.src, node.current_term, False)]
    # Receiver rule 2, second half: only a log at least as up to date as ours (§5.4.1).
    own_term, own_index = node.log.last_term, node.log.last_index
    if not log_is_up_to_date(msg.last_log_term, msg.last_log_index, own_term, own_index):
        node.note("vote_refused_log_not_up_to_date", candidate=msg.src, term=node.current_term,
                  candidate_last_term=msg.last_log_term, candidate_last_index=msg.last_log_index,
                  own_last_term=own_term, own_last_index=own_index)
        return [RequestVoteReply(node.id, msg.src, node.current_term, False)]
    # Both halves hold: grant the vote, and remember it (votedFor is persistent).
    node.voted_for = msg.src
    node.reset_election_timer()  # followers: granting a vote restarts the election timer
    node.note("vote_granted", candidate=msg.src, term=node.current_term,
              candidate_last_term=msg.last_log_term, candidate_last_index=msg.last_log_index,
              own_last_term=own_term, own_last_index=own_index)
    node.persist()  # save the vote before the candidate can count it
    return [RequestVoteReply(node.id, msg.src, node.current_term, True)]


def handle_request_vote_reply(node, msg) -> list:
    """A candidate counts votes; a majority makes it leader."""
    if adopt_newer_term(node, msg.term):
        return []
    if reply_is_stale(node, msg, Role.CANDIDATE):  # a reply from a situation that has passed
        return []
    if not msg.vote_granted:
        node.note("vote_denied_received", voter=msg.src, term=node.current_term,
                  votes=len(node.votes), needed=node.quorum)
        return []
    # Candidates: votes from a majority of servers make this candidate the leader.
    node.votes.add(msg.src)
    node.note("vote_received", voter=msg.src, term=node.current_term, votes=len(node.votes),
              needed=node.quorum)
    if len(node.votes) >= node.quorum:
        return node.become_leader()
    return []


def handle_append_entries(node, msg) -> list:
    """AppendEntries RPC, receiver side (Figure 2), with fast back-up hints."""
    adopt_newer_term(node, msg.term)
    # Receiver rule 1: a sender from an older term is no leader of ours; say so.
    if msg.term < node.current_term:
        node.note("append_refused_stale_term", leader=msg.src, msg_term=msg.term,
                  current_term=node.current_term)
        return [AppendEntriesReply(node.id, msg.src, node.current_term, False)]
    # Same term: msg.src is the one legitimate leader of this term.
    # Candidates: AppendEntries from the new leader means convert to follower.
    if node.role is not Role.FOLLOWER:
        node.become_follower(msg.term)
    if node.leader_id != msg.src:
        node.note("leader_recognised", leader=msg.src, term=msg.term)
        node.leader_id = msg.src
    node.reset_election_timer()  # followers: hearing from the leader restarts the timer

    # Receiver rule 2: refuse unless our log holds prevLogIndex with term prevLogTerm (§5.3).
    log = node.log
    prev, prev_term, entries = msg.prev_log_index, msg.prev_log_term, msg.entries
    if prev < log.snapshot_index:
        # §7: entries up to our snapshot are committed, so they match the leader's; skip them.
        skip = log.snapshot_index - prev
        node.note("append_below_snapshot", leader=msg.src, prev_log_index=prev,
                  snapshot_index=log.snapshot_index, skipped=min(skip, len(entries)))
        prev, prev_term, entries = log.snapshot_index, log.snapshot_term, entries[skip:]
    if prev > log.last_index:
        node.note("append_refused_log_mismatch", leader=msg.src, prev_log_index=prev,
                  prev_log_term=prev_term, found_term=None, last_index=log.last_index)
        node.persist()
        return [AppendEntriesReply(node.id, msg.src, node.current_term, False,
                                   conflict_index=log.last_index + 1, conflict_term=0)]
    found = log.term_at(prev)
    if found != prev_term:
        node.note("append_refused_log_mismatch", leader=msg.src, prev_log_index=prev,
                  prev_log_term=prev_term, found_term=found, last_index=log.last_index)
        node.persist()
        return [AppendEntriesReply(node.id, msg.src, node.current_term, False,
                                   conflict_index=log.first_index_of_term(found, prev),
                                   conflict_term=found)]
    # Receiver rules 3 and 4: delete from the first conflicting entry on, append what is new.
    appended = 0
    for entry in entries:
        if entry.index <= log.last_index:
            if log.term_at(entry.index) == entry.term:
                continue  # already there: a duplicate or stale message must not truncate
            node.note("conflict_truncated", from_index=entry.index,
                      old_term=log.term_at(entry.index), new_term=entry.term,
                      removed=log.last_index - entry.index + 1)
            log.truncate_from(entry.index)
        log.append(entry)
        appended += 1
    last_new = prev + len(entries)
    if appended:
        node.note("entries_appended", leader=msg.src, first=last_new - appended + 1,
                  last=last_new, count=appended)
    elif entries:
        node.note("entries_already_present", leader=msg.src, first=prev + 1, last=last_new,
                  count=len(entries))
    # Receiver rule 5: commit what the leader committed, but no further than the last new entry.
    if msg.leader_commit > node.commit_index:
        new_commit = min(msg.leader_commit, last_new)
        if new_commit > node.commit_index:
            node.note("commit_advanced", old=node.commit_index, new=new_commit,
                      leader_commit=msg.leader_commit, last_new_index=last_new, by="leader")
            node.commit_index = new_commit
    node.persist()  # the new entries (and term) are saved before the leader may count them
    return [AppendEntriesReply(node.id, msg.src, node.current_term, True, match_index=last_new)]


def handle_append_entries_reply(node, msg) -> list:
    """The leader's bookkeeping: match/next index from the reply, back-off on failure."""
    if adopt_newer_term(node, msg.term):
        return []
    if reply_is_stale(node, msg, Role.LEADER):  # a reply from a situation that has passed
        return []
    peer = msg.src
    # Leaders: on success, raise matchIndex and nextIndex for the follower (§5.3).
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
    # Leaders: on a log mismatch, move nextIndex back and retry (§5.3; the hints skip a term).
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


def handle_install_snapshot(node, msg) -> list:
    """InstallSnapshot RPC, receiver side (Figure 13; one chunk: offset 0, done)."""
    adopt_newer_term(node, msg.term)
    # Receiver rule 1: reply immediately if term < currentTerm.
    if msg.term < node.current_term:
        node.note("snapshot_refused_stale_term", leader=msg.src, msg_term=msg.term,
                  current_term=node.current_term)
        return [InstallSnapshotReply(node.id, msg.src, node.current_term, 0)]
    # Same term: msg.src is this term's leader, as for AppendEntries (§5.2).
    if node.role is not Role.FOLLOWER:
        node.become_follower(msg.term)
    if node.leader_id != msg.src:
        node.note("leader_recognised", leader=msg.src, term=msg.term)
        node.leader_id = msg.src
    node.reset_election_timer()
    log = node.log
    index, term = msg.last_included_index, msg.last_included_term
    # Rule 5: discard a snapshot with a smaller index than ours: a stale or duplicated one.
    if index <= log.snapshot_index:
        node.note("snapshot_ignored_stale", leader=msg.src, index=index, term=term,
                  snapshot_index=log.snapshot_index)
        node.persist()
        return [InstallSnapshotReply(node.id, msg.src, node.current_term, index)]
    data = msg.data
    if index <= log.last_index and log.term_at(index) == term:
        # Rule 6: an existing entry has the snapshot's last index and term: keep what follows it.
        kept = log.last_index - index
        log.compact(index)
    else:
        # Rule 7: otherwise discard the entire log.
        kept = 0
        log.install_snapshot(index, term)
    node.snapshot_data = {"kv": [list(p) for p in data["kv"]],
                          "results": [list(p) for p in data.get("results", ())]}
    node.results = {i: r for i, r in node.results.items() if i > index}
    if node.last_applied < index:
        # Rule 8: reset the state machine using the snapshot's contents.
        node.kv = StateMachine((k, v) for k, v in data["kv"])
        node.results.update({i: r for i, r in data.get("results", ())})
        node.last_applied = index
    node.commit_index = max(node.commit_index, index)
    node.note("snapshot_installed", leader=msg.src, index=index, term=term, kept=kept,
              keys=len(node.kv))
    node.persist()  # rule 5: save the snapshot before replying
    return [InstallSnapshotReply(node.id, msg.src, node.current_term, index)]


def handle_install_snapshot_reply(node, msg) -> list:
    """The leader's bookkeeping after a follower installed its snapshot (Figure 13, §7)."""
    if adopt_newer_term(node, msg.term):
        return []
    if reply_is_stale(node, msg, Role.LEADER):  # a reply from a situation that has passed
        return []
    peer = msg.src
    # The follower now holds everything up to the snapshot's last index: raise matchIndex
    # and nextIndex as for a successful AppendEntries (never lower them: replies can be late).
    advanced = msg.match_index > node.match_index[peer]
    if advanced:
        node.note("match_index_advanced", follower=peer, old=node.match_index[peer],
                  new=msg.match_index)
        node.match_index[peer] = msg.match_index
    node.next_index[peer] = max(node.next_index[peer], msg.match_index + 1)
    node.advance_commit_index()
    if advanced and node.next_index[peer] <= node.log.last_index:
        return [node.append_entries_for(peer)]  # the entries after the snapshot, at once
    return []


def advance_commit_index(node) -> None:
    """Leader: commit the highest index a majority holds, if it is of the current term."""
    if node.role is not Role.LEADER:
        return
    log = node.log
    if log.last_index <= node.commit_index:
        return  # nothing uncommitted: the usual case on a heartbeat reply
    # Leaders: the highest N that a majority holds (matchIndex >= N) ...
    matches = [node.match_index.get(p, 0) for p in node.peers]
    n = majority_index(log.last_index, matches, node.quorum)
    if n <= node.commit_index:
        return
    count = replicas(n, log.last_index, matches)
    term = log.term_at(n)
    # ... becomes commitIndex only if log[N] is of the current term (§5.4.2).
    if term == node.current_term:
        node.note("commit_advanced", old=node.commit_index, new=n, by="majority",
                  replicas=count, needed=node.quorum)
        node.commit_index = n
    else:  # Figure 8: never commit an earlier term's entry by counting replicas
        node.note("commit_not_advanced_earlier_term", index=n, entry_term=term,
                  current_term=node.current_term, replicas=count)


def apply_committed(node) -> None:
    """Apply entries last_applied+1 .. commit_index to the key-value store, once each."""
    # All servers: while commitIndex > lastApplied, apply log[lastApplied + 1] (§5.3).
    while node.last_applied < node.commit_index:
        i = node.last_applied + 1
        entry = node.log[i]
        node.results[i] = apply_command(node.kv, entry.command)
        node.last_applied = i
        node.note("applied", index=i, term=entry.term, command=entry.command,
                  result=node.results[i])


def handle_pre_vote(node, msg) -> list:
    """A pre-vote request (``msg.pre_vote`` is True), receiver side (thesis section 9.6).

    Would this server vote for ``msg.src`` in term ``msg.term`` if it were asked for real?
    Refuse when the term asked about is not newer than our own, when we hear from a current
    leader (``node.leader_alive()``), or when the candidate's log is not at least as up to
    date as ours (section 5.4.1); grant otherwise. Nothing changes on this server: not its
    term, not its vote, not its role, not its election timer. A granted pre-vote answers in
    the term asked about, a refusal in the server's own term (so that a candidate behind in
    terms learns the newer one).
    """
    own_term, own_index = node.log.last_term, node.log.last_index
    granted = False
    if msg.term <= node.current_term:
        node.note("pre_vote_refused_stale_term", candidate=msg.src, msg_term=msg.term,
                  current_term=node.current_term)
    elif node.leader_alive():
        node.note("pre_vote_refused_leader_alive", candidate=msg.src, msg_term=msg.term,
                  leader=node.leader_id)
    elif not log_is_up_to_date(msg.last_log_term, msg.last_log_index, own_term, own_index):
        node.note("pre_vote_refused_log_not_up_to_date", candidate=msg.src, msg_term=msg.term,
                  candidate_last_term=msg.last_log_term, candidate_last_index=msg.last_log_index,
                  own_last_term=own_term, own_last_index=own_index)
    else:
        granted = True
        node.note("pre_vote_granted", candidate=msg.src, msg_term=msg.term)
    term = msg.term if granted else node.current_term
    return [RequestVoteReply(node.id, msg.src, term, granted, pre_vote=True)]


#: The four rules of Figure 2 a student may replace, by the names of the public contract.
reference_handlers = {
    "request_vote": handle_request_vote,
    "append_entries": handle_append_entries,
    "append_entries_reply": handle_append_entries_reply,
    "advance_commit_index": advance_commit_index,
}

#: Every replaceable rule: the four, Figure 13's "install_snapshot", the answer to a pre-vote
#: (thesis section 9.6, used with ``Config(pre_vote=True)``), and three more a course may use.
reference_handlers_all = {
    **reference_handlers,
    "install_snapshot": handle_install_snapshot,
    "pre_vote": handle_pre_vote,
    "request_vote_reply": handle_request_vote_reply,
    "apply_committed": apply_committed,
    "install_snapshot_reply": handle_install_snapshot_reply,
}


def resolve_handlers(handlers) -> dict:
    """The full handler table: reference rules, overridden by ``handlers``."""

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
