"""The events a user takes by hand: a tick, a timeout, one message, one fault.

Each method checks its input first (bad input raises and changes nothing), then
hands the cluster's recorder a function that carries the event out and says in
one sentence what happened. A mixin of :class:`raftbook.Cluster`: these are
public methods of the cluster, written against its parts (``nodes``, ``_net``,
``_rec``, ``_monitor``) and its step helpers (``_after_step``, ``_tick_all``,
``_deliver_quietly``, ``_copy``).
"""
from __future__ import annotations

from ..core.describe import describe_message
from ..core.roles import Role
from ..errors import InvalidState
from . import validate
from .history import Event, Reason
from .network import LOST_CRASH, LOST_CUT, Envelope


#: How a crash's summary names the unsaved parts of a server's persistent state.
_SAVED_AS = {"current_term": "term", "voted_for": "vote"}


class ManualEvents:
    """Cluster methods for the events taken one at a time: tick, timeout, deliver, drop,
    duplicate, crash, restart, compact, partition, cut and heal."""

    __slots__ = ()

    def tick(self) -> Event:
        """One tick of time for every running node (messages stay in flight)."""
        def run():
            self._tick_all()
            return f"tick to t={self.now}", {}
        return self._record("tick", {}, run)

    def timeout(self, node: int) -> Event:
        """Node ``node``'s election timer fires now (a running follower or candidate)."""
        i = self.check_node(node)
        validate.check_running(i, self.crashed, "time out")
        n = self.nodes[i]
        if n.role is Role.LEADER:
            raise InvalidState(f"S{i} is the leader of term {n.current_term}; only a follower or a "
                               "candidate has an election timer to fire")

        def run():
            self._after_step(n, n.timeout())
            return f"S{i} timed out and started an election for term {n.current_term}", {}
        return self._record("timeout", {"node": i}, run)

    def deliver(self, msg_id: int) -> Event:
        """Deliver one message in flight (lost if a partition, a cut link or a crash is in the way)."""
        env = self.envelope(msg_id)

        def run():
            msg = env.msg
            lost = self._deliver_quietly(env)
            if lost is None:
                return f"delivered #{env.id} {describe_message(msg)}", {}
            if lost == LOST_CRASH:
                return f"lost #{env.id} {describe_message(msg)}: S{msg.dst} is crashed", {}
            if lost == LOST_CUT:
                return (f"lost #{env.id} {describe_message(msg)}: the link between S{msg.src} "
                        f"and S{msg.dst} is cut"), {}
            return (f"lost #{env.id} {describe_message(msg)}: a partition separates S{msg.src} "
                    f"and S{msg.dst}"), {}
        return self._record("deliver", {"msg_id": msg_id}, run)

    def drop(self, msg_id: int) -> Event:
        """The network loses one message in flight."""
        self.check_msg(msg_id)

        def run():
            env = self._net.drop(msg_id)
            self._rec.note(self.now, "dropped", env)
            return f"dropped #{msg_id} {describe_message(env.msg)}", {}
        return self._record("drop", {"msg_id": msg_id}, run)

    def duplicate(self, msg_id: int) -> Envelope:
        """The network duplicates one message in flight; returns the copy's envelope."""
        env = self.envelope(msg_id)

        def run():
            copy = self._copy(env)
            return f"duplicated #{msg_id} as #{copy.id} {describe_message(env.msg)}", {}
        self._record("duplicate", {"msg_id": msg_id}, run)
        return self._net.flight[self._net.next_id - 1]

    def crash(self, node: int) -> Event:
        """Node ``node`` stops; its state stays visible, frozen, until it restarts."""
        i = self.check_node(node)
        if i in self.crashed:
            raise InvalidState(f"S{i} is already crashed; restart it with c.restart({i})")

        def run():
            self._net.crashed.add(i)
            n = self.nodes[i]
            unsaved = n.unsaved
            if self._rec.reasons is not None:
                fields = {"term": n.current_term, "role": n.role.value, "voted_for": n.voted_for,
                          "log_length": n.log.last_index, "commit_index": n.commit_index}
                if unsaved:
                    fields["unsaved"] = unsaved
                self._rec.reasons.append(Reason(self.now, i, "crashed", fields))
            if unsaved:
                words = [_SAVED_AS.get(name, name) for name in unsaved]
                return f"S{i} crashed before saving its {' and '.join(words)}", {}
            return f"S{i} crashed", {}
        return self._record("crash", {"node": i}, run)

    def restart(self, node: int) -> Event:
        """A crashed node comes back with its persistent state; volatile state is rebuilt."""
        i = self.check_node(node)
        if i not in self.crashed:
            raise InvalidState(f"S{i} is running; only a crashed server can restart (c.crash({i}) first)")

        def run():
            self._net.crashed.discard(i)
            n = self.nodes[i]
            n.restart()
            if self._monitor is not None:
                self._monitor.node_restarted(n)
            self._after_step(n, [])
            snap = f" after a snapshot up to {n.snapshot_index}" if n.snapshot_index else ""
            return f"S{i} restarted in term {n.current_term} with {n.log.last_index} log entries{snap}", {}
        return self._record("restart", {"node": i}, run)

    def compact(self, node: int) -> Event:
        """Server ``node`` snapshots its applied state now and drops the log entries it covers."""
        i = self.check_node(node)
        validate.check_running(i, self.crashed, "compact")
        n = self.nodes[i]
        if n.last_applied <= n.snapshot_index:
            raise InvalidState(
                f"S{i} has applied nothing since its last snapshot (last applied {n.last_applied}, "
                f"snapshot index {n.snapshot_index}); let entries commit and apply first "
                "(c.run(...)), then compact")

        def run():
            old = n.snapshot_index
            n.compact()
            self._after_step(n, [])
            return (f"S{i} compacted its log: a snapshot of indexes 1..{n.snapshot_index} "
                    f"(term {n.snapshot_term}) replaces {n.snapshot_index - old} entries"), {}
        return self._record("compact", {"node": i}, run)

    def partition(self, *groups) -> Event:
        """Split the network: ``c.partition({1, 2}, {3, 4, 5})``; unnamed nodes form one more group."""
        final = validate.clean_partition(groups, self.nodes)

        def run():
            self._net.partition(final)
            desc = " | ".join("{" + ", ".join(f"S{i}" for i in sorted(g)) + "}" for g in final)
            return f"partitioned: {desc}", {}
        return self._record("partition", {"groups": [sorted(g) for g in final]}, run)

    def cut(self, a: int, b: int) -> Event:
        """Cut the link between servers ``a`` and ``b`` (both directions): a partial partition.

        Unlike :meth:`partition`, both servers may still reach every other server, as
        when one network path fails. ``c.heal(a, b)`` restores this link, ``c.heal()`` all.
        """
        link = validate.clean_link(a, b, self.nodes)
        if link in self._net.cuts:
            raise InvalidState(f"the link between S{link[0]} and S{link[1]} is already cut; "
                               f"restore it with c.heal({link[0]}, {link[1]})")

        def run():
            self._net.set_cuts(self._net.cuts | {link})
            return (f"cut the link between S{link[0]} and S{link[1]}: they cannot reach each other, "
                    "but both still reach the other servers"), {}
        return self._record("cut", {"a": link[0], "b": link[1]}, run)

    def heal(self, a: int | None = None, b: int | None = None) -> Event:
        """Remove the partition and every cut link; ``c.heal(a, b)`` restores only that link."""
        if a is not None or b is not None:
            link = validate.clean_link(a, b, self.nodes)
            if link not in self._net.cuts:
                cut = ", ".join(f"S{x}-S{y}" for x, y in sorted(self._net.cuts)) or "none"
                raise InvalidState(f"the link between S{link[0]} and S{link[1]} is not cut "
                                   f"(cut links: {cut}); there is nothing to heal")

            def run_link():
                self._net.set_cuts(self._net.cuts - {link})
                return f"restored the link between S{link[0]} and S{link[1]}", {}
            return self._record("heal", {"a": link[0], "b": link[1]}, run_link)
        if self.groups is None and not self._net.cuts:
            raise InvalidState("the network is not partitioned and no link is cut; there is "
                               "nothing to heal")

        def run():
            cuts, grouped = len(self._net.cuts), self.groups is not None
            self._net.heal()
            if not cuts:
                return "healed the partition", {}
            links = f"{cuts} cut link{'s' if cuts > 1 else ''}"
            return f"healed the partition and restored {links}" if grouped else f"restored {links}", {}
        return self._record("heal", {}, run)
