"""A catalogue of classic student bugs, each a complete handler with one mistake.

``BUGS`` maps a bug's name to a :class:`Bug`: the handler it replaces, the
buggy function, what it breaks in plain words, and the grader layers that
catch it (``fails``; the course's notebooks score a bug by these). The
mistakes come from the Students' Guide to Raft and course FAQs; each
function is the reference rule of :mod:`raftbook.rules` with that one
mistake, so a student can diff the two. The exploration tools run their
searches on this catalogue too.

``fails`` holds for the seeds the course grades with: 0 (the checks students
see) and :data:`HIDDEN_SEED` (the hidden tests); every grader is seeded, so
these are exact, and ``tests/test_bugs.py`` keeps them so.
"""
from __future__ import annotations

from dataclasses import dataclass, replace

from ..core.messages import AppendEntriesReply, InstallSnapshotReply, RequestVoteReply
from ..core.roles import Role
from ..core.kv import StateMachine, apply_command
from .targets import handler_of


#: The seed of the course's hidden tests (``rb.grade(..., seed=HIDDEN_SEED)``).
HIDDEN_SEED = 1


@dataclass(frozen=True)
class Bug:
    """One catalogued mistake: ``fn`` replaces the rule ``handler``; ``breaks`` says what goes wrong."""

    name: str
    handler: str
    fn: object
    breaks: str
    fails: tuple

    def __iter__(self):  # name -> (handler name, buggy function, what it breaks)
        # the handler the function replaces ("request_vote_persistent" grades "request_vote")
        return iter((handler_of(self.handler), self.fn, self.breaks))


def _up_to_date(cand_last_term, cand_last_index, own_last_term, own_last_index):
    """Section 5.4.1, as a student writes it: later last term wins, then the longer log."""
    if cand_last_term != own_last_term:
        return cand_last_term > own_last_term
    return cand_last_index >= own_last_index


def _bookkeeping(node, msg):
    """A correct leader's bookkeeping, written without the reference rule (the A3 bugs below
    change one branch of it): adopt a newer term, ignore stale replies, record a success,
    back off after a refusal (to the follower's hint when it gives one)."""
    if msg.term > node.current_term:
        node.become_follower(msg.term)
        return []
    if msg.term < node.current_term or node.role is not Role.LEADER:
        return []
    peer = msg.src
    if msg.success:
        advanced = msg.match_index > node.match_index[peer]
        if advanced:
            node.match_index[peer] = msg.match_index
        node.next_index[peer] = max(node.next_index[peer], msg.match_index + 1)
        node.advance_commit_index()
        if advanced and node.config.max_entries is not None and node.next_index[peer] <= node.log.last_index:
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
    node.next_index[peer] = max(min(new, old - 1), node.match_index[peer] + 1, 1)
    return [node.append_entries_for(peer)]


def _refuse(node, msg):
    return [RequestVoteReply(node.id, msg.src, node.current_term, False)]


def _grant(node, msg):
    node.voted_for = msg.src
    node.reset_election_timer()
    return [RequestVoteReply(node.id, msg.src, node.current_term, True)]


# -- A1: RequestVote --------------------------------------------------------------------

def timer_reset_on_every_request_vote(node, msg):
    """Resets the election timer on every RequestVote, granted or not."""
    node.reset_election_timer()  # BUG: only a granted vote should reset the timer
    if msg.term > node.current_term:
        node.become_follower(msg.term)
    if msg.term < node.current_term:
        return _refuse(node, msg)
    if node.voted_for is not None and node.voted_for != msg.src:
        return _refuse(node, msg)
    if not _up_to_date(msg.last_log_term, msg.last_log_index, node.log.last_term,
                             node.log.last_index):
        return _refuse(node, msg)
    return _grant(node, msg)


def second_vote_in_a_term(node, msg):
    """Forgets votedFor: grants every up-to-date candidate of the term."""
    if msg.term > node.current_term:
        node.become_follower(msg.term)
    if msg.term < node.current_term:
        return _refuse(node, msg)
    # BUG: no check of node.voted_for
    if not _up_to_date(msg.last_log_term, msg.last_log_index, node.log.last_term,
                             node.log.last_index):
        return _refuse(node, msg)
    return _grant(node, msg)


def up_to_date_by_length(node, msg):
    """Judges 'at least as up to date' by log length alone."""
    if msg.term > node.current_term:
        node.become_follower(msg.term)
    if msg.term < node.current_term:
        return _refuse(node, msg)
    if node.voted_for is not None and node.voted_for != msg.src:
        return _refuse(node, msg)
    if msg.last_log_index < node.log.last_index:  # BUG: last terms must be compared first
        return _refuse(node, msg)
    return _grant(node, msg)


def no_step_down_on_higher_term(node, msg):
    """Adopts a higher term only when granting: a refusing server (or leader) stays in its old term."""
    if msg.term < node.current_term:
        return _refuse(node, msg)
    if msg.term == node.current_term and node.voted_for is not None and node.voted_for != msg.src:
        return _refuse(node, msg)
    if not _up_to_date(msg.last_log_term, msg.last_log_index, node.log.last_term,
                             node.log.last_index):
        return _refuse(node, msg)  # BUG: msg.term > current_term must be adopted first, always
    if msg.term > node.current_term:
        node.become_follower(msg.term)
    if node.role is not Role.FOLLOWER:
        return _refuse(node, msg)
    return _grant(node, msg)


def vote_for_stale_candidates(node, msg):
    """Never checks the candidate's term: votes in an old term and answers with that term."""
    if msg.term > node.current_term:
        node.become_follower(msg.term)
    # BUG: no refusal of msg.term < node.current_term
    if node.voted_for is not None and node.voted_for != msg.src:
        return [RequestVoteReply(node.id, msg.src, msg.term, False)]
    if not _up_to_date(msg.last_log_term, msg.last_log_index, node.log.last_term,
                             node.log.last_index):
        return [RequestVoteReply(node.id, msg.src, msg.term, False)]
    node.voted_for = msg.src
    node.reset_election_timer()
    return [RequestVoteReply(node.id, msg.src, msg.term, True)]


def candidate_steps_down_on_a_rival(node, msg):
    """A candidate (or leader) that refuses a rival of its own term still steps down to follower."""
    if msg.term > node.current_term:
        node.become_follower(msg.term)
    if msg.term == node.current_term and node.role is not Role.FOLLOWER:
        node.role = Role.FOLLOWER  # BUG: a rival of the same term changes nothing about our role
    if msg.term < node.current_term:
        return _refuse(node, msg)
    if node.voted_for is not None and node.voted_for != msg.src:
        return _refuse(node, msg)
    if not _up_to_date(msg.last_log_term, msg.last_log_index, node.log.last_term, node.log.last_index):
        return _refuse(node, msg)
    return _grant(node, msg)


def equal_logs_refused(node, msg):
    """Grants only to a strictly more up-to-date log: candidates as up to date as the voter lose."""
    if msg.term > node.current_term:
        node.become_follower(msg.term)
    if msg.term < node.current_term:
        return _refuse(node, msg)
    if node.voted_for is not None and node.voted_for != msg.src:
        return _refuse(node, msg)
    own = (node.log.last_term, node.log.last_index)
    if (msg.last_log_term, msg.last_log_index) <= own:  # BUG: an equally up-to-date log qualifies
        return _refuse(node, msg)
    return _grant(node, msg)


def vote_not_remembered(node, msg):
    """Grants the vote but never records it in votedFor."""
    if msg.term > node.current_term:
        node.become_follower(msg.term)
    if msg.term < node.current_term:
        return _refuse(node, msg)
    if node.voted_for is not None and node.voted_for != msg.src:
        return _refuse(node, msg)
    if not _up_to_date(msg.last_log_term, msg.last_log_index, node.log.last_term, node.log.last_index):
        return _refuse(node, msg)
    node.reset_election_timer()  # BUG: node.voted_for = msg.src is missing
    return [RequestVoteReply(node.id, msg.src, node.current_term, True)]


def duplicate_request_refused(node, msg):
    """Refuses a candidate it already voted for when the request arrives again."""
    if msg.term > node.current_term:
        node.become_follower(msg.term)
    if msg.term < node.current_term:
        return _refuse(node, msg)
    if node.voted_for is not None:  # BUG: votedFor == candidateId may be granted again
        return _refuse(node, msg)
    if not _up_to_date(msg.last_log_term, msg.last_log_index, node.log.last_term, node.log.last_index):
        return _refuse(node, msg)
    return _grant(node, msg)


def no_timer_reset_on_grant(node, msg):
    """Grants a vote without restarting its election timer."""
    if msg.term > node.current_term:
        node.become_follower(msg.term)
    if msg.term < node.current_term:
        return _refuse(node, msg)
    if node.voted_for is not None and node.voted_for != msg.src:
        return _refuse(node, msg)
    if not _up_to_date(msg.last_log_term, msg.last_log_index, node.log.last_term, node.log.last_index):
        return _refuse(node, msg)
    node.voted_for = msg.src  # BUG: node.reset_election_timer() is missing
    return [RequestVoteReply(node.id, msg.src, node.current_term, True)]


# -- A2: AppendEntries --------------------------------------------------------------------

def _ae_prologue(node, msg):
    """The reference term handling and consistency check; returns a reply to send now, or None."""
    if msg.term > node.current_term:
        node.become_follower(msg.term)
    if msg.term < node.current_term:
        return [AppendEntriesReply(node.id, msg.src, node.current_term, False)]
    if node.role is not Role.FOLLOWER:
        node.become_follower(msg.term)
    node.leader_id = msg.src
    node.reset_election_timer()
    return _check_prev(node, msg)


def _check_prev(node, msg):
    """The consistency check with the reference's fast back-up hints."""
    log, prev = node.log, msg.prev_log_index
    if prev > log.last_index:
        return [AppendEntriesReply(node.id, msg.src, node.current_term, False,
                                   conflict_index=log.last_index + 1)]
    found = log.term_at(prev)
    if found != msg.prev_log_term:
        return [AppendEntriesReply(node.id, msg.src, node.current_term, False,
                                   conflict_index=log.first_index_of_term(found, prev),
                                   conflict_term=found)]
    return None


def _append_new(log, entries):
    for entry in entries:
        if entry.index <= log.last_index:
            if log.term_at(entry.index) == entry.term:
                continue
            log.truncate_from(entry.index)
        log.append(entry)


def _ok(node, msg, match):
    return [AppendEntriesReply(node.id, msg.src, node.current_term, True, match_index=match)]


def truncate_on_duplicate(node, msg):
    """Deletes everything after prevLogIndex before appending, conflict or not."""
    early = _ae_prologue(node, msg)
    if early:
        return early
    node.log.truncate_from(msg.prev_log_index + 1)  # BUG: truncate only at a real conflict
    for entry in msg.entries:
        node.log.append(entry)
    last_new = msg.prev_log_index + len(msg.entries)
    if msg.leader_commit > node.commit_index:
        node.commit_index = max(node.commit_index, min(msg.leader_commit, last_new))
    return _ok(node, msg, last_new)


def commit_capped_by_log_length(node, msg):
    """commitIndex = min(leaderCommit, last log index) instead of the index of the last new entry."""
    early = _ae_prologue(node, msg)
    if early:
        return early
    _append_new(node.log, msg.entries)
    last_new = msg.prev_log_index + len(msg.entries)
    if msg.leader_commit > node.commit_index:
        node.commit_index = min(msg.leader_commit, node.log.last_index)  # BUG: last_new, not last_index
    return _ok(node, msg, last_new)


def commit_index_decreases(node, msg):
    """Sets commitIndex from every AppendEntries, so a late, stale one lowers it."""
    early = _ae_prologue(node, msg)
    if early:
        return early
    _append_new(node.log, msg.entries)
    last_new = msg.prev_log_index + len(msg.entries)
    node.commit_index = min(msg.leader_commit, last_new)  # BUG: only ever raise commit_index
    return _ok(node, msg, last_new)


def no_term_check_at_prev_index(node, msg):
    """The consistency check looks only at whether prevLogIndex exists, not at its term."""
    if msg.term > node.current_term:
        node.become_follower(msg.term)
    if msg.term < node.current_term:
        return [AppendEntriesReply(node.id, msg.src, node.current_term, False)]
    if node.role is not Role.FOLLOWER:
        node.become_follower(msg.term)
    node.leader_id = msg.src
    node.reset_election_timer()
    if msg.prev_log_index > node.log.last_index:  # BUG: and log.term_at(prev) must equal prev_log_term
        return [AppendEntriesReply(node.id, msg.src, node.current_term, False,
                                   conflict_index=node.log.last_index + 1)]
    _append_new(node.log, msg.entries)
    last_new = msg.prev_log_index + len(msg.entries)
    if msg.leader_commit > node.commit_index:
        node.commit_index = max(node.commit_index, min(msg.leader_commit, last_new))
    return _ok(node, msg, last_new)


def accept_stale_leader(node, msg):
    """Accepts AppendEntries from a deposed leader of an older term."""
    if msg.term > node.current_term:
        node.become_follower(msg.term)
    # BUG: no refusal of msg.term < node.current_term
    if node.role is not Role.FOLLOWER:
        node.become_follower(node.current_term)
    node.leader_id = msg.src
    node.reset_election_timer()
    early = _check_prev(node, msg)
    if early:
        return early
    _append_new(node.log, msg.entries)
    last_new = msg.prev_log_index + len(msg.entries)
    if msg.leader_commit > node.commit_index:
        node.commit_index = max(node.commit_index, min(msg.leader_commit, last_new))
    return [AppendEntriesReply(node.id, msg.src, msg.term, True, match_index=last_new)]


def reply_match_is_log_length(node, msg):
    """Replies matchIndex = its own last index instead of the last entry this message checked."""
    early = _ae_prologue(node, msg)
    if early:
        return early
    _append_new(node.log, msg.entries)
    last_new = msg.prev_log_index + len(msg.entries)
    if msg.leader_commit > node.commit_index:
        node.commit_index = max(node.commit_index, min(msg.leader_commit, last_new))
    return _ok(node, msg, node.log.last_index)  # BUG: entries after last_new are unchecked


def _accept(node, msg):
    """Receiver rules 3-5 after the consistency check passed, as the reference does them."""
    _append_new(node.log, msg.entries)
    last_new = msg.prev_log_index + len(msg.entries)
    if msg.leader_commit > node.commit_index:
        node.commit_index = max(node.commit_index, min(msg.leader_commit, last_new))
    return _ok(node, msg, last_new)


def no_timer_reset_on_refused_append(node, msg):
    """Restarts the election timer only when the consistency check passes."""
    if msg.term > node.current_term:
        node.become_follower(msg.term)
    if msg.term < node.current_term:
        return [AppendEntriesReply(node.id, msg.src, node.current_term, False)]
    if node.role is not Role.FOLLOWER:
        node.become_follower(msg.term)
    node.leader_id = msg.src
    early = _check_prev(node, msg)
    if early:
        return early  # BUG: the leader was heard from all the same: reset the timer first
    node.reset_election_timer()
    return _accept(node, msg)


def heartbeat_skips_consistency_check(node, msg):
    """Checks prevLogIndex/prevLogTerm only when the message carries entries; a heartbeat always succeeds."""
    if msg.term > node.current_term:
        node.become_follower(msg.term)
    if msg.term < node.current_term:
        return [AppendEntriesReply(node.id, msg.src, node.current_term, False)]
    if node.role is not Role.FOLLOWER:
        node.become_follower(msg.term)
    node.leader_id = msg.src
    node.reset_election_timer()
    if msg.entries:  # BUG: an empty AppendEntries must pass the same check
        early = _check_prev(node, msg)
        if early:
            return early
    last_new = msg.prev_log_index
    if msg.leader_commit > node.commit_index:
        node.commit_index = max(node.commit_index, min(msg.leader_commit, last_new, node.log.last_index))
    if not msg.entries:
        return _ok(node, msg, last_new)
    return _accept(node, msg)


def reply_match_is_prev_index(node, msg):
    """Claims only prevLogIndex as its match index, even after appending the message's entries."""
    early = _ae_prologue(node, msg)
    if early:
        return early
    _append_new(node.log, msg.entries)
    last_new = msg.prev_log_index + len(msg.entries)
    if msg.leader_commit > node.commit_index:
        node.commit_index = max(node.commit_index, min(msg.leader_commit, last_new))
    return _ok(node, msg, msg.prev_log_index)  # BUG (slow, not unsafe): last_new is confirmed too


def candidate_keeps_campaigning(node, msg):
    """A candidate accepts the new leader's entries but stays a candidate."""
    if msg.term > node.current_term:
        node.become_follower(msg.term)
    if msg.term < node.current_term:
        return [AppendEntriesReply(node.id, msg.src, node.current_term, False)]
    # BUG: a candidate must become a follower of this term's leader
    node.leader_id = msg.src
    node.reset_election_timer()
    early = _check_prev(node, msg)
    if early:
        return early
    return _accept(node, msg)


def leader_not_recorded(node, msg):
    """Never records who the leader is (leaderId), so clients cannot be redirected."""
    if msg.term > node.current_term:
        node.become_follower(msg.term)
    if msg.term < node.current_term:
        return [AppendEntriesReply(node.id, msg.src, node.current_term, False)]
    if node.role is not Role.FOLLOWER:
        node.become_follower(msg.term)
    node.reset_election_timer()  # BUG: node.leader_id = msg.src is missing
    early = _check_prev(node, msg)
    if early:
        return early
    return _accept(node, msg)


def conflicts_never_truncated(node, msg):
    """Appends only entries past its last index: a conflicting entry is kept instead of replaced."""
    early = _ae_prologue(node, msg)
    if early:
        return early
    for entry in msg.entries:
        if entry.index > node.log.last_index:  # BUG: a conflicting entry must be deleted, with all after it
            node.log.append(entry)
    last_new = msg.prev_log_index + len(msg.entries)
    if msg.leader_commit > node.commit_index:
        node.commit_index = max(node.commit_index, min(msg.leader_commit, last_new))
    return _ok(node, msg, last_new)


def commit_to_leader_commit(node, msg):
    """Sets commitIndex = leaderCommit, past the end of its own log if the leader is ahead."""
    early = _ae_prologue(node, msg)
    if early:
        return early
    _append_new(node.log, msg.entries)
    last_new = msg.prev_log_index + len(msg.entries)
    if msg.leader_commit > node.commit_index:
        node.commit_index = msg.leader_commit  # BUG: min(leaderCommit, index of last new entry)
    return _ok(node, msg, last_new)


# -- A3: AppendEntries replies --------------------------------------------------------------

def match_index_from_next_index(node, msg):
    """On success, assumes the reply answers the latest request: matchIndex = the leader's last index."""
    if msg.success and msg.term == node.current_term and node.role is Role.LEADER:
        peer = msg.src
        node.next_index[peer] = node.log.last_index + 1
        node.match_index[peer] = node.next_index[peer] - 1  # BUG: use msg.match_index
        node.advance_commit_index()
        return []
    return _bookkeeping(node, msg)


def act_on_stale_replies(node, msg):
    """Never checks a reply's term: a late reply of an older term is handled as a current one."""
    if msg.term < node.current_term and node.role is Role.LEADER:
        msg = replace(msg, term=node.current_term)  # BUG: it speaks of a log of an older term
    return _bookkeeping(node, msg)


def no_back_off(node, msg):
    """After a refusal, retries with the same nextIndex forever."""
    if not msg.success and msg.term == node.current_term and node.role is Role.LEADER:
        return [node.append_entries_for(msg.src)]  # BUG: move next_index back first
    return _bookkeeping(node, msg)


def ignore_higher_term_in_reply(node, msg):
    """Never steps down when a reply carries a higher term."""
    if msg.term > node.current_term:
        return []  # BUG: adopt the term and become a follower
    return _bookkeeping(node, msg)


def forget_to_advance_commit(node, msg):
    """Records matches but never re-checks the commit index after a success."""
    if msg.success and msg.term == node.current_term and node.role is Role.LEADER:
        peer = msg.src
        node.match_index[peer] = max(node.match_index[peer], msg.match_index)
        node.next_index[peer] = max(node.next_index[peer], msg.match_index + 1)
        return []  # BUG: call node.advance_commit_index()
    return _bookkeeping(node, msg)


def no_immediate_retry(node, msg):
    """Backs off after a refusal but leaves the retry to the next heartbeat."""
    out = _bookkeeping(node, msg)
    if not msg.success and out:
        return []  # BUG (slow, not unsafe): retry at once, the follower is waiting
    return out


def next_index_kept_on_success(node, msg):
    """Records the match after a success but leaves nextIndex where it was."""
    if msg.success and msg.term == node.current_term and node.role is Role.LEADER:
        peer = msg.src
        node.match_index[peer] = max(node.match_index[peer], msg.match_index)
        node.advance_commit_index()  # BUG: nextIndex = matchIndex + 1 as well
        return []
    return _bookkeeping(node, msg)


def step_down_on_refusal(node, msg):
    """Takes a refused AppendEntries as a sign of a newer leader and steps down."""
    if not msg.success and msg.term == node.current_term and node.role is Role.LEADER:
        node.become_follower(msg.term)  # BUG: a refusal of our term means "back off", not "step down"
        return []
    return _bookkeeping(node, msg)


def match_index_lowered_by_late_reply(node, msg):
    """Overwrites matchIndex with every success, so a late reply moves it back."""
    if msg.success and msg.term == node.current_term and node.role is Role.LEADER:
        peer = msg.src
        node.match_index[peer] = msg.match_index  # BUG: matchIndex only ever increases
        node.next_index[peer] = max(node.next_index[peer], msg.match_index + 1)
        node.advance_commit_index()
        return []
    return _bookkeeping(node, msg)


# -- A4: commitment -----------------------------------------------------------------------

def commit_earlier_term_by_counting(node):
    """Commits any entry a majority holds, whatever its term (Figure 8's mistake)."""
    if node.role is not Role.LEADER:
        return
    for n in range(node.log.last_index, node.commit_index, -1):
        count = 1 + sum(1 for p in node.peers if node.match_index.get(p, 0) >= n)
        if count >= node.quorum:  # BUG: and node.log.term_at(n) == node.current_term
            node.commit_index = n
            return


def majority_of_followers_only(node):
    """Forgets to count the leader itself, so it needs one replica more than a majority."""
    if node.role is not Role.LEADER:
        return
    for n in range(node.log.last_index, node.commit_index, -1):
        count = sum(1 for p in node.peers if node.match_index.get(p, 0) >= n)  # BUG: 1 + ...
        if count >= node.quorum and node.log.term_at(n) == node.current_term:
            node.commit_index = n
            return


def apply_twice(node):
    """Applies every committed entry from the start each time, so old commands run again."""
    for i in range(1, node.commit_index + 1):  # BUG: start after node.last_applied
        node.results[i] = apply_command(node.kv, node.log[i].command)
    node.last_applied = node.commit_index


def majority_of_peers(node):
    """Counts a majority of the other servers, not of the cluster: right with 3 or 5 servers, wrong with 4 or 6."""
    if node.role is not Role.LEADER:
        return
    for n in range(node.log.last_index, node.commit_index, -1):
        count = 1 + sum(1 for p in node.peers if node.match_index.get(p, 0) >= n)
        if count > len(node.peers) // 2 and node.log.term_at(n) == node.current_term:  # BUG: (servers) // 2
            node.commit_index = n
            return


def commit_when_not_leader(node):
    """Runs the commit rule on any server, trusting whatever matchIndex a former leader kept."""
    for n in range(node.log.last_index, node.commit_index, -1):  # BUG: only a leader commits this way
        count = 1 + sum(1 for p in node.peers if node.match_index.get(p, 0) >= n)
        if count >= node.quorum and node.log.term_at(n) == node.current_term:
            node.commit_index = n
            return


def apply_stops_short(node):
    """Applies up to commitIndex - 1: the last committed entry waits for the next commit."""
    for i in range(node.last_applied + 1, node.commit_index):  # BUG: up to commit_index itself
        node.results[i] = apply_command(node.kv, node.log[i].command)
        node.last_applied = i


# -- A5: InstallSnapshot (Figure 13) ----------------------------------------------------

def _from_leader(node, msg):
    """The term rules every RPC shares: adopt a newer term; a snapshot of the current term comes
    from its leader (a candidate steps down, the timer restarts). False for a stale term."""
    if msg.term > node.current_term:
        node.become_follower(msg.term)
    if msg.term < node.current_term:
        return False
    if node.role is not Role.FOLLOWER:
        node.become_follower(msg.term)
    node.leader_id = msg.src
    node.reset_election_timer()
    return True


def _load(node, msg):
    """Rule 8: the state machine becomes the snapshot's; the snapshot is kept for later."""
    data = msg.data
    node.snapshot_data = {"kv": [list(p) for p in data["kv"]],
                          "results": [list(p) for p in data.get("results", ())]}
    node.kv = StateMachine((k, v) for k, v in data["kv"])
    node.results = {i: r for i, r in data.get("results", ())}


def _snapshot_reply(node, msg):
    node.persist()
    return [InstallSnapshotReply(node.id, msg.src, node.current_term, msg.last_included_index)]


def snapshot_discards_suffix(node, msg):
    """Discards the whole log for every snapshot, even when its last entry matches one held."""
    if not _from_leader(node, msg):
        return [InstallSnapshotReply(node.id, msg.src, node.current_term, 0)]
    index, log = msg.last_included_index, node.log
    if index <= log.snapshot_index:
        return _snapshot_reply(node, msg)
    log.install_snapshot(index, msg.last_included_term)  # BUG: rule 6 keeps what follows a match
    if node.last_applied < index:
        _load(node, msg)
        node.last_applied = index
    else:
        node.snapshot_data = {"kv": [list(p) for p in msg.data["kv"]], "results": []}
    node.commit_index = max(node.commit_index, index)
    return _snapshot_reply(node, msg)


def snapshot_keeps_old_state_machine(node, msg):
    """Installs the snapshot in the log but leaves the state machine as it was."""
    if not _from_leader(node, msg):
        return [InstallSnapshotReply(node.id, msg.src, node.current_term, 0)]
    index, term, log = msg.last_included_index, msg.last_included_term, node.log
    if index <= log.snapshot_index:
        return _snapshot_reply(node, msg)
    if index <= log.last_index and log.term_at(index) == term:
        log.compact(index)
    else:
        log.install_snapshot(index, term)
    node.snapshot_data = {"kv": [list(p) for p in msg.data["kv"]], "results": []}
    # BUG: rule 8 resets node.kv (and results) from the snapshot's data
    node.last_applied = max(node.last_applied, index)
    node.commit_index = max(node.commit_index, index)
    return _snapshot_reply(node, msg)


def stale_snapshot_installed(node, msg):
    """Installs every snapshot, even one older than the server's own: state goes backwards."""
    if not _from_leader(node, msg):
        return [InstallSnapshotReply(node.id, msg.src, node.current_term, 0)]
    index, term, log = msg.last_included_index, msg.last_included_term, node.log
    # BUG: no rule 5 (discard a snapshot whose index is not past snapshot_index)
    if log.snapshot_index < index <= log.last_index and log.term_at(index) == term:
        log.compact(index)
    else:
        log.install_snapshot(index, term)
    _load(node, msg)
    node.last_applied = index
    node.commit_index = max(min(node.commit_index, log.last_index), index)
    return _snapshot_reply(node, msg)


def snapshot_reset_off_by_one(node, msg):
    """Resets the state machine only when the snapshot is more than one entry past lastApplied."""
    if not _from_leader(node, msg):
        return [InstallSnapshotReply(node.id, msg.src, node.current_term, 0)]
    index, term, log = msg.last_included_index, msg.last_included_term, node.log
    if index <= log.snapshot_index:
        return _snapshot_reply(node, msg)
    if index <= log.last_index and log.term_at(index) == term:
        log.compact(index)
    else:
        log.install_snapshot(index, term)
    node.snapshot_data = {"kv": [list(p) for p in msg.data["kv"]], "results": []}
    if node.last_applied + 1 < index:  # BUG: last_applied < index
        _load(node, msg)
        node.last_applied = index
    node.commit_index = max(node.commit_index, index)
    return _snapshot_reply(node, msg)


def snapshot_term_checked_last(node, msg):
    """Installs the snapshot first and checks its term after: a deposed leader's snapshot is
    installed too."""
    index, term, log = msg.last_included_index, msg.last_included_term, node.log
    # BUG: rule 1 (refuse a stale term) must come before anything is changed
    if index > log.snapshot_index:
        if index <= log.last_index and log.term_at(index) == term:
            log.compact(index)
        else:
            log.install_snapshot(index, term)
        node.snapshot_data = {"kv": [list(p) for p in msg.data["kv"]], "results": []}
        if node.last_applied < index:
            _load(node, msg)
            node.last_applied = index
        node.commit_index = max(node.commit_index, index)
    if not _from_leader(node, msg):
        return [InstallSnapshotReply(node.id, msg.src, node.current_term, 0)]
    return _snapshot_reply(node, msg)


# -- A5, persistence points: RequestVote under Config(persistence="explicit") --------------

def _vote_rules(node, msg, save_term=False):
    """A correct vote rule without its saves (the A5 bugs below put node.persist() in the wrong
    places, or leave it out): adopt a newer term, refuse stale, second and out-of-date requests."""
    if msg.term > node.current_term:
        node.become_follower(msg.term)
        if save_term:
            node.persist()
    if msg.term < node.current_term:
        return False
    if node.voted_for is not None and node.voted_for != msg.src:
        return False
    return _up_to_date(msg.last_log_term, msg.last_log_index, node.log.last_term, node.log.last_index)


def vote_without_saving(node, msg):
    """Answers a vote request without saving anything (``rb.scenarios.vote_without_saving``)."""
    if _vote_rules(node, msg):
        return _grant(node, msg)  # BUG: no node.persist() before the reply
    return _refuse(node, msg)


def term_saved_only_with_a_vote(node, msg):
    """Saves when it grants a vote, but not the newer term it adopts while refusing one."""
    if _vote_rules(node, msg):
        out = _grant(node, msg)
        node.persist()
        return out
    return _refuse(node, msg)  # BUG: a newer term adopted here is answered unsaved


def vote_saved_before_it_is_cast(node, msg):
    """Saves the newer term as it adopts it, then grants the vote without saving it."""
    if _vote_rules(node, msg, save_term=True):
        return _grant(node, msg)  # BUG: voted_for changed after the last node.persist()
    return _refuse(node, msg)


# -- A6, PreVote: the answer to a pre-vote request under Config(pre_vote=True) -------------

def _pre_vote_reply(node, msg, granted):
    """A pre-vote reply: granted in the term asked about, refused in the server's own term."""
    term = msg.term if granted else node.current_term
    return [RequestVoteReply(node.id, msg.src, term, granted, pre_vote=True)]


def _would_vote(node, msg):
    """A correct pre-vote decision, written as a student would (the A6 bugs below change it)."""
    if msg.term <= node.current_term or node.leader_alive():
        return False
    return _up_to_date(msg.last_log_term, msg.last_log_index, node.log.last_term, node.log.last_index)


def pre_vote_adopts_term(node, msg):
    """Treats a pre-vote like a vote request: a newer term is adopted before deciding."""
    granted = _would_vote(node, msg)
    if msg.term > node.current_term:
        node.become_follower(msg.term)  # BUG: a pre-vote changes nobody's term
    return [RequestVoteReply(node.id, msg.src, msg.term if granted else node.current_term, granted,
                             pre_vote=True)]


def pre_vote_records_vote(node, msg):
    """Remembers a granted pre-vote as the server's vote."""
    granted = _would_vote(node, msg)
    if granted:
        node.voted_for = msg.src  # BUG: a pre-vote is not a vote; voted_for stays as it was
    return _pre_vote_reply(node, msg, granted)


def pre_vote_ignores_leader_alive(node, msg):
    """Grants a pre-vote to an up-to-date log even while the server hears from its leader."""
    granted = msg.term > node.current_term and _up_to_date(
        msg.last_log_term, msg.last_log_index, node.log.last_term, node.log.last_index)
    # BUG: no check of node.leader_alive()
    return _pre_vote_reply(node, msg, granted)


def pre_vote_skips_log_check(node, msg):
    """Grants a pre-vote whatever the candidate's log holds."""
    granted = msg.term > node.current_term and not node.leader_alive()
    # BUG: no election restriction (section 5.4.1) on the candidate's log
    return _pre_vote_reply(node, msg, granted)


def pre_vote_grants_same_term(node, msg):
    """Grants a pre-vote for the server's own term, as if it were the term of a vote request."""
    granted = msg.term >= node.current_term and not node.leader_alive() and _up_to_date(  # BUG: >
        msg.last_log_term, msg.last_log_index, node.log.last_term, node.log.last_index)
    return _pre_vote_reply(node, msg, granted)


def pre_vote_reply_wrong_term(node, msg):
    """Answers every pre-vote in the server's own term, as a vote reply does."""
    granted = _would_vote(node, msg)
    # BUG: a granted pre-vote answers in the term asked about (msg.term)
    return [RequestVoteReply(node.id, msg.src, node.current_term, granted, pre_vote=True)]


def _bug(fn, handler, breaks, fails):
    return fn.__name__, Bug(fn.__name__, handler, fn, breaks, tuple(fails))


R, S, C = "rules", "scenarios", "campaigns"

BUGS: dict[str, Bug] = dict([
    _bug(timer_reset_on_every_request_vote, "request_vote",
         "A server whose timer is reset by hopeless candidates may never stand itself (liveness); "
         "the paper resets it only when granting a vote.", [R, C]),
    _bug(second_vote_in_a_term, "request_vote",
         "Two candidates can both win a majority in one term: election safety breaks.", [R, S, C]),
    _bug(up_to_date_by_length, "request_vote",
         "A candidate missing committed entries can win, and overwrite them: leader completeness "
         "and state machine safety break.", [R, S]),
    _bug(no_step_down_on_higher_term, "request_vote",
         "A refusing server (or a deposed leader) stays in an old term and keeps acting in it.", [R, S, C]),
    _bug(vote_for_stale_candidates, "request_vote",
         "A server votes again in a term it has left behind, so a term can have two leaders.", [R]),
    _bug(candidate_steps_down_on_a_rival, "request_vote",
         "Candidates give up whenever a rival asks for a vote, and a leader abdicates on a late "
         "request of its own term: elections take longer and more of them are held.", [R, C]),
    _bug(equal_logs_refused, "request_vote",
         "When every log is equally up to date (the usual case) nobody can win a vote: no leader "
         "is ever elected.", [R, S, C]),
    _bug(vote_not_remembered, "request_vote",
         "A server that voted can vote again for another candidate of the same term: two leaders "
         "in one term.", [R, S, C]),
    _bug(duplicate_request_refused, "request_vote",
         "A retransmitted vote request is refused, so a lost reply costs the candidate its vote "
         "and the election.", [R]),
    _bug(no_timer_reset_on_grant, "request_vote",
         "A voter's timer runs out soon after it voted, and it stands against the candidate it "
         "just helped: elections keep being interrupted.", [R, S, C]),
    _bug(truncate_on_duplicate, "append_entries",
         "A late or duplicated AppendEntries deletes entries that may already be committed.", [R, S, C]),
    _bug(commit_capped_by_log_length, "append_entries",
         "A follower commits (and applies) entries after the last one the leader checked, which may "
         "be stale entries of an old term.", [R]),
    _bug(commit_index_decreases, "append_entries",
         "A late, stale AppendEntries lowers commitIndex below what was applied, so entries are "
         "applied again.", [R, C]),
    _bug(no_term_check_at_prev_index, "append_entries",
         "Entries are appended after a conflicting entry: logs disagree (log matching breaks).",
         [R, S, C]),
    _bug(accept_stale_leader, "append_entries",
         "A deposed leader's entries overwrite the current leader's: committed entries are lost.",
         [R, S, C]),
    _bug(reply_match_is_log_length, "append_entries",
         "The leader believes unchecked entries match, and can commit entries that differ.", [R]),
    _bug(no_timer_reset_on_refused_append, "append_entries",
         "A follower being repaired keeps refusing AppendEntries from its leader, its timer runs "
         "out, and it starts elections that depose a healthy leader.", [R, C]),
    _bug(heartbeat_skips_consistency_check, "append_entries",
         "An empty AppendEntries is accepted whatever its prevLogIndex and prevLogTerm, so the "
         "leader believes a log matches where it does not.", [R]),
    _bug(reply_match_is_prev_index, "append_entries",
         "The leader never learns that the entries it sent were stored, so it sends them again "
         "and again and commits nothing.", [R, S, C]),
    _bug(candidate_keeps_campaigning, "append_entries",
         "A candidate that hears from the leader of its term stays a candidate and can start "
         "another election when its timer runs out.", [R]),
    _bug(leader_not_recorded, "append_entries",
         "Followers never know who the leader is, so they cannot redirect clients to it.", [R]),
    _bug(conflicts_never_truncated, "append_entries",
         "A follower keeps entries that conflict with the leader's: logs disagree and committed "
         "entries differ between servers.", [R, S, C]),
    _bug(commit_to_leader_commit, "append_entries",
         "A follower whose log is shorter than the leader's commit index sets a commit index past "
         "its own log.", [R, S, C]),
    _bug(match_index_from_next_index, "append_entries_reply",

         "A late reply to an old request makes the leader count entries the follower never "
         "confirmed, so it may commit too early.", [R, S, C]),
    _bug(act_on_stale_replies, "append_entries_reply",
         "Replies from an older term move nextIndex/matchIndex for a log the leader no longer has.",
         [R]),
    _bug(no_back_off, "append_entries_reply",
         "A follower that is behind is never repaired: the leader resends the same request forever.",
         [R, S, C]),
    _bug(ignore_higher_term_in_reply, "append_entries_reply",
         "A deposed leader keeps leading after a follower told it of a newer term.", [R]),
    _bug(forget_to_advance_commit, "append_entries_reply",
         "Nothing is ever committed by replication: clients wait forever.", [R, S, C]),
    _bug(no_immediate_retry, "append_entries_reply",
         "Each step back costs a heartbeat interval, so repairing a follower's log takes much "
         "longer.", [R, S]),
    _bug(next_index_kept_on_success, "append_entries_reply",
         "After a back-off the leader keeps sending a follower everything from the old nextIndex, "
         "and cannot replicate new entries past it.", [R, S, C]),
    _bug(step_down_on_refusal, "append_entries_reply",
         "A leader abdicates whenever a follower's log needs repair, so a lagging follower "
         "deposes every leader.", [R, S, C]),
    _bug(match_index_lowered_by_late_reply, "append_entries_reply",
         "A reordered reply moves matchIndex back, so the leader forgets what a follower holds.",
         [R]),
    _bug(commit_earlier_term_by_counting, "advance_commit_index",
         "An entry of an earlier term is committed by counting replicas, then overwritten "
         "(Figure 8): leader completeness breaks.", [R, S]),
    _bug(majority_of_followers_only, "advance_commit_index",
         "The leader forgets to count itself: with one server down a three-server cluster commits "
         "nothing.", [R, S]),
    _bug(majority_of_peers, "advance_commit_index",
         "In a cluster of 4 or 6 servers the leader commits on half of them, not a majority: two "
         "halves can commit different entries.", [R]),
    _bug(commit_when_not_leader, "advance_commit_index",
         "A deposed leader still commits from the matchIndex it kept as leader.", [R]),
    _bug(apply_stops_short, "apply_committed",
         "The last committed entry is not applied until something else commits: a client waits "
         "for its answer.", [R, S, C]),
    _bug(snapshot_discards_suffix, "install_snapshot",
         "A follower drops entries it already acknowledged whenever a snapshot arrives, so a "
         "leader counts replicas that are gone and the follower must be sent them again.", [R, S, C]),
    _bug(snapshot_keeps_old_state_machine, "install_snapshot",
         "A follower that installs a snapshot keeps its old key-value state, so servers answer "
         "differently and its own later snapshots hold the wrong state.", [R, S, C]),
    _bug(stale_snapshot_installed, "install_snapshot",
         "A late or duplicated snapshot rolls a follower back past entries it had committed and "
         "applied: its state goes backwards.", [R, S, C]),
    _bug(snapshot_reset_off_by_one, "install_snapshot",
         "A snapshot one entry past what a follower applied is installed without its state, "
         "leaving entries that can never be applied.", [R, C]),
    _bug(snapshot_term_checked_last, "install_snapshot",
         "A deposed leader's snapshot is installed before its stale term is noticed, replacing "
         "what the current leader sent.", [R]),
    _bug(vote_without_saving, "request_vote_persistent",
         "A server that crashes right after answering forgets its vote: it restarts able to vote "
         "again in the same term, and two candidates can both win it.", [R, S]),
    _bug(term_saved_only_with_a_vote, "request_vote_persistent",
         "A term adopted while refusing a vote is lost in a crash: the server's term goes back "
         "after it told a candidate the newer one.", [R, S]),
    _bug(vote_saved_before_it_is_cast, "request_vote_persistent",
         "The term is saved but the vote given in it is not: after a crash the server votes a "
         "second time in that term.", [R, S]),
    _bug(apply_twice, "apply_committed",
         "Committed commands run again on every apply: the state machine repeats effects.", [R]),
    _bug(pre_vote_adopts_term, "pre_vote",
         "Every pre-vote raises the terms of the servers asked, so a server that rejoins after a "
         "partition deposes a healthy leader: the disruption PreVote exists to prevent.", [R, S, C]),
    _bug(pre_vote_records_vote, "pre_vote",
         "A granted pre-vote overwrites the server's real vote of its current term, so it can vote "
         "a second time in that term.", [R, S]),
    _bug(pre_vote_ignores_leader_alive, "pre_vote",
         "A server whose timer fires while the others hear from their leader wins the pre-vote, "
         "raises the term and deposes the leader.", [R, S, C]),
    _bug(pre_vote_skips_log_check, "pre_vote",
         "A candidate missing committed entries wins the pre-vote and starts elections it can never "
         "win, raising every term on the way.", [R, S]),
    _bug(pre_vote_grants_same_term, "pre_vote",
         "A pre-vote for a term the server has already reached is granted, so a server behind in "
         "terms starts an election that cannot succeed.", [R, S]),
    _bug(pre_vote_reply_wrong_term, "pre_vote",
         "A granted pre-vote answers in the server's own term, which the candidate takes for a "
         "stale reply: no pre-vote round is ever won, and no leader is elected.", [R, S, C]),
])
