"""Named, replayable scenarios: clusters stopped at the moments the Raft paper talks about.

Each function builds a :class:`~raftbook.Cluster` with real, recorded events
(after :meth:`Cluster.from_state` where the paper starts from hand-made logs),
so the history explains how the cluster got there, ``undo`` walks it back and
``save_trace`` replays it. Every scenario is deterministic: the same arguments
give the same cluster, bit for bit.

``SCENARIOS`` maps each name to its function, for menus and course material.
"""
from __future__ import annotations

from .cluster import Cluster
from ..core.config import Config
from ..errors import InvalidArgument
from ..core.messages import (AppendEntries, InstallSnapshot, RequestVote, RequestVoteReply)
from ..core.node import _is_int
from ..core.roles import Role
from ..core.rules import adopt_newer_term, log_is_up_to_date

#: The logs of Figure 7 of the Raft paper, as lists of terms (index 1 first).
FIGURE7_LOGS = {
    "leader": [1, 1, 1, 4, 4, 5, 5, 6, 6, 6],
    "a": [1, 1, 1, 4, 4, 5, 5, 6, 6],
    "b": [1, 1, 1, 4],
    "c": [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6],
    "d": [1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7],
    "e": [1, 1, 1, 4, 4, 4, 4],
    "f": [1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3],
}
FIGURE7_FOLLOWERS = ("a", "b", "c", "d", "e", "f")
FIGURE8_STAGES = ("a", "b", "c", "d", "e")

# Safety valve for the delivery loops below: a scenario never needs more.
_MAX_DELIVERIES = 1000


# -- building blocks -------------------------------------------------------------
def deliver_all(c: Cluster, where=None) -> int:
    """Deliver in-flight messages oldest first (only those ``where(envelope)`` accepts)
    until none is left; returns how many were delivered. No time passes."""
    count = 0
    while True:
        envs = [e for e in c.in_flight if where is None or where(e)]
        if not envs:
            return count
        c.deliver(envs[0].id)
        count += 1
        if count > _MAX_DELIVERIES:
            raise RuntimeError("messages keep flowing; this scenario does not settle")


def drop_all(c: Cluster, where) -> int:
    """Drop every in-flight message ``where(envelope)`` accepts; returns how many."""
    envs = [e for e in c.in_flight if where(e)]
    for e in envs:
        c.drop(e.id)
    return len(envs)


def stand_for_election(c: Cluster, node: int) -> bool:
    """``node`` times out and its vote requests and their replies are delivered.

    Other messages stay in flight. Returns whether ``node`` won.
    """
    c.timeout(node)
    term = c.nodes[node].current_term

    def election(e):
        m = e.msg
        return m.term == term and ((type(m) is RequestVote and m.src == node)
                                   or (type(m) is RequestVoteReply and m.dst == node))
    deliver_all(c, election)
    return c.nodes[node].role is Role.LEADER and c.nodes[node].current_term == term


def _from(node):
    return lambda e: e.msg.src == node


def _elect(c: Cluster, node: int) -> None:
    if not stand_for_election(c, node):
        raise RuntimeError(f"S{node} did not win its election in this scenario")


def _check_seed(seed):
    if not _is_int(seed):
        raise InvalidArgument(f"seed must be a whole number; got {seed!r}")


# -- Figure 7 --------------------------------------------------------------------
def figure7(follower: str | None = None, seed: int = 0, elected: bool = True) -> Cluster:
    """Figure 7: a new leader of term 8 meets the six follower logs (a)-(f).

    With ``follower=None``: seven servers; S1 holds the leader's log (terms
    1,1,1,4,4,5,5,6,6,6) and S2..S7 hold follower logs (a)..(f) of the paper
    (``FIGURE7_LOGS``). Every server is in term 7 (log (d) has term-7 entries).
    With ``follower="c"`` (any of "a".."f"): three servers, S1 the leader's log,
    S2 that follower's log, and S3 a copy of the leader's log, so S1 can win
    whatever S2 holds.

    ``elected=True`` (the default): S1 has already timed out and won term 8 with
    the votes of (a), (b), (e) and (f) ((c) and (d) refuse: their logs are more
    up to date); its log now ends with its term-8 no-op at index 11, and its first
    AppendEntries are in flight. ``elected=False``: the cluster just before, one
    ``c.timeout(1)`` away. What to look at: deliver the messages one by one (or
    ``c.run(50)``) and watch S1 back off on each follower and repair it: extra
    entries go ((c), (d)), missing ones arrive ((a), (b), (e)), and (f) loses its
    terms 2-3 entries. Each follower ends with exactly the leader's log.
    """
    _check_seed(seed)
    if follower is None:
        logs = [FIGURE7_LOGS["leader"]] + [FIGURE7_LOGS[k] for k in FIGURE7_FOLLOWERS]
    elif follower in FIGURE7_FOLLOWERS:
        logs = [FIGURE7_LOGS["leader"], FIGURE7_LOGS[follower], FIGURE7_LOGS["leader"]]
    else:
        raise InvalidArgument(f"follower must be None or one of {', '.join(FIGURE7_FOLLOWERS)} "
                              f"(the follower logs of Figure 7); got {follower!r}")
    c = Cluster.from_state({i: {"current_term": 7, "log": list(log)}
                            for i, log in enumerate(logs, start=1)}, seed=seed)
    if elected:
        _elect(c, 1)
    return c


# -- Figure 8 --------------------------------------------------------------------
def figure8(stage: str = "e", seed: int = 0, handlers=None) -> Cluster:
    """Figure 8: why a leader never commits an earlier term's entry by counting replicas.

    Five servers start with index 1 (term 1) committed everywhere. Each stage
    plays the paper's caption with real events (and includes the earlier ones):

    - ``"a"``: S1 wins term 2, appends its entry at index 2 (its no-op, term 2)
      and replicates it to S2; its AppendEntries to S3-S5 are still in flight.
    - ``"b"``: S1 crashes (its messages are lost); S5 wins term 3 with the votes
      of S3, S4 and itself (S2 refuses: its log is more up to date) and appends a
      different entry at index 2 (its term-3 no-op); its AppendEntries carrying that
      entry to S1-S4 are in flight, not yet delivered.
    - ``"c"``: S5 crashes; S1 restarts, loses term 3 (S3 and S4 already voted for
      S5), wins term 4, appends its term-4 no-op at index 3 and replicates its
      term-2 entry to S3 and S4. Index 2 (term 2) is now on a majority, yet the
      reference rule does NOT commit it (see the reason "did not commit index 2").
      (S1 counts only acknowledgements it got as leader of term 4, so it replicates
      to S4 as well; S2's copy from term 2 is unknown to it.)
    - ``"d"``: from (c), S1 crashes; S5 restarts, and wins term 5 with the votes of
      S2, S3 and S4 (its last log term, 3, beats their 2), and overwrites index 2
      everywhere with its term-3 entry. This is safe only because index 2 was never
      committed: with a commit rule that counts earlier-term replicas, S1 would
      have committed it in (c) and the safety checker reports the overwrite
      (leader completeness, then state machine safety).
    - ``"e"``: from (c), S1 instead replicates its term-4 entry (index 3) to a
      majority first, which commits index 3 and, with it, index 2. Now S5 could
      never be elected: crash S1 and try.

    The cluster uses ``Config(max_entries=1)`` so each AppendEntries carries one
    entry, as the figure's one-entry-at-a-time story needs. ``handlers`` replaces
    rules as in :class:`Cluster` (the tests pass a broken ``advance_commit_index``).
    """
    if stage not in FIGURE8_STAGES:
        raise InvalidArgument(f"stage must be one of {', '.join(FIGURE8_STAGES)} (the panels of "
                              f"Figure 8); got {stage!r}")
    _check_seed(seed)
    c = Cluster.from_state({i: {"current_term": 1, "log": [(1, ("set", "x", 1))], "commit_index": 1}
                            for i in range(1, 6)}, seed=seed, config=Config(max_entries=1),
                           handlers=handlers)
    # (a) S1 leads term 2 and gets index 2 onto S2.
    _elect(c, 1)
    deliver_all(c, lambda e: type(e.msg) is AppendEntries and e.msg.dst == 2 or e.msg.src == 2)
    if stage == "a":
        return c
    # (b) S1 crashes; S5 wins term 3 with S3, S4 and puts a term-3 entry at index 2.
    c.crash(1)
    drop_all(c, _from(1))
    _elect(c, 5)
    if stage == "b":
        return c
    # (c) S5 crashes; S1 restarts, wins term 4 and brings index 2 onto S3 and S4.
    c.crash(5)
    drop_all(c, _from(5))
    c.restart(1)
    stand_for_election(c, 1)          # term 3: S3 and S4 already voted for S5
    _elect(c, 1)            # term 4
    first = {e.id for e in c.in_flight}

    def to_s3_s4(e):
        return e.msg.dst in (3, 4) or e.msg.src in (3, 4)
    # Back off to index 2 on S3 and S4; the follow-up AppendEntries carrying index 3
    # (max_entries=1) stay in flight with the initial one to S2.
    deliver_all(c, lambda e: to_s3_s4(e) and not (type(e.msg) is AppendEntries
                                                 and e.msg.entries
                                                 and e.msg.entries[0].index == 3
                                                 and e.id not in first))
    if stage == "c":
        return c
    if stage == "d":
        c.crash(1)
        drop_all(c, _from(1))
        c.restart(5)
        stand_for_election(c, 5)      # term 4: everyone already voted for S1
        _elect(c, 5)        # term 5
        deliver_all(c)
        return c
    # (e) S1 replicates index 3 (term 4) to S2, S3 and S4: a majority, so 3 and 2 commit.
    deliver_all(c)
    return c


# -- elections -------------------------------------------------------------------
def split_vote(n: int = 5, seed: int = 0, resolved: bool = False) -> Cluster:
    """A split vote: S1 and S2 time out in the same term and nobody wins.

    S1 and S2 both become candidates for term 1. The other servers' votes are
    shared out alternately (S3 for S1, S4 for S2, ...); with an odd number left
    over, the last voter's requests are lost in the network, so each candidate
    holds fewer votes than the majority needs. Each candidate also asks the other,
    which refuses (it voted for itself). What to look at: both stay candidates of
    term 1 until a timer fires again; the randomized timeouts make it likely
    that one of them fires first next time. ``resolved=True`` plays that: S1 times
    out again, wins term 2 (S2 adopts the higher term and votes for it) and its
    first AppendEntries are in flight.
    """
    if not _is_int(n) or n < 3:
        raise InvalidArgument(f"a split vote needs at least 3 servers; got n={n!r}")
    c = Cluster(n=n, seed=seed)
    c.timeout(1)
    c.timeout(2)
    voters = list(range(3, n + 1))
    lost = voters.pop() if len(voters) % 2 else None
    if lost is not None:
        drop_all(c, lambda e: e.msg.dst == lost)
    for k, v in enumerate(voters):
        cand = 1 if k % 2 == 0 else 2
        deliver_all(c, lambda e, v=v, cand=cand: e.msg.src == cand and e.msg.dst == v)
    deliver_all(c)  # the candidates' requests to each other and every reply
    if resolved:
        _elect(c, 1)
    return c


# -- client writes and crashes ----------------------------------------------------
def leader_crash_after_submit(seed: int = 0, winner: int | None = None) -> Cluster:
    """A leader accepts a write, gets it onto one follower only, and crashes.

    Five servers; S1 wins term 1 and commits its no-op. A client proposes
    ``("set", "x", 1)`` (``c.proposals[0]``, index 2); S1 replicates it to S2 only
    and crashes (its other messages are lost). The write is on 2 of 5 servers:
    pending. What happens next depends on who wins the next election:
    ``winner=2`` (S2 holds the write; everyone votes for it): the new leader's
    no-op commits it, status "committed". ``winner`` 3, 4 or 5: S2 refuses its
    vote but the other two grant it; the new leader overwrites index 2 and the
    write's status becomes "lost". ``winner=None`` stops at the crash.
    """
    _check_seed(seed)
    if winner is not None and winner not in (2, 3, 4, 5):
        raise InvalidArgument(f"winner must be None or one of 2, 3, 4, 5 (S1 has crashed); got {winner!r}")
    c = Cluster(n=5, seed=seed)
    _elect(c, 1)
    deliver_all(c)
    c.propose(("set", "x", 1))
    deliver_all(c, lambda e: e.msg.dst == 2 or e.msg.src == 2)
    c.crash(1)
    drop_all(c, lambda e: e.msg.src == 1 or e.msg.dst == 1)
    if winner is not None:
        _elect(c, winner)
        deliver_all(c)
    return c


def partition_two_leaders(seed: int = 0, healed: bool = False) -> Cluster:
    """Two leaders at once, in different terms: a partition {S1, S2} | {S3, S4, S5}.

    S1 wins term 1 and commits its no-op everywhere. The network splits; the
    majority side times out and elects S3 in term 2, which commits a write
    ``("set", "x", "new")``. S1, on the minority side, still believes it leads term 1
    and accepts ``("set", "x", "stale")`` (``c.proposals[0]``), gets it onto S2 and
    can never commit it: 2 of 5 (``c.status`` already says "lost": S3 committed a
    different entry at its index). What to look at: ``c.leader`` is S3 (the higher
    term); S1 is a leader too, of an older term; election safety holds because
    the terms differ. ``healed=True`` heals the network and lets one heartbeat
    round through: S1 and S2 see term 2, step down, and their stale entry is
    deleted; ``c.status(c.proposals[0])`` is "lost", all logs equal S3's.
    """
    _check_seed(seed)
    if not isinstance(healed, bool):
        raise InvalidArgument(f"healed must be True or False; got {healed!r}")
    c = Cluster(n=5, seed=seed)
    _elect(c, 1)
    c.tick()  # heartbeats (commit index 1) go out on the next round
    deliver_all(c)
    c.partition({1, 2})
    _elect(c, 3)
    deliver_all(c)
    c.propose(("set", "x", "stale"), node=1)
    deliver_all(c)
    c.propose(("set", "x", "new"), node=3)
    deliver_all(c)
    if healed:
        c.heal()
        for _ in range(c.config.heartbeat_interval):
            c.tick()
        deliver_all(c)
    return c


def stale_leader_steps_down(seed: int = 0) -> Cluster:
    """A cut-off leader learns it is stale from the first message of the new term.

    Three servers. S1 wins term 1; the network isolates it; S2 and S3 elect S2 in
    term 2. S1, still leader of term 1, accepts ``("set", "x", 1)`` that nobody
    else receives. The network heals and a client writes ``("set", "x", 2)`` to S2.
    What to look at: S2's AppendEntries to S1 is in flight (``c.in_flight``); deliver
    it and S1 adopts term 2, steps down and, in that same step, deletes its stale
    entry at index 2 (term 1, where S2 has term 2) and appends S2's entries: the
    consistency check passes at index 1, so nothing needs backing off.
    """
    _check_seed(seed)
    c = Cluster(n=3, seed=seed)
    _elect(c, 1)
    deliver_all(c)
    c.partition({1})
    _elect(c, 2)
    deliver_all(c)
    c.propose(("set", "x", 1), node=1)
    deliver_all(c)
    c.heal()
    c.propose(("set", "x", 2), node=2)
    return c


# -- log compaction and persistence (section 7, Figure 13) ----------------------------
def follower_behind_snapshot(seed: int = 0, caught_up: bool = False) -> Cluster:
    """A follower so far behind that the leader has compacted the entries it needs.

    Three servers with ``Config(snapshot_threshold=4)``. S1 wins term 1 (its no-op
    is index 1) and S3 crashes. A client writes x = 1, 2, 3 (indexes 2-4); S1
    commits and applies them and, at its next tick, compacts: a snapshot up to
    index 4 replaces its log. Two more writes (x = 4, 5 at indexes 5-6) follow.
    S3 restarts holding only index 1. What to look at: S1's next index for S3 is
    2, inside its snapshot, so the heartbeat S1 sends S3 (in flight) is an
    ``InstallSnapshot``, not an AppendEntries. ``caught_up=True`` delivers
    everything: S3 installs the snapshot (x = 3, commit index 4), S1 sends the
    entries after it at once, and every server ends with x = 5.
    """
    _check_seed(seed)
    if not isinstance(caught_up, bool):
        raise InvalidArgument(f"caught_up must be True or False; got {caught_up!r}")
    c = Cluster(n=3, seed=seed, config=Config(snapshot_threshold=4))
    _elect(c, 1)
    deliver_all(c)
    c.crash(3)
    drop_all(c, lambda e: e.msg.dst == 3)
    for v in (1, 2, 3):
        c.propose(("set", "x", v))
        deliver_all(c, lambda e: e.msg.dst != 3)
    c.tick()  # S1 has applied 4 entries past its (empty) snapshot: it compacts now
    for v in (4, 5):
        c.propose(("set", "x", v))
        deliver_all(c, lambda e: e.msg.dst != 3)
    drop_all(c, lambda e: e.msg.dst == 3)
    c.restart(3)
    while not any(type(e.msg) is InstallSnapshot for e in c.in_flight):
        c.tick()  # until S1's next heartbeat round
    drop_all(c, lambda e: type(e.msg) is not InstallSnapshot)
    if caught_up:
        deliver_all(c)
        for _ in range(c.config.heartbeat_interval):
            c.tick()
        deliver_all(c)
    return c


def stale_snapshot(seed: int = 0) -> Cluster:
    """A late InstallSnapshot arrives after a newer snapshot: the follower keeps the newer.

    Built on ``follower_behind_snapshot``: the network duplicates S1's
    InstallSnapshot to S3. S3 installs one copy and catches up; two more writes
    commit; S3 takes a snapshot of its own (``c.compact(3)``). Then the late copy
    arrives. What to look at: the last event's reason ``snapshot_ignored_stale``:
    S3's snapshot already covers more than index 4, so rule 5 of Figure 13
    discards the old one; its log, state machine and commit index are unchanged.
    """
    _check_seed(seed)
    c = follower_behind_snapshot(seed)
    snap = next(e for e in c.in_flight if type(e.msg) is InstallSnapshot)
    late = c.duplicate(snap.id)
    deliver_all(c, lambda e: e.id != late.id)
    for v in (6, 7):
        c.propose(("set", "x", v))
        deliver_all(c, lambda e: e.id != late.id)
    for _ in range(c.config.heartbeat_interval):
        c.tick()
    deliver_all(c, lambda e: e.id != late.id)
    if c.nodes[3].last_applied > c.nodes[3].snapshot_index:
        c.compact(3)
    c.deliver(late.id)
    return c


def crash_between_reply_and_save(seed: int = 0, saves_first: bool = True) -> Cluster:
    """Explicit persistence: a vote answered before it was saved is forgotten in a crash.

    Three servers with ``Config(persistence="explicit")``. S1 times out in term 1
    and asks for votes; S2 grants its vote and crashes at once, its reply already
    on the wire; it restarts. S3, which never heard of S1's candidacy, times out
    into the same term 1 and asks S2. With the reference rules
    (``saves_first=True``) S2 saved its vote before answering: after the restart
    it still remembers voting for S1 and refuses S3; S1 wins alone.
    ``saves_first=False`` runs a vote rule that answers first
    (:func:`vote_without_saving`): S2 restarts in term 0 with no vote, votes for
    S3 too, both S1 and S3 win term 1 and ``c.violation`` is an election-safety
    violation (the trace replays with ``handlers={"request_vote":
    vote_without_saving}``).
    """
    _check_seed(seed)
    if not isinstance(saves_first, bool):
        raise InvalidArgument(f"saves_first must be True or False; got {saves_first!r}")
    handlers = None if saves_first else {"request_vote": vote_without_saving}
    c = Cluster(n=3, seed=seed, config=Config(persistence="explicit"), handlers=handlers)
    c.timeout(1)
    deliver_all(c, lambda e: type(e.msg) is RequestVote and e.msg.dst == 2)
    c.crash(2)  # its reply to S1 is already on the wire
    c.restart(2)
    drop_all(c, lambda e: e.msg.dst == 3)  # S3 never hears of S1's candidacy ...
    c.timeout(3)  # ... and times out into the same term 1
    deliver_all(c, lambda e: type(e.msg) is RequestVote and e.msg.dst == 2)
    deliver_all(c, lambda e: type(e.msg) is RequestVoteReply)
    return c


def vote_without_saving(node, msg) -> list:
    """The reference vote rule, except that it answers without calling ``node.persist()``."""
    adopt_newer_term(node, msg.term)
    grant = (msg.term == node.current_term and node.voted_for in (None, msg.src)
             and log_is_up_to_date(msg.last_log_term, msg.last_log_index, node.log.last_term,
                                   node.log.last_index))
    if grant:
        node.voted_for = msg.src
        node.reset_election_timer()
    return [RequestVoteReply(node.id, msg.src, node.current_term, grant)]


# -- beyond Figure 2: PreVote, CheckQuorum, leader transfer (thesis 3.10, 6.2, 9.6) ---------

def _settled_leader(c: Cluster) -> int:
    c.run_until(lambda c: c.leader is not None, 500)
    return c.leader


def disruptive_server(seed: int = 7, pre_vote: bool = False, healed: bool = True) -> Cluster:
    """A server cut off from the others comes back; with or without PreVote.

    Five servers elect a leader and settle; the network then cuts off S5 (S4 leads
    with the default seed) for 300 ticks, and heals (``healed=True``) for 200 more.
    What to look at: without PreVote S5 times out again and again, alone, raising its
    term each time; back in the network its high term deposes the healthy leader
    (``c.nodes[5].current_term``, then the leader's term). With ``pre_vote=True`` S5
    only asks whether it could win: nobody's term moves, and the leader stays.
    """
    _check_seed(seed)
    c = Cluster(n=5, seed=seed, config=Config(pre_vote=bool(pre_vote)))
    _settled_leader(c)
    c.run(50)
    cut = max(i for i in c.nodes if i != c.leader)
    c.partition({cut})
    c.run(300)
    if healed:
        c.heal()
        c.run(200)
    return c


def leader_cut_off(seed: int = 2, check_quorum: bool = False) -> Cluster:
    """A leader cut off from the majority, just after the partition.

    Five servers elect a leader (S5 with the default seed) and settle; the network
    then splits the leader from the other four. What to look at: run it on. The four
    elect a new leader in a newer term. Without CheckQuorum the old leader stays
    leader of its old term, alone, and accepts client writes it can never commit;
    with ``check_quorum=True`` it steps down once a check window passes without word
    from a majority (``stepped_down_no_quorum``).
    """
    _check_seed(seed)
    c = Cluster(n=5, seed=seed, config=Config(check_quorum=bool(check_quorum)))
    old = _settled_leader(c)
    c.run(20)
    c.partition({old}, set(c.nodes) - {old})
    return c


def partial_partition(seed: int = 0, pre_vote: bool = False, check_quorum: bool = False) -> Cluster:
    """A partial partition: the leader loses its links to two followers, nothing else breaks.

    Five servers elect a leader (S5 with the default seed) and settle; then the links
    between the leader and the two highest-numbered other servers are cut (S3 and S4
    with the default seed). Everyone else still reaches everyone: the two cut-off
    servers reach the leader's other two followers, and through them a majority.
    What to look at: run it on (``c.run(2000)``) and watch the leader and the terms.
    With the defaults the cut-off servers stop hearing heartbeats and stand for
    election; the followers in the middle vote for them, so leadership moves a few
    times until a server that reaches everyone leads. With ``check_quorum=True``
    servers that hear from a leader ignore vote requests: the leader stays, but the
    cut-off servers raise their terms again and again, and on ``c.heal()`` their
    high term deposes it. With ``pre_vote=True`` they only ask whether they could
    win: no term moves, and the leader stays before and after healing.
    """
    _check_seed(seed)
    c = Cluster(n=5, seed=seed, config=Config(pre_vote=bool(pre_vote), check_quorum=bool(check_quorum)))
    old = _settled_leader(c)
    c.run(20)
    for far in sorted(set(c.nodes) - {old})[2:]:
        c.cut(old, far)
    return c


def lagging_transfer_target(seed: int = 3) -> Cluster:
    """A leader about to hand over to a server that missed some writes.

    Three servers elect a leader (S2 with the default seed); the first other server
    (S1) crashes, misses three writes, and restarts, far behind. What to look at:
    ``c.transfer_leadership(1)`` makes the leader refuse new proposals, catch S1 up,
    and send it ``TimeoutNow``; S1 starts an election at once and wins.
    """
    _check_seed(seed)
    c = Cluster(n=3, seed=seed)
    leader = _settled_leader(c)
    c.run(20)
    lag = next(i for i in c.nodes if i != leader)
    c.crash(lag)
    for k in range(3):
        c.propose(("set", "x", k))
    c.run(30)
    c.restart(lag)
    return c


#: Every scenario by name.
SCENARIOS = {
    "figure7": figure7,
    "figure8": figure8,
    "split_vote": split_vote,
    "leader_crash_after_submit": leader_crash_after_submit,
    "partition_two_leaders": partition_two_leaders,
    "stale_leader_steps_down": stale_leader_steps_down,
    "follower_behind_snapshot": follower_behind_snapshot,
    "stale_snapshot": stale_snapshot,
    "crash_between_reply_and_save": crash_between_reply_and_save,
    "disruptive_server": disruptive_server,
    "leader_cut_off": leader_cut_off,
    "partial_partition": partial_partition,
    "lagging_transfer_target": lagging_transfer_target,
}


def build(name: str, **options) -> Cluster:
    """Build the scenario called ``name`` (a key of ``SCENARIOS``) with its options."""
    fn = SCENARIOS.get(name) if isinstance(name, str) else None
    if fn is None:
        raise InvalidArgument(f"unknown scenario {name!r}; the scenarios are {', '.join(SCENARIOS)}")
    return fn(**options)
