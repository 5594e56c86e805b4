"""What a grader hands back: findings in plain words, per-layer results, a trace.

A :class:`GradeReport` prints as text (``print(report)``) and renders as an
HTML table in a notebook. Its ``trace`` is plain JSON data: the shortest
failing run the grader found, which ``report.replay()`` turns back into a
live cluster for the widget.
"""
from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import InvalidArgument, InvalidState
from ..sim.cluster import Cluster
from .budget import Guard, Limits
from .targets import handlers_for

#: The three layers of every grader, in the order they run.
LAYERS = ("rules", "scenarios", "campaigns")

LAYER_TITLES = {
    "rules": "Paper rules (one state, one message)",
    "scenarios": "Scenario replays",
    "campaigns": "Random fault campaigns",
}


#: How many findings print in full (a function that is not written yet fails every check).
SHOWN = 5


@dataclass
class Finding:
    """One thing the grader saw go wrong.

    ``rule`` names the rule of the paper that broke; ``message`` says what
    happened in plain words; ``check`` names the case, scenario or campaign;
    ``trace`` is a replayable run (scenarios and campaigns) or None;
    ``reproduce`` is Python code that repeats a rule case on one node.
    """

    layer: str
    check: str
    rule: str
    message: str
    trace: dict | None = None
    reproduce: str | None = None
    steps: tuple = ()

    def heading_and_steps(self) -> tuple:
        """The steps' heading (which says how the step that broke the rule is marked), and the steps."""
        steps = tuple(self.steps)
        if steps and steps[0].startswith("The steps that led there"):
            return steps[0].rstrip(":"), steps[1:]
        if any(s.startswith("»") for s in steps):
            return "What happened, oldest first (» marks where the rule broke)", steps
        return "What happened just before, oldest first", steps

    def to_dict(self) -> dict:
        """Plain JSON data (what crosses from an isolated grading process)."""
        return {"layer": self.layer, "check": self.check, "rule": self.rule, "message": self.message,
                "trace": self.trace, "reproduce": self.reproduce, "steps": list(self.steps)}

    @classmethod
    def from_dict(cls, data: dict) -> "Finding":
        return cls(str(data["layer"]), str(data["check"]), str(data["rule"]), str(data["message"]),
                   data.get("trace"), data.get("reproduce"), tuple(data.get("steps") or ()))

    def __str__(self) -> str:
        text = f"[{self.layer}: {self.check}] {self.rule}: {self.message}"
        if self.steps:
            heading, steps = self.heading_and_steps()
            text += f"\n    {heading}:\n" + "\n".join(f"      - {s}" for s in steps)
        if self.reproduce:
            text += "\n    Reproduce it on one node:\n" + "\n".join(
                f"      {line}" for line in self.reproduce.splitlines())
        if self.trace is not None:
            text += (f"\n    The failing run has {len(self.trace['events'])} events: "
                     "report.replay() rebuilds it for rb.show(...).")
        return text


@dataclass
class LayerResult:
    """How one layer went: how many checks ran, and the findings of those that failed."""

    layer: str
    checks: int = 0
    findings: list = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.findings


class GradeReport:
    """The result of grading one function.

    ``passed`` is True when every layer that ran passed; ``failures`` lists
    the findings as sentences (empty when passed); ``trace`` is the shortest
    failing run (JSON-ready data) or None; ``layers`` maps each layer that ran
    to its :class:`LayerResult`.
    """

    def __init__(self, name: str, fn, layers: dict, seed: int = 0):
        self.name = name
        self.fn = fn
        self.layers = layers
        self.seed = seed
        self.fn_name = _fn_name(fn)
        self._picture: str | None = None
        #: Things to know that are not failures (a function that uses the reference rule, say).
        self.notes: list = []

    # -- plain data (what crosses from an isolated grading process) ---------------
    def to_dict(self, picture: bool = False) -> dict:
        """The report as plain JSON data; ``picture``: include the static SVG of the failing run."""
        return {"name": self.name, "function": self.fn_name, "seed": self.seed,
                "layers": {layer: {"checks": lr.checks, "findings": [f.to_dict() for f in lr.findings]}
                           for layer, lr in self.layers.items()},
                "picture": self.picture() if picture else None}

    @classmethod
    def from_dict(cls, data: dict, fn=None) -> "GradeReport":
        """Rebuild a report from :meth:`to_dict` data; ``fn`` is the graded function (for replay)."""
        layers = {layer: LayerResult(layer, int(d["checks"]), [Finding.from_dict(f) for f in d["findings"]])
                  for layer, d in data["layers"].items() if layer in LAYERS}
        report = cls(str(data["name"]), fn, layers, int(data.get("seed", 0)))
        report.fn_name = str(data.get("function") or report.fn_name)
        report._picture = data.get("picture")
        return report

    def picture(self) -> str | None:
        """A static SVG of the servers where the shortest failing run ends (None without one).

        Static, so it shows in nbgrader's feedback pages, where widgets do not.
        """
        if self._picture is None and self.trace is not None and self.fn is not None:
            try:
                from ..ui.view import render_svg  # networkx: loaded only to draw a failing run
                self._picture = render_svg(self.replay())
            except Exception:  # a picture is a courtesy; a function that breaks replays gets none
                self._picture = ""
        return self._picture or None

    # -- the contract ------------------------------------------------------------
    @property
    def findings(self) -> list:
        return [f for lr in self.layers.values() for f in lr.findings]

    @property
    def passed(self) -> bool:
        return all(lr.passed for lr in self.layers.values())

    @property
    def failures(self) -> list:
        return [str(f) for f in self.findings]

    @property
    def trace(self) -> dict | None:
        """The shortest failing run found (fewest events), or None."""
        traced = [f.trace for f in self.findings if f.trace is not None]
        if not traced:
            return None
        return min(traced, key=lambda t: len(t["events"]))

    # -- helpers -----------------------------------------------------------------
    def layer_passed(self, layer: str) -> bool:
        """Did ``layer`` run and pass? (what the course's test cells assert)"""
        if layer not in LAYERS:
            raise InvalidArgument(f"unknown layer {layer!r}; the layers are {list(LAYERS)}")
        lr = self.layers.get(layer)
        return lr is not None and lr.passed

    def replay(self):
        """The shortest failing run as a live cluster (``rb.show(report.replay())``)."""
        if self.trace is None:
            raise InvalidState("this report has no failing run to replay"
                               + (": every check passed" if self.passed else
                                  "; its findings come from one-node rule cases: run the "
                                  "'Reproduce it on one node' code printed with each finding"))
        if self.fn is None:
            raise InvalidState("this report came without the graded function; rebuild the run with "
                               "rb.Cluster.from_trace(report.trace, handlers={name: your_function})")
        guarded = Guard(Limits(grade_s=60.0)).wrap(self.name, self.fn, trip=False)
        return Cluster.from_trace(self.trace, handlers=handlers_for(self.name, guarded))

    def save_trace(self, path) -> None:
        """Write the shortest failing run as a JSON trace file (``rb.Cluster.load_trace``)."""
        if self.trace is None:
            raise InvalidState("this report has no failing run to save")
        Path(path).write_text(json.dumps(self.trace, indent=1) + "\n", encoding="utf-8")

    def summary(self) -> str:
        parts = []
        for layer in LAYERS:
            lr = self.layers.get(layer)
            if lr is not None:
                ok = lr.checks - len(lr.findings)
                parts.append(f"{layer} {ok}/{lr.checks}")
        verdict = "PASSED" if self.passed else "FAILED"
        return f"{self.name} ({self.fn_name}): {verdict}  [" + ", ".join(parts) + "]"

    def __bool__(self):
        return self.passed

    def __repr__(self):
        return f"<GradeReport {self.summary()}>"

    def __str__(self):
        lines = [self.summary()]
        findings = self.findings
        for k, f in enumerate(findings[:SHOWN], 1):
            lines.append(f"{k}. {f}")
        if len(findings) > SHOWN:
            lines.append(f"... and {len(findings) - SHOWN} more findings (report.failures lists them all).")
        if self.passed:
            lines.append("Every check passed.")
        lines.extend(f"Note: {n}." for n in self.notes)
        return "\n".join(lines)

    def _repr_html_(self):
        e = html.escape
        colour = "#1a7f37" if self.passed else "#cf222e"
        verdict = "passed" if self.passed else "failed"
        rows = []
        for layer in LAYERS:
            lr = self.layers.get(layer)
            if lr is None:
                continue
            mark = "✔" if lr.passed else "✘"
            ok = lr.checks - len(lr.findings)
            rows.append(f"<tr><td>{mark}</td><td>{e(LAYER_TITLES[layer])}</td>"
                        f"<td style='text-align:right'>{ok} / {lr.checks}</td></tr>")
        out = [f"<div class='raftbook-grade' data-passed='{str(self.passed).lower()}'>",
               f"<p><b>{e(self.name)}</b> (<code>{e(self.fn_name)}</code>): "
               f"<b style='color:{colour}'>{verdict}</b></p>",
               "<table><tr><th></th><th>layer</th><th>checks passed</th></tr>", *rows, "</table>"]
        out.extend(f"<p><b>Note:</b> {e(n)}.</p>" for n in self.notes)
        if self.findings:
            out.append("<ol>")
            for f in self.findings:
                item = (f"<li><b>{e(f.rule)}</b> <i>({e(f.layer)}: {e(f.check)})</i><br>"
                        f"{e(f.message)}")
                if f.steps:
                    heading, steps = f.heading_and_steps()
                    item += f"<br>{e(heading)}:<ul>" + "".join(
                        f"<li>{e(s)}</li>" for s in steps) + "</ul>"
                if f.reproduce:
                    item += f"<details><summary>reproduce on one node</summary><pre>{e(f.reproduce)}</pre></details>"
                if f.trace is not None:
                    item += (f"<br><small>failing run: {len(f.trace['events'])} events</small>")
                out.append(item + "</li>")
            out.append("</ol>")
            if self.trace is not None:
                out.append(f"<p>Replay the shortest failing run ({len(self.trace['events'])} events) "
                           "with <code>rb.show(report.replay())</code>.</p>")
                picture = self.picture()
                if picture:
                    out.append("<p>The servers where the shortest failing run ends:</p>" + picture)
        out.append("</div>")
        return "\n".join(out)


def _fn_name(fn) -> str:
    return getattr(fn, "__name__", None) or repr(fn)
