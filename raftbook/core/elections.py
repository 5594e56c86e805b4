"""Elections beyond Figure 2: PreVote, CheckQuorum, leader transfer (thesis §3.10, §6.2, §9.6).

A node runs these steps instead of its plain ones only when it needs them
(``node._ext``: a membership change happened, or ``pre_vote``/``check_quorum`` is on),
so a cluster with the default options takes exactly its Figure 2 path. Each step
here still calls the node's rules (reference or a student's) for everything
Figure 2 says, and adds:

- PreVote: before raising its term, a server asks whether it could win; a server
  grants a pre-vote only to a log at least as up to date as its own, only for a
  term newer than its own, and only when it has not heard from a leader within the
  minimum election timeout. Nobody's term or vote changes in a pre-vote round.
- CheckQuorum: a leader that has not heard from a majority within an election
  timeout steps down.
- With either option on, a server that hears from a current leader ignores vote
  requests (thesis §4.2.3): a disruptive server cannot depose a healthy leader.
- Leader transfer: the leader stops taking proposals, brings the target up to
  date and sends it TimeoutNow; the target starts an election at once, and its
  vote requests say so, so that servers hearing from the old leader still answer.
- Membership: votes count only from the configuration in use (both halves during
  joint consensus); a server outside its configuration does not start elections;
  a new server catches up before the leader appends the configuration adding it.
"""
from __future__ import annotations

from dataclasses import replace

from . import membership
from .messages import (AppendEntries, AppendEntriesReply, InstallSnapshot, InstallSnapshotReply,
                       RequestVote, RequestVoteReply, TimeoutNow)
from .roles import Role
from .rules import adopt_newer_term


def uses_extensions(config) -> bool:
    """Does a node with this Config need the steps of this module from the start?"""
    return config.pre_vote or config.check_quorum


# ----------------------------------------------------------------------------- steps
def step(node, msg) -> list:
    """``node._step(msg)`` for a node with any rule beyond Figure 2 switched on."""
    kind = type(msg)
    if kind is AppendEntries:
        if msg.term >= node.current_term:
            node.pre_votes = None  # a leader of this term exists: no pre-vote round goes on
        out = node._call("append_entries", node._h_append_entries, msg)
    elif kind is AppendEntriesReply:
        out = node._call("append_entries_reply", node._h_append_entries_reply, msg)
        if node.role is Role.LEADER and msg.term == node.current_term:
            node.heard.add(msg.src)
            if node.learners:
                out = out + membership.caught_up(node)
            if node.transfer_to == msg.src:
                out = out + _maybe_timeout_now(node)
    elif kind is RequestVote:
        out = _request_vote(node, msg)
    elif kind is RequestVoteReply:
        out = _vote_reply(node, msg)
    elif kind is InstallSnapshot:
        if msg.term >= node.current_term:
            node.pre_votes = None  # as for AppendEntries: a leader of this term exists
        out = node._call("install_snapshot", node._h_install_snapshot, msg)
        if node.reconfig:
            membership.adopt_snapshot_configuration(node, msg)
    elif kind is InstallSnapshotReply:
        out = node._call("install_snapshot_reply", node._h_install_snapshot_reply, msg)
        if node.role is Role.LEADER and msg.term == node.current_term:
            node.heard.add(msg.src)  # CheckQuorum: the follower answered this leader
            if node.learners:
                out = out + membership.caught_up(node)
            if node.transfer_to == msg.src:
                out = out + _maybe_timeout_now(node)
    else:
        out = _timeout_now(node, msg)
    node.apply_committed()
    if node.reconfig:
        membership.refresh(node)
    return out


def _guarded(node) -> bool:
    return node.config.pre_vote or node.config.check_quorum


def _request_vote(node, msg) -> list:
    if msg.pre_vote:  # a replaceable rule (rules.handle_pre_vote is the reference)
        return node._call("pre_vote", node._h_pre_vote, msg)
    if _guarded(node) and msg.term > node.current_term and not msg.transfer and node.leader_alive():
        # Thesis §4.2.3: within the minimum election timeout of hearing from a leader, a
        # server neither updates its term nor grants its vote.
        node.note("vote_request_ignored_leader_alive", candidate=msg.src, msg_term=msg.term,
                  term=node.current_term, leader=node.leader_id)
        return []
    return node._call("request_vote", node._h_request_vote, msg)


def _vote_reply(node, msg) -> list:
    if msg.pre_vote:
        return _pre_vote_reply(node, msg)
    if node.reconfig and msg.term == node.current_term and node.role is Role.CANDIDATE:
        voters = node.members if node.members_old is None else node.members | node.members_old
        if msg.src not in voters:
            # Thesis §4.1: only the servers of the configuration in use vote.
            node.note("vote_ignored_not_member", voter=msg.src, term=node.current_term,
                      members=sorted(voters))
            return []
        if node.members_old is not None:
            return _joint_vote(node, msg)
    return node._call("request_vote_reply", node._h_request_vote_reply, msg)


def _joint_vote(node, msg) -> list:
    """A candidate during joint consensus needs a majority of C_old and of C_new (paper §6)."""
    if not msg.vote_granted:
        node.note("vote_denied_received", voter=msg.src, term=node.current_term,
                  votes=len(node.votes), needed=node.quorum)
        return []
    node.votes.add(msg.src)
    node.note("vote_received", voter=msg.src, term=node.current_term, votes=len(node.votes),
              needed=node.quorum)
    if membership.has_quorum(node, node.votes):
        return node.become_leader()
    return []


# ----------------------------------------------------------------------------- PreVote
def _pre_vote_reply(node, msg) -> list:
    granted = msg.vote_granted
    if not granted and adopt_newer_term(node, msg.term):  # a refusal from a newer term
        node.pre_votes = None
        return []
    # A pre-vote counts only in this server's round (granted for the term it asked about).
    if node.pre_votes is None or node.role is Role.LEADER or \
            (granted and msg.term != node.current_term + 1):
        node.note("reply_ignored_stale", sender=msg.src, msg_term=msg.term,
                  current_term=node.current_term, role=node.role.value, type="RequestVoteReply")
        return []
    if not granted:
        node.note("pre_vote_denied_received", voter=msg.src, term=node.current_term + 1)
        return []
    node.pre_votes.add(msg.src)
    ids = node.pre_votes
    node.note("pre_vote_received", voter=msg.src, term=msg.term, votes=len(ids & _voters(node)),
              needed=node.quorum)
    if membership.has_quorum(node, ids):
        node.pre_votes = None
        node.note("pre_vote_won", term=msg.term)
        return node.start_election()
    return []


def _voters(node):
    return node.members if node.members_old is None else node.members | node.members_old


def start_pre_vote(node) -> list:
    """Ask the configuration whether it would elect this server, without raising any term."""
    node.pre_votes = {node.id}
    node.reset_election_timer()
    term = node.current_term + 1
    node.note("pre_vote_started", term=term)
    if membership.has_quorum(node, node.pre_votes):
        node.pre_votes = None
        return node.start_election()
    li, lt = node.log.last_index, node.log.last_term
    return [RequestVote(node.id, p, term, li, lt, pre_vote=True) for p in _vote_targets(node)]


def _vote_targets(node):
    return node.peers if node._rv_targets is None else node._rv_targets


# ----------------------------------------------------------------------------- timers
def campaign(node) -> list:
    """The election timer fired: a pre-vote round, an election, or nothing for a non-member."""
    if node.reconfig and not membership.is_voter(node):
        # Thesis §4.2.2: a server outside its configuration does not start elections.
        node.note("election_skipped_not_member", term=node.current_term,
                  members=sorted(node.members))
        node.reset_election_timer()
        return []
    if node.config.pre_vote:
        return start_pre_vote(node)
    return node.start_election()


def tick(node) -> list:
    """``node.tick()`` with CheckQuorum, the end of a stalled transfer, and PreVote."""
    if node.role is Role.LEADER:
        out = []
        window = node.config.election_timeout[1]
        if node.config.check_quorum:
            node.quorum_elapsed += 1
            if node.quorum_elapsed >= window:
                heard = node.heard | {node.id}
                node.quorum_elapsed = 0
                node.heard = set()
                if not membership.has_quorum(node, heard) if node.reconfig else \
                        len(heard) < node.quorum:
                    # Thesis §6.2: no word from a majority within an election timeout.
                    node.note("stepped_down_no_quorum", term=node.current_term,
                              heard=sorted(heard), needed=node.quorum)
                    node.become_follower(node.current_term)
                    return []
        if node.transfer_to is not None:
            node.transfer_elapsed += 1
            if node.transfer_elapsed >= window:
                node.note("transfer_aborted", target=node.transfer_to, term=node.current_term)
                node.transfer_to = None
        node.heartbeat_elapsed += 1
        if node.heartbeat_elapsed >= node.config.heartbeat_interval:
            node.note("heartbeat_sent", term=node.current_term)
            return out + node.replicate()
        return out
    node.election_elapsed += 1
    if node.election_elapsed >= node.election_timeout:
        node.note("election_timeout", term=node.current_term, timeout=node.election_timeout)
        return campaign(node)
    return []


def became_leader(node) -> None:
    """Fresh leader bookkeeping for the rules of this module."""
    node.learners = {}
    node.joint_target = None
    node.transfer_to = None
    node.heard = set()
    node.quorum_elapsed = 0
    node.pre_votes = None
    if node.reconfig:
        membership._set_targets(node)


# ----------------------------------------------------------------------------- leader transfer
def transfer_problem(node, to: int) -> str | None:
    """Why ``node`` cannot hand leadership to ``to`` now, or None."""
    if node.role is not Role.LEADER:
        return f"S{node.id} is not the leader"
    if to == node.id:
        return f"S{to} is already the leader"
    if node.transfer_to is not None:
        return f"S{node.id} is already handing leadership to S{node.transfer_to}"
    if node.reconfig and to not in node.members:
        return f"S{to} is not a voting member ({membership._ids(node.members)})"
    return None


def transfer(node, to: int) -> list:
    """Leader: stop taking proposals, bring ``to`` up to date, then send it TimeoutNow (§3.10)."""
    node.transfer_to = to
    node.transfer_elapsed = 0
    node.transfer_sent = False
    node.note("transfer_started", target=to, term=node.current_term,
              match_index=node.match_index.get(to, 0), last_index=node.log.last_index)
    out = _maybe_timeout_now(node)
    if not out:
        out = [node.append_entries_for(to)]
    return out


def _maybe_timeout_now(node) -> list:
    to = node.transfer_to
    if node.transfer_sent or node.match_index.get(to, 0) < node.log.last_index:
        return []
    node.transfer_sent = True
    node.note("timeout_now_sent", target=to, term=node.current_term)
    return [TimeoutNow(node.id, to, node.current_term)]


def _timeout_now(node, msg) -> list:
    adopt_newer_term(node, msg.term)
    if msg.term < node.current_term or node.role is Role.LEADER:
        node.note("timeout_now_ignored", leader=msg.src, msg_term=msg.term,
                  term=node.current_term)
        return []
    if node.reconfig and not membership.is_voter(node):
        node.note("election_skipped_not_member", term=node.current_term,
                  members=sorted(node.members))
        return []
    node.note("timeout_now_received", leader=msg.src, term=node.current_term)
    node.pre_votes = None
    # Thesis §3.10: the target starts an election at once (no pre-vote), and says why.
    return [replace(m, transfer=True) if type(m) is RequestVote else m
            for m in node.start_election()]
