"""Reading what a student typed in the widget's text boxes: partition groups and client commands.

Plain text in, plain values out (no ipywidgets here), so the parsing is tested
on its own and a typo becomes an InvalidArgument that says how to write it.
"""
from __future__ import annotations

import json
import math
import re

from ...errors import InvalidArgument

#: The longest text a box is read from: a key, a value or a list of groups is short, and a
#: pasted megabyte should be refused at once rather than parsed.
MAX_TEXT = 200
#: Whole numbers typed as values stay below this many digits (what a trace can hold).
MAX_DIGITS = 30


def _short(text, what: str) -> str:
    if not isinstance(text, str):
        raise InvalidArgument(f"the {what} box holds text, got {type(text).__name__}")
    if len(text) > MAX_TEXT:
        raise InvalidArgument(f"the {what} box holds {len(text):,} characters; type at most "
                              f"{MAX_TEXT} (a short key, value or list of servers)")
    return text


def parse_groups(text: str) -> list:
    """``"1,2 | 3,4,5"`` (or ``"S1 S2 | S3"``) -> ``[{1, 2}, {3, 4, 5}]``."""
    if not isinstance(text, str) or not _short(text, "groups").strip():
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


def parse_link(text: str) -> tuple:
    """``"1,5"`` (or ``"S1 S5"``, ``"1-5"``) -> ``(1, 5)``: the two servers of a link to cut."""
    if not isinstance(text, str) or not _short(text, "groups").strip():
        raise InvalidArgument("type the two servers whose link to cut in the groups box, e.g. 1,5")
    junk = re.sub(r"[\d\s,;\-{}()\[\]Ss]", "", text)
    ids = [int(x) for x in re.findall(r"\d+", text)]
    if junk or len(ids) != 2:
        raise InvalidArgument(f"cannot read {text.strip()!r} as a link; type exactly two servers, "
                              "e.g. 1,5 (Cut cuts the link between them)")
    return ids[0], ids[1]


def groups_call_text(text: str) -> str:
    """How the groups box reads as arguments of ``c.partition``, e.g. ``{1, 2}, {3, 4, 5}``."""
    return ", ".join("{" + ", ".join(re.findall(r"\d+", p)) + "}" for p in text.split("|"))


def parse_value(text: str):
    """A value typed in the client form: JSON scalars (1, 2.5, true, null, "a") or plain text."""
    text = _short(text, "value").strip()
    if text[:1] in "[{":
        return text  # lists and objects are not values a command holds: keep the text as typed
    try:
        value = json.loads(text)
    except (ValueError, RecursionError):
        return text
    if isinstance(value, int) and not isinstance(value, bool) and len(text.lstrip("-")) > MAX_DIGITS:
        raise InvalidArgument(f"that number has {len(text.lstrip('-'))} digits; values have at most "
                              f"{MAX_DIGITS} (type it in quotes to store it as text)")
    if isinstance(value, float) and not math.isfinite(value):
        raise InvalidArgument(f"{text} is not a finite number; type a number like 2.5, or put it "
                              "in quotes to store it as text")
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return text


def client_command(op: str, key: str, value: str) -> tuple:
    """The command the client form describes, e.g. ``("set", "x", 1)``; InvalidArgument if incomplete."""
    key = _short(key, "key").strip()
    if not key:
        raise InvalidArgument("type a key for the client command (e.g. x)")
    if op == "set":
        if not value.strip():
            raise InvalidArgument('type a value to set (e.g. 1, "a" or true)')
        return ("set", key, parse_value(value))
    return (op, key)
