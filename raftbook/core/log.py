"""The replicated log, indexed from 1 as in the paper, with an optional snapshot prefix.

Indexes stay absolute after compaction (section 7 of the paper): once entries
1..snapshot_index are folded into a snapshot, the log holds only the entries
after it, ``first_index`` is ``snapshot_index + 1``, ``term_at(snapshot_index)``
still answers (it is the snapshot's lastIncludedTerm) and reading an entry
before that raises :class:`~raftbook.LogCompacted`.
"""
from __future__ import annotations

from ..errors import InvalidArgument, LogCompacted
from .messages import Entry


class LogIndexError(InvalidArgument, IndexError):
    """An index outside the log (still an IndexError, as sequences raise)."""


class LogTypeError(InvalidArgument, TypeError):
    """A log index that is not a whole number (still a TypeError)."""


def _compacted(index, snapshot_index) -> LogCompacted:
    return LogCompacted(
        f"entry {index} was compacted into the snapshot (it covers indexes 1..{snapshot_index}); "
        f"the log holds index {snapshot_index + 1} on: read the snapshot's state machine instead, "
        f"or log.term_at({snapshot_index}) for the term of its last entry",
        index=index, snapshot_index=snapshot_index)


class RaftLog:
    """A server's log of :class:`Entry` objects.

    ``log[i]`` is the entry at Raft index i (1-based); ``term_at(0) == 0``.
    ``snapshot_index``/``snapshot_term`` (the paper's lastIncludedIndex/Term, 0
    when there is no snapshot) say what the log's compacted prefix ends with.
    Changes go through :meth:`append`, :meth:`truncate_from`, :meth:`compact`
    and :meth:`install_snapshot` so the safety checker can see what changed
    (``changed_from``) without rescanning.
    """

    __slots__ = ("_entries", "changed_from", "truncations", "snapshot_index", "snapshot_term")

    def __init__(self, entries=()):
        self._entries: list[Entry] = []
        self.changed_from: int | None = None  # lowest index changed since the checker looked
        self.truncations = 0  # how many times a suffix was deleted (leader append-only)
        self.snapshot_index = 0  # lastIncludedIndex: entries 1..this are in the snapshot
        self.snapshot_term = 0  # lastIncludedTerm
        for e in entries:
            self.append(e)

    # -- reading -----------------------------------------------------------
    @property
    def first_index(self) -> int:
        """The first index the log still holds (1 without a snapshot)."""
        return self.snapshot_index + 1

    @property
    def last_index(self) -> int:
        return len(self._entries)

    @property
    def last_term(self) -> int:
        return self._entries[-1].term if self._entries else self.snapshot_term

    def term_at(self, index: int) -> int | None:
        """Term of the entry at ``index``; 0 for index 0, None past the end.

        At ``snapshot_index`` it is the snapshot's last included term; before
        that the entry is compacted (:class:`~raftbook.LogCompacted`).
        """
        if index == 0:
            return 0
        try:
            if 1 <= index <= len(self._entries):
                return self._entries[index - 1].term
        except TypeError:
            raise LogTypeError(f"log indexes are whole numbers (1 is the first entry); got {index!r}") from None
        if index < 0:
            raise LogIndexError(f"log indexes start at 1 (0 means 'before the first entry'), got {index}")
        return None

    def entries_from(self, index: int, limit: int | None = None) -> tuple:
        """The entries at ``index`` and after (at most ``limit``) as a tuple."""
        start = max(index, 1) - 1
        if limit is None:
            return tuple(self._entries[start:])
        return tuple(self._entries[start:start + limit])

    def first_index_of_term(self, term: int, upto: int) -> int:
        """The first index of the run of ``term`` entries that ends at ``upto`` (within the log)."""
        i = upto
        while i > 1 and self._entries[i - 2].term == term:
            i -= 1
        return i

    def last_index_of_term(self, term: int) -> int:
        """The last index holding ``term`` (the snapshot's last entry counts), or 0 when none."""
        for e in reversed(self._entries):
            if e.term == term:
                return e.index
            if e.term < term:
                return 0
        if self.snapshot_index and self.snapshot_term == term:
            return self.snapshot_index
        return 0

    def __getitem__(self, index: int) -> Entry:
        if isinstance(index, slice):
            raise LogTypeError("a log takes one index at a time: use log.entries_from(i) for a range "
                               "of entries")
        try:
            inside = 1 <= index <= len(self._entries)
        except TypeError:
            raise LogTypeError(f"log indexes are whole numbers (1 is the first entry); got {index!r}") from None
        if not inside:
            raise LogIndexError(f"no entry at index {index!r}: the log holds indexes 1..{len(self._entries)}")
        return self._entries[index - 1]

    def __iter__(self):
        """The entries the log holds (after the snapshot), in index order."""
        return iter(self._entries)

    def __len__(self):
        """How many entries the log holds (``last_index`` once compacted)."""
        return len(self._entries)

    def __eq__(self, other):
        if isinstance(other, RaftLog):
            return self._entries == other._entries and \
                (self.snapshot_index, self.snapshot_term) == (other.snapshot_index, other.snapshot_term)
        return NotImplemented

    def __repr__(self):
        body = ", ".join(f"{e.index}:t{e.term}" for e in self._entries)
        if self.snapshot_index:
            snap = f"snapshot..{self.snapshot_index}:t{self.snapshot_term}"
            body = snap + (", " + body if body else "")
        return f"RaftLog([{body}])"

    def terms(self) -> list[int]:
        """The terms of the entries the log holds."""
        return [e.term for e in self._entries]

    # -- changing ----------------------------------------------------------
    def _changed(self, index: int) -> None:
        if self.changed_from is None or index < self.changed_from:
            self.changed_from = index

    def append(self, entry: Entry) -> None:
        """Append one entry; its index must be the next one."""
        if type(entry) is not Entry:
            raise InvalidArgument(f"only Entry objects go in a log, got {entry!r}")
        expected = len(self._entries) + 1
        if entry.index != expected:
            raise InvalidArgument(
                f"entry index {entry.index} does not follow the log's last index {expected - 1}; "
                f"truncate first (log.truncate_from(i)) or append entry {expected}")
        self._entries.append(entry)
        if self.changed_from is None or expected < self.changed_from:
            self.changed_from = expected

    def truncate_from(self, index: int) -> None:
        """Delete the entry at ``index`` and every entry after it."""
        if not isinstance(index, int) or index < 1:
            raise InvalidArgument(f"truncate_from needs an index >= 1, got {index!r}")
        if index <= len(self._entries):
            # A new list, not ``del``: saved states share the old one (see _share).
            self._entries = self._entries[:index - 1]
            self.truncations += 1
            self._changed(index)

    def compact(self, index: int) -> None:
        """Fold entries 1..``index`` into the snapshot: the log keeps only what follows.

        ``index`` must be held (between ``snapshot_index`` and ``last_index``); the
        caller (the node) keeps the state machine that the snapshot stands for.
        """
        off = self.snapshot_index
        if not isinstance(index, int) or isinstance(index, bool) or not off <= index <= self.last_index:
            raise InvalidArgument(f"compact needs an index the log holds, {off}..{self.last_index}; "
                                  f"got {index!r}")
        if index == off:
            return
        term = self.term_at(index)
        self.__class__ = _CompactedLog
        self._entries = self._entries[index - off:]  # a new list (see _share)
        self.snapshot_index, self.snapshot_term = index, term
        self._changed(self.last_index + 1)  # nothing held changed; the checker looks at the snapshot

    def install_snapshot(self, index: int, term: int) -> None:
        """Discard the whole log for a snapshot ending at ``index`` with ``term`` (Figure 13, rule 7)."""
        if self._entries:
            self.truncations += 1
        self.__class__ = _CompactedLog
        self._entries = []
        self.snapshot_index, self.snapshot_term = index, term
        self._changed(index + 1)

    # -- snapshots ---------------------------------------------------------
    def _export(self):
        return (tuple(self._entries), self.truncations, self.snapshot_index, self.snapshot_term)

    @classmethod
    def _import(cls, state) -> "RaftLog":
        log = cls()
        log._entries = list(state[0])
        log.truncations = state[1]
        if len(state) > 2 and state[2]:
            log.snapshot_index, log.snapshot_term = state[2], state[3]
            log.__class__ = _CompactedLog
        return log

    def _share(self):
        """The log as it is now, in O(1) whatever its length, for the cluster's checkpoints.

        Entries are only ever appended to the list in place (truncation and
        compaction build a new list), so the list and its current length
        describe this moment for good.
        """
        return (self._entries, len(self._entries), self.truncations, self.snapshot_index,
                self.snapshot_term)

    @classmethod
    def _unshare(cls, state) -> "RaftLog":
        entries, length, truncations, snapshot_index, snapshot_term = state
        log = cls()
        log._entries = entries[:length]
        log.truncations = truncations
        if snapshot_index:
            log.snapshot_index, log.snapshot_term = snapshot_index, snapshot_term
            log.__class__ = _CompactedLog
        return log


class _CompactedLog(RaftLog):
    """A log with a snapshot: the same reads and changes, with indexes offset by the snapshot.

    A log becomes one the first time it is compacted (``__class__`` is switched,
    the slots are the same), so a log that never is keeps the plain code's speed.
    """

    __slots__ = ()

    @property
    def last_index(self) -> int:
        return self.snapshot_index + len(self._entries)

    def term_at(self, index: int) -> int | None:
        """Term of the entry at ``index``; 0 for index 0, None past the end.

        At ``snapshot_index`` it is the snapshot's last included term; before
        that the entry is compacted (:class:`~raftbook.LogCompacted`).
        """
        off = self.snapshot_index
        try:
            if off < index <= off + len(self._entries):
                return self._entries[index - off - 1].term
        except TypeError:
            raise LogTypeError(f"log indexes are whole numbers (1 is the first entry); got {index!r}") from None
        if index == off:
            return self.snapshot_term
        if index == 0:
            return 0
        if index < 0:
            raise LogIndexError(f"log indexes start at 1 (0 means 'before the first entry'), got {index}")
        if index < off:
            raise _compacted(index, off)
        return None

    def entries_from(self, index: int, limit: int | None = None) -> tuple:
        """The entries at ``index`` and after (at most ``limit``) as a tuple."""
        off = self.snapshot_index
        if off and index <= off:
            raise _compacted(index, off)
        start = max(index, 1) - 1 - off
        if limit is None:
            return tuple(self._entries[start:])
        return tuple(self._entries[start:start + limit])

    def first_index_of_term(self, term: int, upto: int) -> int:
        """The first index of the run of ``term`` entries that ends at ``upto`` (within the log)."""
        off = self.snapshot_index
        i = upto
        while i > off + 1 and self._entries[i - off - 2].term == term:
            i -= 1
        return i

    def __getitem__(self, index: int) -> Entry:
        if isinstance(index, slice):
            raise LogTypeError("a log takes one index at a time: use log.entries_from(i) for a range "
                               "of entries")
        off = self.snapshot_index
        try:
            inside = off < index <= off + len(self._entries)
        except TypeError:
            raise LogTypeError(f"log indexes are whole numbers (1 is the first entry); got {index!r}") from None
        if not inside:
            if 1 <= index <= off:
                raise _compacted(index, off)
            raise LogIndexError(f"no entry at index {index!r}: the log holds indexes "
                                f"{off + 1}..{off + len(self._entries)}")
        return self._entries[index - off - 1]

    def append(self, entry: Entry) -> None:
        """Append one entry; its index must be the next one."""
        if type(entry) is not Entry:
            raise InvalidArgument(f"only Entry objects go in a log, got {entry!r}")
        expected = self.snapshot_index + len(self._entries) + 1
        if entry.index != expected:
            raise InvalidArgument(
                f"entry index {entry.index} does not follow the log's last index {expected - 1}; "
                f"truncate first (log.truncate_from(i)) or append entry {expected}")
        self._entries.append(entry)
        if self.changed_from is None or expected < self.changed_from:
            self.changed_from = expected

    def truncate_from(self, index: int) -> None:
        """Delete the entry at ``index`` and every entry after it."""
        if not isinstance(index, int) or index < 1:
            raise InvalidArgument(f"truncate_from needs an index >= 1, got {index!r}")
        off = self.snapshot_index
        if index <= off:
            raise _compacted(index, off)
        if index <= off + len(self._entries):
            # A new list, not ``del``: saved states share the old one (see _share).
            self._entries = self._entries[:index - off - 1]
            self.truncations += 1
            self._changed(index)
