"""Build the student-facing repository of the course into a new folder, as a fresh git repository.

The instructors' repository holds what students must never see: the assignments with their
solutions and hidden tests (course/source/), and, once grading starts, the gradebook and
submissions. Students (and Binder) get a separate repository built by this script from the
files committed here; it holds:

    notebooks/        the concept notebooks (outputs stripped) and selfcheck.py
    course/release/   the assignments as students receive them (no solutions, no hidden tests)
    raftbook/         the package, with pyproject.toml, so that Binder and pip can install it
    binder/           what Binder installs
    docs/             the pages a student reads (API, widget, explain, explore, scenarios)
    scripts/          notebooks.sh and setup-env.sh, to run it all locally
    README.md         a README for students (with a Binder badge)

and nothing else: no course/source/, no nbgrader configuration, no tests, no gradebook. Before
committing, every file is searched for nbgrader's solution and hidden-test markers and for the
solution code of course/source; the build fails if any is found.

    .venv/bin/python scripts/build_student_repo.py OUT [--binder OWNER/REPO]

OUT must not exist yet (or be an empty folder) and must lie outside this checkout. Publish OUT
(e.g. `git -C OUT remote add origin URL && git -C OUT push -u origin main`) and point Binder at
it; see docs/assignments.md.
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "scripts"))
from strip_notebooks import stripped, write as write_notebook  # noqa: E402

#: Committed paths that go to students: whole folders (a trailing /) and single files.
INCLUDE = ("notebooks/", "course/release/", "raftbook/", "binder/", "pyproject.toml",
           "docs/api.md", "docs/widget.md", "docs/explain.md", "docs/explore.md",
           "docs/scenarios-and-core-tests.md", "scripts/notebooks.sh", "scripts/setup-env.sh",
           "LICENSE")
#: What nbgrader's ClearSolutions and ClearHiddenTests look for in course/source.
MARKERS = ("### BEGIN SOLUTION", "### END SOLUTION", "### BEGIN HIDDEN TESTS",
           "### END HIDDEN TESTS")

GITIGNORE = """\
.venv/
__pycache__/
*.egg-info/
.ipynb_checkpoints/
build/
dist/
"""

README = """\
# raftbook: Raft, step by step

Step through a live [Raft](https://raft.github.io/raft.pdf) cluster in Jupyter, one message at a
time: deliver, drop, duplicate or reorder any message, crash and restart servers, cut the
network, rewind, and watch a safety checker judge the paper's five properties after every
event. Then implement Raft's rules yourself in the graded assignments.

{badge}

## In your browser

The Binder badge above opens JupyterLab in `notebooks/` with nothing to install. Binder forgets
your changes when the session ends: download your notebooks (*File → Download*) before you
leave.

## On your own machine

With Python 3.11 or newer:

    bash scripts/notebooks.sh

creates a virtual environment in `.venv`, installs raftbook and opens JupyterLab in
`notebooks/`. Only the first run needs the network.

## What is here

- `notebooks/`: the concept notebooks, in order (see [notebooks/README.md](notebooks/README.md)).
  Each ends with self-check questions: set `answer_1 = ...` and run the check cell.
- `course/release/`: the graded assignments (A1 elections, A2 replication, A3 leader
  bookkeeping, A4 commitment, A5 log compaction and persistence, A6 PreVote). Write your function, run the check cells as often as you like
  (`rb.grade(...)` hands back the shortest run that breaks your code, to replay in the widget),
  and hand in the notebook as your instructor tells you.
- `docs/`: the API ([docs/api.md](docs/api.md)), the widget, explanations, exploration and the
  named scenarios of the paper.
- `raftbook/`: the simulator itself.
"""


class BuildError(Exception):
    """Something that stops the build, said in words the instructor can act on."""


def git(*args, cwd=ROOT, env=None) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, env=env, capture_output=True, text=True)
    if done.returncode != 0:
        raise BuildError(f"git {' '.join(args)} failed:\n{done.stderr.strip()}")
    return done.stdout


def committed_files() -> list[str]:
    """The files of INCLUDE that git tracks here (untracked files, like grades, never go)."""
    listed = git("ls-files", "-z", "--", *INCLUDE).split("\0")
    return sorted(p for p in listed if p and (ROOT / p).is_file())


def secret_blocks() -> list[set[str]]:
    """Each solution block and hidden-test block of course/source, as its distinctive lines."""
    blocks = []
    for path in sorted((ROOT / "course" / "source").rglob("*.ipynb")):
        for cell in nbformat.read(path, as_version=4).cells:
            block = None
            for line in cell.source.splitlines():
                text = line.strip()
                if text.startswith("### BEGIN"):
                    block = set()
                elif text.startswith("### END"):
                    if block:
                        blocks.append(block)
                    block = None
                elif block is not None and len(text) >= 20 and not text.startswith("#"):
                    block.add(text)
    return blocks


def leaks(out: Path, blocks: list[set[str]]) -> list[str]:
    """Where the built tree shows a marker, a solution or a hidden test, in words.

    A notebook or page leaks a block when it holds most of its lines (a concept notebook may
    share a line or two with a solution, e.g. the loop of a deliberately broken rule)."""
    found = []
    for path in sorted(p for p in out.rglob("*") if p.is_file() and ".git" not in p.relative_to(out).parts):
        rel = path.relative_to(out).as_posix()
        if rel.startswith("course/source") or rel.endswith("nbgrader_config.py"):
            found.append(f"{rel}: instructors' file")
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        found += [f"{rel}: contains {m!r}" for m in MARKERS if m in text]
        if path.suffix in (".ipynb", ".md"):  # (the package itself is the reference Raft)
            if path.suffix == ".ipynb":
                text = "\n".join(c.source for c in nbformat.reads(text, as_version=4).cells)
            lines = {t.strip() for t in text.splitlines()}
            for block in blocks:
                shared = block & lines
                if len(shared) >= 2 and 2 * len(shared) > len(block):
                    found.append(f"{rel}: holds a solution or hidden test of course/source "
                                 f"({len(shared)} of its {len(block)} lines, e.g. {min(shared)!r})")
    return found


def build(out: Path, binder_repo: str | None = None) -> str:
    """Build the student repository in ``out``; returns its commit hash."""
    out = out.resolve()
    if out == ROOT or ROOT in out.parents:
        raise BuildError(f"{out} is inside this checkout; build the student repository outside it "
                         "(e.g. ../raftbook-student)")
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise BuildError(f"{out} exists and is not an empty folder; pick a new folder, or delete "
                         "this one first")
    if not (ROOT / "course" / "release").is_dir():
        raise BuildError("course/release/ is missing: generate it first (nbgrader generate_assignment "
                         "in course/, see docs/assignments.md)")
    files = committed_files()
    out.mkdir(parents=True, exist_ok=True)
    for rel in files:
        src, dst = ROOT / rel, out / rel
        dst.parent.mkdir(parents=True, exist_ok=True)
        if rel.startswith("notebooks/") and rel.endswith(".ipynb"):
            write_notebook(stripped(nbformat.read(src, as_version=4)), dst)
        elif rel == "notebooks/README.md":  # students do not need the instructors' notes
            text = src.read_text(encoding="utf-8").split("\n## For instructors", 1)[0]
            dst.write_text(text.rstrip() + "\n", encoding="utf-8")
        else:
            shutil.copy2(src, dst)
    if binder_repo:
        badge = (f"[![Binder](https://mybinder.org/badge_logo.svg)]"
                 f"(https://mybinder.org/v2/gh/{binder_repo}/HEAD?urlpath=lab/tree/notebooks)")
    else:
        badge = ("[![Binder](https://mybinder.org/badge_logo.svg)]"
                 "(https://mybinder.org/v2/gh/OWNER/REPO/HEAD?urlpath=lab/tree/notebooks)\n"
                 "(replace `OWNER/REPO` with this repository's GitHub path)")
    (out / "README.md").write_text(README.format(badge=badge), encoding="utf-8")
    (out / ".gitignore").write_text(GITIGNORE, encoding="utf-8")

    found = leaks(out, secret_blocks())
    if found:
        raise BuildError("the student repository would show solutions or hidden tests; nothing "
                         f"was committed in {out}:\n  " + "\n  ".join(found))

    source = git("rev-parse", "--short", "HEAD").strip()
    dirty = git("status", "--porcelain", "--", *INCLUDE).strip()
    env = dict(os.environ)
    for var, key, fallback in (("GIT_AUTHOR_NAME", "user.name", "raftbook course"),
                               ("GIT_AUTHOR_EMAIL", "user.email", "course@example.invalid")):
        if var not in env:
            set_value = subprocess.run(["git", "config", key], cwd=ROOT, capture_output=True,
                                       text=True).stdout.strip()
            env[var] = set_value or fallback
        env[var.replace("AUTHOR", "COMMITTER")] = env.get(var.replace("AUTHOR", "COMMITTER"), env[var])
    git("init", "-q", "-b", "main", cwd=out)
    git("add", "-A", cwd=out)
    message = (f"raftbook for students, built from the course repository at {source}"
               + (" (with uncommitted changes)" if dirty else "") + "\n\n"
               "Notebooks, released assignments, the package and the Binder recipe; "
               "no solutions, no hidden tests.")
    git("commit", "-q", "--no-verify", "-m", message, cwd=out, env=env)
    return git("rev-parse", "HEAD", cwd=out).strip()


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="the folder to create (outside this checkout)")
    parser.add_argument("--binder", metavar="OWNER/REPO",
                        help="GitHub path where the student repository will be published, for "
                             "its Binder badge")
    args = parser.parse_args(argv)
    if args.binder and not re.fullmatch(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+", args.binder):
        parser.error(f"--binder wants OWNER/REPO, e.g. my-school/raft-course, not {args.binder!r}")
    try:
        commit = build(args.out, args.binder)
    except BuildError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    n = len(git("ls-files", cwd=args.out).splitlines())
    print(f"built {args.out}: {n} files, one commit {commit[:12]}")
    print(f"publish it (git -C {args.out} remote add origin URL && git -C {args.out} push -u origin main)"
          " and point Binder at it, not at the instructors' repository")
    return 0


if __name__ == "__main__":
    sys.exit(main())
