"""How fast the core simulates: automatic runs against a bare event loop measured in the same run.

The workload is DESIGN.md's: 5 servers, a client proposal every 10 ticks
(100 ms at 10 ms a tick, like RaftScope's benchmark), message latency 1-3
ticks. It runs with the safety monitor on and off and with reasons recorded
and not. An "event" is one message delivered or one tick of the cluster.

The baseline is a bare Python heapq event loop doing no Raft work: each tick
it schedules as many messages as the Raft run sent per tick (each with a
random 1-3 tick latency) and pops the ones that are due. The ratio column says
how many baseline events one Raft event costs; DESIGN.md flags a Raft step
costing more than about 8 baseline events as worth profiling. The last column
compares messages delivered per second with RaftScope's model run headless
(about 244,000 per second on this class of machine).

Times are CPU seconds of this process (``time.process_time``), for the Raft
runs and the baseline alike, so other programs busy on the machine disturb
the figures less than wall-clock time would.

    python bench/bench_core.py             # the full table (a few seconds)
    python bench/bench_core.py --quick     # fewer ticks
    python bench/bench_core.py --profile   # cProfile of the default configuration
"""
from __future__ import annotations

import argparse
import heapq
import random
import time

import raftbook as rb

RAFTSCOPE_MSGS_PER_S = 244_000
PROPOSE_EVERY = 10
LATENCY = (1, 3)


def raft_run(ticks: int, *, monitor: bool, reasons: bool, seed: int = 1):
    """Run the workload; returns (seconds, messages delivered, ticks, cluster)."""
    c = rb.Cluster(5, seed=seed, monitor=monitor, record_reasons=reasons)
    c.run_until(lambda c: c.leader is not None, 500, latency=LATENCY)
    start_hist, start_now = len(c.history), c.now
    t0 = time.process_time()
    for k in range(ticks // PROPOSE_EVERY):
        if c.leader is not None:
            c.propose(("set", f"k{k % 50}", k))
        c.run(PROPOSE_EVERY, latency=LATENCY)
    secs = time.process_time() - t0
    delivered = sum(e.stats.get("delivered", 0) for e in c.history[start_hist:])
    return secs, delivered, c.now - start_now, c


def bare_loop(ticks: int, msgs_per_tick: float, seed: int = 1):
    """A heapq event loop with the same shape and no Raft work; returns (seconds, events)."""
    rng = random.Random(seed)
    randint = rng.randint
    lo, hi = LATENCY
    due: list = []
    push, pop = heapq.heappush, heapq.heappop
    whole, frac = int(msgs_per_tick), msgs_per_tick - int(msgs_per_tick)
    carry = 0.0
    events = 0
    next_id = 0
    t0 = time.process_time()
    for now in range(1, ticks + 1):
        events += 1                     # the tick itself
        carry += frac
        sends = whole + (1 if carry >= 1 else 0)
        if carry >= 1:
            carry -= 1
        for _ in range(sends):
            next_id += 1
            push(due, (now + randint(lo, hi), next_id))
        while due and due[0][0] <= now:
            pop(due)
            events += 1
    return time.process_time() - t0, events


def best_of(reps, fn):
    """The fastest of ``reps`` runs (the least disturbed by the machine)."""
    results = [fn() for _ in range(reps)]
    return min(results, key=lambda r: r[0])


def table(ticks: int, reps: int) -> list[dict]:
    rows = []
    configs = [("monitor on, reasons on (default)", True, True),
               ("monitor on, reasons off", True, False),
               ("monitor off, reasons on", False, True),
               ("monitor off, reasons off", False, False)]
    base = None
    for label, monitor, reasons in configs:
        secs, delivered, nticks, c = best_of(reps, lambda: raft_run(ticks, monitor=monitor,
                                                                     reasons=reasons))
        if monitor:
            rb.check_safety(c)
        if base is None:
            per_tick = delivered / nticks
            bsecs, bevents = best_of(reps, lambda: bare_loop(nticks, per_tick))
            base = bevents / bsecs
            rows.append({"run": "bare heapq event loop (baseline)", "events/s": base,
                         "msgs/s": None, "cost vs baseline": 1.0, "vs RaftScope": None})
        eps = (delivered + nticks) / secs
        mps = delivered / secs
        rows.append({"run": label, "events/s": eps, "msgs/s": mps,
                     "cost vs baseline": base / eps, "vs RaftScope": mps / RAFTSCOPE_MSGS_PER_S})
    return rows


def show(rows, ticks):
    print(f"Automatic runs: 5 servers, a proposal every {PROPOSE_EVERY} ticks, latency "
          f"{LATENCY[0]}-{LATENCY[1]} ticks, {ticks} ticks per run (best of several)\n")
    head = f"{'run':36} {'events/s':>12} {'msgs/s':>12} {'cost vs baseline':>17} {'vs RaftScope':>13}"
    print(head)
    print("-" * len(head))
    for r in rows:
        mps = "" if r["msgs/s"] is None else f"{r['msgs/s']:,.0f}"
        rs = "" if r["vs RaftScope"] is None else f"{r['vs RaftScope']:.2f}x"
        print(f"{r['run']:36} {r['events/s']:>12,.0f} {mps:>12} {r['cost vs baseline']:>16.1f}x "
              f"{rs:>13}")
    print("\ncost vs baseline: bare-loop events per Raft event (DESIGN.md: worth profiling above ~8)."
          f"\nvs RaftScope: messages delivered per second / {RAFTSCOPE_MSGS_PER_S:,} "
          "(RaftScope's model, headless, same workload).")


def profile(ticks):
    import cProfile
    import pstats
    pr = cProfile.Profile()
    pr.enable()
    raft_run(ticks, monitor=True, reasons=True)
    pr.disable()
    pstats.Stats(pr).sort_stats("tottime").print_stats(18)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="shorter runs, fewer repetitions")
    ap.add_argument("--profile", action="store_true", help="cProfile the default configuration")
    ap.add_argument("--ticks", type=int, default=None, help="ticks per run")
    args = ap.parse_args(argv)
    ticks = args.ticks or (2_000 if args.quick else 10_000)
    if args.profile:
        profile(ticks)
        return
    reps = 2 if args.quick else 3
    show(table(ticks, reps), ticks)


if __name__ == "__main__":
    main()
