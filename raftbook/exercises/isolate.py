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
this module's functions, or IPython's error handling). So an instructor can
regrade collected notebooks entirely outside any kernel::

    python -m raftbook.exercises.isolate submitted/            # every notebook below
    python -m raftbook.exercises.isolate A1_elections.ipynb --hidden-seed 12345
    python -m raftbook.exercises.isolate --source mine.py --name request_vote --json

A notebook is read, never run: its code cells' function definitions, imports
and constants (top-level code that does anything else is left out) become the
source each graded function travels with, and each graded function is graded
layer by layer in fresh processes, at seed 0 and at the hidden seed (from
``--hidden-seed`` or ``RAFTBOOK_HIDDEN_SEED``). It prints a summary with the
points each layer earns, or the reports as JSON (``--json``).
"""
from __future__ import annotations

import argparse
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
    try:
        function = function_source(fn)
    except InvalidArgument as exc:
        return _failed(name, fn, chosen, seeds[0], LOADS, str(exc)).to_dict()
    return _grade_request(name, chosen, seeds, function, limits, fn)


def _grade_request(name, chosen, seeds, function, limits, fn=None) -> dict:
    """Grade ``function`` (what :func:`function_source` gives) in a fresh process."""
    seed = seeds[0]
    limits = limits or DEFAULT_LIMITS
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


# -- regrading outside any kernel (python -m raftbook.exercises.isolate) ----------------------------

#: The function each graded rule is written as in the course's notebooks.
COURSE_FUNCTIONS = {
    "request_vote": "handle_request_vote",
    "append_entries": "handle_append_entries",
    "append_entries_reply": "handle_append_entries_reply",
    "advance_commit_index": "advance_commit_index",
    "apply_committed": "apply_committed",
}
#: Points per layer of one graded function, as the course's test cells give them.
POINTS = {"rules": 5, "scenarios": 3, "campaigns": 2}


def definitions(code: str) -> str:
    """The imports, function and class definitions and constants of ``code``, in order; any
    other top-level statement (running a cluster, printing, grading) is left out."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return ""
    kept = []
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef,
                             ast.ClassDef)):
            kept.append(node)
        elif isinstance(node, (ast.Assign, ast.AnnAssign)) and node.value is not None:
            try:
                ast.literal_eval(node.value)
            except (ValueError, TypeError, SyntaxError, MemoryError, RecursionError):
                continue
            kept.append(node)
    return "\n\n".join(ast.get_source_segment(code, n) or ast.unparse(n) for n in kept)


def notebook_code(path) -> str:
    """The definitions of every code cell of a notebook, in order (IPython magics and shell
    lines are dropped)."""
    with open(path, encoding="utf-8") as f:
        nb = json.load(f)
    parts = []
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "code":
            continue
        src = cell.get("source", "")
        src = "".join(src) if isinstance(src, list) else str(src)
        lines = [line for line in src.splitlines() if not line.lstrip().startswith(("%", "!"))]
        parts.append(definitions("\n".join(lines)))
    return "\n\n".join(p for p in parts if p)


def _defined(code: str) -> set:
    try:
        return {n.name for n in ast.parse(code).body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))}
    except SyntaxError:
        return set()


def regrade(code: str, name: str, function: str, layers=LAYERS, seeds=(0,), limits=None) -> dict:
    """Grade ``function`` (defined in ``code``) as the rule ``name``, each layer at each seed in a
    fresh process; a layer passes only if it passes at every seed. Returns plain data:
    ``{"name", "function", "layers": {layer: {"passed", "points", "findings"}}, "points", "max"}``."""
    chosen = [layer for layer in LAYERS if layer in layers]
    found = {layer: [] for layer in chosen}
    if function not in _defined(code):
        for layer in chosen:
            found[layer].append({"layer": layer, "check": "grading", "rule": LOADS, "message":
                                 f"the notebook defines no function {function!r}", "seed": None})
    else:
        for seed in seeds:
            data = _grade_request(name, chosen, [seed], {"code": code, "function": function,
                                                          "module": "__main__"}, limits)
            for layer in chosen:
                lr = data["layers"].get(layer) or {"findings": [{"message": "no report"}]}
                for finding in lr.get("findings") or ():
                    finding = dict(finding)
                    finding.pop("trace", None)
                    finding.pop("picture", None)
                    finding["seed"] = seed
                    found[layer].append(finding)
    out = {layer: {"passed": not found[layer], "points": 0 if found[layer] else POINTS.get(layer, 0),
                   "findings": found[layer]} for layer in chosen}
    return {"name": name, "function": function, "layers": out,
            "points": sum(v["points"] for v in out.values()),
            "max": sum(POINTS.get(layer, 0) for layer in chosen)}


def _notebooks(paths) -> list:
    found = []
    for p in paths:
        if os.path.isdir(p):
            for root, dirs, files in os.walk(p):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                found.extend(os.path.join(root, f) for f in sorted(files) if f.endswith(".ipynb"))
        else:
            found.append(p)
    return found


def _summary(results) -> str:
    lines = []
    for item in results:
        fns = item["functions"]
        got, top = sum(f["points"] for f in fns), sum(f["max"] for f in fns)
        lines.append(f"{item['source']}: {got}/{top}" if fns else f"{item['source']}: no graded function found")
        for f in fns:
            marks = ", ".join(f"{layer} {v['points']}/{POINTS.get(layer, 0)}" for layer, v in f["layers"].items())
            lines.append(f"  {f['name']} ({f['function']}): {marks}")
            for layer, v in f["layers"].items():
                for finding in v["findings"][:1]:
                    at = "" if finding.get("seed") is None else f" (seed {finding['seed']})"
                    msg = str(finding.get("message", ""))
                    lines.append(f"    {layer}{at}: {msg[:200]}{'...' if len(msg) > 200 else ''}")
    return "\n".join(lines)


def main(argv=None) -> int:
    """``python -m raftbook.exercises.isolate``: regrade notebooks or a source file, outside any kernel."""
    ap = argparse.ArgumentParser(
        prog="python -m raftbook.exercises.isolate",
        description="Regrade students' notebooks (or one source file) outside any kernel: each graded "
                    "function is graded in fresh processes at seed 0 and at the hidden seed.")
    ap.add_argument("paths", nargs="*", help="notebooks, or folders to search for notebooks")
    ap.add_argument("--source", help="a Python file holding the function to grade (instead of notebooks)")
    ap.add_argument("--name", choices=sorted(COURSE_FUNCTIONS), help="with --source: the rule it replaces")
    ap.add_argument("--function", help="with --source: the function's name (default: the course's name)")
    ap.add_argument("--hidden-seed", type=int, default=None,
                    help=f"the instructor's seed (default: ${SEED_VARIABLE}, if set)")
    ap.add_argument("--layers", default=",".join(LAYERS), help="comma-separated layers (default: all)")
    ap.add_argument("--json", action="store_true", help="print the results as JSON")
    args = ap.parse_args(argv)
    layers = [layer.strip() for layer in args.layers.split(",") if layer.strip()]
    if not layers or set(layers) - set(LAYERS):
        ap.error(f"--layers takes names from {list(LAYERS)}")
    hidden = args.hidden_seed if args.hidden_seed is not None else (int(_HIDDEN) if _HIDDEN else None)
    if hidden is not None and hidden < 1:
        ap.error("the hidden seed is a whole number >= 1")
    seeds = [0] + ([hidden] if hidden is not None else [])
    results = []
    if args.source:
        if not args.name:
            ap.error("--source needs --name (the rule the function replaces)")
        with open(args.source, encoding="utf-8") as f:
            code = definitions(f.read())
        fname = args.function or COURSE_FUNCTIONS[args.name]
        results.append({"source": args.source, "seeds": seeds,
                        "functions": [regrade(code, args.name, fname, layers, seeds)]})
    elif not args.paths:
        ap.error("give notebooks (or folders), or --source")
    for path in _notebooks(args.paths):
        try:
            code = notebook_code(path)
        except (OSError, ValueError) as exc:
            results.append({"source": path, "seeds": seeds, "functions": [], "error": str(exc)})
            continue
        there = _defined(code)
        fns = [regrade(code, name, fname, layers, seeds) for name, fname in COURSE_FUNCTIONS.items()
               if fname in there]
        results.append({"source": path, "seeds": seeds, "functions": fns})
    print(json.dumps(results, indent=1) if args.json else _summary(results))
    return 0


if __name__ == "__main__":
    # Run the package's copy of this module (it already took the hidden seed from the environment).
    from raftbook.exercises import isolate as _isolate
    sys.exit(_isolate.main())


__all__ = ["NoHiddenSeed", "SEED_VARIABLE", "check", "function_source", "grade_isolated", "hidden_seed", "main", "regrade"]
