"""Bad input: every public call raises a RaftbookError saying what was wrong, and changes nothing.

Hypothesis throws junk at every argument; "nothing changed" means the same
fingerprint, the same history and the same messages in flight.
"""
import copy
import json
import math
import random

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

import raftbook as rb
from raftbook import scenarios as sc
from raftbook.roles import Role

SETTINGS = settings(max_examples=60, deadline=None, derandomize=True,
                    suppress_health_check=[HealthCheck.too_slow])

junk = st.one_of(
    st.integers(-3, 12), st.booleans(), st.none(), st.floats(allow_nan=True),
    st.text(max_size=4), st.binary(max_size=3),
    st.lists(st.integers(0, 6), max_size=3), st.tuples(st.integers(0, 6)),
    st.dictionaries(st.text(max_size=2), st.integers(0, 3), max_size=2),
    st.sets(st.integers(0, 6), max_size=3),
)


def base():
    """Five servers mid-run: a leader (S2), a crashed old leader (S1), messages in flight."""
    c = sc.leader_crash_after_submit(winner=2)
    c.propose(("set", "y", 2))
    return c


def frozen(c):
    return (c.fingerprint(), [(e.kind, e.args, e.summary) for e in c.history],
            [e.id for e in c.in_flight], list(c.proposals), c.now)


def unchanged(c, call, error=rb.RaftbookError):
    """``call()`` raises ``error`` with a real sentence and leaves ``c`` as it was."""
    before = frozen(c)
    with pytest.raises(error) as info:
        call()
    assert isinstance(info.value, rb.RaftbookError)
    assert len(str(info.value)) > 15, "the message should say what was wrong"
    assert frozen(c) == before
    return info.value


def is_id(x, ids):
    return isinstance(x, int) and not isinstance(x, bool) and x in ids


# -- node and message ids ------------------------------------------------------------------
@SETTINGS
@given(x=junk)
def test_unknown_node_ids(x):
    c = base()
    assume(not is_id(x, c.nodes))
    calls = [c.timeout, c.crash, c.restart]
    if x is not None:   # propose(node=None) means "to the leader"
        calls.append(lambda i: c.propose(("get", "x"), node=i))
    for call in calls:
        err = unchanged(c, lambda: call(x), rb.UnknownNode)
        assert "S1..S5" in str(err)


@SETTINGS
@given(x=junk)
def test_unknown_message_ids(x):
    c = base()
    assume(not is_id(x, {e.id for e in c.in_flight}))
    for call in (c.deliver, c.drop, c.duplicate, c.envelope):
        unchanged(c, lambda: call(x), rb.UnknownMessage)


def test_delivered_message_cannot_be_delivered_again():
    c = base()
    mid = c.in_flight[0].id
    c.deliver(mid)
    err = unchanged(c, lambda: c.deliver(mid), rb.UnknownMessage)
    assert "delivered or dropped" in str(err)


# -- calls that do not fit the state ----------------------------------------------------------
@pytest.mark.parametrize("what, call, error, words", [
    ("crash a crashed node", lambda c: c.crash(1), rb.InvalidState, "restart"),
    ("restart a running node", lambda c: c.restart(3), rb.InvalidState, "running"),
    ("time out a leader", lambda c: c.timeout(2), rb.InvalidState, "leader"),
    ("time out a crashed node", lambda c: c.timeout(1), rb.InvalidState, "crashed"),
    ("heal an unpartitioned network", lambda c: c.heal(), rb.InvalidState, "not partitioned"),
    ("propose to a follower", lambda c: c.propose(("get", "x"), node=3), rb.NotLeader, "S2"),
    ("propose to a crashed node", lambda c: c.propose(("get", "x"), node=1), rb.NotLeader, "crashed"),
    ("result of a pending proposal", lambda c: c.result(c.proposals[-1]), rb.InvalidState, "pending"),
    ("status of a foreign proposal", lambda c: c.status(rb.Proposal(9, ("get", "x"), 1, 1, 1, 0)),
     rb.InvalidArgument, "not a proposal"),
    ("restore garbage", lambda c: c.restore("snap"), rb.InvalidArgument, "snapshot"),
    ("goto the future", lambda c: c.goto(10 ** 6), rb.InvalidArgument, "between 0"),
    ("goto a string", lambda c: c.goto("3"), rb.InvalidArgument, "between 0"),
])
def test_calls_that_do_not_fit_the_state(what, call, error, words):
    c = base()
    err = unchanged(c, lambda: call(c), error)
    assert words in str(err), what


def test_not_leader_hint_and_no_leader():
    c = base()
    err = unchanged(c, lambda: c.propose(("get", "x"), node=4), rb.NotLeader)
    assert err.leader_hint == 2
    fresh = rb.Cluster(3, seed=0)
    err = unchanged(fresh, lambda: fresh.propose(("get", "x")), rb.NotLeader)
    assert err.leader_hint is None and "run_until" in str(err)


def test_undo_with_empty_history():
    c = rb.Cluster(3, seed=0)
    unchanged(c, c.undo, rb.InvalidState)


# -- partitions ------------------------------------------------------------------------------
group = st.one_of(st.sets(st.integers(-1, 7), max_size=4), st.lists(st.integers(0, 6), max_size=4),
                  junk)


def partition_is_valid(groups, ids):
    seen = set()
    for g in groups:
        if isinstance(g, (str, bytes)) or not isinstance(g, (set, frozenset, list, tuple)) or not g:
            return False
        for i in g:
            if not is_id(i, ids) or i in seen:
                return False
            seen.add(i)
    return len(groups) + (1 if set(ids) - seen else 0) >= 2


@SETTINGS
@given(groups=st.lists(group, max_size=3))
def test_bad_partitions(groups):
    c = base()
    assume(not partition_is_valid(groups, c.nodes))
    unchanged(c, lambda: c.partition(*groups), rb.InvalidArgument)


@pytest.mark.parametrize("groups, words", [
    (({1, 9},), "no server 9"), (({1, 2}, {2, 3}), "two groups"), ((set(),), "empty"),
    (({1, 2, 3, 4, 5},), "cuts nothing"), (("12",), "set of server ids"), ((), "at least one"),
])
def test_partition_messages(groups, words):
    c = base()
    assert words in str(unchanged(c, lambda: c.partition(*groups), rb.InvalidArgument))


# -- commands --------------------------------------------------------------------------------
def command_is_valid(cmd):
    if isinstance(cmd, list):
        cmd = tuple(cmd)
    if not isinstance(cmd, tuple) or not cmd or not isinstance(cmd[0], str):
        return False
    arity = {"set": 3, "get": 2, "delete": 2}.get(cmd[0])
    if arity is None or len(cmd) != arity:
        return False
    if isinstance(cmd[1], bool) or not isinstance(cmd[1], (str, int)):
        return False
    if cmd[0] == "set":
        v = cmd[2]
        if not (v is None or isinstance(v, (str, int, bool))
                or (isinstance(v, float) and math.isfinite(v))):
            return False
    return True


commands = st.one_of(
    junk,
    st.tuples(st.sampled_from(["set", "get", "delete", "put", "SET", ""]), junk),
    st.tuples(st.sampled_from(["set", "get", "delete"]), junk, junk),
    st.tuples(junk, st.text(max_size=2), junk),
    st.lists(junk, max_size=4),
)


@SETTINGS
@given(cmd=commands)
def test_malformed_commands(cmd):
    assume(not command_is_valid(cmd))
    c = base()
    unchanged(c, lambda: c.propose(cmd), rb.InvalidCommand)
    unchanged(c, lambda: c.propose(cmd, node=2), rb.InvalidCommand)
    leader = c.nodes[2]
    log = list(leader.log)
    with pytest.raises(rb.InvalidCommand):
        leader.propose(cmd)
    assert list(leader.log) == log


def test_command_messages_say_the_shape():
    c = base()
    assert "('set', key, value)" in str(unchanged(c, lambda: c.propose(("set", "x")), rb.InvalidCommand))
    assert "'put'" in str(unchanged(c, lambda: c.propose(("put", "x", 1)), rb.InvalidCommand))
    assert "finite" in str(unchanged(c, lambda: c.propose(("set", "x", math.inf)), rb.InvalidCommand))


# -- network options -------------------------------------------------------------------------
def network_is_valid(latency, drop, dup):
    if isinstance(latency, list):
        latency = tuple(latency)
    ok_lat = (isinstance(latency, tuple) and len(latency) == 2
              and all(isinstance(x, int) and not isinstance(x, bool) for x in latency)
              and 1 <= latency[0] <= latency[1])
    ok_rate = all(not isinstance(p, bool) and isinstance(p, (int, float)) and 0 <= p < 1
                  for p in (drop, dup))
    return ok_lat and ok_rate


@SETTINGS
@given(latency=st.one_of(junk, st.tuples(st.integers(-1, 4), st.integers(-1, 4))),
       drop=st.one_of(junk, st.floats(-1, 2)), dup=st.one_of(junk, st.floats(-1, 2)))
def test_bad_network_options(latency, drop, dup):
    assume(not network_is_valid(latency, drop, dup))
    c = base()
    unchanged(c, lambda: c.run(3, latency=latency, drop_rate=drop, duplicate_rate=dup),
              rb.InvalidArgument)
    unchanged(c, lambda: c.run_until(lambda c: False, 3, latency=latency, drop_rate=drop,
                                     duplicate_rate=dup), rb.InvalidArgument)


@SETTINGS
@given(ticks=junk)
def test_bad_tick_counts(ticks):
    assume(not (isinstance(ticks, int) and not isinstance(ticks, bool) and ticks >= 0))
    c = base()
    unchanged(c, lambda: c.run(ticks), rb.InvalidArgument)
    unchanged(c, lambda: c.run_until(lambda c: True, ticks), rb.InvalidArgument)


def test_misspelt_network_option():
    c = base()
    err = unchanged(c, lambda: c.run(5, loss=0.1), rb.InvalidArgument)
    assert "loss" in str(err) and "drop_rate" in str(err)


def test_run_until_predicate_problems():
    c = base()
    unchanged(c, lambda: c.run_until("leader", 10), rb.InvalidArgument)
    err = unchanged(c, lambda: c.run_until(lambda c: c.nodes[99], 10), rb.InvalidArgument)
    assert "predicate raised KeyError" in str(err)


# -- constructors ----------------------------------------------------------------------------
@SETTINGS
@given(n=junk, seed=junk)
def test_bad_cluster_arguments(n, seed):
    ok_n = isinstance(n, int) and not isinstance(n, bool) and 1 <= n <= 15
    ok_seed = isinstance(seed, int) and not isinstance(seed, bool)
    assume(not (ok_n and ok_seed))
    with pytest.raises(rb.InvalidArgument):
        rb.Cluster(n, seed=seed)


@pytest.mark.parametrize("kwargs", [
    {"config": "fast"}, {"config": {"election_timeout": [5, 2]}}, {"config": {"speed": 1}},
    {"handlers": ["request_vote"]}, {"handlers": {"vote": print}}, {"handlers": {"request_vote": 3}},
])
def test_bad_cluster_options(kwargs):
    with pytest.raises(rb.InvalidArgument):
        rb.Cluster(3, **kwargs)


@pytest.mark.parametrize("kwargs", [
    {"election_timeout": (0, 5)}, {"election_timeout": (9, 3)}, {"election_timeout": "15-30"},
    {"election_timeout": (1.5, 3)}, {"heartbeat_interval": 15}, {"heartbeat_interval": 0},
    {"tick_ms": 0}, {"max_entries": 0}, {"max_entries": 1.5},
])
def test_bad_config(kwargs):
    with pytest.raises(rb.InvalidArgument):
        rb.Config(**kwargs)


@pytest.mark.parametrize("nodes, n", [
    ([1, 2], None), ({9: {}}, 3), ({1: {"log": [2, 1]}}, 3), ({1: {"logs": []}}, 3),
    ({1: {"log": [1], "commit_index": 2}}, 3), ({1: {"log": [3], "current_term": 1}}, 3),
    ({1: []}, 3), ({1: {"voted_for": 9}}, 3), ({1: {"voted_for": "S2"}}, 3),
    ({1: {"log": [(1, ("put", 1))]}}, 3), ({1: {"log": ["x"]}}, 3), ({1: {"log": 5}}, 3),
    ({1: {"log": [0]}}, 3), ({1: {"current_term": -1}}, 3), ({"1": {}}, None),
])
def test_bad_from_state(nodes, n):
    with pytest.raises(rb.InvalidArgument):
        rb.Cluster.from_state(nodes, n=n)


@pytest.mark.parametrize("args, kwargs", [
    ((0, [2]), {}), (("1", [2]), {}), ((1, 2), {}), ((1, [1, 2]), {}), ((1, "23"), {}),
    ((1, None), {}), ((1, [0]), {}), ((1, [2]), {"rng": 3}), ((1, [2]), {"config": {}}),
    ((1, [2]), {"handlers": 5}),
])
def test_bad_node_arguments(args, kwargs):
    with pytest.raises(rb.InvalidArgument):
        rb.RaftNode(*args, **kwargs)


# -- messages stepped into a node ------------------------------------------------------------
def a_node():
    node = rb.RaftNode(1, [2, 3], rb.Config(), random.Random(0))
    node.step(rb.AppendEntries(2, 1, 2, 0, 0, (rb.Entry(1, 1), rb.Entry(2, 2, ("set", "x", 1))), 1))
    node.take_reasons()
    return node


GOOD = {
    rb.RequestVote: dict(src=2, dst=1, term=3, last_log_index=2, last_log_term=2),
    rb.RequestVoteReply: dict(src=2, dst=1, term=3, vote_granted=True),
    rb.AppendEntries: dict(src=2, dst=1, term=3, prev_log_index=2, prev_log_term=2,
                           entries=(rb.Entry(3, 3, ("get", "x")),), leader_commit=2),
    rb.AppendEntriesReply: dict(src=2, dst=1, term=3, success=True, match_index=2,
                                conflict_index=0, conflict_term=0),
}


def field_is_valid(cls, name, value):
    if name in ("vote_granted", "success"):
        return isinstance(value, bool)
    if name == "entries":
        return False   # every junk value is a bad entries field (it needs Entry objects)
    if not isinstance(value, int) or isinstance(value, bool):
        return False
    if name == "src":
        return value in (2, 3)
    if name == "dst":
        return value == 1
    return value >= 0


@SETTINGS
@given(cls=st.sampled_from(list(GOOD)), data=st.data())
def test_malformed_messages_change_nothing(cls, data):
    fields = dict(GOOD[cls])
    name = data.draw(st.sampled_from(sorted(fields)))
    value = data.draw(junk)
    assume(not field_is_valid(cls, name, value))
    fields[name] = value
    node = a_node()
    before = node._export()
    with pytest.raises(rb.InvalidArgument) as info:
        node.step(cls(**fields))
    assert node._export() == before
    assert name in str(info.value) or "S" in str(info.value)


@pytest.mark.parametrize("entries", [
    (rb.Entry(4, 3),),                       # a gap after prev_log_index 2
    (rb.Entry(3, 1),),                       # a term lower than prev_log_term
    (rb.Entry(3, 9),),                       # a term above the message's term
    (rb.Entry(3, 3, ("put", "x")),),         # a bad command
    [rb.Entry(3, 3)],                        # a list, not a tuple
])
def test_malformed_entries(entries):
    node = a_node()
    before = node._export()
    with pytest.raises(rb.InvalidArgument, match="entr"):
        node.step(rb.AppendEntries(2, 1, 3, 2, 2, entries, 2))
    assert node._export() == before


@pytest.mark.parametrize("msg", ["hello", None, 3, ("RequestVote", 2, 1)])
def test_step_takes_only_messages(msg):
    node = a_node()
    before = node._export()
    with pytest.raises(rb.InvalidArgument, match="message"):
        node.step(msg)
    assert node._export() == before


def test_node_timeout_on_leader_and_propose_on_follower():
    node = rb.RaftNode(1, [], rb.Config(), random.Random(0))
    node.timeout()
    with pytest.raises(rb.InvalidState):
        node.timeout()
    follower = a_node()
    with pytest.raises(rb.NotLeader) as info:
        follower.propose(("get", "x"))
    assert info.value.leader_hint == 2


def test_check_safety_on_junk():
    for x in (None, "c", rb.RaftNode(1, [2])):
        with pytest.raises(rb.InvalidArgument):
            rb.check_safety(x)


# -- trace files ---------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def good_trace(tmp_path_factory):
    c = base()
    c.run(12, drop_rate=0.2)
    path = tmp_path_factory.mktemp("trace") / "good.json"
    c.save_trace(path)
    return json.loads(path.read_text())


@pytest.mark.parametrize("text", ["", "{nope", "[1, 2]", "null", "\"raftbook\"", "\xff\xfe"])
def test_trace_files_that_are_not_traces(tmp_path, text):
    path = tmp_path / "bad.json"
    path.write_bytes(text.encode("latin-1"))
    with pytest.raises(rb.TraceError):
        rb.Cluster.load_trace(path)


def test_trace_paths(tmp_path):
    with pytest.raises(rb.TraceError, match="cannot read"):
        rb.Cluster.load_trace(tmp_path / "missing.json")
    with pytest.raises(rb.TraceError):
        rb.Cluster.load_trace(tmp_path)
    with pytest.raises(rb.TraceError, match="path"):
        rb.Cluster.load_trace(None)
    c = base()
    unchanged(c, lambda: c.save_trace(tmp_path / "no" / "such" / "dir.json"), rb.TraceError)
    unchanged(c, lambda: c.save_trace(tmp_path), rb.TraceError)
    unchanged(c, lambda: c.save_trace(None), rb.TraceError)


@pytest.mark.parametrize("tamper, words", [
    (lambda g: g.update(format="other"), "not a raftbook trace"),
    (lambda g: g.update(version=99), "version"),
    (lambda g: g.pop("events"), "events"),
    (lambda g: g["events"].append({"kind": "explode", "args": {}}), "malformed"),
    (lambda g: g["events"].insert(0, {"kind": "deliver", "args": {"msg_id": 999}}), "replay"),
    (lambda g: g["final"].update(fingerprint="0" * 16), "different state"),
    (lambda g: g["events"].pop(), "different state"),
    (lambda g: g.update(n="5"), "replay"),
    (lambda g: g.update(initial=[1]), "initial"),
    (lambda g: g.update(final=5), "final"),
    (lambda g: g.update(handlers={"request_vote": "mine.vote"}), "custom handlers"),
    (lambda g: g.update(config={"election_timeout": [3, 1]}), "replay"),
])
def test_tampered_traces(tmp_path, good_trace, tamper, words):
    data = copy.deepcopy(good_trace)
    tamper(data)
    path = tmp_path / "t.json"
    path.write_text(json.dumps(data))
    with pytest.raises(rb.TraceError, match=words):
        rb.Cluster.load_trace(path)


def _paths(obj, prefix=()):
    """Every (container, key) in a JSON document."""
    if isinstance(obj, dict):
        for k, v in obj.items():
            yield obj, k
            yield from _paths(v)
    elif isinstance(obj, list):
        for k, v in enumerate(obj):
            yield obj, k
            yield from _paths(v)


@settings(max_examples=120, deadline=None, derandomize=True)
@given(data=st.data())
def test_any_tampering_replays_exactly_or_is_a_trace_error(good_trace, data):
    """A changed trace either replays to the state it records or raises TraceError."""
    doc = copy.deepcopy(good_trace)
    doc["events"] = doc["events"][:12]
    del doc["final"]
    c = rb.Cluster.from_trace(doc)                         # a short, valid trace to tamper with
    doc["final"] = {"time": c.now, "fingerprint": c.fingerprint()}
    spots = list(_paths(doc))
    holder, key = spots[data.draw(st.integers(0, len(spots) - 1))]
    value = data.draw(st.one_of(junk, st.integers(0, 40)))
    if data.draw(st.booleans()) and isinstance(holder, dict):
        del holder[key]
    else:
        holder[key] = value
    try:
        replayed = rb.Cluster.from_trace(doc)
    except rb.TraceError:
        return
    final = doc.get("final")
    if final is not None:   # a trace without a recorded final state is taken as it replays
        assert replayed.fingerprint() == final["fingerprint"]
