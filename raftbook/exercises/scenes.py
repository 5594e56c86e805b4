"""Layer 2 of every grader: replays of the paper's scenarios with the student's handler.

Each scenario is scripted from a known state (``Cluster.from_state``) or a
seeded run, and says what must happen at each step: who wins an election,
what a leader may commit, that logs converge once the network heals. The
same five scenarios grade every handler: a wrong rule anywhere shows up as a
step that does not happen, or as a broken safety property.
"""
from __future__ import annotations

from dataclasses import dataclass

from ..sim.cluster import Cluster
from ..sim import scenarios as named_scenarios
from ..core.config import Config
from ..core.roles import Role
from ..errors import HandlerError
from .play import HANDLER_RULE, Play, Stop, converged, one_leader
from .report import Finding, LayerResult
from .targets import handlers_for

ELECT = "Leader election (section 5.2): a candidate with votes from a majority becomes leader"
SPLIT = "Split votes (section 5.2): with the votes split, nobody wins; a later election does"
ONE_VOTE = "One vote per term (Figure 2, RequestVote): the first candidate to ask gets the vote"
VOTE = "Election restriction (section 5.4.1): vote only for a candidate whose log is at least as up to date"
CONVERGE = "Log replication (section 5.3): the leader brings every follower's log in line with its own"
FIG8 = "Current-term rule (section 5.4.2, Figure 8): never commit an earlier term's entry by counting replicas"
COMMIT = "Commitment (section 5.3): an entry stored on a majority by its leader is committed"
HEAL = "Partitions (section 5.1): a stale leader steps down and its uncommitted entries are replaced"

_CAMPAIGN_NET = dict(latency=(1, 2))


def _cmd(index, term):
    return ("set", f"k{index}", term)


def _log(*terms):
    return [(t, _cmd(i, t)) for i, t in enumerate(terms, start=1)]


def split_vote(handlers, seed):
    """Two candidates split four votes two and two: no leader in that term, a leader later."""
    p = Play(Cluster(4, seed=seed, handlers=handlers))
    yield p
    p.do("timeout", 1)
    p.do("timeout", 2)
    for src, dst in ((1, 3), (2, 4), (2, 3), (1, 4), (1, 2), (2, 1)):
        p.deliver("RequestVote", src, dst)
    p.expect(p.c.nodes[3].voted_for == 1 and p.c.nodes[4].voted_for == 2, ONE_VOTE,
             f"S3 should have voted for S1 (whose request came first) and S4 for S2; they voted for "
             f"S{p.c.nodes[3].voted_for} and S{p.c.nodes[4].voted_for}")
    p.settle()
    p.expect(not p.leaders(), SPLIT,
             f"S1 and S2 each have 2 of the 4 votes of term 1 (3 are needed), yet "
             + " and ".join(f"S{i}" for i in p.leaders()) + " became leader")
    p.run_until(one_leader, 250, "a leader elected after the split vote", SPLIT)


def figure7(handlers, seed, config=None):
    """Figure 7: a new leader of term 8 and six followers with every kind of log."""
    logs = {1: _log(1, 1, 1, 4, 4, 5, 5, 6, 6, 6),
            2: _log(1, 1, 1, 4, 4, 5, 5, 6, 6),               # (a)
            3: _log(1, 1, 1, 4),                               # (b)
            4: _log(1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 6),         # (c)
            5: _log(1, 1, 1, 4, 4, 5, 5, 6, 6, 6, 7, 7),      # (d)
            6: _log(1, 1, 1, 4, 4, 4, 4),                      # (e)
            7: _log(1, 1, 1, 2, 2, 2, 3, 3, 3, 3, 3)}         # (f)
    c = Cluster.from_state({i: {"current_term": 7, "log": lg} for i, lg in logs.items()}, seed=seed,
                           config=config, handlers=handlers)
    p = Play(c)
    yield p
    p.do("timeout", 1)
    for i in range(2, 8):
        p.deliver("RequestVote", 1, i)
    names = {2: "(a)", 3: "(b)", 4: "(c)", 5: "(d)", 6: "(e)", 7: "(f)"}
    for i in range(2, 8):
        env = p.find("RequestVoteReply", i, 1)
        if env is None:
            p.fail("Each request gets an answer (Figure 2: every RPC has a reply)",
                   f"S{i} got S1's vote request but sent no reply")
        log = c.nodes[i].log
        should = i in (2, 3, 6, 7)
        p.expect(env.msg.vote_granted == should, VOTE,
                 f"S{i}, follower {names[i]} of Figure 7 (last log term {log.last_term}, index "
                 f"{log.last_index}), should {'grant' if should else 'refuse'} S1 (last log term 6, index "
                 f"10) its vote in term 8, but it {'granted' if env.msg.vote_granted else 'refused'} it")
    p.settle(until=lambda c: c.nodes[1].role is Role.LEADER, what="S1 becoming leader")
    p.do("propose", ("set", "figure", 7))
    p.run_until(converged, 150, "every follower's log matching S1's, all committed", CONVERGE, **_CAMPAIGN_NET)


def figure8(handlers, seed):
    """Figure 8: a term-2 entry reaches a majority under the leader of term 4, but must not commit."""
    nodes = {1: {"current_term": 3, "log": _log(1, 2), "commit_index": 1},
             2: {"current_term": 3, "log": _log(1, 2), "commit_index": 1},
             3: {"current_term": 3, "voted_for": 5, "log": _log(1), "commit_index": 1},
             4: {"current_term": 3, "voted_for": 5, "log": _log(1), "commit_index": 1},
             5: {"current_term": 3, "voted_for": 5, "log": _log(1, 3), "commit_index": 1}}
    c = Cluster.from_state(nodes, seed=seed, config=Config(max_entries=1), handlers=handlers)
    p = Play(c)
    yield p
    s1 = c.nodes[1]
    p.do("timeout", 1)
    p.settle(until=lambda c: s1.role is Role.LEADER, what="S1 winning term 4 with votes from S2 and S3")
    p.do("partition", {1, 2, 3}, {4, 5})
    p.settle(until=lambda c: s1.match_index.get(3, 0) >= 2,
             what="S1 learning that S3 holds index 2 (one entry per AppendEntries here)")
    p.expect(s1.commit_index < 2, FIG8,
             f"S1, leader of term 4, committed index {s1.commit_index}, but only S1 and S2 hold its "
             "term-4 entry at index 3, and the term-2 entry at index 2, though now on a majority "
             "(S1, S2, S3), may not be committed by counting: in Figure 8 S5 overwrites it next")
    p.do("crash", 1)
    for env in list(c.flight.values()):
        p.do("drop", env.id)
    p.do("heal")
    p.do("timeout", 5)
    p.settle(until=lambda c: c.nodes[5].role is Role.LEADER,
             what="S5 winning term 5 with votes from S3 and S4")
    p.settle()
    p.do("restart", 1)
    p.run_until(converged, 150, "every log matching S5's, all committed, after S1 restarted", CONVERGE,
                **_CAMPAIGN_NET)


def partition_heals(handlers, seed):
    """A leader cut off with one follower keeps an uncommitted entry; after healing it is replaced."""
    c = Cluster(5, seed=seed, handlers=handlers)
    p = Play(c)
    yield p
    p.run_until(one_leader, 250, "a first leader being elected", ELECT, **_CAMPAIGN_NET)
    old = c.leader
    x = p.do("propose", ("set", "x", 1))
    p.run_until(lambda c: c.status(x) == "committed" and converged(c), 200,
                "x=1 committing on every server", COMMIT, **_CAMPAIGN_NET)
    buddy = min(i for i in c.nodes if i != old)
    rest = set(c.nodes) - {old, buddy}
    p.do("partition", {old, buddy}, rest)
    y = p.do("propose", ("set", "y", 2), node=old)
    p.run_until(lambda c: any(c.nodes[i].role is Role.LEADER for i in rest), 250,
                f"a new leader elected among {sorted(rest)}", ELECT, **_CAMPAIGN_NET)
    new = next(i for i in rest if c.nodes[i].role is Role.LEADER)
    z = p.do("propose", ("set", "z", 3), node=new)
    p.run_until(lambda c: c.status(z) == "committed", 200, "z=3 committing on the majority side",
                COMMIT, **_CAMPAIGN_NET)
    p.expect(c.nodes[old].commit_index < y.index or c.nodes[old].log.term_at(y.index) != y.term, HEAL,
             f"S{old}, cut off with S{buddy} only, committed y=2 (index {y.index}) without a majority")
    p.do("heal")
    p.run_until(lambda c: one_leader(c) and converged(c), 250,
                "one leader, and every log the same and committed, after healing", HEAL, **_CAMPAIGN_NET)
    p.expect(c.status(y) == "lost", HEAL,
             f"y=2, proposed to S{old} while it was cut off, should be replaced (status 'lost') but is "
             f"{c.status(y)!r}")
    kvs = {i: c.nodes[i].kv for i in c.nodes}
    p.expect(all(kv == {"x": 1, "z": 3} for kv in kvs.values()), HEAL,
             f"every server's key-value state should be {{'x': 1, 'z': 3}}; got {kvs}")


def crash_after_submit(handlers, seed):
    """The leader stores an entry on a majority, commits it and crashes: the next leader keeps it."""
    c = Cluster(5, seed=seed, handlers=handlers)
    p = Play(c)
    yield p
    p.run_until(one_leader, 250, "a first leader being elected", ELECT, **_CAMPAIGN_NET)
    p.run_until(lambda c: one_leader(c) and converged(c), 250,
                f"S{c.leader}'s first entry (its no-op) committed and applied on every server", COMMIT,
                **_CAMPAIGN_NET)
    old = c.leader
    p.settle()
    k = p.do("propose", ("set", "k", 1))
    f1, f2 = [i for i in c.nodes if i != old][:2]
    for f in (f1, f2):
        p.deliver("AppendEntries", old, f, " (the leader sends each follower the new entry)")
    for f in (f1, f2):
        p.deliver("AppendEntriesReply", f, old)
    leader = c.nodes[old]
    p.expect(leader.commit_index >= k.index, COMMIT,
             f"S{old}, leader of term {leader.current_term}, knows index {k.index} (its own term) is on "
             f"S{old}, S{f1} and S{f2}, a majority of five, yet its commit_index is {leader.commit_index}")
    p.do("crash", old)
    p.run_until(lambda c: c.leader is not None and c.leader != old, 250,
                "a new leader elected after the crash", ELECT, **_CAMPAIGN_NET)
    new = c.leader
    p.expect(c.nodes[new].log.term_at(k.index) == k.term, COMMIT,
             f"S{new} became leader without the committed entry k=1 at index {k.index}")
    lost = p.do("propose", ("set", "k", 2), node=new)
    p.do("crash", new)
    for env in list(c.flight.values()):
        if env.msg.src == new:
            p.do("drop", env.id)
    p.do("restart", old)
    p.run_until(lambda c: c.leader is not None and c.leader != new, 250,
                f"a leader elected after S{new} crashed too", ELECT, **_CAMPAIGN_NET)
    later = p.do("propose", ("set", "k", 3))
    p.do("restart", new)
    p.run_until(lambda c: c.status(later) == "committed" and converged(c), 250,
                "k=3 committed, and every log the same and committed", CONVERGE, **_CAMPAIGN_NET)
    p.expect(c.status(lost) == "lost", CONVERGE,
             f"k=2 reached only S{new}'s log before it crashed; it should be replaced ('lost'), but is "
             f"{c.status(lost)!r}")
    p.expect(all(n.kv == {"k": 3} for n in c.nodes.values()), CONVERGE,
             f"every server should end with k=3; got {[n.kv for n in c.nodes.values()]}")


# -- log compaction (section 7, Figure 13): the scenes of the "install_snapshot" grader ------

SNAP = "Log compaction (section 7): a follower whose next entries the leader compacted catches up from its snapshot"
STALE = ("InstallSnapshot, receiver rule 5 (Figure 13): a snapshot older than the server's own "
         "changes nothing")
KEEP = ("InstallSnapshot, receiver rule 6 (Figure 13): entries after a matching last included "
        "entry are kept")


def _deliver_all(p, keep=lambda env: True, drop=lambda env: False, limit=500):
    """Deliver every message in flight that ``keep`` accepts, dropping those ``drop`` names."""
    c = p.c
    for _ in range(limit):
        for env in list(c.flight.values()):
            if drop(env):
                p.do("drop", env.id)
        ready = [env for env in c.flight.values() if keep(env)]
        if not ready:
            return
        p.do("deliver", ready[0].id)
    p.fail("The network must settle", f"after {limit} deliveries messages were still flowing")


def _behind_snapshot(handlers, seed):
    """``rb.scenarios.follower_behind_snapshot``, replayed with the student's handler: S3 restarted
    holding index 1 only, and S1's InstallSnapshot up to index 4 is in flight to it."""
    base = named_scenarios.follower_behind_snapshot(seed=seed)
    return Cluster.from_trace(base.trace(), handlers=handlers)


def follower_behind_snapshot(handlers, seed):
    """A follower far behind a compacted leader installs its snapshot and catches up."""
    c = _behind_snapshot(handlers, seed)
    p = Play(c)
    yield p
    s3 = c.nodes[3]
    p.deliver("InstallSnapshot", 1, 3, " (S1 compacted the entries S3 needs)")
    p.expect(s3.snapshot_index == 4 and s3.log.last_index == 4, SNAP,
             f"S3, holding only index 1, got S1's snapshot up to index 4 (term 1); it should now hold "
             f"that snapshot and nothing after it, but has snapshot_index {s3.snapshot_index} and last "
             f"index {s3.log.last_index}")
    p.expect(dict(s3.kv) == {"x": 3} and s3.last_applied == 4 and s3.commit_index == 4, SNAP,
             f"S3's state machine should be the snapshot's (x = 3, last_applied = commit_index = 4); "
             f"it is {dict(s3.kv)}, last_applied {s3.last_applied}, commit_index {s3.commit_index}")
    p.deliver("InstallSnapshotReply", 3, 1)
    p.run_until(converged, 150, "S3 catching up with the entries after the snapshot (x = 5 everywhere)",
                SNAP, **_CAMPAIGN_NET)
    p.expect(all(dict(n.kv) == {"x": 5} for n in c.nodes.values()), SNAP,
             f"every server should end with x = 5; got {[dict(n.kv) for n in c.nodes.values()]}")
    p.do("crash", 3)
    p.do("restart", 3)
    p.run_until(lambda c: converged(c) and dict(c.nodes[3].kv) == {"x": 5}, 150,
                "S3, restarted, holding x = 5 again", SNAP, **_CAMPAIGN_NET)


def stale_snapshot(handlers, seed):
    """A duplicated InstallSnapshot arrives after the follower took a newer snapshot of its own."""
    c = _behind_snapshot(handlers, seed)
    p = Play(c)
    yield p
    snap = p.find("InstallSnapshot", 1, 3)
    late = p.do("duplicate", snap.id)
    others = lambda env: env.id != late.id  # noqa: E731
    _deliver_all(p, others)
    for v in (6, 7):
        p.do("propose", ("set", "x", v))
        _deliver_all(p, others)
    for _ in range(c.config.heartbeat_interval):
        p.do("tick")
    _deliver_all(p, others)
    s3 = c.nodes[3]
    p.expect(dict(s3.kv) == {"x": 7}, SNAP,
             f"S3 should have caught up (x = 7) after installing the snapshot; it holds {dict(s3.kv)}")
    if s3.last_applied > s3.snapshot_index:
        p.do("compact", 3)
    before = (s3.snapshot_index, s3.log.last_index, dict(s3.kv), s3.commit_index, s3.last_applied)
    p.do("deliver", late.id)
    after = (s3.snapshot_index, s3.log.last_index, dict(s3.kv), s3.commit_index, s3.last_applied)
    p.expect(after == before, STALE,
             f"S3 holds a snapshot up to index {before[0]} (x = 7); the late copy of S1's snapshot up "
             f"to index 4 should change nothing, but (snapshot index, last index, kv, commit index, "
             f"last applied) went from {before} to {after}")
    p.expect(p.find("InstallSnapshotReply", 3, 1) is not None, STALE,
             "S3 should still answer the late InstallSnapshot (Figure 13 replies to every snapshot)")
    p.run_until(lambda c: converged(c) and all(dict(n.kv) == {"x": 7} for n in c.nodes.values()), 150,
                "every server holding x = 7", SNAP, **_CAMPAIGN_NET)


def snapshot_keeps_suffix(handlers, seed):
    """A follower that already holds entries past the leader's snapshot keeps them (rule 6)."""
    c = Cluster(3, seed=seed, handlers=handlers)
    p = Play(c)
    yield p
    s1, s3 = c.nodes[1], c.nodes[3]
    p.do("timeout", 1)
    p.settle(until=lambda c: s1.role is Role.LEADER, what="S1 winning term 1")
    from_s3 = lambda env: env.msg.src == 3  # noqa: E731  S1 never hears from S3
    _deliver_all(p, drop=from_s3)
    for v in (1, 2, 3):
        p.do("propose", ("set", "x", v))
        _deliver_all(p, drop=from_s3)
    p.expect(s1.last_applied == 4, COMMIT,
             f"S1 and S2 hold entries 1-4 (S1's no-op and x = 1..3), a majority, yet S1 applied "
             f"{s1.last_applied} of them")
    to_s1 = lambda env: env.msg.dst == 1  # noqa: E731  now S1 hears nothing
    for v in (4, 5):
        p.do("propose", ("set", "x", v))
        _deliver_all(p, drop=to_s1)
    p.do("compact", 1)
    for _ in range(c.config.heartbeat_interval):
        p.do("tick")
    for env in list(c.flight.values()):
        if not (env.msg.dst == 3 and type(env.msg).__name__ == "InstallSnapshot"):
            p.do("drop", env.id)
    p.expect(s3.log.last_index == 6 and s3.snapshot_index == 0, KEEP,
             f"S3 should hold entries 1-6 before the snapshot arrives; it holds {s3.log}")
    p.deliver("InstallSnapshot", 1, 3, " (S1 never heard that S3 holds everything)")
    p.expect(s3.snapshot_index == 4 and s3.log.last_index == 6, KEEP,
             f"S3 held entries 1-6 when S1's snapshot up to index 4 (whose last entry S3 holds) arrived: "
             f"entries 5 and 6 must stay (S3 may already have acknowledged them), but S3 now has "
             f"snapshot_index {s3.snapshot_index} and last index {s3.log.last_index}")
    p.run_until(lambda c: converged(c) and all(dict(n.kv) == {"x": 5} for n in c.nodes.values()), 150,
                "every server holding x = 5", CONVERGE, **_CAMPAIGN_NET)


# -- persistence points (Figure 2, "before responding to RPCs"): the scenes of the
# "request_vote_persistent" grader, on servers with Config(persistence="explicit") --------

EXPLICIT = Config(persistence="explicit")
SAVED_VOTE = ("Figure 2: votedFor is persistent, saved before the vote is answered; a server that "
              "restarts must not vote again in the same term")
SAVED_TERM = ("Figure 2: currentTerm is persistent and increases monotonically; a term a reply "
              "announced must survive a crash")


def crash_between_reply_and_save(handlers, seed):
    """``rb.scenarios.crash_between_reply_and_save`` with the student's handler: S2 votes for S1,
    crashes with its reply on the wire and restarts; S3 asks for a vote in the same term."""
    c = Cluster(3, seed=seed, config=EXPLICIT, handlers=handlers)
    p = Play(c)
    yield p
    s2 = c.nodes[2]
    p.do("timeout", 1)
    p.deliver("RequestVote", 1, 2)
    p.expect(s2.voted_for == 1, ONE_VOTE,
             f"S2, which had not voted in term 1, should grant S1 its vote; voted_for = {s2.voted_for}")
    p.do("crash", 2)
    p.do("restart", 2)
    for env in list(c.flight.values()):
        if env.msg.dst == 3:
            p.do("drop", env.id)
    p.do("timeout", 3)
    p.expect(c.nodes[3].current_term == 1, SAVED_VOTE,
             f"S3 should have timed out into term 1; it is in term {c.nodes[3].current_term}")
    p.deliver("RequestVote", 3, 2, " (S3 asks S2 in the same term 1)")
    reply = p.find("RequestVoteReply", 2, 3)
    if reply is None:
        p.fail("Each request gets an answer (Figure 2: every RPC has a reply)",
               "S2 got S3's vote request but sent no reply")
    p.expect(not reply.msg.vote_granted, SAVED_VOTE,
             "S2 granted S1 its vote in term 1, answered, crashed and restarted; it then granted S3 "
             "a vote in the same term 1: the vote was answered before it was saved "
             f"(after the restart S2 had term {s2.current_term}, voted_for {s2.voted_for})")
    p.settle()
    p.run_until(one_leader, 250, "a leader elected after S2's restart", ELECT, **_CAMPAIGN_NET)


def refused_term_survives_crash(handlers, seed):
    """S2 refuses a candidate with a shorter log but adopts its newer term, crashes and restarts:
    the term must still be there."""
    logs = {1: _log(1), 2: _log(1), 3: []}
    c = Cluster.from_state({i: {"current_term": 1, "log": lg} for i, lg in logs.items()}, seed=seed,
                           config=EXPLICIT, handlers=handlers)
    p = Play(c)
    yield p
    s2 = c.nodes[2]
    p.do("timeout", 3)
    p.deliver("RequestVote", 3, 2, " (S3, with an empty log, asks in term 2)")
    reply = p.find("RequestVoteReply", 2, 3)
    if reply is None:
        p.fail("Each request gets an answer (Figure 2: every RPC has a reply)",
               "S2 got S3's vote request but sent no reply")
    p.expect(not reply.msg.vote_granted and reply.msg.term == 2, VOTE,
             f"S2 (log up to index 1, term 1) should refuse S3 (empty log) in term 2; it answered "
             f"term {reply.msg.term}, vote_granted={reply.msg.vote_granted}")
    p.do("crash", 2)
    p.do("restart", 2)
    p.expect(s2.current_term >= 2, SAVED_TERM,
             f"S2 answered S3 in term 2, then crashed and restarted in term {s2.current_term}: the "
             "term it adopted was not saved before the reply")
    p.run_until(lambda c: one_leader(c) and converged(c), 250,
                "a leader elected and every log the same", ELECT, **_CAMPAIGN_NET)


def figure7_explicit(handlers, seed):
    """Figure 7's election, every server saving its state explicitly."""
    return figure7(handlers, seed, config=EXPLICIT)


@dataclass(frozen=True)
class Scenario:
    key: str
    title: str
    script: object


SCENARIOS = (
    Scenario("split_vote", "split vote", split_vote),
    Scenario("figure7", "Figure 7", figure7),
    Scenario("figure8", "Figure 8", figure8),
    Scenario("partition_heals", "a partition that heals", partition_heals),
    Scenario("crash_after_submit", "leader crash after submit", crash_after_submit),
)


#: The scenes of the "install_snapshot" grader (the other graders play :data:`SCENARIOS`).
SNAPSHOT_SCENARIOS = (
    Scenario("follower_behind_snapshot", "a follower behind a compacted leader", follower_behind_snapshot),
    Scenario("stale_snapshot", "a stale snapshot after a newer one", stale_snapshot),
    Scenario("snapshot_keeps_suffix", "a snapshot behind the follower's log", snapshot_keeps_suffix),
)

#: The scenes of the "request_vote_persistent" grader.
PERSISTENCE_SCENARIOS = (
    Scenario("crash_between_reply_and_save", "a crash between the reply and the save",
             crash_between_reply_and_save),
    Scenario("refused_term_survives_crash", "a refused candidate's term survives a crash",
             refused_term_survives_crash),
    Scenario("figure7_explicit", "Figure 7, saving explicitly", figure7_explicit),
)

SCENARIOS_FOR = {"install_snapshot": SNAPSHOT_SCENARIOS, "request_vote_persistent": PERSISTENCE_SCENARIOS}


def register_scenarios(name: str, scenes) -> tuple:
    """Make ``scenes`` the scenes that grade the rule ``name`` (a grader module of its own, such
    as A6's, registers them when it is imported); returns them."""
    SCENARIOS_FOR[name] = tuple(scenes)
    return SCENARIOS_FOR[name]


def scenarios_for(name: str) -> tuple:
    """The scenes that grade the rule ``name``."""
    return SCENARIOS_FOR.get(name, SCENARIOS)


def play_scenario(scn: Scenario, name: str, fn, seed: int) -> Finding | None:
    gen = scn.script(handlers_for(name, fn), seed)
    try:
        p = next(gen)
    except HandlerError as exc:  # the scene's servers are set up with the handler already
        return Finding("scenarios", scn.title, HANDLER_RULE, f"while the scene was set up: {exc}.")
    try:
        for _ in gen:
            pass
    except Stop:
        return Finding("scenarios", scn.title, p.rule, f"{p.message}.",
                       trace=p.trace(), steps=p.steps())
    except Exception as exc:  # the handler broke a server's state so badly the run cannot go on
        return broken_finding("scenarios", scn.title, p, exc)
    return None


def broken_finding(layer, check, p, exc) -> Finding:
    try:
        trace = p.trace()
    except Exception:
        trace = None
    return Finding(layer, check, HANDLER_RULE,
                   f"the run could not go on: {type(exc).__name__}: {exc} (did the handler replace "
                   "a field of the node, such as its log, with something else?)", trace=trace)


def run_scenarios(name: str, fn, seed: int = 0) -> LayerResult:
    scenes = scenarios_for(name)
    result = LayerResult("scenarios", checks=len(scenes))
    for k, scn in enumerate(scenes):
        finding = play_scenario(scn, name, fn, seed * 100 + k + 1)
        if finding is not None:
            result.findings.append(finding)
    return result
