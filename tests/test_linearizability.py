"""The linearizability checker on hand-written histories, and against brute force."""
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import raftbook as rb
from raftbook.linearizability import check_key

Op = rb.Operation


def lin(*ops):
    return rb.check_linearizability(list(ops))


def w(client, key, value, call, ret):
    return Op(client, ("set", key, value), call, ret, value)


def r(client, key, output, call, ret):
    return Op(client, ("get", key), call, ret, output)


# -- accepted ----------------------------------------------------------------------------------
def test_sequential_history():
    assert lin(w(1, "x", 1, 0, 1), r(2, "x", 1, 2, 3), w(1, "x", 2, 4, 5), r(2, "x", 2, 6, 7))


def test_read_before_any_write_sees_nothing():
    assert lin(r(1, "x", None, 0, 1), w(2, "x", 1, 2, 3))


def test_concurrent_read_may_see_the_old_or_the_new_value():
    write = w(1, "x", 2, 2, 6)
    for seen in (1, 2):
        res = lin(w(1, "x", 1, 0, 1), write, r(2, "x", seen, 3, 4))
        assert res.linearizable
        order = [op.command for op in res.order["x"]]
        assert order.index(("get", "x")) == (2 if seen == 2 else 1)


def test_equal_times_count_as_concurrent():
    assert lin(w(1, "x", 1, 0, 5), r(2, "x", None, 5, 6))


def test_unanswered_write_may_take_effect_or_not():
    pending = Op(1, ("set", "x", 9), 2, None)
    assert lin(w(1, "x", 1, 0, 1), pending, r(2, "x", 9, 5, 6))
    assert lin(w(1, "x", 1, 0, 1), pending, r(2, "x", 1, 5, 6))
    assert lin(w(1, "x", 1, 0, 1), pending, r(2, "x", 1, 5, 6), r(3, "x", 9, 7, 8))


def test_unanswered_reads_constrain_nothing():
    assert lin(w(1, "x", 1, 0, 1), Op(2, ("get", "x"), 2, None, 42))


def test_delete_returns_the_removed_value():
    assert lin(w(1, "x", 1, 0, 1), Op(2, ("delete", "x"), 2, 3, 1), r(3, "x", None, 4, 5))


def test_keys_are_independent():
    res = lin(w(1, "x", 1, 0, 10), w(2, "y", 1, 0, 10), r(3, "x", 1, 11, 12),
              r(3, "y", 1, 13, 14))
    assert res and set(res.keys) == {"x", "y"}


def test_dicts_are_accepted():
    assert lin({"client": 1, "command": ("set", "x", 1), "call": 0, "ret": 1, "output": 1},
               {"command": ["get", "x"], "call": 2, "ret": 3, "output": 1})


# -- rejected ----------------------------------------------------------------------------------
def test_classic_stale_read_is_rejected():
    """x=2 completed before the read began, yet the read returned 1 (a deposed leader's answer)."""
    res = lin(w(1, "x", 1, 0, 1), w(2, "x", 2, 2, 3), r(3, "x", 1, 4, 5))
    assert not res.linearizable and res.key == "x"
    assert [op.command for op in res.keys["x"].longest] == [("set", "x", 1), ("set", "x", 2)]
    (blocked, why), = res.keys["x"].blocked
    assert blocked.command == ("get", "x") and "2" in why
    assert "get('x') -> 1" in res.explanation and "not linearizable" in res.explanation


def test_read_of_a_value_never_written_is_rejected():
    assert not lin(w(1, "x", 1, 0, 1), r(2, "x", 7, 2, 3))


def test_new_then_old_inversion_is_rejected():
    """Two reads in sequence during one write: once the new value is seen, the old is gone."""
    assert not lin(w(1, "x", 1, 0, 1), w(2, "x", 2, 2, 10), r(3, "x", 2, 3, 4),
                   r(3, "x", 1, 5, 6))


def test_a_write_cannot_be_seen_before_it_was_invoked():
    assert not lin(r(1, "x", 5, 0, 1), w(2, "x", 5, 2, 3))


def test_a_set_must_answer_its_value():
    assert not lin(Op(1, ("set", "x", 1), 0, 1, 2))


def test_one_bad_key_fails_the_history():
    res = lin(w(1, "a", 1, 0, 1), r(2, "a", 1, 2, 3), w(1, "b", 1, 0, 1), r(2, "b", 0, 2, 3))
    assert not res and res.key == "b" and res.keys["a"].linearizable


# -- against brute force ------------------------------------------------------------------------
def brute_force(ops) -> bool:
    """Try every order: real-time order kept, every answer legal."""
    ops = [o for o in ops if not (o.pending and o.command[0] == "get")]
    for perm in itertools.permutations(ops):
        pos = {id(o): k for k, o in enumerate(perm)}
        if any(a.ret is not None and a.ret < b.call and pos[id(a)] > pos[id(b)]
               for a in ops for b in ops):
            continue
        store, ok = {}, True
        for o in perm:
            kind, key = o.command[0], o.command[1]
            if kind == "set":
                ok = o.pending or o.output == o.command[2]
                store[key] = o.command[2]
            else:
                ok = o.pending or o.output == store.get(key)
                if kind == "delete":
                    store.pop(key, None)
            if not ok:
                break
        if ok:
            return True
    return False


@st.composite
def histories(draw):
    ops = []
    for client in range(draw(st.integers(1, 6))):
        call = draw(st.integers(0, 10))
        ret = draw(st.one_of(st.none(), st.integers(call, call + 4)))
        key = draw(st.sampled_from(["x", "x", "y"]))
        kind = draw(st.sampled_from(["set", "get", "get", "delete"]))
        if kind == "set":
            v = draw(st.integers(1, 2))
            ops.append(Op(client, ("set", key, v), call, ret, v))
        else:
            ops.append(Op(client, (kind, key), call, ret, draw(st.sampled_from([None, 1, 2]))))
    return ops


@settings(max_examples=300, deadline=None, derandomize=True)
@given(histories())
def test_agrees_with_brute_force(ops):
    assert rb.check_linearizability(ops).linearizable == brute_force(ops)


def test_long_concurrent_history_is_checked_quickly_thanks_to_memoization():
    # 16 writers all overlap, then a read: 16! orders, but few distinct (placed set, value) pairs.
    ops = [w(i, "x", i % 3, 0, 100) for i in range(16)] + [r(99, "x", 2, 101, 102)]
    kc = check_key(ops, "x")
    assert kc.linearizable and kc.explored < 200_000


# -- bad input ---------------------------------------------------------------------------------
@pytest.mark.parametrize("history", [
    3, [3], [Op(1, ("fly", "x"), 0, 1)], [Op(1, ("get", "x"), 2, 1)],
    [Op(1, ("get", "x"), "0", 1)], [Op(1, ("get", "x"), float("nan"), 1)],
    [{"command": ("get", "x")}], [{"command": ("get", "x"), "call": 0, "when": 3}],
])
def test_bad_histories_are_clear_errors(history):
    with pytest.raises(rb.InvalidArgument):
        rb.check_linearizability(history)


# -- budgets and the order of work ------------------------------------------------------------
def _concurrent_writes(key, n, bad_read=True):
    ops = [w(i, key, i, 0, 100) for i in range(1, n + 1)]
    if bad_read:
        ops.append(r(n + 1, key, -1, 200, 201))  # a value nobody wrote
    return ops


def test_a_budget_gives_an_unknown_verdict_not_a_guess():
    ops = _concurrent_writes("x", 14)
    res = rb.check_linearizability(ops, budget=50)
    assert res.unknown and res.verdict == "unknown" and not res.linearizable
    assert res.key == "x" and "unknown" in res.explanation and "budget" in res.explanation
    full = rb.check_linearizability(_concurrent_writes("x", 6))
    assert full.verdict == "not linearizable" and not full.unknown


def test_a_timeout_stops_an_exponential_search():
    import time
    t0 = time.monotonic()
    res = rb.check_linearizability(_concurrent_writes("x", 20), timeout=0.3)
    assert time.monotonic() - t0 < 10
    assert res.unknown


def test_the_check_ends_at_the_first_bad_key():
    ops = []
    for k in range(30):
        ops += _concurrent_writes(f"k{k}", 12)
    ops += [w(1, "small", 1, 0, 1), r(2, "small", 2, 2, 3)]
    res = rb.check_linearizability(ops, timeout=60)
    assert res.verdict == "not linearizable" and res.key == "small"
    assert len(res.keys) == 1


@pytest.mark.parametrize("bad", [dict(budget=0), dict(budget=True), dict(budget="9"),
                                 dict(timeout=0), dict(timeout=float("nan")), dict(timeout="1")])
def test_bad_budgets_are_refused(bad):
    with pytest.raises(rb.InvalidArgument):
        rb.check_linearizability([], **bad)
