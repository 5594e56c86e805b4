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

import dataclasses

from ..core.messages import RequestVote, RequestVoteReply
from ..core.rules import reference_handlers_all
from ..search.faults import SwarmProfile as Profile
from ..search.faults import swarm
from ..search.minimize import Budget, shrink
from ..sim.cluster import Cluster
from .play import Play, converged, one_leader
from .report import Finding, LayerResult
from .scenes import broken_finding
from .targets import config_of, handler_of, handlers_for

#: The healthy network of the liveness phase (each campaign's faulty one comes from its Profile).
CALM_NET = dict(latency=(1, 2))
LIVENESS_TICKS = 200
#: Simulated work (ticks plus deliveries) that minimizing one failing campaign may spend: it
#: keeps grading fast, deterministically, even for a handler that keeps the network busy.
MINIMIZE_WORK = 12_000
CHAOS_STEPS = 50
STEADY_TICKS = 30
SUFFIX = (("heal_all",), ("await_leader",), ("await_commit",), ("steady",))
#: The "pre_vote" grader's campaigns end with one more action: a follower's timer fires in the
#: healthy cluster, and the leader must stay (what PreVote is for, thesis section 9.6).
SUFFIX_FOR = {"pre_vote": SUFFIX + (("disrupt",),)}


def suffix_for(name: str) -> tuple:
    """The liveness phase the campaigns of the rule ``name`` end with."""
    return SUFFIX_FOR.get(name, SUFFIX)

NO_LEADER = "Liveness (section 5.2): once the network heals and every server runs, a leader is elected"
NO_COMMIT = "Liveness (section 5.3): a healthy cluster commits what a client proposes"
DISRUPTED = ("PreVote (thesis section 9.6): a follower whose election timer fires while the others "
             "hear from their leader does not raise anyone's term or depose the leader")


class _Campaign(Play):
    """The engine with the liveness phase's actions (the :data:`SUFFIX`) added; it measures
    how fast the healed cluster makes progress (:attr:`progress`)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        #: ticks to elect a leader after the heal, ticks from a client's first proposal to its
        #: commit on every server, terms started during the whole campaign
        self.progress: dict = {}
        self._healed_at = None

    def act(self, action: tuple) -> None:
        kind = action[0]
        c = self.c
        if kind == "heal_all":
            self._healed_at = c.now
            self._terms_at_heal = max(node.current_term for node in c.nodes.values())
            if c.groups is not None:
                self.do("heal")
            for i in sorted(c.crashed):
                self.do("restart", i)
        elif kind == "await_leader":
            self.run_until(one_leader, LIVENESS_TICKS, "electing a leader after the network healed",
                           NO_LEADER, **CALM_NET)
            self.progress["leader"] = c.now - self._healed_at
        elif kind == "steady":  # a healthy cluster settles into heartbeats: no flood builds up
            self.run_until(lambda c: False, STEADY_TICKS, **CALM_NET)
            top = max(node.current_term for node in c.nodes.values())
            self.progress["terms"] = top
            self.progress["elections"] = top - self._terms_at_heal
        elif kind == "disrupt":
            _disrupt(self)
        elif kind == "await_commit":
            if c.leader is None:
                self.fail(NO_LEADER, "no leader to propose to after the network healed")
            _await_commit(self)
        else:
            super().act(action)


def _disrupt(p: Play) -> None:
    """A follower's timer fires in a healthy cluster: the leader and every term must stay."""
    c = p.c
    leader = c.leader
    if leader is None:
        p.fail(NO_LEADER, "no leader after the cluster settled")
    terms = {i: c.nodes[i].current_term for i in c.running}
    follower = max(i for i in c.running if i != leader)
    p.do("timeout", follower)
    # Its vote traffic goes first (a heartbeat that overtakes it would end the round anyway).
    for _ in range(4 * len(c.nodes) ** 2):
        votes = [env.id for env in c.flight.values() if type(env.msg) in (RequestVote, RequestVoteReply)]
        if not votes:
            break
        p.do("deliver", votes[0])
    p.run_until(lambda c: False, STEADY_TICKS, **CALM_NET)
    now = {i: c.nodes[i].current_term for i in c.running}
    if c.leader != leader or now != terms:
        p.fail(DISRUPTED, f"S{follower}'s election timer fired while S{leader} led a healthy cluster "
               f"and every server heard from it; the others must refuse S{follower}'s pre-votes, "
               f"but once its vote requests were answered the terms went from {terms} to {now} and the leader "
               "is " + (f"S{c.leader}" if c.leader else "nobody"))


def _await_commit(p: Play) -> None:
    """Propose like a client would (again, if a leader change loses it) until it commits."""
    c = p.c
    deadline = c.now + LIVENESS_TICKS
    started = c.now
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
            p.progress["commit"] = c.now - started
            return
        if c.now >= deadline:
            p.fail(NO_COMMIT, f"a client's proposal (to S{prop.node}, {tries} tries) was not committed "
                   f"and applied on every server within {LIVENESS_TICKS} ticks of a healthy network")


#: Config fields a grader's campaigns set on top of each campaign's own: the "install_snapshot"
#: grader's servers compact every few entries, so crashed and partitioned followers fall behind a
#: leader's snapshot and must install it.
CONFIG_FOR = {"install_snapshot": dict(snapshot_threshold=3)}
#: (a graded name's own configuration, such as "request_vote_persistent"'s explicit persistence,
#: comes from :mod:`.targets`.)
#: How many campaigns a grader runs when it does not say (a follower falls behind a snapshot in
#: only some campaigns, so the "install_snapshot" grader runs twice as many).
COUNT_FOR = {"install_snapshot": 48}


def campaign_config(name: str, seed: int):
    """The cluster configuration of campaign ``seed`` for the rule ``name``."""
    config = Profile(seed).config
    extra = {**config_of(name), **CONFIG_FOR.get(name, {})}
    return dataclasses.replace(config, **extra) if extra else config


def _start(name: str, fn, n: int, seed: int, reasons: bool = False) -> _Campaign:
    profile = Profile(seed)
    c = Cluster(n, seed=seed, config=campaign_config(name, seed), handlers=handlers_for(name, fn),
                record_reasons=reasons)
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
    return _campaign(name, fn, seed, n, steps)[0]


def _campaign(name: str, fn, seed: int, n: int, steps: int = CHAOS_STEPS):
    """One seeded campaign: (a Finding or None, the progress it measured)."""
    p = _start(name, fn, n, seed)
    p.play(swarm(seed, p.c, steps, Profile(seed)))
    # ``chaos`` ends at the action that failed if the failure came during the chaos phase;
    # then the liveness phase never ran and replays can leave it out.
    chaos = list(p.actions)
    in_chaos = p.trouble is not None
    if not in_chaos:
        p.play(suffix_for(name))
    if p.trouble is None:
        return None, p.progress
    if p.trouble.kind == "broken":  # a server's state broken beyond what the core can run
        return broken_finding("campaigns", f"seed {seed}", p, p.trouble.error), None
    outcome = _outcome(p)
    suffix = [] if in_chaos else list(suffix_for(name))
    liveness = p.rule in (NO_LEADER, NO_COMMIT, DISRUPTED)
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
                   steps=final.steps()), None


def campaign_seeds(seed: int, count: int) -> list:
    return [seed * 1000 + k + 1 for k in range(count)]


#: Cluster sizes of the campaigns, in turn: odd and even (a quorum rule may fail only in even ones).
SIZES = (3, 5, 4, 6)

#: How progress is compared with the reference's (:func:`compare_progress`): summed over the
#: campaigns that passed, a measure more than RATIO times the reference's on the same seeds, and
#: more than SLACK above it, is clearly slower progress. Totals over many campaigns are steadier
#: than any one campaign (a single unlucky election can take three times as long); elections
#: are few, so they need twice as many. A correct handler written differently (back-off one
#: entry at a time, say) stays within about 1.15 times the reference.
RATIO = {"leader": 1.5, "commit": 1.5, "terms": 1.5, "elections": 2.0}
SLACK = {"leader": 30, "commit": 40, "terms": 20, "elections": 10}
PROGRESS_WORDS = {
    "leader": ("ticks to elect a leader once the network healed", "elections take longer"),
    "commit": ("ticks from a client's proposal to its commit on every server", "commits take longer"),
    "terms": ("terms started over the whole campaign", "more elections are started"),
    "elections": ("terms started after the network healed", "a healthy cluster keeps holding elections"),
}
SLOW = ("Liveness, compared with the reference: on the same seeds, a correct handler makes about "
        "the same progress")

_REFERENCE_PROGRESS: dict = {}


def reference_progress(name: str, seed: int, n: int) -> dict:
    """The progress the reference rules make in campaign ``seed`` on ``n`` servers (kept)."""
    key = (name, seed, n)
    if key not in _REFERENCE_PROGRESS:
        _REFERENCE_PROGRESS[key] = _campaign(name, reference_handlers_all[handler_of(name)], seed, n)[1] or {}
    return _REFERENCE_PROGRESS[key]


def compare_progress(name: str, fn, measured: list):
    """A liveness finding when ``fn`` needs clearly more than the reference on the same campaigns.

    ``measured``: (campaign seed, servers, progress) of the campaigns ``fn`` passed."""
    for key, (what, short) in PROGRESS_WORDS.items():
        pairs = [(s, n, prog[key], reference_progress(name, s, n).get(key))
                 for s, n, prog in measured if key in prog]
        pairs = [pair for pair in pairs if pair[3] is not None]
        if len(pairs) < 8:
            continue
        mine = sum(pair[2] for pair in pairs)
        ref = sum(pair[3] for pair in pairs)
        if mine > RATIO[key] * ref and mine > ref + SLACK[key]:
            s, n, got, exp = max(pairs, key=lambda pair: (pair[2] - pair[3], -pair[0]))
            p = _start(name, fn, n, s, reasons=True)
            p.play(swarm(s, p.c, CHAOS_STEPS, Profile(s)))
            p.play(suffix_for(name))
            message = (f"{short}: over {len(pairs)} campaigns, {what} add up to {mine} with your "
                       f"function and {ref} with the reference rule on the same seeds ({mine / max(ref, 1):.1f} "
                       f"times as many; more than {RATIO[key]:g} times is clearly slower). The widest gap "
                       f"is campaign seed {s} ({n} servers): {got} against {exp}; its run is attached. "
                       "Figure 2's rules make progress as soon as they can: look for a vote, reply, "
                       "retry or timer reset your function leaves out or puts off, or a step down it "
                       "does not need")
            return Finding("campaigns", "progress compared with the reference", SLOW, message,
                           trace=p.trace(), steps=p.steps())
    return None


def run_campaigns(name: str, fn, seed: int = 0, count: int | None = None,
                  stop_after: int = 1) -> LayerResult:
    """``count`` campaigns (3, 5, 4 and 6 servers in turn; 24 unless :data:`COUNT_FOR` says
    otherwise); stop after ``stop_after`` failures.
    When every campaign passes, one more check compares the progress made with the
    reference's on the same seeds (:func:`compare_progress`)."""
    if count is None:
        count = COUNT_FOR.get(name, 24)
    result = LayerResult("campaigns")
    measured = []
    for k, s in enumerate(campaign_seeds(seed, count)):
        result.checks += 1
        n = SIZES[k % len(SIZES)]
        finding, progress = _campaign(name, fn, s, n)
        if finding is not None:
            result.findings.append(finding)
            if len(result.findings) >= stop_after:
                break
        else:
            measured.append((s, n, progress))
    if not result.findings:
        result.checks += 1
        finding = compare_progress(name, fn, measured)
        if finding is not None:
            result.findings.append(finding)
    return result
