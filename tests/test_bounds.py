"""Bounded memory without changing a run: packed checkpoints, shared in-flight sets,
folded per-message records; and runs that are interrupted or re-entered."""
from __future__ import annotations

import random

import pytest

import raftbook as rb
from raftbook.sim import history, network


def _drive(c, rnd, steps):
    """A seeded mix of hand events and short runs, the kind a student makes."""
    for _ in range(steps):
        r = rnd.random()
        ids = list(c.flight)
        if r < 0.3:
            c.tick()
        elif r < 0.45 and ids:
            c.deliver(rnd.choice(ids))
        elif r < 0.5 and ids:
            c.drop(rnd.choice(ids))
        elif r < 0.55 and ids:
            c.duplicate(rnd.choice(ids))
        elif r < 0.8:
            c.run(rnd.randint(1, 30), latency=(1, 4), drop_rate=0.05, duplicate_rate=0.05)
        elif r < 0.85 and c.leader is not None:
            c.propose(("set", "k", rnd.randint(0, 9)))
        elif r < 0.9 and len(c.crashed) < 2:
            c.crash(rnd.choice(c.running))
        elif c.crashed:
            c.restart(rnd.choice(sorted(c.crashed)))
        else:
            c.tick()


def _records(c):
    return [(ev.seq, ev.kind, ev.summary, ev.reasons, ev.network) for ev in c.history]


def test_goto_every_event_is_exact_with_shared_flight_and_packed_states():
    c = rb.Cluster(5, seed=3)
    prints = [c.fingerprint()]
    rnd = random.Random(1)
    for _ in range(300):
        _drive(c, rnd, 1)
        prints.append(c.fingerprint())
    assert len(c.history) == 300
    for seq in (299, 250, 170, 64, 63, 17, 1, 0):
        c.goto(seq)
        assert c.fingerprint() == prints[seq]
        # the restored in-flight set also keeps its delivery times: the same run follows
        d = rb.Cluster(5, seed=3)
        _drive(d, random.Random(1), 300)
        d.goto(seq)
        c.run(50)
        d.run(50)
        assert c.fingerprint() == d.fingerprint()
        c.undo()


def test_rng_states_are_packed_and_unpack_exactly():
    r = random.Random(7)
    r.random()
    packed = network.pack_rng_state(r.getstate())
    assert type(packed) is bytes and len(packed) == 2500
    assert network.unpack_rng_state(packed) == r.getstate()
    odd = (3, (1, 2), None)
    assert network.pack_rng_state(odd) is odd


def test_hand_ticks_share_the_in_flight_set():
    c = rb.Cluster(5, seed=0)
    for _ in range(3000):
        c.tick()
    assert len(c.flight) > 1000
    # no checkpoint stores the whole in-flight set each time: most are links of changes
    links = [cp[1][1] for cp in c._rec.checkpoints.values()]
    full = [link for link in links if link[0] == 0]
    assert len(full) <= len(links) // 8 + 1
    before = c.fingerprint()
    c.goto(1500)
    c.goto(1400)
    d = rb.Cluster(5, seed=0)
    for _ in range(1400):
        d.tick()
    assert c.fingerprint() == d.fingerprint()
    assert before != c.fingerprint()


@pytest.mark.parametrize("window", [1, 40, 500])
def test_folded_events_give_back_identical_records(window):
    full = rb.Cluster(5, seed=11)
    full._rec.window = None
    small = rb.Cluster(5, seed=11)
    small._rec.window = window
    _drive(full, random.Random(5), 200)
    _drive(small, random.Random(5), 200)
    folded = [ev for ev in small.history if isinstance(ev, history.FoldedEvent)]
    assert folded, "the small window folded nothing"
    assert not any(isinstance(ev, history.FoldedEvent) for ev in full.history)
    assert _records(small) == _records(full)
    assert small.reasons() == full.reasons()
    assert small.fingerprint() == full.fingerprint()
    # explain reads folded events like any others
    assert small.explain().equals(full.explain())


def test_a_long_run_keeps_a_bounded_window_and_rebuilds_on_demand():
    c = rb.Cluster(3, seed=2)
    c._rec.window = 300
    ev = c.run(2000)
    assert isinstance(ev, history.FoldedEvent)
    assert c._rec.notes is None
    d = rb.Cluster(3, seed=2)
    d._rec.window = None
    d.run(2000)
    assert ev.network == d.history[0].network and len(ev.network) > 300
    assert ev.reasons == d.history[0].reasons


def test_folding_survives_undo_snapshot_and_restore():
    c = rb.Cluster(5, seed=4)
    c._rec.window = 30
    _drive(c, random.Random(9), 120)
    snap = c.snapshot()
    expect = _records(c)
    _drive(c, random.Random(10), 50)
    c.restore(snap)
    assert _records(c) == expect
    c.undo()
    c.undo()
    assert _records(c) == expect[:-2]


def test_snapshot_owner_is_a_token_not_an_id():
    a = rb.Cluster(3, seed=0)
    snap = a.snapshot()
    b = rb.Cluster(3, seed=0)
    with pytest.raises(rb.RaftbookError):
        b.restore(snap)
    seven = rb.Cluster(7, seed=0)
    s7 = seven.snapshot()
    three = rb.Cluster(3, seed=0)
    three.run(10)
    before = three.fingerprint()
    with pytest.raises(rb.RaftbookError):
        three.restore(s7)
    assert three.fingerprint() == before


# ---------------------------------------------------------------------- interrupts, re-entrancy
def test_an_interrupted_run_is_rewound_and_the_trace_replays(tmp_path):
    c = rb.Cluster(5, seed=1)
    c.run(200)
    before = c.fingerprint()
    calls = []

    def interrupt(cluster):
        calls.append(cluster.now)
        if len(calls) == 300:
            raise KeyboardInterrupt
        return False

    with pytest.raises(KeyboardInterrupt):
        c.run_until(interrupt, 100_000)
    assert c.now == 200 and len(c.history) == 1
    assert c.fingerprint() == before
    path = tmp_path / "t.json"
    c.save_trace(path)
    assert rb.Cluster.load_trace(path).fingerprint() == before
    c.run(5)  # still usable


@pytest.mark.parametrize("change", [
    lambda c: c.propose(("set", "x", 1)),
    lambda c: c.undo(),
    lambda c: c.tick(),
    lambda c: c.goto(0),
    lambda c: c.run(3),
])
def test_a_predicate_that_changes_the_cluster_is_refused(change):
    c = rb.Cluster(3, seed=0)
    c.run_until(lambda c: c.leader is not None, 1000)
    snap = c.snapshot()
    c.restore(snap)
    before, n = c.fingerprint(), len(c.history)

    def pred(cluster):
        change(cluster)
        return True

    with pytest.raises(rb.InvalidState):
        c.run_until(pred, 50)
    assert c.fingerprint() == before and len(c.history) == n
    with pytest.raises(rb.InvalidState):
        c.run_until(lambda cl: cl.restore(snap), 50)
    assert c.fingerprint() == before and len(c.history) == n
    c.tick()
    assert len(c.history) == n + 1


# ---------------------------------------------------------------------- tampering, limits
@pytest.fixture
def elected():
    c = rb.Cluster(3, seed=0)
    c.run_until(lambda c: c.leader is not None, 1000)
    c.propose(("set", "a", 1))
    c.run(30)
    rb.check_safety(c)
    return c


def test_a_second_leader_set_by_hand_is_noticed(elected):
    c = elected
    other = next(i for i in c.nodes if i != c.leader)
    c.nodes[other].current_term = c.nodes[c.leader].current_term
    c.nodes[other].role = rb.Role.LEADER
    assert c.tampered()
    with pytest.raises(rb.SafetyViolation) as err:
        rb.check_safety(c)
    assert err.value.property == "election_safety"


def test_kv_and_log_edits_are_noticed_by_the_full_check(elected):
    c = elected
    n = c.nodes[c.leader]
    n.kv["a"] = 99
    assert c.tampered()
    with pytest.raises(rb.SafetyViolation, match="key-value state"):
        rb.check_safety(c)
    n.kv["a"] = 1
    rb.check_safety(c, full=True)
    n.commit_index = n.log.last_index + 5
    with pytest.raises(rb.SafetyViolation, match="commit_index"):
        rb.check_safety(c)


def test_untouched_clusters_are_not_tampered(elected):
    c = elected
    assert not c.tampered()
    c.undo()
    assert not c.tampered()
    c.restore(c.snapshot())
    assert not c.tampered()


@pytest.mark.parametrize("call", [
    lambda c: c.run(2**63),
    lambda c: c.run_until(lambda c: False, 2**63),
    lambda c: c.run(10, latency=(1, 10**100)),
    lambda c: c.run(10**5000),
    lambda c: c.run(5, drop_rate=float("nan")),
    lambda c: c.can_reach(99, 100),
    lambda c: c.crash(True),
    lambda c: c.goto(10**5000),
    lambda c: rb.campaign(2**63),
    lambda c: rb.campaign(b"1"),
    lambda c: rb.campaign(3, steps=2**63),
    lambda c: rb.campaign(3, workers=10**9),
])
def test_absurd_sizes_are_refused_and_change_nothing(elected, call):
    c = elected
    before, n = c.fingerprint(), len(c.history)
    with pytest.raises(rb.RaftbookError) as err:
        call(c)
    assert len(str(err.value)) < 400
    assert c.fingerprint() == before and len(c.history) == n


def test_numpy_integers_from_raftbooks_own_frames_are_accepted(elected):
    c = elected
    import numpy as np
    leader = c.leader
    c.crash(np.int64(leader))
    c.undo()
    c.crash(np.int64(leader))
    c.crash(c.events().node.dropna().iloc[-1] % 3 + 1)  # a numpy integer from the events frame
    assert len(c.crashed) == 2
    c.undo()
    c.restart(np.int32(leader))
    c.run(np.int64(5), latency=(np.int64(1), np.int16(3)))
    assert c.history[-1].args["ticks"] == 5 and type(c.history[-1].args["ticks"]) is int
    c.goto(np.int64(len(c.history) - 1))


def test_a_value_edited_in_place_or_a_kv_swapped_for_a_plain_dict_is_noticed(elected):
    c = elected
    c.propose(("set", "k", 1))
    c.run(20)
    n = c.nodes[c.leader]
    assert not c.tampered()
    n.kv["k"] = 2  # same keys, same size: only the value changed
    assert c.tampered()
    c.undo()
    c.tick()
    assert not c.tampered()
    c.nodes[c.leader].kv = dict(c.nodes[c.leader].kv)  # a plain dict with the same content
    assert c.tampered()  # a different object: the stamp cannot vouch for it
    c.tick()  # an event stamps the plain dict (hashed, since it counts no changes)
    assert not c.tampered()
    c.nodes[c.leader].kv["k"] = 3
    assert c.tampered()


@pytest.mark.parametrize("values", [10**7, 17, 10**5000, [("set", "x", i) for i in range(100)]],
                         ids=["ten-million", "seventeen", "5000-digits", "100-commands"])
def test_explore_refuses_absurd_numbers_of_values_at_once(values):
    with pytest.raises(rb.InvalidArgument, match="at most 16"):
        rb.explore(3, values=values)
