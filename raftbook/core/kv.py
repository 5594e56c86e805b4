"""The key-value state machine that committed entries are applied to."""
from __future__ import annotations

import math

from ..errors import InvalidCommand

_SCALARS = (str, int, float, bool, type(None))
_ARITY = {"set": 3, "get": 2, "delete": 2}


def validate_command(command) -> tuple:
    """Return ``command`` as a tuple, or raise :class:`InvalidCommand` saying why.

    Keys are strings or ints, values JSON scalars, so traces stay plain JSON.
    """
    if isinstance(command, list):
        command = tuple(command)
    if not isinstance(command, tuple) or not command:
        raise InvalidCommand(
            f"a command is a tuple like ('set', 'x', 1), ('get', 'x') or ('delete', 'x'); got {command!r}")
    op = command[0]
    if not isinstance(op, str) or op not in _ARITY:
        raise InvalidCommand(f"unknown operation {op!r}: use 'set', 'get' or 'delete'")
    if len(command) != _ARITY[op]:
        shape = {"set": "('set', key, value)", "get": "('get', key)", "delete": "('delete', key)"}[op]
        raise InvalidCommand(f"{op!r} takes the form {shape}; got {command!r}")
    key = command[1]
    if isinstance(key, bool) or not isinstance(key, (str, int)):
        raise InvalidCommand(f"keys are strings or whole numbers; got {key!r}")
    if op == "set" and not isinstance(command[2], _SCALARS):
        raise InvalidCommand(
            f"values are strings, numbers, booleans or None (so traces stay JSON); got {command[2]!r}")
    if op == "set" and isinstance(command[2], float) and not math.isfinite(command[2]):
        raise InvalidCommand(f"values must be finite numbers (JSON has no NaN or infinity); got {command[2]!r}")
    return command


def apply_command(kv: dict, command):
    """Apply one committed command to ``kv`` and return its result.

    ``set`` returns the new value, ``get`` the value or None, ``delete`` the
    removed value or None; a no-op (None) returns None.
    """
    if command is None:
        return None
    op = command[0]
    if op == "set":
        kv[command[1]] = command[2]
        return command[2]
    if op == "get":
        return kv.get(command[1])
    if op == "delete":
        return kv.pop(command[1], None)
    if op == "config":  # a configuration entry changes no key (core/membership.py)
        return None
    raise InvalidCommand(f"cannot apply {command!r}")
