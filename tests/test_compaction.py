"""Log compaction (section 7 of the paper) and InstallSnapshot (Figure 13).

The log keeps absolute indexes; each receiver rule of Figure 13 has a test with
one minimal state and one message; the leader's side, the consistency check,
the vote rule, commit and apply work across the snapshot boundary; the cluster,
the safety monitor, undo, traces, the explorer and campaigns all handle snapshots.
"""
import random

import pytest

import raftbook as rb
from raftbook.log import RaftLog
from raftbook.roles import Role

E, AE, AER = rb.Entry, rb.AppendEntries, rb.AppendEntriesReply
IS, ISR = rb.InstallSnapshot, rb.InstallSnapshotReply


def log_of(*terms):
    return RaftLog(E(i, t) for i, t in enumerate(terms, start=1))


def data(**kv):
    return {"kv": [[k, v] for k, v in kv.items()], "results": []}


def applied_node(raft, terms, node_id=1, n=3, **kw):
    """A node whose log of ``terms`` (set x = index) is committed and applied."""
    log = [(t, ("set", "x", i)) for i, t in enumerate(terms, start=1)]
    return raft.make_node(node_id, n, log=log, commit=len(terms), **kw)


# -- the log ---------------------------------------------------------------------------
def test_indexes_stay_absolute_after_compaction():
    log = log_of(1, 1, 2, 2, 3)
    log.compact(3)
    assert (log.snapshot_index, log.snapshot_term, log.first_index) == (3, 2, 4)
    assert (log.last_index, log.last_term, len(log)) == (5, 3, 2)
    assert [e.index for e in log] == [4, 5] and log[4].term == 2
    assert log.term_at(3) == 2 and log.term_at(0) == 0 and log.term_at(6) is None
    assert log.entries_from(4) == (E(4, 2), E(5, 3))
    assert repr(log) == "RaftLog([snapshot..3:t2, 4:t2, 5:t3])"


@pytest.mark.parametrize("read", [lambda log: log[2], lambda log: log.term_at(1),
                                  lambda log: log.entries_from(3),
                                  lambda log: log.truncate_from(2)])
def test_reading_a_compacted_entry_raises_log_compacted(read):
    log = log_of(1, 1, 2, 2)
    log.compact(3)
    before = log._export()
    with pytest.raises(rb.LogCompacted, match=r"covers indexes 1\.\.3") as info:
        read(log)
    assert isinstance(info.value, rb.RaftbookError) and isinstance(info.value, IndexError)
    assert info.value.snapshot_index == 3
    assert log._export() == before


def test_compact_needs_an_index_the_log_holds():
    log = log_of(1, 2)
    with pytest.raises(rb.InvalidArgument, match=r"0\.\.2"):
        log.compact(3)
    log.compact(1)
    with pytest.raises(rb.InvalidArgument, match=r"1\.\.2"):
        log.compact(0)
    log.compact(1)  # the snapshot's own index: nothing to do
    assert log.snapshot_index == 1 and log.last_index == 2


def test_append_truncate_and_term_searches_across_the_boundary():
    log = log_of(1, 2, 2, 2)
    log.compact(2)
    with pytest.raises(rb.InvalidArgument, match="does not follow"):
        log.append(E(4, 3))
    log.append(E(5, 3))
    assert log.first_index_of_term(2, 4) == 3  # stops at the first held index
    assert log.last_index_of_term(2) == 4
    log.truncate_from(3)
    assert log.last_index == 2 and log.last_term == 2 and log.last_index_of_term(2) == 2
    assert log.last_index_of_term(1) == 0


def test_install_discards_the_whole_log_and_snapshots_round_trip():
    log = log_of(1, 1, 1)
    log.install_snapshot(7, 4)
    assert (log.first_index, log.last_index, log.last_term, list(log)) == (8, 7, 4, [])
    assert log.truncations == 1
    assert RaftLog._unshare(log._share()) == log
    assert RaftLog._import(log._export()) == log
    assert log != log_of()


# -- configuration ---------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, words", [
    (dict(snapshot_threshold=0), "snapshot_threshold"),
    (dict(snapshot_threshold=True), "snapshot_threshold"),
    (dict(snapshot_threshold="5"), "snapshot_threshold"),
    (dict(persistence="disk"), "'auto'"),
])
def test_config_validates_the_new_options(kwargs, words):
    with pytest.raises(rb.InvalidArgument, match=words):
        rb.Config(**kwargs)


def test_default_config_serializes_as_before():
    assert set(rb.Config().to_dict()) == {"election_timeout", "heartbeat_interval", "tick_ms",
                                          "max_entries"}
    cfg = rb.Config(snapshot_threshold=10, persistence="explicit")
    assert rb.Config.from_dict(cfg.to_dict()) == cfg


# -- a node's snapshot -------------------------------------------------------------------
def test_compact_snapshots_the_applied_state(raft):
    node = applied_node(raft, [1, 1, 1])
    node.log.append(E(4, 1, ("set", "y", 9)))  # not committed: stays in the log
    node.compact()
    assert (node.snapshot_index, node.snapshot_term, node.log.first_index) == (3, 1, 4)
    assert node.snapshot_data["kv"] == [["x", 3]]
    assert node.kv == {"x": 3} and node.last_applied == 3
    assert "snapshot_taken" in raft.codes(node)


def test_compact_with_nothing_applied_raises_and_changes_nothing(raft):
    node = applied_node(raft, [1])
    node.compact()
    before = node._export()
    with pytest.raises(rb.InvalidState, match="applied nothing since its snapshot"):
        node.compact()
    assert node._export() == before


def test_threshold_compacts_at_the_next_tick(raft):
    node = applied_node(raft, [1, 1, 1, 1], config=rb.Config(snapshot_threshold=3))
    assert node.snapshot_index == 0
    node.tick()
    assert node.snapshot_index == 4 and len(node.log) == 0
    node.tick()
    assert node.snapshot_index == 4


def test_restart_restores_the_state_machine_from_the_snapshot(raft):
    node = applied_node(raft, [1, 1, 2])
    node.log.append(E(4, 2, ("set", "y", 1)))
    node.compact()
    node.restart()
    assert (node.commit_index, node.last_applied, node.kv) == (3, 3, {"x": 3})
    assert raft.codes(node)[-2:] == ["restarted", "state_machine_restored"]
    node.commit_index = 4
    node.apply_committed()
    assert node.kv == {"x": 3, "y": 1}


# -- Figure 13, receiver side: one test per rule ---------------------------------------------
def test_rule1_reply_immediately_if_term_is_stale(raft):
    node = applied_node(raft, [1, 2], term=3)
    before = node._export()
    [reply] = node.step(IS(2, 1, 2, 5, 2, data(x=5)))
    assert reply == ISR(1, 2, 3, 0)
    assert "snapshot_refused_stale_term" in raft.codes(node)
    assert node._export()[:11] == before[:11]


@pytest.mark.parametrize("extra", [dict(offset=10), dict(done=False)])
def test_rules2_to_4_one_chunk_only(raft, extra):
    node = raft.make_node(1)
    with pytest.raises(rb.InvalidArgument, match="one chunk"):
        node.step(IS(2, 1, 1, 3, 1, data(x=1), **extra))


@pytest.mark.parametrize("bad", [None, {"kv": 5}, {"kv": [[1, 2, 3]]}, {"kv": [], "results": [7]}])
def test_malformed_snapshot_data_is_refused(raft, bad):
    with pytest.raises(rb.InvalidArgument, match="data"):
        raft.make_node(1).step(IS(2, 1, 1, 3, 1, bad))


def test_rule5_a_snapshot_older_than_ours_is_discarded(raft):
    node = applied_node(raft, [1, 1, 1, 1], term=1)
    node.compact()
    before = (node.log._export(), dict(node.kv), node.commit_index, node.snapshot_data)
    [reply] = node.step(IS(2, 1, 1, 2, 1, data(x=2)))
    assert reply == ISR(1, 2, 1, 2)
    assert (node.log._export(), node.kv, node.commit_index, node.snapshot_data) == before
    assert "snapshot_ignored_stale" in raft.codes(node)


def test_rule5_a_newer_snapshot_replaces_ours(raft):
    node = applied_node(raft, [1, 1], term=1)
    node.compact()
    [reply] = node.step(IS(2, 1, 1, 5, 1, data(x=5)))
    assert reply.match_index == 5
    assert (node.snapshot_index, node.kv, node.commit_index) == (5, {"x": 5}, 5)


def test_rule6_a_matching_last_included_entry_keeps_the_suffix(raft):
    node = raft.make_node(1, log=[1, 1, 1, 2, 2], term=2)
    [reply] = node.step(IS(2, 1, 2, 3, 1, data(x=3)))
    assert reply == ISR(1, 2, 2, 3)
    assert (node.snapshot_index, node.log.last_index, [e.index for e in node.log]) == (3, 5, [4, 5])
    [fields] = [f for code, f in node.take_reasons() if code == "snapshot_installed"]
    assert fields["kept"] == 2


@pytest.mark.parametrize("terms", [[1, 1], [1, 1, 2, 2]])
def test_rule7_otherwise_the_whole_log_is_discarded(raft, terms):
    node = raft.make_node(1, log=terms, term=3)   # too short, or a different term at index 3
    node.step(IS(2, 1, 3, 3, 3, data(x=3)))
    assert (node.snapshot_index, node.snapshot_term, node.log.last_index, len(node.log)) == (3, 3, 3, 0)


def test_rule8_the_state_machine_is_reset_from_the_snapshot(raft):
    node = raft.make_node(1, log=[1], term=1)
    node.step(IS(2, 1, 1, 4, 1, data(x=4, y="b")))
    assert node.kv == {"x": 4, "y": "b"}
    assert (node.last_applied, node.commit_index) == (4, 4)


def test_install_snapshot_applies_the_term_rule_first(raft):
    node = raft.make_leader(1, term=2)
    node.step(IS(2, 1, 5, 3, 4, data(x=1)))
    assert (node.role, node.current_term, node.leader_id) == (Role.FOLLOWER, 5, 2)


def test_a_replaced_install_snapshot_rule_is_called(raft):
    calls = []

    def mine(node, msg):
        calls.append(msg)
        return rb.reference_handlers_all["install_snapshot"](node, msg)
    node = raft.make_node(1, handlers={"install_snapshot": mine})
    node.step(IS(2, 1, 1, 2, 1, data(x=2)))
    assert len(calls) == 1 and node.kv == {"x": 2}


# -- the leader's side ---------------------------------------------------------------------
def compacted_leader(raft, terms=(1, 1, 1)):
    node = applied_node(raft, list(terms), term=1)
    node.compact()
    node.current_term = terms[-1] + 1
    node.become_leader()
    node.take_reasons()
    return node


def test_leader_sends_its_snapshot_for_a_compacted_entry(raft):
    node = compacted_leader(raft)
    node.next_index[2] = 2
    msg = node.append_entries_for(2)
    assert type(msg) is IS
    assert (msg.last_included_index, msg.last_included_term, msg.term) == (3, 1, 2)
    assert msg.data["kv"] == [["x", 3]]
    assert "snapshot_sent" in raft.codes(node)
    node.next_index[2] = 4  # the entry just after the snapshot: AppendEntries with prevLogTerm
    ae = node.append_entries_for(2)
    assert type(ae) is AE and (ae.prev_log_index, ae.prev_log_term) == (3, 1)


def test_snapshot_reply_raises_match_and_sends_the_rest(raft):
    node = compacted_leader(raft)
    node.next_index[2] = 1
    out = node.step(ISR(2, 1, 2, 3))
    assert (node.match_index[2], node.next_index[2]) == (3, 4)
    assert [type(m) for m in out] == [AE] and out[0].entries == (E(4, 2),)
    # the same reply again (duplicated) changes nothing and sends nothing
    assert node.step(ISR(2, 1, 2, 3)) == [] and node.match_index[2] == 3


def test_stale_snapshot_reply_is_ignored(raft):
    node = compacted_leader(raft)
    node.match_index[2], node.next_index[2] = 4, 5
    assert node.step(ISR(2, 1, 2, 3)) == []
    assert (node.match_index[2], node.next_index[2]) == (4, 5)
    assert node.step(ISR(2, 1, 1, 3)) == []
    assert "reply_ignored_stale" in raft.codes(node)
    node.step(ISR(2, 1, 7, 0))
    assert (node.role, node.current_term) == (Role.FOLLOWER, 7)


# -- Figure 2 across the boundary ------------------------------------------------------------
def test_consistency_check_at_and_below_the_snapshot(raft):
    node = applied_node(raft, [1, 1, 1], term=1)
    node.compact()
    # prevLogIndex = snapshot index: matched by the snapshot's term
    [r] = node.step(AE(2, 1, 1, 3, 1, (E(4, 1),), 3))
    assert r.success and r.match_index == 4
    # prevLogIndex inside the snapshot: the covered entries are skipped
    [r] = node.step(AE(2, 1, 1, 1, 1, (E(2, 1), E(3, 1), E(4, 1), E(5, 1)), 3))
    assert r.success and r.match_index == 5 and node.log.last_index == 5
    assert "append_below_snapshot" in raft.codes(node)
    [r] = node.step(AE(2, 1, 1, 0, 0, (E(1, 1),), 3))  # entirely inside: nothing to do
    assert r.success and node.log.last_index == 5


def test_vote_rule_uses_the_snapshot_term_of_an_empty_log(raft):
    node = applied_node(raft, [1, 2], term=2)
    node.compact()
    [r] = node.step(rb.RequestVote(2, 1, 3, 5, 1))
    assert not r.vote_granted  # last term 1 < our snapshot's last term 2
    [r] = node.step(rb.RequestVote(3, 1, 3, 2, 2))
    assert r.vote_granted


def test_commit_and_apply_across_the_boundary(raft):
    node = compacted_leader(raft)          # snapshot 1..3, no-op at 4
    node.step(AER(2, 1, 2, True, 4))
    assert node.commit_index == 4 and node.last_applied == 4


# -- the cluster -----------------------------------------------------------------------------
def test_cluster_compact_is_one_undoable_replayable_event():
    c = rb.scenarios.follower_behind_snapshot(caught_up=True)
    before = c.fingerprint()
    ev = c.compact(2)
    assert ev.kind == "compact" and "compacted its log" in ev.summary
    assert c.nodes[2].snapshot_index == 6
    replay = rb.Cluster.from_trace(c.trace())
    assert replay.fingerprint() == c.fingerprint()
    c.undo()
    assert c.fingerprint() == before and c.nodes[2].snapshot_index == 5


@pytest.mark.parametrize("call, error", [
    (lambda c: c.compact(9), rb.UnknownNode),
    (lambda c: c.compact("2"), rb.UnknownNode),
    (lambda c: c.compact(3), rb.InvalidState),  # nothing applied since its snapshot
])
def test_cluster_compact_validates_and_changes_nothing(call, error):
    c = rb.scenarios.follower_behind_snapshot()
    before, n = c.fingerprint(), len(c.history)
    with pytest.raises(error):
        call(c)
    assert c.fingerprint() == before and len(c.history) == n


def test_compacting_a_crashed_server_is_refused():
    c = rb.scenarios.follower_behind_snapshot()
    c.crash(2)
    with pytest.raises(rb.InvalidState, match="crashed"):
        c.compact(2)


def test_follower_far_behind_is_caught_up_by_install_snapshot():
    c = rb.scenarios.follower_behind_snapshot()
    [env] = c.in_flight
    assert env.type == "InstallSnapshot" and env.msg.dst == 3
    c = rb.scenarios.follower_behind_snapshot(caught_up=True)
    assert {i: n.kv for i, n in c.nodes.items()} == {i: {"x": 5} for i in (1, 2, 3)}
    codes = [r.code for r in c.reasons() if r.node == 3]
    assert "snapshot_installed" in codes and "entries_appended" in codes
    rb.check_safety(c, full=True)


def test_stale_snapshot_after_a_newer_one_changes_nothing():
    c = rb.scenarios.stale_snapshot()
    assert [r.code for r in c.history[-1].reasons] == ["snapshot_ignored_stale"]
    assert c.nodes[3].snapshot_index > 4 and c.nodes[3].kv == {"x": 7}
    rb.check_safety(c, full=True)


def test_long_run_with_a_threshold_bounds_every_log():
    c = rb.Cluster(5, seed=3, config=rb.Config(snapshot_threshold=20))
    c.run_until(lambda c: c.leader, 500)
    ps = []
    for k in range(120):
        if c.leader:
            ps.append(c.propose(("set", f"k{k % 7}", k)))
        c.run(4)
    assert max(len(n.log) for n in c.nodes.values()) < 40
    assert all(n.snapshot_index > 60 for n in c.nodes.values())
    rb.check_safety(c, full=True)
    done = [p for p in ps if c.status(p) == "committed"]
    assert len(done) > 100 and all(c.result(p) == p.command[2] for p in done)


def test_same_seed_same_run_with_compaction():
    def run():
        c = rb.Cluster(3, seed=11, config=rb.Config(snapshot_threshold=5))
        c.run_until(lambda c: c.leader, 500)
        for k in range(30):
            c.propose(("set", "x", k))
            c.run(3, drop_rate=0.1, duplicate_rate=0.1)
        return c.fingerprint()
    assert run() == run()


def test_a_snapshot_that_disagrees_with_the_committed_log_is_a_violation():
    def corrupt(node, msg):
        out = rb.reference_handlers_all["install_snapshot"](node, msg)
        if node.snapshot_data:
            node.snapshot_data = {"kv": [["x", "wrong"]], "results": []}
        return out
    c = rb.scenarios.follower_behind_snapshot()
    c2 = rb.Cluster.from_trace(c.trace())
    assert c2.violation is None
    bad = rb.Cluster(3, seed=0, config=rb.Config(snapshot_threshold=4),
                     handlers={"install_snapshot": corrupt})
    for ev in c.history:
        bad.apply_event(ev.kind, ev.args)
    bad.deliver(bad.in_flight[0].id)
    v = bad.violation
    assert v is not None and v.property == "state_machine_safety"
    assert "snapshot at index 4 holds 'x' = 'wrong'" in str(v)


def test_monitor_never_reads_compacted_entries_on_restart_and_undo():
    c = rb.scenarios.follower_behind_snapshot(caught_up=True)
    for i in (1, 2, 3):
        c.crash(i)
        c.restart(i)
    assert c.nodes[1].kv == {"x": 5} or c.nodes[1].commit_index == c.nodes[1].snapshot_index
    c.run(60)
    rb.check_safety(c, full=True)
    for _ in range(5):
        c.undo()
    rb.check_safety(c, full=True)


# -- search ----------------------------------------------------------------------------------
def test_explore_with_compaction_finds_no_violation_in_the_reference():
    r = rb.explore(3, max_term=2, max_log=3, max_in_flight=3, values=1, max_states=20_000,
                   events=("timeout", "deliver", "heartbeat", "propose", "compact"),
                   progress=False)
    assert r.ok and r.distinct >= 20_000 and r.bounds["max_snapshots"] == 1
    assert "compact" in r.events and not r.symmetry


def test_explore_replays_a_path_with_a_compact_event():
    def compacted(view):
        return any(n.commit_index >= 2 and n.crashed is False and len(n.log) < n.commit_index
                   for n in view.nodes.values())
    r = rb.explore(3, max_term=1, max_log=2, max_in_flight=3, values=1, goal=compacted,
                   events=("timeout", "deliver", "heartbeat", "propose", "compact"),
                   progress=False)
    assert r.goal_reached and any(step.startswith("compact") for step in r.steps())
    c = r.cluster()
    assert any(n.snapshot_index for n in c.nodes.values())


def test_campaign_with_compaction_and_crashes_is_clean():
    cfg = rb.Config(election_timeout=(10, 20), heartbeat_interval=3, snapshot_threshold=3)
    r = rb.campaign(12, n=5, config=cfg, workers=1, progress=False)
    assert r.ok
