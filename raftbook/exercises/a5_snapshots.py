"""A5, log compaction: rule cases for the InstallSnapshot receiver (Figure 13, section 7).

One case per receiver rule of Figure 13 that a handler carries out (rules 2-4,
chunks, are the core's: raftbook sends a snapshot in one chunk and refuses
any other), plus the term rules every RPC shares and the boundary cases where
a snapshot ends inside a log the follower already holds.
"""
from __future__ import annotations

from ..core.messages import InstallSnapshot, InstallSnapshotReply
from ..core.roles import Role
from .rulecase import rule_case

H = "install_snapshot"
R1 = "InstallSnapshot, receiver rule 1 (Figure 13): reply immediately if term < currentTerm"
R5 = ("InstallSnapshot, receiver rule 5 (Figure 13): discard a snapshot whose last index is not "
      "past the one the server already has")
R6 = ("InstallSnapshot, receiver rule 6 (Figure 13): if an entry has the snapshot's last index and "
      "term, keep the entries that follow it and reply")
R7 = "InstallSnapshot, receiver rule 7 (Figure 13): otherwise discard the entire log"
R8 = ("InstallSnapshot, receiver rule 8 (Figure 13): reset the state machine using the snapshot's "
      "contents")
TERM = ("Rules for all servers (Figure 2): a message with a newer term makes the server adopt it "
        "and become a follower")
LEADER = ("A snapshot comes from the current leader (section 7): a candidate steps down, the "
          "election timer restarts, the sender is the leader")


def _data(**kv):
    return {"kv": [[k, v] for k, v in kv.items()], "results": []}


def _cmds(n):
    return [("set", "x", i) for i in range(1, n + 1)]


def _terms(node):
    return [e.term for e in node.log]


def _where(node):
    return (f"snapshot_index = {node.snapshot_index}, log.last_index = {node.log.last_index}, "
            f"entries held {[e.index for e in node.log]}")


@rule_case(H, R1)
def a_stale_leader_snapshot_is_refused(k):
    T = k.T
    k.given(f"S1 is a follower in term {T + 3} holding 2 committed entries; S2, a deposed leader of "
            f"term {T + 2}, sends a snapshot up to index 5")
    node = k.node(term=T + 3, log=[(T + 1, c) for c in _cmds(2)], commit_index=2)
    out = k.call(node, InstallSnapshot(2, 1, T + 2, 5, T + 2, _data(x=5)))
    k.reply(out, InstallSnapshotReply, 2, term=T + 3)
    k.expect(node.snapshot_index == 0 and node.log.last_index == 2,
             "the log untouched (no snapshot, 2 entries)", _where(node))
    k.expect(dict(node.kv) == {"x": 2} and node.commit_index == 2 and node.last_applied == 2,
             "the state machine untouched (x = 2, commit_index = last_applied = 2)",
             f"kv = {dict(node.kv)}, commit_index = {node.commit_index}, last_applied = {node.last_applied}")
    k.expect(node.current_term == T + 3, f"current_term to stay {T + 3}", f"{node.current_term}")


@rule_case(H, TERM)
def a_newer_term_is_adopted_first(k):
    T = k.T
    k.given(f"S1 is leader of term {T + 2} with 2 entries; S2, leader of term {T + 4}, sends a snapshot "
            f"up to index 3 (last term {T + 3})")
    node = k.node(term=T + 2, log=[T + 1, T + 2], role="leader", commit_index=1)
    out = k.call(node, InstallSnapshot(2, 1, T + 4, 3, T + 3, _data(x=3)))
    k.expect(node.current_term == T + 4 and node.role is Role.FOLLOWER,
             f"S1 to become a follower of term {T + 4}", f"{node.role.value} of term {node.current_term}")
    k.reply(out, InstallSnapshotReply, 2, term=T + 4, match_index=3)
    k.expect(node.leader_id == 2, "leader_id = 2", f"leader_id = {node.leader_id}")
    k.expect(node.snapshot_index == 3, "the snapshot installed (snapshot_index = 3)", _where(node))


@rule_case(H, LEADER)
def a_candidate_of_the_same_term_steps_down(k):
    T = k.T
    k.given(f"S1 is a candidate in term {T + 2} (election timer at 5 ticks); S2, leader of term {T + 2}, "
            f"sends a snapshot up to index 2")
    node = k.node(term=T + 2, log=[T + 1], role="candidate", election_elapsed=5)
    out = k.call(node, InstallSnapshot(2, 1, T + 2, 2, T + 1, _data(x=2)))
    k.reply(out, InstallSnapshotReply, 2, term=T + 2, match_index=2)
    k.expect(node.role is Role.FOLLOWER and node.leader_id == 2,
             "S1 to become a follower of S2 (leader_id = 2)",
             f"{node.role.value}, leader_id = {node.leader_id}")
    k.expect(node.election_elapsed == 0, "the election timer restarted (election_elapsed = 0)",
             f"election_elapsed = {node.election_elapsed}")


@rule_case(H, R5)
def an_older_snapshot_is_discarded(k):
    T = k.T
    k.given(f"S1, follower in term {T + 1}, holds a snapshot up to index 4 and entry 5 (x = 5, all "
            f"applied); a late InstallSnapshot up to index 2 arrives")
    node = k.node(term=T + 1, log=[(T + 1, c) for c in _cmds(5)], commit_index=5, snapshot=4)
    data = dict(node.snapshot_data)
    out = k.call(node, InstallSnapshot(2, 1, T + 1, 2, T + 1, _data(x=2)))
    k.reply(out, InstallSnapshotReply, 2, term=T + 1)
    k.expect(node.snapshot_index == 4 and node.log.last_index == 5,
             "the newer snapshot and entry 5 kept (snapshot_index = 4, last index 5)", _where(node))
    k.expect(dict(node.kv) == {"x": 5} and node.last_applied == 5 and node.commit_index == 5,
             "the state machine unchanged (x = 5, last_applied = commit_index = 5)",
             f"kv = {dict(node.kv)}, last_applied = {node.last_applied}, commit_index = {node.commit_index}")
    k.expect(node.snapshot_data == data, "snapshot_data unchanged", f"{node.snapshot_data}")


@rule_case(H, R6)
def a_matching_last_entry_keeps_what_follows(k):
    T = k.T
    k.given(f"S1, follower in term {T + 2}, holds terms [{T + 1}, {T + 1}, {T + 1}, {T + 2}, {T + 2}] "
            f"(2 committed); a snapshot up to index 3 (term {T + 1}) arrives")
    node = k.node(term=T + 2, log=[(t, c) for t, c in zip([T + 1] * 3 + [T + 2] * 2, _cmds(5))],
                  commit_index=2)
    out = k.call(node, InstallSnapshot(2, 1, T + 2, 3, T + 1, _data(x=3)))
    k.reply(out, InstallSnapshotReply, 2, term=T + 2, match_index=3)
    k.expect(node.snapshot_index == 3 and node.log.last_index == 5 and [e.index for e in node.log] == [4, 5],
             "entries 4 and 5 kept after a snapshot up to 3 (they may already count towards a "
             "commit the leader made)", _where(node))
    k.expect(node.log.snapshot_term == T + 1, f"snapshot_term = {T + 1}", f"{node.log.snapshot_term}")


@rule_case(H, R7)
def a_short_log_is_replaced(k):
    T = k.T
    k.given(f"S1, follower in term {T + 1}, holds 2 entries; a snapshot up to index 4 (term {T + 1}) "
            "arrives")
    node = k.node(term=T + 1, log=[T + 1, T + 1])
    out = k.call(node, InstallSnapshot(2, 1, T + 1, 4, T + 1, _data(x=4)))
    k.reply(out, InstallSnapshotReply, 2, term=T + 1, match_index=4)
    k.expect(node.snapshot_index == 4 and node.log.last_index == 4 and len(node.log) == 0,
             "an empty log after a snapshot up to index 4", _where(node))


@rule_case(H, R7)
def a_conflicting_log_is_discarded_entirely(k):
    T = k.T
    k.given(f"S1, follower in term {T + 3}, holds terms [{T + 1}] * 4; a snapshot up to index 3 with "
            f"last term {T + 2} arrives: S1's entry 3 has another term")
    node = k.node(term=T + 3, log=[T + 1] * 4)
    out = k.call(node, InstallSnapshot(2, 1, T + 3, 3, T + 2, _data(x=3)))
    k.reply(out, InstallSnapshotReply, 2, term=T + 3, match_index=3)
    k.expect(node.snapshot_index == 3 and node.log.snapshot_term == T + 2 and len(node.log) == 0,
             f"every entry discarded (entry 4 follows a conflicting entry), snapshot (3, term {T + 2})",
             _where(node) + f", snapshot_term = {node.log.snapshot_term}")


@rule_case(H, R8)
def the_state_machine_is_reset_from_the_snapshot(k):
    T = k.T
    k.given(f"S1, follower in term {T + 1}, applied set x=1 (index 1); a snapshot up to index 4 holding "
            "x = 4, y = 'b' arrives")
    node = k.node(term=T + 1, log=[(T + 1, ("set", "x", 1))], commit_index=1)
    data = _data(x=4, y="b")
    k.call(node, InstallSnapshot(2, 1, T + 1, 4, T + 1, data))
    k.expect(dict(node.kv) == {"x": 4, "y": "b"}, "kv = {'x': 4, 'y': 'b'} (the snapshot's state)",
             f"kv = {dict(node.kv)}")
    k.expect(node.last_applied == 4 and node.commit_index == 4,
             "last_applied = commit_index = 4 (the snapshot holds committed entries only)",
             f"last_applied = {node.last_applied}, commit_index = {node.commit_index}")
    got = node.snapshot_data or {}
    k.expect([list(p) for p in got.get("kv", ())] == data["kv"],
             "node.snapshot_data to hold the snapshot (kv pairs), for a restart and for later "
             "followers", f"snapshot_data = {node.snapshot_data}")


@rule_case(H, R8)
def a_snapshot_behind_what_was_applied_rolls_nothing_back(k):
    T = k.T
    k.given(f"S1, follower in term {T + 1}, applied 6 entries (set x = 1..6); a snapshot up to index 4 "
            "(x = 4, its entry 4 matches) arrives")
    node = k.node(term=T + 1, log=[(T + 1, c) for c in _cmds(6)], commit_index=6)
    out = k.call(node, InstallSnapshot(2, 1, T + 1, 4, T + 1, _data(x=4)))
    k.reply(out, InstallSnapshotReply, 2, term=T + 1)
    k.expect(dict(node.kv) == {"x": 6} and node.last_applied == 6 and node.commit_index == 6,
             "the state machine kept (x = 6, last_applied = commit_index = 6): applied entries are "
             "never undone", f"kv = {dict(node.kv)}, last_applied = {node.last_applied}, "
             f"commit_index = {node.commit_index}")
    k.expect(node.log.last_index == 6, "entries 5 and 6 kept", _where(node))


@rule_case(H, R8)
def a_snapshot_one_entry_past_what_was_applied(k):
    T = k.T
    k.given(f"S1, follower in term {T + 1}, applied 3 entries (x = 3); a snapshot up to index 4 "
            "(x = 4) arrives: one entry past what S1 applied")
    node = k.node(term=T + 1, log=[(T + 1, c) for c in _cmds(3)], commit_index=3)
    out = k.call(node, InstallSnapshot(2, 1, T + 1, 4, T + 1, _data(x=4)))
    k.reply(out, InstallSnapshotReply, 2, term=T + 1, match_index=4)
    k.expect(dict(node.kv) == {"x": 4} and node.last_applied == 4 and node.commit_index == 4,
             "kv = {'x': 4}, last_applied = commit_index = 4",
             f"kv = {dict(node.kv)}, last_applied = {node.last_applied}, commit_index = {node.commit_index}")
