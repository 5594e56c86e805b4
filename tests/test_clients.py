"""Client histories on a real cluster, checked for linearizability."""
import random

import pytest

import raftbook as rb
from raftbook.clients import stale_read


@pytest.fixture
def cluster():
    c = rb.Cluster(3, seed=4)
    c.run_until(lambda c: c.leader is not None, 1000)
    return c


def test_stale_read_through_a_deposed_leader_is_caught():
    c, clients = stale_read("local")
    ops = clients.ops
    assert [op.status for op in ops] == ["ok", "ok", "ok"]
    first, second, read = ops
    assert read.node == first.node != second.node  # the read went to the cut-off old leader
    assert read.output == 1 and second.ret < read.call  # x = 2 had completed: a stale read
    assert c.nodes[read.node].role is rb.Role.LEADER  # it still believes it leads
    res = clients.check()
    assert not res.linearizable and res.key == "x"
    assert "get('x') -> 1" in res.explanation


def test_reads_through_the_log_stay_linearizable_in_the_same_run():
    c, clients = stale_read("log")
    read = clients.ops[2]
    assert read.status in ("failed", "pending")  # the old leader cannot commit it
    assert clients.check().linearizable
    rb.check_safety(c)


def test_a_healthy_run_with_a_lossy_network_is_linearizable(cluster):
    clients = rb.Clients(cluster)
    rng = random.Random(0)
    for step in range(60):
        client = step % 4
        if client in clients._waiting:
            clients.run(rng.randint(1, 4), drop_rate=0.1, duplicate_rate=0.1)
            continue
        key = rng.choice(["x", "y"])
        kind = rng.choice(["set", "get", "get", "delete"])
        try:
            if kind == "set":
                clients.set(client, key, step)
            else:
                getattr(clients, kind)(client, key)
        except rb.NotLeader:
            pass
        clients.run(rng.randint(0, 3), drop_rate=0.1, duplicate_rate=0.1)
    clients.run(100)
    statuses = set(clients.table()["status"])
    assert "ok" in statuses
    assert clients.check().linearizable


def test_answers_carry_the_state_machine_results(cluster):
    clients = rb.Clients(cluster)
    assert clients.wait(clients.set(1, "x", 5))
    get = clients.get(1, "x")
    assert get.status == "pending" and get.ret is None
    assert clients.wait(get) and get.output == 5
    dele = clients.delete(1, "x")
    clients.wait(dele)
    assert dele.output == 5 and clients.wait(clients.get(2, "x")) and clients.ops[-1].output is None
    ops = clients.history
    assert [o.call < o.ret for o in ops] == [True] * 4
    assert all(a.ret < b.call for a, b in zip(ops, ops[1:]))  # one after another
    table = clients.table()
    assert list(table["op"]) == ["set", "get", "delete", "get"]
    assert table["index"].notna().all()


def test_local_reads_on_a_stable_leader_answer_at_once(cluster):
    clients = rb.Clients(cluster, read_path="local")
    clients.wait(clients.set(1, "x", 1))
    op = clients.get(2, "x")
    assert op.status == "ok" and op.output == 1 and op.ret == op.call + 1
    assert clients.check().linearizable


def test_one_operation_at_a_time_per_client(cluster):
    clients = rb.Clients(cluster)
    clients.set(1, "x", 1)
    with pytest.raises(rb.InvalidState, match="one operation at a time"):
        clients.get(1, "x")
    assert len(clients.ops) == 1
    clients.give_up(1)
    assert clients.ops[0].status == "unknown"
    clients.get(1, "x")  # now it may go on
    with pytest.raises(rb.InvalidState):
        clients.give_up(5)


def test_a_crashed_server_leaves_its_operations_unanswered(cluster):
    clients = rb.Clients(cluster)
    leader = cluster.leader
    op = clients.set(1, "x", 1)
    cluster.crash(leader)
    cluster.restart(leader)
    clients.run(200)
    assert op.status == "unknown" and op.ret is None
    assert clients.history[0].pending  # may or may not have taken effect
    assert clients.check().linearizable


def test_requests_need_a_leader(cluster):
    clients = rb.Clients(cluster)
    follower = next(i for i in cluster.nodes if i != cluster.leader)
    with pytest.raises(rb.NotLeader):
        clients.set(1, "x", 1, node=follower)
    with pytest.raises(rb.NotLeader):
        rb.Clients(cluster, read_path="local").get(1, "x", node=follower)
    cluster.crash(cluster.leader)
    with pytest.raises(rb.NotLeader):
        clients.set(1, "x", 1)
    assert clients.ops == []


def test_rewinding_the_cluster_under_the_clients_is_an_error(cluster):
    clients = rb.Clients(cluster)
    clients.set(1, "x", 1)
    cluster.undo()
    with pytest.raises(rb.InvalidState, match="rewound"):
        clients.poll()


@pytest.mark.parametrize("call", [
    lambda c: rb.Clients("cluster"),
    lambda c: rb.Clients(c, read_path="fast"),
    lambda c: rb.Clients(c).set(1, "x", [1]),
    lambda c: rb.Clients(c).get([1], "x"),
    lambda c: rb.Clients(c).get(1, "x", node=9),
    lambda c: rb.Clients(c).run_until(3, 10),
    lambda c: rb.Clients(c).wait("op"),
])
def test_bad_arguments_are_clear_errors(cluster, call):
    with pytest.raises(rb.RaftbookError):
        call(cluster)
