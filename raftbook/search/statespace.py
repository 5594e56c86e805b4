"""The state space the exhaustive search walks: states, events, successors, safety.

A state is a tuple ``(nodes, flight, leaders, committed)``:

- ``nodes``: per server ``(key, signature, payload)``: ``key`` is the server's
  Figure 2 state as plain integers (what deduplication compares), ``signature``
  the part of it that does not name other servers (for symmetry reduction),
  ``payload`` what it takes to load the state back into a working RaftNode;
- ``flight``: the messages in flight, a sorted tuple of ``(key, message)``;
- ``leaders``: history variable, the ``(term, server)`` pairs that have led;
- ``committed``: history variable, per committed index ``(term, command id,
  term it was first seen committed in)``.

With log compaction (a ``compact`` event) or explicit persistence, each
server's key grows four more fields: its snapshot index and term, how many
snapshots it has taken (bounded by ``max_snapshots``) and what it last saved
on stable storage; the snapshot's prefix of the log is judged with the
committed entries it stands for. Symmetry reduction is off in that mode.

Events are small ints (kind in the low 4 bits, argument above), so a path
back to the start costs two integers per state. :class:`StateSpace` applies an
event by loading one server's state into a working RaftNode, calling the real
step function, saving the result and judging the five safety properties with
the same judgements as the cluster's monitor (:mod:`raftbook.check.properties`).
"""
from __future__ import annotations

import itertools
import random
import zlib
from dataclasses import dataclass
from operator import itemgetter

from ..sim.cluster import Cluster
from ..core.config import Config
from ..check.properties import (election_safety, leader_append_only, leader_completeness,
                                logs_disagree, snapshot_disagrees, state_machine_safety)
from ..core.kv import apply_command
from ..errors import InvalidArgument
from ..core import membership
from ..core.messages import (AppendEntries, AppendEntriesReply, InstallSnapshot,
                             InstallSnapshotReply, RequestVote, TimeoutNow)
from ..core.roles import Role

#: Every kind of event the search can take.
EVENT_KINDS = ("timeout", "deliver", "heartbeat", "propose", "duplicate", "drop", "crash",
               "restart", "compact", "reconfigure")
# "reconfigure" (a leader adds or removes one server) shares the propose code (3): its
# arguments follow the client values in the same stride (see StateSpace.stride).
#: An election timeout no search ever reaches: timers fire only through explicit timeouts.
NEVER = 10 ** 9

_LEADER, _CANDIDATE = Role.LEADER, Role.CANDIDATE
_first = itemgetter(0)
# Attributes of a RaftNode the search saves and restores (or knowingly resets). A test
# compares this with a fresh node, so a new field in the core cannot slip past the search.
NODE_FIELDS = frozenset({
    "id", "peers", "config", "rng", "handlers", "quorum", "_custom", "_reasons",
    "_h_request_vote", "_h_request_vote_reply", "_h_append_entries", "_h_append_entries_reply",
    "_h_advance_commit_index", "_h_apply_committed", "_h_install_snapshot",
    "_h_install_snapshot_reply", "_h_pre_vote", "_threshold", "_explicit", "snapshot_data", "_saved",
    "current_term", "voted_for", "log", "role", "commit_index", "last_applied", "kv", "results",
    "next_index", "match_index", "leader_id", "votes", "heartbeat_elapsed", "election_elapsed",
    "election_timeout",
    # beyond Figure 2 (core/membership.py, core/elections.py)
    "initial_members", "members", "members_old", "config_index", "reconfig", "_ext",
    "_rv_targets", "_ae_targets", "learners", "joint_target", "transfer_to", "transfer_sent",
    "transfer_elapsed", "quorum_elapsed", "heard", "pre_votes"})


def _goal_leader(state) -> bool:
    return any(ns[0][1] == 2 and not ns[0][0] for ns in state[0])


def _goal_commit(state) -> bool:
    return bool(state[3])


def _goal_client_commit(state) -> bool:
    return any(rec[1] != 0 for rec in state[3])


#: Named goals: a leader is elected; some entry is committed; a client command is committed.
GOALS = {"leader": _goal_leader, "commit": _goal_commit, "client_commit": _goal_client_commit}


# ----------------------------------------------------------------------------- views for goals
@dataclass(frozen=True)
class NodeView:
    """One server in a search state, read-only, with the Figure 2 names (for goal functions)."""

    id: int
    role: Role
    current_term: int
    voted_for: int | None
    log: tuple
    commit_index: int
    last_applied: int
    kv: dict
    crashed: bool


@dataclass(frozen=True)
class StateView:
    """A search state as a goal function sees it: ``nodes``, ``in_flight``, ``crashed``.

    ``committed`` maps each committed index to ``(term, command)``.
    """

    nodes: dict
    in_flight: tuple
    crashed: frozenset
    committed: dict

    @property
    def leader(self):
        """The leader of the highest term among running servers, or None."""
        best = None
        for n in self.nodes.values():
            if n.role is Role.LEADER and not n.crashed:
                if best is None or n.current_term > best.current_term:
                    best = n
        return None if best is None else best.id


def _symmetric(c: Cluster) -> str:
    """'' when every server starts alike, else the reason they do not."""
    first = c.nodes[1]
    for i, node in c.nodes.items():
        if node.voted_for is not None:
            return f"S{i} starts having voted for S{node.voted_for}"
        if (node.current_term, list(node.log), node.commit_index) != \
                (first.current_term, list(first.log), first.commit_index):
            return f"S1 and S{i} start in different states"
    return ""


class _Judgements:
    """StateSpace's judgements of one state: the safety properties over log keys, snapshots,
    bounds and the read-only view a goal function gets."""

    def last_index(self, k) -> int:
        """A server's last log index from its key (the snapshot counts)."""
        return len(k[4]) + k[10] if self.extended else len(k[4])

    def full_log(self, k, committed) -> tuple:
        """A server's log key from index 1: its snapshot stands for the committed prefix."""
        if not self.extended or not k[10]:
            return k[4]
        return tuple([(t, c) for t, c, _ in committed[:k[10]]]) + k[4]

    def judge_snapshot(self, i, node, committed):
        """A new snapshot must be the committed log, applied, up to its last index."""
        log = node.log
        index, term = log.snapshot_index, log.snapshot_term
        rec = committed[index - 1] if index <= len(committed) else None
        expected = {}
        if rec is not None:
            for t, c, _ in committed[:index]:
                apply_command(expected, self.cmd_of[c])
        kv = {k: v for k, v in (node.snapshot_data or {}).get("kv", ())}
        return snapshot_disagrees(i, index, term, rec and (rec[0], self.cmd_of[rec[1]]), kv,
                                  expected)

    @staticmethod
    def completeness(i, lterm, log_key, committed):
        """Leader completeness: leader i of term lterm holds every entry committed before."""
        held = len(log_key)
        for j, (t, _, cterm) in enumerate(committed):
            viol = leader_completeness(j + 1, t, cterm, i, lterm,
                                       log_key[j][0] if j < held else None)
            if viol is not None:
                return viol
        return None

    def log_matching(self, i, log_key, nodes, committed=()):
        """Log matching between server i's changed log and every other server's."""
        for j, ns in enumerate(nodes):
            if j != i - 1:
                viol = logs_disagree(i, log_key, j + 1, self.full_log(ns[0], committed))
                if viol is not None:
                    return viol
        return None

    def view(self, state) -> StateView:
        nodes, flight, _, committed = state
        views = {}
        for i, ns in zip(self.ids, nodes):
            role, term, voted, entries, ci, la, _, _, _, _, kv = ns[2][:11]
            views[i] = NodeView(i, role, term, voted, entries, ci, la, dict(kv), ns[0][0])
        return StateView(views, tuple(m for _, m in flight),
                         frozenset(i for i in self.ids if nodes[i - 1][0][0]),
                         {j + 1: (t, self.cmd_of[c]) for j, (t, c, _) in enumerate(committed)})

    def in_bounds(self, state) -> bool:
        if len(state[1]) > self.max_in_flight:
            return False
        mt, ml = self.max_term, self.max_log
        for ns in state[0]:
            k = ns[0]
            if k[2] > mt or self.last_index(k) > ml:
                return False
        return True


class _Keys:
    """How commands and messages become the small tuples a search state is made of."""

    def cmd_id(self, cmd) -> int:
        """A small int per command. Commands met during the search (only a handler can
        invent one) get an id computed from the command itself, so that parallel
        workers agree on it."""
        ids = self.cmd_ids
        k = ids.get(cmd)
        if k is None:
            k = ids[cmd] = 1000 + zlib.crc32(repr(cmd).encode())
            self.cmd_of[k] = cmd
        return k

    def msg_key(self, m):
        """A message as a tuple of ints (computed afresh: cheaper than hashing the message)."""
        t = type(m)
        if t is AppendEntries:
            ids = self.cmd_ids
            if m.entries:
                ents = tuple([(e.term, ids[e.command] if e.command in ids else self.cmd_id(e.command))
                              for e in m.entries])
            else:
                ents = ()
            return (2, m.src, m.dst, m.term, m.prev_log_index, m.prev_log_term, ents,
                    m.leader_commit)
        if t is RequestVote:
            return (0, m.src, m.dst, m.term, m.last_log_index, m.last_log_term, int(m.pre_vote),
                    int(m.transfer))
        if t is AppendEntriesReply:
            return (3, m.src, m.dst, m.term, int(m.success), m.match_index, m.conflict_index,
                    m.conflict_term)
        if t is InstallSnapshot:  # its data follows from the committed prefix it stands for
            kv = tuple(sorted((repr(k), repr(v)) for k, v in m.data.get("kv", ())))
            return (4, m.src, m.dst, m.term, m.last_included_index, m.last_included_term, kv, 0)
        if t is InstallSnapshotReply:
            return (5, m.src, m.dst, m.term, m.match_index, 0, 0, 0)
        if t is TimeoutNow:
            return (6, m.src, m.dst, m.term, 0, 0, 0, 0)
        return (1, m.src, m.dst, m.term, int(m.vote_granted), int(m.pre_vote), 0, 0)


class StateSpace(_Judgements, _Keys):
    """The state space of one explore() call; see the module docstring for the encoding."""

    def __init__(self, n, handlers, initial, bounds, kinds, commands, max_entries, symmetry,
                 goal, persistence="auto", max_snapshots=1, members=None, membership_fix=True):
        # One-tick heartbeats and timers that never fire: a ``heartbeat`` event is one
        # cluster tick and a ``timeout`` event is ``cluster.timeout(i)`` on replay.
        beyond = {} if membership_fix else {"membership_fix": False}
        self.config = Config(election_timeout=(NEVER, NEVER), heartbeat_interval=1,
                             max_entries=max_entries, persistence=persistence, **beyond)
        #: Snapshots or explicit persistence: keys carry four more fields per server.
        self.extended = "compact" in kinds or persistence == "explicit"
        self.max_snapshots = max_snapshots
        self.taken = {}  # server -> snapshots taken, for the working node just loaded
        kwargs = dict(n=n, seed=0, config=self.config, handlers=handlers, record_reasons=False,
                      monitor=False)
        self.reconfig = members is not None or "reconfigure" in kinds
        if members is not None:
            kwargs["members"] = members
        c = Cluster.from_state(initial, **kwargs) if initial else Cluster(**kwargs)
        self.setup = {"n": n, "config": self.config, "handlers": handlers,
                      "initial": {i: dict(st) for i, st in initial.items()} if initial else None,
                      "members": members}
        if self.reconfig:
            for node in c.nodes.values():
                membership.enable(node)
        self.n = n
        self.ids = tuple(range(1, n + 1))
        self.asym = _symmetric(c) or ("membership changes name servers" if self.reconfig else "")
        if self.extended and not self.asym:
            self.asym = "compaction or explicit persistence is explored without symmetry reduction"
        self.working = c.nodes
        for node in self.working.values():
            node._reasons = None  # no explanations: speed
            node.rng = _FixedRandom()  # every timeout is NEVER: no draw needed
        self.logs = {i: node.log for i, node in c.nodes.items()}
        self.max_term, self.max_log, self.max_in_flight = bounds
        self.kinds = kinds
        self.commands = commands
        # Code 3's arguments per server: client values, then "add j" and "remove j" for each j.
        self.stride = len(commands) + (2 * n if "reconfigure" in kinds else 0)
        if symmetry is True and self.asym:
            raise InvalidArgument(f"symmetry reduction is unsound here: {self.asym}, so renaming "
                                  "servers changes the problem; use symmetry='auto' or False")
        if symmetry == "auto" and goal is not None and goal not in GOALS.values() and n > 1:
            self.asym = self.asym or ("a goal function may tell servers apart (pass "
                                      "symmetry=True if yours does not)")
        self.symmetry = symmetry is not False and not self.asym and n > 1
        self.goal = goal
        self.cmd_ids = {None: 0}
        for cmd in commands:
            self.cmd_ids.setdefault(cmd, len(self.cmd_ids))
        self.cmd_of = {v: k for k, v in self.cmd_ids.items()}
        for node in c.nodes.values():
            for e in node.log:
                self.cmd_id(e.command)
        committed = []
        for node in c.nodes.values():
            for i in range(len(committed) + 1, node.commit_index + 1):
                e = node.log[i]
                committed.append((e.term, self.cmd_id(e.command), node.current_term))
        self.root = (tuple(self.save(node, False) for node in c.nodes.values()), (),
                     tuple(sorted((nd.current_term, i) for i, nd in c.nodes.items()
                                  if nd.role is Role.LEADER)), tuple(committed))

    def goal_met(self, state) -> bool:
        """Does ``state`` meet the search's goal (a named one reads the raw state)?"""
        goal = self.goal
        if goal is None:
            return False
        return bool(goal(state) if goal in GOALS.values() else goal(self.view(state)))

    # -- encoding ----------------------------------------------------------------
    def save(self, node, crashed, old=None):
        """A node's state as (key, symmetry signature, payload to load it back).

        ``old`` is the state the node was loaded from: an unchanged log is reused.
        """
        role = node.role
        rc = 2 if role is _LEADER else (1 if role is _CANDIDATE else 0)
        log = node.log
        if old is not None and log is self.logs[node.id] and log.changed_from is None \
                and not log.truncations:
            entries, log_key = old[2][3], old[0][4]
        else:
            ck = self.cmd_id
            entries = tuple(log._entries)
            log_key = tuple([(e.term, ck(e.command)) for e in entries])
        voted = node.voted_for or 0
        if rc == 2:
            ni, mi = node.next_index, node.match_index
            nxt = tuple([ni.get(j, 0) for j in self.ids])
            mat = tuple([mi.get(j, 0) for j in self.ids])
        else:
            nxt = mat = ()
        votes = tuple(sorted(node.votes)) if rc == 1 else ()
        term = node.current_term
        key = (crashed, rc, term, voted, log_key, node.commit_index, node.last_applied, nxt, mat,
               votes)
        sig = (crashed, rc, term, log_key, node.commit_index, node.last_applied,
               voted == node.id, voted != 0, len(votes)) if self.symmetry else None
        payload = (role, term, node.voted_for, entries, node.commit_index, node.last_applied,
                   node.next_index, node.match_index, node.leader_id, node.votes, node.kv)
        if self.extended:
            saved = node._saved
            if saved is not None:
                st, sv, share, _ = saved
                ck = self.cmd_id
                saved_key = (st, sv or 0, tuple([(e.term, ck(e.command)) for e in share[0][:share[1]]]),
                             share[3], share[4])
            else:
                saved_key = None
            taken = self.taken.get(node.id, 0)
            key += (log.snapshot_index, log.snapshot_term, taken, saved_key)
            payload += (log.snapshot_index, log.snapshot_term, node.snapshot_data, saved, taken,
                        node.results)
        if self.reconfig:  # membership changes: a leader's learners (catching up) are state too
            learners = tuple(sorted(node.learners.items())) if rc == 2 else ()
            key, payload = key + (learners,), payload + (learners,)
        return key, sig, payload

    def load(self, i, ns):
        """Put a saved state into server i's working node; returns the node."""
        node = self.working[i]
        node.log = self.logs[i]
        (node.role, node.current_term, node.voted_for, entries, node.commit_index,
         node.last_applied, nxt, mat, node.leader_id, votes, kv) = ns[2][:11]
        log = node.log
        log._entries = list(entries)
        log.truncations = 0
        log.changed_from = None
        node.next_index, node.match_index = dict(nxt), dict(mat)
        node.votes, node.kv = set(votes), dict(kv)
        node.results = {}
        node.heartbeat_elapsed = node.election_elapsed = 0
        if self.extended:
            (log.snapshot_index, log.snapshot_term, node.snapshot_data, node._saved,
             self.taken[i], results) = ns[2][11:17]
            node.results = dict(results)
        if self.reconfig:  # the learners come last
            node.learners, node.joint_target = dict(ns[2][-1]), None
            membership.refresh(node, quiet=True)
            membership._set_targets(node)
        return node

    def key(self, state):
        nodes, flight, leaders, committed = state
        if not self.symmetry:
            return (tuple([ns[0] for ns in nodes]), tuple([mk for mk, _ in flight]), leaders,
                    committed)
        n = self.n
        sigs = [ns[1] for ns in nodes]
        order = sorted(range(n), key=sigs.__getitem__)
        groups, start = [], 0
        for k in range(1, n + 1):
            if k == n or sigs[order[k]] != sigs[order[start]]:
                groups.append(order[start:k])
                start = k
        if len(groups) == n:
            orders = (order,)
        else:
            orders = (list(itertools.chain.from_iterable(choice)) for choice in
                      itertools.product(*[itertools.permutations(g) for g in groups]))
        best = None
        for ordering in orders:
            p = [0] * (n + 1)
            for new, old in enumerate(ordering):
                p[old + 1] = new + 1
            k = self.permuted(state, p)
            if best is None or k < best:
                best = k
        return best

    def permuted(self, state, p):
        nodes, flight, leaders, committed = state
        n = self.n
        out = [None] * n
        for old, ns in enumerate(nodes):
            crashed, rc, term, voted, log_key, ci, la, nxt, mat, votes = ns[0]
            if nxt:
                a, b = [0] * n, [0] * n
                for j in range(n):
                    a[p[j + 1] - 1] = nxt[j]
                    b[p[j + 1] - 1] = mat[j]
                nxt, mat = tuple(a), tuple(b)
            if votes:
                votes = tuple(sorted([p[v] if 0 < v <= n else v for v in votes]))
            if 0 < voted <= n:
                voted = p[voted]
            out[p[old + 1] - 1] = (crashed, rc, term, voted, log_key, ci, la, nxt, mat, votes)
        fl = sorted([(mk[0], p[mk[1]], p[mk[2]]) + mk[3:] for mk, _ in flight])
        ld = tuple(sorted([(t, p[i]) for t, i in leaders]))
        return (tuple(out), tuple(fl), ld, committed)

    # -- events --------------------------------------------------------------------
    def enabled(self, state):
        """The events enabled in ``state``, in a fixed order, as compact int codes."""
        nodes, flight, _, _ = state
        kinds = self.kinds
        out = []
        running = [i for i in self.ids if not nodes[i - 1][0][0]]
        if "timeout" in kinds:
            for i in running:
                k = nodes[i - 1][0]
                if k[1] != 2 and k[2] < self.max_term:
                    out.append(0 + 16 * i)
        deliver = "deliver" in kinds
        dup = "duplicate" in kinds and len(flight) < self.max_in_flight
        drop = "drop" in kinds
        prev = None
        for pos, (mk, _) in enumerate(flight):
            if mk == prev:
                continue  # an identical copy: same successors
            prev = mk
            if deliver and not (drop and nodes[mk[2] - 1][0][0]):
                out.append(1 + 16 * pos)
        if "heartbeat" in kinds and any(nodes[i - 1][0][1] == 2 for i in running):
            out.append(2)
        if "propose" in kinds:
            nv, stride = len(self.commands), self.stride
            for i in running:
                k = nodes[i - 1][0]
                if k[1] == 2 and self.last_index(k) < self.max_log:
                    out.extend(3 + 16 * ((i - 1) * stride + v) for v in range(nv))
        if "reconfigure" in kinds:
            out.extend(_reconfigurations(self, nodes, running))
        if dup or drop:
            prev = None
            for pos, (mk, _) in enumerate(flight):
                if mk == prev:
                    continue
                prev = mk
                if dup:
                    out.append(4 + 16 * pos)
                if drop:
                    out.append(5 + 16 * pos)
        if "crash" in kinds:
            out.extend(6 + 16 * i for i in running)
        if "restart" in kinds:
            out.extend(7 + 16 * i for i in self.ids if nodes[i - 1][0][0])
        if "compact" in kinds:  # a server with applied entries past its snapshot, within budget
            for i in running:
                k = nodes[i - 1][0]
                if k[6] > k[10] and k[12] < self.max_snapshots:
                    out.append(8 + 16 * i)
        return out

    def decode(self, state, code):
        """The readable event of an int code in ``state``."""
        kind, arg = EVENT_KINDS[code & 15], code >> 4
        if kind in ("timeout", "crash", "restart", "compact"):
            return (kind, arg)
        if kind == "heartbeat":
            return ("heartbeat",)
        if kind == "propose":
            nv, i, v = len(self.commands), arg // self.stride + 1, arg % self.stride
            if v >= nv:
                return ("reconfigure", i, ("add" if (v - nv) % 2 == 0 else "remove", (v - nv) // 2 + 1))
            return ("propose", i, self.commands[v])
        return (kind, state[1][arg][1])

    def apply(self, state, code):
        """The successor of ``state`` under event ``code``, checked for safety.

        Returns ``(successor, violation, within bounds)``; a handler that raises propagates.
        """
        nodes, flight, leaders, committed = state
        kind, arg = code & 15, code >> 4
        if kind == 1:  # deliver
            mk, msg = flight[arg]
            rest = flight[:arg] + flight[arg + 1:]
            d = msg.dst
            if nodes[d - 1][0][0]:  # crashed: the message is lost
                return (nodes, rest, leaders, committed), None, True
            node = self.load(d, nodes[d - 1])
            return self.stepped(state, d, node, node._step(msg), rest)
        if kind == 0:  # timeout
            node = self.load(arg, nodes[arg - 1])
            return self.stepped(state, arg, node, node.timeout(), flight)
        if kind == 3:  # propose (or reconfigure)
            nv = len(self.commands)
            i, v = arg // self.stride + 1, arg % self.stride
            node = self.load(i, nodes[i - 1])
            if v >= nv:
                j = (v - nv) // 2 + 1
                change = membership.add_server if (v - nv) % 2 == 0 else membership.remove_server
                return self.stepped(state, i, node, change(node, j), flight)
            node.propose(self.commands[v])
            return self.stepped(state, i, node, node.replicate(), flight)
        if kind == 2:  # heartbeat: every running leader sends AppendEntries
            sent = []
            for i in self.ids:
                k = nodes[i - 1][0]
                if k[1] == 2 and not k[0]:
                    sent.extend(self.load(i, nodes[i - 1]).replicate())
            flight = self.add(flight, sent)
            return (nodes, flight, leaders, committed), None, len(flight) <= self.max_in_flight
        if kind == 4:  # duplicate
            flight = self.add(flight, [flight[arg][1]])
            return (nodes, flight, leaders, committed), None, len(flight) <= self.max_in_flight
        if kind == 5:  # drop
            return (nodes, flight[:arg] + flight[arg + 1:], leaders, committed), None, True
        if kind == 6:  # crash
            ns = nodes[arg - 1]
            sig = ns[1] and (True,) + ns[1][1:]
            new = ((True,) + ns[0][1:], sig, ns[2])
            return (nodes[:arg - 1] + (new,) + nodes[arg:], flight, leaders, committed), None, True
        if kind == 8:  # compact: snapshot the applied state, drop the entries it covers
            node = self.load(arg, nodes[arg - 1])
            node.compact()
            self.taken[arg] += 1
            return self.stepped(state, arg, node, [], flight)
        # restart: persistent state kept (what was saved, in explicit mode), volatile rebuilt
        node = self.load(arg, nodes[arg - 1])
        node.restart()
        return self.stepped(state, arg, node, [], flight)

    def add(self, flight, msgs):
        if not msgs:
            return flight
        mkey = self.msg_key
        return tuple(sorted(flight + tuple([(mkey(m), m) for m in msgs]), key=_first))

    def stepped(self, state, i, node, sent, flight):
        """Build the successor after server i changed, and judge the properties."""
        nodes, _, leaders, committed = state
        old = nodes[i - 1]
        new = self.save(node, False, old)
        if sent:
            flight = self.add(flight, sent)
        okey, nkey = old[0], new[0]
        if okey == nkey and not node.log.truncations:  # nothing that matters changed
            return (nodes, flight, leaders, committed), None, len(flight) <= self.max_in_flight
        nodes = nodes[:i - 1] + (new,) + nodes[i:]
        viol = None
        term = nkey[2]
        ext = self.extended
        if ext and nkey[10] != okey[10] and nkey[10]:  # a new snapshot (taken or installed)
            viol = self.judge_snapshot(i, node, committed)
            if viol is not None:
                return (nodes, flight, leaders, committed), viol, True
        # Election safety (history: the leader of each term).
        if nkey[1] == 2:
            holder = None
            for t, j in leaders:
                if t == term:
                    holder = j
                    break
            if holder is None:
                leaders = tuple(sorted(leaders + ((term, i),)))
                viol = self.completeness(i, term, self.full_log(nkey, committed), committed)
            else:
                viol = election_safety(term, holder, i)
        # Leader append-only (a transition property).
        if viol is None and okey[1] == 2 and nkey[1] == 2 and okey[2] == term:
            viol = leader_append_only(i, term, self.last_index(okey), self.last_index(nkey),
                                      bool(node.log.truncations))
        # Log matching, between the changed log and every other.
        if viol is None and nkey[4] != okey[4]:
            viol = self.log_matching(i, self.full_log(nkey, committed), nodes, committed)
        # Newly committed entries (history) and the leaders they must be on.
        ci = nkey[5]
        if viol is None and ci > len(committed):
            log_key = self.full_log(nkey, committed)
            committed = committed + tuple((log_key[j][0], log_key[j][1], term)
                                          for j in range(len(committed), min(ci, len(log_key))))
            for j, ns in enumerate(nodes):
                k = ns[0]
                if k[1] == 2 and not k[0] and k[2] > term:
                    viol = self.completeness(j + 1, k[2], self.full_log(k, committed), committed)
                    if viol is not None:
                        break
        # State machine safety: what this server applied matches what was committed.
        if viol is None and nkey[6] > okey[6]:
            cmd_of = self.cmd_of
            full = self.full_log(nkey, committed)
            start = max(okey[6], nkey[10]) if ext else okey[6]  # a snapshot was judged above
            for j in range(start, min(nkey[6], len(full), len(committed))):
                e, rec = full[j], committed[j]
                viol = state_machine_safety(j + 1, (None, rec[0], cmd_of[rec[1]]),
                                            (i, e[0], cmd_of[e[1]]))
                if viol is not None:
                    break
        ok = len(flight) <= self.max_in_flight and term <= self.max_term and \
            self.last_index(nkey) <= self.max_log
        return (nodes, flight, leaders, committed), viol, ok

def _reconfigurations(space, nodes, running):
    """Codes of the membership changes each running leader may make now."""
    out, nv, stride = [], len(space.commands), space.stride
    for i in running:
        ns = nodes[i - 1]
        if ns[0][1] != 2 or space.last_index(ns[0]) >= space.max_log:
            continue
        node = space.load(i, ns)
        for j in space.ids:
            kind = "remove" if j in node.members else "add"
            if j in node.learners or membership.change_problem(node, kind, j):
                continue
            out.append(3 + 16 * ((i - 1) * stride + nv + 2 * (j - 1) + (kind == "remove")))
    return out


class _FixedRandom(random.Random):
    """The search's node rng: the only draws are timeouts from (NEVER, NEVER)."""

    def randint(self, a, b):
        return a

