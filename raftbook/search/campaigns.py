"""Random fault campaigns at scale: many seeded runs across the machine's cores.

Each seed gives one campaign: a cluster (``rb.Cluster(n, seed=seed)``) driven
through a schedule of actions drawn from the same seed: stretches of automatic
running over a lossy, duplicating, reordering network, crashes and restarts,
partitions and heals, forced election timeouts, and client proposals. The
safety monitor judges every event. Seeds run in parallel (standard library
multiprocessing); the same seeds give the same table on any number of cores.

A failing seed is minimized: actions are removed while the run still fails
the same way, runs are shortened, and the result is unrolled into single
events (each tick, each delivery, drop or duplication) and shrunk again, so
the student replays a short, step-by-step run in the widget.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..sim.cluster import Cluster
from ..core.config import Config
from ..errors import HandlerError, InvalidArgument, NotLeader, RaftbookError
from .progress import check_progress, progress_bar
from ..core.node import _is_int
from ..core.roles import Role

#: The kinds of fault a campaign may inject.
FAULTS = ("crash", "partition", "drop", "duplicate", "timeout")
#: Short election timeouts make elections (and so trouble) frequent.
CAMPAIGN_CONFIG = Config(election_timeout=(10, 20), heartbeat_interval=3)
#: Replays one minimization may spend, per stage (keeps it bounded, deterministically).
MINIMIZE_BUDGET = 1000


# ----------------------------------------------------------------------------- schedules
def schedule(seed: int, steps: int = 60, faults=FAULTS, load: float = 0.3, n: int = 5) -> list:
    """The actions of campaign ``seed``: a pure function of its arguments.

    Actions name what to do, not which message or server id to touch where that
    depends on the run (``("crash", "leader")``; ``("restart", 0.42)`` picks among
    the crashed servers; a proposal goes to one of the servers that believe they
    lead, a stale leader cut off by a partition too, so logs diverge the way
    Figures 7 and 8 show), so any subsequence still replays; that is what lets
    a failing campaign be cut down.
    """
    rng = random.Random(f"raftbook-campaign-{seed}")
    faults = frozenset(faults)
    out = []
    value = 0
    for _ in range(steps):
        r = rng.random()
        if r < load:
            value += 1
            out.append(("propose", f"k{rng.randrange(3)}", value, round(rng.random(), 3)))
            continue
        options = ["run", "run", "run"]
        options += [f for f in ("crash", "timeout") if f in faults]
        if "crash" in faults:
            options.append("restart")
        if "partition" in faults and n > 2:
            options += ["partition", "heal"]
        kind = rng.choice(options)
        if kind == "run":
            drop = round(rng.uniform(0, 0.2), 3) if "drop" in faults else 0.0
            dup = round(rng.uniform(0, 0.2), 3) if "duplicate" in faults else 0.0
            out.append(("run", rng.randint(3, 30), drop, dup))
        elif kind == "crash":
            out.append(("crash", "leader" if rng.random() < 0.5 else round(rng.random(), 3)))
        elif kind in ("restart", "timeout"):
            out.append((kind, round(rng.random(), 3)))
        elif kind == "partition":
            ids = list(range(1, n + 1))
            rng.shuffle(ids)
            cut = rng.randint(1, n - 1)
            out.append(("partition", (tuple(sorted(ids[:cut])), tuple(sorted(ids[cut:])))))
        else:
            out.append(("heal",))
    return out


# ----------------------------------------------------------------------------- one run
@dataclass(frozen=True)
class _Job:
    n: int
    steps: int
    faults: frozenset
    load: float
    config: Config
    handlers: dict | None
    flood_cap: int
    latency: tuple


class _Stop(Exception):
    pass


class _Run:
    """One campaign being played on a cluster; ``finding`` says what went wrong, if anything."""

    def __init__(self, job: _Job, seed: int, reasons: bool = False):
        self.job = job
        self.c = Cluster(job.n, seed=seed, config=job.config, handlers=job.handlers,
                         record_reasons=reasons)
        self.finding = None  # (kind, property or None, detail)
        self.at = None       # index of the action that failed
        self.stats = {"delivered": 0, "dropped": 0, "duplicated": 0, "lost": 0, "crashes": 0,
                      "partitions": 0, "timeouts": 0}

    def check(self):
        c = self.c
        v = c.violation
        if v is not None:
            self.finding = ("safety", v.property, str(v))
            raise _Stop
        if len(c.flight) > self.job.flood_cap:
            self.finding = ("flood", None, f"{len(c.flight)} messages in flight at once (cap "
                                           f"{self.job.flood_cap}): a handler floods the network")
            raise _Stop

    def act(self, action):
        """Carry out one action (skipped when it does not fit the state), then check."""
        c = self.c
        kind = action[0]
        try:
            if kind == "run":  # stops early on a violation or a flood
                flight, cap = c.flight, self.job.flood_cap
                c.run_until(lambda c: c.violation is not None or len(flight) > cap, action[1],
                            latency=self.job.latency, drop_rate=action[2],
                            duplicate_rate=action[3])
                ev = c.history[-1]
                for k in ("delivered", "dropped", "duplicated", "lost"):
                    self.stats[k] += ev.stats.get(k, 0)
            elif kind == "propose":  # to any server that believes it leads, stale ones too
                target = _pick([i for i in c.running if c.nodes[i].role is Role.LEADER], action[3])
                if target is not None:
                    c.propose(("set", action[1], action[2]), node=target)
            elif kind == "crash":
                target = c.leader if action[1] == "leader" else _pick(c.running, action[1])
                if target is not None and len(c.crashed) < (c.n - 1) // 2:
                    c.crash(target)
                    self.stats["crashes"] += 1
            elif kind == "restart":
                target = _pick(sorted(c.crashed), action[1])
                if target is not None:
                    c.restart(target)
            elif kind == "timeout":
                target = _pick([i for i in c.running if c.nodes[i].role is not Role.LEADER],
                               action[1])
                if target is not None:
                    c.timeout(target)
                    self.stats["timeouts"] += 1
            elif kind == "partition":
                if c.groups is None:
                    c.partition(*[set(g) for g in action[1]])
                    self.stats["partitions"] += 1
            elif kind == "heal":
                if c.groups is not None:
                    c.heal()
            else:
                raise InvalidArgument(f"unknown campaign action {action!r}")
        except NotLeader:
            pass
        except RaftbookError as exc:  # a handler raised, or left a node the core rejects
            self.finding = ("handler_error", None, str(exc))
            raise _Stop from None
        self.check()

    def play(self, actions):
        for k, action in enumerate(actions):
            try:
                self.act(action)
            except _Stop:
                self.at = k
                return self
        return self

    def outcome(self):
        return None if self.finding is None else self.finding[:2]


def _pick(options, r):
    return options[min(int(r * len(options)), len(options) - 1)] if options else None


def _row(seed, run: _Run, seconds: float) -> dict:
    c = run.c
    mon = c.monitor
    committed = sum(1 for p in c.proposals if c.status(p) == "committed")
    kind, prop, detail = run.finding or ("", "", "")
    return {"seed": seed, "ok": run.finding is None, "finding": kind, "property": prop or "",
            "detail": detail, "failed_at_action": run.at, "ticks": c.now, "events": len(c.history),
            "max_term": max(n.current_term for n in c.nodes.values()),
            "leaders": len(mon.leaders) if mon is not None else None,
            "proposals": len(c.proposals), "committed": committed, **run.stats,
            "seconds": round(seconds, 4)}


# ----------------------------------------------------------------------------- minimizing
def shrink(items: list, fails, budget: int) -> list:
    """Remove chunks (halves, quarters, ... single items) while ``fails(rest)`` holds.

    Greedy and deterministic; stops after ``budget`` calls of ``fails``.
    """
    calls = 0
    size = max(len(items) // 2, 1)
    while size >= 1 and calls < budget:
        start = len(items) - size
        changed = False
        while start >= 0 and calls < budget:
            rest = items[:start] + items[start + size:]
            calls += 1
            if rest and fails(rest):
                items = rest
                changed = True
            start -= size
            start = min(start, len(items) - size)
        if not changed:
            size //= 2
    return items


def _explode(job, seed, actions, outcome):
    """Unroll ``actions`` into single events (ticks, deliveries, ...), ending at the failure.

    Uses the network record of each ``run`` event; returns None if unrolling does not
    reproduce the failure (then the coarse trace is kept).
    """
    run = _Run(job, seed, reasons=True).play(actions)
    if run.outcome() != outcome:
        return None
    events = []
    for ev in run.c.history:
        if ev.kind not in ("run", "run_until"):
            args = ev.args
            if ev.kind == "propose":
                events.append(("propose", tuple(args["command"]), args["node"]))
            elif ev.kind == "partition":
                events.append(("partition", tuple(tuple(g) for g in args["groups"])))
            elif ev.kind == "heal":
                events.append(("heal",))
            else:
                events.append((ev.kind, args["node"]))
            continue
        network = getattr(ev, "network", None)
        if network is None:
            return None
        by_time: dict = {}
        for t, what, _mid, msg, _ref in network:
            if what != "sent":
                by_time.setdefault(t, []).append((what, msg))
        for t in range(ev.time + 1, ev.time + ev.args["ticks"] + 1):
            events.append(("tick",))
            for what, msg in by_time.get(t, ()):
                kind = {"dropped": "drop", "duplicated": "duplicate"}.get(what, "deliver")
                events.append((kind, msg))
    # The unrolled events must fail the same way; cut them at the failing event.
    c, cut = _replay_events(job, seed, events, stop=True)
    if c is None or _outcome_of(c) != outcome:
        return None
    return events[:cut]


def _replay_events(job, seed, events, stop=False, reasons=False):
    """Replay single events; messages are found by content, events that no longer fit are
    skipped. Returns (cluster, number of events used) or (None, 0) on a handler error."""
    c = Cluster(job.n, seed=seed, config=job.config, handlers=job.handlers, record_reasons=reasons)
    used = 0
    for ev in events:
        used += 1
        kind = ev[0]
        try:
            if kind == "tick":
                c.tick()
            elif kind in ("deliver", "drop", "duplicate"):
                msg = ev[1]
                mid = next((e.id for e in c.flight.values() if e.msg == msg), None)
                if mid is not None:
                    getattr(c, kind)(mid)
            elif kind == "propose":
                if ev[2] not in c.crashed and c.nodes[ev[2]].role is Role.LEADER:
                    c.propose(ev[1], node=ev[2])
            elif kind == "partition":
                if c.groups is None:
                    c.partition(*[set(g) for g in ev[1]])
            elif kind == "heal":
                if c.groups is not None:
                    c.heal()
            elif kind == "crash":
                if ev[1] not in c.crashed:
                    c.crash(ev[1])
            elif kind == "restart":
                if ev[1] in c.crashed:
                    c.restart(ev[1])
            elif kind == "timeout":
                if ev[1] not in c.crashed and c.nodes[ev[1]].role is not Role.LEADER:
                    c.timeout(ev[1])
        except HandlerError:
            return c, used
        if stop and (c.violation is not None or len(c.flight) > job.flood_cap):
            break
    return c, used


def _outcome_of(c):
    v = c.violation
    return None if v is None else ("safety", v.property)


@dataclass
class Counterexample:
    """A failing seed, minimized: the coarse ``actions`` and the single ``events``
    (None when they could not be unrolled); :meth:`cluster` replays it, ``trace`` is JSON."""

    seed: int
    finding: str
    property: str | None
    detail: str
    actions: list
    events: list | None
    trace: dict
    original_actions: int
    _handlers: dict | None = field(default=None, repr=False)

    def cluster(self, handlers=None) -> Cluster:
        """The minimized run, replayed on a fresh cluster (widget-ready)."""
        return Cluster.from_trace(self.trace, handlers=handlers if handlers is not None
                                  else self._handlers)

    def steps(self) -> list[str]:
        """One line per event of the minimized run."""
        return [f"{e['kind']} {e['args']}" for e in self.trace["events"]]

    def save_trace(self, path) -> None:
        """Write the minimized run as a JSON trace (``rb.Cluster.load_trace`` replays it)."""
        Path(path).write_text(json.dumps(self.trace, indent=1) + "\n", encoding="utf-8")


def minimize(job: _Job, seed: int, budget: int = MINIMIZE_BUDGET) -> Counterexample | None:
    """Cut failing campaign ``seed`` down to a short run that fails the same way."""
    actions = schedule(seed, job.steps, job.faults, job.load, job.n)
    first = _Run(job, seed).play(actions)
    outcome = first.outcome()
    if outcome is None:
        return None
    actions = actions[:first.at + 1]
    original = len(actions)

    def fails(sub):
        return _Run(job, seed).play(sub).outcome() == outcome

    small = shrink(actions, fails, budget)
    for k, a in enumerate(small):  # shorter runs
        if a[0] != "run":
            continue
        lo, hi = 1, a[1]
        while lo < hi:
            mid = (lo + hi) // 2
            trial = small[:k] + [(a[0], mid) + a[2:]] + small[k + 1:]
            if fails(trial):
                hi = mid
                small = trial
            else:
                lo = mid + 1
    events = None
    if outcome[0] == "safety":
        events = _explode(job, seed, small, outcome)
    if events is not None:
        def fails_events(sub):
            c, _ = _replay_events(job, seed, sub, stop=True)
            return _outcome_of(c) == outcome

        events = shrink(events, fails_events, budget)
        c, used = _replay_events(job, seed, events, stop=True)
        events = events[:used]
    else:  # a flood or a handler error: the failing run, tick by tick, up to the failure
        split = small[:-1]
        last = small[-1]
        if last[0] == "run":
            split += [("run", 1) + last[2:]] * last[1]
        else:
            split.append(last)
        c = _Run(job, seed).play(split).c
    kind, prop, detail = first.finding
    v = c.violation
    if v is not None:
        detail = str(v)
    return Counterexample(seed, kind, prop, detail, small, events, c.trace(), original,
                          _handlers=job.handlers)


# ----------------------------------------------------------------------------- many seeds
_JOB: _Job | None = None  # the job of a campaign, inherited by forked workers


def _one(seed):
    t0 = time.perf_counter()
    job = _JOB
    run = _Run(job, seed).play(schedule(seed, job.steps, job.faults, job.load, job.n))
    return _row(seed, run, time.perf_counter() - t0)


def _minimize_one(seed):
    return minimize(_JOB, seed)


@dataclass
class CampaignResult:
    """A campaign's outcome: ``table`` (one row per seed, a pandas DataFrame),
    ``failures`` (failing seeds), ``counterexamples`` (seed -> minimized
    :class:`Counterexample`), ``seconds`` and ``workers``."""

    table: object
    counterexamples: dict
    seconds: float
    workers: int

    @property
    def failures(self) -> list:
        t = self.table
        return [int(s) for s in t.index[~t["ok"]]]

    @property
    def ok(self) -> bool:
        return not self.failures

    def summary(self):
        """Totals: seeds, failures by kind and property, simulated ticks, speed."""
        import pandas as pd

        t = self.table
        rows = {"seeds": len(t), "failed": len(self.failures),
                "ticks simulated": int(t["ticks"].sum()), "messages delivered": int(t["delivered"].sum()),
                "proposals": int(t["proposals"].sum()), "committed": int(t["committed"].sum()),
                "workers": self.workers, "seconds": round(self.seconds, 3),
                "seeds/s": round(len(t) / self.seconds, 1) if self.seconds else 0.0}
        for (kind, prop), count in t[~t["ok"]].groupby(["finding", "property"]).size().items():
            rows[f"failed: {kind} {prop}".rstrip()] = int(count)
        return pd.DataFrame({"value": pd.Series(rows, dtype=object)})

    def __repr__(self):
        return (f"<CampaignResult {len(self.table)} seeds, {len(self.failures)} failed, "
                f"{self.seconds:.2f}s on {self.workers} worker(s)>")

    def _repr_html_(self):
        return self.summary()._repr_html_()


def _seeds(seeds) -> list:
    if _is_int(seeds):
        if seeds < 1:
            raise InvalidArgument(f"seeds is how many seeds to run (>= 1) or a list of seeds; got {seeds}")
        return list(range(seeds))
    try:
        out = list(seeds)
    except TypeError:
        raise InvalidArgument(f"seeds is a number of seeds or a list of whole-number seeds; got {seeds!r}") from None
    if not out or not all(_is_int(s) for s in out):
        raise InvalidArgument(f"seeds must be a non-empty list of whole numbers; got {seeds!r}")
    if len(set(out)) != len(out):
        raise InvalidArgument("seeds must not repeat (each seed is one campaign)")
    return out


def campaign(seeds=100, *, n: int = 5, handlers=None, steps: int = 60, faults=FAULTS,
             load: float = 0.3, config=None, latency=(1, 5), workers: int | None = None,
             minimize: int = 1, flood_cap: int | None = None, progress=None) -> CampaignResult:
    """Run one seeded fault campaign per seed, in parallel, and tabulate them.

    ``seeds``: how many (0..seeds-1) or which. Each campaign has ``steps``
    actions on an ``n``-server cluster running the reference rules or
    ``handlers``: runs over a network with ``latency`` and random loss and
    duplication, the ``faults`` named (from :data:`FAULTS`), and client
    proposals (``load``: the share of actions that propose). ``workers``
    processes share the seeds (default: every core). The first ``minimize``
    failing seeds are cut down to short step-by-step traces. A flood (more than
    ``flood_cap`` messages in flight) or a handler that raises is a finding too.
    """
    seeds = _seeds(seeds)
    check_progress(progress)
    if not _is_int(n) or not 1 <= n <= 15:
        raise InvalidArgument(f"n is the number of servers, 1 to 15; got {n!r}")
    if not _is_int(steps) or steps < 1:
        raise InvalidArgument(f"steps is the number of actions per campaign (>= 1); got {steps!r}")
    if isinstance(faults, str):
        faults = (faults,)
    try:
        faults = frozenset(faults)
    except TypeError:
        raise InvalidArgument(f"faults is a list drawn from {list(FAULTS)}; got {faults!r}") from None
    unknown = sorted(map(str, faults - set(FAULTS)))
    if unknown:
        raise InvalidArgument(f"unknown faults {unknown}; choose from {list(FAULTS)}")
    if isinstance(load, bool) or not isinstance(load, (int, float)) or not 0 <= load <= 1:
        raise InvalidArgument(f"load is the share of actions that are client proposals, in [0, 1]; got {load!r}")
    if config is None:
        config = CAMPAIGN_CONFIG
    elif isinstance(config, dict):
        config = Config.from_dict(config)
    elif not isinstance(config, Config):
        raise InvalidArgument(f"config must be a raftbook.Config (or None); got {type(config).__name__}")
    Cluster.check_network(latency, 0.0, 0.0)
    if workers is None:
        workers = os.cpu_count() or 1
    if not _is_int(workers) or workers < 1:
        raise InvalidArgument(f"workers is a number of processes >= 1 (or None for every core); got {workers!r}")
    if not _is_int(minimize) or minimize < 0:
        raise InvalidArgument(f"minimize is how many failing seeds to minimize (>= 0); got {minimize!r}")
    if flood_cap is None:
        flood_cap = 100 * n
    if not _is_int(flood_cap) or flood_cap < 1:
        raise InvalidArgument(f"flood_cap is a number of messages >= 1; got {flood_cap!r}")
    Cluster(n, handlers=handlers, monitor=False)  # validates the handlers
    job = _Job(n, steps, faults, float(load), config, dict(handlers) if handlers else None,
               flood_cap, tuple(latency))
    import pandas as pd

    global _JOB
    bar = progress_bar(progress, len(seeds), "seeds")
    t0 = time.perf_counter()
    _JOB = job
    try:
        workers = min(workers, len(seeds))
        rows = []
        if workers > 1 and "fork" in multiprocessing.get_all_start_methods():
            with multiprocessing.get_context("fork").Pool(workers) as pool:
                for row in pool.imap(_one, seeds, chunksize=max(1, len(seeds) // (workers * 8))):
                    rows.append(row)
                    if bar is not None:
                        bar.update(len(rows), f"{len(rows)}/{len(seeds)} seeds")
                failing = [r["seed"] for r in rows if not r["ok"]][:minimize]
                examples = pool.map(_minimize_one, failing, chunksize=1)
                pool.close()
                pool.join()
        else:
            workers = 1
            for s in seeds:
                rows.append(_one(s))
                if bar is not None:
                    bar.update(len(rows), f"{len(rows)}/{len(seeds)} seeds")
            failing = [r["seed"] for r in rows if not r["ok"]][:minimize]
            examples = [_minimize_one(s) for s in failing]
    finally:
        _JOB = None
        if bar is not None:
            bar.close()
    seconds = time.perf_counter() - t0
    table = pd.DataFrame(rows).set_index("seed")
    return CampaignResult(table, {s: ex for s, ex in zip(failing, examples) if ex is not None},
                          seconds, workers)
