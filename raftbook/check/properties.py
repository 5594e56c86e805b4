"""The five safety properties of Raft (Figure 3), each judged in one place.

Small pure functions over plain data (server ids, terms, indexes and log
entries compared by ``==``). Each returns None while its property holds and,
when it is broken, a :class:`SafetyViolation` whose message is the sentence
that says what broke. Three callers use them and so cannot disagree:

- :class:`raftbook.check.safety.SafetyMonitor`, after every event of a run;
- :func:`raftbook.check.safety.check_state`, on one state alone;
- :class:`raftbook.search.statespace.StateSpace`, on every search state.

The callers keep what is theirs: which history to remember and when to look
(the monitor's incremental speed and the explorer's encodings). The time and
event of a violation are stamped by the caller, who knows them.
"""
from __future__ import annotations

from ..errors import SafetyViolation


def _show(cmd) -> str:
    return "a no-op" if cmd is None else repr(cmd)


# -- election safety -------------------------------------------------------------------
def election_safety(term: int, first_leader, leader: int):
    """At most one leader per term: ``first_leader`` led ``term`` already, now ``leader`` does."""
    if first_leader is None or first_leader == leader:
        return None
    return SafetyViolation(
        "election_safety", f"election safety broken: S{first_leader} and S{leader} were both "
        f"leader in term {term}", nodes=(first_leader, leader), term=term)


# -- leader append-only --------------------------------------------------------------------
def leader_append_only(leader: int, term: int, old_length: int, new_length: int,
                       truncated: bool):
    """A leader, within its term, never deletes or overwrites entries of its own log."""
    if not truncated and new_length >= old_length:
        return None
    return SafetyViolation(
        "leader_append_only", f"leader append-only broken: S{leader}, leader of term {term}, "
        f"deleted entries from its own log (it had {old_length} entries, now {new_length})",
        nodes=(leader,), term=term, index=new_length + 1)


# -- log matching --------------------------------------------------------------------------
def entry_conflict(index: int, term: int, first: tuple, second: tuple):
    """Two logs with an entry of the same index and term agree on it and on what precedes it.

    ``first`` and ``second`` are ``(server, command, term of the entry before)``;
    agreeing on the entry before, at every index, is agreeing on the whole prefix.
    """
    (a, a_cmd, a_prev), (b, b_cmd, b_prev) = first, second
    if a_cmd == b_cmd and a_prev == b_prev:
        return None
    what = ("different commands" if a_cmd != b_cmd else
            f"different entries before it (terms {a_prev} and {b_prev} at index {index - 1})")
    return SafetyViolation(
        "log_matching", f"log matching broken: S{a} and S{b} both hold an entry at index {index} "
        f"with term {term}, but with {what}", nodes=(a, b), term=term, index=index)


def logs_disagree(a: int, log_a, b: int, log_b):
    """Log matching between two whole logs, given as sequences of ``(term, command)``.

    Where the two logs last hold entries of the same term they must be
    identical up to there.
    """
    for k in range(min(len(log_a), len(log_b)), 0, -1):
        term = log_a[k - 1][0]
        if term == log_b[k - 1][0]:
            if log_a[:k] == log_b[:k]:
                return None
            bad = next(x for x in range(k) if log_a[x] != log_b[x])
            return SafetyViolation(
                "log_matching", f"log matching broken: S{a} and S{b} agree on the term of the entry "
                f"at index {k} (term {term}) but differ at index {bad + 1}", nodes=(a, b),
                term=term, index=bad + 1)
    return None


# -- leader completeness -------------------------------------------------------------------
def leader_completeness(index: int, term: int, commit_term, leader: int, leader_term: int,
                        found_term, seen_on=None):
    """A leader holds every entry committed in an earlier term.

    The entry at ``index`` of ``term`` was committed in ``commit_term`` (None: in
    some term before ``leader_term``); ``found_term`` is the term the leader holds
    there (None when its log is shorter). ``seen_on`` is the server it was seen
    committed on, when known.
    """
    if found_term == term or (commit_term is not None and commit_term >= leader_term):
        return None
    has = "no entry" if found_term is None else f"an entry of term {found_term}"
    when = "in an earlier term" if commit_term is None else f"in term {commit_term}"
    where = "" if seen_on is None else f" (seen on S{seen_on})"
    return SafetyViolation(
        "leader_completeness", f"leader completeness broken: the entry at index {index} (term "
        f"{term}) was committed {when}{where}, but S{leader}, leader of term {leader_term}, has "
        f"{has} there", nodes=(leader,) if seen_on is None else (seen_on, leader),
        term=leader_term, index=index)


# -- state machine safety ------------------------------------------------------------------
def state_machine_safety(index: int, first: tuple, second: tuple):
    """No two servers apply different entries at one index.

    ``first`` and ``second`` are ``(server, term, command)`` of what each applied
    there; a ``first`` server of None stands for the entry committed there,
    which every server must apply.
    """
    (a, a_term, a_cmd), (b, b_term, b_cmd) = first, second
    if a_term == b_term and a_cmd == b_cmd:
        return None
    if a is None:
        return SafetyViolation(
            "state_machine_safety", f"state machine safety broken: index {index} holds "
            f"{_show(a_cmd)} (term {a_term}) committed, but S{b} applied {_show(b_cmd)} (term "
            f"{b_term})", nodes=(b,), term=b_term, index=index)
    return SafetyViolation(
        "state_machine_safety", f"state machine safety broken: S{a} applied {_show(a_cmd)} (term "
        f"{a_term}) at index {index}, but S{b} applied {_show(b_cmd)} (term {b_term})",
        nodes=(a, b), term=b_term, index=index)


# -- snapshots (section 7) -------------------------------------------------------------------
def snapshot_disagrees(server: int, index: int, term: int, committed, kv: dict, expected: dict):
    """A snapshot stands for the committed log up to its last index, applied in order.

    ``committed`` is ``(term, command)`` committed at ``index`` (None: nothing was
    committed there); ``kv`` the snapshot's state machine, ``expected`` what
    applying the committed entries 1..index gives. Judged as state machine safety:
    a snapshot is the state machine a restarted or lagging server starts from.
    """
    if committed is None:
        return SafetyViolation(
            "state_machine_safety", f"state machine safety broken: S{server}'s snapshot covers "
            f"indexes 1..{index} (last term {term}), but index {index} was never committed",
            nodes=(server,), term=term, index=index)
    if committed[0] != term:
        return SafetyViolation(
            "state_machine_safety", f"state machine safety broken: S{server}'s snapshot ends at "
            f"index {index} with term {term}, but the entry committed there has term {committed[0]}",
            nodes=(server,), term=term, index=index)
    if kv == expected:
        return None
    key = next(k for k in sorted(set(kv) | set(expected), key=repr) if kv.get(k) != expected.get(k))
    return SafetyViolation(
        "state_machine_safety", f"state machine safety broken: S{server}'s snapshot at index {index} "
        f"holds {key!r} = {kv.get(key)!r}, but applying the committed entries 1..{index} gives "
        f"{expected.get(key)!r}", nodes=(server,), term=term, index=index)
