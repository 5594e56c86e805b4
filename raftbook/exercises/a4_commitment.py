"""A4, commitment: rule cases for advancing the leader's commit index (5.3, 5.4.2, Figure 8)
and for applying committed entries to the state machine exactly once, in order.
"""
from __future__ import annotations

from .rulecase import rule_case

H = "advance_commit_index"
MAJORITY = "Commit rule (Figure 2, leaders): commit N when a majority has matchIndex >= N"
CURRENT = "Current-term rule (section 5.4.2, Figure 8): count replicas only for entries of the current term"
MONOTONE = "Commit index only grows"
QUORUM = "A majority counts the leader itself and is more than half of all servers"


@rule_case(H, MAJORITY)
def commits_what_a_majority_holds(k):
    T = k.T
    k.given(f"S1, leader of term {T + 2} of three, holds 2 entries (the last of term {T + 2}); S2 holds "
            "both (match_index[2] = 2)")
    node = k.node(term=T + 2, log=[T + 1, T + 2], role="leader", match_index={2: 2, 3: 0})
    k.call(node)
    k.expect(node.commit_index == 2, "commit_index = 2 (S1 and S2 are a majority of three)",
             f"commit_index = {node.commit_index}")


@rule_case(H, CURRENT)
def does_not_commit_an_earlier_term_by_counting(k):
    T = k.T
    k.given(f"S1, leader of term {T + 3} of five, has log terms [{T + 1}, {T + 2}, {T + 3}]; S2 and S3 "
            f"hold index 2 (term {T + 2}) but not index 3")
    node = k.node(n=5, term=T + 3, log=[T + 1, T + 2, T + 3], role="leader", commit_index=1,
                  match_index={2: 2, 3: 2, 4: 0, 5: 0})
    k.call(node)
    k.expect(node.commit_index == 1, f"commit_index to stay 1: index 2 is from term {T + 2}, and an "
             "entry of an earlier term can be on a majority yet still be overwritten (Figure 8)",
             f"commit_index = {node.commit_index}")


@rule_case(H, CURRENT)
def a_current_term_entry_commits_everything_before_it(k):
    T = k.T
    k.given(f"As above, but S2 and S3 now hold index 3 (term {T + 3}) as well")
    node = k.node(n=5, term=T + 3, log=[T + 1, T + 2, T + 3], role="leader", commit_index=1,
                  match_index={2: 3, 3: 3, 4: 0, 5: 0})
    k.call(node)
    k.expect(node.commit_index == 3, "commit_index = 3 (index 2 commits with it)",
             f"commit_index = {node.commit_index}")


@rule_case(H, MAJORITY)
def no_commit_without_a_majority(k):
    T = k.T
    k.given(f"S1, leader of term {T + 1} of five, holds 3 entries; only S2 has them too")
    node = k.node(n=5, term=T + 1, log=[T + 1] * 3, role="leader", match_index={2: 3, 3: 0, 4: 0, 5: 0})
    k.call(node)
    k.expect(node.commit_index == 0, "commit_index to stay 0 (2 of 5 is not a majority)",
             f"commit_index = {node.commit_index}")


@rule_case(H, QUORUM)
def half_is_not_a_majority(k):
    T = k.T
    k.given(f"S1, leader of term {T + 1} of four, holds 2 entries; S2 has them too (2 of 4 servers)")
    node = k.node(n=4, term=T + 1, log=[T + 1] * 2, role="leader", match_index={2: 2, 3: 0, 4: 0})
    k.call(node)
    k.expect(node.commit_index == 0, "commit_index to stay 0: 2 of 4 is half, not a majority (3 needed)",
             f"commit_index = {node.commit_index}")


@rule_case(H, QUORUM)
def the_leader_counts_itself(k):
    T = k.T
    k.given(f"S1, leader of term {T + 1} of five, holds 2 entries; S2 and S3 have them too")
    node = k.node(n=5, term=T + 1, log=[T + 1] * 2, role="leader", match_index={2: 2, 3: 2, 4: 0, 5: 0})
    k.call(node)
    k.expect(node.commit_index == 2, "commit_index = 2 (S1, S2 and S3 are 3 of 5)",
             f"commit_index = {node.commit_index}")


@rule_case(H, MAJORITY)
def commits_the_highest_index_a_majority_holds(k):
    T = k.T
    k.given(f"S1, leader of term {T + 1} of three, holds 4 entries; S2 holds 3 of them, S3 holds 1")
    node = k.node(term=T + 1, log=[T + 1] * 4, role="leader", match_index={2: 3, 3: 1})
    k.call(node)
    k.expect(node.commit_index == 3, "commit_index = 3", f"commit_index = {node.commit_index}")


@rule_case(H, MONOTONE)
def a_new_leader_keeps_the_commit_index(k):
    T = k.T
    k.given(f"S1 just became leader of term {T + 2} of three; it knew entries 1-2 were committed and no "
            "follower has answered yet (match_index all 0)")
    node = k.node(term=T + 2, log=[T + 1, T + 1, T + 2], role="leader", commit_index=2)
    k.call(node)
    k.expect(node.commit_index == 2, "commit_index to stay 2", f"commit_index = {node.commit_index}")


@rule_case(H, QUORUM)
def a_single_server_commits_alone(k):
    T = k.T
    k.given(f"S1 is the only server and leader of term {T + 1}; it holds 1 entry")
    node = k.node(n=1, term=T + 1, log=[T + 1], role="leader")
    k.call(node)
    k.expect(node.commit_index == 1, "commit_index = 1 (one server is a majority of one)",
             f"commit_index = {node.commit_index}")


# -- applying committed entries ---------------------------------------------------------

A = "apply_committed"
APPLY = "State machine (Figure 2, all servers): apply entries lastApplied+1..commitIndex, in order, once each"


class _Recorder(dict):
    """A key-value store that remembers every change made to it, in order."""

    def __init__(self, *args):
        super().__init__(*args)
        self.ops = []

    def __setitem__(self, key, value):
        self.ops.append(("set", key, value))
        super().__setitem__(key, value)

    def pop(self, key, *default):
        self.ops.append(("delete", key))
        return super().pop(key, *default)

    def __delitem__(self, key):
        self.ops.append(("delete", key))
        super().__delitem__(key)


def _cmds(n):
    return [("set", "x", i) for i in range(1, n + 1)]


@rule_case(A, APPLY)
def applies_committed_entries_in_order(k):
    T = k.T
    k.given("S1 has 3 committed entries (set x=1, set x=2, set x=3), none applied yet")
    node = k.node(term=T + 1, log=[(T + 1, c) for c in _cmds(3)], commit_index=3, last_applied=0)
    node.kv = _Recorder()
    k.call(node)
    k.expect(node.kv.ops == list(_cmds(3)), "set x=1, then set x=2, then set x=3, once each",
             f"{node.kv.ops}")
    k.expect(node.last_applied == 3, "last_applied = 3", f"last_applied = {node.last_applied}")
    k.expect(node.results.get(3) == 3, "node.results[3] = 3 (the result of applying entry 3)",
             f"node.results = {node.results}")


@rule_case(A, APPLY)
def applies_only_what_is_new(k):
    T = k.T
    k.given("S1 applied entries 1-2 already; entries 3-4 are now committed too")
    node = k.node(term=T + 1, log=[(T + 1, c) for c in _cmds(4)], commit_index=2)
    node.kv = _Recorder(node.kv)
    node.commit_index = 4
    k.call(node)
    k.expect(node.kv.ops == list(_cmds(4))[2:], "only set x=3 and set x=4 applied (entries 1-2 were "
             "applied before: applying them twice repeats their effects)", f"{node.kv.ops}")
    k.expect(node.last_applied == 4, "last_applied = 4", f"last_applied = {node.last_applied}")


@rule_case(A, APPLY)
def does_not_apply_past_the_commit_index(k):
    T = k.T
    k.given("S1 holds 4 entries; entries 1-2 are committed, 3-4 are not")
    node = k.node(term=T + 1, log=[(T + 1, c) for c in _cmds(4)], commit_index=2, last_applied=0)
    node.kv = _Recorder()
    k.call(node)
    k.expect(node.kv.ops == list(_cmds(2)), "only set x=1 and set x=2 applied", f"{node.kv.ops}")
    k.expect(node.last_applied == 2, "last_applied = 2", f"last_applied = {node.last_applied}")


@rule_case(A, APPLY)
def no_op_entries_are_applied_too(k):
    T = k.T
    k.given("S1's committed log is [set x=1, a leader's no-op, set x=2], none applied yet")
    node = k.node(term=T + 1, log=[(T + 1, ("set", "x", 1)), T + 1, (T + 1, ("set", "x", 2))],
                  commit_index=3, last_applied=0)
    node.kv = _Recorder()
    k.call(node)
    k.expect(node.kv.ops == [("set", "x", 1), ("set", "x", 2)] and node.last_applied == 3,
             "set x=1, then set x=2, and last_applied = 3 (a no-op changes nothing but is applied)",
             f"{node.kv.ops}, last_applied = {node.last_applied}")
