"""Majorities: how many servers make one, and what a majority holds.

Pure arithmetic over server counts and match indexes, with no node in sight,
so the vote count, the commit rule and the safety checks all agree on what
"a majority" means (Figure 2 and §5.2-§5.3 of the Raft paper).
"""
from __future__ import annotations


def majority(cluster_size: int) -> int:
    """The fewest servers that form a majority of ``cluster_size``: any two such sets meet."""
    return cluster_size // 2 + 1


def is_majority(count: int, cluster_size: int) -> bool:
    """Do ``count`` servers (votes, acknowledgements) form a majority of the cluster?"""
    return count >= cluster_size // 2 + 1


def replicas(index: int, own_last_index: int, match_indexes) -> int:
    """How many servers hold ``index``: the leader (up to its last index) and each follower
    whose match index reaches it."""
    count = 1 if own_last_index >= index else 0
    for m in match_indexes:
        if m >= index:
            count += 1
    return count


def majority_index(own_last_index: int, match_indexes, quorum: int) -> int:
    """The highest index a majority (``quorum`` servers) holds, counting the leader's own log.

    This is the N of the leaders' commit rule: every index up to it is on at least
    ``quorum`` servers. Never more than the leader's own last index.
    """
    held = sorted([own_last_index, *match_indexes], reverse=True)  # the leader holds its log
    if quorum > len(held):
        return 0
    return min(held[quorum - 1], own_last_index)
