"""A server's whole state as one value, for the simulator's checkpoints and the explorer.

Not the paper's persistence (that is ``core/storage.py``): undo, goto and traces replay
from checkpoints, and a checkpoint holds every server's state, volatile parts included.
What only grows (the log, the reference rules' results) is shared, not copied.
"""
from __future__ import annotations

import itertools

from . import elections, membership
from .kv import StateMachine
from .log import RaftLog
from .quorum import majority


class Checkpointing:
    """Export and import of a RaftNode's state (a mixin: RaftNode is the only user)."""

    def _export(self):
        # Saved often (every checkpoint), so what only grows is shared, not copied: the log
        # (see RaftLog._share) and, under the reference rules, the results, whose keys are
        # added in index order and never rewritten (a restart starts a new dict).
        if self._custom:
            results = dict(self.results)
        else:
            results = (self.results, len(self.results))
        return (self.current_term, self.voted_for, self.log._share(), self.role,
                self.commit_index, self.last_applied, dict(self.kv), results,
                dict(self.next_index), dict(self.match_index), self.leader_id,
                frozenset(self.votes), self.heartbeat_elapsed, self.election_elapsed,
                self.election_timeout, self.snapshot_data, self._saved, self._export_beyond(),
                self.rng.getstate())  # the generator's state last: checkpoints pack it

    def _import(self, s):
        (self.current_term, self.voted_for, log, self.role, self.commit_index,
         self.last_applied, kv, results, next_index, match_index, self.leader_id, votes,
         self.heartbeat_elapsed, self.election_elapsed, self.election_timeout,
         self.snapshot_data, self._saved, beyond, rng) = s
        self.log = RaftLog._unshare(log)
        if type(results) is tuple:
            shared, count = results
            results = dict(itertools.islice(shared.items(), count))
        self.kv, self.results = StateMachine(kv), dict(results)
        self.next_index, self.match_index = dict(next_index), dict(match_index)
        self.votes = set(votes)
        self.rng.setstate(rng)
        # after the log: the configuration in use is read from it
        self._import_beyond(beyond)
        if self._reasons is not None:
            self._reasons = []

    def _export_beyond(self):
        """The state of the rules beyond Figure 2 (None while none is in use)."""
        if not self._ext:
            return None
        return (self.reconfig, dict(self.learners), self.joint_target, self.transfer_to,
                self.transfer_sent, self.transfer_elapsed, self.quorum_elapsed, frozenset(self.heard),
                None if self.pre_votes is None else frozenset(self.pre_votes))

    def _import_beyond(self, s) -> None:
        if s is None:
            self._ext = elections.uses_extensions(self.config)
            self.learners, self.joint_target, self.heard, self.pre_votes = {}, None, set(), None
            self.transfer_to = self.transfer_sent = None
            self.transfer_elapsed = self.quorum_elapsed = 0
            if self.reconfig:  # saved before membership was switched on: back to all servers
                self.reconfig = False
                self._h_advance_commit_index = self.handlers["advance_commit_index"]
                self.members, self.members_old, self.config_index = self.initial_members, None, 0
                self.quorum = majority(len(self.members))
                self._rv_targets = self._ae_targets = None
            return
        (reconfig, learners, self.joint_target, self.transfer_to, self.transfer_sent,
         self.transfer_elapsed, self.quorum_elapsed, heard, pre_votes) = s
        if reconfig:
            membership.enable(self)
        self.learners, self.heard = dict(learners), set(heard)
        self.pre_votes = None if pre_votes is None else set(pre_votes)
        if self.reconfig:
            membership.refresh(self, quiet=True)
            membership._set_targets(self)
