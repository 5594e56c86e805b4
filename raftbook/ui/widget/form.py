"""Reading what a student typed in the widget's text boxes: partition groups and client commands.

Plain text in, plain values out (no ipywidgets here), so the parsing is tested
on its own and a typo becomes an InvalidArgument that says how to write it.
"""
from __future__ import annotations

import json
import re

from ...errors import InvalidArgument


def parse_groups(text: str) -> list:
    """``"1,2 | 3,4,5"`` (or ``"S1 S2 | S3"``) -> ``[{1, 2}, {3, 4, 5}]``."""
    if not isinstance(text, str) or not text.strip():
        raise InvalidArgument("type the groups to cut the network into, e.g. 1,2 | 3,4,5 "
                              "(servers you leave out form one more group)")
    groups = []
    for part in text.split("|"):
        ids = [int(x) for x in re.findall(r"\d+", part)]
        junk = re.sub(r"[\d\s,;{}()\[\]Ss]", "", part)
        if junk:
            raise InvalidArgument(f"cannot read {part.strip()!r} as a group of servers; write server "
                                  "numbers separated by commas, and groups separated by |, "
                                  "e.g. 1,2 | 3,4,5")
        if not ids:
            raise InvalidArgument(f"a group is empty in {text!r}; e.g. 1,2 | 3,4,5")
        groups.append(set(ids))
    return groups


def groups_call_text(text: str) -> str:
    """How the groups box reads as arguments of ``c.partition``, e.g. ``{1, 2}, {3, 4, 5}``."""
    return ", ".join("{" + ", ".join(re.findall(r"\d+", p)) + "}" for p in text.split("|"))


def parse_value(text: str):
    """A value typed in the client form: JSON scalars (1, 2.5, true, null, "a") or plain text."""
    text = text.strip()
    try:
        value = json.loads(text)
    except ValueError:
        return text
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return text


def client_command(op: str, key: str, value: str) -> tuple:
    """The command the client form describes, e.g. ``("set", "x", 1)``; InvalidArgument if incomplete."""
    key = key.strip()
    if not key:
        raise InvalidArgument("type a key for the client command (e.g. x)")
    if op == "set":
        if not value.strip():
            raise InvalidArgument('type a value to set (e.g. 1, "a" or true)')
        return ("set", key, parse_value(value))
    return (op, key)
