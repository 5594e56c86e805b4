"""nbgrader configuration of the raftbook course (this folder is the course root).

Run nbgrader from this folder, e.g. ``nbgrader generate_assignment A1``; see
docs/assignments.md for the whole cycle (release, collect, autograde, feedback).
"""
import os

c = get_config()  # noqa: F821 (nbgrader provides it)

c.CourseDirectory.course_id = "raftbook"
c.CourseDirectory.root = os.path.dirname(os.path.abspath(__file__))
# What a student finds in place of a solution.
c.ClearSolutions.code_stub = {"python": "# YOUR CODE HERE\nraise NotImplementedError()"}
# Grading runs the three layers of checks several times per function; allow for slow machines.
c.Execute.timeout = 300
