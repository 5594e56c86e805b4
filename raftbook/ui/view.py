"""One state of a cluster as a networkx graph, and that graph drawn as SVG.

:func:`cluster_graph` is the model: servers are nodes, messages in flight are
edges (keyed by envelope id), and every attribute a picture needs is on them.
:func:`render_svg` draws it the way RaftScope taught people to look at Raft
(servers in a ring coloured by role, an election-timer arc, a log grid per
server) plus what a step-by-step simulator needs: every message as its own
labelled arrow, messages a partition or a crash will lose drawn dashed,
partition groups drawn apart, and a safety banner.

The SVG is a plain string built in one pass (no plotting library), so one
redraw costs about a millisecond even with a hundred messages in flight. Its
elements carry stable ``data-*`` attributes so tests, browsers and course
material can find them:

- each server ``<g data-node="i" data-role data-term data-crashed data-group
  data-voted-for data-commit-index data-ticks-left ...>``
- each message ``<g data-msg="envelope id" data-type="AppendEntries" data-src
  data-dst data-term data-lost data-selected ...>``
- each log cell ``<g data-log-node="i" data-index data-entry-term
  data-committed ...>``; each log row ``<g data-log-row="i" ...>``
- each partition group ``<g data-partition-group="k" data-members="1 2">``
- the banner ``<g data-safety="ok|violated" data-property=...>``

Only presentation attributes are used (no ``<style>``), so the picture looks
the same inline, in an ``<img>``, after nbconvert and on GitHub.
"""
from __future__ import annotations

import math
from html import escape

import networkx as nx

from ..errors import InvalidArgument, SafetyViolation, UnknownMessage, UnknownNode
from ..core.describe import command_text, describe_message
from ..core.messages import AppendEntries, AppendEntriesReply, RequestVote, RequestVoteReply
from ..core.node import _is_int
from ..core.roles import Role

#: Fill colour of a server by role; crashed servers are grey whatever their role.
ROLE_FILL = {"follower": "#dde6f3", "candidate": "#ffd27a", "leader": "#86d39b"}
CRASHED_FILL = "#cfcfcf"

#: Colour of a message arrow by kind (replies split by their answer).
MSG_COLOUR = {
    "RequestVote": "#d9822b",
    "vote granted": "#2f9e44",
    "vote denied": "#c92a2a",
    "AppendEntries": "#1c6dd0",
    "append ok": "#0c8599",
    "append failed": "#c92a2a",
    "lost": "#9a9a9a",
}

#: Term colours for log cells, cycled (term 1 is the first colour).
TERM_COLOURS = ("#74c0fc", "#ffa94d", "#b197fc", "#8ce99a", "#ff8787", "#ffe066",
                "#63e6be", "#f783ac", "#a9e34b", "#91a7ff")

# Geometry of the picture, in SVG user units (pixels at 100 %).
BANNER_H = 28
RING_W = 500
RING_R = 165
NODE_R = 27
LOG_X = 515
CELL_W = 30
CELL_H = 28
MAX_LOG = 14
_FADED = ' opacity="0.55"'
_BOLD = ' font-weight="bold"'


def term_colour(term: int) -> str:
    """The colour of ``term`` in log grids (terms cycle through ten colours)."""
    return "#ffffff" if term <= 0 else TERM_COLOURS[(term - 1) % len(TERM_COLOURS)]


def _kind(msg) -> str:
    t = type(msg)
    if t is RequestVoteReply:
        return "vote granted" if msg.vote_granted else "vote denied"
    if t is AppendEntriesReply:
        return "append ok" if msg.success else "append failed"
    return t.__name__


def message_label(msg) -> str:
    """A short label for an arrow: RV, vote yes/no, AE 3 / AE hb, ok 5 / fail."""
    t = type(msg)
    if t is AppendEntries:
        return f"AE {len(msg.entries)}" if msg.entries else "AE hb"
    if t is AppendEntriesReply:
        return f"ok {msg.match_index}" if msg.success else "fail"
    if t is RequestVoteReply:
        return "vote yes" if msg.vote_granted else "vote no"
    return "RV"


def _safety(cluster):
    from ..check.safety import check_safety
    try:
        check_safety(cluster)
    except SafetyViolation as exc:
        return exc
    return None


def cluster_graph(cluster) -> nx.MultiDiGraph:
    """The cluster now as a networkx graph: servers are nodes, messages in flight are edges.

    Node attributes: ``role``, ``term``, ``voted_for``, ``crashed``, ``group``
    (index into ``cluster.groups``, or None), ``log`` (tuple of entries),
    ``commit_index``, ``last_applied``, ``next_index``, ``match_index``,
    ``leader_id``, ``votes``, ``quorum``, ``election_elapsed``,
    ``election_timeout``, ``ticks_left``. Edges are keyed by envelope id with
    ``msg``, ``type``, ``kind``, ``label``, ``sent_at`` and ``lost`` (None, or
    why the message would be lost if delivered now: "partition" or "crashed").
    Graph attributes: ``now``, ``leader``, ``groups``, ``violation``, ``tick_ms``.
    """
    from ..sim.cluster import Cluster

    if not isinstance(cluster, Cluster):
        raise InvalidArgument(f"expected a raftbook Cluster, got {type(cluster).__name__}")
    groups = cluster.groups
    group_of = {} if groups is None else {i: k for k, g in enumerate(groups) for i in g}
    crashed = cluster.crashed
    g = nx.MultiDiGraph(now=cluster.now, leader=cluster.leader, groups=groups,
                        violation=_safety(cluster), tick_ms=cluster.config.tick_ms,
                        n=cluster.n)
    for i, node in cluster.nodes.items():
        is_leader = node.role is Role.LEADER
        g.add_node(i, role=node.role.value, term=node.current_term, voted_for=node.voted_for,
                   crashed=i in crashed, group=group_of.get(i), log=tuple(node.log),
                   commit_index=node.commit_index, last_applied=node.last_applied,
                   next_index=node.next_index if is_leader else {},
                   match_index=node.match_index if is_leader else {},
                   leader_id=node.leader_id, votes=tuple(sorted(node.votes)), quorum=node.quorum,
                   election_elapsed=node.election_elapsed, election_timeout=node.election_timeout,
                   ticks_left=node.ticks_until_timeout)
    add = g.add_edge
    gid = group_of.get
    for env in cluster.flight.values():
        msg = env.msg
        src, dst = msg.src, msg.dst
        if dst in crashed:
            lost = "crashed"
        elif groups is not None and gid(src) != gid(dst):
            lost = "partition"
        else:
            lost = None
        add(src, dst, key=env.id, msg=msg, type=type(msg).__name__, kind=_kind(msg),
            label=message_label(msg), sent_at=env.sent_at, lost=lost)
    return g


# ---------------------------------------------------------------------- layout
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


# ---------------------------------------------------------------------- drawing
def _arc(x, y, r, frac) -> str:
    """An SVG path for a clockwise arc from 12 o'clock covering ``frac`` of a circle."""
    if frac >= 0.999:
        return (f'M{x:.1f} {y - r:.1f}A{r} {r} 0 1 1 {x:.1f} {y + r:.1f}'
                f'A{r} {r} 0 1 1 {x:.1f} {y - r:.1f}')
    a = 2 * math.pi * frac
    ex, ey = x + r * math.sin(a), y - r * math.cos(a)
    large = 1 if frac > 0.5 else 0
    return f'M{x:.1f} {y - r:.1f}A{r} {r} 0 {large} 1 {ex:.1f} {ey:.1f}'


def _markers() -> str:
    parts = ["<defs>"]
    for name, colour in MSG_COLOUR.items():
        mid = name.replace(" ", "-")
        parts.append(f'<marker id="rb-arrow-{mid}" viewBox="0 0 10 10" refX="8" refY="5" '
                     f'markerWidth="5" markerHeight="5" orient="auto-start-reverse">'
                     f'<path d="M0 0L10 5L0 10z" fill="{colour}"/></marker>')
    parts.append("</defs>")
    return "".join(parts)


_MARKERS = _markers()


def _banner(out, violation, width):
    if violation is None:
        out.append(f'<g data-safety="ok"><rect x="0" y="0" width="{width}" height="{BANNER_H}" '
                   f'fill="#d3f9d8"/><text x="10" y="19" font-size="13" fill="#1b5e20">'
                   f'Safety holds: election safety, leader append-only, log matching, leader '
                   f'completeness, state machine safety</text></g>')
    else:
        prop = escape(violation.property)
        text = escape(str(violation))
        out.append(f'<g data-safety="violated" data-property="{prop}"><rect x="0" y="0" '
                   f'width="{width}" height="{BANNER_H}" fill="#ffc9c9"/><text x="10" y="19" '
                   f'font-size="13" font-weight="bold" fill="#8b0000">Safety violated: '
                   f'{escape(_clip(str(violation), 120))}<title>{text}</title></text></g>')


def _clip(text: str, n: int) -> str:
    return text if len(text) <= n else text[:n - 1] + "…"


def _server(out, i, a, x, y, selected, is_top_leader):
    role = a["role"]
    crashed = a["crashed"]
    fill = CRASHED_FILL if crashed else ROLE_FILL[role]
    group = a["group"]
    left = a["ticks_left"]
    attrs = (f'data-node="{i}" data-role="{role}" data-term="{a["term"]}" '
             f'data-crashed="{"true" if crashed else "false"}" '
             f'data-voted-for="{"" if a["voted_for"] is None else a["voted_for"]}" '
             f'data-commit-index="{a["commit_index"]}" '
             f'data-timer-elapsed="{a["election_elapsed"]}" data-timer-timeout="{a["election_timeout"]}" '
             f'data-ticks-left="{"" if left is None else left}"')
    if group is not None:
        attrs += f' data-group="{group + 1}"'
    if selected:
        attrs += ' data-selected="true"'
    out.append(f'<g {attrs}{_FADED if crashed else ""}>')
    vote = a["voted_for"]
    tip = (f"S{i}: {'crashed ' if crashed else ''}{role}, term {a['term']}, voted for "
           f"{'nobody' if vote is None else f'S{vote}'}, commit index {a['commit_index']}")
    if left is not None and not crashed:
        tip += f", election timer fires in {left} ticks"
    out.append(f'<title>{tip}</title>')
    if selected:
        out.append(f'<circle cx="{x}" cy="{y}" r="{NODE_R + 11}" fill="none" stroke="#f59f00" '
                   f'stroke-width="4"/>')
    if left is not None and not crashed:
        frac = min(a["election_elapsed"] / a["election_timeout"], 1.0) if a["election_timeout"] else 1.0
        out.append(f'<circle cx="{x}" cy="{y}" r="{NODE_R + 5}" fill="none" stroke="#e9ecef" '
                   f'stroke-width="4"/>')
        if frac > 0:
            colour = "#e03131" if frac >= 0.8 else "#495057"
            out.append(f'<path data-timer="{frac:.2f}" d="{_arc(x, y, NODE_R + 5, frac)}" '
                       f'fill="none" stroke="{colour}" stroke-width="4"/>')
    stroke = "#2b8a3e" if role == "leader" else "#495057"
    width = 4 if role == "leader" and not crashed else 1.5
    dash = ' stroke-dasharray="4 3"' if crashed else ""
    out.append(f'<circle cx="{x}" cy="{y}" r="{NODE_R}" fill="{fill}" stroke="{stroke}" '
               f'stroke-width="{width}"{dash}/>')
    out.append(f'<text x="{x}" y="{y - 3}" text-anchor="middle" font-size="15" '
               f'font-weight="bold" fill="#212529">S{i}</text>')
    out.append(f'<text x="{x}" y="{y + 13}" text-anchor="middle" font-size="11" '
               f'fill="#343a40">term {a["term"]}</text>')
    if crashed:
        line1 = "crashed"
    elif role == "leader":
        line1 = "leader" + (" ★" if is_top_leader else " (stale)")
    elif role == "candidate":
        line1 = f"votes {len(a['votes'])}/{a['quorum']}"
    else:
        line1 = "no vote" if vote is None else f"voted S{vote}"
    line2 = "" if (crashed or left is None) else f"timer {left}"
    out.append(f'<text x="{x}" y="{y + NODE_R + 18}" text-anchor="middle" font-size="11" '
               f'fill="#212529">{line1}</text>')
    if line2:
        out.append(f'<text x="{x}" y="{y + NODE_R + 30}" text-anchor="middle" font-size="10" '
                   f'fill="#868e96">{line2}</text>')
    out.append('</g>')


def _messages(out, g, pos, selected_msg):
    lanes: dict = {}
    for src, dst, key in g.edges(keys=True):
        lanes.setdefault((src, dst), []).append(key)
    edges = g.edges
    for (src, dst), keys in lanes.items():
        x1, y1 = pos[src]
        x2, y2 = pos[dst]
        dx, dy = x2 - x1, y2 - y1
        d = math.hypot(dx, dy) or 1.0
        ux, uy = dx / d, dy / d
        nx_, ny_ = -uy, ux
        off = 8.0
        sx, sy = x1 + ux * (NODE_R + 8) + nx_ * off, y1 + uy * (NODE_R + 8) + ny_ * off
        ex, ey = x2 - ux * (NODE_R + 14) + nx_ * off, y2 - uy * (NODE_R + 14) + ny_ * off
        out.append(f'<line data-lane="{src}-{dst}" x1="{sx:.1f}" y1="{sy:.1f}" x2="{ex:.1f}" '
                   f'y2="{ey:.1f}" stroke="#ced4da" stroke-width="1"/>')
        keys.sort()
        k = len(keys)
        lx, ly = ex - sx, ey - sy
        for j, key in enumerate(keys):
            a = edges[src, dst, key]
            msg = a["msg"]
            lost = a["lost"]
            # Oldest message nearest its destination: it has travelled longest.
            t = (k - j) / (k + 1)
            px, py = sx + lx * t, sy + ly * t
            colour = MSG_COLOUR["lost" if lost else a["kind"]]
            mid = ("lost" if lost else a["kind"]).replace(" ", "-")
            sel = key == selected_msg
            attrs = (f'data-msg="{key}" data-type="{a["type"]}" data-src="{src}" data-dst="{dst}" '
                     f'data-term="{msg.term}" data-label="{a["label"]}"')
            attrs += f' data-lost="{lost}"' if lost else ' data-lost="false"'
            if sel:
                attrs += ' data-selected="true"'
            out.append(f'<g {attrs}>')
            tip = f"#{key} {describe_message(msg, detail=True)}"
            if lost:
                tip += (f" - will be lost: S{dst} is crashed" if lost == "crashed"
                        else f" - will be lost: a partition separates S{src} and S{dst}")
            out.append(f'<title>{escape(tip)}</title>')
            if sel:
                out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="14" fill="#ffe066" '
                           f'stroke="#f59f00" stroke-width="2"/>')
            dash = ' stroke-dasharray="3 2"' if lost else ""
            w = 3.5 if sel else 2.2
            out.append(f'<line x1="{px - ux * 8:.1f}" y1="{py - uy * 8:.1f}" x2="{px + ux * 8:.1f}" '
                       f'y2="{py + uy * 8:.1f}" stroke="{colour}" stroke-width="{w}"{dash} '
                       f'marker-end="url(#rb-arrow-{mid})"/>')
            label = a["label"] + (" ✕" if lost else "")
            out.append(f'<text x="{px + nx_ * 11:.1f}" y="{py + ny_ * 11 + 3:.1f}" text-anchor="middle" '
                       f'font-size="{10 if sel else 9}"{_BOLD if sel else ""} '
                       f'fill="{colour}">{label}</text></g>')


def log_window(lengths, max_log: int) -> tuple:
    """The log indexes to draw, ``(start, end)``: the newest ``max_log``, unless a shorter log
    ends before them; then start just before where the shortest log ends, since where
    logs differ is what a student needs to see (longer rows say how many more follow)."""
    longest = max(lengths, default=0)
    shortest = min(lengths, default=0)
    start = max(1, min(longest - max_log + 1, shortest - 2))
    return start, min(max(longest, 1), start + max_log - 1)


def _log_grid(out, g, max_log, top):
    n = g.graph["n"]
    lengths = [len(a["log"]) for _, a in g.nodes(data=True)]
    longest = max(lengths, default=0)
    start, stop = log_window(lengths, max_log)
    leader = g.graph["leader"]
    lead = g.nodes[leader] if leader is not None else None
    row_h = CELL_H + 16 if n <= 5 else CELL_H + 13
    x0 = LOG_X + 44
    out.append(f'<g data-log-start="{start}" data-log-end="{stop}">')
    whole = start == 1 and stop >= longest
    out.append(f'<text x="{LOG_X}" y="{top - 22}" font-size="12" font-weight="bold" fill="#212529">'
               f'Logs{"" if whole else f" (indexes {start}..{stop} of {longest}; all in the Tables tab)"}'
               f'</text>')
    for idx in range(start, stop + 1):
        cx = x0 + (idx - start) * CELL_W + CELL_W / 2
        out.append(f'<text x="{cx}" y="{top - 6}" text-anchor="middle" font-size="9" '
                   f'fill="#868e96">{idx}</text>')
    for r, (i, a) in enumerate(sorted(g.nodes(data=True))):
        y = top + r * row_h
        log = a["log"]
        commit = a["commit_index"]
        row = (f'data-log-row="{i}" data-commit-index="{commit}" data-last-index="{len(log)}"')
        nxt = mat = None
        if lead is not None and i != leader and i in lead["next_index"]:
            nxt, mat = lead["next_index"][i], lead["match_index"][i]
            row += f' data-next-index="{nxt}" data-match-index="{mat}"'
        out.append(f'<g {row}{_FADED if a["crashed"] else ""}>')
        star = " ★" if i == leader else ""
        out.append(f'<text x="{LOG_X}" y="{y + CELL_H / 2}" font-size="12" font-weight="bold" '
                   f'fill="#212529">S{i}{star}</text>'
                   f'<text x="{LOG_X}" y="{y + CELL_H / 2 + 11}" font-size="9" fill="#495057">'
                   f'commit {commit}</text>')
        for e in log[start - 1:stop]:
            cx = x0 + (e.index - start) * CELL_W
            committed = e.index <= commit
            col = term_colour(e.term)
            cmd = command_text(e.command)
            short = cmd if len(cmd) <= 5 else cmd[:4] + "…"
            if committed:
                rect = f'fill="{col}" stroke="#495057" stroke-width="1"'
            else:
                rect = f'fill="#ffffff" stroke="{col}" stroke-width="2" stroke-dasharray="3 2"'
            out.append(f'<g data-log-node="{i}" data-index="{e.index}" data-entry-term="{e.term}" '
                       f'data-committed="{"true" if committed else "false"}">'
                       f'<title>S{i} index {e.index}, term {e.term}: {escape(cmd)}'
                       f'{" (committed)" if committed else " (not committed)"}</title>'
                       f'<rect x="{cx + 1}" y="{y}" width="{CELL_W - 2}" height="{CELL_H}" rx="3" {rect}/>'
                       f'<text x="{cx + CELL_W / 2}" y="{y + 11}" text-anchor="middle" font-size="10" '
                       f'font-weight="bold" fill="#212529">{e.term}</text>'
                       f'<text x="{cx + CELL_W / 2}" y="{y + 23}" text-anchor="middle" font-size="8" '
                       f'fill="#343a40">{escape(short)}</text></g>')
        if len(log) > stop:
            more = len(log) - stop
            out.append(f'<text data-more="{more}" x="{x0 + (stop - start + 1) * CELL_W + 3}" '
                       f'y="{y + CELL_H / 2 + 4}" font-size="10" fill="#495057">+{more}</text>')
        if start - 1 <= commit <= stop and commit > 0:
            mx = x0 + (commit - start + 1) * CELL_W
            out.append(f'<line data-commit-marker="{commit}" x1="{mx}" y1="{y - 3}" x2="{mx}" '
                       f'y2="{y + CELL_H + 3}" stroke="#212529" stroke-width="3"/>')
        if nxt is not None:
            if start <= nxt <= stop + 1:
                nx0 = x0 + (nxt - start) * CELL_W + CELL_W / 2
                out.append(f'<path data-next-marker="{nxt}" d="M{nx0} {y + CELL_H + 1}l-4 7h8z" '
                           f'fill="#1c6dd0"><title>leader S{leader}: next index for S{i} is '
                           f'{nxt}</title></path>')
            if start <= mat <= stop:
                mx0 = x0 + (mat - start) * CELL_W + CELL_W / 2
                out.append(f'<text data-match-marker="{mat}" x="{mx0}" y="{y + CELL_H + 10}" '
                           f'text-anchor="middle" font-size="9" font-weight="bold" fill="#2b8a3e">m'
                           f'<title>leader S{leader}: match index for S{i} is {mat}</title></text>')
        out.append('</g>')
    out.append('</g>')
    return top + n * row_h


def _legend(out, y):
    """Two lines: roles and log cells, then message colours."""
    out.append('<g data-legend="true" font-size="10" fill="#495057">')
    x = 10
    for name in ("follower", "candidate", "leader", "crashed"):
        colour = CRASHED_FILL if name == "crashed" else ROLE_FILL[name]
        out.append(f'<circle cx="{x + 6}" cy="{y}" r="6" fill="{colour}" stroke="#495057"/>'
                   f'<text x="{x + 16}" y="{y + 4}">{name}</text>')
        x += 30 + 6 * len(name)
    x += 10
    out.append(f'<rect x="{x}" y="{y - 6}" width="12" height="12" fill="{TERM_COLOURS[0]}" '
               f'stroke="#495057"/><text x="{x + 16}" y="{y + 4}">committed entry</text>')
    x += 110
    out.append(f'<rect x="{x}" y="{y - 6}" width="12" height="12" fill="#fff" stroke="{TERM_COLOURS[0]}" '
               f'stroke-width="2" stroke-dasharray="3 2"/><text x="{x + 16}" y="{y + 4}">not committed '
               f'(colour = term; bar = commit index; ▲ next index, m match index on the leader)</text>')
    y += 16
    x = 10
    for name in ("RequestVote", "vote granted", "vote denied", "AppendEntries", "append ok",
                 "append failed", "lost"):
        colour = MSG_COLOUR[name]
        dash = ' stroke-dasharray="3 2"' if name == "lost" else ""
        text = "will be lost (partition or crash)" if name == "lost" else name
        out.append(f'<line x1="{x}" y1="{y}" x2="{x + 16}" y2="{y}" stroke="{colour}" '
                   f'stroke-width="2.2"{dash}/><text x="{x + 20}" y="{y + 4}">{text}</text>')
        x += 30 + 5.5 * len(text)
    out.append(f'<text x="10" y="{y + 18}">labels: RV RequestVote · vote yes/no · AE n: '
               f'AppendEntries carrying n entries (AE hb: a heartbeat) · ok m: success, match index m '
               f'· fail: log mismatch or stale term · hover any element for the whole story</text>')
    out.append('</g>')


def _check_selection(cluster, selected_node, selected_msg):
    if selected_node is not None and (not _is_int(selected_node) or selected_node not in cluster.nodes):
        raise UnknownNode(f"selected_node {selected_node!r} is not a server of this cluster "
                          f"(servers 1..{cluster.n}); pass a server id or None")
    if selected_msg is not None and (not _is_int(selected_msg) or selected_msg not in cluster.flight):
        raise UnknownMessage(f"selected_msg {selected_msg!r} is not in flight; pass the id of a "
                             f"message in c.in_flight, or None")


def render_svg(cluster, selected_node=None, selected_msg=None, *, max_log: int = MAX_LOG,
               graph=None) -> str:
    """The cluster now, as a self-contained SVG string.

    ``selected_node`` / ``selected_msg`` (a server id / an envelope id) are
    highlighted. ``max_log`` is how many log columns to draw (the most recent
    indexes; the Tables tab and :func:`raftbook.tables.logs_table` show all).
    ``graph`` reuses a graph from :func:`cluster_graph` of this same state.
    """
    if not _is_int(max_log) or max_log < 1:
        raise InvalidArgument(f"max_log must be a whole number >= 1, got {max_log!r}")
    g = cluster_graph(cluster) if graph is None else graph
    _check_selection(cluster, selected_node, selected_msg)
    n = g.graph["n"]
    lay = layout(n, g.graph["groups"])
    pos = lay["pos"]
    width = LOG_X + 44 + max_log * CELL_W + 34
    log_top = BANNER_H + 58
    row_h = CELL_H + 16 if n <= 5 else CELL_H + 13
    log_bottom = log_top + n * row_h
    height = max(lay["bottom"], log_bottom + 20) + 50
    leader = g.graph["leader"]
    now = g.graph["now"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" '
           f'data-raftbook="cluster" data-time="{now}" data-leader="{"" if leader is None else leader}" '
           f'data-servers="{n}" data-in-flight="{g.number_of_edges()}" role="img" '
           f'style="max-width:100%;height:auto">',
           f'<title>Raft cluster of {n} servers at t={now}</title>', _MARKERS,
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>']
    violation = g.graph["violation"]
    _banner(out, violation, width)
    lead_txt = "no leader" if leader is None else f"leader S{leader} (term {g.nodes[leader]['term']})"
    part = "" if g.graph["groups"] is None else f" · partitioned into {len(g.graph['groups'])} groups"
    out.append(f'<text x="10" y="{BANNER_H + 20}" font-size="13" fill="#212529">t = {now} ticks '
               f'({now * g.graph["tick_ms"]} ms) · {lead_txt} · {g.number_of_edges()} message'
               f'{"" if g.number_of_edges() == 1 else "s"} in flight{part}</text>')
    for k, (gx, gy, r, members) in enumerate(lay["hulls"]):
        names = " ".join(f"S{m}" for m in members)
        out.append(f'<g data-partition-group="{k + 1}" data-members="{" ".join(map(str, members))}">'
                   f'<circle cx="{gx:.1f}" cy="{gy:.1f}" r="{r:.1f}" fill="#f8f9fa" stroke="#adb5bd" '
                   f'stroke-width="2" stroke-dasharray="8 5"/>'
                   f'<text x="{gx:.1f}" y="{gy - r - 6:.1f}" text-anchor="middle" font-size="11" '
                   f'fill="#495057">group {k + 1}: {names}</text></g>')
    nodes = g.nodes
    for i in sorted(nodes):
        x, y = pos[i]
        _server(out, i, nodes[i], x, y, i == selected_node, i == leader)
    _messages(out, g, pos, selected_msg)
    _log_grid(out, g, max_log, log_top)
    _legend(out, height - 40)
    out.append("</svg>")
    return "".join(out)


def render_html(cluster) -> str:
    """The static picture for notebooks exported to HTML: the SVG plus a one-line summary."""
    svg = render_svg(cluster)
    leader = cluster.leader
    summary = (f"{cluster.n} servers, t={cluster.now}, "
               f"{'no leader' if leader is None else f'leader S{leader}'}, "
               f"{len(cluster.flight)} in flight, {len(cluster.history)} events")
    return (f'<div class="raftbook-cluster" data-raftbook="cluster-html">{svg}'
            f'<div style="font-size:12px;color:#495057">{escape(summary)} '
            f'(rb.show(c) for the interactive widget)</div></div>')
