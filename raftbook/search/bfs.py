"""Breadth-first search over a :class:`~raftbook.statespace.StateSpace`, on one or more cores.

The search keeps a 64-bit fingerprint per state seen and, per state, its
parent and the event that led to it (two integers), so the shortest path to
anything it finds is rebuilt at the end by replaying those events. Levels are
expanded in chunks of :data:`CHUNK` parents, in order.

With several workers, forked processes take over once a level is large: each
owns the states it finds and sends the main process only fingerprints and
event codes; the main process deduplicates them in exactly the order one
process would, and tells each worker which of its states to keep. States never
travel between processes (in CPython, shipping a state costs about as much as
computing it), so the result does not depend on the number of workers.
"""
from __future__ import annotations

import heapq
import multiprocessing
import time
from array import array

from ..errors import HandlerError, RaftbookError

def _report(bar, depth, states, distinct, frontier, t0, force=False):
    elapsed = time.perf_counter() - t0
    rate = distinct / elapsed if elapsed > 0 else 0.0
    bar.update(depth, f"depth {depth}: {states:,} states, {distinct:,} distinct, {frontier:,} to "
                      f"expand, {rate:,.0f} distinct/s", force)


#: Parents expanded together between progress reports and max_states checks.
CHUNK = 256


def _expand(search, items, seen, keep=True):
    """Expand ``items`` ((state, index) pairs): new children in order, and what was found.

    Returns ``(children, states, out_of_bounds, finding)``; each child is
    ``(parent index, event code, fingerprint, state, meets the goal)`` (state None
    unless ``keep``). Stops at the first violation, handler error or goal.
    """
    enabled, apply, keyfn = search.enabled, search.apply, search.key
    goal = search.goal
    local = set()
    out = []
    states = out_of_bounds = 0
    for state, idx in items:
        for code in enabled(state):
            try:
                child, viol, ok = apply(state, code)
            except HandlerError as exc:
                return out, states, out_of_bounds, (idx, code, "error", exc)
            except RaftbookError as exc:
                return out, states, out_of_bounds, (idx, code, "error", HandlerError(
                    f"a handler left the node in a state the core rejects: {exc}"))
            states += 1
            if viol is not None:
                return out, states, out_of_bounds, (idx, code, "violation", viol)
            if not ok:
                out_of_bounds += 1
                continue
            fp = hash(keyfn(child))
            if fp in seen or fp in local:
                continue
            local.add(fp)
            hit = goal is not None and search.goal_met(child)
            out.append((idx, code, fp, child if keep else None, hit))
            if hit:
                return out, states, out_of_bounds, None
    return out, states, out_of_bounds, None


#: Frontier size from which a search with several workers hands the levels to them.
PARALLEL_FROM = 256


def _worker(conn, search, frontier):
    """A search process: it owns the states it finds, and sends only fingerprints.

    Each round it expands its share of the level and reports, per parent, the
    new children ``(parent index, ordinal, code, fingerprint, meets goal)``,
    the counts, and its first finding; then it keeps the children the main
    process accepted (``("keep", [(position, index), ...])``).
    """
    sent = set()  # fingerprints already reported: the main process has them all
    pending = None
    enabled, apply, keyfn, goal = search.enabled, search.apply, search.key, search.goal
    try:
        while True:
            msg = conn.recv()
            if msg[0] == "stop":
                conn.send(("cpu", time.process_time()))
                return
            if msg[0] == "keep":
                frontier = [(pending[j], g) for j, g in msg[1]]
                pending = None
                continue
            items, counts, pending, finding = [], [], [], None
            for state, gidx in frontier:
                n_states = n_oob = 0
                for t, code in enumerate(enabled(state)):
                    try:
                        child, viol, ok = apply(state, code)
                    except HandlerError as exc:
                        finding = (gidx, t, code, "error", exc)
                        break
                    except RaftbookError as exc:
                        finding = (gidx, t, code, "error", HandlerError(
                            f"a handler left the node in a state the core rejects: {exc}"))
                        break
                    n_states += 1
                    if viol is not None:
                        finding = (gidx, t, code, "violation", viol)
                        break
                    if not ok:
                        n_oob += 1
                        continue
                    fp = hash(keyfn(child))
                    if fp in sent:
                        continue
                    sent.add(fp)
                    hit = goal is not None and search.goal_met(child)
                    items.append((gidx, t, code, fp, hit))
                    pending.append(child)
                    if hit:
                        finding = (gidx, t, code, "goal", None)
                        break
                counts.append((gidx, n_states, n_oob))
                if finding is not None:
                    break
            conn.send((items, counts, finding))
    except Exception as exc:  # a bug here must not leave the main process waiting
        conn.send(("failed", f"{type(exc).__name__}: {exc}"))


class _Workers:
    """The forked search processes of one parallel search."""

    def __init__(self, search, frontier, workers):
        ctx = multiprocessing.get_context("fork")
        self.conns, self.procs = [], []
        for w in range(workers):
            mine, theirs = ctx.Pipe()
            proc = ctx.Process(target=_worker, args=(theirs, search, frontier[w::workers]),
                               daemon=True)
            proc.start()
            theirs.close()
            self.conns.append(mine)
            self.procs.append(proc)

    def expand(self):
        for conn in self.conns:
            conn.send(("expand",))
        out = []
        for conn in self.conns:
            got = conn.recv()
            if got[0] == "failed":
                raise RaftbookError(f"a search worker failed: {got[1]}")
            out.append(got)
        return out

    def keep(self, kept):
        for conn, mine in zip(self.conns, kept):
            conn.send(("keep", mine))

    def close(self):
        """Stop the workers; returns the CPU seconds each one used (None if unknown)."""
        cpu = []
        for conn in self.conns:
            try:
                conn.send(("stop",))
                got = conn.recv() if conn.poll(5) else None
            except (OSError, EOFError):
                got = None
            cpu.append(got[1] if got and got[0] == "cpu" else None)
        for proc in self.procs:
            proc.join(timeout=5)
            if proc.is_alive():
                proc.terminate()
        return cpu


def _parallel_level(pool, first, size, seen, parents, codes, max_states):
    """Merge one level the workers expanded, in the order a single process would.

    Returns ``(states, out_of_bounds, accepted, found, stopped)``.
    """
    results = pool.expand()
    stop = min(((f[0], f[1]) for _, _, f in results if f is not None), default=None)
    finding = next((f for _, _, f in results if f is not None and (f[0], f[1]) == stop), None)
    counts = heapq.merge(*[c for _, c, _ in results])
    items = heapq.merge(*[[(g, t, code, fp, hit, w, j) for j, (g, t, code, fp, hit) in enumerate(i)]
                          for w, (i, _, _) in enumerate(results)])
    item = next(items, None)
    kept = [[] for _ in results]
    states = oob = accepted = 0
    found, stopped = None, ""
    for gidx, n_states, n_oob in counts:
        pos = gidx - first
        if pos and pos % CHUNK == 0 and len(seen) >= max_states:
            stopped = f"stopped at max_states={max_states:,}"
            break
        if stop is not None and gidx > stop[0]:
            break
        states += n_states
        oob += n_oob
        while item is not None and item[0] == gidx:
            g, t, code, fp, hit, w, j = item
            item = next(items, None)
            if fp in seen:
                continue
            seen.add(fp)
            parents.append(g)
            codes.append(code)
            kept[w].append((j, len(parents) - 1))
            accepted += 1
            if hit:
                found = (len(parents) - 1, None, "goal", None)
                break
        if found is not None:
            break
        if stop is not None and gidx == stop[0]:
            found = (finding[0], finding[2], finding[3], finding[4])
            break
    else:
        if size and len(seen) >= max_states:
            stopped = f"stopped at max_states={max_states:,}"
    if found is None and not stopped:
        pool.keep(kept)
    return states, oob, accepted, found, stopped


def bfs(search, result, max_depth, max_states, bar, workers=1):
    """Search breadth first; fills ``result`` (an ExploreResult) with counts and what was found."""
    t0 = time.perf_counter()
    root = search.root
    parents = array("q", [-1])
    codes = array("q", [-1])
    seen = {hash(search.key(root))}
    states = 1
    out_of_bounds = 0
    found = None  # (index of the parent, code, kind of finding, payload)
    if search.goal_met(root):
        found = (-1, None, "goal", None)
    frontier = [(root, 0)]
    size = 1  # states in the frontier (held by the workers once they run)
    pool = None
    depth = 0
    stopped = ""
    try:
        while size and found is None:
            if max_depth is not None and depth >= max_depth:
                stopped = f"stopped at max_depth={max_depth}"
                break
            first = len(parents) - size
            if pool is None and workers > 1 and size >= PARALLEL_FROM and \
                    "fork" in multiprocessing.get_all_start_methods():
                pool = _Workers(search, frontier, workers)
                frontier = None
            if pool is not None:
                n_states, n_oob, size, found, stopped = _parallel_level(
                    pool, first, size, seen, parents, codes, max_states)
                states += n_states
                out_of_bounds += n_oob
                if bar is not None:
                    _report(bar, depth + 1, states, len(seen), size, t0)
                depth += 1
                if stopped:
                    break
                continue
            nxt = []
            for k in range(0, len(frontier), CHUNK):
                children, n_states, n_oob, finding = _expand(search, frontier[k:k + CHUNK], seen)
                states += n_states
                out_of_bounds += n_oob
                for idx, code, fp, child, hit in children:
                    if fp in seen:
                        continue
                    seen.add(fp)
                    parents.append(idx)
                    codes.append(code)
                    nxt.append((child, len(parents) - 1))
                    if hit:
                        found = (len(parents) - 1, None, "goal", None)
                        break
                if found is None and finding is not None:
                    found = finding
                if bar is not None:
                    _report(bar, depth + 1, states, len(seen), len(nxt), t0)
                if found is not None:
                    break
                if len(seen) >= max_states:
                    stopped = f"stopped at max_states={max_states:,}"
                    break
            frontier = nxt
            size = len(nxt)
            depth += 1
            if stopped:
                break
    finally:
        if pool is not None:
            result.worker_cpu = pool.close()
    result.workers = len(result.worker_cpu) or 1
    frontier = size
    result.exhausted = found is None and not frontier and not stopped
    if found is None and not frontier and not stopped:
        depth -= 1  # the last level added nothing new
    result.stopped = stopped or ("exhausted" if result.exhausted else "")
    result.seconds = time.perf_counter() - t0
    result.states, result.distinct, result.out_of_bounds = states, len(seen), out_of_bounds
    result.depth = max(depth, 0)
    if bar is not None:
        _report(bar, result.depth, states, len(seen), 0, t0, force=True)
    if found is None:
        return
    idx, code, what, payload = found
    chain = []
    while idx > 0:
        chain.append(codes[idx])
        idx = parents[idx]
    chain.reverse()
    if code is not None:
        chain.append(code)
    path, state = [], root
    for k, c in enumerate(chain):
        path.append(search.decode(state, c))
        if what == "error" and k == len(chain) - 1:
            break  # this event raised
        state = search.apply(state, c)[0]
    result.path = path
    result.depth = max(result.depth, len(path))
    if what == "violation":
        payload.event = len(path) - 1
        payload.time = sum(1 for ev in path if ev[0] == "heartbeat")  # one tick each
        result.violation = payload
    elif what == "error":
        result.handler_error = payload
    else:
        result.goal_reached = True

