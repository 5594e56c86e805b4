"""The package's shape: no import cycles, layers that only import downwards, small classes.

Reads the source with ``ast`` (nothing is imported), so a cycle hidden by import order
still fails here. Only module-level imports count: an import inside a function is allowed
for heavy optional dependencies and is listed in LOCAL_IMPORTS_ALLOWED below.
"""
from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

PKG = Path(__file__).resolve().parent.parent / "raftbook"

#: The layers, lowest first, in the direction data flows: a module may import from its own
#: layer or any lower one. The explanations come in two parts: reason codes and sentences
#: (recorded while the simulator runs, so below it) and the stories told from a finished
#: history (which replay a cluster, so above it).
LAYERS = ["errors", "core", "check", "reasons", "sim", "story", "search", "ui", "exercises"]
_LAYER_OF = {"raftbook.frames": "errors", "raftbook.explain": "reasons", "raftbook.explain.reasons": "reasons",
             "raftbook.explain.inferred": "reasons", "raftbook.explain.narrate": "story",
             "raftbook.explain.diagram": "story"}
#: Whole-package façades that re-export everything (they sit above every layer).
TOP = {"raftbook", "raftbook._compat"}
#: Function-local imports allowed: heavy optional libraries only...
LOCAL_IMPORTS_ALLOWED = {"pandas", "networkx", "ipywidgets", "matplotlib", "IPython", "multiprocessing",
                         "importlib", "hypothesis", "nbformat"}
#: ... and these few calls up the layers, each a convenience for the person at the keyboard.
UPWARD_ALLOWED = {
    ("raftbook.core.node", "raftbook.explain.inferred"):
        "reasons are inferred for a student's handler only when one is installed and reasons are on",
    ("raftbook.sim.cluster", "raftbook.explain.narrate"): "c.explain() is a shortcut for rb.explain...",
    ("raftbook.sim.cluster", "raftbook.ui.view"): "a Cluster draws itself in a notebook",
    ("raftbook.explain", "raftbook.explain.narrate"): "the first round's raftbook.explain names, loaded on use",
    ("raftbook.search.explore", "raftbook.exercises.bugs"): "rb.explore can search the graders' bug catalogue",
    ("raftbook.ui.widget.panels", "raftbook.ui.tables"): "the tables need pandas, loaded when the tab opens",
    ("raftbook.exercises.report", "raftbook.ui.view"):
        "the picture of a failing run needs networkx, loaded only when a report draws one",
}


def _modules():
    for path in sorted(PKG.rglob("*.py")):
        rel = path.relative_to(PKG.parent).with_suffix("")
        parts = list(rel.parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        yield ".".join(parts), path


def _resolve(module: str, is_pkg: bool, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".") if is_pkg else module.split(".")[:-1]
    base = base[:len(base) - (node.level - 1)]
    return ".".join(base + ([node.module] if node.module else []))


def _imports(tree: ast.Module, module: str, is_pkg: bool, known: set):
    """(module-level targets, function-local targets) inside raftbook or outside it."""
    top, local = set(), set()

    def targets(node):
        if isinstance(node, ast.Import):
            return [a.name for a in node.names]
        base = _resolve(module, is_pkg, node)
        out = []
        for a in node.names:
            sub = f"{base}.{a.name}"
            out.append(sub if sub in known else base)
        return out

    def walk(body, in_function):
        for node in body:
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                (local if in_function else top).update(targets(node))
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
                walk(ast.iter_child_nodes(node), True)
            elif isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
                continue  # typing-only imports never run
            else:
                walk(ast.iter_child_nodes(node), in_function)
    walk(tree.body, False)
    return top, local


def _graph():
    mods = dict(_modules())
    known = set(mods)
    g = nx.DiGraph()
    local_imports = {}
    for name, path in mods.items():
        tree = ast.parse(path.read_text(), filename=str(path))
        top, local = _imports(tree, name, path.name == "__init__.py", known)
        g.add_node(name)
        for t in top:
            if t in known and t != name:
                g.add_edge(name, t)
        local_imports[name] = local
    return g, local_imports


def _layer(module: str):
    if module in TOP:
        return None
    part = _LAYER_OF.get(module, module.split(".")[1])
    return LAYERS.index(part) if part in LAYERS else None


def test_there_is_no_import_cycle():
    g, _ = _graph()
    # a package's __init__ importing its own submodules is not a cycle of the code
    cycles = [c for c in nx.simple_cycles(g) if len(c) > 1]
    assert not cycles, "import cycles: " + "; ".join(" -> ".join(c + [c[0]]) for c in cycles[:5])


def test_layers_only_import_downwards():
    g, _ = _graph()
    upward = []
    for a, b in g.edges:
        la, lb = _layer(a), _layer(b)
        if la is not None and lb is not None and lb > la:
            upward.append(f"{a} imports {b}")
    assert not upward, "\n".join(upward)


def test_function_local_imports_are_for_heavy_optional_libraries_only():
    _, local = _graph()
    bad = sorted(f"{m}: {t}" for m, ts in local.items() for t in ts
                 if t.split(".")[0] not in LOCAL_IMPORTS_ALLOWED and (m, t) not in UPWARD_ALLOWED)
    assert not bad, "function-local imports of light modules (import them at the top):\n" + "\n".join(bad)


@pytest.mark.parametrize("module,path", list(_modules()), ids=lambda x: str(x) if isinstance(x, str) else "")
def test_every_module_says_its_job_and_keeps_classes_small(module, path):
    tree = ast.parse(path.read_text())
    assert ast.get_docstring(tree), f"{module} has no docstring saying its one job"
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            size = node.end_lineno - node.lineno + 1
            assert size <= 420, f"{module}.{node.name} is {size} lines; split it (about 400 at most)"
