"""The cluster's calls beyond Figure 2: add or remove a server, joint changes, leader transfer.

A mixin of :class:`raftbook.Cluster`, like :mod:`raftbook.sim.manual`: each call checks
its input first (a call that raises changes nothing), then is one recorded event,
replayable from its args. The rules themselves live on the nodes
(:mod:`raftbook.core.membership`, :mod:`raftbook.core.elections`); the first of these
calls switches every server to configuration-aware rules, as a real deployment
would once an operator starts changing the cluster.
"""
from __future__ import annotations

from ..core import elections, membership
from ..core.node import _is_int
from ..core.roles import Role
from ..errors import InvalidArgument, InvalidState, NotLeader
from . import validate
from .history import Event


def _show(ids) -> str:
    return "{" + ", ".join(f"S{i}" for i in sorted(ids)) + "}"


class MembershipEvents:
    """Cluster methods: add_server, remove_server, change_members, transfer_leadership."""

    __slots__ = ()

    @property
    def members(self) -> frozenset:
        """The voting configuration of the current leader (else of the first running server)."""
        i = self.leader if self.leader is not None else (self.running or [1])[0]
        return self.nodes[i].members

    def _membership_leader(self, action: str, leader=None) -> int:
        if leader is not None:
            i = self.check_node(leader)
            if i in self.crashed or self.nodes[i].role is not Role.LEADER:
                raise NotLeader(f"S{i} is not a running leader, so it cannot {action}",
                                leader_hint=self.leader)
            return i
        i = self.leader
        if i is None:
            raise NotLeader(f"there is no leader to {action}; run the cluster until one is elected "
                            "(c.run_until(lambda c: c.leader, 500)) and try again")
        return i

    def _enable_membership(self) -> None:
        for node in self.nodes.values():
            membership.enable(node)

    def _change(self, kind: str, target, action: str, run_on_leader, leader=None) -> Event:
        i = self._membership_leader(action, leader)
        problem = membership.change_problem(self.nodes[i], kind, target)
        if problem:
            raise InvalidState(f"cannot {action} now: {problem}")

        asked = leader

        def run():
            self._enable_membership()
            node = self.nodes[i]
            out = run_on_leader(node)
            self._after_step(node, out)
            if node.learners:
                return f"S{i} was asked to {action}: it first catches up {_show(node.learners)}", {}
            return f"S{i} was asked to {action}: configuration {_show(node.members)}", {}
        args = {"node": target} if kind != "change" else {"members": sorted(target)}
        if asked is not None:
            args["leader"] = i
        return self._record({"add": "add_server", "remove": "remove_server",
                             "change": "change_members"}[kind], args, run)

    def add_server(self, node: int, *, leader: int | None = None) -> Event:
        """Ask the leader (or ``leader``) to add server ``node``: it catches up, then joins."""
        j = self.check_node(node)
        if self.config.membership == "joint":
            return self.change_members(set(self.members) | {j})
        return self._change("add", j, f"add S{j}", lambda ld: membership.add_server(ld, j), leader)

    def remove_server(self, node: int, *, leader: int | None = None) -> Event:
        """Ask the leader (or ``leader``) to remove server ``node``; a leader removing itself
        steps down once the change commits."""
        j = self.check_node(node)
        if self.config.membership == "joint":
            if set(self.members) == {j}:
                raise InvalidState(f"S{j} is the only member of the configuration, which needs at "
                                   "least one server; add another server first")
            return self.change_members(set(self.members) - {j})
        return self._change("remove", j, f"remove S{j}", lambda ld: membership.remove_server(ld, j),
                            leader)

    def change_members(self, ids) -> Event:
        """Joint consensus (``Config(membership="joint")``): move to the configuration ``ids``."""
        try:
            new = frozenset(ids)
        except TypeError:
            raise InvalidArgument(f"change_members takes a set of server ids, e.g. {{1, 2, 3}}; "
                                  f"got {ids!r}") from None
        if not new:
            raise InvalidArgument("a configuration needs at least one server")
        for j in new:
            self.check_node(j)
        if self.config.membership != "joint":
            old = self.members
            if len(new ^ old) != 1:
                raise InvalidArgument(
                    f"with membership='single' a change adds or removes one server ({_show(old)} -> "
                    f"{_show(new)} changes {len(new ^ old)}); use add_server/remove_server, or "
                    "rb.Config(membership='joint') for joint consensus")
            (j,) = new ^ old
            return self.add_server(j) if j in new else self.remove_server(j)
        return self._change("change", new, f"change the configuration to {_show(new)}",
                            lambda ld: membership.change_members(ld, new))

    def transfer_leadership(self, to: int) -> Event:
        """The leader hands over to ``to``: it catches ``to`` up, then sends it TimeoutNow."""
        j = self.check_node(to)
        validate.check_running(j, self.crashed, "take over leadership")
        i = self._membership_leader(f"transfer leadership to S{j}")
        leader = self.nodes[i]
        problem = elections.transfer_problem(leader, j)
        if problem:
            raise InvalidState(f"cannot transfer leadership to S{j}: {problem}")

        def run():
            for node in self.nodes.values():
                node._ext = True
            self._after_step(leader, elections.transfer(leader, j))
            return f"S{i} started handing leadership to S{j}", {}
        return self._record("transfer_leadership", {"node": j}, run)

    def _apply_membership_event(self, kind: str, args: dict) -> bool:
        """Carry out a recorded event of this mixin again; False if ``kind`` is not one."""
        if kind == "add_server":
            self.add_server(args["node"], leader=args.get("leader"))
        elif kind == "remove_server":
            self.remove_server(args["node"], leader=args.get("leader"))
        elif kind == "change_members":
            self.change_members(set(args["members"]))
        elif kind == "transfer_leadership":
            self.transfer_leadership(args["node"])
        else:
            return False
        return True


def check_members(members, n) -> frozenset | None:
    """The initial voting configuration of a cluster of ``n`` servers (None: all of them)."""
    if members is None:
        return None
    try:
        ids = frozenset(members)
    except TypeError:
        raise InvalidArgument(f"members is a set of server ids, e.g. {{1, 2, 3}}; got {members!r}") from None
    bad = [i for i in ids if not _is_int(i) or not 1 <= i <= n]
    if bad or not ids:
        raise InvalidArgument(f"members must be a non-empty set of servers among 1..{n}; got "
                              f"{sorted(members, key=repr)}")
    return ids
