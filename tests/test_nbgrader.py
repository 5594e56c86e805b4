"""The nbgrader course, end to end, without JupyterHub, in a temporary course folder.

Generate the release from the source notebooks; submit, for every assignment, a correct
notebook (full marks), one notebook per catalogued bug of its functions (the exact lower score
the catalogue predicts), a notebook that hands in a bug and then replaces the grader, the report
class, the safety monitor, random and a builtin in its own kernel (exactly the bug's score), one
that hands in the reference rule (no points for that function), and the untouched release notebook
(zero); autograde them in one call per assignment, at an instructor's hidden seed; read the scores
from the gradebook. A submission whose function loops forever is autograded on its own and must
finish within 60 s. Source notebooks pass nbgrader's validator; release notebooks fail it, and
hold no solution code.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import nbformat
import pytest

from raftbook.exercises import BUGS

pytest.importorskip("nbgrader")

COURSE = Path(__file__).resolve().parent.parent / "course"
#: assignment -> (notebook name, {graded function name in the notebook: handler name})
ASSIGNMENTS = {
    "A1": ("A1_elections", {"handle_request_vote": "request_vote"}),
    "A2": ("A2_replication", {"handle_append_entries": "append_entries"}),
    "A3": ("A3_bookkeeping", {"handle_append_entries_reply": "append_entries_reply"}),
    "A4": ("A4_commitment", {"advance_commit_index": "advance_commit_index",
                             "apply_committed": "apply_committed"}),
    "A5": ("A5_snapshots", {"handle_install_snapshot": "install_snapshot",
                            "handle_request_vote_persistent": "request_vote_persistent"}),
    "A6": ("A6_prevote", {"handle_pre_vote": "pre_vote"}),
}
POINTS = {"rules": 5, "scenarios": 3, "campaigns": 2}
#: The instructor's hidden seed in this test (a real course keeps its own, see nbgrader_config.py).
INSTRUCTOR_SEED = "7"
#: Per assignment: the bug a cheating submission hands in, before replacing the grader in its kernel.
CHEATS = {"A1": "up_to_date_by_length", "A2": "commit_capped_by_log_length",
          "A3": "act_on_stale_replies", "A4": "majority_of_followers_only",
          "A5": "snapshot_term_checked_last", "A6": "pre_vote_skips_log_check"}
#: What a cheating notebook does in its own kernel after defining its (buggy) function.
TAMPER = """
import builtins, random
import raftbook.exercises.report as _report
_g = rb.grade
rb.grade = lambda name, fn, *a, **k: _g(name, rb.reference_handlers[name], *a, **k)
_report.GradeReport.passed = property(lambda self: True)
_report.LayerResult.passed = property(lambda self: True)
_report.GradeReport.__bool__ = lambda self: True
rb.check_safety = lambda *a, **k: None
random.seed(0)
random.random = lambda: 0.5
builtins.any = lambda items: False
"""
LOOPING = "def {gid}(*args):\n    while True:\n        pass\n"


def _env():
    env = dict(os.environ)
    # nbgrader runs its database migrations with the `alembic` script of its own environment.
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.pop("JUPYTER_CONFIG_DIR", None)
    env["RAFTBOOK_HIDDEN_SEED"] = INSTRUCTOR_SEED
    return env


def nbgrader(root, *args, check=True):
    """Run one nbgrader command in the course folder ``root``; returns (stdout, stderr)."""
    proc = subprocess.run([sys.executable, "-m", "nbgrader", *args], cwd=root, env=_env(),
                          capture_output=True, text=True, timeout=1500)
    if check and proc.returncode != 0:
        raise AssertionError(f"nbgrader {' '.join(args)} failed:\n{proc.stdout}\n{proc.stderr}")
    return proc.stdout, proc.stderr


def _solution_cells(nb):
    return {c.metadata["nbgrader"]["grade_id"]: c for c in nb.cells
            if c.metadata.get("nbgrader", {}).get("solution")}


def _submission(release_nb, source_nb, replace=None, code=None):
    """The release notebook with solutions filled in from the source, a bug (``replace``) or
    given code (``code``) per function."""
    nb = nbformat.reads(nbformat.writes(release_nb), as_version=4)
    src = _solution_cells(source_nb)
    for gid, cell in _solution_cells(nb).items():
        if replace and gid in replace:
            cell.source = f'from raftbook.exercises import BUGS\n{gid} = BUGS["{replace[gid]}"].fn\n'
        elif code and gid in code:
            cell.source = code[gid]
        else:
            cell.source = src[gid].source
    return nb


def _lost(bug_name):
    return sum(POINTS[layer] for layer in BUGS[bug_name].fails)


def _pipeline(root, aid, nbname, functions):
    """One assignment in its own course folder: release, submissions, autograde, validate."""
    shutil.copy(COURSE / "nbgrader_config.py", root)
    shutil.copytree(COURSE / "source" / aid, root / "source" / aid)
    nbgrader(root, "generate_assignment", aid, "--force")
    release = nbformat.read(root / "release" / aid / f"{nbname}.ipynb", as_version=4)
    source = nbformat.read(root / "source" / aid / f"{nbname}.ipynb", as_version=4)
    total = 10 * len(functions)
    subs = {"correct": (_submission(release, source), total), "untouched": (release, 0)}
    for name, bug in BUGS.items():
        for gid, handler in functions.items():
            if bug.handler == handler:
                subs[f"bug_{name}"] = (_submission(release, source, {gid: name}), total - _lost(name))
    cheat = CHEATS[aid]
    gid = next(g for g, h in functions.items() if h == BUGS[cheat].handler)
    tampered = _submission(release, source, {gid: cheat})
    _solution_cells(tampered)[gid].source += TAMPER
    subs["tamper"] = (tampered, total - _lost(cheat))
    gid, handler = next(iter(functions.items()))
    if aid == "A1":  # hands in a bug, and edits every test cell to pass: nbgrader restores them
        edited = _submission(release, source, {gid: CHEATS[aid]})
        for cell in edited.cells:
            if cell.metadata.get("nbgrader", {}).get("grade"):
                cell.source = "pass\n"
        subs["edited"] = (edited, total - _lost(CHEATS[aid]))
    subs["reference"] = (_submission(release, source, code={
        gid: f'import raftbook.rules\n{gid} = raftbook.rules.reference_handlers_all["{handler}"]\n'}), total - 10)
    expected = {}
    for student, (nb, score) in subs.items():
        path = root / "submitted" / student / aid / f"{nbname}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
        (path.parent / "timestamp.txt").write_text("2026-01-01 12:00:00.000000 UTC")
        expected[(aid, student)] = score
    out, err = nbgrader(root, "autograde", aid, "--force")  # every student of the assignment in one call
    changed = re.findall(r"Attribute '(\w+)' for cell (\S+) has changed", out + err)
    from nbgrader.api import Gradebook
    got = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for (_, student) in expected:
            sub = gb.find_submission(aid, student)
            got[(aid, student)] = (sub.score, sub.max_score)
    out, err = nbgrader(root, "validate", f"source/{aid}/{nbname}.ipynb", f"release/{aid}/{nbname}.ipynb",
                        check=False)
    verdicts = re.findall(r"^(Success!|VALIDATION FAILED)", out, re.M)
    feedback = None
    if aid == "A1":
        nbgrader(root, "generate_feedback", aid, "--student", f"bug_{CHEATS[aid]}", "--force")
        feedback = next((root / "feedback" / f"bug_{CHEATS[aid]}" / aid).glob("*.html")).read_text()
    return {"expected": expected, "got": got, "verdicts": verdicts, "validate": out + err,
            "release": root / "release" / aid / f"{nbname}.ipynb", "changed": changed, "root": root,
            "source": source,
            "feedback": feedback}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The assignments' pipelines, run side by side (one course folder each)."""
    with ThreadPoolExecutor(max_workers=len(ASSIGNMENTS)) as pool:
        futures = {aid: pool.submit(_pipeline, tmp_path_factory.mktemp(aid), aid, nbname, functions)
                   for aid, (nbname, functions) in ASSIGNMENTS.items()}
        return {aid: f.result() for aid, f in futures.items()}


def test_every_submission_gets_the_score_its_bugs_predict(course):
    expected = {k: v for run in course.values() for k, v in run["expected"].items()}
    got = {k: score for run in course.values() for k, (score, _) in run["got"].items()}
    # every catalogued bug is handed in once, as the function of the notebook that asks for it
    assert {name for _, functions in ASSIGNMENTS.values() for name in functions.values()} >= \
        {bug.handler for bug in BUGS.values()}
    assert sorted(s[len("bug_"):] for (_, s) in expected if s.startswith("bug_")) == sorted(BUGS)
    assert got == expected
    # Tampering with the kernel scores exactly what the handed-in bug deserves, never more.
    for aid, run in course.items():
        assert run["got"][(aid, "tamper")][0] == run["got"][(aid, f"bug_{CHEATS[aid]}")][0] < \
            run["got"][(aid, "correct")][0]
        assert run["got"][(aid, "reference")][0] == run["got"][(aid, "correct")][0] - 10


def test_only_a_real_edit_of_a_test_cell_draws_a_checksum_warning(course):
    # nbgrader warns when a locked cell's checksum differs from the gradebook's, and restores the
    # cell. Untouched cells never differ (there is no hidden code to clear); the A1 submission
    # that replaced its three test cells with `pass` is caught, cell by cell, and still scores
    # only what its function deserves (the score test above).
    assert course["A1"]["changed"] == [("checksum", gid) for gid in ("a1_rules", "a1_scenarios", "a1_campaigns")]
    for aid in ("A2", "A3", "A4", "A5", "A6"):
        assert course[aid]["changed"] == []


def test_a_looping_submission_is_autograded_within_a_minute(course):
    # Alone, once the other assignments' pipelines are done, as an instructor would see it.
    root, (nbname, functions) = course["A1"]["root"], ASSIGNMENTS["A1"]
    gid = next(iter(functions))
    release = nbformat.read(root / "release" / "A1" / f"{nbname}.ipynb", as_version=4)
    path = root / "submitted" / "looping" / "A1" / f"{nbname}.ipynb"
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(_submission(release, course["A1"]["source"], code={gid: LOOPING.format(gid=gid)}), path)
    (path.parent / "timestamp.txt").write_text("2026-01-01 12:00:00.000000 UTC")
    t = time.perf_counter()
    nbgrader(root, "autograde", "A1", "--student", "looping", "--force")
    spent = time.perf_counter() - t
    from nbgrader.api import Gradebook
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        assert gb.find_submission("A1", "looping").score == 0
    assert spent < 60


def test_the_feedback_page_shows_a_static_picture_of_the_failing_run(course):
    page = course["A1"]["feedback"]
    assert "raftbook-grade" in page and "<svg" in page and "data-node=" in page
    assert "The servers where the shortest failing run ends" in page
    for aid, run in course.items():
        points = 20 if aid in ("A4", "A5") else 10
        assert {m for (_, m) in run["got"].values()} == {points}
        assert run["expected"][(aid, "correct")] == points
        assert run["expected"][(aid, "untouched")] == 0


def test_release_notebooks_hold_no_solution_and_match_the_committed_release(course):
    for aid, (nbname, functions) in ASSIGNMENTS.items():
        fresh = nbformat.read(course[aid]["release"], as_version=4)
        committed = nbformat.read(COURSE / "release" / aid / f"{nbname}.ipynb", as_version=4)
        assert [c.source for c in fresh.cells] == [c.source for c in committed.cells], \
            f"course/release/{aid} is out of date: run `nbgrader generate_assignment {aid} --force` in course/"
        text = json.dumps([c.source for c in committed.cells])
        assert "BEGIN SOLUTION" not in text and "BEGIN HIDDEN TESTS" not in text
        assert "HIDDEN_SEED" not in text
        for gid, cell in _solution_cells(committed).items():
            assert "raise NotImplementedError()" in cell.source and f"def {gid}(" in cell.source
            assert "become_follower" not in cell.source and "match_index" not in cell.source
        for cell in committed.cells:
            assert not cell.get("outputs") and cell.get("execution_count") is None


def test_source_notebooks_are_well_formed_nbgrader_notebooks():
    for aid, (nbname, functions) in ASSIGNMENTS.items():
        nb = nbformat.read(COURSE / "source" / aid / f"{nbname}.ipynb", as_version=4)
        nbformat.validate(nb)
        ids = [c.metadata["nbgrader"]["grade_id"] for c in nb.cells if "nbgrader" in c.metadata]
        assert len(ids) == len(set(ids))
        tests = [c for c in nb.cells if c.metadata.get("nbgrader", {}).get("grade")]
        assert len(tests) == 3 * len(functions)
        for cell in nb.cells:
            meta = cell.metadata.get("nbgrader")
            if meta is None:
                continue
            assert meta["schema_version"] == 3
            if meta["grade"]:
                assert meta["locked"] and meta["points"] in POINTS.values()
                # One isolated check, which adds the instructor's hidden seed at autograde time: no
                # hidden code, so the released cell is the source cell and nbgrader's checksums agree.
                assert "rb.exercises.check(" in cell.source and "HIDDEN" not in cell.source
                assert "seed" not in cell.source.split("rb.exercises.check(")[1]
                # A graded cell assigns no variable, so the student's `report` survives Run All.
                assert not re.search(r"^\s*\w+\s*=", cell.source, re.M)
            if meta["solution"]:
                assert not meta["locked"] and "### BEGIN SOLUTION" in cell.source
            assert not cell.get("outputs")
        assert sum(c.metadata["nbgrader"].get("points", 0) for c in tests) == 10 * len(functions)
        release = nbformat.read(COURSE / "release" / aid / f"{nbname}.ipynb", as_version=4)
        assert [c.source for c in tests] == [c.source for c in release.cells
                                             if c.metadata.get("nbgrader", {}).get("grade")]
        assert any("rb.show(" in c.source for c in nb.cells)


def test_the_validator_passes_the_sources_and_fails_the_releases(course):
    for aid, run in course.items():
        assert run["verdicts"] == ["Success!", "VALIDATION FAILED"], run["validate"]
