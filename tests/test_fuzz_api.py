"""Junk in, clear error out: every cluster entry point, fed junk, succeeds or raises a
RaftbookError with a short message, and a call that raises leaves the cluster unchanged."""
from __future__ import annotations

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import raftbook as rb

#: The kinds of junk, each one value: every entry point meets every one of them.
JUNK_VALUES = [
    None, True, False, -1, 0, 1, 2, 3, 12, 2**63, 10**5000, -(10**400), 0.5, float("inf"),
    float("nan"), "", "1", "x" * 5000, b"1", [], [None], {}, {1: 2}, set(), {1, 2},
    (1, 10**100), (1, 2, 3), (2, 1), [[]], object(), np.int64(2), np.float64(0.5), np.bool_(True),
    ("set", "k", 10**5000), ("get",), ("set", [], 1), lambda c: 1 / 0, lambda c: c.tick(),
]
JUNK = st.one_of(st.sampled_from(JUNK_VALUES), st.integers(-3, 12),
                 st.floats(allow_nan=True, allow_infinity=True), st.text(max_size=5))

# name -> (function of cluster and two junk values, how many junk values it uses)
ENTRY_POINTS = {
    "tick": lambda c, a, b: c.tick(),
    "timeout": lambda c, a, b: c.timeout(a),
    "deliver": lambda c, a, b: c.deliver(a),
    "drop": lambda c, a, b: c.drop(a),
    "duplicate": lambda c, a, b: c.duplicate(a),
    "crash": lambda c, a, b: c.crash(a),
    "restart": lambda c, a, b: c.restart(a),
    "partition": lambda c, a, b: c.partition(a, b),
    "heal": lambda c, a, b: c.heal(),
    "propose": lambda c, a, b: c.propose(a),
    "propose_to": lambda c, a, b: c.propose(("set", "k", 1), node=a),
    "run": lambda c, a, b: c.run(a),
    "run_latency": lambda c, a, b: c.run(3, latency=a),
    "run_rates": lambda c, a, b: c.run(3, drop_rate=a, duplicate_rate=b),
    "run_until": lambda c, a, b: c.run_until(a, b),
    "run_until_goal": lambda c, a, b: c.run_until(a, 5),
    "goto": lambda c, a, b: c.goto(a),
    "restore": lambda c, a, b: c.restore(a),
    "status": lambda c, a, b: c.status(a),
    "result": lambda c, a, b: c.result(a),
    "can_reach": lambda c, a, b: c.can_reach(a, b),
    "envelope": lambda c, a, b: c.envelope(a),
    "explain": lambda c, a, b: c.explain(node=a),
    "explain_kind": lambda c, a, b: c.explain(kind=a),
    "from_trace": lambda c, a, b: rb.Cluster.from_trace(a),
    "load_trace": lambda c, a, b: rb.Cluster.load_trace(a) if not isinstance(a, (str, bytes)) else None,
    "cluster": lambda c, a, b: rb.Cluster(a, seed=b),
    "check_safety": lambda c, a, b: rb.check_safety(a),
    "check_linearizability": lambda c, a, b: rb.check_linearizability(a, budget=1000),
    "check_lin_budget": lambda c, a, b: rb.check_linearizability([], budget=a, timeout=b),
}

#: Entry points that are known to raise something other than a RaftbookError on some
#: junk (kept empty: a name here is a defect to fix).
KNOWN_BAD: set = set()


def _call(name, a, b):
    """None if the call behaved (success, or a short RaftbookError and no change); else what went wrong."""
    c = BASE
    c.restore(SNAP)
    before = _state(c)
    try:
        ENTRY_POINTS[name](c, a, b)
    except rb.RaftbookError as exc:
        if len(str(exc)) >= 2000:
            return f"{name}: a message of {len(str(exc))} characters"
        if _state(c) != before:
            return f"{name} raised {type(exc).__name__} and changed the cluster"
    except Exception as exc:  # noqa: BLE001 - any other error is the finding
        return f"{name}({_short(a)}, {_short(b)}) raised {type(exc).__name__}: {str(exc)[:150]}"
    return None


def _short(x):
    try:
        text = repr(x)
    except Exception:
        return f"<{type(x).__name__}>"
    return text[:40]


def test_every_entry_point_meets_every_kind_of_junk():
    """The table: each entry point with each junk value as its first argument (and a plain
    second one), then as its second. Prints every misbehaving call before failing."""
    bad = []
    calls = 0
    for name in sorted(ENTRY_POINTS):
        for junk in JUNK_VALUES:
            for a, b in ((junk, 1), (1, junk)):
                calls += 1
                problem = _call(name, a, b)
                if problem is not None and name not in KNOWN_BAD:
                    bad.append(problem)
    print(f"{calls} calls, {len(bad)} misbehaving")
    assert not bad, f"{len(bad)} of {calls} calls misbehaved:\n" + "\n".join(bad)


def _state(c):
    return c.fingerprint(), len(c.history), len(c.proposals)


def _fresh():
    c = rb.Cluster(3, seed=1)
    c.run_until(lambda c: c.leader is not None, 300)
    c.propose(("set", "k", 1))
    c.tick()
    return c


BASE = _fresh()
SNAP = BASE.snapshot()


@settings(max_examples=300, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(ENTRY_POINTS)), a=JUNK, b=JUNK)
def test_junk_gives_success_or_a_raftbook_error_and_no_change(name, a, b):
    c = BASE
    c.restore(SNAP)
    before = _state(c)
    try:
        ENTRY_POINTS[name](c, a, b)
    except rb.RaftbookError as exc:
        assert len(str(exc)) < 2000, f"{name}: a message of {len(str(exc))} characters"
        assert _state(c) == before, f"{name} raised {exc!r} and changed the cluster"
    except BaseException as exc:  # noqa: BLE001 - any other error is the finding
        if name in KNOWN_BAD:
            return
        raise AssertionError(f"{name}({a!r:.60}, {b!r:.60}) raised {type(exc).__name__}: {exc!s:.200}")
