"""The concept notebooks: each runs top to bottom in a fresh kernel, as a student would.

Also: the committed files are stripped of outputs, no cell is longer than a
screen, every notebook has the parts a student relies on (learning goals,
"try this" prompts, self-checks, a summary), and the self-check answers are
accepted when right and refused, with a hint, when wrong.
"""
from __future__ import annotations

import asyncio
import importlib.util
import re
import shutil
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

import raftbook as rb

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
CONCEPT = ("00_tour", "01_leader_election", "02_log_replication", "03_terms", "04_safety",
           "05_log_compaction", "06_changing_the_cluster")
#: Seconds one notebook may take, top to bottom, before the test gives up (a hang guard:
#: each takes a few seconds).
NOTEBOOK_TIMEOUT = 240
#: About a screen: no cell may be longer than this many lines.
MAX_CELL_LINES = 40
SELF_CHECK_TAG = "self-check"
CHECK_CALL = re.compile(r'^check\("([\w-]+)", (answer_\d+)\)$')
CHOOSE_CALL = re.compile(r'^choose\("([\w-]+)"\)$')

#: The right answer to every self-check question (what the notebooks' prose and scenarios say).
ANSWERS = {
    "tour-1": 4, "tour-2": 1, "tour-3": "c",
    "election-1": 4, "election-2": "no", "election-3": "yes", "election-4": "b",
    "replication-1": 2, "replication-2": "no", "replication-3": [1, 1, 3, 3], "replication-4": 2,
    "terms-1": "b", "terms-2": "b", "terms-3": 2, "terms-4": "c",
    "safety-1": "no", "safety-2": "yes", "safety-3": "no", "safety-4": "c",
    "compaction-1": 4, "compaction-2": "b", "compaction-3": "no", "compaction-4": "b",
    "membership-1": 3, "membership-2": "no", "membership-3": "c", "membership-4": 2,
    "membership-5": "b", "membership-6": "no", "membership-7": "b", "membership-8": "a",
    "membership-9": "a",
}


def _load(name: str, path: Path):
    """Import a module from a file without leaving __pycache__ next to it."""
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    before, sys.dont_write_bytecode = sys.dont_write_bytecode, True
    try:
        spec.loader.exec_module(module)
    finally:
        sys.dont_write_bytecode = before
    return module


strip = _load("strip_notebooks", ROOT / "scripts" / "strip_notebooks.py")
selfcheck = _load("selfcheck", NOTEBOOKS / "selfcheck.py")


def read(stem: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4)


def all_notebooks() -> list[str]:
    return sorted(p.stem for p in NOTEBOOKS.glob("*.ipynb"))


def self_checks(nb) -> list[tuple[str, str | None]]:
    """(question id, answer variable) of every self-check cell, in order; the variable is
    None for a question answered by clicking (``choose("id")``)."""
    found = []
    for cell in nb.cells:
        if SELF_CHECK_TAG in cell.metadata.get("tags", []):
            m = CHECK_CALL.match(cell.source.strip())
            if m is None:
                m = CHOOSE_CALL.match(cell.source.strip())
                assert m, ("a self-check cell must be one call check(\"id\", answer_k) or "
                           f"choose(\"id\"); got {cell.source!r}")
                found.append((m.group(1), None))
            else:
                found.append(m.groups())
    return found


# -- the committed files ----------------------------------------------------------------

def test_the_five_concept_notebooks_are_there():
    missing = [s for s in CONCEPT if not (NOTEBOOKS / f"{s}.ipynb").is_file()]
    assert not missing, f"missing notebooks: {missing}"


@pytest.mark.parametrize("stem", all_notebooks())
def test_committed_notebook_is_stripped(stem):
    nb = read(stem)
    nbformat.validate(nb)
    assert strip.problems(nb) == [], (
        f"{stem}.ipynb holds outputs or run-time metadata: run python scripts/strip_notebooks.py")


@pytest.mark.parametrize("stem", all_notebooks())
def test_no_cell_is_longer_than_a_screen(stem):
    long = [(k, len(c.source.splitlines())) for k, c in enumerate(read(stem).cells)
            if len(c.source.splitlines()) > MAX_CELL_LINES]
    assert not long, f"{stem}: cells longer than {MAX_CELL_LINES} lines (cell, lines): {long}"


def test_strip_tool_removes_outputs_counts_and_metadata(tmp_path):
    nb = read(CONCEPT[0])
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("stream", text="hello\n")]
    code.execution_count = 7
    code.metadata["collapsed"] = True
    nb.metadata["widgets"] = {"state": {}}
    assert len(strip.problems(nb)) == 4
    path = tmp_path / "dirty.ipynb"
    nbformat.write(nb, path)
    assert strip.main(["--check", str(path)]) == 1
    assert strip.main([str(path)]) == 0
    clean = nbformat.read(path, as_version=4)
    assert strip.problems(clean) == [] and clean.cells == read(CONCEPT[0]).cells
    assert strip.main(["--check", str(path)]) == 0


@pytest.mark.parametrize("stem", CONCEPT)
def test_notebook_has_goals_try_this_self_checks_and_summary(stem):
    nb = read(stem)
    text = "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")
    assert re.search(r"learning goals|by the end of this tour", nb.cells[0].source, re.I), \
        f"{stem}: the first cell states no learning goals"
    assert "**Try this" in text, f"{stem}: no 'Try this' prompt"
    assert "## Summary" in text, f"{stem}: no summary"
    checks = self_checks(nb)
    assert len(checks) >= 3, f"{stem}: only {len(checks)} self-check questions"
    sources = [c.source for c in nb.cells]
    for qid, var in checks:
        assert qid in selfcheck.QUESTIONS, f"{stem}: unknown self-check question {qid!r}"
        clicked = selfcheck.QUESTIONS[qid][2] in ("choice", "yesno")
        assert clicked == (var is None), f"{stem}: {qid} must be answered by " + \
            ("clicking (choose)" if clicked else "typing (check)")
        if var is not None:
            # The committed answer is None, so the notebook runs top to bottom unanswered.
            assert f"{var} = None" in sources, f"{stem}: {var} must default to None in its own cell"


def test_every_question_is_asked_once_and_has_an_answer_in_this_test():
    asked = [qid for stem in CONCEPT for qid, _ in self_checks(read(stem))]
    assert len(asked) == len(set(asked)), "a question is asked twice"
    assert sorted(asked) == sorted(selfcheck.QUESTIONS) == sorted(ANSWERS)


# -- the self-check questions ------------------------------------------------------------

def a_wrong_answer(right):
    if isinstance(right, list):
        return right[::-1]
    if isinstance(right, int):
        return right + 1
    return {"yes": "no", "no": "yes"}.get(right) or ("a" if right != "a" else "b")


@pytest.mark.parametrize("qid", sorted(ANSWERS))
def test_self_check_accepts_the_right_answer_and_refuses_a_wrong_one(qid, capsys):
    selfcheck.check(qid, ANSWERS[qid])
    assert capsys.readouterr().out.startswith(selfcheck.RIGHT)
    selfcheck.check(qid, a_wrong_answer(ANSWERS[qid]))
    out = capsys.readouterr().out
    hint = selfcheck.QUESTIONS[qid][1]
    assert out.startswith(selfcheck.WRONG) and hint in out


@pytest.mark.parametrize("qid", sorted(ANSWERS))
def test_a_click_on_an_option_says_right_or_not_quite(qid):
    if selfcheck.QUESTIONS[qid][2] not in ("choice", "yesno"):
        assert selfcheck.choose(qid) is None  # typed, not clicked
        return
    box = selfcheck.choose(qid)
    assert box.choice.value is None and box.feedback.value.startswith(selfcheck.UNANSWERED)
    offered = [value for _, value in box.choice.options]
    assert ANSWERS[qid] in offered and len(offered) >= 2
    for value in offered:
        box.choice.value = value
        if value == ANSWERS[qid]:
            assert box.feedback.value == selfcheck.RIGHT
        else:
            assert box.feedback.value.startswith(selfcheck.WRONG)


def test_self_check_is_forgiving_about_form_and_never_raises(capsys):
    for qid, answer in [("tour-3", "(C)"), ("tour-3", " c "), ("tour-1", "4"), ("tour-1", 4.0),
                        ("tour-1", "4 messages"), ("tour-1", "four"), ("safety-3", "no."),
                        ("safety-3", "No!"), ("replication-4", "2 entries"),
                        ("safety-4", "leader completeness"), ("safety-4", "leader_completeness"),
                        ("terms-4", "commit_index"), ("terms-4", "`commit_index`"),
                        ("replication-3", "[1 1 3 3]"), ("replication-3", "1, 1, 3, 3"),
                        ("election-2", False), ("election-3", "Yes"),
                        ("replication-3", (1, 1, 3, 3)), ("replication-3", "[1, 1, 3, 3]")]:
        selfcheck.check(qid, answer)
        assert capsys.readouterr().out.startswith(selfcheck.RIGHT), (qid, answer)
    selfcheck.check("replication-3", [3, 3, 1, 1])  # a log is a sequence: order matters
    assert capsys.readouterr().out.startswith(selfcheck.WRONG)


@pytest.mark.parametrize("qid, answer, expected", [
    ("tour-3", rb.Cluster(3), "one of the options"),  # answer_3 = c: the cluster, not the letter
    ("tour-1", rb.Cluster(3), "a whole number"),
    ("tour-1", "a lot", "a whole number"),
    ("tour-1", 4.5, "a whole number"),
    ("replication-3", "three and three", "a list of numbers"),
    ("safety-1", "maybe", "yes or no"),
    ("tour-3", "z", "one of the options"),
])
def test_an_answer_of_the_wrong_form_says_what_form_is_expected(qid, answer, expected, capsys):
    selfcheck.check(qid, answer)
    out = capsys.readouterr().out
    assert out.startswith(selfcheck.WRONG_FORM) and expected in out
    assert selfcheck.QUESTIONS[qid][1] not in out  # the hint is for wrong answers, not wrong forms
    selfcheck.check("tour-1", None)
    assert capsys.readouterr().out.startswith(selfcheck.UNANSWERED)
    selfcheck.check("no-such-question", 1)
    assert "no self-check question" in capsys.readouterr().out


def test_answers_are_not_stored_in_plain_text():
    source = (NOTEBOOKS / "selfcheck.py").read_text(encoding="utf-8")
    for qid in ANSWERS:
        assert f'"{qid}": ((' in source  # digests, not answers
    assert "[1, 1, 3, 3]" not in source


# -- running them ------------------------------------------------------------------------

def execute(stem: str, workdir: Path) -> nbformat.NotebookNode:
    """Run a copy of the notebook top to bottom in a fresh kernel; raise on the first error."""
    nb = read(stem)
    client = NotebookClient(nb, timeout=NOTEBOOK_TIMEOUT, kernel_name="python3",
                            resources={"metadata": {"path": str(workdir)}})
    try:
        asyncio.run(asyncio.wait_for(client.async_execute(), NOTEBOOK_TIMEOUT))
    except asyncio.TimeoutError:
        pytest.fail(f"{stem} did not finish within {NOTEBOOK_TIMEOUT} s")
    return nb


def text_of(cell) -> str:
    parts = []
    for out in cell.get("outputs", []):
        if out.output_type == "stream":
            parts.append(out.text)
        elif out.output_type in ("execute_result", "display_data"):
            parts.append(out.get("data", {}).get("text/plain", ""))
            parts.append(out.get("data", {}).get("text/html", ""))
    return "".join(parts)


WIDGET = "application/vnd.jupyter.widget-view+json"
#: A table cell pandas cut short: its text ends in "..." (or "…") where max_colwidth stopped it.
CUT_HTML = re.compile(r"<t[dh][^>]*>([^<]{20,}?)(\.\.\.|…)</t[dh]>")
CUT_PLAIN = re.compile(r"\S+(\.\.\.|…)(?=\s|$)")


def cut_texts(cell) -> list[str]:
    """Every piece of text in a cell's output that a table display cut short."""
    cut = []
    for out in cell.get("outputs", []):
        data = out.get("data", {})
        if WIDGET in data:
            continue  # a widget's text/plain is its repr, not what a student sees
        html = data.get("text/html", "")
        cut += [m.group(0) for m in CUT_HTML.finditer(html)]
        if not html:  # a plain-text table (print of a frame, a repr)
            text = out.get("text", "") + data.get("text/plain", "")
            cut += [m.group(0) for m in CUT_PLAIN.finditer(text)]
    return cut


def test_the_cut_detector_sees_a_sentence_pandas_cut():
    import pandas as pd
    frame = pd.DataFrame({"sentence": ["S1 did not commit index 2 although 3 servers hold it, "
                                       "because it is from an earlier term."]})
    shown = {"output_type": "execute_result",
             "data": {"text/html": frame._repr_html_(), "text/plain": repr(frame)}}
    assert cut_texts({"outputs": [shown]})
    printed = {"output_type": "stream", "text": repr(frame)}
    assert cut_texts({"outputs": [printed]})
    whole = {"output_type": "stream", "text": "x: the whole sentence, to its end...\n"}
    assert cut_texts({"outputs": [whole]})  # a sentence ending in "..." looks cut: avoid it


@pytest.fixture(scope="module")
def workdir(tmp_path_factory):
    """A copy of notebooks/, so a run never writes into the repository."""
    work = tmp_path_factory.mktemp("notebooks") / "notebooks"
    shutil.copytree(NOTEBOOKS, work, ignore=shutil.ignore_patterns(
        "*.ipynb", "__pycache__", ".ipynb_checkpoints"))
    return work


@pytest.mark.parametrize("stem", CONCEPT)
def test_notebook_runs_top_to_bottom(stem, workdir):
    nb = execute(stem, workdir)
    outputs = [text_of(c) for c in nb.cells if c.cell_type == "code"]
    everything = "\n".join(outputs)
    assert 'data-raftbook="cluster' in everything, f"{stem} never shows a cluster picture"
    assert "Traceback" not in everything
    # The self-check cells ran and, unanswered, say so (without failing the run).
    checks = [c for c in nb.cells if SELF_CHECK_TAG in c.metadata.get("tags", [])]
    assert checks
    for cell in checks:
        if cell.source.startswith("choose("):  # the options, as buttons
            assert any(WIDGET in o.get("data", {}) for o in cell.outputs), cell.source
        else:
            assert text_of(cell).startswith(selfcheck.UNANSWERED), text_of(cell)
    for cell in nb.cells:
        if cell.cell_type == "code":
            cut = cut_texts(cell)
            assert not cut, f"{stem}: the output of {cell.source[:60]!r} cuts {cut[:3]}"
    if stem != "00_tour":  # the concept notebooks draw at least one plot
        assert any("image/png" in o.get("data", {}) for c in nb.cells
                   for o in c.get("outputs", [])), f"{stem} draws no plot"
