"""Explicit persistence: a crash keeps only what a server saved with ``node.persist()``.

With ``Config(persistence="auto")`` (the default) nothing changes: every change
is on stable storage at once and ``persist()`` does nothing. With "explicit",
the reference rules save before every reply; a rule that answers first can
forget a vote or an entry across a crash, and the checker, the explorer and
campaigns find the consequence.
"""
import pytest

import raftbook as rb
from raftbook.core import rules
from raftbook.roles import Role
from raftbook.scenarios import vote_without_saving

EXPLICIT = rb.Config(persistence="explicit")
RV, AE, E = rb.RequestVote, rb.AppendEntries, rb.Entry


def append_without_saving(node, msg):
    """The reference AppendEntries rule with its saves taken out: it answers first."""
    node.persist = _nothing
    try:
        return rules.handle_append_entries(node, msg)
    finally:
        del node.persist


def _nothing():
    return None


def test_auto_mode_saves_everything_and_persist_does_nothing(raft):
    node = raft.make_node(1, term=3, log=[1, 2])
    node.persist()
    assert node._saved is None and node.unsaved == []
    node.voted_for = 2
    node.restart()
    assert (node.current_term, node.voted_for, node.log.last_index) == (3, 2, 2)


def test_explicit_restart_brings_back_only_what_was_saved(raft):
    node = raft.make_node(1, config=EXPLICIT)
    node.current_term, node.voted_for = 2, 3
    node.log.append(E(1, 2, ("set", "x", 1)))
    assert node.unsaved == ["current_term", "voted_for", "log"]
    assert node.saved == {"current_term": 0, "voted_for": None, "last_index": 0, "snapshot_index": 0}
    node.persist()
    assert node.saved["last_index"] == 1
    assert node.unsaved == [] and "state_saved" in raft.codes(node)
    node.current_term, node.voted_for = 4, None
    node.log.append(E(2, 4))
    node.restart()
    assert (node.current_term, node.voted_for, node.log.last_index) == (2, 3, 1)
    assert raft.codes(node)[0] == "unsaved_state_lost"


@pytest.mark.parametrize("msg", [
    RV(2, 1, 3, 0, 0),                         # vote granted in a new term
    RV(2, 1, 3, 0, 0),
    AE(2, 1, 2, 0, 0, (E(1, 2),), 0),          # entries appended
    AE(2, 1, 4, 5, 1, (), 0),                  # refused, but the new term was adopted
    rb.InstallSnapshot(2, 1, 2, 3, 1, {"kv": [["x", 3]]}),
])
def test_reference_rules_save_before_replying(raft, msg):
    node = raft.make_node(1, config=EXPLICIT)
    node.persist()
    out = node.step(msg)
    assert out and node.unsaved == []


def test_a_node_saves_its_candidacy_and_its_leadership(raft):
    node = raft.make_node(1, n=1, config=EXPLICIT)
    node.timeout()                 # a one-server cluster: candidate and leader at once
    assert node.role is Role.LEADER and node.unsaved == []
    node.propose(("set", "x", 1))
    assert node.unsaved == [] and node.commit_index == 2


def test_crash_between_reply_and_save_breaks_election_safety():
    c = rb.scenarios.crash_between_reply_and_save(saves_first=False)
    v = c.violation
    assert v is not None and v.property == "election_safety"
    crash = next(ev for ev in c.history if ev.kind == "crash")
    assert "before saving its term and vote" in crash.summary
    codes = [r.code for r in c.reasons()]
    assert "replied_before_saving" in codes and "unsaved_state_lost" in codes


def test_with_the_reference_rule_the_vote_survives_the_crash():
    c = rb.scenarios.crash_between_reply_and_save()
    assert c.violation is None
    assert c.nodes[2].voted_for == 1 and c.nodes[3].role is not Role.LEADER
    assert not [r for r in c.reasons() if r.code == "unsaved_state_lost"]


def test_explicit_traces_replay_and_undo_across_a_crash():
    c = rb.scenarios.crash_between_reply_and_save()
    data = c.trace()
    assert data["config"]["persistence"] == "explicit"
    assert rb.Cluster.from_trace(data).fingerprint() == c.fingerprint()
    bad = rb.scenarios.crash_between_reply_and_save(saves_first=False)
    again = rb.Cluster.from_trace(bad.trace(), handlers={"request_vote": vote_without_saving})
    assert again.fingerprint() == bad.fingerprint() and again.violation is not None
    fp = c.fingerprint()
    c.crash(3)
    c.restart(3)
    c.undo()
    c.undo()
    assert c.fingerprint() == fp


def test_explore_finds_the_double_vote_of_a_rule_that_answers_before_saving():
    r = rb.explore(3, max_term=1, max_log=1, max_in_flight=4, persistence="explicit",
                   handlers={"request_vote": vote_without_saving},
                   events=("timeout", "deliver", "crash", "restart"), progress=False)
    assert r.violation is not None and r.violation.property == "election_safety"
    assert "crash S" in " ".join(r.steps()) and r.cluster().violation is not None


def test_explore_reference_rules_with_explicit_persistence_and_crashes():
    r = rb.explore(3, max_term=2, max_log=2, max_in_flight=3, persistence="explicit",
                   events=("timeout", "deliver", "heartbeat", "propose", "crash", "restart"),
                   max_states=20_000, progress=False)
    assert r.ok and r.bounds["persistence"] == "explicit"


def test_campaign_with_crashes_finds_a_lost_committed_entry():
    cfg = rb.Config(election_timeout=(10, 20), heartbeat_interval=3, persistence="explicit")
    r = rb.campaign(range(10, 20), n=3, steps=100, config=cfg, workers=1, progress=False,
                    handlers={"append_entries": append_without_saving})
    assert not r.ok
    props = set(r.table.loc[r.failures, "property"])
    assert props & {"leader_completeness", "state_machine_safety", "log_matching"}


def test_campaign_reference_rules_with_explicit_persistence_is_clean():
    cfg = rb.Config(election_timeout=(10, 20), heartbeat_interval=3, persistence="explicit",
                    snapshot_threshold=4)
    assert rb.campaign(12, n=5, config=cfg, workers=1, progress=False).ok
