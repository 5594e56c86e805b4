"""What explaining a run costs: recording reasons in automatic runs, and drawing the diagram.

Two tables, each against a baseline measured in the same run, so the figures
compare on any machine:

1. recording: ``c.run`` of 5 servers with client requests, drops and
   duplicates, with ``record_reasons=False`` (the baseline) and ``True`` (the
   default: every reason and every network action kept for explain() and the
   diagram). The ratio is the price of "why?" in automatic mode.
2. rendering: ``spacetime_svg`` of the last 40 events (what the widget's
   Space-time tab draws), ``explain()`` of the whole history and
   ``explain_text``, for 3, 5 and 7 servers after a long run, against a
   matplotlib redraw of a 5-node networkx graph (about 16 ms in DESIGN.md).

    python bench/bench_explain.py            # the full tables
    python bench/bench_explain.py --quick    # fewer repetitions
"""
from __future__ import annotations

import argparse
import statistics
import time

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import networkx as nx  # noqa: E402

import raftbook as rb  # noqa: E402
from raftbook.diagram import spacetime_svg  # noqa: E402
from raftbook.explain import explain, explain_text  # noqa: E402


def timed(fn, reps: int) -> float:
    """Median milliseconds of ``fn()``."""
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def workload(record_reasons: bool, rounds: int):
    def go():
        c = rb.Cluster(5, seed=1, record_reasons=record_reasons)
        c.run_until(lambda c: c.leader is not None, 500)
        for k in range(rounds):
            if c.leader is not None:
                c.propose(("set", "k", k))
            c.run(100, drop_rate=0.05, duplicate_rate=0.02)
        return c
    return go


def long_run(n: int, ticks: int) -> rb.Cluster:
    c = rb.Cluster(n, seed=2)
    c.run_until(lambda c: c.leader is not None, 1000)
    for k in range(ticks // 100):
        if c.leader is not None:
            c.propose(("set", "k", k))
        c.run(100, drop_rate=0.05, duplicate_rate=0.05)
    for _ in range(20):
        c.tick()
        if c.in_flight:
            c.deliver(c.in_flight[0].id)
    return c


def matplotlib_redraw():
    g = nx.cycle_graph(5)
    pos = nx.circular_layout(g)
    fig, ax = plt.subplots(figsize=(4, 4))

    def draw():
        ax.clear()
        nx.draw(g, pos, ax=ax, with_labels=True, node_color="#a0aec0")
        fig.canvas.draw()
    return draw


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = ap.parse_args(argv)
    reps = 3 if args.quick else 9
    rounds = 10 if args.quick else 30

    off = timed(workload(False, rounds), reps)
    on = timed(workload(True, rounds), reps)
    c = workload(True, rounds)()
    delivered = sum(e.stats.get("delivered", 0) for e in c.history)
    print(f"recording reasons in c.run (5 servers, {rounds * 100} ticks, {delivered} messages delivered)")
    print(f"{'record_reasons':>16} {'ms':>8} {'msgs/s':>10} {'ratio':>7}")
    print(f"{'False (baseline)':>16} {off:8.1f} {delivered / off * 1e3:10.0f} {1.0:7.2f}")
    print(f"{'True':>16} {on:8.1f} {delivered / on * 1e3:10.0f} {on / off:7.2f}")

    base = timed(matplotlib_redraw(), reps)
    print()
    print(f"rendering after a long run, against a matplotlib redraw ({base:.1f} ms)")
    print(f"{'servers':>7} {'events':>6} {'reasons':>7} {'spacetime last 40':>18} {'explain()':>10} "
          f"{'explain_text':>12} {'svg/mpl':>8}")
    ticks = 600 if args.quick else 2000
    for n in (3, 5, 7):
        c = long_run(n, ticks)
        st = timed(lambda: spacetime_svg(c, start=-40), reps)
        ex = timed(lambda: explain(c), reps)
        tx = timed(lambda: explain_text(c), reps)
        print(f"{n:7d} {len(c.history):6d} {len(c.reasons()):7d} {st:15.1f} ms {ex:7.1f} ms "
              f"{tx:9.1f} ms {st / base:8.2f}")


if __name__ == "__main__":
    main()
