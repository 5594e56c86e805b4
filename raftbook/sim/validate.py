"""Checks of what a user passes to a cluster, done before anything changes.

Every check raises an error that says in plain words what was wrong and what to
do, and returns the cleaned value when the input is good.
"""
from __future__ import annotations

from ..core.config import Config
from ..core.membership import validate_entry_command
from ..core.messages import Entry, command_to_json
from ..core.node import _is_int
from ..core.rules import resolve_handlers
from ..errors import InvalidArgument, InvalidState, RaftbookError, UnknownMessage, UnknownNode

MAX_NODES = 15
_STATE_FIELDS = {"current_term", "voted_for", "log", "commit_index"}


def check_cluster_args(n, seed, config, handlers) -> Config:
    """The cluster's Config, once ``n``, ``seed``, ``config`` and ``handlers`` are all valid."""
    if not _is_int(n) or not 1 <= n <= MAX_NODES:
        raise InvalidArgument(f"a cluster has 1 to {MAX_NODES} servers; got n={n!r}")
    if not _is_int(seed):
        raise InvalidArgument(f"seed must be a whole number (it makes runs repeatable); got {seed!r}")
    if config is None:
        config = Config()
    elif isinstance(config, dict):
        config = Config.from_dict(config)
    elif not isinstance(config, Config):
        raise InvalidArgument(f"config must be a raftbook.Config (or None); got {type(config).__name__}")
    resolve_handlers(handlers)  # validate before building anything
    return config


def check_node(i, nodes) -> int:
    """``i`` if it names a server in ``nodes``; else UnknownNode saying which exist."""
    if not _is_int(i) or i not in nodes:
        n = len(nodes)
        raise UnknownNode(f"there is no server {i!r}: this cluster has servers "
                          f"1..{n} (S1..S{n})")
    return i


def check_msg(msg_id, flight) -> int:
    """``msg_id`` if that message is in ``flight``; else UnknownMessage listing what is."""
    if not _is_int(msg_id) or msg_id not in flight:
        ids = list(flight)
        hint = f"messages in flight: {ids[:20]}{' ...' if len(ids) > 20 else ''}" if ids \
            else "no messages are in flight"
        raise UnknownMessage(f"no message {msg_id!r} is in flight ({hint}); it may have been "
                             "delivered or dropped already")
    return msg_id


def check_running(i: int, crashed, action: str) -> None:
    if i in crashed:
        raise InvalidState(f"S{i} is crashed and cannot {action}; restart it first (c.restart({i}))")


def check_count(name: str, value) -> int:
    """A number of ticks: a whole number >= 0."""
    if not _is_int(value) or value < 0:
        raise InvalidArgument(f"{name} must be a whole number >= 0; got {value!r}")
    return value


def check_network(latency, drop_rate, duplicate_rate) -> dict:
    """Validated network options as stored in a run's args; InvalidArgument otherwise."""
    if isinstance(latency, list):
        latency = tuple(latency)
    if not (isinstance(latency, tuple) and len(latency) == 2 and all(_is_int(x) for x in latency)
            and 1 <= latency[0] <= latency[1]):
        raise InvalidArgument(f"latency must be a pair of whole tick counts (lo, hi) with "
                              f"1 <= lo <= hi; got {latency!r}")
    # drop_rate may be 1 (a network that loses everything); duplicate_rate must stay
    # below 1, or every delivery would copy the message again, forever.
    for name, p in (("drop_rate", drop_rate), ("duplicate_rate", duplicate_rate)):
        if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
            raise InvalidArgument(f"{name} is a probability in [0, 1]; got {p!r}")
    if duplicate_rate == 1:
        raise InvalidArgument("duplicate_rate must be below 1: at 1 every delivery would "
                              "copy the message again, forever")
    return {"latency": list(latency), "drop_rate": float(drop_rate),
            "duplicate_rate": float(duplicate_rate)}


def check_network_names(unknown) -> None:
    """No keyword a run does not know (a misspelt option would silently do nothing)."""
    if unknown:
        raise InvalidArgument(f"unknown network option{'s' if len(unknown) > 1 else ''} "
                              f"{', '.join(sorted(unknown))}: the options are latency=(lo, hi), "
                              "drop_rate and duplicate_rate")


def checked_predicate(predicate):
    """``predicate`` as run_until calls it: a bool, or InvalidArgument saying it failed."""
    if not callable(predicate):
        raise InvalidArgument(f"predicate must be a function of the cluster, e.g. "
                              f"lambda c: c.leader is not None; got {predicate!r}")

    def checked(c):
        try:
            return bool(predicate(c))
        except RaftbookError:
            raise
        except Exception as exc:
            raise InvalidArgument(f"the run_until predicate raised {type(exc).__name__}: {exc}") from exc
    return checked


def clean_partition(groups, nodes) -> tuple:
    """The partition as a tuple of frozensets sorted by smallest id; unnamed servers form one more."""
    if not groups:
        raise InvalidArgument("name at least one group of servers, e.g. c.partition({1, 2}, {3, 4, 5})")
    seen = set()
    clean = []
    for g in groups:
        if isinstance(g, (str, bytes)) or not isinstance(g, (set, frozenset, list, tuple)):
            raise InvalidArgument(f"each group is a set of server ids like {{1, 2}}; got {g!r}")
        if not g:
            raise InvalidArgument("a group in a partition cannot be empty")
        for i in g:
            check_node(i, nodes)
            if i in seen:
                raise InvalidArgument(f"S{i} is named in two groups; each server belongs to one group")
            seen.add(i)
        clean.append(frozenset(g))
    rest = frozenset(nodes) - seen
    if rest:
        clean.append(rest)
    if len(clean) < 2:
        raise InvalidArgument("that partition puts every server in one group, which cuts "
                              "nothing; name at least two groups (or leave some servers out)")
    return tuple(sorted(clean, key=min))


# ---------------------------------------------------------------------- Cluster.from_state
def clean_initial_states(states, nodes) -> dict:
    """Server id -> its cleaned initial state (see :func:`clean_initial_state`) for ``nodes``."""
    clean = {}
    for i, st in states.items():
        check_node(i, nodes)
        clean[i] = clean_initial_state(i, st)
        voted = clean[i]["voted_for"]
        if voted is not None and voted not in nodes:
            raise InvalidArgument(f"S{i} voted_for {voted!r} is not a server of this cluster "
                                  f"(1..{len(nodes)}) nor None")
    return clean


def clean_initial_state(i, st) -> dict:
    """Server ``i``'s state with every field present and its log as Entry objects."""
    if not isinstance(st, dict):
        raise InvalidArgument(f"the state of S{i} must be a dict, got {st!r}")
    unknown = set(st) - _STATE_FIELDS
    if unknown:
        raise InvalidArgument(f"unknown state fields for S{i}: {sorted(unknown)}; use current_term, "
                              "voted_for, log and commit_index")
    entries = _clean_log(i, st.get("log", ()))
    last_term = entries[-1].term if entries else 0
    term = st.get("current_term", last_term)
    if not _is_int(term) or term < last_term:
        raise InvalidArgument(f"S{i} current_term {term!r} must be a whole number at least the "
                              f"last log term ({last_term})")
    voted = st.get("voted_for")
    if voted is not None and not _is_int(voted):
        raise InvalidArgument(f"S{i} voted_for must be a server id or None; got {voted!r}")
    commit = st.get("commit_index", 0)
    if not _is_int(commit) or not 0 <= commit <= len(entries):
        raise InvalidArgument(f"S{i} commit_index {commit!r} must be between 0 and its log length "
                              f"{len(entries)}")
    return {"current_term": term, "voted_for": voted, "log": entries, "commit_index": commit}


def _clean_log(i, log) -> list:
    if isinstance(log, (str, bytes)) or not isinstance(log, (list, tuple)):
        raise InvalidArgument(f"S{i} log must be a list of terms, (term, command) pairs or Entry "
                              f"objects; got {log!r}")
    entries = []
    for k, item in enumerate(log, start=1):
        if isinstance(item, Entry):
            term, cmd = item.term, item.command
        elif _is_int(item):
            term, cmd = item, None
        elif isinstance(item, (tuple, list)) and len(item) == 2:
            term, cmd = item
            cmd = None if cmd is None else validate_entry_command(cmd)
        else:
            raise InvalidArgument(f"S{i} log entry {k} must be a term, a (term, command) pair or an "
                                  f"Entry; got {item!r}")
        if not _is_int(term) or term < 1 or (entries and term < entries[-1].term):
            raise InvalidArgument(f"S{i} log entry {k} has term {term!r}: terms are >= 1 and never "
                                  "decrease along a log")
        entries.append(Entry(k, term, cmd))
    return entries


def initial_to_json(st) -> dict:
    """A cleaned initial state as plain JSON data (what traces keep)."""
    return {"current_term": st["current_term"], "voted_for": st["voted_for"],
            "log": [[e.term, command_to_json(e.command)] for e in st["log"]],
            "commit_index": st["commit_index"]}
