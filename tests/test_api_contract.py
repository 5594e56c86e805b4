"""The public API contract (API.md), clause by clause, as a new user would try it.

Everything here goes through ``import raftbook as rb`` and the names the
contract lists; nothing private is touched. Each test names the clause it
checks. A name or behaviour that drifts from the contract fails here first.
"""
from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import os
import random
import re
import time
import xml.etree.ElementTree as ET
from contextlib import contextmanager

import pytest

import raftbook as rb

FIVE_PROPERTIES = ("election_safety", "leader_append_only", "log_matching",
                   "leader_completeness", "state_machine_safety")
FOUR_HANDLERS = ("request_vote", "append_entries", "append_entries_reply", "advance_commit_index")


# ---------------------------------------------------------------------------- helpers
def node_view(node):
    """A node's Figure 2 state, read through the contract's names only."""
    return (node.id, node.role, node.current_term, node.voted_for, tuple(node.log),
            node.commit_index, node.last_applied, dict(node.next_index),
            dict(node.match_index), node.leader_id, dict(node.kv))


def cluster_view(c):
    """Everything the contract lets a user see of a cluster."""
    return (c.now, c.leader, {i: node_view(n) for i, n in c.nodes.items()},
            tuple((e.id, e.msg, e.sent_at) for e in c.in_flight), len(c.history))


def settle(c, hold=(), limit=2000):
    """Deliver the oldest message in flight (skipping ids in ``hold``) until none is left."""
    for _ in range(limit):
        todo = [e.id for e in c.in_flight if e.id not in hold]
        if not todo:
            return
        c.deliver(todo[0])
    raise AssertionError("messages kept coming: the cluster did not settle")


def elect(c, i):
    """Make server i leader by hand: its timer fires, then every message is delivered."""
    c.timeout(i)
    settle(c)
    assert c.leader == i
    return c


def heartbeat(c):
    """Tick until the leader sends its next AppendEntries round (no election timer fires)."""
    for _ in range(rb.Config().heartbeat_interval):   # the clusters here use the defaults
        c.tick()


def become_leader(node, peers=(2, 3)):
    """Drive a lone RaftNode (built with ``peers``) to leadership through its public inputs."""
    for _ in range(1000):
        out = node.tick()
        if out:
            break
    assert out and all(isinstance(m, rb.RequestVote) for m in out)
    sent = []
    for p in peers:
        if node.role is rb.Role.LEADER:
            break
        sent = node.step(rb.RequestVoteReply(p, node.id, node.current_term, True))
    assert node.role is rb.Role.LEADER
    return sent


def pump(nodes, msgs, limit=10000):
    """A perfect network for standalone RaftNodes: deliver every message, oldest first."""
    queue = list(msgs)
    for _ in range(limit):
        if not queue:
            return
        m = queue.pop(0)
        queue.extend(nodes[m.dst].step(m))
    raise AssertionError("the nodes kept talking")


def svg_of(c):
    return ET.fromstring(c._repr_svg_())


def with_attr(root, name):
    return [el for el in root.iter() if name in el.attrib]


@pytest.fixture
def busy():
    """A 5-server cluster mid-run: S1 leads, a command is in flight, S5 is crashed."""
    c = rb.Cluster(5, seed=0)
    elect(c, 1)
    c.propose(("set", "x", 1))
    c.tick()
    c.crash(5)
    assert c.in_flight
    return c


CONTRACT_NAMES = (
    "Config", "RequestVote", "RequestVoteReply", "AppendEntries", "AppendEntriesReply", "Entry",
    "RaftNode", "NotLeader", "Role", "Cluster", "check_safety", "SafetyViolation",
    "reference_handlers", "grade", "ClusterWidget", "show", "RaftbookError",
)


def test_every_contract_name_is_importable_from_raftbook():
    namespace = {}
    exec("from raftbook import *", namespace)
    for name in CONTRACT_NAMES:
        assert hasattr(rb, name), name
        assert name in namespace, f"{name} is missing from raftbook.__all__"


# ---------------------------------------------------------------------------- time and identity
def test_node_ids_are_1_to_n_and_display_as_S1_to_Sn():
    c = rb.Cluster(n=4, seed=0)
    assert list(c.nodes) == [1, 2, 3, 4]
    assert all(c.nodes[i].id == i for i in c.nodes)
    text = repr(c) + c._repr_svg_()
    for i in range(1, 5):
        assert f"S{i}" in text
    c.timeout(3)
    assert "S3" in c.history[-1].summary


def test_time_is_an_integer_tick_count():
    c = rb.Cluster(seed=0)
    assert c.now == 0 and type(c.now) is int
    c.tick()
    assert c.now == 1
    c.run(7)
    assert c.now == 8 and type(c.now) is int


def test_config_defaults_and_paper_timeouts():
    cfg = rb.Config()
    assert tuple(cfg.election_timeout) == (15, 30)
    assert cfg.heartbeat_interval == 5
    assert cfg.tick_ms == 10
    lo, hi = cfg.election_timeout
    assert (lo * cfg.tick_ms, hi * cfg.tick_ms) == (150, 300)  # the paper's 150-300 ms
    assert rb.Config(election_timeout=(15, 30), heartbeat_interval=5, tick_ms=10) == cfg


def test_tick_ms_only_changes_the_display():
    def session(tick_ms):
        c = rb.Cluster(seed=3, config=rb.Config(tick_ms=tick_ms))
        c.run_until(lambda c: c.leader is not None, 500)
        c.propose(("set", "k", "v"))
        c.run(20)
        return c
    a, b = session(10), session(25)
    assert cluster_view(a) == cluster_view(b)
    assert [e.kind for e in a.history] == [e.kind for e in b.history]
    assert f"{b.now * 25} ms" in b._repr_svg_()


def _ticks_to_fire(node, limit=1000):
    for k in range(1, limit):
        out = node.tick()
        if out:
            assert all(isinstance(m, rb.RequestVote) for m in out)
            return k
    raise AssertionError("the election timer never fired")


def test_election_timeouts_cover_the_inclusive_range_uniformly():
    cfg = rb.Config(election_timeout=(3, 6), heartbeat_interval=1)
    node = rb.RaftNode(1, [2, 3], cfg, random.Random(7))
    draws = []
    for _ in range(800):
        draws.append(_ticks_to_fire(node))  # a candidate re-draws for every new election
    counts = {k: draws.count(k) for k in set(draws)}
    assert set(counts) == {3, 4, 5, 6}, counts  # both ends included, nothing outside
    assert all(140 <= n <= 260 for n in counts.values()), counts  # about 200 each


def test_the_timer_is_redrawn_on_every_reset():
    cfg = rb.Config(election_timeout=(3, 30), heartbeat_interval=1)
    differ = 0
    for seed in range(20):
        a = rb.RaftNode(1, [2, 3], cfg, random.Random(seed))
        b = rb.RaftNode(1, [2, 3], cfg, random.Random(seed))
        hb = rb.AppendEntries(2, 1, 1, 0, 0, (), 0)
        a.step(hb)       # one reset
        b.step(hb)
        b.step(hb)       # a second reset must draw a fresh timeout
        ta, tb = _ticks_to_fire(a), _ticks_to_fire(b)
        assert 3 <= ta <= 30 and 3 <= tb <= 30
        differ += ta != tb
    assert differ >= 10, "resetting the timer again did not draw a new timeout"


def test_a_leader_sends_append_entries_every_heartbeat_interval():
    cfg = rb.Config(heartbeat_interval=4)
    node = rb.RaftNode(1, [2, 3], cfg, random.Random(0))
    become_leader(node)
    assert sorted(node.next_index) == sorted(node.match_index) == [2, 3]  # one per peer
    assert node.leader_id == 1
    for _round in range(3):
        for _ in range(cfg.heartbeat_interval - 1):
            assert node.tick() == []
        out = node.tick()
        assert sorted(m.dst for m in out) == [2, 3]
        assert all(isinstance(m, rb.AppendEntries) and m.term == node.current_term for m in out)


# ---------------------------------------------------------------------------- messages
MESSAGE_FIELDS = {
    rb.RequestVote: ("src", "dst", "term", "last_log_index", "last_log_term"),
    rb.RequestVoteReply: ("src", "dst", "term", "vote_granted"),
    rb.AppendEntries: ("src", "dst", "term", "prev_log_index", "prev_log_term", "entries",
                       "leader_commit"),
}


@pytest.mark.parametrize("cls", list(MESSAGE_FIELDS), ids=lambda c: c.__name__)
def test_messages_are_frozen_dataclasses_with_figure_2_fields(cls):
    names = MESSAGE_FIELDS[cls]
    assert dataclasses.is_dataclass(cls)
    fields = dataclasses.fields(cls)
    assert tuple(f.name for f in fields)[:len(names)] == names
    # fields beyond Figure 2 (pre_vote, ...) come last, each with a default
    assert all(f.default is not dataclasses.MISSING for f in fields[len(names):])
    values = {"entries": (rb.Entry(1, 1, None),), "vote_granted": True}
    args = [values.get(n, k + 1) for k, n in enumerate(names)]
    msg = cls(*args)                                  # positional, in the contract's order
    assert tuple(getattr(msg, n) for n in names) == tuple(args)
    assert msg == cls(**dict(zip(names, args)))       # plain data: equal by value
    assert hash(msg) == hash(cls(*args))
    with pytest.raises(dataclasses.FrozenInstanceError):
        msg.term = 99


def test_append_entries_reply_fields_and_defaulted_extras():
    fields = dataclasses.fields(rb.AppendEntriesReply)
    head = ("src", "dst", "term", "success", "match_index")
    assert tuple(f.name for f in fields[:5]) == head
    for f in fields[5:]:
        assert f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING, \
            f"extra field {f.name} has no default"
    reply = rb.AppendEntriesReply(2, 1, 3, True, 7)   # the five contract fields suffice
    assert (reply.src, reply.dst, reply.term, reply.success, reply.match_index) == (2, 1, 3, True, 7)
    with pytest.raises(dataclasses.FrozenInstanceError):
        reply.success = False


def test_every_message_has_src_dst_term():
    for cls in (rb.RequestVote, rb.RequestVoteReply, rb.AppendEntries, rb.AppendEntriesReply):
        names = [f.name for f in dataclasses.fields(cls)]
        assert names[:3] == ["src", "dst", "term"]


def test_entry_is_index_term_command_and_indexes_start_at_1():
    assert tuple(f.name for f in dataclasses.fields(rb.Entry)) == ("index", "term", "command")
    e = rb.Entry(1, 2, ("set", "x", 1))
    assert (e.index, e.term, e.command) == (1, 2, ("set", "x", 1))
    with pytest.raises(dataclasses.FrozenInstanceError):
        e.term = 3
    node = rb.RaftNode(1, [2, 3], rb.Config(), random.Random(0))
    become_leader(node)
    node.propose(("set", "x", 1))
    assert [e.index for e in node.log] == [1, 2]


def test_append_entries_carry_a_tuple_of_entries():
    c = rb.Cluster(3, seed=0)
    c.timeout(1)
    settle(c)
    c.propose(("set", "a", 1))
    aes = [e.msg for e in c.in_flight if isinstance(e.msg, rb.AppendEntries)]
    assert aes
    for m in aes:
        assert isinstance(m.entries, tuple) and m.entries
        assert all(isinstance(x, rb.Entry) for x in m.entries)


# ---------------------------------------------------------------------------- one node
def test_raftnode_positional_construction_and_figure_2_state():
    node = rb.RaftNode(2, [1, 3], rb.Config(), random.Random(1))
    assert node.id == 2
    assert node.role is rb.Role.FOLLOWER
    assert node.current_term == 0 and node.voted_for is None
    assert node.commit_index == 0 and node.last_applied == 0
    assert isinstance(node.next_index, dict) and isinstance(node.match_index, dict)
    assert node.leader_id is None
    assert node.kv == {} and isinstance(node.kv, dict)
    assert node.log.last_index == 0 and node.log.last_term == 0 and list(node.log) == []


def test_tick_step_propose_return_types():
    node = rb.RaftNode(1, [2, 3], rb.Config(), random.Random(0))
    assert node.tick() == []
    replies = node.step(rb.RequestVote(2, 1, 1, 0, 0))
    assert isinstance(replies, list) and len(replies) == 1
    assert replies[0] == rb.RequestVoteReply(1, 2, 1, True)
    leader = rb.RaftNode(1, [2, 3], rb.Config(), random.Random(0))
    become_leader(leader)
    entry = leader.propose(("set", "x", 1))
    assert isinstance(entry, rb.Entry)
    assert (entry.index, entry.term, entry.command) == (2, leader.current_term, ("set", "x", 1))


def test_propose_on_a_follower_raises_not_leader_with_hint():
    node = rb.RaftNode(1, [2, 3], rb.Config(), random.Random(0))
    with pytest.raises(rb.NotLeader) as err:
        node.propose(("set", "x", 1))
    assert err.value.leader_hint is None
    assert isinstance(err.value, rb.RaftbookError) and str(err.value)
    node.step(rb.AppendEntries(3, 1, 1, 0, 0, (), 0))   # S3 leads term 1
    before = node_view(node)
    with pytest.raises(rb.NotLeader) as err:
        node.propose(("set", "x", 1))
    assert err.value.leader_hint == 3 and node.leader_id == 3
    assert node_view(node) == before


def test_role_is_a_str_enum_with_the_paper_names():
    assert issubclass(rb.Role, enum.Enum) and issubclass(rb.Role, str)
    assert {r.name: r.value for r in rb.Role} == {
        "FOLLOWER": "follower", "CANDIDATE": "candidate", "LEADER": "leader"}
    assert rb.Role.LEADER == "leader" and rb.Role("candidate") is rb.Role.CANDIDATE
    c = rb.Cluster(3, seed=0)
    c.timeout(2)
    assert c.nodes[2].role is rb.Role.CANDIDATE and c.nodes[2].role == "candidate"


def test_log_iterates_entries_in_order_with_last_index_last_term_term_at():
    c = rb.Cluster(3, seed=0)
    elect(c, 1)
    for k in range(3):
        c.propose(("set", "k", k))
    settle(c)
    log = c.nodes[2].log
    entries = list(log)
    assert [e.index for e in entries] == [1, 2, 3, 4]
    assert all(isinstance(e, rb.Entry) for e in entries)
    assert entries[0].command is None and entries[3].command == ("set", "k", 2)
    assert log.last_index == 4 and log.last_term == entries[-1].term == 1
    assert log.term_at(0) == 0
    assert [log.term_at(e.index) for e in entries] == [e.term for e in entries]


def test_bad_log_indexes_are_raftbook_errors():
    """Every error raised on purpose is a RaftbookError, the log's included."""
    c = rb.Cluster(3, seed=0)
    elect(c, 1)
    log = c.nodes[1].log
    for what, call in {"term_at(-1)": lambda: log.term_at(-1),
                       "term_at('1')": lambda: log.term_at("1"),
                       "log[0]": lambda: log[0],
                       "log[99]": lambda: log[99],
                       "log[1:3]": lambda: log[1:3]}.items():
        try:
            call()
        except rb.RaftbookError as exc:
            assert str(exc), what
        except Exception as exc:
            pytest.fail(f"{what}: {type(exc).__name__} is not a RaftbookError: {exc}")
        else:
            pytest.fail(f"{what}: no error")


def test_persistent_state_survives_a_crash_and_volatile_state_is_rebuilt():
    c = rb.Cluster(3, seed=0)
    elect(c, 1)
    p = c.propose(("set", "x", 1))
    settle(c)
    heartbeat(c)
    settle(c)
    n2 = c.nodes[2]
    assert n2.commit_index == 2 and n2.kv == {"x": 1} and n2.leader_id == 1
    persistent = (n2.current_term, n2.voted_for, list(n2.log))
    c.crash(2)
    c.restart(2)
    n2 = c.nodes[2]
    assert (n2.current_term, n2.voted_for, list(n2.log)) == persistent
    assert n2.role is rb.Role.FOLLOWER
    assert (n2.commit_index, n2.last_applied, n2.kv, n2.leader_id) == (0, 0, {}, None)
    heartbeat(c)
    settle(c)                     # the leader tells it the commit index again
    assert n2.commit_index == 2 and n2.kv == {"x": 1} and c.status(p) == "committed"
    # a leader restarts as a follower with empty leader bookkeeping
    c.crash(1)
    c.restart(1)
    n1 = c.nodes[1]
    assert n1.role is rb.Role.FOLLOWER and n1.current_term == 1 and n1.voted_for == 1
    assert (n1.commit_index, n1.next_index, n1.match_index) == (0, {}, {})


def test_commit_index_never_decreases_under_a_late_stale_append_entries():
    c = rb.Cluster(3, seed=0)
    elect(c, 1)
    heartbeat(c)
    settle(c)
    c.propose(("set", "x", 1))
    to_s2 = next(e for e in c.in_flight if e.msg.dst == 2)
    stale = c.duplicate(to_s2.id)           # a copy the network will deliver much later
    assert stale.msg.leader_commit == 1
    settle(c, hold={stale.id})
    heartbeat(c)
    settle(c, hold={stale.id})
    n2 = c.nodes[2]
    assert n2.commit_index == 2
    log_before = list(n2.log)
    c.deliver(stale.id)
    assert n2.commit_index == 2 and n2.last_applied == 2
    assert list(n2.log) == log_before
    # the same on a standalone node, by hand
    node = rb.RaftNode(2, [1, 3], rb.Config(), random.Random(0))
    e1, e2 = rb.Entry(1, 1, None), rb.Entry(2, 1, ("set", "y", 2))
    node.step(rb.AppendEntries(1, 2, 1, 0, 0, (e1, e2), 2))
    assert node.commit_index == 2
    node.step(rb.AppendEntries(1, 2, 1, 0, 0, (e1,), 1))
    assert node.commit_index == 2 and node.log.last_index == 2


# ---------------------------------------------------------------------------- commands
def test_commands_apply_and_return_their_results():
    c = rb.Cluster(3, seed=0)
    elect(c, 1)
    p_set = c.propose(("set", "x", 42))
    p_get = c.propose(("get", "x"))
    p_missing = c.propose(("get", "nope"))
    p_del = c.propose(("delete", "x"))
    p_after = c.propose(("get", "x"))
    settle(c)
    for p in (p_set, p_get, p_missing, p_del, p_after):
        assert c.status(p) == "committed"
    assert c.result(p_get) == 42
    assert c.result(p_missing) is None
    assert c.result(p_after) is None
    assert c.nodes[1].kv == {}


def test_a_new_leader_appends_a_no_op_of_its_term():
    c = rb.Cluster(3, seed=0)
    elect(c, 1)
    c.crash(1)
    c.timeout(2)
    settle(c)
    assert c.leader == 2
    leader = c.nodes[2]
    last = list(leader.log)[-1]
    assert last.command is None and last.term == leader.current_term == 2
    # on a standalone node: the first AppendEntries of a new leader carries the no-op
    node = rb.RaftNode(1, [2, 3], rb.Config(), random.Random(0))
    sent = become_leader(node)
    assert sent and all(isinstance(m, rb.AppendEntries) for m in sent)
    assert sent[0].entries == (rb.Entry(1, node.current_term, None),)


def test_three_standalone_nodes_replicate_commit_and_apply(monkeypatch, capsys):
    import builtins
    import socket

    def no_io(*_a, **_k):
        raise AssertionError("a RaftNode did I/O")
    monkeypatch.setattr(builtins, "open", no_io)          # the step function does no I/O
    monkeypatch.setattr(socket, "socket", no_io)
    cfg = rb.Config()
    nodes = {i: rb.RaftNode(i, [p for p in (1, 2, 3) if p != i], cfg, random.Random(i))
             for i in (1, 2, 3)}
    for _ in range(1000):
        out = nodes[1].tick()
        if out:
            break
    pump(nodes, out)
    assert nodes[1].role is rb.Role.LEADER
    entry = nodes[1].propose(("set", "x", 1))   # sent with the next heartbeat round
    for _ in range(2 * cfg.heartbeat_interval):     # one round to commit, one to tell followers
        pump(nodes, nodes[1].tick())
    assert nodes[1].commit_index >= entry.index
    for i in (1, 2, 3):
        assert nodes[i].kv == {"x": 1}, i
    assert capsys.readouterr() == ("", "")               # and prints nothing


# ---------------------------------------------------------------------------- the cluster
def test_cluster_defaults_and_reading():
    c = rb.Cluster()
    assert sorted(c.nodes) == [1, 2, 3, 4, 5]
    assert all(isinstance(n, rb.RaftNode) for n in c.nodes.values())
    assert c.now == 0 and c.leader is None and c.in_flight == []
    assert isinstance(c.nodes, dict) and isinstance(c.in_flight, list)
    assert list(c.history) == []
    assert cluster_view(rb.Cluster(n=5, seed=0, config=None)) == cluster_view(c)
    c2 = rb.Cluster(5, 0, None)  # positional, in the contract's order
    assert cluster_view(c2) == cluster_view(c)


def test_leader_is_the_highest_term_leader_among_running_nodes():
    c = rb.Cluster(5, seed=0)
    elect(c, 1)
    c.partition({1})             # S1 is cut off, still believing it leads term 1
    c.timeout(2)
    settle(c)
    assert c.nodes[1].role is rb.Role.LEADER and c.nodes[2].role is rb.Role.LEADER
    assert c.nodes[2].current_term > c.nodes[1].current_term
    assert c.leader == 2
    c.crash(2)
    assert c.leader == 1         # the highest-term leader among RUNNING nodes
    c.crash(1)
    assert c.leader is None


def test_in_flight_envelopes_have_unique_increasing_ids_msg_and_sent_at():
    c = rb.Cluster(5, seed=0)
    c.tick()
    c.tick()
    c.timeout(3)
    first = c.in_flight
    assert len(first) == 4
    assert all(e.sent_at == 2 and isinstance(e.msg, rb.RequestVote) for e in first)
    c.tick()
    c.deliver(first[0].id)
    c.timeout(4)
    ids = [e.id for e in c.in_flight]
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    newest = [e for e in c.in_flight if e.msg.src == 4 and isinstance(e.msg, rb.RequestVote)]
    assert newest and all(e.sent_at == 3 for e in newest)
    assert min(e.id for e in newest) > max(e.id for e in first)
    before = {e.id: e.msg for e in c.in_flight}
    c.run(40)
    for e in c.in_flight:       # an id names one message for good: never reused
        assert e.msg == before[e.id] if e.id in before else e.id > max(before)
    assert isinstance(c.in_flight, list)


def test_every_manual_event_is_one_recorded_history_entry():
    c = rb.Cluster(5, seed=0)
    calls = [
        ("tick", lambda: c.tick()),
        ("timeout", lambda: c.timeout(1)),
        ("deliver", lambda: c.deliver(c.in_flight[0].id)),
        ("drop", lambda: c.drop(c.in_flight[0].id)),
        ("duplicate", lambda: c.duplicate(c.in_flight[0].id)),
        ("crash", lambda: c.crash(5)),
        ("restart", lambda: c.restart(5)),
        ("partition", lambda: c.partition({1, 2}, {3, 4, 5})),
        ("heal", lambda: c.heal()),
        ("run", lambda: c.run(30)),
        ("propose", lambda: c.propose(("set", "x", 1))),
        ("run_until", lambda: c.run_until(lambda c: False, 3)),
    ]
    for name, call in calls:
        before = len(c.history)
        call()
        assert len(c.history) == before + 1, name
        assert c.history[-1].kind == name


def test_tick_ticks_every_running_node_once():
    cfg = rb.Config(election_timeout=(3, 3), heartbeat_interval=1)
    c = rb.Cluster(5, seed=0, config=cfg)
    c.crash(4)
    frozen = node_view(c.nodes[4])
    for _ in range(3):
        c.tick()
    assert c.now == 3
    for i in (1, 2, 3, 5):
        assert c.nodes[i].role is rb.Role.CANDIDATE and c.nodes[i].current_term == 1
    assert node_view(c.nodes[4]) == frozen
    assert len(c.in_flight) == 4 * 4       # four candidates asked four peers each


def test_timeout_starts_an_election_and_is_an_error_on_a_leader():
    c = rb.Cluster(3, seed=0)
    c.timeout(2)
    n2 = c.nodes[2]
    assert n2.role is rb.Role.CANDIDATE and n2.current_term == 1 and n2.voted_for == 2
    assert sorted(e.msg.dst for e in c.in_flight) == [1, 3]
    c.timeout(2)                 # a candidate may time out again: a new term
    assert n2.current_term == 2
    settle(c)
    assert c.leader == 2
    before, fp = cluster_view(c), c.fingerprint()
    with pytest.raises(rb.RaftbookError) as err:
        c.timeout(2)
    assert str(err.value)
    assert cluster_view(c) == before and c.fingerprint() == fp


def test_deliver_drop_and_duplicate():
    c = rb.Cluster(3, seed=0)
    c.timeout(1)
    a, b = c.in_flight
    env = c.duplicate(a.id)
    assert env.msg == a.msg and env.id > b.id and env.sent_at == c.now
    assert [e.id for e in c.in_flight] == [a.id, b.id, env.id]
    c.drop(b.id)
    assert [e.id for e in c.in_flight] == [a.id, env.id]
    assert c.nodes[b.msg.dst].voted_for is None           # dropped: never arrived
    c.deliver(a.id)
    assert c.nodes[a.msg.dst].voted_for == 1              # delivered: it voted
    reply = c.in_flight[-1]
    assert isinstance(reply.msg, rb.RequestVoteReply) and reply.msg.vote_granted
    c.deliver(env.id)                                     # the copy arrives too
    assert c.nodes[a.msg.dst].voted_for == 1


def test_a_crashed_node_stays_visible_and_frozen_until_restart():
    c = rb.Cluster(5, seed=0)
    elect(c, 1)
    c.propose(("set", "x", 1))
    c.crash(1)
    settle(c)                    # the followers get the entry; their replies to S1 are lost
    frozen = node_view(c.nodes[1])
    assert 1 in c.nodes and c.nodes[1].role is rb.Role.LEADER   # visible as it was
    c.timeout(2)
    settle(c)
    for _ in range(10):
        c.tick()
    settle(c)
    c.run(60, duplicate_rate=0.2)
    assert node_view(c.nodes[1]) == frozen
    assert c.leader == 2
    c.restart(1)
    assert c.nodes[1].role is rb.Role.FOLLOWER


def test_messages_to_a_crashed_node_are_lost_and_the_history_says_so():
    c = rb.Cluster(3, seed=0)
    c.timeout(1)
    to_3 = next(e for e in c.in_flight if e.msg.dst == 3)
    c.crash(3)
    before = node_view(c.nodes[3])
    c.deliver(to_3.id)
    assert to_3.id not in [e.id for e in c.in_flight]
    assert node_view(c.nodes[3]) == before
    summary = c.history[-1].summary.lower()
    assert "lost" in summary and "crash" in summary


def test_an_automatic_run_loses_messages_across_a_partition():
    c = rb.Cluster(5, seed=0)
    c.partition({1, 2})
    c.run(300)
    assert c.leader in (3, 4, 5)
    term = c.nodes[c.leader].current_term
    for i in (1, 2):             # cut off: they never hear of the majority's leader
        assert c.nodes[i].leader_id not in (3, 4, 5)
        assert all(e.term != term for e in c.nodes[i].log)


def test_partition_unnamed_nodes_form_one_more_group():
    c = rb.Cluster(5, seed=0)
    c.partition({1, 2})          # 3, 4, 5 are left unnamed: one group together
    c.timeout(3)
    by_dst = {e.msg.dst: e.id for e in c.in_flight}
    c.deliver(by_dst[4])         # 3 -> 4: same (unnamed) group
    assert c.nodes[4].voted_for == 3
    c.deliver(by_dst[5])
    assert c.nodes[5].voted_for == 3
    c.deliver(by_dst[1])         # 3 -> 1: across the partition, lost
    assert c.nodes[1].voted_for is None
    summary = c.history[-1].summary.lower()
    assert "lost" in summary and "partition" in summary
    c.timeout(1)
    to_2 = next(e.id for e in c.in_flight if e.msg.src == 1 and e.msg.dst == 2)
    c.deliver(to_2)              # 1 -> 2: the same named group
    assert c.nodes[2].voted_for == 1
    c.heal()
    c.timeout(5)
    to_1 = next(e.id for e in c.in_flight if e.msg.src == 5 and e.msg.dst == 1)
    c.deliver(to_1)              # healed: 5 -> 1 arrives
    assert c.nodes[1].current_term == c.nodes[5].current_term


# ---------------------------------------------------------------------------- clients
def test_proposal_index_term_and_status_pending_then_committed():
    c = rb.Cluster(5, seed=0)
    elect(c, 1)
    p = c.propose(("set", "x", "v"))
    assert (p.index, p.term) == (2, 1)
    assert c.status(p) == "pending"
    with pytest.raises(rb.RaftbookError):
        c.result(p)                # no result before it commits
    settle(c)
    assert c.status(p) == "committed"
    assert c.nodes[1].kv["x"] == "v"


def test_a_committed_proposal_stays_committed_across_a_restart():
    """"committed" is Raft's committed: restarts (volatile commit_index) do not undo it."""
    c = rb.Cluster(3, seed=0)
    elect(c, 1)
    p = c.propose(("set", "x", 1))
    settle(c)                          # S1 commits; S2 and S3 hold the entry, not yet told
    assert c.status(p) == "committed"
    answer = c.result(p)
    c.crash(1)
    c.restart(1)                       # S1 forgets its commit_index, as the paper says
    assert c.status(p) == "committed"  # ... but the entry stays committed in Raft's sense
    assert c.result(p) == answer


def test_propose_to_a_named_leader_node():
    c = rb.Cluster(3, seed=0)
    elect(c, 2)
    p = c.propose(("set", "x", 1), node=2)
    assert list(c.nodes[2].log)[p.index - 1].command == ("set", "x", 1)


def test_status_lost_when_a_different_entry_commits_at_its_index():
    c = rb.Cluster(5, seed=0)
    elect(c, 1)
    c.partition({1})
    p = c.propose(("set", "x", "old"), node=1)   # S1 still believes it leads
    assert c.status(p) == "pending"
    c.timeout(2)
    settle(c)                                    # S2 leads term 2 and commits its no-op at p.index
    assert c.leader == 2 and c.nodes[2].commit_index >= p.index
    assert c.nodes[1].log.term_at(p.index) == p.term     # S1 still holds the entry ...
    assert c.status(p) == "lost"                         # ... but it can never commit
    with pytest.raises(rb.RaftbookError):
        c.result(p)
    c.heal()
    heartbeat(c)
    settle(c)
    assert all(n.log.term_at(p.index) != p.term for n in c.nodes.values())  # no log holds it
    assert c.status(p) == "lost"


def test_not_leader_when_there_is_no_leader_or_the_node_is_not_leader():
    c = rb.Cluster(5, seed=0)
    before = cluster_view(c)
    with pytest.raises(rb.NotLeader) as err:
        c.propose(("set", "x", 1))
    assert str(err.value) and cluster_view(c) == before
    elect(c, 3)
    heartbeat(c)
    settle(c)
    before = cluster_view(c)
    with pytest.raises(rb.NotLeader) as err:
        c.propose(("set", "x", 1), node=4)
    assert err.value.leader_hint == 3
    assert isinstance(err.value, rb.RaftbookError)
    assert cluster_view(c) == before


# ---------------------------------------------------------------------------- automatic mode
def test_run_advances_time_as_one_event():
    c = rb.Cluster(seed=0)
    ev = c.run(120)
    assert c.now == 120 and len(c.history) == 1
    assert c.leader is not None
    c.run(0)
    assert c.now == 120 and len(c.history) == 2


def test_run_until_takes_the_cluster_and_returns_whether_it_got_there():
    c = rb.Cluster(seed=0)
    seen = []

    def has_leader(cl):
        seen.append(cl)
        return cl.leader is not None
    assert c.run_until(has_leader, 500) is True
    assert c.leader is not None and all(x is c for x in seen) and seen
    assert 0 < c.now < 500 and len(c.history) == 1
    t = c.now
    assert c.run_until(lambda cl: False, 25) is False
    assert c.now == t + 25 and len(c.history) == 2


def test_latency_bounds_when_messages_arrive():
    c = rb.Cluster(3, seed=0)
    c.timeout(1)                      # two RequestVotes sent at t=0
    c.run(9, latency=(10, 10))
    assert len(c.in_flight) == 2 and c.nodes[2].voted_for is None
    c.run(1, latency=(10, 10))
    assert c.nodes[2].voted_for == 1 and c.nodes[3].voted_for == 1
    c2 = rb.Cluster(3, seed=0)
    c2.timeout(1)
    c2.run(3, latency=(2, 3))
    assert c2.nodes[2].voted_for == 1 and c2.nodes[3].voted_for == 1


def test_drop_rate_loses_messages():
    ok = rb.Cluster(seed=4)
    assert ok.run_until(lambda c: c.leader is not None, 300, drop_rate=0.0)
    lossy = rb.Cluster(seed=4)
    assert not lossy.run_until(lambda c: c.leader is not None, 300, drop_rate=0.99)
    assert lossy.now == 300


def test_duplicate_rate_duplicates_messages():
    def messages_sent(dup):
        c = rb.Cluster(seed=2)
        c.run(200, duplicate_rate=dup)
        c.timeout(next(i for i in c.nodes if i != c.leader))  # a probe: the next fresh id
        return min(e.id for e in c.in_flight if e.sent_at == c.now) - 1
    plain, doubled = messages_sent(0.0), messages_sent(0.5)
    assert doubled > 1.3 * plain, (plain, doubled)


def test_network_options_default_to_no_loss_and_no_duplication():
    a, b = rb.Cluster(seed=8), rb.Cluster(seed=8)
    a.run(150)
    b.run(150, drop_rate=0.0, duplicate_rate=0.0)
    assert cluster_view(a) == cluster_view(b)
    a.run_until(lambda c: False, 20)
    b.run_until(lambda c: False, 20, drop_rate=0, duplicate_rate=0)
    assert cluster_view(a) == cluster_view(b)


def test_events_is_a_dataframe_with_one_row_per_event():
    import pandas as pd
    c = rb.Cluster(seed=0)
    c.run(50)
    c.tick()
    df = c.events()
    assert isinstance(df, pd.DataFrame)
    assert len(df) == len(c.history) == 2


# ---------------------------------------------------------------------------- time travel
def test_undo_reverts_each_kind_of_event_exactly():
    c = rb.Cluster(5, seed=1)
    steps = [
        lambda: c.run(60),
        lambda: c.propose(("set", "x", 1)),
        lambda: c.tick(),
        lambda: c.timeout(next(i for i in c.nodes if i != c.leader)),
        lambda: c.deliver(c.in_flight[0].id),
        lambda: c.drop(c.in_flight[0].id),
        lambda: c.duplicate(c.in_flight[0].id),
        lambda: c.crash(2),
        lambda: c.restart(2),
        lambda: c.partition({1, 2}),
        lambda: c.heal(),
        lambda: c.run_until(lambda c: c.leader is not None, 200, drop_rate=0.1),
    ]
    for step in steps:
        before, fp, hist = cluster_view(c), c.fingerprint(), list(c.history)
        step()
        after, after_hist = cluster_view(c), list(c.history)
        c.undo()
        assert cluster_view(c) == before and c.fingerprint() == fp
        assert list(c.history) == hist
        step()                                   # redoing it: bit for bit the same
        assert cluster_view(c) == after and list(c.history) == after_hist
    with pytest.raises(rb.RaftbookError):
        rb.Cluster().undo()                      # nothing to undo


def test_snapshot_and_restore_rewind_the_history_too():
    c = rb.Cluster(seed=0)
    c.run(80)
    snap = c.snapshot()
    view, hist, fp = cluster_view(c), list(c.history), c.fingerprint()
    c.propose(("set", "x", 1))
    c.crash(1)
    c.run(40, drop_rate=0.2)
    later_view, later_hist = cluster_view(c), list(c.history)
    c.restore(snap)
    assert cluster_view(c) == view and list(c.history) == hist and c.fingerprint() == fp
    c.propose(("set", "x", 1))
    c.crash(1)
    c.run(40, drop_rate=0.2)
    assert cluster_view(c) == later_view and list(c.history) == later_hist


def test_save_trace_and_load_trace_replay_state_and_history(tmp_path):
    cfg = rb.Config(election_timeout=(10, 20), heartbeat_interval=3, tick_ms=20)
    c = rb.Cluster(5, seed=11, config=cfg)
    c.run_until(lambda c: c.leader is not None, 400, latency=(1, 4))
    c.propose(("set", "a", 1))
    c.partition({c.leader})
    c.run(60, drop_rate=0.1, duplicate_rate=0.2)
    c.heal()
    c.crash(3)
    c.tick()
    if c.in_flight:
        c.duplicate(c.in_flight[0].id)
        c.drop(c.in_flight[0].id)
    c.restart(3)
    c.run(50)
    path = tmp_path / "run.json"
    c.save_trace(path)
    data = json.loads(path.read_text())          # plain JSON
    assert data["seed"] == 11
    assert data["config"]["election_timeout"] == [10, 20] and data["config"]["heartbeat_interval"] == 3
    assert len(data["events"]) == len(c.history)
    replay = rb.Cluster.load_trace(path)
    assert isinstance(replay, rb.Cluster)
    assert cluster_view(replay) == cluster_view(c)
    assert list(replay.history) == list(c.history)
    assert replay.fingerprint() == c.fingerprint()
    replay2 = rb.Cluster.load_trace(str(path))    # a str path works as well
    assert list(replay2.history) == list(c.history)


# ---------------------------------------------------------------------------- safety
def always_grant(node, msg):
    """BROKEN request_vote: grants every vote it is asked for."""
    if msg.term > node.current_term:
        node.become_follower(msg.term)
    node.voted_for = msg.src
    return [rb.RequestVoteReply(node.id, msg.src, node.current_term, True)]


def commit_everything(node):
    """BROKEN advance_commit_index: the leader commits its whole log at once."""
    if node.role is rb.Role.LEADER:
        node.commit_index = node.log.last_index


def test_check_safety_returns_none_on_a_healthy_cluster():
    c = rb.Cluster(seed=0)
    c.run(300, drop_rate=0.1, duplicate_rate=0.1)
    assert rb.check_safety(c) is None


def test_check_safety_raises_for_two_leaders_in_one_term():
    c = rb.Cluster(5, seed=0, handlers={"request_vote": always_grant})
    c.timeout(1)
    c.timeout(2)
    assert c.nodes[1].current_term == c.nodes[2].current_term == 1
    settle(c)                    # both win: every server votes for both
    with pytest.raises(rb.SafetyViolation) as err:
        rb.check_safety(c)
    assert err.value.property == "election_safety"
    assert isinstance(err.value, rb.RaftbookError) and str(err.value)


def test_check_safety_names_one_of_the_five_properties():
    c = rb.Cluster(3, seed=0, handlers={"advance_commit_index": commit_everything})
    elect(c, 1)
    c.crash(2)
    c.crash(3)
    p = c.propose(("set", "x", 1))   # "committed" by S1 alone: no majority holds it
    settle(c)                        # lost: S2 and S3 are down
    assert c.nodes[1].commit_index == p.index
    c.restart(2)
    c.restart(3)
    c.crash(1)
    c.timeout(2)
    settle(c)                        # S2 leads term 2 without the committed entry
    assert c.leader == 2 and c.nodes[2].log.term_at(p.index) != p.term
    with pytest.raises(rb.SafetyViolation) as err:
        rb.check_safety(c)
    assert err.value.property in FIVE_PROPERTIES
    assert tuple(rb.SAFETY_PROPERTIES) == FIVE_PROPERTIES


# ---------------------------------------------------------------------------- handlers
def counting(name, fn, calls, cluster=None):
    def wrapper(node, *msg):
        calls.append((name, node, msg))
        if cluster is not None:
            assert node is cluster[0].nodes[node.id]
        return fn(node, *msg)
    return wrapper


def test_reference_handlers_names_the_four_rules():
    assert set(FOUR_HANDLERS) <= set(rb.reference_handlers)
    assert all(callable(rb.reference_handlers[n]) for n in FOUR_HANDLERS)


def test_handlers_are_called_exactly_where_the_reference_is():
    calls = []
    holder = []
    handlers = {n: counting(n, rb.reference_handlers[n], calls, holder) for n in FOUR_HANDLERS}
    c = rb.Cluster(3, seed=0, handlers=handlers)
    ref = rb.Cluster(3, seed=0)
    holder.append(c)

    def both(action):   # the wrapped cluster and the reference one stay identical
        action(c)
        action(ref)
        assert cluster_view(c) == cluster_view(ref)
        assert [e.summary for e in c.history] == [e.summary for e in ref.history]

    def deliver_all():
        while c.in_flight:
            both(lambda cl: cl.deliver(cl.in_flight[0].id))

    both(lambda cl: cl.timeout(1))
    deliver_all()
    both(lambda cl: cl.propose(("set", "x", 1)))
    deliver_all()
    both(lambda cl: cl.crash(3))
    for _ in range(5):
        both(lambda cl: cl.tick())
    deliver_all()
    both(lambda cl: cl.restart(3))
    both(lambda cl: cl.timeout(2))
    deliver_all()
    both(lambda cl: cl.run(80, drop_rate=0.1, duplicate_rate=0.1))

    counts = {n: sum(1 for name, _, _ in calls if name == n) for n in FOUR_HANDLERS}
    assert all(counts[n] > 0 for n in FOUR_HANDLERS), counts
    for name, node, msg in calls:
        if name == "advance_commit_index":
            assert msg == ()
        else:
            assert len(msg) == 1 and msg[0].dst == node.id
    kinds = {"request_vote": rb.RequestVote, "append_entries": rb.AppendEntries,
             "append_entries_reply": rb.AppendEntriesReply}
    for name, kind in kinds.items():
        assert all(isinstance(m[0], kind) for n, _, m in calls if n == name)


def test_handler_calls_match_deliveries_one_for_one():
    calls = []
    handlers = {n: counting(n, rb.reference_handlers[n], calls) for n in FOUR_HANDLERS[:3]}
    c = rb.Cluster(5, seed=0, handlers=handlers)
    c.timeout(1)
    delivered = {rb.RequestVote: 0, rb.AppendEntries: 0, rb.AppendEntriesReply: 0}
    for _round in range(3):
        while c.in_flight:
            env = c.in_flight[0]
            if type(env.msg) in delivered:
                delivered[type(env.msg)] += 1
            c.deliver(env.id)
        if _round == 0:
            c.propose(("set", "a", 1))
        heartbeat(c)
    names = {rb.RequestVote: "request_vote", rb.AppendEntries: "append_entries",
             rb.AppendEntriesReply: "append_entries_reply"}
    for kind, name in names.items():
        assert sum(1 for n, _, _ in calls if n == name) == delivered[kind] > 0, name


def test_a_replaced_handler_is_used_by_every_node():
    def never_vote(node, msg):
        if msg.term > node.current_term:
            node.become_follower(msg.term)
        return [rb.RequestVoteReply(node.id, msg.src, node.current_term, False)]
    c = rb.Cluster(5, seed=0, handlers={"request_vote": never_vote})
    assert c.run_until(lambda c: c.leader is not None, 300) is False


def test_raftnode_accepts_handlers_too():
    calls = []
    node = rb.RaftNode(1, [2, 3], rb.Config(), random.Random(0),
                       handlers={"request_vote": counting("rv", rb.reference_handlers["request_vote"], calls)})
    plain = rb.RaftNode(1, [2, 3], rb.Config(), random.Random(0))
    msg = rb.RequestVote(2, 1, 1, 0, 0)
    assert node.step(msg) == plain.step(msg)
    assert len(calls) == 1 and calls[0][1] is node and calls[0][2] == (msg,)
    acalls = []
    leader = rb.RaftNode(1, [2, 3], rb.Config(), random.Random(0), handlers={
        "advance_commit_index": counting("aci", rb.reference_handlers["advance_commit_index"], acalls),
        "append_entries_reply": counting("aer", rb.reference_handlers["append_entries_reply"], acalls)})
    become_leader(leader)
    leader.step(rb.AppendEntriesReply(2, 1, leader.current_term, True, 1))
    assert leader.commit_index == 1
    assert [n for n, _, _ in acalls].count("aer") == 1
    assert any(n == "aci" and args == () for n, _, args in acalls)


# ---------------------------------------------------------------------------- graders
@pytest.mark.parametrize("name", FOUR_HANDLERS)
def test_grade_passes_the_reference(name):
    report = rb.grade(name, rb.reference_handlers[name])
    assert report.passed is True
    assert report.failures == []
    assert report.trace is None


def test_grade_fails_a_broken_function_with_a_trace_that_replays(tmp_path):
    report = rb.grade("request_vote", always_grant)
    assert report.passed is False
    assert report.failures and all(isinstance(f, str) and f.strip() for f in report.failures)
    trace = report.trace
    assert trace is not None
    path = tmp_path / "failing.json"
    path.write_text(json.dumps(trace))          # plain JSON data
    replay = rb.Cluster.load_trace(path, handlers={"request_vote": always_grant})
    with pytest.raises(rb.SafetyViolation):
        rb.check_safety(replay)
    widget = rb.ClusterWidget(replay)           # ... and it opens in the widget
    import ipywidgets
    assert isinstance(widget, ipywidgets.Box)


def succeed_without_appending(node, msg):
    """BROKEN append_entries: says yes to everything, stores nothing."""
    if msg.term > node.current_term:
        node.become_follower(msg.term)
    return [rb.AppendEntriesReply(node.id, msg.src, node.current_term, True,
                                  msg.prev_log_index + len(msg.entries))]


def ignore_replies(node, msg):
    """BROKEN append_entries_reply: the leader never learns anything."""
    return []


@pytest.mark.parametrize("name,fn", [("append_entries", succeed_without_appending),
                                     ("append_entries_reply", ignore_replies),
                                     ("advance_commit_index", commit_everything)],
                         ids=["append_entries", "append_entries_reply", "advance_commit_index"])
def test_grade_fails_obviously_broken_rules(name, fn):
    report = rb.grade(name, fn)
    assert report.passed is False
    assert report.failures and all(isinstance(f, str) and f.strip() for f in report.failures)
    if report.trace is not None:
        replay = rb.Cluster.from_trace(report.trace, handlers={name: fn})
        assert isinstance(replay, rb.Cluster) and replay.history


# ---------------------------------------------------------------------------- the widget and picture
def _buttons(widget):
    import ipywidgets
    out = []

    def walk(w):
        if isinstance(w, ipywidgets.Button):
            out.append(w)
        for ch in getattr(w, "children", ()) or ():
            walk(ch)
    walk(widget)
    return out


def test_cluster_widget_is_an_ipywidgets_box_that_drives_the_cluster():
    import ipywidgets
    c = rb.Cluster(seed=0)
    w = rb.ClusterWidget(c)
    assert isinstance(w, ipywidgets.Box)
    buttons = {b.description: b for b in _buttons(w)}
    assert {"Tick", "Undo"} <= set(buttons)
    assert {"Deliver", "Drop", "Duplicate", "Crash", "Restart", "Timeout", "Partition",
            "Heal", "Propose"} <= set(buttons)
    buttons["Tick"].click()
    assert c.now == 1 and len(c.history) == 1
    buttons["Undo"].click()
    assert c.now == 0 and len(c.history) == 0
    shown = rb.show(c)
    assert shown is None or isinstance(shown, ipywidgets.Box)
    if shown is not None:
        ticks = [b for b in _buttons(shown) if b.description == "Tick"]
        ticks[0].click()
        assert c.now == 1                            # rb.show drives the same cluster


def test_the_widget_draws_the_same_marked_svg():
    import ipywidgets
    c = rb.Cluster(seed=0)
    elect(c, 1)
    c.propose(("set", "x", 1))
    w = rb.ClusterWidget(c)
    pictures = []

    def walk(x):
        # The picture is drawn in the browser from the state the kernel sends; its ``value``
        # is the same picture as static SVG (what nbconvert and GitHub show).
        value = getattr(x, "value", None)
        if isinstance(x, ipywidgets.DOMWidget) and isinstance(value, str) and "<svg" in value \
                and "data-node" in value:
            pictures.append(value)
        for ch in getattr(x, "children", ()) or ():
            walk(ch)
    walk(w)
    assert pictures
    svg = re.search(r"<svg\b.*?</svg>", pictures[0], re.S).group(0)
    _check_picture(c, ET.fromstring(svg))


def test_cluster_renders_itself_statically():
    c = rb.Cluster(seed=0)
    c.run(40)
    svg = c._repr_svg_()
    html = c._repr_html_()
    assert isinstance(svg, str) and svg.lstrip().startswith("<svg")
    assert isinstance(html, str) and "<svg" in html and 'data-node="1"' in html


def _check_picture(c, root):
    servers = {el.get("data-node"): el for el in with_attr(root, "data-node")}
    assert set(servers) == {str(i) for i in c.nodes}
    for i, node in c.nodes.items():
        el = servers[str(i)]
        assert el.get("data-role") == node.role.value
        assert el.get("data-term") == str(node.current_term)
    msgs = {el.get("data-msg"): el for el in with_attr(root, "data-msg")}
    assert set(msgs) == {str(e.id) for e in c.in_flight}
    for e in c.in_flight:
        assert msgs[str(e.id)].get("data-type") == type(e.msg).__name__


def test_svg_marks_every_server_and_message_in_flight():
    c = rb.Cluster(5, seed=0)
    _check_picture(c, svg_of(c))
    elect(c, 2)
    c.propose(("set", "x", 1))
    c.timeout(4)
    c.crash(5)
    c.partition({1, 2})
    assert {type(e.msg) for e in c.in_flight} >= {rb.AppendEntries, rb.RequestVote}
    _check_picture(c, svg_of(c))
    c.run(30, duplicate_rate=0.3)
    _check_picture(c, svg_of(c))
    html = c._repr_html_()
    svg = re.search(r"<svg\b.*?</svg>", html, re.S).group(0)
    _check_picture(c, ET.fromstring(svg))


# ---------------------------------------------------------------------------- errors
def _cluster_bad_calls(c):
    leader = c.leader
    crashed = 5                        # the busy fixture crashed S5
    follower = next(i for i in c.nodes if i not in (leader, crashed))
    never_sent = max(e.id for e in c.in_flight) + 1000
    return {
        "timeout unknown node 0": lambda: c.timeout(0),
        "timeout unknown node 6": lambda: c.timeout(6),
        "timeout node as str": lambda: c.timeout("1"),
        "timeout node None": lambda: c.timeout(None),
        "crash unknown node": lambda: c.crash(99),
        "restart unknown node": lambda: c.restart(-1),
        "propose to unknown node": lambda: c.propose(("set", "x", 1), node=42),
        "deliver unknown message": lambda: c.deliver(never_sent),
        "drop unknown message": lambda: c.drop(-1),
        "duplicate unknown message": lambda: c.duplicate("3"),
        "deliver message None": lambda: c.deliver(None),
        "crash a crashed node": lambda: c.crash(crashed),
        "restart a running node": lambda: c.restart(follower),
        "timeout the leader": lambda: c.timeout(leader),
        "timeout a crashed node": lambda: c.timeout(crashed),
        "partition unknown node": lambda: c.partition({1, 9}),
        "partition node twice": lambda: c.partition({1, 2}, {2, 3}),
        "partition nothing": lambda: c.partition(),
        "command bad op": lambda: c.propose(("put", "x", 1)),
        "command set without value": lambda: c.propose(("set", "x")),
        "command get without key": lambda: c.propose(("get",)),
        "command delete extra": lambda: c.propose(("delete", "x", 1)),
        "command string": lambda: c.propose("set x 1"),
        "command None": lambda: c.propose(None),
        "command empty": lambda: c.propose(()),
        "command unhashable key": lambda: c.propose(("set", ["k"], 1)),
        "run negative": lambda: c.run(-1),
        "run not int": lambda: c.run("10"),
        "run bad latency": lambda: c.run(5, latency=(3, 1)),
        "run bad drop_rate": lambda: c.run(5, drop_rate=1.5),
        "run bad duplicate_rate": lambda: c.run(5, duplicate_rate=-0.1),
        "run misspelt option": lambda: c.run(5, droprate=0.1),
        "run_until not callable": lambda: c.run_until("leader", 10),
        "run_until negative": lambda: c.run_until(lambda c: True, -5),
        "restore not a snapshot": lambda: c.restore("yesterday"),
        "restore other cluster's snapshot": lambda: c.restore(rb.Cluster().snapshot()),
        "status not a proposal": lambda: c.status("p"),
        "propose to crashed node": lambda: c.propose(("set", "x", 1), node=crashed),
        "propose to follower": lambda: c.propose(("set", "x", 1), node=follower),
        "run_until predicate raises": lambda: c.run_until(lambda cl: 1 / 0, 10),
    }


def test_every_bad_cluster_call_is_a_clear_error_and_changes_nothing(busy):
    c = busy
    for what, call in _cluster_bad_calls(c).items():
        before, fp, hist = cluster_view(c), c.fingerprint(), list(c.history)
        try:
            call()
        except rb.RaftbookError as exc:
            msg = str(exc)
            assert len(msg) > 15 and "Traceback" not in msg, (what, msg)
        except Exception as exc:  # pragma: no cover - reported as the failure
            pytest.fail(f"{what}: raised {type(exc).__name__} (not a RaftbookError): {exc}")
        else:
            pytest.fail(f"{what}: no error (a silent no-op or a wrong success)")
        assert cluster_view(c) == before, what
        assert c.fingerprint() == fp and list(c.history) == hist, what


def test_a_handler_that_raises_is_a_clear_error_and_changes_nothing():
    def broken(node, msg):
        raise ZeroDivisionError("oops")
    c = rb.Cluster(3, seed=0, handlers={"request_vote": broken})
    c.timeout(1)
    before, fp, hist = cluster_view(c), c.fingerprint(), list(c.history)
    with pytest.raises(rb.RaftbookError) as err:
        c.deliver(c.in_flight[0].id)
    assert "request_vote" in str(err.value)
    assert cluster_view(c) == before and c.fingerprint() == fp and list(c.history) == hist
    with pytest.raises(rb.RaftbookError):
        c.run(50)
    assert cluster_view(c) == before and list(c.history) == hist


def test_unknown_ids_are_named_in_the_error(busy):
    c = busy
    for call, shown in [(lambda: c.crash(99), "99"), (lambda: c.timeout(0), "0"),
                        (lambda: c.deliver(123456), "123456"), (lambda: c.drop(777), "777")]:
        with pytest.raises(rb.RaftbookError) as err:
            call()
        assert shown in str(err.value)


def test_specific_error_classes(busy):
    c = busy
    with pytest.raises(rb.UnknownNode):
        c.crash(99)
    with pytest.raises(rb.UnknownMessage):
        c.deliver(10 ** 9)
    with pytest.raises(rb.InvalidCommand):
        c.propose(("put", "x", 1))
    for cls in (rb.UnknownNode, rb.UnknownMessage, rb.InvalidCommand, rb.InvalidArgument,
                rb.InvalidState, rb.NotLeader, rb.SafetyViolation, rb.TraceError, rb.HandlerError):
        assert issubclass(cls, rb.RaftbookError)


def test_bad_construction_and_node_inputs_are_clear_errors(tmp_path):
    bad = {
        "Config reversed timeout": lambda: rb.Config(election_timeout=(30, 15)),
        "Config zero timeout": lambda: rb.Config(election_timeout=(0, 5)),
        "Config heartbeat 0": lambda: rb.Config(heartbeat_interval=0),
        "Config tick_ms 0": lambda: rb.Config(tick_ms=0),
        "Cluster n=0": lambda: rb.Cluster(n=0),
        "Cluster n str": lambda: rb.Cluster(n="5"),
        "Cluster seed str": lambda: rb.Cluster(seed="zero"),
        "Cluster config str": lambda: rb.Cluster(config="fast"),
        "Cluster unknown handler": lambda: rb.Cluster(handlers={"request_votes": always_grant}),
        "Cluster handler not callable": lambda: rb.Cluster(handlers={"request_vote": 3}),
        "RaftNode id 0": lambda: rb.RaftNode(0, [1, 2], rb.Config(), random.Random(0)),
        "RaftNode own peer": lambda: rb.RaftNode(1, [1, 2], rb.Config(), random.Random(0)),
        "RaftNode config": lambda: rb.RaftNode(1, [2, 3], {"tick_ms": 5}, random.Random(0)),
        "RaftNode rng": lambda: rb.RaftNode(1, [2, 3], rb.Config(), 42),
        "RaftNode handlers": lambda: rb.RaftNode(1, [2, 3], rb.Config(), random.Random(0),
                                                 handlers={"vote": always_grant}),
        "load_trace missing": lambda: rb.Cluster.load_trace(tmp_path / "missing.json"),
        "check_safety not a cluster": lambda: rb.check_safety("cluster"),
        "grade unknown rule": lambda: rb.grade("elect_leader", always_grant),
        "grade not a function": lambda: rb.grade("request_vote", "always_grant"),
    }
    for what, call in bad.items():
        with pytest.raises(rb.RaftbookError) as err:
            call()
        assert str(err.value), what
    node = rb.RaftNode(1, [2, 3], rb.Config(), random.Random(0))
    become_leader(node)
    before = node_view(node)
    for what, call in {
        "step not a message": lambda: node.step("hello"),
        "step wrong destination": lambda: node.step(rb.RequestVote(2, 3, 5, 0, 0)),
        "step unknown sender": lambda: node.step(rb.RequestVote(9, 1, 5, 0, 0)),
        "propose malformed": lambda: node.propose(("set",)),
        "propose not a tuple": lambda: node.propose({"set": 1}),
    }.items():
        with pytest.raises(rb.RaftbookError) as err:
            call()
        assert str(err.value), what
        assert node_view(node) == before, what


# ---------------------------------------------------------------------------- determinism
def session(seed):
    """A run that uses every kind of event, automatic and manual."""
    c = rb.Cluster(5, seed=seed)
    c.run_until(lambda c: c.leader is not None, 400, latency=(1, 5))
    p = c.propose(("set", "x", 1))
    c.run(30, drop_rate=0.2, duplicate_rate=0.2)
    c.partition({1, 2})
    c.run(60, latency=(2, 6))
    c.heal()
    c.crash(4)
    c.tick()
    c.timeout(next(i for i, n in c.nodes.items() if i != 4 and n.role != "leader"))
    c.deliver(c.in_flight[0].id)
    c.duplicate(c.in_flight[-1].id)
    c.restart(4)
    c.run(120, drop_rate=0.05)
    if c.leader is not None:
        c.propose(("get", "x"))
    c.run(40)
    c.status(p)
    return c


_SESSION_SCRIPT = '''
import hashlib, json, os, tempfile
import raftbook as rb
c = rb.Cluster(5, seed=21)
c.run_until(lambda c: c.leader is not None, 400, latency=(1, 5))
for k in ("alpha", "beta", "gamma", "delta"):
    c.propose(("set", k, k.upper()))
c.run(40, drop_rate=0.2, duplicate_rate=0.2)
c.partition({1, 2})
c.run(80)
c.heal()
c.run(80, drop_rate=0.1)
path = os.path.join(tempfile.mkdtemp(), "run.json")
c.save_trace(path)
blob = json.dumps([open(path).read(), [e.summary for e in c.history],
                   {i: sorted(n.kv.items()) for i, n in c.nodes.items()}], sort_keys=True)
print(hashlib.sha256(blob.encode()).hexdigest())
'''


def test_same_run_bit_for_bit_across_processes_and_hash_seeds():
    import subprocess
    import sys
    out = set()
    for hash_seed in ("1", "2"):
        env = {**os.environ, "PYTHONHASHSEED": hash_seed}
        res = subprocess.run([sys.executable, "-c", _SESSION_SCRIPT], env=env, capture_output=True,
                             text=True, check=True)
        out.add(res.stdout.strip())
    assert len(out) == 1 and len(next(iter(out))) == 64


def test_same_seed_same_calls_same_run_bit_for_bit(tmp_path):
    a, b = session(5), session(5)
    assert list(a.history) == list(b.history)
    assert cluster_view(a) == cluster_view(b)
    assert a.fingerprint() == b.fingerprint()
    a.save_trace(tmp_path / "a.json")
    b.save_trace(tmp_path / "b.json")
    assert (tmp_path / "a.json").read_bytes() == (tmp_path / "b.json").read_bytes()
    other = session(6)
    assert list(other.history) != list(a.history)


class WallClock(AssertionError):
    pass


@contextmanager
def no_wall_clock(monkeypatch):
    """Make every clock and every unseeded source of randomness raise."""
    def refuse(*_a, **_k):
        raise WallClock("the core read the wall clock or an unseeded random source")
    for name in ("time", "time_ns", "monotonic", "monotonic_ns", "perf_counter",
                 "perf_counter_ns", "process_time", "process_time_ns", "localtime",
                 "gmtime", "ctime", "asctime", "strftime"):
        monkeypatch.setattr(time, name, refuse)

    class FrozenDateTime(datetime.datetime):
        now = classmethod(refuse)
        utcnow = classmethod(refuse)
        today = classmethod(refuse)

    class FrozenDate(datetime.date):
        today = classmethod(refuse)

    monkeypatch.setattr(datetime, "datetime", FrozenDateTime)
    monkeypatch.setattr(datetime, "date", FrozenDate)
    monkeypatch.setattr(os, "urandom", refuse)
    for name in ("random", "randint", "randrange", "choice", "choices", "shuffle", "sample",
                 "uniform", "getrandbits", "seed"):
        monkeypatch.setattr(random, name, refuse)
    original_seed = random.Random.seed

    def seeded_only(self, a=None, *args, **kw):
        if a is None:
            refuse()
        return original_seed(self, a, *args, **kw)
    monkeypatch.setattr(random.Random, "seed", seeded_only)
    try:
        yield
    finally:
        monkeypatch.undo()


def test_the_core_never_reads_the_wall_clock(monkeypatch, tmp_path):
    expected = session(9)
    expected_view, expected_history = cluster_view(expected), list(expected.history)
    expected.save_trace(tmp_path / "t.json")
    with no_wall_clock(monkeypatch):
        c = session(9)
        c.undo()
        snap = c.snapshot()
        c.run(10)
        c.restore(snap)
        rb.check_safety(c)
        replay = rb.Cluster.load_trace(tmp_path / "t.json")
        node = rb.RaftNode(1, [2, 3], rb.Config(), random.Random(0))
        for _ in range(40):
            node.tick()
    c.run(40)
    assert cluster_view(c) == expected_view and list(c.history) == expected_history
    assert cluster_view(replay) == expected_view
