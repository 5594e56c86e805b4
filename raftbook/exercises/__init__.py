"""Graded exercises: students write one Raft rule at a time; graders check it in three layers.

``grade(name, fn)`` grades one function (see :mod:`.grader`); ``BUGS`` is the
catalogue of classic student bugs as buggy functions (see :mod:`.bugs`);
``make_node`` builds one server in a chosen state to try a handler by hand.
"""
from ..core.kv import apply_command
from .bugs import BUGS, HIDDEN_SEED, Bug
from .grader import GRADED, grade
from .isolate import check, grade_isolated, hidden_seed
from .report import LAYERS, Finding, GradeReport, LayerResult
from .rulecase import make_node

__all__ = ["BUGS", "Bug", "Finding", "GRADED", "GradeReport", "HIDDEN_SEED", "LAYERS", "LayerResult", "apply_command",
           "check", "grade", "grade_isolated", "hidden_seed", "make_node"]
