"""The nbgrader course, end to end, without JupyterHub, in a temporary course folder.

Generate the release from the source notebooks; submit, for every assignment, a correct
notebook (full marks), one notebook per catalogued bug of its functions (the exact lower score
the catalogue predicts), and the untouched release notebook (zero); autograde them in one call
per assignment; read the scores from the gradebook. Source notebooks pass nbgrader's validator;
release notebooks fail it, and hold no solution code.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
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
}
POINTS = {"rules": 5, "scenarios": 3, "campaigns": 2}


def _env():
    env = dict(os.environ)
    # nbgrader runs its database migrations with the `alembic` script of its own environment.
    env["PATH"] = str(Path(sys.executable).parent) + os.pathsep + env.get("PATH", "")
    env.pop("JUPYTER_CONFIG_DIR", None)
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


def _submission(release_nb, source_nb, replace=None):
    """The release notebook with solutions filled in from the source (or a bug) per function."""
    nb = nbformat.reads(nbformat.writes(release_nb), as_version=4)
    src = _solution_cells(source_nb)
    for gid, cell in _solution_cells(nb).items():
        if replace and gid in replace:
            cell.source = f'from raftbook.exercises import BUGS\n{gid} = BUGS["{replace[gid]}"].fn\n'
        else:
            cell.source = src[gid].source
    return nb


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
                lost = sum(POINTS[layer] for layer in bug.fails)
                subs[f"bug_{name}"] = (_submission(release, source, {gid: name}), total - lost)
    expected = {}
    for student, (nb, score) in subs.items():
        path = root / "submitted" / student / aid / f"{nbname}.ipynb"
        path.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, path)
        (path.parent / "timestamp.txt").write_text("2026-01-01 12:00:00.000000 UTC")
        expected[(aid, student)] = score
    nbgrader(root, "autograde", aid, "--force")  # every student of the assignment in one call
    from nbgrader.api import Gradebook
    got = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for (_, student) in expected:
            sub = gb.find_submission(aid, student)
            got[(aid, student)] = (sub.score, sub.max_score)
    out, err = nbgrader(root, "validate", f"source/{aid}/{nbname}.ipynb", f"release/{aid}/{nbname}.ipynb",
                        check=False)
    verdicts = re.findall(r"^(Success!|VALIDATION FAILED)", out, re.M)
    return {"expected": expected, "got": got, "verdicts": verdicts, "validate": out + err,
            "release": root / "release" / aid / f"{nbname}.ipynb"}


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    """The four assignments' pipelines, run side by side (one course folder each)."""
    with ThreadPoolExecutor(max_workers=len(ASSIGNMENTS)) as pool:
        futures = {aid: pool.submit(_pipeline, tmp_path_factory.mktemp(aid), aid, nbname, functions)
                   for aid, (nbname, functions) in ASSIGNMENTS.items()}
        return {aid: f.result() for aid, f in futures.items()}


def test_every_submission_gets_the_score_its_bugs_predict(course):
    expected = {k: v for run in course.values() for k, v in run["expected"].items()}
    got = {k: score for run in course.values() for k, (score, _) in run["got"].items()}
    assert sum(1 for (_, s) in expected if s.startswith("bug_")) == len(BUGS)
    assert got == expected
    for aid, run in course.items():
        assert {m for (_, m) in run["got"].values()} == {20 if aid == "A4" else 10}
        assert run["expected"][(aid, "correct")] == (20 if aid == "A4" else 10)
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
                assert "### BEGIN HIDDEN TESTS" in cell.source and "rb.grade(" in cell.source
            if meta["solution"]:
                assert not meta["locked"] and "### BEGIN SOLUTION" in cell.source
            assert not cell.get("outputs")
        assert sum(c.metadata["nbgrader"].get("points", 0) for c in tests) == 10 * len(functions)
        assert any("rb.show(" in c.source for c in nb.cells)


def test_the_validator_passes_the_sources_and_fails_the_releases(course):
    for aid, run in course.items():
        assert run["verdicts"] == ["Success!", "VALIDATION FAILED"], run["validate"]
