"""Client proposals: which server takes a command, and what became of it since.

A proposal is only a receipt (index and term in the leader's log); its fate is
read from the servers' logs and from what the safety monitor saw committed.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..core.kv import apply_command
from ..core.roles import Role
from ..errors import InvalidArgument, InvalidState, NotLeader


@dataclass(frozen=True, slots=True)
class Proposal:
    """A client command accepted by a leader at ``index`` in ``term``."""

    id: int
    command: tuple
    node: int
    index: int
    term: int
    time: int


def proposal_target(cluster, command: tuple, node) -> int:
    """The server that takes ``command``: the leader, or ``node`` if it is a running leader."""
    if node is None:
        i = cluster.leader
        if i is None:
            raise NotLeader("there is no leader right now; run the cluster until one is "
                            "elected (c.run_until(lambda c: c.leader, 500)) and propose again")
        return i
    i = cluster.check_node(node)
    n = cluster.nodes[i]
    if i in cluster.crashed:
        raise NotLeader(f"S{i} is crashed and cannot take proposals", leader_hint=cluster.leader)
    if n.role is not Role.LEADER:
        n.propose(command)  # raises NotLeader with the node's own leader hint
    return i


def _show(x) -> str:
    if isinstance(x, int) and not isinstance(x, bool) and x.bit_length() > 128:
        return "a very long whole number"
    try:
        text = repr(x)
    except Exception:
        text = f"<a {type(x).__name__}>"
    return text if len(text) <= 60 else text[:57] + "..."


def check_proposal(proposals: list, p) -> None:
    if not isinstance(p, Proposal) or p.id > len(proposals) or proposals[p.id - 1] != p:
        raise InvalidArgument(f"{_show(p)} is not a proposal of this cluster (use what c.propose returned)")


def proposal_status(nodes: dict, monitor, proposal: Proposal) -> str:
    """"committed", "pending" or "lost" (a different entry committed there, or no log holds it)."""
    idx, term = proposal.index, proposal.term
    # Committed stays committed, even after every server that knew restarted
    # (commit_index is volatile): the monitor remembers what it saw committed.
    seen = None if monitor is None else monitor.committed.get(idx)
    if seen is not None:
        return "committed" if seen[0] == term else "lost"
    for node in nodes.values():
        if node.commit_index >= idx and idx > node.log.snapshot_index:
            t = node.log.term_at(idx)
            if t is not None:
                return "committed" if t == term else "lost"
    for node in nodes.values():
        if idx > node.log.snapshot_index and node.log.term_at(idx) == term:
            return "pending"
    return "lost"


def proposal_result(nodes: dict, proposal: Proposal, status: str, monitor=None):
    """The state machine's answer to a proposal whose ``status`` is "committed"."""
    if status != "committed":
        raise InvalidState(f"proposal {proposal.id} ({proposal.command!r}) is {status}, so it has no "
                           "result; run the cluster until it commits (c.status(p) == 'committed')")
    idx, term = proposal.index, proposal.term
    for node in nodes.values():
        # (an entry inside a snapshot is the committed one: the status said so)
        if node.last_applied >= idx and idx in node.results and \
                (idx <= node.log.snapshot_index or node.log.term_at(idx) == term):
            return node.results[idx]
    # No state machine holds it now (restarts rebuild them): the answer is that of
    # applying the committed prefix 1..idx, which any log holding the entry has.
    for node in nodes.values():
        if not node.log.snapshot_index and node.log.term_at(idx) == term:
            kv, out = {}, None
            for e in node.log.entries_from(1, idx):
                out = apply_command(kv, e.command)
            return out
    if monitor is not None and all(i in monitor.committed for i in range(1, idx + 1)):
        # Compacted everywhere: the commands the monitor saw committed give the answer.
        kv, out = {}, None
        for i in range(1, idx + 1):
            out = apply_command(kv, monitor.committed[i][1])
        return out
    raise InvalidState(f"proposal {proposal.id} is committed but no server has applied it yet")
