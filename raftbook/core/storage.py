"""A server's snapshot and stable storage: log compaction (section 7) and explicit persistence.

A mixin of :class:`raftbook.RaftNode`, kept apart so the node's Figure 2 code
stays short: taking a snapshot of the applied state machine, the InstallSnapshot
a leader sends (Figure 13), restoring the state machine on restart, and saving
(``persist``) and reloading the persistent state when ``Config(persistence=
"explicit")`` makes stable storage something a handler must ask for.
"""
from __future__ import annotations

from ..errors import InvalidState
from .kv import StateMachine
from . import membership
from .log import RaftLog
from .messages import InstallSnapshot, snapshot_data_copy


class Storage:
    """RaftNode methods for snapshots and stable storage (see the module docstring)."""

    __slots__ = ()

    @property
    def snapshot_index(self) -> int:
        """The last index the snapshot covers (the paper's lastIncludedIndex; 0: none)."""
        return self.log.snapshot_index

    @property
    def snapshot_term(self) -> int:
        """The term of the snapshot's last entry (lastIncludedTerm; 0: none)."""
        return self.log.snapshot_term

    def compact(self) -> None:
        """Snapshot the applied state machine now and drop the log entries it covers."""
        if self.last_applied <= self.log.snapshot_index:
            raise InvalidState(
                f"S{self.id} has applied nothing since its snapshot (last applied "
                f"{self.last_applied}, snapshot index {self.log.snapshot_index}): a snapshot holds "
                "applied entries only; let entries commit and apply first")
        self.take_snapshot()

    def take_snapshot(self, automatic: bool = False) -> None:
        """The snapshot of section 7: the state machine at last_applied replaces the log up to it."""
        log = self.log
        index, old = self.last_applied, log.snapshot_index
        results = self.results
        # The snapshot keeps the results of the entries it newly covers; the node keeps the rest.
        kept_results = [[i, r] for i, r in results.items() if old < i <= index]
        self.results = {i: r for i, r in results.items() if i > index}  # a new dict (see _export)
        data = {"kv": [[k, v] for k, v in self.kv.items()], "results": kept_results}
        if self.reconfig:  # section 7: the snapshot keeps the latest configuration it covers
            data[membership.CONFIG] = membership.configuration_for_snapshot(self, index)
        self.snapshot_data = data
        log.compact(index)
        self.note("snapshot_taken", index=index, term=log.snapshot_term, discarded=index - old,
                  kept=log.last_index - index, automatic=automatic)

    def snapshot_for(self, peer: int) -> InstallSnapshot:
        """The InstallSnapshot a leader sends ``peer`` whose next entry it has compacted (Figure 13)."""
        log = self.log
        self.note("snapshot_sent", follower=peer, index=log.snapshot_index, term=log.snapshot_term,
                  next_index=self.next_index.get(peer))
        return InstallSnapshot(self.id, peer, self.current_term, log.snapshot_index,
                               log.snapshot_term, snapshot_data_copy(self.snapshot_data))

    def _restore_state_machine(self) -> None:
        """Reset the state machine to the snapshot's contents (commit and apply start there)."""
        data = self.snapshot_data or {}
        self.kv = StateMachine((k, v) for k, v in data.get("kv", ()))
        self.results = {i: r for i, r in data.get("results", ())}
        self.commit_index = self.last_applied = self.log.snapshot_index

    def persist(self) -> None:
        """Save currentTerm, votedFor, the log and the snapshot on stable storage.

        Figure 2: persistent state is "updated on stable storage before responding
        to RPCs". With ``Config(persistence="auto")`` (the default) every change
        is saved at once and this does nothing; with "explicit" a crash keeps only
        what the last call saved, so a handler must call it before replying.
        """
        if not self._explicit:
            return
        log, saved = self.log, self._saved
        share = log._share()
        if saved is not None and saved[0] == self.current_term and saved[1] == self.voted_for \
                and saved[2][0] is share[0] and saved[2][1:] == share[1:] \
                and saved[3] is self.snapshot_data:
            return  # nothing new to save
        self._saved = (self.current_term, self.voted_for, share, self.snapshot_data)
        if saved is not None:
            self.note("state_saved", term=self.current_term, voted_for=self.voted_for,
                      last_index=log.last_index, snapshot_index=log.snapshot_index)

    @property
    def saved(self) -> dict | None:
        """What is on stable storage (explicit persistence; None in "auto" mode, where it
        is always the current state): term, vote, last index and snapshot index."""
        if not self._explicit or self._saved is None:
            return None
        term, voted, share, _ = self._saved
        return {"current_term": term, "voted_for": voted, "last_index": share[3] + share[1],
                "snapshot_index": share[3]}

    @property
    def unsaved(self) -> list:
        """What a crash now would lose (explicit persistence): names of the unsaved fields."""
        if not self._explicit or self._saved is None:
            return []
        term, voted, share, data = self._saved
        out = []
        if term != self.current_term:
            out.append("current_term")
        if voted != self.voted_for:
            out.append("voted_for")
        now = self.log._share()
        if share[0] is not now[0] or share[1:] != now[1:]:
            out.append("log")
        if data is not self.snapshot_data:
            out.append("snapshot")
        return out

    def _load_saved(self) -> None:
        """Explicit persistence: go back to what was last saved, saying what was lost."""
        lost = self.unsaved
        term, voted, share, data = self._saved
        if lost:
            self.note("unsaved_state_lost", lost=lost, old_term=self.current_term, term=term,
                      old_voted_for=self.voted_for, voted_for=voted,
                      old_last_index=self.log.last_index, last_index=share[3] + share[1])
        self.current_term, self.voted_for = term, voted
        self.log = RaftLog._unshare(share)
        self.snapshot_data = data
        self._saved = (term, voted, self.log._share(), data)  # what is on disk is this log

