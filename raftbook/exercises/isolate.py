"""Grades that count run out of the student's process.

``rb.grade`` runs in the student's own kernel, where a notebook can replace
anything: ``rb.grade`` itself, the safety monitor, ``random``, the report
class, builtins. The course's graded cells therefore call :func:`check`,
which hands the student's function to a fresh Python process:

* the function travels as source code (taken with :mod:`inspect`, together
  with the helpers, constants and imports it uses) or, for a function of
  raftbook itself (the bug catalogue), as its module and name;
* the process starts in isolated mode (``python -I``: no current folder, no
  ``PYTHONPATH``, no user site) and imports the grader's own raftbook, so
  nothing the notebook replaced reaches it;
* it runs under a memory limit and the grader's budgets (:mod:`.budget`),
  and the parent kills it if it outlives its time;
* before it writes its report it checks that the student's code left the
  grader's modules and builtins as they were; if not, every layer fails;
* the report comes back as plain JSON (:meth:`GradeReport.to_dict`).

The hidden checks' seed comes from the instructor at autograde time: the
environment variable ``RAFTBOOK_HIDDEN_SEED`` (``course/nbgrader_config.py``
sets it from ``course/hidden_seed.txt``), read once when raftbook is imported
and then removed from the environment. The package holds no hidden seed, and
the graded cells hold no hidden code: :func:`check` adds the hidden seed when
there is one.

What isolation cannot stop: code that subverts the kernel itself (replacing
this module's functions, or IPython's error handling). ``python -m
raftbook.exercises.isolate`` regrades collected notebooks entirely outside any
kernel; see docs/assignments.md.
"""
from __future__ import annotations

import ast
import builtins
import importlib
import inspect
import json
import os
import random
import subprocess
import sys
import textwrap
import types

try:
    import resource
except ImportError:  # not on Windows: no memory limit there
    resource = None

from ..core.kv import apply_command
from ..core.messages import AppendEntries, AppendEntriesReply, Entry, RequestVote, RequestVoteReply
from ..core.roles import Role
from ..errors import InvalidArgument, RaftbookError
from . import delegation, grader
from .budget import DEFAULT_LIMITS, Limits
from .report import LAYERS, Finding, GradeReport, LayerResult
from .rulecase import make_node

#: The environment variable that carries the instructor's hidden seed.
SEED_VARIABLE = "RAFTBOOK_HIDDEN_SEED"

# Captured when raftbook is imported (the notebook's first cell, before any student code).
_PYTHON = sys.executable
_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
_HIDDEN = os.environ.pop(SEED_VARIABLE, None)
_run = subprocess.run
_loads = json.loads
_dumps = json.dumps
_AssertionError = AssertionError
_any = any

#: Seconds a fresh process needs to start and import raftbook, on top of the grade's own budget.
STARTUP_S = 12.0
#: Address space the grading process may use.
MEMORY_BYTES = 2 << 30

#: The rule quoted when a submission cannot be graded at all.
LOADS = "A graded function can be read and run on its own"
#: The rule quoted when a submission changed the grader.
UNTOUCHED = "A graded function leaves the grader alone"


class NoHiddenSeed(RaftbookError):
    """The hidden tests ran without a seed from the instructor."""


def hidden_seed() -> int:
    """The instructor's hidden seed (see the module's docs); raises :class:`NoHiddenSeed` without one."""
    if _HIDDEN is None:
        raise NoHiddenSeed(
            f"the hidden tests need the instructor's seed: set the environment variable {SEED_VARIABLE} "
            "to a whole number before autograding (course/nbgrader_config.py does it from "
            "course/hidden_seed.txt); students never need it")
    try:
        seed = int(_HIDDEN)
    except ValueError:
        raise NoHiddenSeed(f"{SEED_VARIABLE} must be a whole number >= 1; got {_HIDDEN!r}") from None
    if seed < 1:
        raise NoHiddenSeed(f"{SEED_VARIABLE} must be a whole number >= 1 (0 is the visible seed); got {seed}")
    return seed


# -- the function, as something a fresh process can load ------------------------------------------

_LITERALS = (int, float, str, bytes, bool, type(None))


def _literal(value) -> bool:
    try:
        return ast.literal_eval(repr(value)) == value
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return False


def _importable(obj) -> tuple | None:
    mod = getattr(obj, "__module__", None)
    qual = getattr(obj, "__qualname__", None)
    if not mod or not qual or mod == "__main__" or "<" in qual:
        return None
    try:
        target = importlib.import_module(mod)
        for part in qual.split("."):
            target = getattr(target, part)
    except Exception:
        return None
    return (mod, qual) if target is obj else None


def _names(code) -> set:
    out = set(code.co_names)
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            out |= _names(c)
    return out


def _source_names(src: str) -> set:
    try:
        tree = ast.parse(src)
    except SyntaxError:
        return set()
    return {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)}


def function_source(fn) -> dict:
    """What a fresh process needs to rebuild ``fn``: ``{"module", "qualname"}`` for a function of
    an importable module, else ``{"code", "function"}``: its source with what it uses."""
    if not isinstance(fn, types.FunctionType):
        raise InvalidArgument(f"the graded function must be a plain function written with def; got "
                              f"{type(fn).__name__}")
    where = _importable(fn)
    if where is not None and where[0].startswith("raftbook."):  # the bug catalogue, say
        return {"module": where[0], "qualname": where[1]}
    head, defs, done = [], [], set()
    g = fn.__globals__

    def visit(obj, name):
        if id(obj) in done:
            return
        done.add(id(obj))
        try:
            src = textwrap.dedent(inspect.getsource(obj))
        except (OSError, TypeError):
            raise InvalidArgument(f"the source of {name} cannot be read; define it with def in a "
                                  "notebook cell (not with exec or lambda)") from None
        names = _source_names(src)
        if isinstance(obj, types.FunctionType):
            names |= _names(obj.__code__)
        for n in sorted(names):
            if n not in g or n == getattr(obj, "__name__", None):
                continue
            v = g[n]
            if isinstance(v, types.ModuleType):
                head.append(f"import {v.__name__} as {n}" if v.__name__ != n or "." in n
                            else f"import {n}")
            elif isinstance(v, (types.FunctionType, type)) and getattr(v, "__module__", None) == fn.__module__:
                visit(v, n)
                if v.__name__ != n:
                    head.append(f"# {n} is {v.__name__}")
                    defs.append(f"{n} = {v.__name__}")
            elif _importable(v) is not None:
                mod, qual = _importable(v)
                if "." in qual:
                    head.append(f"import {mod} as _m_{n}\n{n} = _m_{n}.{qual}")
                else:
                    head.append(f"from {mod} import {qual} as {n}")
            elif _literal(v):
                head.append(f"{n} = {v!r}")
            # anything else stays undefined: the function meets a NameError, a finding in its words
        defs.append(src)

    visit(fn, fn.__name__)
    code = "\n".join(dict.fromkeys(head)) + "\n\n" + "\n\n".join(reversed(defs)) + "\n"
    return {"code": code, "function": fn.__name__, "module": fn.__module__}


# -- the parent side ----------------------------------------------------------------------------------

def grade_isolated(name: str, fn, layers=None, seed: int = 0, *, hidden: bool = False,
                   limits=None) -> GradeReport:
    """``rb.grade(name, fn, layers, seed)`` in a fresh process; see the module's docs.

    ``hidden=True`` grades at the instructor's hidden seed instead of ``seed``.
    The report is rebuilt from plain JSON; ``report.replay()`` replays its
    failing run here with ``fn``.
    """
    if hidden:
        seed = hidden_seed()
    data = _grade_data(name, fn, layers, [seed], limits)
    return GradeReport.from_dict(data, fn=fn)


def _grade_data(name, fn, layers, seeds, limits) -> dict:
    """The isolated grade as the plain data the grading process wrote: the report of the first
    of ``seeds`` at which ``fn`` fails, or of the last one."""
    for seed in seeds:
        name, chosen, _ = grader._check_args(name, fn, layers, seed)
    seed = seeds[0]
    limits = limits or DEFAULT_LIMITS
    try:
        function = function_source(fn)
    except InvalidArgument as exc:
        return _failed(name, fn, chosen, seed, LOADS, str(exc)).to_dict()
    request = {"name": name, "layers": list(chosen), "seeds": list(seeds), "function": function,
               "limits": {"call_ms": limits.call_ms, "grade_s": limits.grade_s,
                          "max_messages": limits.max_messages}}
    budget = limits.grade_s * len(seeds) + STARTUP_S
    boot = (f"import sys; sys.path.insert(0, {_ROOT!r}); "
            "from raftbook.exercises.isolate import _child; _child()")
    env = {k: v for k, v in os.environ.items() if k != SEED_VARIABLE and not k.startswith("PYTHON")}
    try:
        proc = _run([_PYTHON, "-I", "-c", boot], input=_dumps(request), capture_output=True, text=True,
                    timeout=budget, env=env, cwd=_ROOT)
    except subprocess.TimeoutExpired:
        return _failed(name, fn, chosen, seed, "A handler returns promptly (grading has a time budget)",
                       f"grading did not finish within {budget:g} s and was stopped (is there a loop "
                       "that never ends, even when interrupted?)").to_dict()
    try:
        data = _loads(proc.stdout)
        if not isinstance(data, dict) or not isinstance(data.get("layers"), dict):
            raise ValueError
    except ValueError:
        tail = (proc.stderr or "").strip().splitlines()[-3:]
        return _failed(name, fn, chosen, seed, LOADS,
                       f"the grading process ended without a report (exit status {proc.returncode}; "
                       f"it may have run out of memory): {' '.join(tail)}").to_dict()
    return data


def check(name: str, fn, layer: str, *, hidden: bool | None = None) -> None:
    """What a graded cell runs: grade ``layer`` of ``fn`` in a fresh process; raise
    ``AssertionError`` (the report as text) when it fails, after showing the report with a
    static picture of the failing run. Never assigns a variable of the notebook.

    ``hidden``: None (what the course's cells use) grades at the visible seed 0 and, when the
    instructor's seed is set (at autograde time), at that seed too; True only at the
    instructor's seed (an error without one); False only at seed 0. The hidden checks thus need
    no hidden code in the cell, so a released cell is the source cell, character for character.
    """
    if layer not in LAYERS:
        raise InvalidArgument(f"layer must be one of {list(LAYERS)}; got {layer!r}")
    if hidden is None:
        seeds = [0] + ([hidden_seed()] if _HIDDEN is not None else [])
    else:
        seeds = [hidden_seed()] if hidden else [0]
    data = _grade_data(name, fn, [layer], seeds, None)
    # The verdict is read from the process's own data, with functions taken when raftbook was
    # imported: replacing the report class or builtins in the notebook does not change it.
    failed = _any(d.get("findings") for d in data["layers"].values()) or layer not in data["layers"]
    if not failed:
        return None
    report = GradeReport.from_dict(data, fn=fn)
    try:
        from IPython.display import display
        display(report)
    except Exception:
        pass
    try:
        text = str(report)
    except Exception:
        text = f"{name}: the {layer} checks failed"
    raise _AssertionError(text)


def _failed(name, fn, layers, seed, rule, message) -> GradeReport:
    results = {layer: LayerResult(layer, 1, [Finding(layer, "grading", rule, message)]) for layer in layers}
    return GradeReport(name, fn, results, seed)


# -- the child side -----------------------------------------------------------------------------------

def _snapshot() -> dict:
    """Everything the verdict depends on (the objects themselves, compared by identity, so a
    replacement cannot reuse a freed object's id): raftbook's modules and classes, builtins."""
    state = {}
    for mname, mod in list(sys.modules.items()):
        if not (mname == "raftbook" or mname.startswith("raftbook.")) or mod is None:
            continue
        for k, v in list(vars(mod).items()):
            state[(mname, k)] = v
            if isinstance(v, types.FunctionType):
                state[(mname, k, "code")] = v.__code__
            elif isinstance(v, type) and v.__module__ == mname:
                for a, w in list(vars(v).items()):
                    state[(mname, k, a)] = w
    for k, v in vars(builtins).items():
        state[("builtins", k)] = v
    for mod in (json, random, os, subprocess):
        for k, v in vars(mod).items():
            state[(mod.__name__, k)] = v
    return state


def _changed(before: dict, after: dict) -> list:
    """What was replaced or removed (new attributes, such as submodules imported late, are fine)."""
    missing = object()
    return sorted({".".join(map(str, k[:2])) for k, v in before.items() if after.get(k, missing) is not v})


def _child() -> None:
    """The grading process: read a request on stdin, write a JSON report on stdout."""
    try:
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_BYTES, MEMORY_BYTES))
    except (AttributeError, ValueError, OSError):
        pass
    out = os.fdopen(os.dup(1), "w")
    os.dup2(2, 1)  # whatever the student's code prints goes to stderr, not into the report
    request = json.loads(sys.stdin.read())
    importlib.import_module("raftbook.ui.view")  # the picture's module, before the student's code runs
    delegation.arm()
    name, layers, seeds = request["name"], tuple(request["layers"]), [int(s) for s in request["seeds"]]
    seed = seeds[0]
    limits = Limits(**request["limits"])
    before = _snapshot()
    fn = None
    try:
        fn = _load(request["function"])
        for seed in seeds:
            report = grader.grade(name, fn, layers, seed, limits=limits, own_work=True)
            if not report.passed:
                break
        data = report.to_dict(picture=True)
    except BaseException as exc:  # the submission itself could not be loaded or broke grading
        data = _failed(name, None, layers, seed, LOADS,
                       f"{type(exc).__name__}: {exc}").to_dict()
    changed = _changed(before, _snapshot())
    if changed:
        shown = ", ".join(changed[:4]) + (" ..." if len(changed) > 4 else "")
        data = _failed(name, None, layers, seed, UNTOUCHED,
                       f"the submission changed the grader's own code ({shown}); a graded function "
                       "may change only the server it is given, so this part earns no points").to_dict()
    out.write(json.dumps(data))
    out.flush()


def _load(function: dict):
    if "qualname" in function:
        target = importlib.import_module(function["module"])
        for part in function["qualname"].split("."):
            target = getattr(target, part)
        return target
    ns = {"__name__": str(function.get("module") or "__main__"), "rb": sys.modules["raftbook"], "AppendEntries": AppendEntries,
          "AppendEntriesReply": AppendEntriesReply, "Entry": Entry, "RequestVote": RequestVote,
          "RequestVoteReply": RequestVoteReply, "Role": Role, "apply_command": apply_command,
          "make_node": make_node}
    exec(compile(function["code"], "<your notebook>", "exec"), ns)
    fn = ns.get(function["function"])
    if not callable(fn):
        raise InvalidArgument(f"the notebook's code defines no function {function['function']!r}")
    return fn


__all__ = ["NoHiddenSeed", "SEED_VARIABLE", "check", "function_source", "grade_isolated", "hidden_seed"]
