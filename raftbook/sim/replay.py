"""Carrying out a recorded event again from its kind and arguments: undo, goto and traces.

A trace is data from anywhere, so a recorded run_until is checked before it is rerun:
its tick counts must be whole and within the limits, and it cannot have run past its own
maximum. Every other kind goes through the cluster's own public call, which validates.
"""
from __future__ import annotations

from ..errors import InvalidArgument
from . import validate
from .runloop import rerun_until


def replay_event(cluster, kind: str, args: dict) -> None:
    """Carry out the event ``kind`` with its recorded ``args`` on ``cluster``."""
    if kind == "tick":
        cluster.tick()
    elif kind in ("timeout", "crash", "restart", "compact"):
        getattr(cluster, kind)(args["node"])
    elif kind in ("deliver", "drop", "duplicate"):
        getattr(cluster, kind)(args["msg_id"])
    elif kind == "partition":
        cluster.partition(*[set(g) for g in args["groups"]])
    elif kind == "heal":
        cluster.heal(args.get("a"), args.get("b"))
    elif kind == "cut":
        cluster.cut(args["a"], args["b"])
    elif kind == "propose":
        cluster.propose(tuple(args["command"]), node=args["node"])
    elif kind == "run":
        cluster.run(args["ticks"], latency=tuple(args["latency"]), drop_rate=args["drop_rate"],
                    duplicate_rate=args["duplicate_rate"])
    elif kind == "run_until":
        options = validate.check_network(args["latency"], args["drop_rate"], args["duplicate_rate"])
        max_ticks = validate.check_count("max_ticks", args["max_ticks"])
        ticks = validate.check_count("ticks", args["ticks"])
        if ticks > max_ticks or not isinstance(args["reached"], bool):
            raise InvalidArgument(f"a recorded run_until ran {validate.show(ticks)} ticks of at "
                                  f"most {validate.show(max_ticks)} and reached "
                                  f"{validate.show(args['reached'])}: not a run it could have made")
        args = {"max_ticks": max_ticks, **options, "ticks": ticks, "reached": args["reached"]}
        cluster._record("run_until", args, lambda: rerun_until(cluster, args, options))
    elif cluster._apply_membership_event(kind, args):
        pass
    else:
        raise InvalidArgument(f"unknown event kind {kind!r}")
