"""Reasons: why a node did what it did, as a rule code plus fields.

The core records ``(code, fields)`` with ``node.note``; the cluster stamps them
with the time and node id (:class:`raftbook.cluster.Reason`) and adds a few of
its own (a crash, a message the network dropped or lost). This module knows,
for every code, the rule of the Raft paper behind it (Figure 2 or a section),
the families it belongs to (for filtering) and one plain-English sentence.

Reasons are plain data so they can be filtered, tabulated, compared between
runs and quoted by graders; nothing here prints anything.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from ..core.rules import log_is_up_to_date
from ..errors import InvalidArgument


def _s(i):
    return "nobody" if i is None else f"S{i}"


def _who(i, f):
    """A server's name, or "itself" when it is the server the reason is about."""
    return "itself" if i is not None and i == f.get("_node") else _s(i)


def _servers(ids):
    ids = list(ids)
    return ", ".join(_s(i) for i in ids) if ids else "no one"


def _entries(n):
    return f"{n} entr{'y' if n == 1 else 'ies'}"


def _span(first, last):
    return f"index {first}" if first == last else f"indexes {first}..{last}"


def _cmd(command):
    return "a no-op" if command is None else repr(tuple(command) if isinstance(command, list) else command)


def up_to_date_comparison(cand_term, cand_index, own_term, own_index) -> str:
    """Why one log is (or is not) at least as up to date as another (section 5.4.1)."""
    if cand_term != own_term:
        op = ">" if cand_term > own_term else "<"
        return f"last term {cand_term} {op} {own_term}"
    op = ">=" if cand_index >= own_index else "<"
    return f"same last term {cand_term}, last index {cand_index} {op} {own_index}"


# -- sentences ----------------------------------------------------------------
# Each function gets the reason's fields and returns the sentence after "S<node> ".

def _election_timeout(f):
    if f.get("forced"):
        return f"timed out in term {f['term']}: its election timer was fired by hand"
    return (f"timed out in term {f['term']}: {f['timeout']} ticks passed without a message from a "
            f"leader or a vote granted")


def _vote_requested(f):
    return (f"asked {_servers(f['peers'])} for their votes in term {f['term']} (its log: last term "
            f"{f['last_log_term']}, last index {f['last_log_index']})")


def _became_leader(f):
    votes = f["votes"]
    need = f.get("needed")
    tail = f", a majority of the cluster ({need} needed)" if need else ""
    return (f"won the election for term {f['term']} with {len(votes)} vote{'s' if len(votes) != 1 else ''} "
            f"({_servers(votes)}){tail}")


def _vote_granted(f):
    cand = (f.get("candidate_last_term"), f.get("candidate_last_index"))
    own = (f.get("own_last_term"), f.get("own_last_index"))
    base = f"granted its vote in term {f['term']} to {_s(f['candidate'])}"
    if None in cand or None in own:
        return base
    broken = []
    if f.get("previous_vote") not in (None, f["candidate"]):
        broken.append(f"it had already voted for {_who(f['previous_vote'], f)} in term {f['term']}")
    if f.get("msg_term") is not None and f["msg_term"] < f["term"]:
        broken.append(f"the request's term {f['msg_term']} was older than its term {f['term']}")
    if not log_is_up_to_date(*cand, *own):
        broken.append(f"its own log was more up to date: "
                      f"{up_to_date_comparison(own[0], own[1], cand[0], cand[1])}")
    if broken:
        return base + " although " + " and ".join(broken)
    return (base + f": the candidate's log is at least as up to date as its own ("
            f"{up_to_date_comparison(*cand, *own)})")


def _vote_refused_log(f):
    return (f"refused {_s(f['candidate'])}'s vote request in term {f['term']}: the candidate's log is "
            f"less up to date than its own ({up_to_date_comparison(f['candidate_last_term'], f['candidate_last_index'], f['own_last_term'], f['own_last_index'])})")


def _reply_ignored(f):
    kind = f["type"]
    if f["msg_term"] < f["current_term"]:
        return (f"ignored a stale {kind} from {_s(f['sender'])}: the reply is from term "
                f"{f['msg_term']} and this server has moved on to term {f['current_term']}")
    wanted = "candidate" if kind == "RequestVoteReply" else "leader"
    return (f"ignored a {kind} from {_s(f['sender'])}: it is no longer a {wanted} "
            f"(now a {f['role']} in term {f['current_term']})")


def _append_mismatch(f):
    if f["found_term"] is None:
        found = f"it has no entry at index {f['prev_log_index']} (its log ends at {f['last_index']})"
    else:
        found = f"its entry at index {f['prev_log_index']} has term {f['found_term']}"
    return (f"refused AppendEntries from {_s(f['leader'])}: {found}, but the leader's entry there has "
            f"term {f['prev_log_term']}, so the logs may differ before the new entries")


def _commit_advanced(f):
    head = f"advanced its commit index from {f['old']} to {f['new']}"
    if f.get("by") == "majority":
        broken = []
        if f["replicas"] < f["needed"]:
            broken.append(f"only {f['replicas']} servers hold index {f['new']} ({f['needed']} needed "
                          f"for a majority)")
        et, ct = f.get("entry_term"), f.get("current_term")
        if et is not None and ct is not None and et != ct:
            broken.append(f"its entry is from term {et}, not the current term {ct}: an earlier "
                          f"term's entry must not be committed by counting replicas (Figure 8)")
        if broken:
            return head + " although " + " and ".join(broken)
        return (head + f": a majority ({f['replicas']} servers, {f['needed']} needed) holds index "
                f"{f['new']} and its entry is from the current term")
    bound = min(f["leader_commit"], f["last_new_index"])
    if f["new"] > bound:
        return (head + f" although min(leader commit {f['leader_commit']}, index of the last new "
                f"entry {f['last_new_index']}) is only {bound}: entries past it may not match the "
                f"leader's")
    return (head + f" = min(leader commit {f['leader_commit']}, index of the last new entry "
            f"{f['last_new_index']})")


def _next_backed_off(f):
    hint = ""
    if f.get("conflict_term"):
        hint = f" (the follower's entry at the conflict has term {f['conflict_term']})"
    elif f.get("conflict_index"):
        hint = f" (the follower's log ends before index {f['conflict_index']})"
    return (f"backed next index of {_s(f['follower'])} off from {f['old']} to {f['new']} after a "
            f"refused AppendEntries{hint}, and retried")


def _crashed(f):
    role = f.get("role", "follower")
    if f.get("unsaved"):
        return (f"crashed as a {role} in term {f['term']} before saving its "
                f"{' and '.join(map(_field_name, f['unsaved']))}: only what it last saved survives")
    return (f"crashed as a {role} in term {f['term']}: its term, vote and {_entries(f['log_length'])} "
            f"survive; its commit index, role and state machine are lost")


def _field_name(name):
    return {"current_term": "term", "voted_for": "vote"}.get(name, name)


def _restarted(f):
    head = f"restarted as a follower in term {f['term']} with {_entries(f['log_length'])}"
    if f.get("snapshot_index"):
        return head + f" after its snapshot of indexes 1..{f['snapshot_index']}"
    return head + ": commit index 0, empty state machine"


def _snapshot_taken(f):
    why = "it had applied enough entries past its last snapshot" if f.get("automatic") else \
        "compaction was asked for"
    return (f"compacted its log ({why}): a snapshot of its state machine at index {f['index']} "
            f"(term {f['term']}) replaces {_entries(f['discarded'])}; {_entries(f['kept'])} remain "
            f"in the log")


def _snapshot_installed(f):
    head = (f"installed the snapshot from {_s(f['leader'])} up to index {f['index']} (term "
            f"{f['term']}), {f['keys']} key{'s' if f['keys'] != 1 else ''} in its state machine")
    if f["kept"]:
        return head + (f": its entry at index {f['index']} matches the snapshot's last one, so it "
                       f"kept the {_entries(f['kept'])} after it")
    return head + ": it discarded its whole log"


def _unsaved_lost(f):
    lost = []
    if "current_term" in f["lost"]:
        lost.append(f"its term went back from {f['old_term']} to {f['term']}")
    if "voted_for" in f["lost"]:
        lost.append(f"its vote from {_s(f['old_voted_for'])} to {_s(f['voted_for'])}")
    if "log" in f["lost"] or "snapshot" in f["lost"]:
        lost.append(f"its log from last index {f['old_last_index']} to {f['last_index']}")
    return "lost what it had not saved before crashing: " + ", ".join(lost)


def _net(what):
    def sentence(f):
        head = f"never got {f['type']} #{f['msg_id']} from {_s(f['src'])} (term {f['term']})"
        return head + what
    return sentence


def _duplicated(f):
    return (f"will get {f['type']} #{f.get('copy_of')} from {_s(f['src'])} (term {f['term']}) twice: "
            f"the network duplicated it as #{f['msg_id']}")


@dataclass(frozen=True)
class ReasonCode:
    """What raftbook knows about one reason code."""

    code: str
    families: tuple
    rule: str
    sentence: Callable


_R = "Figure 2, RequestVote RPC, receiver"
_A = "Figure 2, AppendEntries RPC, receiver"
_ALL = "Figure 2, Rules for Servers, all servers"
_CAND = "Figure 2, Rules for Servers, candidates (§5.2)"
_LEAD = "Figure 2, Rules for Servers, leaders"
_SNAP = "Figure 13, InstallSnapshot RPC"

_COMMIT_LEADER = (_LEAD + ": if a majority has matchIndex >= N > commitIndex and log[N].term == "
                  "currentTerm, set commitIndex = N (§5.3, §5.4)")
_COMMIT_FOLLOWER = _A + " rule 5: if leaderCommit > commitIndex, set commitIndex = min(leaderCommit, " \
    "index of last new entry)"

_TABLE = [
    ReasonCode("election_timeout", ("election", "timer"),
               "Figure 2, Rules for Servers, followers (§5.2): an election timeout without hearing "
               "from a leader or granting a vote starts an election", _election_timeout),
    ReasonCode("election_started", ("election",),
               _CAND + ": increment currentTerm, vote for self, reset the election timer",
               lambda f: (f"became a candidate for term {f['term']}: it moved to the new term, voted "
                          f"for itself and reset its election timer")),
    ReasonCode("vote_requested", ("election", "vote"),
               _CAND + ": send RequestVote RPCs to all other servers", _vote_requested),
    ReasonCode("became_leader", ("election", "leader"),
               _CAND + ": votes from a majority of servers make the candidate leader", _became_leader),
    ReasonCode("noop_appended", ("election", "leader", "append"),
               "§8: a new leader commits a blank no-op entry of its own term",
               lambda f: (f"appended a no-op entry at index {f['index']} for its new term {f['term']}, "
                          f"so it can commit (and learn what is committed) in its own term")),
    ReasonCode("heartbeat_sent", ("append", "heartbeat", "leader"),
               _LEAD + ": send AppendEntries during idle periods to prevent election timeouts (§5.2)",
               lambda f: (f"sent AppendEntries to every follower as leader of term {f['term']}: its "
                          f"heartbeat interval passed")),
    ReasonCode("term_adopted", ("term", "election"),
               _ALL + ": a request or reply with term T > currentTerm sets currentTerm = T (§5.1)",
               lambda f: (f"saw term {f['new_term']}, newer than its term {f['old_term']}: it adopted "
                          f"term {f['new_term']} and cleared its vote")),
    ReasonCode("stepped_down", ("term", "election", "leader"),
               _ALL + ": a server that sees a newer term, or a candidate that hears from the "
               "term's leader, converts to follower (§5.1, §5.2)",
               lambda f: f"stepped down from {f['role']} to follower in term {f['term']}"),
    ReasonCode("vote_granted", ("vote",),
               _R + " rule 2: grant the vote if votedFor is null or the candidate, and the "
               "candidate's log is at least as up to date (§5.2, §5.4)", _vote_granted),
    ReasonCode("vote_refused_stale_term", ("vote",),
               _R + " rule 1: reply false if term < currentTerm (§5.1)",
               lambda f: (f"refused {_s(f['candidate'])}'s vote request: the request's term "
                          f"{f['msg_term']} is older than its current term {f['current_term']}")),
    ReasonCode("vote_refused_already_voted", ("vote",),
               _R + " rule 2: at most one vote per term (votedFor)",
               lambda f: (f"refused {_s(f['candidate'])}'s vote request: it already voted for "
                          f"{_who(f['voted_for'], f)} in term {f['term']}")),
    ReasonCode("vote_refused_log_not_up_to_date", ("vote",),
               _R + " rule 2 and §5.4.1: the candidate's log must be at least as up to date",
               _vote_refused_log),
    ReasonCode("vote_refused_without_rule", ("vote", "suspect"),
               _R + ": a vote is refused only by rule 1 or rule 2",
               lambda f: (f"refused {_s(f['candidate'])}'s vote request in term {f['term']} although no "
                          f"rule of Figure 2 forbids the vote")),
    ReasonCode("vote_received", ("vote", "election"),
               _CAND + ": count the votes; a majority wins",
               lambda f: (f"got a vote from {_s(f['voter'])} in term {f['term']}: {f['votes']} of the "
                          f"{f['needed']} needed")),
    ReasonCode("vote_denied_received", ("vote", "election"),
               _CAND + ": count the votes; a majority wins",
               lambda f: (f"was denied a vote by {_s(f['voter'])} in term {f['term']} (it has "
                          f"{f['votes']} of the {f['needed']} needed)")),
    ReasonCode("reply_ignored_stale", ("term",),
               _ALL + ": a reply from an older term, or to a role the server no longer has, "
               "changes nothing", _reply_ignored),
    ReasonCode("append_refused_stale_term", ("append",),
               _A + " rule 1: reply false if term < currentTerm (§5.1)",
               lambda f: (f"refused AppendEntries from {_s(f['leader'])}: the sender's term "
                          f"{f['msg_term']} is older than its current term {f['current_term']}, so "
                          f"{_s(f['leader'])} is not the current leader")),
    ReasonCode("append_refused_log_mismatch", ("append", "consistency"),
               _A + " rule 2: reply false if the log has no entry at prevLogIndex whose term "
               "matches prevLogTerm (§5.3)", _append_mismatch),
    ReasonCode("leader_recognised", ("append", "leader"),
               "Figure 2, Rules for Servers, candidates and followers: AppendEntries from the "
               "current term's leader makes a server its follower (§5.2)",
               lambda f: f"recognised {_s(f['leader'])} as the leader of term {f['term']}"),
    ReasonCode("entries_appended", ("append",),
               _A + " rule 4: append any new entries not already in the log",
               lambda f: (f"appended {_entries(f['count'])} at {_span(f['first'], f['last'])} from "
                          f"{_s(f['leader'])}")),
    ReasonCode("entries_already_present", ("append", "consistency"),
               _A + " rules 3-4: entries already in the log (same index and term) are kept; a late "
               "or duplicated AppendEntries must not truncate",
               lambda f: (f"already held {'the entry' if f['count'] == 1 else 'all ' + _entries(f['count'])} "
                          f"at {_span(f['first'], f['last'])} sent by {_s(f['leader'])}: nothing to append, "
                          f"nothing to truncate")),
    ReasonCode("conflict_truncated", ("append", "consistency"),
               _A + " rule 3: if an existing entry conflicts with a new one (same index, different "
               "terms), delete it and all that follow (§5.3)",
               lambda f: (f"deleted {_entries(f['removed'])} from index {f['from_index']} on: its "
                          f"entry there has term {f['old_term']} where the leader's has term "
                          f"{f['new_term']}")),
    ReasonCode("match_index_advanced", ("append", "leader"),
               _LEAD + ": on a successful AppendEntries, update matchIndex and nextIndex (§5.3)",
               lambda f: (f"learned that {_s(f['follower'])} matches its log up to index {f['new']} "
                          f"(match index {f['old']} -> {f['new']})")),
    ReasonCode("next_index_backed_off", ("append", "leader", "consistency"),
               _LEAD + ": if AppendEntries fails because of log inconsistency, decrement nextIndex "
               "and retry (§5.3)", _next_backed_off),
    ReasonCode("commit_advanced", ("commit",),
               _COMMIT_LEADER + "; a follower: " + _COMMIT_FOLLOWER, _commit_advanced),
    ReasonCode("commit_not_advanced_earlier_term", ("commit", "figure8"),
               "§5.4.2 and Figure 8: a leader never commits an entry of an earlier term by counting "
               "replicas",
               lambda f: (f"did not commit index {f['index']} although {f['replicas']} servers hold it: "
                          f"its entry is from term {f['entry_term']}, not the current term "
                          f"{f['current_term']} (Figure 8)")),
    ReasonCode("proposal_appended", ("client",),
               _LEAD + ": a command from a client is appended to the leader's log (§5.3)",
               lambda f: (f"appended the client command {_cmd(f['command'])} at index {f['index']} "
                          f"(term {f['term']})")),
    ReasonCode("applied", ("apply", "commit"),
               _ALL + ": if commitIndex > lastApplied, apply log[lastApplied + 1] (§5.3)",
               lambda f: f"applied entry {f['index']} ({_cmd(f['command'])}) to its state machine"),
    ReasonCode("request_unanswered", ("suspect",),
               "Figure 2: every RPC receiver replies (the sender cannot tell silence from loss)",
               lambda f: (f"did not answer the {f['type']} from {_s(f['sender'])} (sent in term "
                          f"{f.get('msg_term', f['term'])})")),
    ReasonCode("append_refused_without_rule", ("append", "suspect"),
               _A + ": a request is refused only by rule 1 or rule 2",
               lambda f: (f"refused AppendEntries from {_s(f['leader'])} in term {f['term']} although "
                          f"the consistency check passes (its log matches the leader's at index "
                          f"{f['prev_log_index']}, term {f['prev_log_term']}) and the leader's term is "
                          f"current")),
    ReasonCode("entries_truncated_without_conflict", ("append", "consistency", "suspect"),
               _A + " rule 3: delete entries only where one conflicts with a new entry; a late or "
               "duplicated AppendEntries must not truncate",
               lambda f: (f"deleted {_entries(f['removed'])} from index {f['from_index']} on although "
                          f"none conflicted with the entries from {_s(f['leader'])} (which end at "
                          f"index {f['last_new_index']})")),
    ReasonCode("commit_index_decreased", ("commit", "suspect"),
               "Figure 2, State: commitIndex only increases while a server runs",
               lambda f: f"lowered its commit index from {f['old']} to {f['new']}, which Raft never does"),
    ReasonCode("match_index_decreased", ("append", "leader", "suspect"),
               _LEAD + ": matchIndex only increases; a stale reply must not lower it (§5.3)",
               lambda f: (f"lowered the match index of {_s(f['follower'])} from {f['old']} to "
                          f"{f['new']}, which a stale reply must not do")),
    ReasonCode("crashed", ("crash",),
               "Figure 2, State: currentTerm, votedFor and log[] are persistent; the rest is "
               "volatile", _crashed),
    ReasonCode("restarted", ("crash",),
               "Figure 2, State: after a restart the persistent state is kept and the volatile "
               "state starts afresh", _restarted),
    ReasonCode("state_machine_restored", ("crash", "snapshot", "apply"),
               _SNAP + ": a restarting server loads its snapshot into its state machine (§7)",
               lambda f: (f"restored its state machine from its snapshot: {f['keys']} "
                          f"key{'s' if f['keys'] != 1 else ''}, commit index and last applied "
                          f"{f['index']} (term {f['term']})")),
    ReasonCode("snapshot_taken", ("snapshot",),
               "§7: each server snapshots its committed, applied state on its own and discards "
               "the log entries up to the snapshot's last included index", _snapshot_taken),
    ReasonCode("snapshot_sent", ("snapshot", "leader"),
               "§7: the leader sends InstallSnapshot to a follower that is so far behind that "
               "the next entry it needs was discarded",
               lambda f: (f"sent its snapshot (up to index {f['index']}, term {f['term']}) to "
                          f"{_s(f['follower'])}: the entry at its next index {f['next_index']} is "
                          f"compacted")),
    ReasonCode("snapshot_installed", ("snapshot",),
               _SNAP + ", receiver rules 6-8: keep the log after a matching last included entry, "
               "else discard the log; reset the state machine from the snapshot",
               _snapshot_installed),
    ReasonCode("snapshot_refused_stale_term", ("snapshot",),
               _SNAP + ", receiver rule 1: reply immediately if term < currentTerm",
               lambda f: (f"refused InstallSnapshot from {_s(f['leader'])}: the sender's term "
                          f"{f['msg_term']} is older than its current term {f['current_term']}")),
    ReasonCode("snapshot_ignored_stale", ("snapshot", "consistency"),
               _SNAP + ", receiver rule 5: a snapshot with a smaller index than the one held "
               "is discarded (a late or duplicated InstallSnapshot)",
               lambda f: (f"ignored the snapshot from {_s(f['leader'])} up to index {f['index']}: "
                          f"its own snapshot already covers indexes 1..{f['snapshot_index']}")),
    ReasonCode("append_below_snapshot", ("append", "snapshot", "consistency"),
               "§7: entries up to a server's snapshot are committed, so they match the leader's "
               "and are skipped",
               lambda f: (f"skipped {_entries(f['skipped'])} of the AppendEntries from "
                          f"{_s(f['leader'])} (prevLogIndex {f['prev_log_index']}): its snapshot "
                          f"already covers indexes 1..{f['snapshot_index']}")),
    ReasonCode("replied_before_saving", ("persist", "suspect"),
               "Figure 2, State: persistent state is updated on stable storage before "
               "responding to RPCs",
               lambda f: (f"answered the {f['type']} from {_s(f['sender'])} before saving its "
                          f"{' and '.join(map(_field_name, f['unsaved']))}: a crash now would "
                          f"forget what the answer promised")),
    ReasonCode("state_saved", ("persist",),
               "Figure 2, State: persistent state is updated on stable storage before "
               "responding to RPCs",
               lambda f: (f"saved its term {f['term']}, vote ({_s(f['voted_for'])}) and log (last "
                          f"index {f['last_index']}) on stable storage")),
    ReasonCode("unsaved_state_lost", ("persist", "crash"),
               "Figure 2, State: only what is on stable storage survives a crash; a server that "
               "answers before saving can forget a vote or an entry", _unsaved_lost),
    ReasonCode("message_dropped", ("network",),
               "§5.1: the network may lose messages; Raft retries",
               _net(": the network dropped it")),
    ReasonCode("message_lost_crashed", ("network", "crash"),
               "§5.5: a crashed server receives nothing; the sender retries",
               _net(": it was crashed when the message arrived")),
    ReasonCode("message_lost_partition", ("network", "partition"),
               "§5.1: a partition separates servers; messages across it are lost",
               _net(": a network partition separates the two servers")),
    ReasonCode("message_lost_cut", ("network", "partition"),
               "§5.1 and thesis §9.6: a partial partition breaks single links; both servers may "
               "still reach the others",
               _net(": the link between the two servers is cut (both still reach the others)")),
    ReasonCode("message_duplicated", ("network",),
               "§5.1: the network may duplicate messages; Raft's rules are idempotent",
               _duplicated),
]

# Beyond Figure 2: membership changes (paper §6, thesis §4) and elections (thesis §3.10, §6.2,
# §9.6); see raftbook.core.membership and raftbook.core.elections.
_MEMBERS = "Thesis §4.1: a server uses the newest configuration in its log, committed or not"


def _ids_or_none(ids):
    return "[" + ", ".join(_s(i) for i in ids) + "]"


def _adopted(f):
    what = (f"the joint configuration C_old,new = {_ids_or_none(f['old'])} + "
            f"{_ids_or_none(f['members'])}" if f.get("old") else
            f"the configuration {_ids_or_none(f['members'])}")
    where = f"from its log entry {f['index']}" if f["index"] else "it started with (its log holds none)"
    member = "" if f.get("member", True) else "; it is not a member, so it will not start elections"
    return f"now uses {what}, {where}{member}"


def _appended(f):
    what = (f"C_old,new (old {_ids_or_none(f['old'])}, new {_ids_or_none(f['members'])})"
            if f.get("old") else f"the configuration {_ids_or_none(f['members'])}")
    return f"appended {what} at index {f['index']} (term {f['term']}); it takes effect at once"


_TABLE += [
    ReasonCode("configuration_adopted", ("membership",), _MEMBERS, _adopted),
    ReasonCode("configuration_appended", ("membership", "leader"),
               "Thesis §4.1 and §4.2: the leader appends the new configuration to its log and "
               "replicates it; one change at a time", _appended),
    ReasonCode("catch_up_started", ("membership", "leader"),
               "Thesis §4.2.1: a new server first catches up as a non-voting learner",
               lambda f: (f"started catching up {_s(f['server'])} as a learner: it is added once its "
                          f"log reaches index {f['target']}")),
    ReasonCode("catch_up_done", ("membership", "leader"),
               "Thesis §4.2.1: once the new server has caught up, the leader adds it",
               lambda f: (f"saw {_s(f['server'])} catch up (match index {f['match_index']}), so it "
                          f"can join the configuration")),
    ReasonCode("joint_committed", ("membership", "leader", "commit"),
               "Paper §6: once C_old,new is committed the leader appends C_new",
               lambda f: (f"committed the joint configuration at index {f['index']}, so it now "
                          f"appends C_new = {_ids_or_none(f['members'])}")),
    ReasonCode("stepped_down_removed", ("membership", "leader"),
               "Thesis §4.2.2: a leader removed from the configuration steps down once the change "
               "commits",
               lambda f: (f"stepped down in term {f['term']}: the configuration at index "
                          f"{f['index']}, now committed, does not include it")),
    ReasonCode("election_skipped_not_member", ("membership", "election"),
               "Thesis §4.2.2: a server outside its configuration does not start elections",
               lambda f: (f"did not start an election: it is not in its configuration "
                          f"{_ids_or_none(f['members'])}")),
    ReasonCode("vote_ignored_not_member", ("membership", "vote"),
               "Thesis §4.1: a candidate counts votes from the configuration it uses",
               lambda f: (f"did not count the vote of {_s(f['voter'])} in term {f['term']}: "
                          f"{_s(f['voter'])} is not in its configuration {_ids_or_none(f['members'])}")),
    ReasonCode("vote_request_ignored_leader_alive", ("vote", "prevote"),
               "Thesis §4.2.3: within the minimum election timeout of hearing from a leader, a "
               "server neither updates its term nor grants its vote",
               lambda f: (f"ignored {_s(f['candidate'])}'s vote request for term {f['msg_term']} and "
                          f"kept term {f['term']}: it hears from a current leader "
                          f"({_s(f['leader'])})")),
    ReasonCode("pre_vote_started", ("prevote", "election"),
               "Thesis §9.6: before raising its term, a server asks whether it could win",
               lambda f: (f"started a pre-vote for term {f['term']}: it asks the others whether they "
                          f"would vote for it, without changing any term")),
    ReasonCode("pre_vote_granted", ("prevote",),
               "Thesis §9.6: a pre-vote is granted to an up-to-date log when no leader is heard",
               lambda f: (f"would vote for {_s(f['candidate'])} in term {f['msg_term']}, so it granted "
                          f"the pre-vote (its own term is unchanged)")),
    ReasonCode("pre_vote_refused_stale_term", ("prevote",),
               "Thesis §9.6: a pre-vote is for a term newer than the server's own",
               lambda f: (f"refused {_s(f['candidate'])} a pre-vote for term {f['msg_term']}: its own "
                          f"term is already {f['current_term']}")),
    ReasonCode("pre_vote_refused_leader_alive", ("prevote",),
               "Thesis §9.6 and §4.2.3: no pre-vote while a current leader is heard from",
               lambda f: (f"refused {_s(f['candidate'])} a pre-vote for term {f['msg_term']}: it "
                          f"hears from a leader ({_s(f['leader'])})")),
    ReasonCode("pre_vote_refused_log_not_up_to_date", ("prevote",),
               "Thesis §9.6 with §5.4.1: a pre-vote goes only to a log at least as up to date",
               lambda f: (f"refused {_s(f['candidate'])} a pre-vote for term {f['msg_term']}: its log "
                          f"is not as up to date ("
                          + up_to_date_comparison(f["candidate_last_term"], f["candidate_last_index"],
                                                  f["own_last_term"], f["own_last_index"]) + ")")),
    ReasonCode("pre_vote_received", ("prevote", "election"),
               "Thesis §9.6: pre-votes from a majority let the server start a real election",
               lambda f: (f"got a pre-vote from {_s(f['voter'])} for term {f['term']} ({f['votes']} "
                          f"of {f['needed']} needed)")),
    ReasonCode("pre_vote_denied_received", ("prevote",),
               "Thesis §9.6: a refused pre-vote does not count",
               lambda f: f"was refused a pre-vote by {_s(f['voter'])} for term {f['term']}"),
    ReasonCode("pre_vote_won", ("prevote", "election"),
               "Thesis §9.6: with pre-votes from a majority, the server raises its term and runs",
               lambda f: f"won the pre-vote for term {f['term']} and starts a real election"),
    ReasonCode("stepped_down_no_quorum", ("leader", "checkquorum"),
               "Thesis §6.2: a leader steps down when an election timeout passes without hearing "
               "from a majority (CheckQuorum)",
               lambda f: (f"stepped down in term {f['term']}: in the last election timeout it heard "
                          f"only from {_servers(f['heard'])}, fewer than a majority "
                          f"({f['needed']})")),
    ReasonCode("transfer_started", ("transfer", "leader"),
               "Thesis §3.10: to hand over, the leader stops taking proposals and brings the "
               "target up to date",
               lambda f: (f"started handing leadership to {_s(f['target'])} in term {f['term']} "
                          f"(its match index {f['match_index']}, the leader's last index "
                          f"{f['last_index']}) and takes no more proposals")),
    ReasonCode("timeout_now_sent", ("transfer", "leader"),
               "Thesis §3.10: once the target is up to date, the leader sends it TimeoutNow",
               lambda f: (f"sent TimeoutNow to {_s(f['target'])}: its log is up to date, so it may "
                          f"start an election now")),
    ReasonCode("timeout_now_received", ("transfer", "election"),
               "Thesis §3.10: on TimeoutNow a server starts an election at once",
               lambda f: (f"got TimeoutNow from {_s(f['leader'])} in term {f['term']} and starts an "
                          f"election at once")),
    ReasonCode("timeout_now_ignored", ("transfer",),
               "Thesis §3.10: a TimeoutNow from an older term, or to a leader, does nothing",
               lambda f: (f"ignored TimeoutNow from {_s(f['leader'])} (term {f['msg_term']}; its own "
                          f"term is {f['term']})")),
    ReasonCode("transfer_aborted", ("transfer", "leader"),
               "Thesis §3.10: a transfer that does not finish within an election timeout is "
               "abandoned and the leader takes proposals again",
               lambda f: (f"gave up handing leadership to {_s(f['target'])} in term {f['term']}: an "
                          f"election timeout passed")),
]


_CODES = {rc.code: rc for rc in _TABLE}

#: Every reason code raftbook records, sorted.
REASON_CODES = tuple(sorted(_CODES))

#: Each family name -> the codes in it (a family is a word to filter by: "vote", "commit", ...).
REASON_FAMILIES: dict = {}
for _rc in _TABLE:
    for _fam in _rc.families:
        REASON_FAMILIES.setdefault(_fam, []).append(_rc.code)
REASON_FAMILIES = {k: tuple(sorted(v)) for k, v in sorted(REASON_FAMILIES.items())}


def reason_code(code: str) -> ReasonCode:
    """What raftbook knows of ``code``: its families, its rule of the paper, its sentence."""
    rc = _CODES.get(code)
    if rc is None:
        raise InvalidArgument(f"unknown reason code {code!r}; the codes are {', '.join(REASON_CODES)}")
    return rc


def families_of(reason) -> tuple:
    """The families a reason belongs to (a stale reply is "vote" or "append" by its type)."""
    rc = _CODES.get(reason.code)
    if rc is None:
        return ()
    if reason.code == "reply_ignored_stale":
        extra = {"RequestVoteReply": "vote", "InstallSnapshotReply": "snapshot"}.get(
            reason.fields.get("type"), "append")
        return rc.families + (extra,)
    return rc.families


def rule_of(reason) -> str:
    """The rule of the Raft paper behind a reason ("" for a code raftbook does not know)."""
    rc = _CODES.get(reason.code)
    if rc is None:
        return ""
    if reason.code == "commit_advanced":  # the leader's rule, or the follower's
        if reason.fields.get("by") == "majority":
            return _COMMIT_LEADER
        if reason.fields.get("by") == "leader":
            return _COMMIT_FOLLOWER
    return rc.rule


def explain_reason(reason) -> str:
    """One plain-English sentence for a :class:`raftbook.cluster.Reason`."""
    rc = _CODES.get(reason.code)
    fields = reason.fields
    if rc is None:
        body = f"noted {reason.code} {fields}"
    else:
        try:
            body = rc.sentence({**fields, "_node": reason.node})
        except (KeyError, TypeError, ValueError):  # a handler noted this code with other fields
            body = f"noted {reason.code} {fields}"
    if fields.get("inferred"):
        body += " (seen from what the replaced handler did)"
    return f"S{reason.node} {body}."
