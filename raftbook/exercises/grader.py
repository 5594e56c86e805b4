"""``rb.grade(name, fn)``: grade one student function in three layers.

1. rules: one rule, one minimal state, one message (:mod:`.rulecase`);
2. scenarios: Figures 7 and 8, a split vote, a partition that heals, a leader
   crash after submit (:mod:`.scenes`);
3. campaigns: seeded random fault campaigns with the safety monitor after
   every event and a liveness check at the end, minimized when they fail
   (:mod:`.campaign`).

Everything is seeded: the same function and seed give the same report.
"""
from __future__ import annotations

from ..errors import InvalidArgument
from ..core.rules import reference_handlers_all
from . import a1_elections, a2_replication, a3_bookkeeping, a4_commitment  # noqa: F401 (register cases)
from .campaign import run_campaigns
from .report import LAYERS, GradeReport
from .rulecase import CASES, run_rules
from .scenes import run_scenarios

#: The functions a grader exists for, and the assignment each belongs to.
GRADED = {
    "request_vote": "A1 elections",
    "append_entries": "A2 replication",
    "append_entries_reply": "A3 leader bookkeeping",
    "advance_commit_index": "A4 commitment",
    "apply_committed": "A4 commitment (applying entries)",
}

_RUNNERS = {"rules": run_rules, "scenarios": run_scenarios, "campaigns": run_campaigns}


def grade(name: str, fn, layers=None, seed: int = 0) -> GradeReport:
    """Grade ``fn`` as the replacement for the rule ``name``; returns a :class:`GradeReport`.

    ``layers``: a subset of ("rules", "scenarios", "campaigns"), all by default.
    ``seed``: 0 for the checks students see; other seeds shift the terms of the
    rule cases and pick other scenario and campaign runs (the hidden tests).
    """
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
    results = {layer: _RUNNERS[layer](name, fn, seed) for layer in chosen}
    return GradeReport(name, fn, results, seed)


def rule_count(name: str) -> int:
    """How many rule cases the grader of ``name`` has."""
    return len(CASES.get(name, ()))
