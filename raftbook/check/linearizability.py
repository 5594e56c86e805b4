"""Is a history of client operations on the key-value store linearizable?

A history is linearizable when every operation can be given one instant,
between its invocation and its completion, at which it takes effect, so that
the operations in that order are a legal run of the key-value store: each
``get`` returns the value of the latest ``set`` before it (None after a
``delete`` or before any write). An operation that never completed may take
effect at any time after its invocation, or never.

The checker is Wing and Gong's backtracking search with the two refinements
Porcupine (and Lowe before it) uses: operations are kept in a doubly linked
list of invocation and completion entries, so trying an operation and undoing
it is O(1), and every (set of operations placed, store state) pair already
tried is remembered, so no dead end is explored twice. A key-value store is
checked one key at a time: operations on different keys commute, so a history
is linearizable exactly when each key's sub-history is (Herlihy and Wing's
locality).
"""
from __future__ import annotations

import html
import math
import operator
import time
from dataclasses import dataclass, field
from typing import Any

from ..errors import InvalidArgument, RaftbookError
from ..core.kv import validate_command


@dataclass(frozen=True)
class Operation:
    """One client operation: ``command`` invoked at ``call``, answered ``output`` at ``ret``.

    ``ret`` None means it never completed (its effect, if any, is unknown).
    Times only need to be comparable; equal times count as concurrent.
    """

    client: Any
    command: tuple
    call: float
    ret: float | None
    output: Any = None

    @property
    def key(self):
        return self.command[1]

    @property
    def pending(self) -> bool:
        return self.ret is None

    def describe(self) -> str:
        op = self.command[0]
        who = f"client {self.client}"
        if op == "set":
            what = f"set({self.command[1]!r}, {self.command[2]!r})"
        else:
            what = f"{op}({self.command[1]!r})"
        if self.pending:
            return f"{who}: {what} (never completed)"
        if op == "set":
            return f"{who}: {what}"
        return f"{who}: {what} -> {self.output!r}"


def _show(x, limit: int = 60) -> str:
    """repr cut short; a huge int is described, never written out whole."""
    if isinstance(x, int) and not isinstance(x, bool) and x.bit_length() > 128:
        return f"a whole number of about {int(x.bit_length() * 0.30103) + 1} digits"
    try:
        text = repr(x)
    except Exception:
        text = f"<a {type(x).__name__}>"
    return text if len(text) <= limit else text[:limit - 3] + "..."


def _clean(history) -> list[Operation]:
    ops = getattr(history, "history", history)
    if callable(ops) and ops is not history:  # a method returning the operations
        ops = ops()
    try:
        items = list(ops)
    except TypeError:
        raise InvalidArgument(f"a history is a list of Operation (or dicts with client, command, "
                              f"call, ret, output); got {_show(history)}") from None
    out = []
    for k, op in enumerate(items):
        if isinstance(op, dict):
            unknown = set(op) - {"client", "command", "call", "ret", "output"}
            if unknown or not {"command", "call"} <= set(op):
                raise InvalidArgument(f"operation {k} must have command and call (and may have "
                                      f"client, ret, output); got {_show(op)}")
            op = Operation(op.get("client"), op["command"], op["call"], op.get("ret"), op.get("output"))
        if not isinstance(op, Operation):
            raise InvalidArgument(f"operation {k} is not an Operation or a dict: {_show(op)}")
        try:
            cmd = validate_command(op.command)
        except RaftbookError as exc:
            raise InvalidArgument(f"operation {k} has a bad command: {exc}") from None
        for name in ("call", "ret"):
            t = getattr(op, name)
            if name == "ret" and t is None:
                continue
            if isinstance(t, bool) or not isinstance(t, (int, float)) or math.isnan(t):
                raise InvalidArgument(f"operation {k}: {name} must be a number (a time); got {_show(t)}")
        if op.ret is not None and op.ret < op.call:
            raise InvalidArgument(f"operation {k} completes (ret={op.ret}) before it is invoked "
                                  f"(call={op.call})")
        if cmd != op.command:
            op = Operation(op.client, cmd, op.call, op.ret, op.output)
        out.append(op)
    return out


def _step(state, op: Operation):
    """The key-value store's rule for one key: (fits, new state)."""
    kind = op.command[0]
    if kind == "set":
        v = op.command[2]
        return op.pending or op.output == v, v
    if kind == "get":
        return op.pending or op.output == state, state
    return op.pending or op.output == state, None  # delete returns the removed value


def _why_not(state, op: Operation) -> str:
    kind = op.command[0]
    if kind == "set":
        return f"it answered {op.output!r}, but a set answers the value it wrote"
    return f"it returned {op.output!r}, but the value of {op.key!r} at that point is {state!r}"


@dataclass
class KeyCheck:
    """The verdict for one key: ``order`` (a linearization) when it holds; else the
    ``longest`` prefix of operations that could be placed and the ``blocked``
    operations, each with why it cannot come next."""

    key: Any
    linearizable: bool
    order: list = field(default_factory=list)
    longest: list = field(default_factory=list)
    blocked: list = field(default_factory=list)
    explored: int = 0
    #: True when the search stopped at its budget before deciding (``linearizable`` is False then).
    unknown: bool = False


def check_key(ops: list[Operation], key=None, budget: int | None = None,
              deadline: float | None = None) -> KeyCheck:
    """Wing and Gong's search, with Lowe's and Porcupine's memoization, on one key's operations.

    ``budget``: stop after trying this many placements; ``deadline``: a
    ``time.monotonic()`` to stop at. Stopped, the verdict is unknown.
    """
    n = len(ops)
    # Entries 1..2n in time order (invocations before completions at equal times); 0 is the head.
    raw = []
    for i, op in enumerate(ops):
        raw.append((op.call, 0, i))
        raw.append((math.inf if op.ret is None else op.ret, 1, i))
    raw.sort()
    size = 2 * n + 1
    nxt = list(range(1, size + 1))
    nxt[-1] = -1
    prv = list(range(-1, size - 1))
    op_of = [-1] * size
    is_call = [False] * size
    ret_of = {}
    call_node = [0] * n
    for pos, (_, kind, i) in enumerate(raw, start=1):
        op_of[pos] = i
        if kind == 0:
            is_call[pos] = True
            call_node[i] = pos
        else:
            ret_of[call_node[i]] = pos

    def lift(e):
        nxt[prv[e]] = nxt[e]
        prv[nxt[e]] = prv[e]
        m = ret_of[e]
        nxt[prv[m]] = nxt[m]
        if nxt[m] != -1:
            prv[nxt[m]] = prv[m]

    def unlift(e):
        m = ret_of[e]
        nxt[prv[m]] = m
        if nxt[m] != -1:
            prv[nxt[m]] = m
        nxt[prv[e]] = e
        prv[nxt[e]] = e

    state = None
    linearized = 0
    cache = set()
    calls = []  # (call entry, state before it)
    best, best_state = [], None
    entry = nxt[0]
    tried = 0
    limit = math.inf if budget is None else budget
    while nxt[0] != -1:
        if is_call[entry]:
            i = op_of[entry]
            tried += 1
            if tried > limit or (deadline is not None and not tried & 4095
                                 and time.monotonic() > deadline):
                return KeyCheck(key, False, explored=tried - 1, unknown=True)
            fits, new = _step(state, ops[i])
            if fits:
                lin = linearized | (1 << i)
                memo = (lin, new)
                if memo not in cache:
                    cache.add(memo)
                    calls.append((entry, state))
                    state, linearized = new, lin
                    lift(entry)
                    if len(calls) > len(best):
                        best, best_state = [op_of[e] for e, _ in calls], state
                    entry = nxt[0]
                    continue
            entry = nxt[entry]
        else:  # a completion: the operation it ends must already have been placed
            if not calls:
                return _failed(key, ops, best, best_state, tried)
            entry, state = calls.pop()
            linearized &= ~(1 << op_of[entry])
            unlift(entry)
            entry = nxt[entry]
    return KeyCheck(key, True, order=[ops[op_of[e]] for e, _ in calls], explored=tried)


def _failed(key, ops, best, state, tried) -> KeyCheck:
    placed = set(best)
    rest = [i for i in range(len(ops)) if i not in placed]
    # The operations that could come next: invoked before every remaining one completed.
    first_ret = min((ops[i].ret for i in rest if ops[i].ret is not None), default=math.inf)
    candidates = [i for i in rest if ops[i].call <= first_ret]
    blocked = []
    for i in candidates:
        fits, _ = _step(state, ops[i])
        if not fits:
            blocked.append((ops[i], _why_not(state, ops[i])))
    return KeyCheck(key, False, longest=[ops[i] for i in best], blocked=blocked, explored=tried)


@dataclass
class LinearizabilityResult:
    """The verdict on a history: ``linearizable``; ``keys`` maps each key to its
    :class:`KeyCheck`; ``key`` is the first key that fails (or None);
    ``explanation`` says in words what went wrong."""

    linearizable: bool
    keys: dict
    operations: int

    @property
    def ok(self) -> bool:
        return self.linearizable

    def __bool__(self):
        return self.linearizable

    #: "linearizable", "not linearizable" or "unknown" (the budget ran out first)
    verdict: str = ""

    def __post_init__(self):
        if not self.verdict:
            self.verdict = "linearizable" if self.linearizable else "not linearizable"

    @property
    def unknown(self) -> bool:
        return self.verdict == "unknown"

    @property
    def key(self):
        """The key that failed (or whose check ran out of budget), or None."""
        return next((k for k, kc in self.keys.items() if not kc.linearizable), None)

    @property
    def order(self) -> dict:
        """Each key's operations in a valid linearization order (when linearizable)."""
        return {k: kc.order for k, kc in self.keys.items() if kc.linearizable}

    @property
    def explanation(self) -> str:
        if self.linearizable:
            return (f"linearizable: all {self.operations} operations fit one order that respects "
                    f"real time and the key-value store")
        k = self.key
        kc = self.keys[k]
        if kc.unknown:
            return (f"unknown: the search stopped on key {k!r} after trying {kc.explored:,} "
                    "placements, before deciding (the budget or timeout ran out); call "
                    "check_linearizability again with a larger budget= or timeout=")
        lines = [f"not linearizable: the operations on key {k!r} fit no order that respects real "
                 f"time and the key-value store."]
        if kc.longest:
            lines.append("The longest order that fits places " +
                         "; then ".join(op.describe() for op in kc.longest) + ".")
        else:
            lines.append("Not even the first operation can be placed.")
        if kc.blocked:
            lines.append("None of the operations that must come next fits: " +
                         "; ".join(f"{op.describe()}: {why}" for op, why in kc.blocked) + ".")
        else:
            lines.append("Every operation that could come next leads to a dead end later.")
        return " ".join(lines)

    def __repr__(self):
        return f"<LinearizabilityResult {self.explanation}>"

    def _repr_html_(self):
        mark = "?" if self.unknown else ("✔" if self.linearizable else "✘")
        return f"<p><b>{mark}</b> {html.escape(self.explanation)}</p>"


def _check_budget(budget, timeout):
    if budget is not None:
        try:
            budget = -1 if isinstance(budget, bool) else operator.index(budget)
        except TypeError:
            budget = -1
        if budget < 1:
            raise InvalidArgument("budget is how many placements the search may try in all "
                                  "(a whole number >= 1), or None for no limit")
    if timeout is not None:
        try:
            ok = not isinstance(timeout, (bool, str, bytes)) and 0 < float(timeout) < math.inf
        except (TypeError, ValueError, OverflowError):
            ok = False
        if not ok:
            raise InvalidArgument("timeout is a number of seconds > 0, or None for no limit")
        timeout = float(timeout)
    return budget, timeout


def check_linearizability(history, *, budget: int | None = None,
                          timeout: float | None = None) -> LinearizabilityResult:
    """Check a history of key-value operations (a list of :class:`Operation`, dicts
    with the same fields, or a :class:`raftbook.clients.Clients`) for linearizability.

    Reads that never completed are left out (they constrain nothing); writes
    that never completed may take effect at any time after they were invoked.

    Keys are checked one at a time, those with fewer operations first, and the
    check ends at the first key that is not linearizable (``keys`` then holds the
    keys checked so far). ``budget`` (placements tried, over all keys) and
    ``timeout`` (seconds) bound the search: when either runs out first, the
    verdict is "unknown" (``result.unknown``), never a guess.
    """
    budget, timeout = _check_budget(budget, timeout)
    deadline = None if timeout is None else time.monotonic() + timeout
    ops = _clean(history)
    by_key: dict = {}
    for op in ops:
        if op.pending and op.command[0] == "get":
            continue
        by_key.setdefault(op.key, []).append(op)
    keys = {}
    left = budget
    for k in sorted(by_key, key=lambda k: (len(by_key[k]), repr(k))):
        kc = check_key(by_key[k], k, budget=left, deadline=deadline)
        keys[k] = kc
        if not kc.linearizable:
            return LinearizabilityResult(False, keys, len(ops),
                                         verdict="unknown" if kc.unknown else "not linearizable")
        if left is not None:
            left -= kc.explored
            if left < 1 and len(keys) < len(by_key):
                nxt = next(k2 for k2 in sorted(by_key, key=lambda k: (len(by_key[k]), repr(k)))
                           if k2 not in keys)
                keys[nxt] = KeyCheck(nxt, False, unknown=True, explored=0)
                return LinearizabilityResult(False, keys, len(ops), verdict="unknown")
    return LinearizabilityResult(True, keys, len(ops))
