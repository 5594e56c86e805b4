"""docs/figure2.md stays true: its links, reason codes and rule cases all exist.

The table maps each sentence of Figure 2 to a line of code. Code moves; this
test fails as soon as a link points outside the function it names, or a
reason code or grader rule case it quotes no longer exists.
"""
from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from raftbook.exercises import grader  # noqa: F401  (registers every rule case)
from raftbook.exercises.rulecase import CASES
from raftbook.explain.reasons import REASON_CODES

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "figure2.md"

#: The actions of the Raft TLA+ specification.
TLA_ACTIONS = {"Restart", "Timeout", "RequestVote", "BecomeLeader", "ClientRequest",
               "AdvanceCommitIndex", "AppendEntries", "HandleRequestVoteRequest",
               "HandleRequestVoteResponse", "HandleAppendEntriesRequest",
               "HandleAppendEntriesResponse", "UpdateTerm", "Receive", "DuplicateMessage",
               "DropMessage"}

_CODE = re.compile(r"^`(?P<func>[\w.]+)` \[(?P<file>[\w.]+):(?P<line>\d+)\]"
                   r"\(\.\./(?P<path>[\w/.]+)#L(?P<anchor>\d+)\)$")


def _rows():
    rows = []
    for line in DOC.read_text().splitlines():
        if not line.startswith("| ") or line.startswith("| Figure 2 says"):
            continue
        cells = [c.strip() for c in line.strip().strip("|").split(" | ")]
        assert len(cells) == 5, f"a row of docs/figure2.md has {len(cells)} cells: {line}"
        rows.append(cells)
    return rows


def _names(cell):
    return [] if cell == "—" else re.findall(r"`([^`]+)`", cell)


def _function_span(path: Path, qualname: str):
    """First and last line of a function (``Class.method`` for a method)."""
    body = ast.parse(path.read_text()).body
    node = None
    for part in qualname.split("."):
        node = next((n for n in body if isinstance(n, (ast.FunctionDef, ast.ClassDef))
                     and n.name == part), None)
        assert node is not None, f"{path.name} has no {qualname}"
        body = node.body
    return node.lineno, node.end_lineno


ROWS = _rows()


def test_the_table_covers_every_part_of_figure_2():
    text = DOC.read_text()
    for heading in ("State", "AppendEntries RPC, receiver", "RequestVote RPC, receiver",
                    "Rules for Servers: all servers", "Rules for Servers: followers",
                    "Rules for Servers: candidates", "Rules for Servers: leaders", "§5.4 Safety"):
        assert f"\n## {heading}\n" in text, f"docs/figure2.md has no section {heading!r}"
    assert len(ROWS) >= 25


@pytest.mark.parametrize("row", ROWS, ids=lambda r: r[1].split("`")[1])
def test_each_link_points_into_the_named_function(row):
    m = _CODE.match(row[1])
    assert m, f"the code cell should read `function` [file.py:N](../path#LN): {row[1]!r}"
    assert m["line"] == m["anchor"], row[1]
    path = ROOT / m["path"]
    assert path.name == m["file"] and path.is_file(), row[1]
    first, last = _function_span(path, m["func"])
    assert first <= int(m["line"]) <= last, \
        f"{m['file']}:{m['line']} is outside {m['func']} (lines {first}-{last})"


def test_reason_codes_rule_cases_and_tla_actions_exist():
    cases = {c.key for cs in CASES.values() for c in cs}
    for sentence, _, reasons, rule_cases, tla in ROWS:
        for code in _names(reasons):
            assert code in REASON_CODES, f"unknown reason code {code!r} for: {sentence}"
        for name in _names(rule_cases):
            assert name in cases, f"unknown grader rule case {name!r} for: {sentence}"
        for action in ([] if tla == "—" else [a.strip() for a in tla.split(",")]):
            assert action in TLA_ACTIONS, f"{action!r} is not a TLA+ action, for: {sentence}"
