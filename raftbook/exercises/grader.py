"""``rb.grade(name, fn)``: grade one student function in three layers.

1. rules: one rule, one minimal state, one message (:mod:`.rulecase`), and the
   rule compared with the reference on a grid of one-server situations
   (:mod:`.differential`);
2. scenarios: Figures 7 and 8, a split vote, a partition that heals, a leader
   crash after submit (:mod:`.scenes`);
3. campaigns: seeded random fault campaigns on 3 to 6 servers with the safety
   monitor after every event and a liveness check at the end, minimized when
   they fail, and the progress made compared with the reference's
   (:mod:`.campaign`).

Everything is seeded: the same function and seed give the same report.

Every call of the student's function runs under a budget and is followed by a
check of the server's state (:mod:`.budget`); a function that is, wraps or
calls the reference rule earns no points (:mod:`.delegation`). The grades
that count run in a fresh process (:mod:`.isolate`).
"""
from __future__ import annotations

from ..errors import InvalidArgument
from ..core.rules import reference_handlers_all
from . import a1_elections, a2_replication, a3_bookkeeping, a4_commitment, a5_snapshots  # noqa: F401 (register cases)
from . import a5_persistence, a6_prevote  # noqa: F401 (register cases)
from .budget import DEFAULT_LIMITS, GradeOvertime, Guard, Limits
from .campaign import run_campaigns
from .delegation import reference_problem
from .differential import run_differential
from .report import LAYERS, Finding, GradeReport, LayerResult
from .rulecase import CASES, run_rules
from .scenes import run_scenarios
from .targets import handler_of

#: The functions a grader exists for, and the assignment each belongs to.
GRADED = {
    "request_vote": "A1 elections",
    "append_entries": "A2 replication",
    "append_entries_reply": "A3 leader bookkeeping",
    "advance_commit_index": "A4 commitment",
    "apply_committed": "A4 commitment (applying entries)",
    "install_snapshot": "A5 log compaction (InstallSnapshot)",
    "request_vote_persistent": "A5 persistence points (RequestVote under explicit persistence)",
    "pre_vote": "A6 PreVote (answering a pre-vote request)",
}

def run_rule_layer(name: str, fn, seed: int = 0) -> LayerResult:
    """The rules layer: every hand-written rule case, then one more check that compares ``fn``
    with the reference on a grid of one-server situations (:mod:`.differential`; a graded name
    that replaces another handler is compared on that handler's grid)."""
    result = run_rules(name, fn, seed)
    compared, finding = run_differential(handler_of(name), fn, seed)
    if compared:
        result.checks += 1
        if finding is not None:
            result.findings.append(finding)
    return result


_RUNNERS = {"rules": run_rule_layer, "scenarios": run_scenarios, "campaigns": run_campaigns}


#: The rule quoted when a submission hands the work to the reference rule.
OWN_WORK = "A graded function does the rule's work itself"
#: The rule quoted when grading ran out of time.
IN_TIME = "A handler returns promptly (grading has a time budget)"


def grade(name: str, fn, layers=None, seed: int = 0, *, limits: Limits | None = None,
          own_work: bool = False) -> GradeReport:
    """Grade ``fn`` as the replacement for the rule ``name``; returns a :class:`GradeReport`.

    ``layers``: a subset of ("rules", "scenarios", "campaigns"), all by default.
    ``seed``: 0 for the checks students see; other seeds shift the terms of the
    rule cases and pick other scenario and campaign runs (the hidden tests).
    ``limits``: the time and message budgets (:class:`~raftbook.exercises.budget.Limits`).
    A function that is, wraps or calls the reference rule is noted on the report
    (``report.notes``); with ``own_work=True`` (what the graded cells use, in a fresh
    process) it fails every layer with a finding that says so instead.
    """
    name, chosen, seed = _check_args(name, fn, layers, seed)
    problem = reference_problem(name, fn)
    if problem is not None and own_work:
        results = {layer: LayerResult(layer, 1, [Finding(layer, "your own work", OWN_WORK, problem)])
                   for layer in chosen}
        return GradeReport(name, fn, results, seed)
    report = run_checks(name, fn, chosen, seed, limits=limits, trip=own_work)
    if problem is not None:
        report.notes.append(problem.replace("so this part earns no points",
                                            "so in a graded cell this part earns no points"))
    return report


def run_checks(name: str, fn, layers=LAYERS, seed: int = 0, *, limits: Limits | None = None,
               trip: bool = False) -> GradeReport:
    """The layers' checks alone, under budgets (what :func:`grade` runs once the function is
    known to be the student's own; the tests run the reference rules through it)."""
    guard = Guard(limits or DEFAULT_LIMITS)
    guarded = guard.wrap(name, fn, trip=trip)
    results = {}
    with guard:
        for layer in layers:
            _run_layer(layer, name, guarded, seed, guard, results)
    if guard.delegated is not None:
        results = {layer: LayerResult(layer, 1, [Finding(layer, "your own work", OWN_WORK, guard.delegated)])
                   for layer in results}
    return GradeReport(name, fn, results, seed)


def _run_layer(layer, name, guarded, seed, guard, results) -> None:
    try:
        results[layer] = _RUNNERS[layer](name, guarded, seed)
    except GradeOvertime:
        spent = guard.limits.grade_s
        results[layer] = LayerResult(layer, 1, [Finding(
            layer, "time budget", IN_TIME,
            f"grading stopped after {spent:g} s, its budget, before this layer finished: the "
            f"function is far slower than the rule needs ({guard.calls} calls ran); look for "
            "work that grows with every call")])


def _check_args(name, fn, layers, seed):
    if name not in GRADED:
        hint = (" (it is replaceable, but there is no grader for it)" if name in reference_handlers_all
                else "")
        raise InvalidArgument(f"there is no grader for {name!r}{hint}; graded functions are "
                              + ", ".join(f"{k!r} ({v})" for k, v in GRADED.items()))
    if not callable(fn):
        raise InvalidArgument(f"grade({name!r}, fn) needs the function itself (no parentheses after "
                              f"its name); got {fn!r}")
    if layers is None:
        layers = LAYERS
    elif isinstance(layers, str):
        layers = (layers,)
    try:
        chosen = [layer for layer in LAYERS if layer in set(layers)]
        unknown = set(layers) - set(LAYERS)
    except TypeError:
        raise InvalidArgument(f"layers must be a list of layer names from {list(LAYERS)}; got {layers!r}") from None
    if unknown or not chosen:
        raise InvalidArgument(f"layers must be chosen from {list(LAYERS)}; got {list(layers)!r}")
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise InvalidArgument(f"seed must be a whole number >= 0; got {seed!r}")
    return name, tuple(chosen), seed


def rule_count(name: str) -> int:
    """How many rule cases the grader of ``name`` has."""
    return len(CASES.get(name, ()))
