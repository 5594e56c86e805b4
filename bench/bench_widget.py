"""How long one widget click takes (event + redraw), against a matplotlib redraw.

For 3, 5 and 7 servers with 0, 20 and 100 messages in flight, this times:

- click: ``Button.click()`` on "Tick" (the cluster call, the control updates
  and the SVG redraw: everything the kernel does before it sends the new
  picture to the browser);
- undo: the "Undo" click that follows each timed Tick (``c.undo()`` replays the
  events since the core's last checkpoint, so it costs more than a Tick);
- svg: :func:`raftbook.view.render_svg` alone;
- matplotlib: drawing the same networkx graph (``cluster_graph``) at the same
  positions with ``nx.draw`` and rendering the canvas (Agg), what a widget
  built on matplotlib would do per click.

It prints the median milliseconds and the ratio matplotlib / click, measured in
the same run, so the figures compare on any machine. DESIGN.md's target: a
click under 2 ms for 7 servers; a matplotlib redraw is about 16 ms.

    python bench/bench_widget.py            # the full table
    python bench/bench_widget.py --quick    # fewer repetitions
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
from raftbook.view import ROLE_FILL, cluster_graph, layout, render_svg  # noqa: E402
from raftbook.widgets import ClusterWidget  # noqa: E402


def cluster_with(n: int, messages: int) -> rb.Cluster:
    """A cluster with an elected leader, some log, and exactly ``messages`` in flight."""
    c = rb.Cluster(n, seed=7)
    c.run_until(lambda c: c.leader is not None, 1000)
    for k in range(3):
        c.propose(("set", f"k{k}", k))
        c.run(8)
    c.run(30)
    for env in c.in_flight:
        c.drop(env.id)
    while len(c.in_flight) < messages:
        c.propose(("set", "y", len(c.in_flight)))
    for env in c.in_flight[messages:]:
        c.drop(env.id)
    assert len(c.in_flight) == messages
    return c


def click_ms(w, reps: int):
    """Median ms of a Tick click and of the Undo click after it (so the state stays put)."""
    tick, undo = w.buttons["Tick"], w.buttons["Undo"]
    t_tick, t_undo = [], []
    for _ in range(reps):
        t = time.perf_counter()
        tick.click()
        t_tick.append(time.perf_counter() - t)
        t = time.perf_counter()
        undo.click()
        t_undo.append(time.perf_counter() - t)
    return statistics.median(t_tick) * 1e3, statistics.median(t_undo) * 1e3


def median_ms(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times) * 1e3


def matplotlib_redraw(c, fig, ax):
    g = cluster_graph(c)
    pos = layout(c.n, c.groups)["pos"]
    colours = [ROLE_FILL[g.nodes[i]["role"]] for i in g.nodes]

    def draw():
        ax.clear()
        nx.draw(g, pos, ax=ax, with_labels=True, node_color=colours, node_size=900,
                connectionstyle="arc3,rad=0.1", arrows=True)
        fig.canvas.draw()
    return draw


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = ap.parse_args(argv)
    reps, mpl_reps = (40, 5) if args.quick else (300, 20)
    fig, ax = plt.subplots(figsize=(6, 6), dpi=72)
    rows = []
    for n in (3, 5, 7):
        for messages in (0, 20, 100):
            c = cluster_with(n, messages)
            w = ClusterWidget(c)
            click_ms(w, 5)  # warm up
            t_click, t_undo = click_ms(w, reps)
            assert w.last_error is None, w.last_error
            assert len(c.in_flight) == messages
            t_svg = median_ms(lambda: render_svg(c), reps)
            size = len(render_svg(c)) / 1024
            t_mpl = median_ms(matplotlib_redraw(c, fig, ax), mpl_reps)
            rows.append((n, messages, t_click, t_undo, t_svg, size, t_mpl))
            w.close()
    plt.close(fig)
    print(f"{'servers':>7} {'in flight':>9} {'click ms':>9} {'undo ms':>8} {'svg ms':>7} "
          f"{'svg KB':>7} {'mpl ms':>7} {'mpl/click':>9}")
    for n, m, tc, tu, ts, kb, tm in rows:
        print(f"{n:>7} {m:>9} {tc:>9.2f} {tu:>8.2f} {ts:>7.2f} {kb:>7.1f} {tm:>7.1f} "
              f"{tm / tc:>8.1f}x")
    worst = max(r[2] for r in rows)
    print(f"\nslowest click: {worst:.2f} ms (target: under 2 ms for 7 servers, 100 in flight)")
    return rows


if __name__ == "__main__":
    main()
