"""How much memory a long session costs: bytes per tick and per event, for each way of driving a cluster.

Each mode runs in a fresh interpreter and reports how much its resident memory
grew (after a garbage collection), divided by the simulated ticks and by the
recorded events. The baseline, measured in the same run, is a bare Python list
holding one small tuple per event (what the cheapest possible history would
cost); the ratio column says how many of those one recorded event costs.

Modes (issue 14's targets in the last column):
  play10    the widget's Play for one simulated hour at 10 ticks/s: 36,000 x c.run(1)
  play200   Play for one hour at 200 ticks/s: 36,000 x c.run(20)
  manual    20,000 hand ticks: c.tick()
  tickN     Tick N = 10,000 clicked three times (30,000 c.tick())
  run       c.run(10**6) with the defaults

    python bench/bench_memory.py                 # the full table (about a minute)
    python bench/bench_memory.py --quick         # a tenth of the work (targets scaled)
    python bench/bench_memory.py --against DIR   # also measure the raftbook in DIR (e.g. an
                                                 # older checkout) in the same run
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

#: mode -> (what it does, calls, ticks per call, target growth in MB or None)
MODES = {
    "play10": ("Play 1 h at 10 ticks/s", 36_000, 1, 50),
    "play200": ("Play 1 h at 200 ticks/s", 36_000, 20, None),
    "manual": ("20,000 hand ticks", 20_000, 1, 200),
    "tickN": ("Tick N=10,000 three times", 30_000, 1, None),
    "run": ("c.run(10**6)", 1, 1_000_000, 100),
    "baseline": ("bare list, one tuple per event", 36_000, 1, None),
}

CHILD = r"""
import gc, json, sys, time
def rss():
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * __import__("os").sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
mode, calls, per = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
import raftbook as rb
c = rb.Cluster(5, seed=1)
gc.collect()
r0, t0 = rss(), time.process_time()
if mode == "baseline":
    keep = [(k, "run", k * per) for k in range(calls)]
elif mode in ("manual", "tickN"):
    for _ in range(calls):
        c.tick()
else:
    for _ in range(calls):
        c.run(per)
gc.collect()
out = {"bytes": rss() - r0, "secs": time.process_time() - t0,
       "events": calls if mode == "baseline" else len(c.history), "ticks": calls * per}
print(json.dumps(out))
"""


def measure(mode: str, calls: int, per: int, tree: str) -> dict:
    env = dict(os.environ, PYTHONPATH=tree, PYTHONHASHSEED="0")
    out = subprocess.run([sys.executable, "-c", CHILD, mode, str(calls), str(per)], env=env, cwd=tree,
                         capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="a tenth of the work, targets scaled")
    ap.add_argument("--against", metavar="DIR", help="also measure the raftbook package in DIR")
    ap.add_argument("--modes", default=",".join(MODES), help="comma-separated modes to run")
    args = ap.parse_args()
    scale = 10 if args.quick else 1
    trees = [("this", HERE)] + ([("against", os.path.abspath(args.against))] if args.against else [])
    modes = [m for m in args.modes.split(",") if m]
    base = measure("baseline", MODES["baseline"][1] // scale, 1, HERE)
    base_per_event = max(base["bytes"], 1) / base["events"]
    print(f"baseline: {base_per_event:,.0f} bytes per event (a list of one small tuple per event)\n")
    print(f"| {'mode':<28} | {'tree':<7} | {'growth MB':>9} | {'B/tick':>7} | {'B/event':>8} "
          f"| {'vs baseline':>11} | {'CPU s':>6} | target |")
    print(f"|{'-' * 30}|{'-' * 9}|{'-' * 11}|{'-' * 9}|{'-' * 10}|{'-' * 13}|{'-' * 8}|--------|")
    for mode in modes:
        if mode == "baseline":
            continue
        label, calls, per, target = MODES[mode]
        if mode == "run":
            per //= scale
        else:
            calls //= scale
        for name, tree in trees:
            r = measure(mode, calls, per, tree)
            mb = r["bytes"] / 1e6
            per_event = r["bytes"] / max(r["events"], 1)
            goal = "" if target is None else (f"<{target / scale:g} " + ("ok" if mb < target / scale else "MISS"))
            print(f"| {label:<28} | {name:<7} | {mb:9.1f} | {r['bytes'] / r['ticks']:7,.0f} "
                  f"| {per_event:8,.0f} | {per_event / base_per_event:10.1f}x | {r['secs']:6.1f} | {goal:<6} |")


if __name__ == "__main__":
    main()
