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
import time

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


def bench_campaigns(quick: bool):
    seeds = 40 if quick else 200
    cores = os.cpu_count() or 1
    print(f"Fault campaigns: {seeds} seeds, 5 servers, 60 actions each (wall seconds; "
          f"load average {os.getloadavg()[0]:.1f} on {cores} cores)")
    results = {}
    for workers in sorted({1, cores}):
        t0 = time.perf_counter()
        r = rb.campaign(seeds, workers=workers, minimize=0, progress=False)
        results[workers] = (time.perf_counter() - t0, r)
    one_s, one = results[1]
    print(f"{'workers':>7s} {'seconds':>8s} {'seeds/s':>8s} {'ticks/s':>9s} {'speed-up':>8s}")
    for workers, (secs, r) in results.items():
        ticks = int(r.table["ticks"].sum())
        print(f"{workers:>7d} {secs:>8.2f} {seeds / secs:>8.1f} {ticks / secs:>9,.0f} "
              f"{one_s / secs:>7.2f}x")
    same = all(r.table.drop(columns="seconds").equals(one.table.drop(columns="seconds"))
               for _, r in results.values())
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
    bench_campaigns(args.quick)
    if args.bugs:
        bench_bugs()


if __name__ == "__main__":
    main()
