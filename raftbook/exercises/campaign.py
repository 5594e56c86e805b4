"""Layer 3 of every grader: seeded random fault campaigns, minimized when they fail.

A campaign runs a cluster with the student's handler through a seeded
sequence of actions: stretches of automatic running over a lossy,
duplicating, reordering network, forced election timeouts, crashes,
restarts, partitions and client proposals. The safety monitor judges every
event. Then the network heals, every server restarts, and the cluster must
elect a leader, commit a proposal (liveness) and run on without flooding the
network with messages.

Actions name what to do, not which message id to touch, so any subsequence
of them still replays; that is what lets :func:`ddmin` (Zeller's delta
debugging) cut a failing campaign down to a short run that fails the same way.
"""
from __future__ import annotations

import random

from ..sim.cluster import Cluster
from ..core.config import Config
from ..errors import HandlerError
from ..core.roles import Role
from .play import HANDLER_RULE, Play, Stop, converged, one_leader
from .report import Finding, LayerResult

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


class Profile:
    """What one campaign stresses, drawn from its seed.

    Swarm testing: each campaign leaves some faults out and leans on others,
    which finds more than one mix used everywhere. Election timeouts are short
    (6-12 ticks, heartbeats every 2) so elections, and trouble, are frequent;
    some campaigns send one entry per AppendEntries, so logs catch up slowly.
    """

    def __init__(self, seed: int):
        rng = random.Random(seed * 7919 + 17)
        max_entries = rng.choice((None, None, 1))
        # One entry per AppendEntries makes a leader send again on each success, so duplicated
        # replies multiply requests; keep duplication light there.
        dup = (0.0, 0.05) if max_entries else (0.0, 0.1, 0.3)
        self.net = dict(latency=(1, rng.choice((2, 4, 8))), drop_rate=rng.choice((0.0, 0.1, 0.2)),
                        duplicate_rate=rng.choice(dup))
        self.config = Config(election_timeout=(6, 12), heartbeat_interval=2, max_entries=max_entries)
        self.weights = {"run": 8, "propose": rng.choice((3, 6, 10)),
                        "timeout": rng.choice((0, 2, 4)), "crash": rng.choice((0, 1, 2)),
                        "restart": 2, "partition": rng.choice((0, 2, 3)), "heal": rng.choice((1, 2))}


def _choose(rng: random.Random, c: Cluster, counter: list, profile: Profile) -> tuple:
    """One random action that makes sense in the cluster's current state.

    Clients propose to every server that believes it leads (a stale leader cut
    off by a partition too), so logs diverge the way Figures 7 and 8 show.
    """
    n = c.n
    w = profile.weights
    running = c.running
    options = [(w["run"], ("run", rng.randint(1, 4)))]
    followers = [i for i in running if c.nodes[i].role is not Role.LEADER]
    if followers:
        options.append((w["timeout"], ("timeout", rng.choice(followers))))
    if len(c.crashed) < (n - 1) // 2 and running:
        options.append((w["crash"], ("crash", rng.choice(running))))
    if c.crashed:
        options.append((w["restart"], ("restart", rng.choice(sorted(c.crashed)))))
    if c.groups is None and n > 2:
        ids = list(c.nodes)
        rng.shuffle(ids)
        cut = rng.randint(1, n - 1)
        options.append((w["partition"], ("partition", (tuple(sorted(ids[:cut])), tuple(sorted(ids[cut:]))))))
    else:
        options.append((w["heal"], ("heal",)))
    leaders = [i for i in running if c.nodes[i].role is Role.LEADER]
    if leaders:
        counter[0] += 1
        options.append((w["propose"], ("propose", ("set", f"k{rng.randint(0, 3)}", counter[0]),
                                       rng.choice(leaders))))
    options = [(wt, a) for wt, a in options if wt > 0]
    total = sum(wt for wt, _ in options)
    r = rng.uniform(0, total)
    for wt, action in options:
        r -= wt
        if r <= 0:
            return action
    return options[-1][1]


def _execute(p: Play, action: tuple, net=None) -> None:
    """Carry out one action; an action that no longer fits the state is skipped."""
    c = p.c
    kind = action[0]
    if kind == "run":
        _run(p, action[1], net)
    elif kind == "timeout":
        i = action[1]
        if i not in c.crashed and c.nodes[i].role is not Role.LEADER:
            p.do("timeout", i)
    elif kind == "crash":
        i = action[1]
        if i not in c.crashed and len(c.crashed) < (c.n - 1) // 2:
            p.do("crash", i)
    elif kind == "restart":
        if action[1] in c.crashed:
            p.do("restart", action[1])
    elif kind == "partition":
        if c.groups is None:
            p.do("partition", *[set(g) for g in action[1]])
    elif kind == "heal":
        if c.groups is not None:
            p.do("heal")
    elif kind == "propose":
        i = action[2]
        if i not in c.crashed and c.nodes[i].role is Role.LEADER:
            p.do("propose", action[1], node=i)
    elif kind == "heal_all":
        if c.groups is not None:
            p.do("heal")
        for i in sorted(c.crashed):
            p.do("restart", i)
    elif kind == "await_leader":
        p.run_until(one_leader, LIVENESS_TICKS, "electing a leader after the network healed",
                    NO_LEADER, **CALM_NET)
    elif kind == "steady":  # a healthy cluster settles into heartbeats: no flood builds up
        p.run_until(lambda c: False, STEADY_TICKS, **CALM_NET)
    elif kind == "await_commit":
        if c.leader is None:
            p.fail(NO_LEADER, "no leader to propose to after the network healed")
        _await_commit(p)


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


def _run(p: Play, ticks: int, net) -> None:
    cap = p.flood_cap
    flight = p.c.flight
    try:
        p.c.run_until(lambda c: len(flight) > cap or c.violation is not None, ticks, **net)
    except HandlerError as exc:
        p.fail(HANDLER_RULE, str(exc))
    p.check()


def _work(c: Cluster) -> int:
    """Ticks simulated plus messages delivered: what a replay cost, measured without a clock."""
    return c.now + sum(ev.stats.get("delivered", 0) for ev in c.history) + len(c.history)


def replay(name: str, fn, n: int, seed: int, actions, reasons: bool = False) -> Play:
    """Carry out ``actions`` on a fresh cluster; ``play.rule`` is set if it failed."""
    profile = Profile(seed)
    c = Cluster(n, seed=seed, config=profile.config, handlers={name: fn}, record_reasons=reasons)
    p = Play(c)
    try:
        for a in actions:
            _execute(p, a, profile.net)
    except Stop:
        pass
    except Exception as exc:
        p.rule, p.message = HANDLER_RULE, f"{type(exc).__name__}: {exc}"
    return p


def _outcome(p: Play):
    if p.rule is None:
        return None
    v = p.c.violation
    return (p.rule, v.property if v is not None else None)


def ddmin(items: list, fails, budget: int) -> list:
    """Delta debugging: a shorter list on which ``fails`` still holds (1-minimal within budget)."""
    k = 2
    calls = 0
    while len(items) >= 2 and calls < budget:
        size = len(items) // k
        chunks = [items[i:i + size] for i in range(0, len(items), size)] if size else [items]
        reduced = False
        for i in range(len(chunks)):
            if calls >= budget:
                break
            rest = [x for j, ch in enumerate(chunks) if j != i for x in ch]
            calls += 1
            if rest and fails(rest):
                items, k, reduced = rest, max(k - 1, 2), True
                break
        if not reduced:
            if k >= len(items):
                break
            k = min(len(items), 2 * k)
    return items


def run_campaign(name: str, fn, seed: int, n: int, steps: int = CHAOS_STEPS):
    """One seeded campaign; returns None or a Finding with the shortest failing run found."""
    rng = random.Random(seed)
    profile = Profile(seed)
    c = Cluster(n, seed=seed, config=profile.config, handlers={name: fn}, record_reasons=False)
    p = Play(c)
    chaos: list = []
    counter = [0]
    in_chaos = True
    try:
        for _ in range(steps):
            action = _choose(rng, c, counter, profile)
            chaos.append(action)
            _execute(p, action, profile.net)
        in_chaos = False
        for action in SUFFIX:
            _execute(p, action)
    except Stop:
        pass
    except Exception as exc:  # a server's state broken beyond what the core can run
        from .scenes import broken_finding
        return broken_finding("campaigns", f"seed {seed}", p, exc)
    outcome = _outcome(p)
    if outcome is None:
        return None
    # ``chaos`` ends at the action that failed if the failure came during the chaos phase;
    # then the liveness phase never ran and replays can leave it out.
    suffix = [] if in_chaos else list(SUFFIX)
    liveness = p.rule in (NO_LEADER, NO_COMMIT)

    spent = [0]

    def fails(sub):
        if spent[0] > MINIMIZE_WORK:  # out of budget: keep what we have
            return False
        q = replay(name, fn, n, seed, list(sub) + suffix)
        spent[0] += _work(q.c)
        return _outcome(q) == outcome

    small = ddmin(chaos, fails, budget=40 if liveness else 120) if chaos else chaos
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
