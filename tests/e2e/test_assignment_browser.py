"""An nbgrader assignment done in the browser, as a student does it.

The student opens a released assignment, runs the self-grading cell while
the solution cell still holds the stub and sees it fail, pastes a solution
into the solution cell, runs it and the self-grading cell again and sees the
pass message, runs the autograder's test cells and sees them pass, and
finally clicks nbgrader's Validate button and reads its success message.

The solution typed in is the instructor's, taken from the assignment's source
notebook (between nbgrader's BEGIN/END SOLUTION markers), so the test follows
the assignment when it changes.
"""
from __future__ import annotations

import nbformat
import pytest

from .lab_server import REPO_ROOT
from .notebook_ui import Notebook

RELEASE = REPO_ROOT / "course" / "release"
SOURCE = REPO_ROOT / "course" / "source"
ASSIGNMENT = "A1"
# nbgrader validates by running the whole notebook on the server (ms).
VALIDATE_TIMEOUT_MS = 180_000


def _nbgrader(cell) -> dict:
    return cell.metadata.get("nbgrader", {})


def solution_text(source: str) -> str:
    """The instructor's solution with nbgrader's markers taken out."""
    return "\n".join(line for line in source.splitlines()
                     if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION")) + "\n"


def assignment_plan(name: str):
    """(release path, solution cell index, its solution text, self-grade index, test indexes)."""
    released = sorted((RELEASE / name).glob("*.ipynb"))
    if not released:
        pytest.fail(f"no released notebook in course/release/{name}: run `nbgrader generate_assignment "
                    f"{name}` in course/ (see docs/assignments.md)")
    path = released[0]
    release = nbformat.read(path, as_version=4)
    source = nbformat.read(SOURCE / name / path.name, as_version=4)
    solutions = {_nbgrader(c)["grade_id"]: c.source for c in source.cells
                 if _nbgrader(c).get("solution") and c.cell_type == "code"}
    sol = next(k for k, c in enumerate(release.cells)
               if _nbgrader(c).get("solution") and c.cell_type == "code")
    answer = solution_text(solutions[_nbgrader(release.cells[sol])["grade_id"]])
    tests = [k for k, c in enumerate(release.cells) if _nbgrader(c).get("grade")
             and c.cell_type == "code"]
    self_grade = next(k for k, c in enumerate(release.cells) if k > sol and c.cell_type == "code"
                      and "rb.grade(" in c.source and k not in tests)
    setup = [k for k, c in enumerate(release.cells) if k < sol and c.cell_type == "code"]
    return path, setup, sol, answer, self_grade, tests


def test_assignment_solved_and_graded_in_the_browser(page, jupyter_lab, artifacts_dir):
    path, setup, sol, answer, self_grade, tests = assignment_plan(ASSIGNMENT)
    assert "NotImplementedError" not in answer
    nb = Notebook(page, jupyter_lab, path.relative_to(REPO_ROOT).as_posix()).open()
    for k in setup:
        nb.run_cell(nb.cell(k))
    solution, report = nb.cell(sol), nb.cell(self_grade)
    assert "NotImplementedError" in solution.locator(".jp-InputArea-editor").inner_text(), \
        "the released notebook should hold the stub, not a solution"

    # With the stub, the self-check runs and says it failed.
    nb.run_cell(solution)
    nb.run_cell(report)
    verdict = report.locator(".raftbook-grade")
    verdict.wait_for()
    assert verdict.get_attribute("data-passed") == "false"
    assert "failed" in verdict.inner_text()
    assert "NotImplementedError" in verdict.inner_text()

    # Paste the solution, run it, run the self-check again: passed.
    nb.set_cell_source(solution, answer)
    nb.run_cell(solution)
    assert not nb.cell_errors(solution)
    nb.run_cell(report)
    verdict = report.locator('.raftbook-grade[data-passed="true"]')
    verdict.wait_for()
    text = verdict.inner_text()
    assert "passed" in text and "failed" not in text
    verdict.screenshot(path=str(artifacts_dir / "assignment-self-check-passed.png"))

    # The autograder's test cells: each runs and raises nothing.
    assert tests, "the assignment has no graded test cells"
    for k in tests:
        cell = nb.cell(k)
        nb.run_cell(cell)
        assert not nb.cell_errors(cell), f"graded cell {k} failed:\n{nb.cell_errors(cell)}"

    # nbgrader's Validate button (what a student clicks before submitting) saves
    # the notebook and runs it on the server: every test passes.
    nb.page.get_by_role("button", name="Validate", exact=True).click()
    dialog = nb.page.locator(".jp-Dialog")
    dialog.wait_for(timeout=VALIDATE_TIMEOUT_MS)
    assert "Success! Your notebook passes all the tests." in dialog.inner_text(), dialog.inner_text()
    nb.screenshot(artifacts_dir / "assignment-validated.png")
    dialog.get_by_role("button", name="Ok").click()
    dialog.wait_for(state="detached")
