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


class StateMachine(dict):
    """The key-value state a server applies commands to: a dict that counts its changes.

    ``version`` goes up on every change, so the simulator can notice in O(1) that a
    server's state was edited between two events (``Cluster.tampered``) without hashing
    the whole state after every event. Anything that reads a dict reads it as one.
    """

    __slots__ = ("version",)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.version = 0

    def __setitem__(self, key, value):
        self.version += 1
        dict.__setitem__(self, key, value)

    def __delitem__(self, key):
        self.version += 1
        dict.__delitem__(self, key)

    def __ior__(self, other):
        self.version += 1
        return dict.__ior__(self, other)

    def pop(self, *args):
        self.version += 1
        return dict.pop(self, *args)

    def popitem(self):
        self.version += 1
        return dict.popitem(self)

    def clear(self):
        self.version += 1
        dict.clear(self)

    def update(self, *args, **kwargs):
        self.version += 1
        dict.update(self, *args, **kwargs)

    def setdefault(self, key, default=None):
        self.version += 1
        return dict.setdefault(self, key, default)

    def __reduce__(self):  # pickles (campaign workers) as a StateMachine with its items
        return (StateMachine, (dict(self),))

