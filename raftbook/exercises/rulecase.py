"""Layer 1 of every grader: one rule, one minimal state, one message.

A rule case builds a single :class:`RaftNode` in a chosen state (with
:func:`make_node`), hands the student's function one message, and compares
what came out with what Figure 2 of the paper demands. This is the only layer
that sees bugs a running cluster hides (a missing ``min(leaderCommit, index
of last new entry)``, counting replicas of an earlier term's entry).

Each case is a function ``case(kit)`` registered with :func:`rule_case`; the
``kit`` builds nodes, calls the handler and records what it expected. Terms
in a case are written relative to ``kit.T`` so a grader can shift them (the
hidden tests use other terms than the visible ones).
"""
from __future__ import annotations

import random
import re
from dataclasses import dataclass

from ..errors import HandlerError, InvalidArgument, RaftbookError
from ..core.config import Config
from ..core.messages import Entry
from ..core.node import RaftNode
from ..core.roles import Role
from ..core.rules import apply_committed as _apply
from .report import Finding, LayerResult
from .targets import config_of, handlers_for


def make_node(handlers=None, *, id: int = 1, n: int = 3, term: int = 0, voted_for=None,
              log=(), commit_index: int = 0, last_applied: int | None = None,
              role: str = "follower", leader_id=None, next_index=None, match_index=None,
              election_elapsed: int = 0, seed: int = 0, snapshot: int = 0,
              persistence: str = "auto", pre_vote: bool = False) -> RaftNode:
    """One server of an ``n``-server cluster in a chosen state, to try a handler by hand.

    ``log`` is a list of terms or ``(term, command)`` pairs; entries up to
    ``commit_index`` count as applied unless ``last_applied`` says otherwise.
    ``role`` is "follower", "candidate" or "leader"; a leader's
    ``next_index``/``match_index`` default to "everyone needs everything after
    my log" and 0, as just after an election. ``snapshot`` > 0 compacts entries
    1..snapshot (all applied) into a snapshot first, as section 7 does.
    ``persistence="explicit"`` builds it with ``Config(persistence="explicit")``, the
    chosen state saved (``node.saved``): a handler must call ``node.persist()`` itself.
    ``pre_vote=True`` builds it with ``Config(pre_vote=True)`` (thesis section 9.6), so a
    RequestVote with ``pre_vote=True`` reaches the "pre_vote" handler.
    """
    if not isinstance(n, int) or not 1 <= n <= 15:
        raise InvalidArgument(f"n is the number of servers, 1 to 15; got {n!r}")
    if not isinstance(id, int) or not 1 <= id <= n:
        raise InvalidArgument(f"id must be one of the servers 1..{n}; got {id!r}")
    try:
        role = Role(role)
    except ValueError:
        raise InvalidArgument(f"role must be 'follower', 'candidate' or 'leader'; got {role!r}") from None
    if persistence not in ("auto", "explicit"):
        raise InvalidArgument(f"persistence must be 'auto' or 'explicit'; got {persistence!r}")
    if not isinstance(pre_vote, bool):
        raise InvalidArgument(f"pre_vote must be True or False; got {pre_vote!r}")
    peers = [p for p in range(1, n + 1) if p != id]
    config = Config(persistence=persistence, pre_vote=pre_vote)
    node = RaftNode(id, peers, config=config, rng=random.Random(seed), handlers=handlers)
    node._reasons = None
    entries = []
    for k, item in enumerate(log, start=1):
        if isinstance(item, tuple):
            t, cmd = item
        else:
            t, cmd = item, None
        entries.append(Entry(k, t, cmd))
        node.log.append(entries[-1])
    node.log.changed_from = None
    if not isinstance(term, int) or term < node.log.last_term:
        raise InvalidArgument(f"term must be at least the last log term ({node.log.last_term}); got {term!r}")
    if not 0 <= commit_index <= node.log.last_index:
        raise InvalidArgument(f"commit_index must be between 0 and the log length {node.log.last_index}")
    node.current_term = term
    node.voted_for = voted_for
    node.role = role
    node.leader_id = leader_id
    node.commit_index = commit_index
    upto = commit_index if last_applied is None else last_applied
    if isinstance(snapshot, bool) or not isinstance(snapshot, int) or not 0 <= snapshot <= upto:
        raise InvalidArgument(f"snapshot must be an applied index, 0 to {upto}; got {snapshot!r}")
    saved = node.commit_index
    if snapshot:
        node.commit_index = snapshot
        _apply(node)
        node.take_snapshot()
    node.commit_index = upto
    _apply(node)  # the reference rule: setting up state never runs student code
    node.commit_index = saved
    if role is Role.CANDIDATE:
        node.votes = {id}
        if voted_for is None:
            node.voted_for = id
    if role is Role.LEADER:
        node.leader_id = id
        nxt = node.log.last_index + 1
        node.next_index = {p: nxt for p in peers}
        node.match_index = {p: 0 for p in peers}
        if next_index:
            node.next_index.update(next_index)
        if match_index:
            node.match_index.update(match_index)
    elif next_index or match_index:
        node.next_index = dict(next_index or {})
        node.match_index = dict(match_index or {})
    node.election_elapsed = election_elapsed
    node.heartbeat_elapsed = 0
    node.persist()  # explicit persistence: the chosen state is what is on stable storage
    return node


_MSG_RE = re.compile(r"\b(Entry|RequestVote|RequestVoteReply|AppendEntries|AppendEntriesReply|InstallSnapshot|InstallSnapshotReply)\(")


def _code(obj) -> str:
    return _MSG_RE.sub(r"rb.\1(", repr(obj))


class CaseFailed(Exception):
    """Raised inside a case to stop it at the first unmet expectation."""


class Kit:
    """What a rule case uses: build a node, call the handler, state expectations."""

    def __init__(self, name: str, fn, T: int):
        self.name = name
        self.fn = fn
        self.T = T
        self.situation = ""
        self.problems: list[str] = []
        self._setup: list[str] = []
        self._fn_name = getattr(fn, "__name__", "fn")

    def given(self, text: str) -> None:
        """Describe the situation of the case in words (shown with a finding)."""
        self.situation = text

    def node(self, **state) -> RaftNode:
        state = {**config_of(self.name), **state}
        node = make_node(handlers_for(self.name, self.fn), **state)
        args = ", ".join(f"{k}={v!r}" for k, v in state.items())
        self._setup = [f"node = rb.exercises.make_node({args})"]
        return node

    def call(self, node, msg=None) -> list:
        """Hand the handler one message (or, for commit/apply rules, just the node)."""
        if msg is not None:
            self._setup.append(f"{self._fn_name}(node, {_code(msg)})")
        else:
            self._setup.append(f"{self._fn_name}(node)")
        try:
            if self.name == "advance_commit_index":
                node.advance_commit_index()
                return []
            if self.name == "apply_committed":
                node._call("apply_committed", node._h_apply_committed)
                return []
            return node.step(msg)
        except HandlerError as exc:
            self.problems.append(str(exc))
            raise CaseFailed from None
        except RaftbookError as exc:
            self.problems.append(f"the handler left the node in a state the core rejects: {exc}")
            raise CaseFailed from None

    def expect(self, cond: bool, expected: str, got: str = "") -> None:
        if not cond:
            self.problems.append(f"Expected {expected}" + (f"; got {got}" if got else ""))
            raise CaseFailed

    def reply(self, out, cls, to: int, **fields):
        """Exactly one message of type ``cls`` to ``to``, with these field values."""
        sent = [m for m in out if isinstance(m, cls)]
        what = cls.__name__
        self.expect(len(sent) == 1 and sent[0].dst == to,
                    f"exactly one {what} sent to S{to}",
                    "no messages" if not out else ", ".join(_code(m) for m in out))
        m = sent[0]
        for k, v in fields.items():
            self.expect(getattr(m, k) == v, f"the {what} to have {k}={v!r}", f"{k}={getattr(m, k)!r}")
        return m

    def reproduce(self) -> str:
        return "\n".join(self._setup)


@dataclass(frozen=True)
class RuleCase:
    handler: str
    key: str
    rule: str
    fn: object

    def run(self, student_fn, T: int) -> Finding | None:
        kit = Kit(self.handler, student_fn, T)
        try:
            self.fn(kit)
        except CaseFailed:
            pass
        except Exception as exc:  # the handler broke the node so badly that checking it failed
            kit.problems.append(f"the handler left the node in a broken state ({type(exc).__name__}: "
                                f"{exc}); change its fields only as Figure 2 says")
        if not kit.problems:
            return None
        message = (kit.situation + ". " if kit.situation else "") + kit.problems[0] + "."
        return Finding("rules", self.key.replace("_", " "), self.rule, message, reproduce=kit.reproduce())


CASES: dict[str, list[RuleCase]] = {}


def rule_case(handler: str, rule: str):
    """Register ``fn(kit)`` as a rule case of ``handler`` checking ``rule``."""
    def deco(fn):
        CASES.setdefault(handler, []).append(RuleCase(handler, fn.__name__, rule, fn))
        return fn
    return deco


def run_rules(name: str, fn, seed: int = 0) -> LayerResult:
    """Every rule case of ``name``; terms shift by the seed (seed 0: the visible terms)."""
    T = seed % 10
    cases = CASES.get(name, [])
    result = LayerResult("rules", checks=len(cases))
    for case in cases:
        finding = case.run(fn, T)
        if finding is not None:
            result.findings.append(finding)
    return result
