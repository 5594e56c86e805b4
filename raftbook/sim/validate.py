"""Checks of what a user passes to a cluster, done before anything changes.

Every check raises an error that says in plain words what was wrong and what to
do, and returns the cleaned value when the input is good.
"""
from __future__ import annotations

import math
import operator

from ..core.config import Config
from ..core.membership import validate_entry_command
from ..core.messages import Entry, command_to_json
from ..core.node import _is_int
from ..core.rules import resolve_handlers
from ..errors import (InvalidArgument, InvalidCommand, InvalidState, RaftbookError, UnknownMessage,
                      UnknownNode)

MAX_NODES = 15
#: The most ticks one c.run / c.run_until call takes (about a minute and a half of
#: simulation); raise it here if you really mean more, or run in several calls.
MAX_RUN_TICKS = 10_000_000
#: The longest message latency a run accepts, in ticks.
MAX_LATENCY = 1_000_000


def whole(x):
    """``x`` as a Python int if it is a whole number (numpy integers too, never a bool), else None."""
    if isinstance(x, bool):
        return None
    if isinstance(x, int):
        return int(x)
    try:
        return operator.index(x)
    except Exception:
        return None


def show(x, limit: int = 60) -> str:
    """``repr(x)`` cut to ``limit`` characters; a huge int is described, never written out whole."""
    if isinstance(x, int) and not isinstance(x, bool) and x.bit_length() > 128:
        return f"a {'negative ' if x < 0 else ''}whole number of about {int(x.bit_length() * 0.30103) + 1} digits"
    try:
        text = repr(x)
    except Exception:
        text = f"<a {type(x).__name__}>"
    return text if len(text) <= limit else text[:limit - 3] + "..."
_STATE_FIELDS = {"current_term", "voted_for", "log", "commit_index"}


def check_cluster_args(n, seed, config, handlers) -> Config:
    """The cluster's Config, once ``n``, ``seed``, ``config`` and ``handlers`` are all valid."""
    if whole(n) is None or not 1 <= n <= MAX_NODES:
        raise InvalidArgument(f"a cluster has 1 to {MAX_NODES} servers; got n={show(n)}")
    if whole(seed) is None:
        raise InvalidArgument(f"seed must be a whole number (it makes runs repeatable); got {show(seed)}")
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
    k = whole(i)
    if k is None or k not in nodes:
        n = len(nodes)
        raise UnknownNode(f"there is no server {show(i)}: this cluster has servers "
                          f"1..{n} (S1..S{n})")
    return k


def check_msg(msg_id, flight) -> int:
    """``msg_id`` if that message is in ``flight``; else UnknownMessage listing what is."""
    k = whole(msg_id)
    if k is None or k not in flight:
        ids = list(flight)[:20]
        hint = f"messages in flight: {ids}{' ...' if len(flight) > 20 else ''}" if flight \
            else "no messages are in flight"
        raise UnknownMessage(f"no message {show(msg_id)} is in flight ({hint}); it may have been "
                             "delivered or dropped already")
    return k


def check_running(i: int, crashed, action: str) -> None:
    if i in crashed:
        raise InvalidState(f"S{i} is crashed and cannot {action}; restart it first (c.restart({i}))")


def check_count(name: str, value, limit: int | None = None, where: str = "") -> int:
    """A number of ticks: a whole number >= 0 (and at most ``limit``, named by ``where``)."""
    k = whole(value)
    if k is None or k < 0:
        raise InvalidArgument(f"{name} must be a whole number >= 0; got {show(value)}")
    limit = MAX_RUN_TICKS if limit is None else limit
    if k > limit:
        raise InvalidArgument(f"{name}={show(value)} is more than the limit of {limit:,} at a time "
                              f"({where or 'raftbook.sim.validate.MAX_RUN_TICKS'}); run in several "
                              "calls, or raise that limit if you really mean it")
    return k


def check_network(latency, drop_rate, duplicate_rate) -> dict:
    """Validated network options as stored in a run's args; InvalidArgument otherwise."""
    if isinstance(latency, list):
        latency = tuple(latency)
    pair = tuple(whole(x) for x in latency) if isinstance(latency, tuple) and len(latency) == 2 else None
    if pair is None or None in pair or not 1 <= pair[0] <= pair[1]:
        raise InvalidArgument(f"latency must be a pair of whole tick counts (lo, hi) with "
                              f"1 <= lo <= hi; got {show(latency)}")
    if pair[1] > MAX_LATENCY:
        raise InvalidArgument(f"latency {show(latency)} is longer than the limit of {MAX_LATENCY:,} "
                              "ticks (raftbook.sim.validate.MAX_LATENCY)")
    latency = pair
    # drop_rate may be 1 (a network that loses everything); duplicate_rate must stay
    # below 1, or every delivery would copy the message again, forever.
    rates = []
    for name, p in (("drop_rate", drop_rate), ("duplicate_rate", duplicate_rate)):
        try:
            ok = not isinstance(p, (bool, str, bytes)) and math.isfinite(float(p)) and 0 <= float(p) <= 1
        except (TypeError, ValueError, OverflowError):
            ok = False
        if not ok:
            raise InvalidArgument(f"{name} is a probability in [0, 1]; got {show(p)}")
        rates.append(float(p))
    drop_rate, duplicate_rate = rates
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
                              f"lambda c: c.leader is not None; got {show(predicate)}")

    def checked(c):
        try:
            return bool(predicate(c))
        except RaftbookError:
            raise
        except Exception as exc:
            raise InvalidArgument(f"the run_until predicate raised {type(exc).__name__}: {exc}") from exc
    return checked


#: The largest whole number a client command may carry, in bits (about 300 digits).
MAX_COMMAND_INT_BITS = 1000


def check_command_size(command) -> None:
    """Refuse commands whose numbers are too long to write out or store sensibly."""
    if not isinstance(command, (tuple, list)):
        raise InvalidCommand(f"a command is a tuple: (\"set\", key, value), (\"get\", key) or "
                             f"(\"delete\", key); got {show(command)}")
    stack, seen = [command], 0
    while stack:
        x = stack.pop()
        seen += 1
        if seen > 10_000:
            raise InvalidArgument("a client command holds more than 10,000 values; keep commands small")
        if isinstance(x, int) and not isinstance(x, bool) and x.bit_length() > MAX_COMMAND_INT_BITS:
            raise InvalidArgument(f"a client command holds {show(x)}; numbers in commands are at most "
                                  f"{MAX_COMMAND_INT_BITS} bits (raftbook.sim.validate.MAX_COMMAND_INT_BITS)")
        if isinstance(x, (tuple, list)):
            stack.extend(x)
        elif isinstance(x, dict):
            stack.extend(x)
            stack.extend(x.values())


def clean_explain_args(nodes, node, kind, start, end) -> tuple:
    """explain()'s filters checked: node ids known, kinds short strings, start/end whole numbers."""
    if node is not None:
        node = [check_node(i, nodes) for i in node] if isinstance(node, (list, tuple, set)) \
            else check_node(node, nodes)
    kinds = kind if isinstance(kind, (list, tuple)) else [kind]
    if kind is not None and not all(isinstance(k, str) and len(k) <= 100 for k in kinds):
        raise InvalidArgument(f"kind is a reason code, a family or an event kind (a str), or a "
                              f"list of them; got {show(kind)}")
    for name, v in (("start", start), ("end", end)):
        if v is not None and whole(v) is None:
            raise InvalidArgument(f"{name} must be an event seq (a whole number) or None; got {show(v)}")
    return (node, kind, None if start is None else whole(start), None if end is None else whole(end))


def clean_partition(groups, nodes) -> tuple:
    """The partition as a tuple of frozensets sorted by smallest id; unnamed servers form one more."""
    if not groups:
        raise InvalidArgument("name at least one group of servers, e.g. c.partition({1, 2}, {3, 4, 5})")
    seen = set()
    clean = []
    for g in groups:
        if isinstance(g, (str, bytes)) or not isinstance(g, (set, frozenset, list, tuple)):
            raise InvalidArgument(f"each group is a set of server ids like {{1, 2}}; got {show(g)}")
        if not g:
            raise InvalidArgument("a group in a partition cannot be empty")
        g = [check_node(i, nodes) for i in g]
        for i in g:
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


def clean_link(a, b, nodes) -> tuple:
    """The link between servers ``a`` and ``b`` as a (low id, high id) pair."""
    a, b = check_node(a, nodes), check_node(b, nodes)
    if a == b:
        raise InvalidArgument(f"a link joins two different servers; got S{a} twice "
                              "(e.g. c.cut(1, 2) cuts the link between S1 and S2)")
    return (a, b) if a < b else (b, a)


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
