"""Layer 3 of every grader: seeded random fault campaigns, minimized when they fail.

A campaign runs a cluster with the student's handler through a seeded
``swarm`` schedule (:mod:`raftbook.search.faults`): stretches of automatic
running over a lossy, duplicating, reordering network, forced election
timeouts, crashes, restarts, partitions and client proposals, each drawn from
what makes sense at that moment. The safety monitor judges every event. Then
the network heals, every server restarts, and the cluster must elect a
leader, commit a proposal (liveness) and run on without flooding the network
with messages.

The running is the one campaign engine (:class:`.play.Play` is a
:class:`raftbook.search.faultrun.FaultRun`) and the shrinking the one
minimizer (:mod:`raftbook.search.minimize`) that ``rb.campaign`` uses; this
module adds the liveness phase and the grader's words.
"""
from __future__ import annotations

from ..search.faults import SwarmProfile as Profile
from ..search.faults import swarm
from ..search.minimize import Budget, shrink
from ..sim.cluster import Cluster
from .play import Play, converged, one_leader
from .report import Finding, LayerResult
from .scenes import broken_finding

#: The healthy network of the liveness phase (each campaign's faulty one comes from its Profile).
CALM_NET = dict(latency=(1, 2))
LIVENESS_TICKS = 200
#: Simulated work (ticks plus deliveries) that minimizing one failing campaign may spend: it
#: keeps grading fast, deterministically, even for a handler that keeps the network busy.
MINIMIZE_WORK = 12_000
CHAOS_STEPS = 50
STEADY_TICKS = 30
SUFFIX = (("heal_all",), ("await_leader",), ("await_commit",), ("steady",))

NO_LEADER = "Liveness (section 5.2): once the network heals and every server runs, a leader is elected"
NO_COMMIT = "Liveness (section 5.3): a healthy cluster commits what a client proposes"


class _Campaign(Play):
    """The engine with the liveness phase's actions (the :data:`SUFFIX`) added."""

    def act(self, action: tuple) -> None:
        kind = action[0]
        c = self.c
        if kind == "heal_all":
            if c.groups is not None:
                self.do("heal")
            for i in sorted(c.crashed):
                self.do("restart", i)
        elif kind == "await_leader":
            self.run_until(one_leader, LIVENESS_TICKS, "electing a leader after the network healed",
                           NO_LEADER, **CALM_NET)
        elif kind == "steady":  # a healthy cluster settles into heartbeats: no flood builds up
            self.run_until(lambda c: False, STEADY_TICKS, **CALM_NET)
        elif kind == "await_commit":
            if c.leader is None:
                self.fail(NO_LEADER, "no leader to propose to after the network healed")
            _await_commit(self)
        else:
            super().act(action)


def _await_commit(p: Play) -> None:
    """Propose like a client would (again, if a leader change loses it) until it commits."""
    c = p.c
    deadline = c.now + LIVENESS_TICKS
    prop = None
    tries = 0
    while True:
        if prop is None or c.status(prop) == "lost":
            if c.leader is None and not p.run_until(lambda c: c.leader is not None, deadline - c.now,
                                                    **CALM_NET):
                p.fail(NO_LEADER, f"no leader to take a client's proposal within {LIVENESS_TICKS} ticks "
                       "after the network healed")
            tries += 1
            prop = p.do("propose", ("set", "final", tries))
        done = p.run_until(lambda c: c.status(prop) == "lost" or
                           (c.status(prop) == "committed" and converged(c)), deadline - c.now, **CALM_NET)
        if done and c.status(prop) == "committed":
            return
        if c.now >= deadline:
            p.fail(NO_COMMIT, f"a client's proposal (to S{prop.node}, {tries} tries) was not committed "
                   f"and applied on every server within {LIVENESS_TICKS} ticks of a healthy network")


def _start(name: str, fn, n: int, seed: int, reasons: bool = False) -> _Campaign:
    profile = Profile(seed)
    c = Cluster(n, seed=seed, config=profile.config, handlers={name: fn}, record_reasons=reasons)
    return _Campaign(c, net=profile.net)


def replay(name: str, fn, n: int, seed: int, actions, reasons: bool = False) -> Play:
    """Carry out ``actions`` on a fresh cluster; ``play.rule`` is set if it failed."""
    return _start(name, fn, n, seed, reasons).play(actions)


def _outcome(p: Play):
    if p.rule is None:
        return None
    v = p.c.violation
    return (p.rule, v.property if v is not None else None)


def run_campaign(name: str, fn, seed: int, n: int, steps: int = CHAOS_STEPS):
    """One seeded campaign; returns None or a Finding with the shortest failing run found."""
    p = _start(name, fn, n, seed)
    p.play(swarm(seed, p.c, steps, Profile(seed)))
    # ``chaos`` ends at the action that failed if the failure came during the chaos phase;
    # then the liveness phase never ran and replays can leave it out.
    chaos = list(p.actions)
    in_chaos = p.trouble is not None
    if not in_chaos:
        p.play(SUFFIX)
    if p.trouble is None:
        return None
    if p.trouble.kind == "broken":  # a server's state broken beyond what the core can run
        return broken_finding("campaigns", f"seed {seed}", p, p.trouble.error)
    outcome = _outcome(p)
    suffix = [] if in_chaos else list(SUFFIX)
    liveness = p.rule in (NO_LEADER, NO_COMMIT)
    budget = Budget(40 if liveness else 120, work=MINIMIZE_WORK)

    def fails(sub):
        q = replay(name, fn, n, seed, list(sub) + suffix)
        budget.charge(q.c)
        return _outcome(q) == outcome

    small = shrink(chaos, fails, budget) if chaos else chaos
    final = replay(name, fn, n, seed, list(small) + suffix, reasons=True)
    if _outcome(final) != outcome:  # cannot happen for a deterministic handler; keep the original
        final = replay(name, fn, n, seed, chaos + suffix, reasons=True)
    message = (f"campaign seed {seed} ({n} servers): {final.message}. The shortest failing run found has "
               f"{len(final.c.history)} events")
    return Finding("campaigns", f"seed {seed}", final.rule, message, trace=final.trace(),
                   steps=final.steps())


def campaign_seeds(seed: int, count: int) -> list:
    return [seed * 1000 + k + 1 for k in range(count)]


def run_campaigns(name: str, fn, seed: int = 0, count: int = 16, stop_after: int = 1) -> LayerResult:
    """``count`` campaigns (3 and 5 servers alternately); stop after ``stop_after`` failures."""
    result = LayerResult("campaigns")
    for k, s in enumerate(campaign_seeds(seed, count)):
        result.checks += 1
        finding = run_campaign(name, fn, s, 3 if k % 2 == 0 else 5)
        if finding is not None:
            result.findings.append(finding)
            if len(result.findings) >= stop_after:
                break
    return result
