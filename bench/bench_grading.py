"""How long grading takes: each grader on the reference rule and on every catalogued bug.

For every graded function this times ``rb.grade`` (all three layers, seed 0)
on the reference rule (what a student with a correct answer waits for) and on
each bug of the catalogue (a failing grade also minimizes the failing
campaign). It also times one campaign alone and a bare ``heapq`` event loop
of a million events, the baseline measured in the same run, so the ratios
compare on any machine, and the isolated grading of one assignment (each of
its six graded checks in a fresh process, as nbgrader runs them). The targets:
a median grade call under a second, all graders together under a minute, one
assignment graded in isolation within 20 s.

    python bench/bench_grading.py            # the full table
    python bench/bench_grading.py --quick    # one repetition
"""
from __future__ import annotations

import argparse
import heapq
import statistics
import time

import raftbook as rb
from raftbook.exercises import BUGS, GRADED
from raftbook.exercises import grade_isolated
from raftbook.exercises.campaign import run_campaign
from raftbook.exercises.differential import reference_outcomes, run_differential
from raftbook.exercises.grader import run_checks
from raftbook.rules import reference_handlers_all


def timed(fn, reps):
    times = []
    for _ in range(reps):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def heapq_loop(events=1_000_000):
    """The baseline: a bare discrete-event loop (push one, pop one)."""
    q = [(0, 0)]
    for i in range(events):
        t, _ = heapq.heappop(q)
        heapq.heappush(q, (t + 1 + (i & 3), i))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="one repetition instead of three")
    reps = 1 if ap.parse_args().quick else 3
    base = timed(heapq_loop, reps)
    rows = []
    for name in GRADED:
        fn = reference_handlers_all[name]
        # rb.grade flags the reference itself as delegation; time its checks as a student's copy's.
        rows.append((name, "reference", timed(lambda: run_checks(name, fn), reps)))
    for bug in BUGS.values():
        rows.append((bug.handler, bug.name, timed(lambda: rb.grade(bug.handler, bug.fn), reps)))
    one = timed(lambda: run_campaign("request_vote", reference_handlers_all["request_vote"], 1, 5), reps)
    bug = BUGS["up_to_date_by_length"]
    iso = timed(lambda: [grade_isolated(bug.handler, bug.fn, [layer], seed=s) for layer in ("rules", "scenarios",
                         "campaigns") for s in (0, 7)], reps)
    sweeps = []
    for name in GRADED:
        fn = reference_handlers_all[name]
        first = timed(lambda: (reference_outcomes.__globals__["_REFERENCE"].clear(), reference_outcomes(name, 0)), 1)
        sweeps.append((name, len(reference_outcomes(name, 0)), first, timed(lambda: run_differential(name, fn, 0), reps)))
    print(f"baseline: bare heapq loop, 1M events: {base * 1000:8.1f} ms (median of {reps})")
    for name, count, first, t in sweeps:
        print(f"comparison with the reference, {name:22s} {count:5d} situations: {t * 1000:6.1f} ms "
              f"(the reference's outcomes, once per process: {first * 1000:6.1f} ms)")
    print(f"one reference campaign (5 servers):   {one * 1000:8.1f} ms = {one / base:.3f} x baseline\n")
    print(f"{'function':22s} {'graded':34s} {'seconds':>8s} {'x baseline':>11s}")
    for name, what, t in rows:
        print(f"{name:22s} {what:34s} {t:8.3f} {t / base:11.2f}")
    total = sum(t for _, _, t in rows)
    ref = sum(t for _, what, t in rows if what == "reference")
    slowest = max(rows, key=lambda r: r[2])
    print(f"\nall {len(rows)} grades together: {total:.2f} s = {total / base:.1f} x baseline "
          f"(target: under 60 s, so {60 / total:.1f}x headroom)")
    print(f"the {len(GRADED)} reference rules: {ref:.2f} s together, {ref / len(GRADED):.3f} s each on average")
    print(f"slowest: {slowest[1]} ({slowest[0]}) {slowest[2]:.2f} s")
    print(f"median grade (rules layer with the comparison with the reference): "
          f"{statistics.median(t for _, _, t in rows):.3f} s (target: <= 1 s)")
    print(f"isolated grading of one assignment (A1's six graded checks, each in a fresh process): "
          f"{iso:.2f} s (target: <= 20 s)")


if __name__ == "__main__":
    main()
