"""The replicated log, indexed from 1 as in the paper."""
from __future__ import annotations

from ..errors import InvalidArgument
from .messages import Entry


class LogIndexError(InvalidArgument, IndexError):
    """An index outside the log (still an IndexError, as sequences raise)."""


class LogTypeError(InvalidArgument, TypeError):
    """A log index that is not a whole number (still a TypeError)."""


class RaftLog:
    """A server's log of :class:`Entry` objects.

    ``log[i]`` is the entry at Raft index i (1-based); ``term_at(0) == 0``.
    Changes go through :meth:`append` and :meth:`truncate_from` so the safety
    checker can see what changed (``changed_from``) without rescanning.
    """

    __slots__ = ("_entries", "changed_from", "truncations")

    def __init__(self, entries=()):
        self._entries: list[Entry] = []
        self.changed_from: int | None = None  # lowest index changed since the checker looked
        self.truncations = 0  # how many times a suffix was deleted (leader append-only)
        for e in entries:
            self.append(e)

    # -- reading -----------------------------------------------------------
    @property
    def last_index(self) -> int:
        return len(self._entries)

    @property
    def last_term(self) -> int:
        return self._entries[-1].term if self._entries else 0

    def term_at(self, index: int) -> int | None:
        """Term of the entry at ``index``; 0 for index 0, None past the end."""
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
        """The first index of the run of ``term`` entries that ends at ``upto``."""
        i = upto
        while i > 1 and self._entries[i - 2].term == term:
            i -= 1
        return i

    def last_index_of_term(self, term: int) -> int:
        """The last index holding ``term``, or 0 when the log has none."""
        for e in reversed(self._entries):
            if e.term == term:
                return e.index
            if e.term < term:
                break
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
        return iter(self._entries)

    def __len__(self):
        return len(self._entries)

    def __eq__(self, other):
        if isinstance(other, RaftLog):
            return self._entries == other._entries
        return NotImplemented

    def __repr__(self):
        body = ", ".join(f"{e.index}:t{e.term}" for e in self._entries)
        return f"RaftLog([{body}])"

    def terms(self) -> list[int]:
        return [e.term for e in self._entries]

    # -- changing ----------------------------------------------------------
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
            if self.changed_from is None or index < self.changed_from:
                self.changed_from = index

    # -- snapshots ---------------------------------------------------------
    def _export(self):
        return (tuple(self._entries), self.truncations)

    @classmethod
    def _import(cls, state) -> "RaftLog":
        log = cls()
        log._entries = list(state[0])
        log.truncations = state[1]
        return log

    def _share(self):
        """The log as it is now, in O(1) whatever its length, for the cluster's checkpoints.

        Entries are only ever appended to the list in place (truncation builds a
        new list), so the list and its current length describe this moment for good.
        """
        return (self._entries, len(self._entries), self.truncations)

    @classmethod
    def _unshare(cls, state) -> "RaftLog":
        entries, length, truncations = state
        log = cls()
        log._entries = entries[:length]
        log.truncations = truncations
        return log
