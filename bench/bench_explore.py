"""How fast the exhaustive search and the fault campaigns run.

Search: for fixed bounds (3 servers, terms up to 2 or 3, one or two client
values) the table gives distinct states, states generated, depth, and states
per CPU second of this process, against a baseline measured in the same run:
a bare breadth-first search over a toy graph (tuple keys, a fingerprint set,
no Raft work), the ceiling of any Python search. The TLC column compares with
TLC's reported ~32,000 distinct states per second on the TLA+ Raft spec.

For reference, TLC on the TLA+ Raft spec with 3 servers, terms and logs up to 2,
one value and no restart, duplication or loss is reported at about 6.4 million
distinct states in 3.4 minutes. The first rows use the same servers, terms,
log length and value with the same events, plus a bound on messages in flight
(the spec's message bag is unbounded); see docs/explore.md for how the state
spaces differ.

Parallel search: the same bounds on one process and on every core; the
result must be the same. Besides wall time (disturbed by anything else the
machine runs) it reports the CPU seconds of the busiest process, which is the
wall time the search would take on idle cores.

Campaigns: the same seeds on one worker and on every core; the tables must be
equal (seeds are deterministic) and the ratio is the parallel speed-up. Wall
time is used there (the work is in other processes); the machine's load
average is printed, since other programs on it slow every figure.

    python bench/bench_explore.py            # the full tables (a few minutes)
    python bench/bench_explore.py --quick    # smaller bounds and fewer seeds
    python bench/bench_explore.py --bugs     # also search every catalogued bug
"""
from __future__ import annotations

import argparse
import os
import resource
import time

import pandas  # noqa: F401  (loaded up front, so that no timed run pays for it)

import raftbook as rb
from raftbook.explore import DEFAULT_EVENTS, explore_bugs

TLC_DISTINCT_PER_S = 32_000
TLC_REFERENCE = "TLC, TLA+ Raft spec: 3 servers, terms/logs <= 2, 1 value: ~6.4M distinct in 3.4 min"
NO_HEARTBEAT = ("timeout", "deliver", "propose")


def bare_bfs(count: int):
    """Breadth-first search over a toy graph, until ``count`` distinct states: (seconds,
    states generated). Each step builds a tuple, hashes it and looks it up, as the real
    search does, and nothing else."""
    root = (0, 0, 0)
    seen = {hash(root)}
    frontier = [root]
    generated = 0
    t0 = time.process_time()
    while frontier and len(seen) < count:
        nxt = []
        for a, b, c in frontier:
            for child in ((a + 1) % 997, b, c), (a, (b + 1) % 991, c), (a, b, (c + 1) % 7):
                generated += 1
                fp = hash(child)
                if fp not in seen:
                    seen.add(fp)
                    nxt.append(child)
        frontier = nxt
    return time.process_time() - t0, generated


def search_rows(quick: bool):
    rows = [
        ("terms<=2 logs<=2 1 value, in-flight<=4", dict(max_term=2, max_log=2, max_in_flight=4,
                                                         events=NO_HEARTBEAT)),
        ("  same, no symmetry reduction", dict(max_term=2, max_log=2, max_in_flight=4,
                                                events=NO_HEARTBEAT, symmetry=False)),
        ("  + heartbeats, in-flight<=3", dict(max_term=2, max_log=2, max_in_flight=3,
                                               events=DEFAULT_EVENTS)),
        ("terms<=3 logs<=2 1 value, in-flight<=3", dict(max_term=3, max_log=2, max_in_flight=3,
                                                         events=NO_HEARTBEAT)),
        ("terms<=2 logs<=2 2 values, in-flight<=4", dict(max_term=2, max_log=2, max_in_flight=4,
                                                          events=NO_HEARTBEAT, values=2)),
    ]
    if quick:
        rows = [(label, {**kw, "max_in_flight": min(kw["max_in_flight"], 3)})
                for label, kw in rows[:3]]
    return rows


def bench_search(quick: bool):
    print("Exhaustive search, 3 servers (CPU seconds of this process)")
    base_s, base_n = bare_bfs(100_000 if quick else 400_000)
    base_rate = base_n / base_s
    header = (f"{'bounds':44s} {'distinct':>9s} {'states':>10s} {'depth':>5s} {'done':>5s} "
              f"{'cpu s':>7s} {'states/s':>9s} {'distinct/s':>10s} {'vs bare':>8s} {'vs TLC':>7s}")
    print(header)
    print("-" * len(header))
    print(f"{'bare Python BFS on a toy graph (baseline)':44s} {'':>9s} {base_n:>10,d} {'':>5s} "
          f"{'':>5s} {base_s:>7.2f} {base_rate:>9,.0f} {'':>10s} {'1.0x':>8s}")
    for label, kw in search_rows(quick):
        t0 = time.process_time()
        r = rb.explore(3, progress=False, max_states=5_000_000, **kw)
        cpu = time.process_time() - t0
        rate, drate = r.states / cpu, r.distinct / cpu
        assert r.ok, r.verdict()
        print(f"{label:44s} {r.distinct:>9,d} {r.states:>10,d} {r.depth:>5d} "
              f"{'yes' if r.exhausted else 'no':>5s} {cpu:>7.2f} {rate:>9,.0f} {drate:>10,.0f} "
              f"{base_rate / rate:>7.1f}x {drate / TLC_DISTINCT_PER_S:>6.2f}x")
    print(f"vs bare: baseline states per generated Raft state. vs TLC: our distinct states/s "
          f"over TLC's ~{TLC_DISTINCT_PER_S:,}/s.\n({TLC_REFERENCE})\n")


def bench_parallel_search(quick: bool):
    cores = os.cpu_count() or 1
    kw = dict(max_term=2, max_log=2, max_in_flight=3 if quick else 4, events=NO_HEARTBEAT,
              symmetry=False)
    print(f"Parallel search, terms<=2 logs<=2 1 value in-flight<={kw['max_in_flight']}, "
          f"no symmetry (load average {os.getloadavg()[0]:.1f} on {cores} cores)")
    print(f"{'workers':>7s} {'distinct':>9s} {'wall s':>7s} {'main cpu':>8s} {'worker cpu':>18s} "
          f"{'busiest':>8s} {'speed-up (wall)':>15s} {'(busiest cpu)':>13s} {'distinct/s':>10s}")
    base = None
    for workers in sorted({1, max(cores, 2)}):
        t0, c0 = time.perf_counter(), time.process_time()
        r = rb.explore(3, workers=workers, progress=False, **kw)
        wall, main = time.perf_counter() - t0, time.process_time() - c0
        busiest = main + max([c for c in r.worker_cpu if c is not None], default=0.0)
        if base is None:
            base = (wall, busiest, r.distinct)
        assert r.distinct == base[2]
        cpus = "/".join(f"{c:.2f}" for c in r.worker_cpu if c is not None) or "-"
        print(f"{r.workers:>7d} {r.distinct:>9,d} {wall:>7.2f} {main:>8.2f} {cpus:>18s} "
              f"{busiest:>8.2f} {base[0] / wall:>14.2f}x {base[1] / busiest:>12.2f}x "
              f"{r.distinct / busiest:>10,.0f}")
    print("busiest: CPU seconds of the main process plus the busiest worker, the wall time "
          "on idle cores.\n")


def bench_campaigns(quick: bool):
    seeds, steps = (80, 60) if quick else (400, 150)
    cores = os.cpu_count() or 1
    print(f"Fault campaigns: {seeds} seeds, 5 servers, {steps} actions each "
          f"(load average {os.getloadavg()[0]:.1f} on {cores} cores)")
    results = {}
    for workers in sorted({1, max(cores, 2)}):
        c0 = time.process_time()
        k0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        t0 = time.perf_counter()
        r = rb.campaign(seeds, steps=steps, workers=workers, minimize=0, progress=False)
        wall = time.perf_counter() - t0
        k1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        kids = (k1.ru_utime + k1.ru_stime) - (k0.ru_utime + k0.ru_stime)
        # On idle cores the seeds split evenly: the main process plus one worker's share.
        busiest = time.process_time() - c0 + kids / r.workers
        results[workers] = (wall, busiest, r)
    one_wall, one_busy, one = results[1]
    print(f"{'workers':>7s} {'wall s':>7s} {'seeds/s':>8s} {'ticks/s':>9s} {'speed-up (wall)':>15s} "
          f"{'busiest cpu s':>13s} {'(busiest cpu)':>13s}")
    for workers, (wall, busy, r) in results.items():
        ticks = int(r.table["ticks"].sum())
        print(f"{r.workers:>7d} {wall:>7.2f} {seeds / wall:>8.1f} {ticks / wall:>9,.0f} "
              f"{one_wall / wall:>14.2f}x {busy:>13.2f} {one_busy / busy:>12.2f}x")
    same = all(r.table.drop(columns="seconds").equals(one.table.drop(columns="seconds"))
               for _, _, r in results.values())
    print(f"same table on every number of workers: {same}; failures: {len(one.failures)}\n")


def bench_bugs():
    print("Search on the catalogue of buggy handlers (raftbook.exercises.BUGS)")
    t = explore_bugs(progress=False)
    print(t.to_string())
    print(f"found {int(t['found'].sum())} of {len(t)}\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="smaller bounds, fewer seeds")
    ap.add_argument("--bugs", action="store_true", help="also search every catalogued bug")
    args = ap.parse_args()
    bench_search(args.quick)
    bench_parallel_search(args.quick)
    bench_campaigns(args.quick)
    if args.bugs:
        bench_bugs()


if __name__ == "__main__":
    main()
