"""Same seed, same calls, same run; traces, undo, goto and snapshots reproduce it exactly."""
import json
import random

import pytest

import raftbook as rb
from raftbook import scenarios as sc
from raftbook.roles import Role


def drive(c, seed, steps=120):
    """A seeded mix of every kind of event (the same calls for the same seed)."""
    rng = random.Random(seed)
    for _ in range(steps):
        r = rng.random()
        flight = c.in_flight
        running = c.running
        if r < 0.35 and flight:
            c.deliver(rng.choice(flight).id)
        elif r < 0.40 and flight:
            c.drop(rng.choice(flight).id)
        elif r < 0.45 and flight:
            c.duplicate(rng.choice(flight).id)
        elif r < 0.50:
            cands = [i for i in running if c.nodes[i].role is not Role.LEADER]
            if cands:
                c.timeout(rng.choice(cands))
        elif r < 0.53 and len(running) > 1:
            c.crash(rng.choice(running))
        elif r < 0.58 and c.crashed:
            c.restart(rng.choice(sorted(c.crashed)))
        elif r < 0.61:
            if c.groups is None:
                c.partition({rng.choice(list(c.nodes))})
            else:
                c.heal()
        elif r < 0.70 and c.leader is not None:
            c.propose(("set", rng.choice("ab"), rng.randint(0, 9)))
        elif r < 0.76:
            c.run(rng.randint(1, 12), latency=(1, rng.randint(1, 4)), drop_rate=0.1,
                  duplicate_rate=0.1)
        elif r < 0.78:
            c.run_until(lambda c: c.leader is not None, 40)
        else:
            c.tick()
    return c


def replay(c0, events):
    """Carry out recorded events with public calls on a fresh cluster like ``c0``."""
    c = rb.Cluster(c0.n, seed=c0.seed, config=c0.config)
    for ev in events:
        a = ev.args
        if ev.kind == "tick":
            c.tick()
        elif ev.kind in ("timeout", "crash", "restart"):
            getattr(c, ev.kind)(a["node"])
        elif ev.kind in ("deliver", "drop", "duplicate"):
            getattr(c, ev.kind)(a["msg_id"])
        elif ev.kind == "partition":
            c.partition(*[set(g) for g in a["groups"]])
        elif ev.kind == "heal":
            c.heal()
        elif ev.kind == "propose":
            c.propose(tuple(a["command"]), node=a["node"])
        elif ev.kind in ("run", "run_until"):
            c.run(a["ticks"], latency=tuple(a["latency"]), drop_rate=a["drop_rate"],
                  duplicate_rate=a["duplicate_rate"])
        else:
            raise AssertionError(ev.kind)
    return c


def key(c):
    return [(e.kind, e.args, e.summary, e.sent) for e in c.history]


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_same_seed_same_calls_same_run(seed):
    a = drive(rb.Cluster(5, seed=seed), seed)
    b = drive(rb.Cluster(5, seed=seed), seed)
    assert key(a) == key(b) and a.fingerprint() == b.fingerprint()
    assert [r for r in a.reasons()] == [r for r in b.reasons()]
    assert a.events().equals(b.events())


def test_different_seeds_differ():
    prints = {drive(rb.Cluster(5, seed=s), 0).fingerprint() for s in range(5)}
    assert len(prints) == 5


def test_fingerprint_tracks_state():
    c = rb.Cluster(3, seed=0)
    fp = c.fingerprint()
    c.tick()
    assert c.fingerprint() != fp
    assert rb.Cluster(3, seed=0).fingerprint() == fp


@pytest.mark.parametrize("seed", [5, 6, 7])
def test_trace_round_trip(seed, tmp_path):
    c = drive(rb.Cluster(5, seed=seed), seed)
    path = tmp_path / "run.json"
    c.save_trace(path)
    data = json.loads(path.read_text())
    assert data["format"] == "raftbook-trace" and data["seed"] == seed
    assert len(data["events"]) == len(c.history)
    d = rb.Cluster.load_trace(path)
    assert d.fingerprint() == c.fingerprint()
    assert key(d) == key(c)
    assert [(p.command, p.index, p.term) for p in d.proposals] == \
        [(p.command, p.index, p.term) for p in c.proposals]
    # The replayed cluster goes on exactly like the original (its random state too).
    for x in (c, d):
        x.run(60)
    assert d.fingerprint() == c.fingerprint()


def test_trace_of_a_hand_made_state(tmp_path):
    c = sc.figure7()
    sc.deliver_all(c)
    c.save_trace(tmp_path / "f7.json")
    d = rb.Cluster.load_trace(tmp_path / "f7.json")
    assert d.fingerprint() == c.fingerprint() and d.initial == c.initial


def test_trace_with_custom_handlers_needs_them_back(tmp_path, raft):
    handlers = {"advance_commit_index": raft.any_term_commit}
    c = sc.figure8("d", handlers=handlers)
    c.save_trace(tmp_path / "f8.json")
    with pytest.raises(rb.TraceError, match="custom handlers"):
        rb.Cluster.load_trace(tmp_path / "f8.json")
    d = rb.Cluster.load_trace(tmp_path / "f8.json", handlers=handlers)
    assert d.fingerprint() == c.fingerprint()
    assert d.violation is not None and d.violation.property == c.violation.property


def test_trace_from_dict():
    c = drive(rb.Cluster(3, seed=9), 9, steps=40)
    assert rb.Cluster.from_trace(c.trace()).fingerprint() == c.fingerprint()


def test_undo_equals_a_fresh_replay_after_every_event():
    c = drive(rb.Cluster(5, seed=11), 11, steps=60)
    events = list(c.history)
    for k in range(len(events) - 1, -1, -1):
        c.undo()
        assert len(c.history) == k
        if k % 7 == 0 or k < 3:
            assert c.fingerprint() == replay(c, events[:k]).fingerprint(), f"after undo to {k}"
    assert c.fingerprint() == rb.Cluster(5, seed=11).fingerprint()


def test_undo_then_redo_gives_the_same_future():
    c = drive(rb.Cluster(5, seed=12), 12, steps=50)
    c.run(15)
    after = c.fingerprint()
    c.undo()
    c.run(15)
    assert c.fingerprint() == after


@pytest.mark.parametrize("k", [0, 1, 15, 16, 17, 33, 48])
def test_goto_equals_a_fresh_replay(k):
    c = drive(rb.Cluster(3, seed=13), 13, steps=60)
    events = list(c.history)
    c.goto(k)
    assert len(c.history) == k and key(c) == key(replay(c, events[:k]))
    assert c.fingerprint() == replay(c, events[:k]).fingerprint()
    assert len(c.proposals) == sum(e.kind == "propose" for e in events[:k])


def test_snapshot_and_restore():
    c = drive(rb.Cluster(5, seed=14), 14, steps=40)
    snap = c.snapshot()
    fp, hist = c.fingerprint(), key(c)
    drive(c, 99, steps=40)
    c.run(20)
    future = c.fingerprint()
    c.restore(snap)
    assert c.fingerprint() == fp and key(c) == hist
    assert c.fingerprint() == replay(c, c.history).fingerprint()
    drive(c, 99, steps=40)
    c.run(20)
    assert c.fingerprint() == future       # random state restored too
    c.restore(snap)                         # a snapshot can be used again
    assert c.fingerprint() == fp


def test_restore_rejects_a_foreign_snapshot():
    a, b = rb.Cluster(3, seed=0), rb.Cluster(3, seed=0)
    with pytest.raises(rb.InvalidArgument, match="snapshot"):
        a.restore(b.snapshot())
    with pytest.raises(rb.InvalidArgument):
        a.restore("snapshot")


def test_undo_restores_the_monitor_and_proposals():
    c = sc.leader_crash_after_submit()
    n = len(c.proposals)
    while c.history[-1].kind != "propose":
        c.undo()
    c.undo()
    assert len(c.proposals) == n - 1
    rb.check_safety(c, full=True)
