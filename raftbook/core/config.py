"""Cluster timing parameters, in ticks."""
from __future__ import annotations

from dataclasses import asdict, dataclass, fields

from ..errors import InvalidArgument


def _is_int(x) -> bool:
    return isinstance(x, int) and not isinstance(x, bool)


#: The ways a server keeps its persistent state (see Config.persistence).
PERSISTENCE = ("auto", "explicit")
#: Fields added after the first round, with their defaults (left out of to_dict when default).
_LATER_DEFAULTS = {"snapshot_threshold": None, "persistence": "auto", "membership": "single",
                   "membership_fix": True, "pre_vote": False, "check_quorum": False}


@dataclass(frozen=True)
class Config:
    """Timing of a cluster.

    election_timeout: inclusive (lo, hi) tick range; each timer reset draws a new
        value from it (150-300 ms at the default 10 ms per tick, as in the paper).
    heartbeat_interval: ticks between a leader's AppendEntries rounds.
    tick_ms: milliseconds per tick, for display only.
    max_entries: cap on entries per AppendEntries (None: the whole tail).
    snapshot_threshold: a server that has applied this many entries past its last
        snapshot compacts its log (at its next tick); None never does (section 7).
    persistence: "auto" (every change is on stable storage at once) or "explicit"
        (a crash keeps only what the server last saved with ``node.persist()``).
    membership: "single" (one server added or removed at a time, Ongaro's thesis
        section 4) or "joint" (the paper's joint consensus, section 6).
    membership_fix: a leader commits an entry of its own term before it changes
        the configuration (the fix of the bug reported in 2015); False drops it.
    pre_vote: a server asks in a pre-vote round whether it could win before it
        raises its term (thesis section 9.6).
    check_quorum: a leader that has not heard from a majority within an election
        timeout steps down (thesis section 6.2).
    """

    election_timeout: tuple = (15, 30)
    heartbeat_interval: int = 5
    tick_ms: int = 10
    max_entries: int | None = None
    snapshot_threshold: int | None = None
    persistence: str = "auto"
    membership: str = "single"
    membership_fix: bool = True
    pre_vote: bool = False
    check_quorum: bool = False

    def __post_init__(self):
        et = self.election_timeout
        if isinstance(et, list):
            et = tuple(et)
            object.__setattr__(self, "election_timeout", et)
        if not (isinstance(et, tuple) and len(et) == 2 and all(_is_int(x) for x in et)):
            raise InvalidArgument(
                f"election_timeout must be a pair of whole tick counts (lo, hi), got {et!r}")
        lo, hi = et
        if not 1 <= lo <= hi:
            raise InvalidArgument(
                f"election_timeout must satisfy 1 <= lo <= hi, got {et!r}")
        if not _is_int(self.heartbeat_interval) or self.heartbeat_interval < 1:
            raise InvalidArgument(
                f"heartbeat_interval must be a whole number of ticks >= 1, got {self.heartbeat_interval!r}")
        if self.heartbeat_interval >= lo:
            raise InvalidArgument(
                f"heartbeat_interval ({self.heartbeat_interval}) must be shorter than the "
                f"shortest election timeout ({lo}), or followers would time out on a healthy leader")
        if not _is_int(self.tick_ms) or self.tick_ms < 1:
            raise InvalidArgument(f"tick_ms must be a whole number >= 1, got {self.tick_ms!r}")
        if self.max_entries is not None and (not _is_int(self.max_entries) or self.max_entries < 1):
            raise InvalidArgument(f"max_entries must be None or a whole number >= 1, got {self.max_entries!r}")
        st = self.snapshot_threshold
        if st is not None and (not _is_int(st) or st < 1):
            raise InvalidArgument(f"snapshot_threshold must be None (never compact) or a whole number "
                                  f"of applied entries >= 1, got {st!r}")
        if self.persistence not in PERSISTENCE:
            raise InvalidArgument(f"persistence must be 'auto' (everything saved at once) or 'explicit' "
                                  f"(only what node.persist() saved survives a crash), got "
                                  f"{self.persistence!r}")
        if self.membership not in ("single", "joint"):
            raise InvalidArgument(f"membership is 'single' (one server at a time) or 'joint' (joint "
                                  f"consensus), got {self.membership!r}")
        for name in ("membership_fix", "pre_vote", "check_quorum"):
            if not isinstance(getattr(self, name), bool):
                raise InvalidArgument(f"{name} is True or False, got {getattr(self, name)!r}")

    def to_dict(self) -> dict:
        d = asdict(self)
        d["election_timeout"] = list(self.election_timeout)
        for name, default in _LATER_DEFAULTS.items():  # traces of a default config stay as before
            if d[name] == default:
                del d[name]
        return d

    @classmethod
    def from_dict(cls, data) -> "Config":
        if not isinstance(data, dict):
            raise InvalidArgument(f"a config must be a JSON object, got {type(data).__name__}")
        unknown = set(data) - {f.name for f in fields(cls)}
        if unknown:
            raise InvalidArgument(f"unknown config fields {sorted(unknown)}")
        return cls(**data)
