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

This module is the public front (arguments, parallel seeds, the table): the
schedule comes from :mod:`.faults`, the running from :mod:`.faultrun` and the
shrinking from :mod:`.minimize`, the same ones the graders' campaigns use.
"""
from __future__ import annotations

import json
import multiprocessing
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

from ..core.config import Config
from ..errors import InvalidArgument, RaftbookError
from ..sim.cluster import Cluster
from ..sim.membership import check_members
from ..sim.validate import show, whole
from .faultrun import FaultRun
from .faults import ALL_FAULTS, FAULTS, schedule
from .minimize import Budget, replay_events, shorten_runs, shrink, unroll
from .progress import check_progress, progress_bar

#: Short election timeouts make elections (and so trouble) frequent.
CAMPAIGN_CONFIG = Config(election_timeout=(10, 20), heartbeat_interval=3)
#: Replays one minimization may spend, per stage (keeps it bounded, deterministically).
MINIMIZE_BUDGET = 1000
#: The most seeds, and actions per seed, one campaign() call takes; raise them here if you
#: really mean more (a campaign of the defaults takes well under a second per seed).
MAX_SEEDS = 100_000
MAX_STEPS = 100_000
MAX_WORKERS = 256
MAX_FLOOD_CAP = 1_000_000


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
    members: frozenset | None = None

    @property
    def reconfigures(self) -> bool:
        """Whether the configuration may change or start as a subset (extra columns then)."""
        return "reconfigure" in self.faults or self.members is not None

    def cluster(self, seed: int, reasons: bool = False) -> Cluster:
        return Cluster(self.n, seed=seed, config=self.config, handlers=self.handlers,
                       record_reasons=reasons, members=self.members)

    def schedule(self, seed: int) -> list:
        return schedule(seed, self.steps, self.faults, self.load, self.n)

    def play(self, seed: int, actions, reasons: bool = False) -> FaultRun:
        """Campaign ``seed``'s ``actions`` carried out by the engine on a fresh cluster."""
        run = FaultRun(self.cluster(seed, reasons), net={"latency": self.latency},
                       flood_cap=self.flood_cap, track_changes=self.reconfigures,
                       track_compactions="compact" in self.faults, track_cuts="cut" in self.faults)
        return run.play(actions)


def _finding(run: FaultRun):
    """(kind, property, detail) in the campaign table's words, or None."""
    t = run.trouble
    if t is None:
        return None
    if t.kind in ("safety", "flood"):
        return t.kind, t.property, t.detail
    # a handler raised, left a node the core rejects, or broke its server
    err = t.error
    return "handler_error", None, str(err) if isinstance(err, RaftbookError) else t.detail


def _outcome(run: FaultRun):
    f = _finding(run)
    return None if f is None else f[:2]


def _row(seed, run: FaultRun, seconds: float, members: bool = False) -> dict:
    c = run.c
    mon = c.monitor
    committed = sum(1 for p in c.proposals if c.status(p) == "committed")
    kind, prop, detail = _finding(run) or ("", "", "")
    extra = {"members": " ".join(f"S{i}" for i in sorted(c.members))} if members else {}
    return {"seed": seed, "ok": run.trouble is None, "finding": kind, "property": prop or "",
            "detail": detail, "failed_at_action": run.at, "ticks": c.now, "events": len(c.history),
            "max_term": max(n.current_term for n in c.nodes.values()),
            "leaders": len(mon.leaders) if mon is not None else None,
            "proposals": len(c.proposals), "committed": committed, **run.stats, **extra,
            "seconds": round(seconds, 4)}


# ----------------------------------------------------------------------------- minimizing
def _explode(job, seed, actions, outcome):
    """Unroll ``actions`` into single events (ticks, deliveries, ...), ending at the failure.

    Returns None if unrolling does not reproduce the failure (then the coarse trace is kept).
    """
    run = job.play(seed, actions, reasons=True)
    if _outcome(run) != outcome:
        return None
    events = unroll(run.c)
    if events is None:
        return None
    # The unrolled events must fail the same way; cut them at the failing event.
    c, cut = replay_events(job.cluster(seed), events, job.flood_cap, stop=True)
    if _outcome_of(c) != outcome:
        return None
    return events[:cut]


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
    actions = job.schedule(seed)
    first = job.play(seed, actions)
    outcome = _outcome(first)
    if outcome is None:
        return None
    actions = actions[:first.at + 1]
    original = len(actions)

    def fails(sub):
        return _outcome(job.play(seed, sub)) == outcome

    small = shrink(actions, fails, Budget(budget))
    small = shorten_runs(small, fails, Budget(budget))
    events = None
    # single events replay ticks, messages, faults, compactions and membership changes
    if outcome[0] == "safety":
        events = _explode(job, seed, small, outcome)
    if events is not None:
        def fails_events(sub):
            c, _ = replay_events(job.cluster(seed), sub, job.flood_cap, stop=True)
            return _outcome_of(c) == outcome

        events = shrink(events, fails_events, Budget(budget))
        c, used = replay_events(job.cluster(seed), events, job.flood_cap, stop=True)
        events = events[:used]
    else:  # a flood or a handler error: the failing run, its last run tick by tick
        split = small[:-1]
        last = small[-1]
        if last[0] == "run":
            split += [("run", 1) + last[2:]] * last[1]
        else:
            split.append(last)
        c = job.play(seed, split).c
    kind, prop, detail = _finding(first)
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
    run = job.play(seed, job.schedule(seed))
    return _row(seed, run, time.perf_counter() - t0, job.reconfigures)


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


def _limit(name: str, value, lo: int, hi: int, what: str, limit_name: str) -> int:
    k = whole(value)
    if k is None or k < lo:
        raise InvalidArgument(f"{name} is {what} (>= {lo}); got {show(value)}")
    if k > hi:
        raise InvalidArgument(f"{name}={show(value)} is more than the limit of {hi:,} "
                              f"(raftbook.search.campaigns.{limit_name}); raise that limit if you "
                              "really mean it")
    return k


def _seeds(seeds) -> list:
    if whole(seeds) is not None:
        return list(range(_limit("seeds", seeds, 1, MAX_SEEDS, "how many seeds to run", "MAX_SEEDS")))
    if isinstance(seeds, (str, bytes, bytearray, dict)):
        raise InvalidArgument(f"seeds is a number of seeds or a list of whole-number seeds; got {show(seeds)}")
    try:
        out = []
        for s in seeds:
            out.append(s)
            if len(out) > MAX_SEEDS:
                raise InvalidArgument(f"more than the limit of {MAX_SEEDS:,} seeds "
                                      "(raftbook.search.campaigns.MAX_SEEDS)")
    except TypeError:
        raise InvalidArgument(f"seeds is a number of seeds or a list of whole-number seeds; got {show(seeds)}") from None
    clean = [whole(s) for s in out]
    if not out or None in clean:
        raise InvalidArgument(f"seeds must be a non-empty list of whole numbers; got {show(seeds)}")
    out = clean
    if len(set(out)) != len(out):
        raise InvalidArgument("seeds must not repeat (each seed is one campaign)")
    return out


def campaign(seeds=100, *, n: int = 5, handlers=None, steps: int = 60, faults=FAULTS,
             load: float = 0.3, config=None, latency=(1, 5), workers: int | None = None,
             minimize: int = 1, flood_cap: int | None = None, progress=None,
             members=None) -> CampaignResult:
    """Run one seeded fault campaign per seed, in parallel, and tabulate them.

    ``seeds``: how many (0..seeds-1) or which. Each campaign has ``steps``
    actions on an ``n``-server cluster running the reference rules or
    ``handlers``: runs over a network with ``latency`` and random loss and
    duplication, the ``faults`` named (from :data:`FAULTS`), and client
    proposals (``load``: the share of actions that propose). ``workers``
    processes share the seeds (default: every core). The first ``minimize``
    failing seeds are cut down to short step-by-step traces. A flood (more than
    ``flood_cap`` messages in flight) or a handler that raises is a finding too.

    Membership: the ``"reconfigure"`` fault (not in the defaults) has the leader add or
    remove one server at random times (a change the cluster refuses is skipped);
    ``members`` starts with only some servers in the configuration: a number k (servers
    1..k) or a set of ids. Either adds the columns ``changes``, ``refused`` and
    ``members`` (the final configuration).

    Compaction: the ``"compact"`` fault (not in the defaults) has a random running server
    that applied entries past its snapshot compact its log at random times, so servers that
    lag behind are sent InstallSnapshot; it adds the column ``compactions``.

    Partial partitions: the ``"cut"`` fault (not in the defaults) cuts the link between two
    random servers (``c.cut(a, b)``) at random times, and heals restore every link; it adds
    the column ``cuts``.
    """
    seeds = _seeds(seeds)
    check_progress(progress)
    if whole(n) is None or not 1 <= n <= 15:
        raise InvalidArgument(f"n is the number of servers, 1 to 15; got {show(n)}")
    n = whole(n)
    steps = _limit("steps", steps, 1, MAX_STEPS, "the number of actions per campaign", "MAX_STEPS")
    if isinstance(faults, str):
        faults = (faults,)
    try:
        faults = frozenset(faults)
    except TypeError:
        raise InvalidArgument(f"faults is a list drawn from {list(ALL_FAULTS)}; got {show(faults)}") from None
    unknown = sorted(show(f) for f in faults - set(ALL_FAULTS))
    if unknown:
        raise InvalidArgument(f"unknown faults {unknown}; choose from {list(ALL_FAULTS)}")
    if members is not None:
        if isinstance(members, (str, bytes, bytearray, dict)):
            raise InvalidArgument(f"members is a number k of servers (1..k start as members) or a set "
                                  f"of server ids among 1..{n}; got {show(members)}")
        k = whole(members)
        if k is not None:
            if not 1 <= k <= n:
                raise InvalidArgument(f"members={show(members)}: a number of servers that start as "
                                      f"members, 1 to n={n}")
            members = range(1, k + 1)
        members = check_members(members, n)
    try:
        ok = not isinstance(load, (bool, str, bytes)) and 0 <= float(load) <= 1
    except (TypeError, ValueError, OverflowError):
        ok = False
    if not ok:
        raise InvalidArgument(f"load is the share of actions that are client proposals, in [0, 1]; got {show(load)}")
    if config is None:
        config = CAMPAIGN_CONFIG
    elif isinstance(config, dict):
        config = Config.from_dict(config)
    elif not isinstance(config, Config):
        raise InvalidArgument(f"config must be a raftbook.Config (or None); got {type(config).__name__}")
    latency = tuple(Cluster.check_network(latency, 0.0, 0.0)["latency"])
    if workers is None:
        workers = os.cpu_count() or 1
    workers = _limit("workers", workers, 1, MAX_WORKERS, "a number of processes (or None for every core)",
                     "MAX_WORKERS")
    minimize = _limit("minimize", minimize, 0, MAX_SEEDS, "how many failing seeds to minimize", "MAX_SEEDS")
    if flood_cap is None:
        flood_cap = 100 * n
    flood_cap = _limit("flood_cap", flood_cap, 1, MAX_FLOOD_CAP, "a number of messages", "MAX_FLOOD_CAP")
    Cluster(n, handlers=handlers, monitor=False)  # validates the handlers
    job = _Job(n, steps, faults, float(load), config, dict(handlers) if handlers else None,
               flood_cap, tuple(latency), members)
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
