"""Driving a cluster for a grader: scripted steps that stop at the first thing that goes wrong.

A :class:`Play` is the fault-campaign engine
(:class:`raftbook.search.faultrun.FaultRun`) on one cluster with the
student's handler plugged in, plus the grader's words for what went wrong and
its per-step expectations. Every step is an ordinary recorded cluster event,
so when a step fails (a safety property breaks, a handler raises, messages
flood the network, or an expectation is not met) the cluster's history up to
that point is the replayable run handed back to the student.
"""
from __future__ import annotations

import json

from ..core.describe import describe_message
from ..core.roles import Role
from ..explain.narrate import explain_violation
from ..search.faultrun import FaultRun, Halt, Trouble

#: Rules in plain words for each safety property, quoted in findings.
SAFETY_RULES = {
    "election_safety": "Election safety: at most one leader per term",
    "leader_append_only": "Leader append-only: a leader never deletes or overwrites its own entries",
    "log_matching": "Log matching: two logs with an entry of the same index and term agree up to it",
    "leader_completeness": "Leader completeness: a committed entry is in the log of every later leader",
    "state_machine_safety": "State machine safety: no two servers apply different entries at one index",
}


#: The rule a handler that raises (or breaks its server) has broken.
HANDLER_RULE = ("A handler runs without raising, returns a list of messages, and changes its server "
                "only as Figure 2 says")

#: Messages delivered per server per tick above which a run counts as flooding.
RATE_CAP = 8

#: Reasons too routine to quote as "what happened just before".
_DULL = frozenset({"heartbeat_sent", "applied", "leader_recognised"})


class Stop(Halt):
    """The play hit a problem; ``play.rule``/``play.message`` say which."""


def word(trouble: Trouble) -> tuple:
    """The rule a grader quotes for ``trouble``, and its message."""
    kind = trouble.kind
    if kind == "safety":
        prop = trouble.property
        return SAFETY_RULES.get(prop, prop), trouble.detail
    if kind == "flood":
        return ("The network must not flood",
                f"{trouble.count} messages are in flight at once (the cap is {trouble.cap}): "
                "a handler sends messages faster than they are answered (does it reply to replies, "
                "or resend on every message?)")
    if kind == "rate":
        return ("The network must not flood",
                f"{trouble.detail}, more than {trouble.cap} per server per tick (a healthy cluster "
                "needs about one): messages keep bouncing between servers (does the leader retry "
                "the same request forever, or answer replies?)")
    if kind == "not_leader":
        return "A leader is needed here", trouble.detail
    if kind == "refused":
        return "The run could not go on", f"{trouble.method} failed: {trouble.detail}"
    return HANDLER_RULE, trouble.detail  # a handler raised, or broke its server


class Play(FaultRun):
    """One cluster under test: the campaign engine, with the grader's words and expectations."""

    def __init__(self, cluster, flood_cap: int | None = None, net=None):
        super().__init__(cluster, net=net, flood_cap=flood_cap, rate_cap=RATE_CAP)
        self.rule: str | None = None
        self.message: str | None = None

    # -- failing -------------------------------------------------------------------
    def record(self, trouble: Trouble) -> None:
        self.trouble = trouble
        self.rule, self.message = word(trouble)

    def halt(self, trouble: Trouble):
        self.record(trouble)
        raise Stop

    def fail(self, rule: str, message: str):
        self.trouble = Trouble("expectation", None, message)
        self.rule, self.message = rule, message
        raise Stop

    def expect(self, cond, rule: str, message: str):
        if not cond:
            self.fail(rule, message)

    def do(self, method: str, *args, **kwargs):
        """Carry out one cluster call; a handler error or violation stops the play."""
        return self.call(method, *args, **kwargs)

    # -- delivering ----------------------------------------------------------------
    def find(self, kind: str, src: int, dst: int):
        for env in self.c.flight.values():
            m = env.msg
            if m.src == src and m.dst == dst and type(m).__name__ == kind:
                return env
        return None

    def deliver(self, kind: str, src: int, dst: int, why: str = ""):
        """Deliver the oldest in-flight ``kind`` message from ``src`` to ``dst``."""
        env = self.find(kind, src, dst)
        if env is None:
            self.fail("Each request gets an answer (Figure 2: every RPC has a reply)" if "Reply" in kind
                      else "Raft sends the messages of Figure 2",
                      f"expected a {kind} from S{src} to S{dst} in flight{why}, but there is none "
                      f"(in flight: {self.in_flight_text()})")
        self.do("deliver", env.id)

    def settle(self, until=None, limit: int = 500, what: str = ""):
        """Deliver messages oldest first until none are left (or ``until(cluster)``)."""
        for _ in range(limit):
            if until is not None and until(self.c):
                return
            if not self.c.flight:
                if until is None:
                    return
                self.fail("Raft makes progress while messages flow",
                          f"no messages are left in flight, but {what or 'the expected state'} was "
                          "never reached")
            self.do("deliver", next(iter(self.c.flight)))
        self.fail("The network must settle",
                  f"after {limit} deliveries messages were still flowing without "
                  f"{what or 'the cluster settling'}: servers keep answering each other without progress "
                  "(does the leader back off, and does a follower accept what it should?)")

    def run_until(self, pred, ticks: int, what: str = "", rule: str | None = None, **net) -> bool:
        """Run automatically until ``pred``; if it never holds, fail with ``rule`` (or return False)."""
        if self.run(ticks, pred, **net):
            return True
        if rule is not None:
            self.fail(rule, f"{what} did not happen within {ticks} ticks")
        return False

    def in_flight_text(self) -> str:
        envs = list(self.c.flight.values())
        if not envs:
            return "nothing"
        text = "; ".join(describe_message(e.msg) for e in envs[:6])
        return text + (f"; and {len(envs) - 6} more" if len(envs) > 6 else "")

    # -- reading ---------------------------------------------------------------------
    def trace(self) -> dict:
        """The run so far as plain JSON data (what a trace file holds)."""
        return json.loads(json.dumps(self.c.trace()))

    def leaders(self):
        return [i for i, n in self.c.nodes.items() if n.role is Role.LEADER and i not in self.c.crashed]

    def steps(self, count: int = 6) -> tuple:
        """What happened just before, as sentences.

        For a safety violation these are the steps that led to it
        (:func:`raftbook.explain_violation`, "!" marking a step that broke a
        rule); otherwise the reasons of the last events.
        """
        if self.c.violation is not None:
            lines = explain_violation(self.c, last=count).splitlines()[1:]
            return tuple(_plain(line.strip()) for line in lines if line.strip())
        steps = self._recent(count)
        if self.message:
            where = self.message.split(": ", 1)[-1] if self.trouble and self.trouble.kind in (
                "handler_error", "broken") else self.message
            if len(where) > 200:
                where = where[:197] + "..."
            steps += (f"{BROKE} t={self.c.now}: here the rule broke: {where}",)
        return steps

    def _recent(self, count: int) -> tuple:
        out = []  # [time, sentence, repeats], newest first
        for ev in reversed(self.c.history):
            for r in reversed(ev.reasons):
                if r.code in _DULL:
                    continue
                sentence = r.sentence()
                if out and out[-1][1] == sentence:
                    out[-1][0] = r.time
                    out[-1][2] += 1
                    continue
                if len(out) >= count:
                    return _steps(out)
                out.append([r.time, sentence, 1])
        return _steps(out)


#: Marks the step where the rule broke in a finding's steps (safety steps use "!").
BROKE = "»"


def _plain(sentence: str) -> str:
    """The explanation's words, said to the student whose function it was."""
    return sentence.replace("(seen from what the replaced handler did)", "(what your function did)")


def _steps(out) -> tuple:
    return tuple(_plain(f"t={t}: {text}") + (f" (seen {k} times in a row)" if k > 1 else "")
                 for t, text, k in reversed(out))


def converged(c, nodes=None) -> bool:
    """Every running server (or those named) holds the same log and commit index, all applied."""
    ids = [i for i in (nodes or c.nodes) if i not in c.crashed]
    first = c.nodes[ids[0]]
    last = first.log.last_index
    # Entries a server compacted are committed and applied: compare the indexes every log holds.
    start = max(c.nodes[i].log.snapshot_index for i in ids)
    terms = [first.log.term_at(k) for k in range(start, last + 1)]
    for i in ids:
        n = c.nodes[i]
        if n.log.last_index != last or n.commit_index != first.commit_index or \
                n.last_applied != n.commit_index or \
                [n.log.term_at(k) for k in range(start, last + 1)] != terms:
            return False
    return first.commit_index == last


def one_leader(c) -> bool:
    leaders = [i for i in c.running if c.nodes[i].role is Role.LEADER]
    if len(leaders) != 1:
        return False
    term = c.nodes[leaders[0]].current_term
    return all(c.nodes[i].current_term == term for i in c.running)

