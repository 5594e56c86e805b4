"""Budgets and state checks around every call of a graded function.

A grader never calls a student's function bare: :class:`Guard` wraps it so that

* one call that runs longer than ``Limits.call_ms`` is stopped (a watchdog
  timer on the main thread) and becomes the finding "did not return within
  N ms"; after that every further call of the same grade fails at once with
  the same words, so a looping function costs one budget, not one per check;
* the whole grade stops once ``Limits.grade_s`` seconds have passed
  (:class:`GradeOvertime` ends the layer that was running; the grader turns it
  into a finding);
* a call may return at most ``Limits.max_messages`` messages;
* after every call the server's Figure 2 state is checked: ``role`` is a
  :class:`Role`, terms are whole numbers that never decrease, the log is a log
  whose terms never decrease and never pass the current term, the commit index
  lies within the log, and so on. A violation is a finding naming the field,
  never a crash somewhere further on.

Every such problem is raised as a :class:`~raftbook.errors.HandlerError`, the
error the core already reports for a handler that raises, so every layer
words it the same way.
"""
from __future__ import annotations

import functools
import gc
import signal
import threading
import time
from dataclasses import dataclass

from ..core import rules as _rules
from ..core.log import RaftLog
from ..core.messages import Entry
from ..core.roles import Role
from ..errors import HandlerError
from . import delegation
from .targets import handler_of


@dataclass(frozen=True)
class Limits:
    """How much one grade may spend on a student's function."""

    #: Milliseconds one call may take (a correct handler needs microseconds).
    call_ms: int = 250
    #: Seconds a whole grade call may take before it stops with a finding.
    grade_s: float = 8.0
    #: Messages one call may return (a server answers one message, or writes to each peer).
    max_messages: int = 64


DEFAULT_LIMITS = Limits()


class _CallOvertime(BaseException):
    """Raised by the watchdog inside a call that ran past its budget (not an Exception,
    so a student's ``except Exception`` cannot swallow it)."""


class GradeOvertime(BaseException):
    """The whole grade ran past ``Limits.grade_s``; the grader stops the layer that was running."""


#: How many guarded calls are running (the watchdog fires only inside one: a signal that
#: arrives just after a call returned must not land in the grader's own code).
_IN_CALL = [0]


def _on_alarm(signum, frame):
    if _IN_CALL[0] > 0:
        raise _CallOvertime()


def _can_use_alarm() -> bool:
    return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()


class Guard:
    """One grade's budget: ``wrap(name, fn)`` gives the function the grader plugs in."""

    def __init__(self, limits: Limits = DEFAULT_LIMITS):
        self.limits = limits
        self.start = time.monotonic()
        self.deadline = self.start + limits.grade_s
        self.overtime: str | None = None  # the words of the first call that ran out of time
        self.delegated: str | None = None  # set when the reference rule ran inside the function
        self.calls = 0

    def expired(self) -> bool:
        return time.monotonic() > self.deadline

    # Installing the watchdog's signal handler once per grade (``with guard:``) rather than once
    # per call saves most of its cost; outside a ``with`` each call installs it itself.
    _installed = False

    def __enter__(self):
        if _can_use_alarm():
            self._old = signal.signal(signal.SIGALRM, _on_alarm)
            self._installed = True
        return self

    def __exit__(self, *exc):
        if self._installed:
            signal.setitimer(signal.ITIMER_REAL, 0, 0)
            signal.signal(signal.SIGALRM, self._old)
            self._installed = False
        return False

    def wrap(self, name: str, fn, trip: bool = True):
        """``fn`` with budgets and state checks; ``trip``: catch calls of the reference of ``name``."""
        guard = self
        limits = self.limits
        with_msg = name not in ("advance_commit_index", "apply_committed")
        call_s = limits.call_ms / 1000.0
        ref = _rules.reference_handlers_all.get(handler_of(name)) if trip else None
        if ref is not None:
            delegation.arm()
            ref_code = ref.__code__
        hits = delegation.HITS

        def run(node, *args):
            if guard.overtime is not None:
                raise HandlerError(guard.overtime)
            if time.monotonic() > guard.deadline:
                raise GradeOvertime()
            guard.calls += 1
            before = node.current_term
            installed = guard._installed
            alarm = installed or _can_use_alarm()
            tripped = len(hits)
            started = time.monotonic()
            try:
                if alarm:
                    if not installed:
                        old = signal.signal(signal.SIGALRM, _on_alarm)
                    # Fire again every budget, in case the function swallows the first one.
                    signal.setitimer(signal.ITIMER_REAL, call_s, call_s)
                if ref is not None:
                    ref.__code__ = delegation.TRIP_CODE
                # The collector would charge the call for the grader's garbage (a full collection
                # can take a good part of the budget): it waits until the call returns.
                collecting = gc.isenabled()
                gc.disable()
                _IN_CALL[0] += 1
                try:
                    out = fn(node, *args)
                finally:
                    _IN_CALL[0] -= 1
                    if collecting:
                        gc.enable()
                    if ref is not None:
                        ref.__code__ = ref_code
                    if alarm:
                        signal.setitimer(signal.ITIMER_REAL, 0, 0)
                        if not installed:
                            signal.signal(signal.SIGALRM, old)
            except _CallOvertime:
                out = _OVERTIME
            except delegation.Delegated:
                out = None
            if len(hits) > tripped:
                guard.delegated = delegation.DELEGATED.format(ref=ref.__name__)
                raise HandlerError(guard.delegated)
            if out is _OVERTIME or (time.monotonic() - started) > call_s:
                guard.overtime = (f"the {name!r} handler {_fn_name(fn)!r} did not return within "
                                  f"{limits.call_ms} ms (is there a loop that never ends?); "
                                  "a correct handler needs well under a millisecond")
                raise HandlerError(guard.overtime)
            if with_msg and isinstance(out, (list, tuple)) and len(out) > limits.max_messages:
                raise HandlerError(f"the {name!r} handler {_fn_name(fn)!r} returned {len(out)} "
                                   f"messages in one call; a server sends at most one message "
                                   f"per peer (the cap is {limits.max_messages})")
            problem = state_problem(node, before)
            if problem:
                raise HandlerError(f"the {name!r} handler {_fn_name(fn)!r} left S{node.id} in a "
                                   f"state Figure 2 does not allow: {problem}")
            return out

        if with_msg:
            @functools.wraps(fn)
            def guarded(node, msg):
                return run(node, msg)
        else:
            @functools.wraps(fn)
            def guarded(node):
                return run(node)
        guarded.__wrapped__ = fn
        return guarded


_OVERTIME = object()


def _fn_name(fn) -> str:
    return getattr(fn, "__name__", None) or type(fn).__name__


def _whole(x) -> bool:
    return type(x) is int


def state_problem(node, term_before: int | None = None) -> str | None:
    """What is wrong with ``node``'s Figure 2 state, in words naming the field, or None."""
    role = node.role
    if type(role) is not Role:
        return (f"node.role is {role!r} ({type(role).__name__}); it must be a Role: "
                "Role.FOLLOWER, Role.CANDIDATE or Role.LEADER (become_follower(term) sets it for you)")
    term = node.current_term
    if not _whole(term) or term < 0:
        return f"node.current_term is {term!r}; it must be a whole number >= 0"
    if term_before is not None and _whole(term_before) and term < term_before:
        return (f"node.current_term went down from {term_before} to {term}; "
                "a server's term never decreases")
    members = (node.id, *node.peers)
    vote = node.voted_for
    if vote is not None and (not _whole(vote) or vote not in members):
        return f"node.voted_for is {vote!r}; it must be None or a server id of the cluster {list(members)}"
    log = node.log
    if not isinstance(log, RaftLog):
        return (f"node.log is {log!r} ({type(log).__name__}); it must stay the server's log: change it "
                "with node.log.append(Entry(...)) and node.log.truncate_from(index)")
    entries = getattr(log, "_entries", None)
    if not isinstance(entries, list):
        return "node.log's entries were replaced; change the log only with append and truncate_from"
    snap = log.snapshot_index
    prev = log.snapshot_term
    for k, e in enumerate(entries, start=snap + 1):
        if type(e) is not Entry or e.index != k or not _whole(e.term):
            return f"node.log holds {e!r} at index {k}; a log holds Entry(index, term, command) in order"
        if e.term < prev:
            return (f"node.log has term {e.term} at index {k} after term {prev}; "
                    "the terms along a log never decrease")
        prev = e.term
    if prev > term:
        return (f"node.log's last entry has term {prev}, after the server's current term {term}; "
                "adopt a newer term (become_follower) before appending its entries")
    last = snap + len(entries)
    ci = node.commit_index
    if not _whole(ci) or not 0 <= ci <= last:
        return f"node.commit_index is {ci!r}; it must be a whole number from 0 to the log's last index {last}"
    la = node.last_applied
    if not _whole(la) or not 0 <= la <= ci:
        return f"node.last_applied is {la!r}; it must be a whole number from 0 to commit_index {ci}"
    if la < snap:
        return (f"node.last_applied is {la}, below the snapshot's last index {snap}: entries "
                f"{la + 1}..{snap} are in the snapshot and can never be applied from the log; a server "
                "that installs a snapshot resets its state machine from the snapshot's data and sets "
                "last_applied (and commit_index) to its last index (Figure 13, rule 8)")
    for field in ("kv", "results", "next_index", "match_index"):
        value = getattr(node, field, None)
        if not isinstance(value, dict):
            return f"node.{field} is {value!r}; it must stay a dict"
    if role is Role.LEADER:
        for field in ("next_index", "match_index"):
            d = getattr(node, field)
            for p in node.peers:
                v = d.get(p)
                if not _whole(v) or v < 0:
                    return f"node.{field}[{p}] is {v!r}; a leader keeps a whole number for every peer"
    leader = node.leader_id
    if leader is not None and (not _whole(leader) or leader not in members):
        return f"node.leader_id is {leader!r}; it must be None or a server id of the cluster"
    return None
