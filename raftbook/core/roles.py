"""The three roles of a Raft server."""
from enum import StrEnum


class Role(StrEnum):
    FOLLOWER = "follower"
    CANDIDATE = "candidate"
    LEADER = "leader"
