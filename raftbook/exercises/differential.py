"""Part of the rules layer: the student's rule compared with the reference, situation by situation.

The hand-written rule cases (:mod:`.rulecase`) each look at a few fields of
one chosen state. This sweep builds one server in every situation of a
systematic grid (every role; a message term below, equal to and above the
server's; logs of up to 4 entries with terms up to 3; a matching, missing
and conflicting previous entry; empty and non-empty entries; stale, current
and newer replies; clusters of 3 to 6 servers), hands the student's function
and the reference rule the same message, and compares the whole Figure 2
state afterwards: role, current term, vote, log, commit index, last applied
and the store, whether the election timer was reset, the leader id, next and
match index, and the messages sent.

Where Figure 2 leaves a choice, the sweep accepts every allowed answer and
says so (:data:`FREEDOMS`):

* a refused AppendEntries may carry any fast back-up hint (or none): the
  leader never moves nextIndex back past what it knows matches, whatever the
  hint says;
* after a refusal the leader may move nextIndex back to any index from 1 to
  the old nextIndex - 1 (one at a time, by the hints, or straight to the
  start): a lower one only resends entries the follower has; it retries at
  once with what its new nextIndex says;
* after a success nextIndex may be anything from matchIndex + 1 up to what
  the reference keeps (a late reply may pull it back: that only resends);
* a leader's election timer is not running, so whether a leader that steps
  down restarts it is not compared.

The grid is ordered from the smallest situation up, and the sweep stops at
the first situation that differs, so a finding quotes the smallest differing
case: "given ... when ... the rule says ... your function ...". Terms shift
with the seed as in the rule cases; the reference's outcomes are computed
once per seed and kept.
"""
from __future__ import annotations

from itertools import combinations_with_replacement
from dataclasses import dataclass

from ..core.messages import AppendEntries, AppendEntriesReply, Entry, RequestVote
from ..core.roles import Role
from .a4_commitment import _Recorder
from .report import Finding
from .rulecase import _code, make_node

#: Where Figure 2 leaves a choice, what the sweep accepts (shown with a finding that touches it).
FREEDOMS = {
    "append_entries": (
        "a refused AppendEntries may carry any back-up hint (or none); a success claims exactly "
        "the index of the last entry the message held (a higher one claims entries nobody "
        "checked, a lower one makes the leader send the same entries again and again)"),
    "append_entries_reply": (
        "after a refusal nextIndex may go back to anything from 1 to the old nextIndex - 1 (one "
        "step, the hints, or further), and the retry goes out at once from the new nextIndex; "
        "after a success nextIndex may be anything from matchIndex + 1 up to max(nextIndex, "
        "reply's matchIndex + 1)"),
}
#: For every rule: a leader's election timer is not running, so a leader that steps down may
#: restart it or not.
LEADER_TIMER = "a leader that steps down may restart its election timer or not"

RULES = {
    "request_vote": "Figure 2, RequestVote RPC and Rules for Servers, compared with the reference "
                    "on every one-server situation of a grid",
    "append_entries": "Figure 2, AppendEntries RPC and Rules for Servers, compared with the "
                      "reference on every one-server situation of a grid",
    "append_entries_reply": "Figure 2, Rules for Servers (leaders: nextIndex and matchIndex), "
                            "compared with the reference on every one-server situation of a grid",
    "advance_commit_index": "Figure 2, Rules for Servers (leaders: the commit rule), compared with "
                            "the reference on every one-server situation of a grid",
    "apply_committed": "Figure 2, Rules for Servers (all servers: apply log[lastApplied+1]), "
                       "compared with the reference on every one-server situation of a grid",
    "pre_vote": "PreVote (thesis section 9.6): a newer term, no leader heard from and a log at least "
                "as up to date, changing nothing; compared with the reference on every one-server "
                "situation of a grid",
}

#: Ticks of the election timer that have passed when a situation starts.
ELAPSED = 7


def _logs(max_len: int = 4, max_term: int = 3) -> list:
    """Every log of up to ``max_len`` entries with terms 1..max_term (terms never decrease)."""
    out = []
    for length in range(max_len + 1):
        out.extend(list(c) for c in combinations_with_replacement(range(1, max_term + 1), length))
    return out


LOGS = _logs()


@dataclass(frozen=True)
class Situation:
    state: dict  # make_node's arguments
    msg: object  # the message, or None for the commit and apply rules

    def size(self) -> tuple:
        s = self.state
        entries = len(getattr(self.msg, "entries", ()) or ())
        role = ("follower", "candidate", "leader").index(s.get("role", "follower"))
        return (len(s.get("log", ())) + entries, s.get("n", 3), role, repr(s), repr(self.msg))


def _last(log):
    return (len(log), log[-1] if log else 0)


def _shift(log, T):
    return [t + T for t in log]


# -- the grids -----------------------------------------------------------------------------------

def _request_vote_grid(T: int):
    for log in LOGS:
        li, lt = _last(log)
        for cur in sorted({max(lt, 1), lt + 1}):
            for role, votes in (("follower", (None, 2, 3)), ("candidate", (1,)), ("leader", (1,))):
                if role != "follower" and len(log) > 2:
                    continue  # the term and vote rules do not depend on a long log
                for voted in votes:
                    if voted is not None and len(log) > 2:
                        continue
                    for dt in (-1, 0, 1):
                        term = cur + dt
                        if term < 1:
                            continue
                        for ct in sorted({lt - 1, lt, lt + 1}):
                            if ct < 0 or ct > term:
                                continue
                            for ci in sorted({li - 1, li, li + 1}):
                                if (ci == 0) != (ct == 0) or ci < 0:
                                    continue
                                state = dict(term=cur + T, voted_for=voted, log=_shift(log, T),
                                             role=role, election_elapsed=ELAPSED)
                                yield Situation(state, RequestVote(2, 1, term + T, ci, ct + T if ct else 0))


#: Ticks into the election timer for the pre-vote grid: within the minimum election timeout of
#: the last word from a leader (15 by default), exactly at it, and past it.
PRE_VOTE_ELAPSED = (4, 15, 20)


def _pre_vote_grid(T: int):
    """Pre-vote requests (Config(pre_vote=True)). A follower that hears from no leader meets
    every log comparison and terms below, equal to and above its own; the other situations
    (a leader heard from recently, at the minimum election timeout, long ago; a vote cast;
    candidates; leaders) meet an equal log and a log one entry behind, on short logs."""
    full = ("follower", None, PRE_VOTE_ELAPSED[2], None)
    others = [("follower", None, PRE_VOTE_ELAPSED[0], None), ("follower", None, PRE_VOTE_ELAPSED[2], 3)]
    others += [("follower", 3, e, None) for e in PRE_VOTE_ELAPSED]
    others += [("candidate", None, e, None) for e in (PRE_VOTE_ELAPSED[0], PRE_VOTE_ELAPSED[2])]
    others += [("leader", None, 0, None)]
    for log in LOGS:
        li, lt = _last(log)
        for cur in sorted({max(lt, 1), lt + 1}):
            for role, leader, elapsed, voted in [full] + (others if len(log) <= 2 else []):
                wide = (role, leader, elapsed, voted) == full
                for dt in ((-1, 0, 1, 2) if wide else (-1, 0, 1)):
                    term = cur + dt
                    if term < 1:
                        continue
                    if wide:
                        lasts = [(ci, ct) for ct in sorted({lt - 1, lt, lt + 1})
                                 for ci in sorted({li - 1, li, li + 1})]
                    else:
                        lasts = [(li, lt), (li - 1, log[li - 2] if li > 1 else 0)]
                    for ci, ct in lasts:
                        if ct < 0 or ct > term or ci < 0 or (ci == 0) != (ct == 0):
                            continue
                        state = dict(term=cur + T, voted_for=voted, log=_shift(log, T), role=role,
                                     leader_id=leader, election_elapsed=elapsed, pre_vote=True)
                        msg = RequestVote(2, 1, term + T, ci, ct + T if ct else 0, pre_vote=True)
                        yield Situation(state, msg)


def _entries_after(prev, prev_term, log, max_term):
    """Entry lists a leader could send after ``prev``: none, a copy of ours, a conflicting one, two."""
    nxt = prev + 1
    options = [()]
    own = log[nxt - 1] if nxt <= len(log) else None
    if own is not None and own >= prev_term:
        options.append(((nxt, own),))
    other = max_term if own != max_term else None
    if other is not None and other >= prev_term:
        options.append(((nxt, other),))
    options.append(((nxt, max(prev_term, 1)), (nxt + 1, max_term)))
    return options


def _append_entries_grid(T: int):
    # Terms and roles: who accepts a leader, who refuses, what happens to the vote and the timer.
    for log in LOGS:
        if len(log) > 2:
            continue
        li, lt = _last(log)
        for cur in sorted({max(lt, 1), lt + 1}):
            for role, votes in (("follower", (None, 2, 3)), ("candidate", (1,)), ("leader", (1,))):
                for voted in votes:
                    for leader in ((None, 2, 3) if role == "follower" else (None,)):
                        for dt in (-1, 0, 1):
                            term = cur + dt
                            if term < 1 or term < lt:
                                continue
                            for ents in ((), ((li + 1, term),)):
                                state = dict(term=cur + T, voted_for=voted, log=_shift(log, T), role=role,
                                             leader_id=leader, election_elapsed=ELAPSED)
                                entries = tuple(Entry(i, t + T) for i, t in ents)
                                yield Situation(state, AppendEntries(2, 1, term + T, li, lt + T if lt else 0,
                                                                     entries, li + len(ents)))
    # The log: matching, missing and conflicting previous entries, duplicates, conflicts, commit.
    cur = 3
    for log in LOGS:
        li, lt = _last(log)
        for prev in range(0, li + 2):
            own_prev = log[prev - 1] if 1 <= prev <= li else None
            prev_terms = [0] if prev == 0 else sorted({own_prev or 3, *([t for t in (1, 2, 3) if t != own_prev][-1:])})
            for pt in prev_terms:
                for ents in _entries_after(prev, pt, log, cur):
                    last_new = prev + len(ents)
                    for commit, lc in sorted({(0, last_new + 1), (min(li, 1), 0)}):
                        if True:
                            state = dict(term=cur + T, voted_for=2, log=_shift(log, T), leader_id=2,
                                         commit_index=commit, election_elapsed=ELAPSED)
                            entries = tuple(Entry(i, t + T) for i, t in ents)
                            yield Situation(state, AppendEntries(2, 1, cur + T, prev, pt + T if pt else 0,
                                                                 entries, lc))


def _reply_variants(li, nxt, log, cur):
    """Replies a leader can get from S2: successes with every match index, refusals with every
    kind of hint (none, an index, a term it holds, a term it does not hold)."""
    for m in range(0, li + 1):
        yield dict(success=True, match_index=m)
    back = max(nxt - 1, 1)
    yield dict(success=False)
    yield dict(success=False, conflict_index=back)
    yield dict(success=False, conflict_index=1)
    held = sorted(set(log))
    missing = [t for t in range(1, cur + 1) if t not in held]
    if held:
        yield dict(success=False, conflict_index=1, conflict_term=held[0])
    if missing:
        yield dict(success=False, conflict_index=back, conflict_term=missing[-1])


def _append_entries_reply_grid(T: int):
    # Terms and roles: stale, current and newer replies to leaders and to servers that are not.
    for log in LOGS:
        if len(log) > 2 or not log:
            continue
        li, lt = _last(log)
        for role in ("follower", "candidate", "leader"):
            for dt in (-1, 0, 1):
                cur = lt + 1
                for reply in (dict(success=True, match_index=li), dict(success=False, conflict_index=1)):
                    state = dict(term=cur + T, voted_for=1 if role != "follower" else None,
                                 log=_shift(log, T), role=role, election_elapsed=ELAPSED)
                    if role == "leader":
                        state.update(next_index={2: li}, match_index={2: 0})
                    yield Situation(state, AppendEntriesReply(2, 1, cur + dt + T, **_shifted(reply, T)))
    # A leader's bookkeeping for one follower: every match and next index, every reply.
    for log in LOGS:
        li, lt = _last(log)
        for cur in sorted({max(lt, 1), lt + 1}):
            for m in range(0, li + 1):
                for nxt in sorted({m + 1, li + 1}):
                    for reply in _reply_variants(li, nxt, log, cur):
                        if cur != max(lt, 1) and not reply["success"]:
                            continue
                        state = dict(term=cur + T, voted_for=1, log=_shift(log, T), role="leader",
                                     next_index={2: nxt}, match_index={2: m})
                        yield Situation(state, AppendEntriesReply(2, 1, cur + T, **_shifted(reply, T)))
    # Commitment after a success, in clusters of 3 to 6 servers.
    for n in (3, 4, 5, 6):
        for log in LOGS:
            if not log:
                continue
            li, lt = _last(log)
            for cur in sorted({lt, lt + 1}):
                for k in range(0, n - 1):
                    match = {p: (li if p - 3 < k else 0) for p in range(3, n + 1)}
                    match[2] = 0
                    state = dict(n=n, term=cur + T, voted_for=1, log=_shift(log, T), role="leader",
                                 match_index=match)
                    yield Situation(state, AppendEntriesReply(2, 1, cur + T, True, match_index=li))


def _shifted(reply, T):
    out = dict(reply)
    if out.get("conflict_term"):
        out["conflict_term"] += T
    return out


def _advance_commit_index_grid(T: int):
    for log in LOGS:
        if not log or len(log) > 2:
            continue
        for role in ("follower", "candidate"):
            state = dict(term=log[-1] + T, log=_shift(log, T), role=role, next_index={2: 1},
                         match_index={2: len(log), 3: len(log)})
            yield Situation(state, None)
    for n in (3, 4, 5, 6):
        peers = list(range(2, n + 1))
        for log in LOGS:
            if not log:
                continue
            li, lt = _last(log)
            for cur in sorted({lt, lt + 1}):
                for commit in (sorted({0, min(1, li - 1)}) if n == 3 else (0,)):
                    # k peers hold index a, the others hold index b < a (b = 0: nothing).
                    for a in range(1, li + 1):
                        for b in (sorted({0, a - 1}) if n % 2 == 1 or a == li else (0,)):
                            for k in range(0, n):
                                match = {p: (a if i < k else b) for i, p in enumerate(peers)}
                                state = dict(n=n, term=cur + T, log=_shift(log, T), role="leader",
                                             commit_index=commit, match_index=match)
                                yield Situation(state, None)


def _apply_committed_grid(T: int):
    for log in LOGS:
        li = len(log)
        cmds = [(t + T, ("set", "x", i) if i % 2 else ("set", "y", i)) for i, t in enumerate(log, start=1)]
        if li >= 3:
            cmds[2] = (cmds[2][0], ("delete", "x"))
        for commit in range(0, li + 1):
            for applied in sorted({0, commit - 1, commit} - {-1}):
                state = dict(term=(log[-1] if log else 0) + T, log=cmds, commit_index=commit,
                             last_applied=applied)
                yield Situation(state, None)


GRIDS = {
    "request_vote": _request_vote_grid,
    "append_entries": _append_entries_grid,
    "append_entries_reply": _append_entries_reply_grid,
    "advance_commit_index": _advance_commit_index_grid,
    "apply_committed": _apply_committed_grid,
    "pre_vote": _pre_vote_grid,
}


# -- running one situation -----------------------------------------------------------------------

def _call(name, node, msg):
    if name == "advance_commit_index":
        node.advance_commit_index()
        return []
    if name == "apply_committed":
        node._call("apply_committed", node._h_apply_committed)
        return []
    return list(node.step(msg))


def _snapshot(node, out) -> dict:
    return {
        "role": node.role.value,
        "current_term": node.current_term,
        "voted_for": node.voted_for,
        "log": [(e.term, e.command) for e in node.log],
        "commit_index": node.commit_index,
        "last_applied": node.last_applied,
        "kv": dict(node.kv),
        "applied": list(getattr(node.kv, "ops", ())),
        "timer": node.election_elapsed == 0,
        "leader_id": node.leader_id,
        "next_index": dict(node.next_index),
        "match_index": dict(node.match_index),
        "out": list(out),
        # what a retry would be from the state the function left (for the back-off freedom)
        "retry": None,
    }


def _run(name, fn, sit: Situation):
    """The snapshot after ``fn`` (None: the reference rules) handles the situation, or an error text."""
    node = make_node({name: fn} if fn is not None else None, **sit.state)
    if name == "apply_committed":
        node.kv = _Recorder(node.kv)  # what was applied, in order, not only where it ended
    try:
        out = _call(name, node, sit.msg)
        snap = _snapshot(node, out)
        if name == "append_entries_reply" and node.role is Role.LEADER and sit.msg.src in node.next_index:
            try:
                snap["retry"] = node.append_entries_for(sit.msg.src)
            except Exception:  # noqa: BLE001 (a next_index the log cannot serve: compared below)
                snap["retry"] = None
        return snap
    except Exception as exc:  # noqa: BLE001 (a student's error is a finding, with its situation)
        return str(exc) or type(exc).__name__


_REFERENCE: dict = {}


def reference_outcomes(name: str, T: int) -> list:
    """The grid for ``name`` at term shift ``T``, smallest first, with the reference's outcome of each."""
    key = (name, T)
    if key not in _REFERENCE:
        unique = {}
        for s in GRIDS[name](T):
            unique.setdefault((repr(s.state), repr(s.msg)), s)
        sits = sorted(unique.values(), key=Situation.size)
        _REFERENCE[key] = [(s, _run(name, None, s)) for s in sits]
    return _REFERENCE[key]


# -- comparing -----------------------------------------------------------------------------------

def _terms(log):
    return "[" + ", ".join(str(t) for t, _ in log) + "]"


def _say(field, snap, before_elapsed=ELAPSED):
    v = snap[field]
    if field == "log":
        return f"log terms {_terms(v)}"
    if field == "timer":
        return "the election timer reset" if v else f"the election timer kept running ({before_elapsed} ticks in)"
    if field == "voted_for":
        return "voted_for None" if v is None else f"voted_for {v}"
    if field == "applied":
        return "applies " + (", ".join(" ".join(map(str, op)) for op in v) if v else "nothing")
    if field == "out":
        return "no message" if not v else "sends " + ", ".join(_code(m) for m in v)
    return f"{field} {v!r}"


def _differences(name, sit, exp, got) -> list:
    """(field, what the rule says, what the function did) for every field outside the allowed range."""
    diffs = []
    was_leader = sit.state.get("role") == "leader"
    for field in ("role", "current_term", "voted_for", "log", "commit_index", "last_applied", "kv", "applied",
                  "timer", "leader_id", "next_index", "match_index", "out"):
        if exp[field] == got[field]:
            continue
        if field == "timer" and was_leader:
            continue  # LEADER_TIMER: a leader's timer is not running
        if field == "out" and _reply_allowed(name, sit, exp, got):
            continue
        if field == "next_index" and _next_allowed(name, sit, exp, got):
            continue
        elapsed = sit.state.get("election_elapsed", ELAPSED)
        say_exp, say_got = _say(field, exp, elapsed), _say(field, got, elapsed)
        if field == "out" and name == "append_entries":
            say_exp = _ae_reply_words(sit, exp)
        if field == "next_index" and name == "append_entries_reply":
            say_exp = _next_words(sit, exp)
        diffs.append((field, say_exp, say_got))
    return diffs


def _reply_allowed(name, sit, exp, got) -> bool:
    if name == "append_entries":
        e, g = exp["out"], got["out"]
        if len(e) != 1 or len(g) != 1 or not isinstance(g[0], AppendEntriesReply):
            return False
        e, g = e[0], g[0]
        if (g.src, g.dst, g.term, g.success) != (e.src, e.dst, e.term, e.success):
            return False
        if not g.success:
            return True  # any back-up hint
        return g.match_index == e.match_index
    if name == "append_entries_reply":
        e, g = exp["out"], got["out"]
        if not e:
            return False
        # a retry after a refusal, from the next index the function chose
        return len(g) == 1 and got["retry"] is not None and g[0] == got["retry"]
    return False


def _next_range(sit, exp):
    peer = sit.msg.src
    old_next = (sit.state.get("next_index") or {}).get(peer, len(sit.state["log"]) + 1)
    match = exp["match_index"].get(peer, 0)
    if sit.msg.success:
        return match + 1, exp["next_index"][peer]
    return 1, max(old_next - 1, match + 1)


def _next_allowed(name, sit, exp, got) -> bool:
    if name != "append_entries_reply" or exp["role"] != "leader" or got["role"] != "leader":
        return False
    if sit.msg.term != int(sit.state["term"]):
        return False
    peer = sit.msg.src
    e, g = dict(exp["next_index"]), dict(got["next_index"])
    if set(e) != set(g) or not isinstance(g.get(peer), int):
        return False
    lo, hi = _next_range(sit, exp)
    if not lo <= g[peer] <= hi:
        return False
    e.pop(peer), g.pop(peer)
    return e == g


def _next_words(sit, exp):
    if exp["role"] != "leader" or sit.msg.term != int(sit.state["term"]):
        return _say("next_index", exp)
    lo, hi = _next_range(sit, exp)
    peer = sit.msg.src
    rng = f"{lo}" if lo == hi else f"anything from {lo} to {hi}"
    return f"next_index[{peer}] {rng} (and the other peers' unchanged: {_say('next_index', exp)})"


def _ae_reply_words(sit, exp):
    e = exp["out"][0]
    if not e.success:
        return f"one AppendEntriesReply to S{e.dst} with term {e.term} and success=False (any back-up hint)"
    return f"one AppendEntriesReply to S{e.dst} with term {e.term}, success=True and match_index {e.match_index}"


def _given(name, sit) -> str:
    s = sit.state
    role = s.get("role", "follower")
    n = s.get("n", 3)
    parts = [f"S1 is a {role} of a {n}-server cluster in term {s['term']}"]
    if name in ("request_vote", "append_entries", "pre_vote"):
        v = s.get("voted_for")
        if role == "follower":
            parts.append("voted for nobody" if v is None else f"voted for S{v}")
        if name in ("append_entries", "pre_vote") and role == "follower":
            lid = s.get("leader_id")
            parts.append("knows no leader" if lid is None else f"knows S{lid} as leader")
    log = s.get("log", [])
    terms = [t[0] if isinstance(t, tuple) else t for t in log]
    parts.append(f"log terms {terms}" if terms else "an empty log")
    if name in ("append_entries", "apply_committed", "advance_commit_index") and s.get("commit_index"):
        parts.append(f"commit index {s['commit_index']}")
    if name == "apply_committed":
        parts.append(f"last applied {s.get('last_applied', s.get('commit_index', 0))}")
    if role == "leader" and name in ("append_entries_reply", "advance_commit_index"):
        if s.get("next_index"):
            parts.append(f"next_index {s['next_index']}")
        parts.append(f"match_index {s.get('match_index') or 'all 0'}")
    if name in ("request_vote", "append_entries") and role != "leader":
        parts.append(f"{ELAPSED} ticks into its election timer")
    if name == "pre_vote" and role != "leader":
        parts.append(f"{s['election_elapsed']} ticks into its election timer (the minimum election "
                     "timeout is 15)")
    return ", ".join(parts)


def _when(name, sit) -> str:
    m = sit.msg
    if name == "advance_commit_index":
        return "it checks whether it can advance its commit index"
    if name == "apply_committed":
        return "it applies what is committed"
    if isinstance(m, RequestVote) and m.pre_vote:
        return (f"S{m.src} asks for a pre-vote (RequestVote with pre_vote=True, term {m.term}, last "
                f"log index {m.last_log_index}, last log term {m.last_log_term})")
    if isinstance(m, RequestVote):
        return (f"S{m.src}'s RequestVote arrives (term {m.term}, last log index {m.last_log_index}, "
                f"last log term {m.last_log_term})")
    if isinstance(m, AppendEntries):
        ents = "no entries" if not m.entries else "entries of terms " + str([e.term for e in m.entries])
        return (f"S{m.src}'s AppendEntries arrives (term {m.term}, prev_log_index {m.prev_log_index}, "
                f"prev_log_term {m.prev_log_term}, {ents}, leader_commit {m.leader_commit})")
    what = (f"success with match_index {m.match_index}" if m.success else
            "a refusal" + (f" with conflict_index {m.conflict_index}" if m.conflict_index else "")
            + (f" and conflict_term {m.conflict_term}" if m.conflict_term else ""))
    return f"S{m.src}'s AppendEntriesReply arrives (term {m.term}, {what})"


def _reproduce(name, fn, sit) -> str:
    args = ", ".join(f"{k}={v!r}" for k, v in sit.state.items())
    fname = getattr(fn, "__name__", "fn")
    call = f"{fname}(node)" if sit.msg is None else f"{fname}(node, {_code(sit.msg)})"
    return f"node = rb.exercises.make_node({args})\n{call}"


def run_differential(name: str, fn, seed: int = 0):
    """Sweep the grid of ``name``; returns (situations checked, Finding or None)."""
    if name not in GRIDS:
        return 0, None
    T = seed % 10
    cases = reference_outcomes(name, T)
    for k, (sit, exp) in enumerate(cases):
        got = _run(name, fn, sit)
        if isinstance(exp, str):  # cannot happen: the reference handles every situation of its grid
            continue
        if isinstance(got, str):
            said = f"your function fails: {got}"
        else:
            diffs = _differences(name, sit, exp, got)
            if not diffs:
                continue
            says = "; ".join(d[1] for d in diffs)
            did = "; ".join(d[2] for d in diffs)
            said = f"the rule says: {says}; your function: {did}"
            if name in FREEDOMS and {d[0] for d in diffs} & {"out", "next_index"}:
                said += (". Figure 2 leaves a choice here, and every allowed answer is accepted: "
                         + FREEDOMS[name])
        message = (f"given {_given(name, sit)}, when {_when(name, sit)}, {said} (the smallest of the "
                   f"{len(cases)} situations compared that differs)")
        return len(cases), Finding("rules", "compared with the reference", RULES[name], message,
                                   reproduce=_reproduce(name, fn, sit))
    return len(cases), None
