"""RaftNode: one Raft server as a pure step function.

Each input (a tick, a message, a client proposal) is one call that changes the
node's state and returns the messages to send. The node never reads a clock,
never sleeps and draws every random number from the ``rng`` it was given.

The rules of Figure 2 that students re-implement live in :mod:`raftbook.rules`
as plain functions ``fn(node, msg)``; a node calls whichever function its
``handlers`` name, so one rule can be swapped while the rest stays reference.
"""
from __future__ import annotations

import random

from . import elections, membership, rules
from .fastpath import draw_timeout, step_reference
from .config import Config
from ..errors import HandlerError, InvalidArgument, InvalidState, NotLeader
from .kv import StateMachine, validate_command
from .log import RaftLog
from .messages import (AppendEntries, AppendEntriesReply, Entry, InstallSnapshot,
                       InstallSnapshotReply, RequestVote, RequestVoteReply, is_message)
from .checkpoint import Checkpointing
from .storage import Storage
from .quorum import majority
from .roles import Role


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


_COUNT_FIELDS = {
    RequestVote: ("last_log_index", "last_log_term"),
    AppendEntries: ("prev_log_index", "prev_log_term", "leader_commit"),
    AppendEntriesReply: ("match_index", "conflict_index", "conflict_term"),
    InstallSnapshot: ("last_included_index", "last_included_term"),
    InstallSnapshotReply: ("match_index",),
}


def snapshot_data_problem(data) -> str | None:
    """What is wrong with an InstallSnapshot's ``data``, in words, or None."""
    if not isinstance(data, dict) or not isinstance(data.get("kv"), (list, tuple)):
        return 'data is {"kv": [[key, value], ...], "results": [[index, result], ...]}'
    for name in ("kv", "results"):
        for pair in data.get(name, ()):
            if not isinstance(pair, (list, tuple)) or len(pair) != 2:
                return f"data[{name!r}] holds {pair!r}, which is not a [key, value] pair"
    return None


def message_problem(msg) -> str | None:
    """What is wrong with a message's fields, in words, or None when it is well formed.

    Checked where messages enter from outside the simulator (``RaftNode.step``)
    and where a replaced handler sends them; the reference core never builds a
    malformed one.
    """
    if not (_is_int(msg.src) and _is_int(msg.dst) and msg.src >= 1 and msg.dst >= 1):
        return "src and dst are server ids (whole numbers >= 1)"
    if not _is_int(msg.term) or msg.term < 0:
        return "term is a whole number >= 0"
    for name in _COUNT_FIELDS.get(type(msg), ()):
        v = getattr(msg, name)
        if not _is_int(v) or v < 0:
            return f"{name} is a whole number >= 0"
    kind = type(msg)
    if kind is AppendEntries:
        entries = msg.entries
        if not isinstance(entries, tuple):
            return "entries is a tuple of Entry"
        prev_term = msg.prev_log_term
        for k, e in enumerate(entries, start=msg.prev_log_index + 1):
            if type(e) is not Entry:
                return f"entries holds {e!r}, which is not an Entry"
            if e.index != k:
                return f"entries must follow prev_log_index with consecutive indexes ({k} expected, got {e.index})"
            if not _is_int(e.term) or not prev_term <= e.term <= msg.term:
                return (f"entry {e.index} has term {e.term!r}: terms never decrease along a log and "
                        f"never exceed the message's term")
            prev_term = e.term
            if e.command is not None:
                try:
                    membership.validate_entry_command(e.command)
                except InvalidArgument as exc:
                    return f"entry {e.index} holds a bad command ({exc})"
    elif kind is InstallSnapshot:
        if msg.last_included_index < 1 or not 1 <= msg.last_included_term <= msg.term:
            return ("last_included_index is >= 1 and last_included_term between 1 and the "
                    "message's term")
        if msg.offset != 0 or msg.done is not True:
            return "raftbook sends a snapshot in one chunk: offset=0 and done=True"
        return snapshot_data_problem(msg.data)
    elif kind is RequestVoteReply or kind is AppendEntriesReply:
        flag = "vote_granted" if kind is RequestVoteReply else "success"
        if not isinstance(getattr(msg, flag), bool):
            return f"{flag} is True or False"
    return None


def _check_members(members, everyone) -> frozenset:
    try:
        ids = frozenset(members)
    except TypeError:
        raise InvalidArgument(f"members is a collection of server ids, got {members!r}") from None
    if not ids or not ids <= everyone:
        raise InvalidArgument(f"members must be a non-empty subset of the servers "
                              f"{sorted(everyone)}; got {sorted(ids, key=repr)}")
    return ids


class RaftNode(Storage, Checkpointing):
    """One Raft server. State is named as in Figure 2 of the paper.

    Persistent (survives :meth:`restart`): ``current_term``, ``voted_for``, ``log``
    and the snapshot (``snapshot_index``, ``snapshot_term``, ``snapshot_data``).
    Volatile (rebuilt on restart): ``role``, ``commit_index``, ``last_applied``,
    ``kv``, ``next_index``, ``match_index``, ``leader_id``, the election timer.
    With ``Config(persistence="explicit")`` a restart brings back only what the
    node last saved with :meth:`persist`.
    """

    def __init__(self, node_id, peers, config=None, rng=None, handlers=None, members=None):
        if not _is_int(node_id) or node_id < 1:
            raise InvalidArgument(f"node ids are whole numbers >= 1, got {node_id!r}")
        try:
            peer_ids = tuple(sorted(set(peers)))
        except TypeError:
            raise InvalidArgument(f"peers must be a collection of node ids, got {peers!r}") from None
        if not all(_is_int(p) and p >= 1 for p in peer_ids):
            raise InvalidArgument(f"peer ids are whole numbers >= 1, got {peers!r}")
        if node_id in peer_ids:
            raise InvalidArgument(f"a node is not its own peer: {node_id} appears in peers {peers!r}")
        if config is None:
            config = Config()
        if not isinstance(config, Config):
            raise InvalidArgument(f"config must be a raftbook.Config, got {type(config).__name__}")
        if rng is None:
            rng = random.Random(node_id)
        if not isinstance(rng, random.Random):
            raise InvalidArgument(f"rng must be a random.Random, got {type(rng).__name__}")
        self.id = node_id
        self.peers = peer_ids
        self.config = config
        self.rng = rng
        self.handlers = rules.resolve_handlers(handlers)
        h = self.handlers
        self._custom = {name for name, fn in h.items() if fn is not rules.reference_handlers_all[name]}
        self._h_request_vote = h["request_vote"]
        self._h_request_vote_reply = h["request_vote_reply"]
        self._h_append_entries = h["append_entries"]
        self._h_append_entries_reply = h["append_entries_reply"]
        self._h_advance_commit_index = h["advance_commit_index"]
        self._h_apply_committed = h["apply_committed"]
        self._h_install_snapshot = h["install_snapshot"]
        self._h_install_snapshot_reply = h["install_snapshot_reply"]
        self._h_pre_vote = h["pre_vote"]
        self._threshold = config.snapshot_threshold
        self._explicit = config.persistence == "explicit"
        self.quorum = majority(len(peer_ids) + 1)
        self._reasons: list | None = []
        # Beyond Figure 2 (core/membership.py, core/elections.py): off unless asked for.
        everyone = frozenset((node_id, *peer_ids))
        self.initial_members = everyone if members is None else _check_members(members, everyone)
        self.members, self.members_old, self.config_index = self.initial_members, None, 0
        self.reconfig = False
        self._ext = elections.uses_extensions(config)
        self._rv_targets = self._ae_targets = None
        # Persistent state on all servers.
        self.current_term = 0
        self.voted_for: int | None = None
        self.log = RaftLog()
        self.snapshot_data: dict | None = None  # the state machine at snapshot_index (JSON data)
        self._saved = None  # explicit persistence: what persist() last saved
        self._reset_volatile()
        if self._explicit:
            self.persist()
        if members is not None:
            membership.enable(self)

    def _reset_volatile(self):
        self.role = Role.FOLLOWER
        self.commit_index = 0
        self.last_applied = 0
        self.kv: dict = StateMachine()
        self.results: dict = {}  # index -> result of applying that entry
        self.next_index: dict = {}
        self.match_index: dict = {}
        self.leader_id: int | None = None
        self.votes: set = set()  # who granted this candidate a vote in current_term
        self.heartbeat_elapsed = 0
        self.election_elapsed = 0
        self.election_timeout = draw_timeout(self.rng, self.config.election_timeout)
        # Volatile state of the rules beyond Figure 2 (core/membership.py, core/elections.py).
        self.learners: dict = {}  # leader: new server -> index it must reach before it is added
        self.joint_target = None  # leader: the configuration a joint change is heading for
        self.transfer_to = self.transfer_sent = None  # leader: the server leadership goes to
        self.transfer_elapsed = self.quorum_elapsed = 0
        self.heard: set = set()  # leader (CheckQuorum): who answered in this election timeout
        self.pre_votes: set | None = None  # pre-vote round: who granted it

    # -- reasons -------------------------------------------------------------
    def note(self, code: str, **fields) -> None:
        """Record why the node did something (a rule of Figure 2); see raftbook.reasons."""
        if self._reasons is not None:
            self._reasons.append((code, fields))

    def take_reasons(self) -> list:
        """The reasons noted since the last call, oldest first."""
        out = self._reasons
        if not out:
            return []
        self._reasons = []
        return out

    # -- inputs --------------------------------------------------------------
    def tick(self) -> list:
        """One tick of logical time: heartbeats on a leader, the election timer elsewhere.

        With ``Config(snapshot_threshold=k)`` a server that has applied k entries past
        its snapshot compacts its log first (in the background, as real servers do).
        """
        if self._threshold is not None and \
                self.last_applied - self.log.snapshot_index >= self._threshold:
            self.take_snapshot(automatic=True)
        if self._ext:  # PreVote, CheckQuorum, transfer, membership (core/elections.py)
            return elections.tick(self)
        if self.role is Role.LEADER:
            self.heartbeat_elapsed += 1
            if self.heartbeat_elapsed >= self.config.heartbeat_interval:
                self.note("heartbeat_sent", term=self.current_term)
                return self.replicate()
            return []
        self.election_elapsed += 1
        if self.election_elapsed >= self.election_timeout:
            self.note("election_timeout", term=self.current_term, timeout=self.election_timeout)
            return self.start_election()
        return []

    def timeout(self) -> list:
        """The election timer fires now (a follower or candidate only)."""
        if self.role is Role.LEADER:
            raise InvalidState(f"S{self.id} is the leader of term {self.current_term}; "
                               "a leader has no election timer to fire")
        self.note("election_timeout", term=self.current_term, timeout=self.election_timeout,
                  forced=True)
        if self._ext:  # a pre-vote round, or nothing on a server outside its configuration
            return elections.campaign(self)
        return self.start_election()

    def step(self, msg) -> list:
        """Handle one message addressed to this node; return the messages to send."""
        if not is_message(msg):
            raise InvalidArgument(f"step() takes a raftbook message (RequestVote, ...), got {msg!r}")
        problem = message_problem(msg)
        if problem:
            raise InvalidArgument(f"malformed {type(msg).__name__}: {problem}; got {msg!r}")
        if msg.dst != self.id:
            raise InvalidArgument(f"this message is addressed to S{msg.dst}, not to S{self.id}")
        if msg.src not in self.peers:
            raise InvalidArgument(f"this message comes from S{msg.src}, which is not a peer of "
                                  f"S{self.id} (its peers are {list(self.peers)})")
        return self._step(msg)

    def _step(self, msg) -> list:
        """step() without the checks, for messages the simulator's own nodes sent.

        The node does not settle terms here: each rule applies the term rule
        itself (``rules.adopt_newer_term``), so a replaced rule may forget it.
        """
        if self._ext:  # rules beyond Figure 2 are on (core/elections.py)
            return elections.step(self, msg)
        if not self._custom:  # only reference rules: the same steps, faster (core/fastpath.py)
            return step_reference(self, msg)
        kind = type(msg)
        if kind is AppendEntries:
            out = self._call("append_entries", self._h_append_entries, msg)
        elif kind is AppendEntriesReply:
            out = self._call("append_entries_reply", self._h_append_entries_reply, msg)
        elif kind is RequestVote:
            out = self._call("request_vote", self._h_request_vote, msg)
        elif kind is RequestVoteReply:
            out = self._call("request_vote_reply", self._h_request_vote_reply, msg)
        elif kind is InstallSnapshot:
            out = self._call("install_snapshot", self._h_install_snapshot, msg)
        else:
            out = self._call("install_snapshot_reply", self._h_install_snapshot_reply, msg)
        self.apply_committed()
        return out

    def propose(self, command) -> Entry:
        """Append a client command to the leader's log; replicate with :meth:`replicate`."""
        command = validate_command(command)
        if self.role is not Role.LEADER:
            hint = self.leader_id
            where = f"the last leader it heard from is S{hint}" if hint else "it knows of no leader"
            raise NotLeader(f"S{self.id} is a {self.role.value}, not the leader: {where}. "
                            "Send the command to the leader.", leader_hint=hint)
        if self.transfer_to is not None:  # thesis 3.10: a leader handing over takes no proposals
            raise InvalidState(f"S{self.id} is handing leadership to S{self.transfer_to} and takes "
                               "no proposals; send the command to the new leader")
        entry = Entry(self.log.last_index + 1, self.current_term, command)
        self.log.append(entry)
        self.note("proposal_appended", index=entry.index, term=entry.term, command=command)
        self.persist()  # the leader counts itself among the replicas: save the entry first
        self.advance_commit_index()
        self.apply_committed()
        return entry

    def restart(self) -> None:
        """Come back after a crash: persistent state kept, volatile state rebuilt.

        In explicit persistence the persistent state is what :meth:`persist` last
        saved; a snapshot, if any, restores the state machine (section 7).
        """
        if self._explicit:
            self._load_saved()
        self._reset_volatile()
        log = self.log
        if log.snapshot_index:
            self.note("restarted", term=self.current_term, log_length=log.last_index,
                      snapshot_index=log.snapshot_index)
            self._restore_state_machine()
            self.note("state_machine_restored", index=log.snapshot_index, term=log.snapshot_term,
                      keys=len(self.kv))
        else:
            self.note("restarted", term=self.current_term, log_length=log.last_index)

    # -- building blocks the rules use ---------------------------------------
    def become_follower(self, term: int) -> None:
        """Adopt ``term`` if it is newer (clearing the vote) and become a follower."""
        if term > self.current_term:
            self.note("term_adopted", old_term=self.current_term, new_term=term,
                      role=self.role.value)
            self.current_term = term
            self.voted_for = None
            self.leader_id = None
        was_leader = self.role is Role.LEADER
        if self.role is not Role.FOLLOWER:
            self.note("stepped_down", term=self.current_term, role=self.role.value)
            self.role = Role.FOLLOWER
            self.votes = set()
        if was_leader:  # a leader's timer was not running: start it afresh
            self.reset_election_timer()

    def reset_election_timer(self) -> None:
        """Restart the election timer with a freshly drawn random timeout."""
        self.election_elapsed = 0
        self.election_timeout = draw_timeout(self.rng, self.config.election_timeout)

    def start_election(self) -> list:
        """Become a candidate in a new term, vote for yourself, ask everyone else."""
        self.role = Role.CANDIDATE
        self.current_term += 1
        self.voted_for = self.id
        self.votes = {self.id}
        self.leader_id = None
        self.reset_election_timer()
        self.note("election_started", term=self.current_term)
        self.persist()  # the new term and the vote for itself, before asking anyone
        if membership.has_quorum(self, self.votes) if self.reconfig else len(self.votes) >= self.quorum:
            return self.become_leader()
        last_index, last_term = self.log.last_index, self.log.last_term
        self.note("vote_requested", term=self.current_term,
                  peers=list(self.peers if self._rv_targets is None else self._rv_targets),
                  last_log_index=last_index, last_log_term=last_term)
        return [RequestVote(self.id, p, self.current_term, last_index, last_term)
                for p in (self.peers if self._rv_targets is None else self._rv_targets)]

    def become_leader(self) -> list:
        """Won the election: set up next/match index, append a no-op, send AppendEntries."""
        self.role = Role.LEADER
        self.leader_id = self.id
        nxt = self.log.last_index + 1
        self.next_index = {p: nxt for p in self.peers}
        self.match_index = {p: 0 for p in self.peers}
        self.note("became_leader", term=self.current_term, votes=sorted(self.votes),
                  needed=self.quorum)
        if self._ext:
            elections.became_leader(self)
        self.log.append(Entry(nxt, self.current_term, None))
        self.note("noop_appended", index=nxt, term=self.current_term)
        self.persist()
        self.advance_commit_index()
        return self.replicate()

    def append_entries_for(self, peer: int) -> AppendEntries:
        """The AppendEntries this leader sends ``peer`` now, from ``next_index[peer]``.

        When that entry is compacted it is the InstallSnapshot instead (Figure 13).
        """
        ni = self.next_index[peer]
        if ni <= self.log.snapshot_index:
            return self.snapshot_for(peer)
        prev = ni - 1
        prev_term = self.log.term_at(prev)
        if prev_term is None or prev < 0:
            raise HandlerError(
                f"next_index[{peer}] = {ni} on leader S{self.id}, but its log ends at "
                f"{self.log.last_index}: next_index must stay between 1 and last_index + 1")
        return AppendEntries(self.id, peer, self.current_term, prev, prev_term,
                             self.log.entries_from(ni, self.config.max_entries), self.commit_index)

    def replicate(self) -> list:
        """Send every follower an AppendEntries now (a heartbeat if it is up to date)."""
        if self.role is not Role.LEADER:
            raise InvalidState(f"S{self.id} is not the leader; only a leader sends AppendEntries")
        self.heartbeat_elapsed = 0
        return [self.append_entries_for(p) for p in (self.peers if self._ae_targets is None
                                                     else self._ae_targets)]

    def advance_commit_index(self) -> None:
        """Run the (possibly student-supplied) rule that advances a leader's commit_index."""
        self._call("advance_commit_index", self._h_advance_commit_index)

    def apply_committed(self) -> None:
        """Apply newly committed entries to the key-value state machine, in order."""
        if self.last_applied < self.commit_index:
            self._call("apply_committed", self._h_apply_committed)

    # -- handler plumbing ------------------------------------------------------
    def _call(self, name, fn, msg=None):
        if name not in self._custom:
            return fn(self) if msg is None else fn(self, msg)
        if self._reasons is None:
            return self._call_custom(name, fn, msg)
        # A replaced handler seldom says why it acts: infer the reasons from what it did.
        from ..explain.inferred import infer, observe
        before, mark = observe(self), len(self._reasons)
        out = self._call_custom(name, fn, msg)
        infer(self, name, msg, before, out, mark)
        return out

    def _call_custom(self, name, fn, msg):
        try:
            out = fn(self) if msg is None else fn(self, msg)
        except HandlerError:
            raise
        except Exception as exc:
            raise HandlerError(f"the {name!r} handler {getattr(fn, '__name__', fn)!r} raised "
                               f"{type(exc).__name__}: {exc}") from exc
        if msg is None:
            if out is not None:
                raise HandlerError(f"the {name!r} handler must return None (it changes the "
                                   f"node in place), but returned {out!r}")
            return None
        if not isinstance(out, (list, tuple)):
            raise HandlerError(f"the {name!r} handler must return a list of messages to send, "
                               f"but returned {out!r}")
        for m in out:
            if not is_message(m):
                raise HandlerError(f"the {name!r} handler returned {m!r}, which is not a message")
            if m.src != self.id:
                raise HandlerError(f"the {name!r} handler on S{self.id} returned a message with "
                                   f"src={m.src}; messages a node sends have src = node.id")
            if m.dst not in self.peers:
                raise HandlerError(f"the {name!r} handler on S{self.id} addressed a message to "
                                   f"{m.dst!r}, which is not one of its peers {list(self.peers)}")
            problem = message_problem(m)
            if problem:
                raise HandlerError(f"the {name!r} handler on S{self.id} returned a malformed "
                                   f"{type(m).__name__}: {problem}; got {m!r}")
        return list(out)

    # -- inspection ------------------------------------------------------------
    @property
    def ticks_until_timeout(self) -> int | None:
        """Ticks left before the election timer fires (None on a leader)."""
        if self.role is Role.LEADER:
            return None
        return max(self.election_timeout - self.election_elapsed, 0)

    def leader_alive(self) -> bool:
        """Has this server heard from a current leader within the minimum election timeout?

        A leader counts itself. Thesis section 4.2.3: while this holds, a server neither
        grants a pre-vote nor (with PreVote or CheckQuorum on) answers a vote request.
        """
        if self.role is Role.LEADER:
            return True
        return self.leader_id is not None and self.election_elapsed < self.config.election_timeout[0]

    def state(self) -> dict:
        """All of the node's Figure 2 state as a plain dict (for tables and details)."""
        return {
            "id": self.id, "role": self.role.value, "current_term": self.current_term,
            "voted_for": self.voted_for, "log": [(e.index, e.term, e.command) for e in self.log],
            "snapshot_index": self.log.snapshot_index, "snapshot_term": self.log.snapshot_term,
            "commit_index": self.commit_index, "last_applied": self.last_applied,
            "next_index": dict(self.next_index), "match_index": dict(self.match_index),
            "leader_id": self.leader_id, "kv": dict(self.kv),
            "election_elapsed": self.election_elapsed, "election_timeout": self.election_timeout,
        }

    def __repr__(self):
        return (f"<RaftNode S{self.id} {self.role.value} term={self.current_term} "
                f"log={self.log.last_index} commit={self.commit_index}>")

    # -- snapshots (used by Cluster for undo and restore) ------------------------

