"""Clients of the key-value store, with a recorded history for the linearizability checker.

:class:`Clients` plays any number of clients against a cluster. Each
operation is recorded twice: when the client invokes it and when the answer
comes back, on one logical clock that also orders them against every other
client's operations. ``check()`` then asks whether the history is
linearizable (:mod:`raftbook.linearizability`).

Writes go through the log: the server a client contacted appends the command,
and answers once it has applied it. Reads come in two flavours:

- ``read_path="log"`` (correct): a read is a log entry too, answered once
  applied, so it sees every write committed before it.
- ``read_path="local"`` (deliberately broken): the server answers from its own
  state machine at once if it believes it leads. A leader cut off by a
  partition still believes so, and serves stale values: section 8 of the Raft
  paper explains why a leader must confirm it still leads before answering.

A server that crashes drops its clients' connections: their operations stay
unanswered (pending), since the client cannot know whether they took effect.
"""
from __future__ import annotations

from dataclasses import dataclass

from .cluster import Cluster
from ..errors import InvalidArgument, InvalidState, NotLeader
from ..core.kv import validate_command
from ..check.linearizability import Operation, check_linearizability
from ..core.roles import Role

READ_PATHS = ("log", "local")


@dataclass
class ClientOp:
    """One operation as the clients recorded it (mutable while it waits for its answer).

    ``status``: "pending" (no answer yet), "ok" (answered), "failed" (the
    server's entry was lost, so it certainly never took effect) or
    "unknown" (the server crashed; the outcome is unknowable).
    """

    id: int
    client: object
    command: tuple
    node: int
    call: int
    call_tick: int
    ret: int | None = None
    ret_tick: int | None = None
    output: object = None
    status: str = "pending"
    proposal: object = None

    def operation(self) -> Operation:
        return Operation(self.client, self.command, self.call, self.ret, self.output)


class Clients:
    """Client sessions against ``cluster``; see the module docstring for ``read_path``.

    Each client has at most one operation outstanding (a real client waits for
    its answer); use another client id, or :meth:`give_up`, to go on without it.
    Answers are noticed by :meth:`poll`, which every method here calls; after
    driving the cluster by hand (``c.deliver(...)``), call ``clients.poll()``.
    """

    def __init__(self, cluster: Cluster, read_path: str = "log"):
        if not isinstance(cluster, Cluster):
            raise InvalidArgument(f"Clients needs a raftbook Cluster; got {type(cluster).__name__}")
        if read_path not in READ_PATHS:
            raise InvalidArgument(f"read_path is 'log' (reads go through the log) or 'local' "
                                  f"(the leader answers from its own state: stale reads); got {read_path!r}")
        self.cluster = cluster
        self.read_path = read_path
        self.ops: list[ClientOp] = []
        self._clock = 0
        self._seen_events = len(cluster.history)
        self._waiting: dict = {}  # client -> its pending ClientOp

    # -- time ------------------------------------------------------------------------
    def _stamp(self) -> int:
        self._clock += 1
        return self._clock

    def _check_history(self):
        c = self.cluster
        if len(c.history) < self._seen_events:
            raise InvalidState("the cluster was rewound (undo, goto or restore) under these clients, "
                               "so their history no longer matches it; start new Clients(cluster)")
        for ev in c.history[self._seen_events:]:
            if ev.kind == "crash":
                for op in self.ops:
                    if op.status == "pending" and op.node == ev.args["node"]:
                        op.status = "unknown"  # the connection died with the server
                        self._waiting.pop(op.client, None)
        self._seen_events = len(c.history)

    def poll(self) -> int:
        """Record the answers that have arrived; returns how many."""
        self._check_history()
        c = self.cluster
        done = 0
        for op in self.ops:
            if op.status != "pending" or op.proposal is None:
                continue
            p = op.proposal
            node = c.nodes[op.node]
            if node.last_applied >= p.index and node.log.term_at(p.index) == p.term:
                op.output = node.results.get(p.index)
                op.status = "ok"
            elif c.status(p) == "lost":
                op.status = "failed"
            else:
                continue
            op.ret, op.ret_tick = self._stamp(), c.now
            self._waiting.pop(op.client, None)
            done += 1
        return done

    # -- operations --------------------------------------------------------------------
    def _invoke(self, client, command, node):
        command = validate_command(command)
        try:
            hash(client)
        except TypeError:
            raise InvalidArgument(f"a client id is a number or a name; got {client!r}") from None
        self.poll()
        if client in self._waiting:
            w = self._waiting[client]
            raise InvalidState(f"client {client} still waits for its {w.command[0]} (operation {w.id}); "
                               f"a client has one operation at a time: use another client id, run the "
                               f"cluster until it is answered, or clients.give_up({client!r})")
        c = self.cluster
        if node is None:
            node = c.leader
            if node is None:
                raise NotLeader("there is no leader right now for the client to contact; run the "
                                "cluster until one is elected")
        else:
            c.check_node(node)
        if node in c.crashed:
            raise NotLeader(f"S{node} is crashed and cannot answer clients", leader_hint=c.leader)
        target = c.nodes[node]
        if command[0] == "get" and self.read_path == "local":
            if target.role is not Role.LEADER:
                target.propose(command)  # raises NotLeader with the node's own hint
            call = self._stamp()
            op = ClientOp(len(self.ops) + 1, client, command, node, call, c.now,
                          ret=self._stamp(), ret_tick=c.now, output=target.kv.get(command[1]),
                          status="ok")
            self.ops.append(op)
            return op
        if target.role is not Role.LEADER:
            target.propose(command)  # raises NotLeader with the node's own hint
        call_tick = c.now
        p = c.propose(command, node=node)
        self._seen_events = len(c.history)
        op = ClientOp(len(self.ops) + 1, client, command, node, self._stamp(), call_tick, proposal=p)
        self.ops.append(op)
        self._waiting[client] = op
        self.poll()
        return op

    def set(self, client, key, value, node: int | None = None) -> ClientOp:
        """Client ``client`` writes ``key = value`` via ``node`` (default: the leader)."""
        return self._invoke(client, ("set", key, value), node)

    def get(self, client, key, node: int | None = None) -> ClientOp:
        """Client ``client`` reads ``key`` via ``node`` (default: the leader)."""
        return self._invoke(client, ("get", key), node)

    def delete(self, client, key, node: int | None = None) -> ClientOp:
        """Client ``client`` deletes ``key`` via ``node`` (default: the leader)."""
        return self._invoke(client, ("delete", key), node)

    def give_up(self, client) -> None:
        """Client ``client`` stops waiting: its operation stays unanswered in the history."""
        self.poll()
        op = self._waiting.pop(client, None)
        if op is None:
            raise InvalidState(f"client {client!r} is not waiting for anything")
        op.status = "unknown"

    # -- driving the cluster -----------------------------------------------------------
    def run(self, ticks: int, **network) -> int:
        """Run the cluster ``ticks`` ticks (as ``cluster.run``), noticing answers each tick."""
        self.run_until(lambda c: False, ticks, **network)
        return self.cluster.now

    def run_until(self, predicate, max_ticks: int, **network) -> bool:
        """``cluster.run_until``, noticing answers after every tick."""
        if not callable(predicate):
            raise InvalidArgument(f"predicate must be a function of the cluster; got {predicate!r}")
        self.poll()

        def watch(c):
            self._seen_events = len(c.history)  # the run itself is being recorded
            self.poll()
            return predicate(c)
        reached = self.cluster.run_until(watch, max_ticks, **network)
        self._seen_events = len(self.cluster.history)
        return reached

    def wait(self, op: ClientOp, max_ticks: int = 500, **network) -> bool:
        """Run until ``op`` is answered (or fails); returns whether it was answered."""
        if not isinstance(op, ClientOp) or op not in self.ops:
            raise InvalidArgument(f"{op!r} is not an operation of these clients")
        self.run_until(lambda c: op.status != "pending", max_ticks, **network)
        return op.status == "ok"

    # -- the history ---------------------------------------------------------------------
    @property
    def history(self) -> list[Operation]:
        """Every operation that may have taken effect: answered ones, and unanswered ones
        (``ret`` None). Failed ones (their entry was lost) are left out."""
        self.poll()
        return [op.operation() for op in self.ops if op.status != "failed"]

    def check(self):
        """Check :attr:`history` for linearizability (a LinearizabilityResult)."""
        return check_linearizability(self.history)

    def table(self):
        """The operations as a pandas DataFrame, one row each."""
        import pandas as pd

        self.poll()
        rows = [{"id": op.id, "client": op.client, "op": op.command[0], "key": op.command[1],
                 "value": op.command[2] if op.command[0] == "set" else None,
                 "node": op.node, "status": op.status, "output": op.output,
                 "call": op.call, "ret": op.ret, "call_tick": op.call_tick, "ret_tick": op.ret_tick,
                 "index": op.proposal.index if op.proposal is not None else None}
                for op in self.ops]
        cols = ["id", "client", "op", "key", "value", "node", "status", "output", "call", "ret",
                "call_tick", "ret_tick", "index"]
        return pd.DataFrame(rows, columns=cols).set_index("id")

    def __repr__(self):
        counts = {}
        for op in self.ops:
            counts[op.status] = counts.get(op.status, 0) + 1
        body = ", ".join(f"{v} {k}" for k, v in sorted(counts.items())) or "no operations"
        return f"<Clients read_path={self.read_path!r}: {body}>"


def stale_read(read_path: str = "local", n: int = 5, seed: int = 1):
    """Section 8's stale read, on a real run: returns ``(cluster, clients)``.

    A leader is elected and client 1 writes x = 1. The leader is cut off by a
    partition; the majority elects a new leader, and client 2 writes x = 2
    through it. Client 3 then reads x from the old leader, which still believes
    it leads. With ``read_path="local"`` it answers 1 after x = 2 completed:
    ``clients.check()`` finds the history not linearizable. With "log" the read
    waits for a commit the cut-off leader can never get, and the history stays
    linearizable.
    """
    c = Cluster(n, seed=seed)
    clients = Clients(c, read_path=read_path)
    clients.run_until(lambda c: c.leader is not None, 1000)
    old = c.leader
    clients.wait(clients.set(1, "x", 1))
    c.partition({old})
    rest = [i for i in c.nodes if i != old]
    clients.run_until(lambda c: any(c.nodes[i].role is Role.LEADER for i in rest), 1000)
    new = next(i for i in rest if c.nodes[i].role is Role.LEADER)
    clients.wait(clients.set(2, "x", 2, node=new))
    clients.get(3, "x", node=old)
    clients.run(20)
    return c, clients
