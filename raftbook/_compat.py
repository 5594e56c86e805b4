"""Old import paths keep working: ``raftbook.cluster`` is ``raftbook.sim.cluster``, and so on.

The first round kept every module directly under ``raftbook/``; notebooks, course
material and users' code import from those paths. A finder on ``sys.meta_path``
answers each old name with the module at its new home (the same module object, so
``raftbook.cluster.Cluster is raftbook.sim.cluster.Cluster``), loading it only when
asked for.
"""
from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys

#: old module under raftbook -> its home now
MOVED = {
    "messages": "core.messages", "log": "core.log", "kv": "core.kv", "roles": "core.roles",
    "config": "core.config", "rules": "core.rules", "node": "core.node",
    "safety": "check.safety", "linearizability": "check.linearizability",
    "reasons": "explain.reasons", "handler_reasons": "explain.inferred",
    "diagram": "explain.diagram",
    "cluster": "sim.cluster", "clients": "sim.clients", "trace": "sim.trace",
    "scenarios": "sim.scenarios",
    "statespace": "search.statespace", "bfs": "search.bfs", "explore": "search.explore",
    "campaigns": "search.campaigns", "progress": "search.progress",
    "view": "ui.view", "tables": "ui.tables", "widgets": "ui.widgets",
}


class _Alias(importlib.abc.MetaPathFinder, importlib.abc.Loader):
    def __init__(self, package: str):
        self.package = package

    def find_spec(self, fullname, path=None, target=None):
        head, _, name = fullname.rpartition(".")
        if head != self.package or name not in MOVED:
            return None
        return importlib.util.spec_from_loader(fullname, self)

    def create_module(self, spec):
        module = importlib.import_module(f"{self.package}.{MOVED[spec.name.rpartition('.')[2]]}")
        spec.loader_state = module.__spec__  # the import system overwrites __spec__: put it back
        return module

    def exec_module(self, module):
        module.__spec__ = module.__spec__.loader_state  # already executed at its new home


def install(package: str) -> None:
    if not any(isinstance(f, _Alias) and f.package == package for f in sys.meta_path):
        sys.meta_path.append(_Alias(package))
