"""nbgrader configuration of the raftbook course (this folder is the course root).

Run nbgrader from this folder, e.g. ``nbgrader generate_assignment A1``; see
docs/assignments.md for the whole cycle (release, collect, autograde, feedback).
"""
import os
import random

c = get_config()  # noqa: F821 (nbgrader provides it)

c.CourseDirectory.course_id = "raftbook"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
# What a student finds in place of a solution.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
# Each graded cell grades in a fresh process that stops itself within about 30 s (a looping
# function is stopped after 250 ms); allow for slow machines. The other cells (trying the
# function by hand, watching it in a cluster, the self-check) need a second or two, but call the
# student's function in the kernel itself, where nothing can stop a loop: give them 12 s, so a
# submission that loops forever is autograded within a minute.
c.Execute.timeout = 120


def _cell_timeout(cell):
    return 120 if cell.get("metadata", {}).get("nbgrader", {}).get("grade") else 12


c.Execute.timeout_func = _cell_timeout

# The hidden tests' seed is the instructor's, never the students': the environment variable
# RAFTBOOK_HIDDEN_SEED, or else hidden_seed.txt beside this file, made once with a random seed on
# first use (keep it out of what students see; course/.gitignore leaves it out of the repository).
# Kernels that nbgrader starts inherit it; raftbook reads it once and removes it from os.environ.
if not os.environ.get("RAFTBOOK_HIDDEN_SEED"):
    _seed_file = os.path.join(c.CourseDirectory.root, "hidden_seed.txt")
    if not os.path.exists(_seed_file):
        with open(_seed_file, "w", encoding="utf-8") as _f:
            _f.write(f"{random.SystemRandom().randint(2, 999_999)}\n")
    with open(_seed_file, encoding="utf-8") as _f:
        os.environ["RAFTBOOK_HIDDEN_SEED"] = _f.read().strip()
