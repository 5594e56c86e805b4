"""Seeded schedules of faults and client load: what a fault campaign will do, drawn from its seed.

Two kinds of schedule feed the one campaign engine (:mod:`.faultrun`):

- ``fixed`` (:func:`schedule`, used by ``rb.campaign``): the whole list of
  actions is a pure function of the seed, drawn before the run starts.
- ``swarm`` (:func:`swarm`, used by the graders): each action is drawn when it
  is due, from what makes sense in the cluster at that moment, with a
  :class:`SwarmProfile` (drawn from the seed too) that leaves some faults out
  and leans on others.

Both speak one vocabulary of actions. An action names what to do and whom to
touch: a server id, ``"leader"``, or a fraction in [0, 1] that picks among the
servers it fits (``("restart", 0.42)`` picks among the crashed ones). Either
way an action that no longer fits the state is skipped, so any subsequence of
a schedule still replays; that is what lets a failing campaign be cut down.

- ``("run", ticks)`` or ``("run", ticks, drop_rate, duplicate_rate)``
- ``("propose", command, target)``: to a server that believes it leads (a
  stale leader cut off by a partition too, so logs diverge as in Figures 7 and 8)
- ``("crash", target)``, ``("restart", target)``, ``("timeout", target)``
- ``("partition", (group, group))``, ``("heal",)`` (the partition and every cut link)
- ``("cut", (a, b))``: only the link between servers a and b (the ``cut`` fault: a partial
  partition; skipped when that link is already cut)
- ``("add_server", target)``, ``("remove_server", target)``: the leader adds a server
  outside its configuration or removes one of its members (the ``reconfigure`` fault; a
  change the cluster refuses, with no leader or while another change is under way, is
  skipped)
- ``("compact", target)``: a running server that has applied entries past its snapshot
  compacts its log now (the ``compact`` fault; the fraction picks among those servers,
  skipped when there is none)
"""
from __future__ import annotations

import random

from ..core.config import Config
from ..core.roles import Role

#: The kinds of fault a campaign may inject.
FAULTS = ("crash", "partition", "drop", "duplicate", "timeout")
#: Faults a campaign injects only when asked: ``reconfigure`` adds and removes servers
#: (single-server membership changes) at random times; ``compact`` has a server snapshot
#: what it applied and drop those log entries, so lagging servers need InstallSnapshot;
#: ``cut`` breaks single links (a partial partition) that a later heal restores.
EXTRA_FAULTS = ("reconfigure", "compact", "cut")
#: Every fault a campaign knows.
ALL_FAULTS = FAULTS + EXTRA_FAULTS


def schedule(seed: int, steps: int = 60, faults=FAULTS, load: float = 0.3, n: int = 5) -> list:
    """The actions of fixed campaign ``seed``: a pure function of its arguments."""
    rng = random.Random(f"raftbook-campaign-{seed}")
    faults = frozenset(faults)
    out = []
    value = 0
    for _ in range(steps):
        r = rng.random()
        if r < load:
            value += 1
            key = f"k{rng.randrange(3)}"
            out.append(("propose", ("set", key, value), round(rng.random(), 3)))
            continue
        options = ["run", "run", "run"]
        options += [f for f in ("crash", "timeout") if f in faults]
        if "crash" in faults:
            options.append("restart")
        if "partition" in faults and n > 2:
            options += ["partition", "heal"]
        if "reconfigure" in faults and n > 1:  # drawn only when asked: the defaults keep their draws
            options += ["add_server", "remove_server"]
        if "compact" in faults:  # likewise
            options.append("compact")
        if "cut" in faults and n > 2:  # likewise
            options += ["cut", "heal"]
        kind = rng.choice(options)
        if kind == "run":
            drop = round(rng.uniform(0, 0.2), 3) if "drop" in faults else 0.0
            dup = round(rng.uniform(0, 0.2), 3) if "duplicate" in faults else 0.0
            out.append(("run", rng.randint(3, 30), drop, dup))
        elif kind == "crash":
            out.append(("crash", "leader" if rng.random() < 0.5 else round(rng.random(), 3)))
        elif kind == "remove_server":  # the leader itself now and then: it steps down once removed
            out.append(("remove_server", "leader" if rng.random() < 0.25 else round(rng.random(), 3)))
        elif kind in ("restart", "timeout", "add_server", "compact"):
            out.append((kind, round(rng.random(), 3)))
        elif kind == "cut":
            out.append(("cut", tuple(sorted(rng.sample(range(1, n + 1), 2)))))
        elif kind == "partition":
            ids = list(range(1, n + 1))
            rng.shuffle(ids)
            cut = rng.randint(1, n - 1)
            out.append(("partition", (tuple(sorted(ids[:cut])), tuple(sorted(ids[cut:])))))
        else:
            out.append(("heal",))
    return out


class SwarmProfile:
    """What one swarm campaign stresses, drawn from its seed.

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


def swarm(seed: int, cluster, steps: int, profile: SwarmProfile | None = None):
    """The actions of swarm campaign ``seed``, each drawn from ``cluster``'s state when it is due.

    A generator: the engine takes one action, carries it out, then takes the next.
    """
    rng = random.Random(seed)
    profile = profile or SwarmProfile(seed)
    counter = [0]
    for _ in range(steps):
        yield _choose(rng, cluster, counter, profile)


def _choose(rng: random.Random, c, counter: list, profile: SwarmProfile) -> tuple:
    """One random action that makes sense in the cluster's current state."""
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
