"""Transcript tests: readable scripts of cluster commands, each followed by its expected output.

Every ``tests/transcripts/*.txt`` file is a sequence of blocks::

    # a comment (the header says what the reader should notice)
    timeout 1
    ----
    S1 timed out and started an election for term 1
    sent #1 RequestVote S1→S2 t1 last=0/t0
    ...

A block is a command line (plus, for ``state``, more input lines), a line ``----``, and the
expected output up to the next blank line. The test runs every command on one cluster and
compares the output; a mismatch fails with a unified diff naming the file and line.
``RAFTBOOK_REWRITE=1`` writes the actual outputs back into the files instead (review the diff).
The format and the commands are described in docs/transcripts.md.

Only raftbook's public API is used, and every message is described here, with all the fields
a reader checks by hand, so a transcript pins down behaviour rather than display helpers.
"""
from __future__ import annotations

import difflib
import os
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import raftbook as rb

HERE = Path(__file__).parent / "transcripts"
FILES = sorted(HERE.glob("*.txt"))
REWRITE = os.environ.get("RAFTBOOK_REWRITE", "") not in ("", "0")
SEPARATOR = "----"
#: deliver-all stops after this many deliveries (a cluster that keeps talking forever is a bug
#: in the transcript, not a hang of the test suite).
DELIVER_ALL_LIMIT = 500


class TranscriptError(Exception):
    """A malformed command in a transcript file (not a raftbook error)."""


# -- parsing -----------------------------------------------------------------------------
@dataclass
class Block:
    line: int                   # 1-based line number of the command line
    command: str                # the command line
    input: list[str]            # further input lines before ----
    expected: list[str] | None  # None: no ---- yet (a new command: rewrite fills it in)
    span: tuple[int, int] = (0, 0)   # 0-based [start, end) of the lines this block occupies


@dataclass
class Transcript:
    path: Path
    lines: list[str]
    blocks: list[Block] = field(default_factory=list)


def parse(path: Path) -> Transcript:
    lines = path.read_text(encoding="utf-8").splitlines()
    t = Transcript(path, lines)
    i = 0
    while i < len(lines):
        text = lines[i]
        if not text.strip() or text.startswith("#"):
            i += 1
            continue
        start = i
        command, extra = text.strip(), []
        i += 1
        while i < len(lines) and lines[i].strip() and lines[i] != SEPARATOR:
            extra.append(lines[i].strip())
            i += 1
        expected = None
        if i < len(lines) and lines[i] == SEPARATOR:
            i += 1
            expected = []
            while i < len(lines) and lines[i].strip():
                expected.append(lines[i])
                i += 1
        t.blocks.append(Block(start + 1, command, extra, expected, (start, i)))
    return t


def render(t: Transcript, outputs: list[list[str]]) -> str:
    """The file again, with each block's output replaced by ``outputs``."""
    out, pos = [], 0
    for block, got in zip(t.blocks, outputs):
        start, end = block.span
        out.extend(t.lines[pos:start])
        out.append(block.command)
        out.extend(block.input)
        out.append(SEPARATOR)
        out.extend(got)
        pos = end
    out.extend(t.lines[pos:])
    return "\n".join(out) + "\n"


# -- describing state and messages -------------------------------------------------------
def command_text(command) -> str:
    if command is None:
        return "no-op"
    return " ".join(str(part) for part in command)


def entry_text(e) -> str:
    """``3:t2 set x 1``; an entry without a command (a no-op, or a hand-made entry) is ``3:t2``."""
    return f"{e.index}:t{e.term}" + ("" if e.command is None else f" {command_text(e.command)}")


def message_text(m) -> str:
    """One message with every field a reader checks by hand, in a fixed order."""
    name = type(m).__name__
    base = f"{name} S{m.src}→S{m.dst} t{m.term}"
    if getattr(m, "pre_vote", False):
        base += " pre-vote"
    if isinstance(m, rb.RequestVote):
        return f"{base} last={m.last_log_index}/t{m.last_log_term}"
    if isinstance(m, rb.RequestVoteReply):
        return f"{base} {'granted' if m.vote_granted else 'denied'}"
    if isinstance(m, rb.AppendEntries):
        entries = ", ".join(entry_text(e) for e in m.entries) if m.entries else "heartbeat"
        return (f"{base} prev={m.prev_log_index}/t{m.prev_log_term} [{entries}] "
                f"commit={m.leader_commit}")
    if isinstance(m, rb.AppendEntriesReply):
        if m.success:
            return f"{base} success match={m.match_index}"
        hint, index = "", getattr(m, "conflict_index", None)
        if index:
            term = m.conflict_term
            hint = (f" (hint: log ends before index {index})" if not term else
                    f" (hint: conflict term {term} from index {index})")
        return f"{base} failed{hint}"
    return base


def log_text(node) -> str:
    return " ".join(f"{e.index}:{e.term}" for e in node.log) or "-"


def kv_text(kv: dict) -> str:
    return "{" + ", ".join(f"{k}={kv[k]}" for k in sorted(kv, key=str)) + "}"


def status_lines(c) -> list[str]:
    out = []
    for i, node in sorted(c.nodes.items()):
        vote = "-" if node.voted_for is None else f"S{node.voted_for}"
        line = (f"S{i} {node.role.value:<9} term={node.current_term} vote={vote} "
                f"commit={node.commit_index} applied={node.last_applied} log: {log_text(node)}")
        if node.kv:
            line += f" kv={kv_text(node.kv)}"
        if node.role is rb.Role.LEADER:
            line += " match: " + " ".join(f"S{p}={node.match_index[p]}" for p in sorted(node.match_index))
        if i in c.crashed:
            line += " (crashed)"
        out.append(line)
    if c.groups is not None:
        out.append("partition: " + " | ".join(
            ",".join(str(i) for i in sorted(g)) for g in c.groups))
    if c.cuts:
        out.append("cut links: " + " ".join(f"S{a}-S{b}" for a, b in sorted(c.cuts)))
    return out


def reason_filter(words) -> set:
    """The reason codes named by ``words`` (codes or families); empty: all of them."""
    wanted = set()
    for word in words:
        if word not in rb.REASON_FAMILIES and word not in rb.REASON_CODES:
            raise TranscriptError(f"{word!r} is neither a reason code nor a family")
        wanted.update(rb.REASON_FAMILIES.get(word, (word,)))
    return wanted


def event_lines(ev, timed=False, show=()) -> list[str]:
    """An event: its summary, the messages it put in flight, the reasons recorded (only
    those of the codes in ``show``, if given)."""
    out = [f"t={ev.time} {ev.summary}"]
    if not timed:
        copies = {mid for _, what, mid, _, _ in ev.network if what == "duplicated"}
        for _, what, mid, msg, _ in ev.network:
            if what == "sent" and mid not in copies:
                out.append(f"sent #{mid} {message_text(msg)}")
    for r in ev.reasons:
        if show and r.code not in show:
            continue
        sentence = r.sentence()
        out.append(f"t={r.time} {sentence}" if timed else sentence)
    return out


# -- running commands ---------------------------------------------------------------------
def ints(text: str) -> list[int]:
    try:
        return [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise TranscriptError(f"expected numbers separated by commas, got {text!r}") from None


def value(text: str):
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return {"None": None, "True": True, "False": False}.get(text, text)


def split_args(words: list[str]) -> tuple[list[str], dict]:
    pos, kw = [], {}
    for w in words:
        if "=" in w:
            k, v = w.split("=", 1)
            kw[k] = [value(x) for x in v.split(",")] if "," in v else value(v)
        else:
            pos.append(w)
    return pos, kw


def make_config(kw: dict):
    if not kw:
        return None
    return rb.Config(**{k: tuple(v) if isinstance(v, list) else v for k, v in kw.items()})


class Runner:
    def __init__(self):
        self.c = None

    @property
    def cluster(self):
        if self.c is None:
            raise TranscriptError("no cluster yet: start with cluster, state or scenario")
        return self.c

    def run(self, block: Block) -> list[str]:
        words = block.command.split()
        name, args = words[0], words[1:]
        fn = getattr(self, "cmd_" + name.replace("-", "_"), None)
        if fn is None:
            raise TranscriptError(f"unknown command {name!r}")
        try:
            return fn(args, block.input)
        except rb.RaftbookError as exc:
            return [f"error: {type(exc).__name__}: {exc}"]

    # building a cluster
    def cmd_cluster(self, args, _):
        _, kw = split_args(args)
        n, seed = kw.pop("n", 5), kw.pop("seed", 0)
        self.c = rb.Cluster(n=n, seed=seed, config=make_config(kw))
        return status_lines(self.c)

    def cmd_state(self, args, lines):
        """``state [n=..] [seed=..] [config keys]`` then one line per server:
        ``S2 term=3 vote=1 commit=1 log: 1 1 2`` (log as terms; every field optional)."""
        _, kw = split_args(args)
        n, seed = kw.pop("n", None), kw.pop("seed", 0)
        nodes = {}
        for line in lines:
            head, _, log = line.partition("log:")
            words = head.split()
            if not words or not words[0].startswith("S"):
                raise TranscriptError(f"a state line starts with a server name like S1: {line!r}")
            st = {"log": [int(x) for x in log.split()]}
            for w in words[1:]:
                k, _, v = w.partition("=")
                key = {"term": "current_term", "vote": "voted_for", "commit": "commit_index"}.get(k)
                if key is None:
                    raise TranscriptError(f"unknown state field {k!r} in {line!r}")
                st[key] = int(v)
            nodes[int(words[0][1:])] = st
        self.c = rb.Cluster.from_state(nodes, n=n, seed=seed, config=make_config(kw))
        return status_lines(self.c)

    def cmd_scenario(self, args, _):
        """``scenario figure8 c`` or ``scenario figure7 follower=a``: rb.scenarios by name."""
        if not args:
            raise TranscriptError("scenario needs a name")
        pos, kw = split_args(args[1:])
        fn = rb.scenarios.SCENARIOS.get(args[0])
        if fn is None:
            raise TranscriptError(f"unknown scenario {args[0]!r}")
        self.c = fn(*pos, **kw)
        return status_lines(self.c)

    # reading
    def cmd_status(self, args, _):
        return status_lines(self.cluster)

    def cmd_flight(self, args, _):
        c = self.cluster
        return [f"#{e.id} {message_text(e.msg)}" for e in c.in_flight] or ["nothing in flight"]

    def cmd_history(self, args, _):
        """Every event so far (or from seq ``args[0]``), one line each."""
        start = int(args[0]) if args else 0
        return [f"{e.seq}: t={e.time} {e.summary}" for e in self.cluster.history[start:]] or [
            "no events"]

    def cmd_reasons(self, args, _):
        """``reasons [code or family ...] [from=seq]``: the sentences recorded so far, each with
        its event's seq and time (``reasons commit``, ``reasons vote_granted from=12``)."""
        pos, kw = split_args(args)
        start = kw.get("from", 0)
        wanted = reason_filter(pos)
        out = []
        for ev in self.cluster.history[start:]:
            for r in ev.reasons:
                if not wanted or r.code in wanted:
                    out.append(f"{ev.seq}: t={r.time} {r.sentence()}")
        return out or ["no such reasons"]

    def cmd_safety(self, args, _):
        try:
            rb.check_safety(self.cluster, full=True)
        except rb.SafetyViolation as v:
            return [f"violation of {v.property}: {v}"]
        return ["safe: the five properties hold"]

    def cmd_proposals(self, args, _):
        c = self.cluster
        out = []
        for p in c.proposals:
            st = c.status(p)
            line = f"proposal {p.id} {command_text(p.command)} at index {p.index} term {p.term}: {st}"
            if st == "committed":
                line += f", result {c.result(p)!r}"
            out.append(line)
        return out or ["no proposals"]

    # events
    def cmd_tick(self, args, _):
        """``tick [k]``: k ticks; a stretch of ticks where nothing happened is one line."""
        k = int(args[0]) if args else 1
        out, quiet = [], []

        def flush():
            if quiet:
                span = f"t={quiet[0].time + 1}" if len(quiet) == 1 else \
                    f"t={quiet[0].time + 1}..{quiet[-1].time + 1}"
                out.append(f"tick to {span}: nothing happened")
                quiet.clear()
        for _ in range(k):
            ev = self.cluster.tick()
            if ev.reasons or ev.network:
                flush()
                out.extend(event_lines(ev))
            else:
                quiet.append(ev)
        flush()
        return out

    def cmd_timeout(self, args, _):
        return event_lines(self.cluster.timeout(int(args[0])))

    def cmd_deliver(self, args, _):
        out = []
        for mid in ints("".join(args)):
            out.extend(event_lines(self.cluster.deliver(mid)))
        return out

    def cmd_deliver_all(self, args, _):
        """Deliver the oldest message in flight until none is left."""
        c, out = self.cluster, []
        for _ in range(DELIVER_ALL_LIMIT):
            if not c.in_flight:
                return out or ["nothing in flight"]
            out.extend(event_lines(c.deliver(c.in_flight[0].id)))
        raise TranscriptError(f"deliver-all: still messages in flight after {DELIVER_ALL_LIMIT}")

    def cmd_drop(self, args, _):
        out = []
        for mid in ints("".join(args)):
            out.extend(event_lines(self.cluster.drop(mid)))
        return out

    def cmd_duplicate(self, args, _):
        c = self.cluster
        c.duplicate(int(args[0]))
        return event_lines(c.history[-1])

    def cmd_crash(self, args, _):
        return event_lines(self.cluster.crash(int(args[0])))

    def cmd_restart(self, args, _):
        return event_lines(self.cluster.restart(int(args[0])))

    def cmd_partition(self, args, _):
        groups = [set(ints(g)) for g in " ".join(args).replace(" ", "").split("|")]
        return event_lines(self.cluster.partition(*groups))

    def cmd_heal(self, args, _):
        """``heal`` (everything) or ``heal 1 2`` (one cut link)."""
        return event_lines(self.cluster.heal(*ints(" ".join(args))))

    def cmd_cut(self, args, _):
        """``cut 1 2``: only the link between S1 and S2."""
        return event_lines(self.cluster.cut(*ints(" ".join(args))))

    def cmd_propose(self, args, _):
        """``propose set x 1 [to 2]``."""
        node = None
        if len(args) >= 2 and args[-2] == "to":
            node, args = int(args[-1]), args[:-2]
        command = tuple([args[0]] + [value(a) for a in args[1:]])
        c = self.cluster
        p = c.propose(command, node=node)
        return event_lines(c.history[-1]) + [
            f"proposal {p.id}: index {p.index}, term {p.term}, {c.status(p)}"]

    def cmd_run(self, args, _):
        """``run N [latency=lo,hi] [drop_rate=..] [show=family,code,..]``: one automatic run;
        reasons get their time, and ``show`` keeps only those of some families or codes."""
        pos, kw = split_args(args)
        if "latency" in kw:
            kw["latency"] = tuple(kw["latency"])
        show = kw.pop("show", [])
        show = reason_filter(show if isinstance(show, list) else [show])
        return event_lines(self.cluster.run(int(pos[0]), **kw), timed=True, show=show)


# -- the test ----------------------------------------------------------------------------
def run_transcript(t: Transcript) -> list[list[str]]:
    runner, outputs = Runner(), []
    for block in t.blocks:
        try:
            got = runner.run(block)
        except TranscriptError as exc:
            raise TranscriptError(f"{t.path.name}:{block.line}: {exc}") from None
        for line in got:
            assert line.strip() and "\n" not in line, \
                f"{t.path.name}:{block.line}: output must have no blank or multi-line lines: {got!r}"
        outputs.append(got)
    return outputs


def test_there_are_transcripts():
    assert len(FILES) >= 12


def check(path: Path, rewrite: bool) -> None:
    t = parse(path)
    outputs = run_transcript(t)
    if rewrite:
        text = render(t, outputs)
        if text != path.read_text(encoding="utf-8"):
            path.write_text(text, encoding="utf-8")
        return
    for block, got in zip(t.blocks, outputs):
        if block.expected is None:
            pytest.fail(f"{path.name}:{block.line}: `{block.command}` has no expected output "
                        "(a ---- line); run with RAFTBOOK_REWRITE=1 to fill it in", pytrace=False)
        if got != block.expected:
            diff = "\n".join(difflib.unified_diff(
                block.expected, got, "expected", "actual", lineterm=""))
            pytest.fail(f"{path.name}:{block.line}: output of `{block.command}` differs "
                        f"(RAFTBOOK_REWRITE=1 regenerates it):\n{diff}", pytrace=False)


@pytest.mark.parametrize("path", FILES, ids=[p.stem for p in FILES])
def test_transcript(path):
    check(path, REWRITE)


# -- the harness itself --------------------------------------------------------------------
def test_parse_and_render_round_trip(tmp_path):
    text = ("# header\n\ncluster n=3 seed=1\n----\nold\n\n# note\nstatus\n\n"
            "state seed=2\nS1 term=2 log: 1 2\n----\nx\ny\n")
    p = tmp_path / "t.txt"
    p.write_text(text)
    t = parse(p)
    assert [(b.line, b.command, b.input, b.expected) for b in t.blocks] == [
        (3, "cluster n=3 seed=1", [], ["old"]), (8, "status", [], None),
        (10, "state seed=2", ["S1 term=2 log: 1 2"], ["x", "y"])]
    assert render(t, [["old"], ["s"], ["x", "y"]]) == text.replace("status\n", "status\n----\ns\n")


def test_a_mismatch_names_the_file_and_line_and_shows_a_diff(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_text("# a comment\ncluster n=3 seed=1\n----\nS1 leader\n")
    with pytest.raises(pytest.fail.Exception) as info:
        check(p, rewrite=False)
    msg = str(info.value)
    assert "bad.txt:2" in msg and "-S1 leader" in msg and "+S1 follower" in msg
    check(p, rewrite=True)
    check(p, rewrite=False)
    assert p.read_text().startswith("# a comment\ncluster n=3 seed=1\n----\nS1 follower ")


def test_errors_are_output_not_crashes():
    r = Runner()
    r.run(Block(1, "cluster n=3 seed=1", [], None))
    assert r.run(Block(2, "restart 1", [], None))[0].startswith("error: InvalidState: ")
