"""Is a submission the reference rule, a wrapper of it, or a function that calls it?

A handler is graded on what it does itself. It may use the building blocks
listed in docs/assignments.md (the node's methods such as ``become_follower``,
``reset_election_timer``, ``append_entries_for`` and ``advance_commit_index``;
the log's methods; the message classes; ``Role``; ``apply_command``), but not
the reference rules: ``rb.reference_handlers``, ``raftbook.rules`` (the module
``raftbook.core.rules``) and every function in it.

Two checks, both in words a student can act on:

* :func:`reference_problem` looks before grading: the function itself, what
  its code names (globals, attributes, strings), its defaults, closure cells
  and the functions it calls, followed as far as they go;
* :func:`tripwire` catches at run time a call of the graded rule's reference
  function while the student's function runs, however it was reached.
"""
from __future__ import annotations

import functools
import types
from contextlib import contextmanager

from ..core import rules as _rules

#: The module of the reference rules, under both names students may import.
RULE_MODULES = ("raftbook.core.rules", "raftbook.rules")
#: Names whose mere mention in a handler means reaching the reference rules.
RULE_NAMES = frozenset({"reference_handlers", "reference_handlers_all", "resolve_handlers"})


def _reference_functions() -> dict:
    out = {}
    for name, obj in vars(_rules).items():
        if isinstance(obj, types.FunctionType) and obj.__module__ == _rules.__name__:
            out[id(obj)] = name
    return out


def _code_key(code):
    consts = tuple(_code_key(c) if isinstance(c, types.CodeType) else repr(c) for c in code.co_consts)
    return (code.co_code, consts, code.co_names)


_REF = _reference_functions()
_REF_CODES = {}
for _obj in vars(_rules).values():
    if isinstance(_obj, types.FunctionType) and id(_obj) in _REF:
        _REF_CODES[_code_key(_obj.__code__)] = _obj.__name__


def _codes(code):
    yield code
    for c in code.co_consts:
        if isinstance(c, types.CodeType):
            yield from _codes(c)


def _is_rule_module(obj) -> bool:
    return isinstance(obj, types.ModuleType) and obj.__name__ in RULE_MODULES


def reference_problem(name: str, fn) -> str | None:
    """Why ``fn`` counts as (calling) the reference rule, in words, or None if it does not."""
    def said(what):
        return (f"your function {what}; it is graded on what it does itself, so this part earns no "
                "points. Write the rule with the building blocks listed with the assignment "
                "(node methods, the log, the message classes) instead")

    seen = set()
    queue = [fn]
    modules = []
    while queue:
        obj = queue.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if id(obj) in _REF:
            ref = _REF[id(obj)]
            if obj is fn:
                return said(f"is the reference rule itself ({ref} of raftbook.rules)")
            return said(f"calls the reference rule {ref} of raftbook.rules")
        if obj is _rules.reference_handlers or obj is _rules.reference_handlers_all:
            return said("uses rb.reference_handlers, the reference rules")
        if _is_rule_module(obj):
            return said("uses the module raftbook.rules, the reference rules")
        if isinstance(obj, types.ModuleType):
            modules.append(obj)
            continue
        if isinstance(obj, functools.partial):
            queue.extend([obj.func, *obj.args, *obj.keywords.values()])
            continue
        if isinstance(obj, types.MethodType):
            queue.append(obj.__func__)
            continue
        if not isinstance(obj, types.FunctionType):
            call = getattr(type(obj), "__call__", None)
            if isinstance(call, types.FunctionType) and not isinstance(obj, type):
                queue.append(call)
            continue
        key = _code_key(obj.__code__)
        if key in _REF_CODES:
            return said(f"is a copy of the reference rule {_REF_CODES[key]} of raftbook.rules")
        g = obj.__globals__
        for cell in obj.__closure__ or ():
            try:
                queue.append(cell.cell_contents)
            except ValueError:
                pass
        queue.extend(obj.__defaults__ or ())
        queue.extend((obj.__kwdefaults__ or {}).values())
        wrapped = getattr(obj, "__wrapped__", None)
        if wrapped is not None:
            queue.append(wrapped)
        for code in _codes(obj.__code__):
            for n in code.co_names:
                if n in RULE_NAMES:
                    return said(f"uses {n}, the reference rules")
                if n in g:
                    queue.append(g[n])
                for m in modules:
                    if n in vars(m):
                        queue.append(vars(m)[n])
            for c in code.co_consts:
                if isinstance(c, str) and ("reference_handlers" in c or any(m in c for m in RULE_MODULES)):
                    return said(f"names {c!r}, the reference rules")
    # Attribute chains on modules reached late (``rb.core.rules.x``) get a second pass.
    return _attribute_pass(fn, modules)


def _attribute_pass(fn, modules) -> str | None:
    """``rb.core.rules.x`` style chains: resolve the code's names on every module reached."""
    names = set()
    stack, seen = [fn], set()
    while stack:
        obj = stack.pop()
        if id(obj) in seen or not isinstance(obj, types.FunctionType):
            continue
        seen.add(id(obj))
        for code in _codes(obj.__code__):
            names.update(code.co_names)
            for n in code.co_names:
                target = obj.__globals__.get(n)
                if isinstance(target, types.FunctionType):
                    stack.append(target)
    todo = list(modules)
    done = set()
    while todo:
        m = todo.pop()
        if id(m) in done:
            continue
        done.add(id(m))
        for n in names:
            target = vars(m).get(n)
            if target is None:
                continue
            if _is_rule_module(target) or id(target) in _REF or target is _rules.reference_handlers:
                return (f"your function reaches {m.__name__}.{n}, the reference rules; it is graded on "
                        "what it does itself, so this part earns no points. Write the rule with the "
                        "building blocks listed with the assignment instead")
            if isinstance(target, types.ModuleType):
                todo.append(target)
    return None


class Delegated(BaseException):
    """Raised when the graded rule's reference function runs inside the student's function."""


#: One entry per call of a reference function caught by the tripwire (kept even if the
#: student's code swallows the exception).
HITS: list = []


def _hit():
    HITS.append(1)
    return Delegated()


def _trip(*args, **kwargs):
    raise _raftbook_delegated()  # noqa: F821 (put into the rule module's globals by arm())


TRIP_CODE = _trip.__code__


def arm() -> None:
    """Make the rule module's globals ready for :data:`TRIP_CODE` (idempotent)."""
    _rules.__dict__["_raftbook_delegated"] = _hit


DELEGATED = ("your function called the reference rule {ref} of raftbook.rules while it ran; it is "
             "graded on what it does itself, so this part earns no points. Write the rule with the "
             "building blocks listed with the assignment instead")


@contextmanager
def tripwire(name: str):
    """While active, calling the reference function of ``name`` raises :class:`Delegated`."""
    ref = _rules.reference_handlers_all.get(name)
    if ref is None:
        yield
        return
    saved = ref.__code__
    arm()
    ref.__code__ = TRIP_CODE
    try:
        yield
    finally:
        ref.__code__ = saved


__all__ = ["Delegated", "reference_problem", "tripwire"]
