"""Automatic runs: tick every server and deliver messages as their latency elapses.

This is the simulator's hot path (a run of 10,000 ticks makes hundreds of
thousands of steps), so the loop binds what it calls to local names once. What
the network does to each message due is decided in ``Network.deliver_due``.
"""
from __future__ import annotations

import gc


def run_ticks(cluster, ticks: int, options: dict, until=None) -> tuple:
    """Advance ``ticks`` ticks with validated network ``options``; stop early once ``until(cluster)``.

    Returns ``(ticks done, goal reached, stats)``; stats count the messages
    delivered, dropped, duplicated and lost (to a crash or a partition).
    """
    net = cluster._net
    net.start_run(options, cluster.now)
    tick_all, deliver_due = cluster._tick_all, net.deliver_due
    arrive, copy, note = cluster._arrive, cluster._copy, cluster._rec.note
    trim = cluster._rec.trim
    done = 0
    reached = False
    # Crashes, restarts and partitions are events of their own, never inside a run.
    running = cluster._running_nodes()
    # A run makes many short-lived objects and no reference cycles: the cyclic garbage
    # collector would only rescan the ever longer history, so it waits for the run's end.
    collecting = gc.isenabled()
    gc.disable()
    try:
        if until is not None and until(cluster):
            ticks = 0  # the goal already holds: run no tick at all
            reached = True
        for _ in range(ticks):
            tick_all(running)
            deliver_due(cluster.now, arrive, copy, note)
            done += 1
            if not done & 63:
                trim()  # a long run keeps a bounded window of per-message records
            if until is not None:
                if until(cluster):
                    reached = True
                    break
                running = cluster._running_nodes()  # the goal is user code: take no chances
    finally:
        stats = net.end_run()
        if collecting:
            gc.enable()
    return done, reached, stats


def rerun_until(cluster, args: dict, options: dict) -> tuple:
    """Replay a recorded run_until: its goal was a function, so run the ticks it took."""
    done, _, stats = run_ticks(cluster, args["ticks"], options)
    return run_until_summary(done, cluster.now, args["reached"]), stats


def run_summary(done: int, now: int, stats: dict) -> str:
    return (f"ran {done} ticks to t={now}: {stats['delivered']} delivered, "
            f"{stats['dropped']} dropped, {stats['lost']} lost")


def run_until_summary(done: int, now: int, reached: bool) -> str:
    word = "reached the goal" if reached else "gave up"
    return f"ran {done} ticks to t={now} and {word}"
