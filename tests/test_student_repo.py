"""What students get, and what instructors cannot commit by accident.

* Everything nbgrader writes in course/ (gradebook, submissions, autograded notebooks,
  feedback, generated solutions, exported grades, logs) is ignored by git, while the source and
  release of an assignment are not.
* scripts/build_student_repo.py builds the student repository: a fresh git repository with one
  commit holding the stripped notebooks, the released assignments, the package, binder/ and
  the student docs, and no solution, hidden test or student data. It is built here from a copy
  of this checkout in which a concept notebook has outputs and nbgrader has left grades,
  submissions and solutions around, as on an instructor's machine in the middle of a term.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parent.parent
COURSE = ROOT / "course"
BUILD = ROOT / "scripts" / "build_student_repo.py"
sys.path.insert(0, str(ROOT / "scripts"))
from strip_notebooks import problems  # noqa: E402

IN_GIT = shutil.which("git") is not None and subprocess.run(
    ["git", "rev-parse", "--is-inside-work-tree"], cwd=ROOT, capture_output=True).returncode == 0
pytestmark = pytest.mark.skipif(not IN_GIT, reason="needs git and a git checkout")


def git(*args, cwd):
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True)
    assert done.returncode == 0, f"git {' '.join(args)}: {done.stderr}"
    return done.stdout


def source_markers() -> set[str]:
    """The nbgrader delimiters course/source really uses."""
    found = set()
    for path in (COURSE / "source").rglob("*.ipynb"):
        found |= set(re.findall(r"### (?:BEGIN|END) [A-Z ]*[A-Z]", path.read_text(encoding="utf-8")))
    return found


# -- what git ignores in course/ -------------------------------------------------------------

def nbgrader_outputs() -> list[str]:
    """Paths nbgrader writes under course/, with the folder names our configuration gives it."""
    pytest.importorskip("nbgrader")
    from nbgrader.apps.zipcollectapp import ZipCollectApp
    from nbgrader.coursedir import CourseDirectory
    from traitlets.config.loader import PyFileConfigLoader

    config = PyFileConfigLoader("nbgrader_config.py", path=str(COURSE)).load_config()
    course = CourseDirectory(config=config)
    assert Path(course.root) == COURSE
    paths = [f"{getattr(course, step + '_directory')}/student7/A1/A1_elections.ipynb"
             for step in ("submitted", "autograded", "feedback", "solution", "source_with_tests")]
    paths += ["feedback/student7/A1/A1_elections.html", "solution/A1/A1_elections.ipynb",
              f"{ZipCollectApp(config=config).downloaded_directory}/A1/archive/s7.zip"]
    db = re.fullmatch(r"sqlite:///(.+)", course.db_url)
    assert db, course.db_url
    gradebook = Path(db.group(1)).relative_to(COURSE).as_posix()
    paths += [gradebook, gradebook + "-journal", "grades.csv", ".nbgrader.log"]
    return [f"course/{p}" for p in paths]


def test_everything_nbgrader_writes_in_the_course_is_ignored_by_git():
    outputs = nbgrader_outputs()
    assert "course/gradebook.db" in outputs and "course/submitted/student7/A1/A1_elections.ipynb" in outputs
    done = subprocess.run(["git", "check-ignore", "--no-index", "--verbose", "--non-matching",
                           *outputs], cwd=ROOT, capture_output=True, text=True)
    unignored = [line.split("\t")[-1] for line in done.stdout.splitlines() if line.startswith("::")]
    assert not unignored, f"git would let these be committed: {unignored} (add them to course/.gitignore)"


def test_the_course_source_and_release_are_not_ignored():
    wanted = ["course/nbgrader_config.py", "course/source/A5/A5_new.ipynb",
              "course/source/A1/data.csv", "course/release/A5/A5_new.ipynb",
              "course/release/A1/A1_elections.ipynb"]
    done = subprocess.run(["git", "check-ignore", "--no-index", *wanted], cwd=ROOT,
                          capture_output=True, text=True)
    assert done.stdout.split() == [], f"git ignores files the course needs: {done.stdout.split()}"


# -- the student repository ------------------------------------------------------------------

def copy_checkout(dest: Path) -> Path:
    """This checkout as it is now (tracked and new files, not ignored ones), committed afresh."""
    for rel in git("ls-files", "-z", "--cached", "--others", "--exclude-standard", cwd=ROOT).split("\0"):
        if rel and (ROOT / rel).is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / rel, dest / rel)
    git("init", "-q", cwd=dest)
    git("add", "-A", cwd=dest)
    git("-c", "user.name=t", "-c", "user.email=t@example.invalid", "commit", "-q", "-m", "copy",
        cwd=dest)
    return dest


def build(checkout: Path, out: Path, *args):
    return subprocess.run([sys.executable, str(checkout / "scripts" / "build_student_repo.py"),
                           str(out), *args], cwd=checkout, capture_output=True, text=True,
                          timeout=300)


@pytest.fixture(scope="module")
def checkout(tmp_path_factory):
    """A copy of this checkout in mid-term: a notebook with outputs, nbgrader's files around."""
    repo = copy_checkout(tmp_path_factory.mktemp("instructor"))
    tour = repo / "notebooks" / "00_tour.ipynb"
    nb = nbformat.read(tour, as_version=4)
    code = next(c for c in nb.cells if c.cell_type == "code")
    code.outputs = [nbformat.v4.new_output("stream", text="run-time output\n")]
    code.execution_count = 7
    nb.metadata["widgets"] = {"state": {}}
    nbformat.write(nb, tour)
    for rel in ("course/gradebook.db", "course/grades.csv",
                "course/submitted/student7/A1/A1_elections.ipynb",
                "course/autograded/student7/A1/A1_elections.ipynb",
                "course/feedback/student7/A1/A1_elections.html"):
        (repo / rel).parent.mkdir(parents=True, exist_ok=True)
        (repo / rel).write_text("student data\n")
    shutil.copytree(COURSE / "source", repo / "course" / "solution")  # as generate_solution does
    return repo


@pytest.fixture(scope="module")
def student(checkout, tmp_path_factory):
    out = tmp_path_factory.mktemp("published") / "raft-course"
    done = build(checkout, out, "--binder", "my-school/raft-course")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "built" in done.stdout and "point Binder at it" in done.stdout
    return out


def student_files(student: Path) -> list[str]:
    return git("ls-files", cwd=student).splitlines()


def test_it_is_a_fresh_repository_with_one_clean_commit(student):
    assert git("rev-list", "--count", "HEAD", cwd=student).strip() == "1"
    assert git("status", "--porcelain", "--ignored", cwd=student).strip() == ""
    assert "no solutions, no hidden tests" in git("log", "-1", "--format=%B", cwd=student)


def test_it_holds_no_solution_no_hidden_test_and_no_student_data(student):
    # The course's graded cells hold no hidden code (the instructor's seed comes at autograde
    # time), so the solutions' delimiters are what course/source uses; hidden-test delimiters
    # are searched for too, in case an instructor adds such a block.
    markers = source_markers() | {"### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"}
    assert {"### BEGIN SOLUTION", "### END SOLUTION"} <= source_markers(), source_markers()
    files = student_files(student)
    for rel in files:
        text = (student / rel).read_bytes().decode("utf-8", errors="replace")
        assert not [m for m in markers if m in text], f"{rel} holds an nbgrader marker"
        if rel.endswith((".ipynb", ".md")):
            assert "HIDDEN_SEED" not in text, f"{rel} shows the hidden tests' seed"
    assert not [f for f in files if f.startswith(("course/source", "course/solution", "tests/",
                                                  "course/submitted", "course/autograded",
                                                  "course/feedback"))]
    assert not [f for f in files if f.endswith(("nbgrader_config.py", ".db", ".csv", ".log"))]
    assert not (student / "course" / "source").exists()
    assert set(os.listdir(student / "course")) == {"release"}


def test_it_holds_the_release_binder_and_what_binder_installs(student):
    files = set(student_files(student))
    for path in sorted((COURSE / "release").rglob("*.ipynb")):
        rel = path.relative_to(ROOT).as_posix()
        assert rel in files, f"{rel} is missing"
        assert (student / rel).read_bytes() == path.read_bytes()
    assert {"course/release/A1/A1_elections.ipynb", "course/release/A4/A4_commitment.ipynb"} <= files
    for rel in ("binder/requirements.txt", "binder/runtime.txt", "binder/postBuild"):
        assert (student / rel).read_bytes() == (ROOT / rel).read_bytes(), rel
    assert git("ls-files", "-s", "binder/postBuild", cwd=student).startswith("100755")
    assert "raftbook/__init__.py" in files and "raftbook/core/node.py" in files
    pyproject = (student / "pyproject.toml").read_text()
    readme = re.search(r'^readme = "(.+)"$', pyproject, re.M).group(1)
    assert readme in files  # setuptools needs it to install raftbook (binder/postBuild)
    text = (student / "README.md").read_text()
    assert "mybinder.org/v2/gh/my-school/raft-course/HEAD?urlpath=lab/tree/notebooks" in text
    assert "course/release/" in text and "bash scripts/notebooks.sh" in text
    assert {"scripts/notebooks.sh", "scripts/setup-env.sh", "docs/api.md"} <= files
    assert "docs/assignments.md" not in files


def test_its_concept_notebooks_are_the_stripped_ones(checkout, student):
    ours = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert sorted(p.name for p in (student / "notebooks").glob("*.ipynb")) == ours
    assert (student / "notebooks" / "selfcheck.py").read_bytes() == (ROOT / "notebooks" / "selfcheck.py").read_bytes()
    assert problems(nbformat.read(checkout / "notebooks" / "00_tour.ipynb", as_version=4))  # dirty there
    for name in ours:
        nb = nbformat.read(student / "notebooks" / name, as_version=4)
        assert problems(nb) == [], f"notebooks/{name}: {problems(nb)}"
        source = nbformat.read(ROOT / "notebooks" / name, as_version=4)
        assert [c.source for c in nb.cells] == [c.source for c in source.cells], name
    assert "For instructors" not in (student / "notebooks" / "README.md").read_text()


def test_a_leaked_solution_stops_the_build(checkout, tmp_path):
    repo = copy_checkout(tmp_path / "instructor")
    source = nbformat.read(repo / "course" / "source" / "A4" / "A4_commitment.ipynb", as_version=4)
    solution = next(c.source for c in source.cells if "### BEGIN SOLUTION" in c.source)
    # a concept notebook given the whole solution, its markers removed
    page = repo / "notebooks" / "04_safety.ipynb"
    nb = nbformat.read(page, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("\n".join(
        line for line in solution.splitlines() if "###" not in line)))
    nbformat.write(nb, page)
    done = build(repo, tmp_path / "out1")
    assert done.returncode == 1
    assert "would show solutions or hidden tests" in done.stderr
    assert "notebooks/04_safety.ipynb: holds a solution" in done.stderr, done.stderr
    assert not (tmp_path / "out1" / ".git").exists()
    # a marker in a student page
    shutil.copy2(ROOT / "notebooks" / "04_safety.ipynb", page)
    with open(repo / "docs" / "api.md", "a") as f:
        f.write("\n### BEGIN HIDDEN TESTS\n")
    done = build(repo, tmp_path / "out2")
    assert done.returncode == 1 and "docs/api.md: contains '### BEGIN HIDDEN TESTS'" in done.stderr


def test_it_refuses_a_used_folder_or_one_inside_the_checkout(checkout, tmp_path):
    used = tmp_path / "used"
    used.mkdir()
    (used / "keep.txt").write_text("mine\n")
    done = build(checkout, used)
    assert done.returncode == 1 and "not an empty folder" in done.stderr
    assert os.listdir(used) == ["keep.txt"]
    done = build(checkout, checkout / "student")
    assert done.returncode == 1 and "inside this checkout" in done.stderr
    done = build(checkout, tmp_path / "x", "--binder", "not a repo")
    assert done.returncode == 2 and "OWNER/REPO" in done.stderr
