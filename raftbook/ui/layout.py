"""Where each server goes in the picture: one ring, or a circle per partition group.

Positions are in SVG user units (pixels at 100 %) and cached per
(number of servers, groups), since a partition changes rarely and a redraw
happens on every click.
"""
from __future__ import annotations

import math

import networkx as nx

BANNER_H = 28
RING_W = 500
RING_R = 165
NODE_R = 27
_LAYOUTS: dict = {}
RING_TOP = BANNER_H + 40  # where the server area starts


def _ring(ids, r, cx, cy) -> dict:
    """``ids`` evenly on a circle of radius ``r`` (networkx's circular layout).

    The first server goes at the top (a pair side by side), so S1 is where
    RaftScope users expect it.
    """
    if len(ids) == 1:
        return {ids[0]: (cx, cy)}
    raw = nx.circular_layout(ids, scale=1.0)
    turn = math.pi if len(ids) == 2 else -math.pi / 2
    pos = {}
    for i in ids:
        x, y = raw[i]
        a = math.atan2(y, x) + turn
        pos[i] = (cx + r * math.cos(a), cy + r * math.sin(a))
    return pos


def layout(n: int, groups=None) -> dict:
    """Where each server goes: one ring, or each partition group in its own circle (cached).

    Returns ``{"pos": {id: (x, y)}, "hulls": [(cx, cy, r, members), ...],
    "bottom": y}``; groups are packed left to right in rows of the server area.
    """
    key = (n, groups)
    hit = _LAYOUTS.get(key)
    if hit is not None:
        return hit
    hulls = []
    if not groups:
        cy = RING_TOP + RING_R + 40
        pos = _ring(list(range(1, n + 1)), RING_R, RING_W / 2, cy)
        bottom = cy + RING_R + NODE_R + 40
    else:
        pos = {}
        sizes = []
        for members in groups:
            ids = sorted(members)
            m = len(ids)
            # neighbours about 100 apart (room for a server, its text and an arrow between)
            r = 0.0 if m == 1 else NODE_R + 22 if m == 2 else 48 / math.sin(math.pi / m)
            sizes.append((ids, r, r + NODE_R + 30))
        x = 0.0
        row_top = RING_TOP + 14
        row_h = 0.0
        for ids, r, h in sizes:
            if x > 0 and x + 2 * h > RING_W:
                x, row_top, row_h = 0.0, row_top + row_h + 20, 0.0
            cx, cy = x + h, row_top + h
            pos.update(_ring(ids, r, cx, cy))
            hulls.append((cx, cy, h, tuple(ids)))
            x += 2 * h + 8
            row_h = max(row_h, 2 * h)
        bottom = row_top + row_h + 12
        # Centre the rows horizontally when there is room to spare.
        right = max(cx + h for cx, _, h, _ in hulls)
        shift = max(0.0, (RING_W - right) / 2)
        pos = {i: (x + shift, y) for i, (x, y) in pos.items()}
        hulls = [(cx + shift, cy, h, ids) for cx, cy, h, ids in hulls]
    out = {"pos": {i: (round(x, 1), round(y, 1)) for i, (x, y) in pos.items()}, "hulls": hulls,
           "bottom": bottom}
    if len(_LAYOUTS) > 256:
        _LAYOUTS.clear()
    _LAYOUTS[key] = out
    return out
