"""The pure judgements alone: majorities (core/quorum.py) and the five properties (check/properties.py)."""
from __future__ import annotations

import itertools

from raftbook.check import properties as p
from raftbook.core.quorum import is_majority, majority, majority_index, replicas


def test_majority_sizes():
    assert [majority(n) for n in range(1, 8)] == [1, 2, 2, 3, 3, 4, 4]
    assert is_majority(3, 5) and not is_majority(2, 4) and is_majority(1, 1)


def test_majority_index_matches_counting_every_candidate_n():
    for last in range(0, 4):
        for matches in itertools.product(range(0, 4), repeat=2):
            counted = max((n for n in range(1, last + 1)
                           if 1 + sum(m >= n for m in matches) >= 2), default=0)
            assert majority_index(last, matches, 2) == counted
            assert replicas(counted, last, matches) >= (2 if counted else 0)


def test_each_property_holds_or_says_what_broke():
    assert p.election_safety(2, None, 1) is None and p.election_safety(2, 1, 1) is None
    assert "S1 and S3 were both leader in term 2" in str(p.election_safety(2, 1, 3))
    assert p.leader_append_only(1, 2, 3, 4, False) is None
    assert p.leader_append_only(1, 2, 3, 2, False).property == "leader_append_only"
    assert p.entry_conflict(2, 1, (1, "a", 1), (2, "a", 1)) is None
    assert "different commands" in str(p.entry_conflict(2, 1, (1, "a", 1), (2, "b", 1)))
    assert p.logs_disagree(1, [(1, "a"), (2, "b")], 2, [(1, "a")]) is None
    v = p.logs_disagree(1, [(1, "a"), (2, "b")], 2, [(1, "x"), (2, "b")])
    assert v.property == "log_matching" and v.index == 1
    assert p.leader_completeness(1, 1, 1, 2, 2, 1) is None
    assert p.leader_completeness(1, 1, 2, 2, 2, None) is None  # committed in the leader's own term
    assert "has no entry there" in str(p.leader_completeness(1, 1, None, 2, 3, None, seen_on=1))
    assert p.state_machine_safety(1, (1, 1, "a"), (2, 1, "a")) is None
    assert p.state_machine_safety(1, (None, 1, "a"), (2, 1, "b")).nodes == (2,)
