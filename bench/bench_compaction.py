"""What log compaction costs and saves: automatic runs with and without snapshot_threshold.

The workload is bench_core's (5 servers, a client proposal every 10 ticks,
latency 1-3 ticks). Speed: events per second with the default configuration
and with ``Config(snapshot_threshold=k)``. Memory: after a long run, the
entries the servers' logs hold and the memory allocated by the run
(tracemalloc), with the monitor and reasons off so that what remains is the
cluster itself (the history, the monitor's records and the nodes' state).

    python bench/bench_compaction.py            # a long run (about a minute)
    python bench/bench_compaction.py --quick    # shorter
"""
from __future__ import annotations

import argparse
import sys
import time
import tracemalloc

import raftbook as rb

PROPOSE_EVERY = 10


def run(ticks: int, threshold, *, monitor=True, reasons=True, seed=1):
    c = rb.Cluster(5, seed=seed, config=rb.Config(snapshot_threshold=threshold),
                   monitor=monitor, record_reasons=reasons)
    c.run_until(lambda c: c.leader, 1000)
    start = time.process_time()
    delivered = 0
    for _ in range(ticks // PROPOSE_EVERY):
        if c.leader is not None:
            c.propose(("set", "k", c.now))
        ev = c.run(PROPOSE_EVERY)
        delivered += ev.stats.get("delivered", 0)
    seconds = time.process_time() - start
    return c, seconds, delivered + ticks


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    ticks = 4000 if args.quick else 20000
    print(f"speed: {ticks} ticks, best of 3 (events/s; monitor and reasons on)")
    for th in (None, 200, 50, 10):
        best = max(run(ticks, th)[2] / run(ticks, th)[1] for _ in range(3))
        print(f"  snapshot_threshold={str(th):>5}  {best:>10,.0f} events/s")
    print(f"\nmemory after {ticks * 5} ticks (monitor and reasons off)")
    for th in (None, 50):
        tracemalloc.start()
        c, _, _ = run(ticks * 5, th, monitor=False, reasons=False)
        current, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
        held = sum(len(n.log) for n in c.nodes.values())
        state = sum(sys.getsizeof(n.log._entries) + sum(sys.getsizeof(e) for e in n.log)
                    + sys.getsizeof(n.results) for n in c.nodes.values())
        last = max(n.log.last_index for n in c.nodes.values())
        print(f"  snapshot_threshold={str(th):>5}  last index {last:>6}, entries held {held:>6}, "
              f"logs and results {state / 1e3:8.1f} KB; everything allocated {current / 1e6:6.2f} MB "
              f"(peak {peak / 1e6:6.2f} MB, mostly the history)")


if __name__ == "__main__":
    main()
