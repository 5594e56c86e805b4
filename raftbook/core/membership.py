"""Membership changes: which servers vote, and how a leader changes that (paper §6, thesis §4).

A configuration is a log entry whose command is ``("config", (ids...))``; during the
paper's joint consensus it is ``("config", (new ids...), (old ids...))``. Every server
uses the newest configuration in its log, committed or not (thesis §4.1), so a
configuration takes effect the moment it is appended and stops when it is truncated.

Two ways to change it:

- ``membership="single"`` (thesis §4.2): one server added or removed at a time, so any
  majority of the old configuration meets any majority of the new one. A leader allows
  one uncommitted change at a time and, since the bug reported in 2015, first commits an
  entry of its own term (``membership_fix``). A new server first catches up as a
  non-voting learner; only then does the leader append the configuration that adds it.
- ``membership="joint"`` (paper §6): the leader appends C_old,new; while it is the newest,
  elections and commitment need a majority of both; once it commits, the leader appends
  C_new. A leader that is not in C_new steps down once C_new commits.

This module holds the rules on the node; :mod:`raftbook.sim.membership` the cluster's calls.
"""
from __future__ import annotations

from ..errors import InvalidArgument
from .kv import validate_command
from .messages import Entry, snapshot_data_copy
from . import rules
from .quorum import majority
from .roles import Role

CONFIG = "config"


def is_config(command) -> bool:
    """Is this log command a configuration (``("config", ids)`` or ``("config", new, old)``)?"""
    return type(command) is tuple and len(command) in (2, 3) and command[0] == CONFIG


def config_command(new, old=None) -> tuple:
    """The command of a configuration entry (``old`` only during joint consensus)."""
    if old is None:
        return (CONFIG, tuple(sorted(new)))
    return (CONFIG, tuple(sorted(new)), tuple(sorted(old)))


def validate_entry_command(command):
    """A log entry's command: a client command, or a configuration entry."""
    if isinstance(command, (tuple, list)) and command and command[0] == CONFIG:
        parts = [tuple(p) if isinstance(p, (list, tuple)) else p for p in command[1:]]
        if not 1 <= len(parts) <= 2 or not all(
                isinstance(p, tuple) and p and all(type(x) is int and x >= 1 for x in p) for p in parts):
            raise InvalidArgument(f"a configuration entry is ('config', (ids...)) or ('config', (new "
                                  f"ids...), (old ids...)) with server ids >= 1; got {command!r}")
        return (CONFIG, *parts)
    return validate_command(command)


def newest_configuration(log, initial, before=None, base=None):
    """(index, members, old members or None) of the newest configuration in ``log``
    (before index ``before``, if given).

    Found in no entry the log still holds, it is ``base``, the configuration a snapshot
    holds (paper §7: a snapshot keeps the latest configuration it covers), or else
    index 0, ``initial``, the configuration the cluster started with.
    """
    entries, off = log._entries, log.snapshot_index  # indexes are absolute after compaction
    top = len(entries) if before is None else min(len(entries), before - 1 - off)
    for k in range(top - 1, -1, -1):
        cmd = entries[k].command
        if cmd is not None and cmd[0] == CONFIG:
            return off + k + 1, frozenset(cmd[1]), (frozenset(cmd[2]) if len(cmd) == 3 else None)
    return base if base is not None else (0, initial, None)


def snapshot_configuration(node):
    """The configuration the node's snapshot holds, as (index, members, old), or None."""
    data = node.snapshot_data
    cfg = data.get(CONFIG) if type(data) is dict else None
    if not isinstance(cfg, dict):
        return None
    old = cfg.get("old")
    return cfg["index"], frozenset(cfg["members"]), None if old is None else frozenset(old)


def configuration_for_snapshot(node, index: int) -> dict:
    """The configuration in force at ``index``, as plain data for a snapshot that ends there."""
    at, members, old = newest_configuration(node.log, node.initial_members, index + 1,
                                            snapshot_configuration(node))
    return {"index": at, "members": sorted(members), "old": None if old is None else sorted(old)}


def adopt_snapshot_configuration(node, msg) -> None:
    """A follower that installed a leader's snapshot keeps the configuration it came with.

    The install rule (replaceable, Figure 13) copies the state machine; the configuration
    is membership's business, so it is carried over here whatever the rule wrote.
    """
    cfg = msg.data.get(CONFIG) if type(msg.data) is dict else None
    data = node.snapshot_data
    if cfg is None or type(data) is not dict or node.log.snapshot_index != msg.last_included_index:
        return
    if data.get(CONFIG) != cfg:
        data[CONFIG] = snapshot_data_copy(cfg)


# ----------------------------------------------------------------------------- on every server
def enable(node) -> None:
    """Switch a node to configuration-aware rules (once a cluster uses membership changes)."""
    if node.reconfig:
        return
    node.reconfig = True
    node._ext = True
    if node._h_advance_commit_index is rules.advance_commit_index:
        node._h_advance_commit_index = advance_commit_index
    refresh(node, quiet=True)


def refresh(node, quiet: bool = False) -> None:
    """Use the newest configuration in the node's log (thesis §4.1: committed or not)."""
    index, members, old = newest_configuration(node.log, node.initial_members, None,
                                               snapshot_configuration(node))
    if (index, members, old) == (node.config_index, node.members, node.members_old) and \
            node._rv_targets is not None:
        return
    node.config_index, node.members, node.members_old = index, members, old
    node.quorum = majority(len(members))
    voters = members if old is None else members | old
    node._rv_targets = tuple(sorted(voters - {node.id}))
    _set_targets(node)
    if not quiet:
        node.note("configuration_adopted", index=index, members=sorted(members),
                  old=None if old is None else sorted(old), member=node.id in voters)


def _set_targets(node) -> None:
    """Who a leader replicates to: its configuration, its learners, and the servers of the
    configuration before (so that a removed server learns it was removed and goes quiet)."""
    voters = node.members if node.members_old is None else node.members | node.members_old
    before = set()
    if node.config_index:
        _, prev, prev_old = newest_configuration(node.log, node.initial_members, node.config_index,
                                                 snapshot_configuration(node))
        before = prev if prev_old is None else prev | prev_old
    node._ae_targets = tuple(sorted((voters | before | set(node.learners)) - {node.id}))


def is_voter(node) -> bool:
    """Is the node in the configuration it uses (in either half of a joint one)?"""
    return node.id in node.members or (node.members_old is not None and node.id in node.members_old)


def has_quorum(node, ids) -> bool:
    """Do ``ids`` hold a majority of the node's configuration (of both halves, when joint)?"""
    m = node.members
    if len(ids & m) < majority(len(m)):
        return False
    old = node.members_old
    return old is None or len(ids & old) >= majority(len(old))


def _held_by_majority(node, config) -> int:
    """The highest index a majority of ``config`` holds (the leader counts only if a member)."""
    held = sorted((node.log.last_index if p == node.id else node.match_index.get(p, 0)
                   for p in config), reverse=True)
    return held[majority(len(config)) - 1]


def advance_commit_index(node) -> None:
    """Leader: the commit rule of Figure 2, counting the servers of the configuration in use.

    The same rule as :func:`raftbook.core.rules.advance_commit_index` (and the same
    notes), except that a majority is one of the configuration in the leader's log
    (of both halves during joint consensus) and a leader outside it does not count
    itself (thesis §4.2.2).
    """
    if node.role is not Role.LEADER:
        return
    log = node.log
    if log.last_index <= node.commit_index:
        return
    n = _held_by_majority(node, node.members)
    if node.members_old is not None:
        n = min(n, _held_by_majority(node, node.members_old))
    if n <= node.commit_index:
        return
    voters = node.members if node.members_old is None else node.members | node.members_old
    count = sum(1 for p in voters
                if (log.last_index if p == node.id else node.match_index.get(p, 0)) >= n)
    term = log.term_at(n)
    # Leaders: N held by a majority of the configuration in use becomes commitIndex only if
    # log[N] is of the current term (§5.4.2; thesis §4.1 for "the configuration in use").
    if term == node.current_term:
        node.note("commit_advanced", old=node.commit_index, new=n, by="majority",
                  replicas=count, needed=node.quorum)
        node.commit_index = n
        after_commit(node)
    else:
        node.note("commit_not_advanced_earlier_term", index=n, entry_term=term,
                  current_term=node.current_term, replicas=count)


def after_commit(node) -> list:
    """What a leader does once its newest configuration commits (paper §6, thesis §4.2.2)."""
    if node.role is not Role.LEADER or node.config_index == 0 or node.commit_index < node.config_index:
        return []
    if node.members_old is not None:
        # Joint consensus: C_old,new is committed, so the leader now appends C_new.
        node.note("joint_committed", index=node.config_index, members=sorted(node.members))
        append_config(node, node.members)
        return []
    if node.id not in node.members:
        # A leader not in the committed configuration steps down (thesis §4.2.2).
        node.note("stepped_down_removed", term=node.current_term, index=node.config_index)
        node.become_follower(node.current_term)
    return []


def append_config(node, members, old=None) -> Entry:
    """Leader: append a configuration entry; it takes effect on this server at once."""
    entry = Entry(node.log.last_index + 1, node.current_term, config_command(members, old))
    node.log.append(entry)
    node.note("configuration_appended", index=entry.index, term=entry.term,
              members=sorted(members), old=None if old is None else sorted(old))
    refresh(node)
    node.advance_commit_index()
    return entry


# ----------------------------------------------------------------------------- on the leader
def change_problem(node, kind: str, target) -> str | None:
    """Why the leader ``node`` cannot change its configuration now, or None when it can.

    ``kind`` is "add" or "remove" (one server, ``target``) or "change" (``target`` the
    whole new set, joint consensus).
    """
    if node.role is not Role.LEADER:
        return f"S{node.id} is not the leader"
    if node.transfer_to is not None:
        return (f"S{node.id} is handing leadership to S{node.transfer_to}; change the "
                "configuration on the new leader")
    if node.learners:
        return (f"S{node.id} is still catching up S{min(node.learners)} before adding it; one "
                "change at a time: run the cluster until it is added")
    if node.config_index > node.commit_index or node.members_old is not None:
        return (f"the configuration change at index {node.config_index} is not committed yet; "
                "one change at a time: run the cluster until it commits")
    if node.config.membership_fix and node.log.term_at(node.commit_index) != node.current_term:
        return (f"S{node.id} has not committed an entry of its own term {node.current_term} yet "
                "(the 2015 fix); run the cluster until its no-op commits")
    if kind == "add" and target in node.members:
        return f"S{target} is already a member ({_ids(node.members)})"
    if kind == "remove":
        if target not in node.members:
            return f"S{target} is not a member ({_ids(node.members)})"
        if len(node.members) == 1:
            return f"S{target} is the only member; a cluster keeps at least one"
    if kind == "change" and frozenset(target) == node.members:
        return f"the configuration is already {_ids(node.members)}"
    return None


def _ids(ids) -> str:
    return "{" + ", ".join(f"S{i}" for i in sorted(ids)) + "}"


def add_server(node, j: int) -> list:
    """Leader: start adding server ``j``: it catches up as a learner first (thesis §4.2.1)."""
    return _catch_up(node, {j})


def _catch_up(node, new_servers) -> list:
    for j in sorted(new_servers):
        node.learners[j] = node.log.last_index
        node.next_index[j] = node.log.last_index + 1
        node.match_index[j] = 0
        node.note("catch_up_started", server=j, target=node.log.last_index)
    _set_targets(node)
    out = [node.append_entries_for(j) for j in sorted(new_servers)]
    return out + caught_up(node)


def remove_server(node, j: int) -> list:
    """Leader: append the configuration without ``j`` and send it."""
    append_config(node, node.members - {j})
    node.apply_committed()
    return node.replicate() if node.role is Role.LEADER else []


def change_members(node, new) -> list:
    """Leader, joint consensus: catch up new servers, then append C_old,new (paper §6)."""
    new = frozenset(new)
    node.joint_target = new
    fresh = new - node.members
    if fresh:
        return _catch_up(node, fresh)
    node.joint_target = None
    append_config(node, new, node.members)
    node.apply_committed()
    return node.replicate() if node.role is Role.LEADER else []


def caught_up(node) -> list:
    """Leader: learners whose log reached their target now join the configuration."""
    if node.role is not Role.LEADER:
        return []
    done = [j for j, target in node.learners.items() if node.match_index.get(j, 0) >= target]
    if not done:
        return []
    for j in done:
        node.note("catch_up_done", server=j, match_index=node.match_index[j])
        del node.learners[j]
    if node.learners:
        return []
    if node.joint_target is not None:
        new, node.joint_target = node.joint_target, None
        append_config(node, new, node.members)
    else:
        append_config(node, node.members | set(done))
    node.apply_committed()
    return node.replicate() if node.role is Role.LEADER else []

