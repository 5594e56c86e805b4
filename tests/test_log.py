"""RaftLog: 1-based indexes, term lookups, append/truncate bookkeeping."""
import pytest

import raftbook as rb
from raftbook.log import RaftLog


def log_of(*terms):
    return RaftLog(rb.Entry(i, t) for i, t in enumerate(terms, start=1))


def test_indexes_start_at_one_and_term_at_zero_is_zero():
    log = log_of(1, 1, 2)
    assert (log.last_index, log.last_term) == (3, 2)
    assert log.term_at(0) == 0
    assert [log.term_at(i) for i in (1, 2, 3)] == [1, 1, 2]
    assert log.term_at(4) is None
    assert log[1] == rb.Entry(1, 1) and log[3].term == 2
    assert [e.index for e in log] == [1, 2, 3]


def test_empty_log():
    log = RaftLog()
    assert (log.last_index, log.last_term, len(log)) == (0, 0, 0)
    assert log.term_at(0) == 0 and log.term_at(1) is None
    assert log.entries_from(1) == ()


def test_bad_indexes_say_what_is_valid():
    log = log_of(1, 2)
    with pytest.raises(IndexError, match=r"1\.\.2"):
        log[3]
    with pytest.raises(IndexError, match=r"1\.\.2"):
        log[0]
    with pytest.raises(IndexError, match="start at 1"):
        log.term_at(-1)
    with pytest.raises(TypeError, match="entries_from"):
        log[1:2]


def test_append_needs_the_next_index_and_an_entry():
    log = log_of(1)
    with pytest.raises(rb.InvalidArgument, match="does not follow"):
        log.append(rb.Entry(3, 1))
    with pytest.raises(rb.InvalidArgument, match="only Entry"):
        log.append((2, 1, None))
    assert log.terms() == [1]


def test_entries_from_and_limit():
    log = log_of(1, 1, 2, 3)
    assert [e.index for e in log.entries_from(2)] == [2, 3, 4]
    assert [e.index for e in log.entries_from(2, limit=2)] == [2, 3]
    assert log.entries_from(5) == ()
    assert [e.index for e in log.entries_from(0)] == [1, 2, 3, 4]


def test_truncate_counts_only_real_deletions():
    log = log_of(1, 1, 2, 3)
    log.changed_from = None
    log.truncate_from(5)  # nothing there: not a truncation
    assert log.truncations == 0 and log.changed_from is None
    log.truncate_from(3)
    assert log.terms() == [1, 1] and log.truncations == 1 and log.changed_from == 3
    with pytest.raises(rb.InvalidArgument):
        log.truncate_from(0)


def test_changed_from_tracks_the_lowest_change():
    log = log_of(1, 1)
    assert log.changed_from == 1
    log.changed_from = None
    log.append(rb.Entry(3, 2))
    assert log.changed_from == 3
    log.truncate_from(2)
    assert log.changed_from == 2


def test_term_runs_for_fast_backup():
    log = log_of(1, 1, 4, 4, 4, 5)
    assert log.first_index_of_term(4, 5) == 3
    assert log.first_index_of_term(1, 2) == 1
    assert log.last_index_of_term(4) == 5
    assert log.last_index_of_term(2) == 0   # no term-2 entries
    assert log.last_index_of_term(9) == 0


def test_equality_and_export_round_trip():
    log = log_of(1, 2, 2)
    log.truncate_from(3)
    copy = RaftLog._import(log._export())
    assert copy == log and copy.truncations == 1
    assert log != log_of(1, 2, 3)
    assert "1:t1" in repr(log)


def test_bad_indexes_are_raftbook_errors_too():
    log = log_of(1, 2)
    for call in (lambda: log[0], lambda: log[9], lambda: log.term_at(-1)):
        with pytest.raises(rb.RaftbookError):
            call()
    for call in (lambda: log["1"], lambda: log.term_at("1"), lambda: log[1:2]):
        with pytest.raises(rb.InvalidArgument, match="one index|whole numbers"):
            call()
        with pytest.raises(TypeError):
            call()
