"""Fault campaigns with the ``compact`` fault: servers snapshot what they applied at random
times, so servers that lag behind (crashed, cut off) are brought up to date by InstallSnapshot.

Without ``"compact"`` schedules and tables are exactly those of before; with it the reference
stays safe, and a catalogued InstallSnapshot bug is found and minimized to single events.
"""
import hashlib

import pytest

import raftbook as rb
from raftbook.exercises.bugs import BUGS
from raftbook.search.campaigns import CAMPAIGN_CONFIG
from raftbook.search.faults import ALL_FAULTS, FAULTS, schedule
from raftbook.search.minimize import replay_events, unroll

COMPACT = FAULTS + ("compact",)


def _digest(faults):
    runs = [schedule(s, 100, faults, 0.3, n) for s in range(40) for n in (3, 5)]
    return hashlib.sha256(repr(runs).encode()).hexdigest()[:16]


def test_compact_is_asked_for_and_leaves_the_other_schedules_alone():
    assert "compact" in ALL_FAULTS and "compact" not in FAULTS
    # the schedules drawn before the compact fault existed, byte for byte
    assert _digest(FAULTS) == "a4b4022a82a15082"
    assert _digest(FAULTS + ("reconfigure",)) == "53449e4786d4294b"
    assert _digest(()) == "5dbb07263487c4c2"
    kinds = {a[0] for a in schedule(5, steps=200, faults=COMPACT)}
    assert {"compact", "crash", "restart", "partition", "timeout", "run", "propose"} <= kinds
    assert not kinds & {"add_server", "remove_server"}
    both = {a[0] for a in schedule(5, steps=300, faults=COMPACT + ("reconfigure",))}
    assert {"compact", "add_server", "remove_server"} <= both
    assert all(0 <= a[1] <= 1 for a in schedule(5, steps=200, faults=COMPACT) if a[0] == "compact")


def test_default_tables_have_no_compactions_column():
    assert "compactions" not in rb.campaign(3, n=3, workers=1).table.columns


def test_reference_stays_safe_and_really_compacts():
    r = rb.campaign(24, n=5, faults=COMPACT, steps=100, workers=1, progress=False)
    t = r.table
    assert r.ok, t[~t["ok"]][["finding", "property", "detail"]].head().to_string()
    assert t["compactions"].sum() > 24 and (t["compactions"] > 0).sum() > 12
    assert t["crashes"].sum() > 0 and t["committed"].sum() > 0


def test_compaction_table_is_the_same_on_one_and_two_workers():
    kw = dict(n=3, faults=COMPACT, steps=80, minimize=0)
    one = rb.campaign(range(16), workers=1, **kw).table.drop(columns="seconds")
    two = rb.campaign(range(16), workers=2, **kw).table.drop(columns="seconds")
    assert one.equals(two) and one["compactions"].sum() > 0


@pytest.mark.parametrize("name, seeds", [("stale_snapshot_installed", 40), ("snapshot_discards_suffix", 80)])
def test_a_catalogued_install_snapshot_bug_is_found_with_compact(name, seeds):
    bug = BUGS[name]
    handlers = {bug.handler: bug.fn}
    r = rb.campaign(seeds, n=3, faults=COMPACT, handlers=handlers, workers=1, minimize=0)
    t = r.table
    safety = t[t["finding"] == "safety"]
    assert len(safety) > 0 and set(safety["property"]) <= {"leader_completeness", "state_machine_safety",
                                                            "log_matching"}
    # without the fault the campaign's servers never compact, so they never send a snapshot
    assert rb.campaign(seeds, n=3, handlers=handlers, workers=1, minimize=0).ok


def test_a_snapshot_bug_minimizes_to_single_events_with_a_compaction():
    bug = BUGS["snapshot_discards_suffix"]
    handlers = {bug.handler: bug.fn}
    seed = 64
    r = rb.campaign([seed], n=3, faults=COMPACT, handlers=handlers, workers=1)
    ex = r.counterexamples[seed]
    assert ex.finding == "safety" and ex.events is not None
    assert "compact" in {e[0] for e in ex.events}
    assert len(ex.actions) <= ex.original_actions
    c, used = replay_events(rb.Cluster(3, seed=seed, config=CAMPAIGN_CONFIG,
                                       handlers=handlers), ex.events, 300, stop=True)
    assert used == len(ex.events) and c.violation.property == ex.property
    again = ex.cluster()
    assert again.violation.property == ex.property
    assert any(e.kind == "compact" for e in again.history)
    assert any(n.snapshot_index > 0 for n in again.nodes.values())


def test_a_server_its_handler_broke_ends_a_replay_instead_of_raising():
    # the bug drops log entries the server had applied, so compacting it is refused; the
    # campaign reports that, and a replay that reaches it stops there
    bug = BUGS["snapshot_discards_suffix"]
    handlers = {bug.handler: bug.fn}
    r = rb.campaign([26], n=3, faults=COMPACT, handlers=handlers, workers=1)
    row = r.table.loc[26]
    assert row["finding"] == "handler_error" and "compact" in row["detail"]
    c = r.counterexamples[26].cluster()
    broken = [i for i, n in c.nodes.items() if n.last_applied > n.log.last_index]
    assert broken
    events = unroll(c) + [("compact", broken[0]), ("tick",)]
    again, used = replay_events(rb.Cluster(3, seed=26, config=CAMPAIGN_CONFIG, handlers=handlers),
                                events, 300)
    assert used == len(events) - 1


def grown_to_four():
    """S1-S3 with S4 added and one write committed (S5 waits outside)."""
    c = rb.Cluster(5, seed=1, members={1, 2, 3})
    c.run_until(lambda c: c.leader, 500)
    c.run(30)
    c.add_server(4)
    c.run(60)
    c.propose(("set", "x", 1))
    c.run(30)
    return c


def test_a_compacted_server_keeps_its_configuration():
    c = grown_to_four()
    for i in sorted(c.members):
        c.compact(i)
    c.propose(("set", "x", 2))
    c.run(30)
    assert all(c.nodes[i].members == {1, 2, 3, 4} for i in (1, 2, 3, 4))
    c.add_server(5)   # once raised an IndexError: the configuration was read as if the log began at 1
    c.run(60)
    assert c.members == {1, 2, 3, 4, 5}


def test_a_follower_installing_a_snapshot_takes_its_configuration():
    # S5 joins after the leader compacted past the entry that added S4: the snapshot it
    # installs must say who the members are, or it would count votes in {1, 2, 3}.
    c = grown_to_four()
    leader = c.leader
    c.compact(leader)
    assert c.nodes[leader].snapshot_data["config"]["members"] == [1, 2, 3, 4]
    c.add_server(5)
    c.run(80)
    assert c.nodes[5].snapshot_index > 0  # it was caught up by InstallSnapshot
    assert c.nodes[5].members == {1, 2, 3, 4, 5}
    assert c.violation is None
    rb.check_safety(c, full=True)


def test_install_snapshot_with_prevote_or_checkquorum_is_a_snapshot_not_a_timeout():
    # With either option every message goes through the extended step; an InstallSnapshot
    # once fell through to the TimeoutNow branch and made the follower start an election.
    for config in (dict(pre_vote=True), dict(check_quorum=True)):
        c2 = rb.Cluster(3, seed=0, config=rb.Config(snapshot_threshold=4, **config))
        c2.run_until(lambda c: c.leader, 500)
        leader = c2.leader
        lag = next(i for i in c2.nodes if i != leader)
        c2.crash(lag)
        for k in range(6):
            c2.propose(("set", "x", k))
            c2.run(15)
        c2.restart(lag)
        c2.run(60)
        assert any(r.code == "snapshot_installed" and r.node == lag for r in c2.reasons()), config
        assert not any(r.code == "timeout_now_received" for r in c2.reasons()), config
        assert c2.leader == leader and c2.nodes[lag].kv == c2.nodes[leader].kv
        assert c2.violation is None


@pytest.mark.parametrize("config", [
    dict(),                                                   # the setup that found it
    dict(check_quorum=True, snapshot_threshold=3),
    dict(pre_vote=True, check_quorum=True, snapshot_threshold=5),
    dict(membership="joint"),
    dict(membership="joint", pre_vote=True, snapshot_threshold=4),
], ids=["single", "checkquorum-threshold", "prevote-checkquorum", "joint", "joint-prevote-threshold"])
def test_the_reference_survives_compaction_with_membership_changes(config):
    # Found by these campaigns: a snapshot that dropped the configuration it covered, a
    # compacted log read as if it began at index 1, automatic compaction skipped and an
    # InstallSnapshot taken for a TimeoutNow once PreVote or CheckQuorum was on, and a joint
    # candidate that won alone. The reference is safe over these seeds now.
    r = rb.campaign(150, n=5, faults=COMPACT + ("reconfigure",), members=3, steps=100,
                    progress=False, config=rb.Config(**config))
    assert r.failures == []
