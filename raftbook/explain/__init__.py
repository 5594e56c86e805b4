"""Why things happened: reason codes and sentences (``reasons``), reasons inferred for
students' handlers (``inferred``), narration of a run (``narrate``) and the space-time
diagram (``diagram``).

``raftbook.explain`` was one module in the first round; its public names still import
from here (``from raftbook.explain import explain``), loaded on first use so that the
core can record reasons without pulling in the simulator.
"""
_SUBMODULES = {"reasons", "inferred", "narrate", "diagram"}


def __getattr__(name):
    if name not in _SUBMODULES and not name.startswith("__"):
        from . import narrate
        if hasattr(narrate, name):
            return getattr(narrate, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
