"""A cluster's graph drawn as one self-contained SVG string, and its notebook HTML.

:func:`render_svg` draws :func:`~raftbook.ui.graph.cluster_graph` the way
RaftScope taught people to look at Raft (servers in a ring coloured by role, an
election-timer arc, a log grid per server) plus what a step-by-step simulator
needs: every message as its own labelled arrow, messages a partition or a crash
will lose drawn dashed, partition groups drawn apart, and a safety banner.

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
- a compacted log prefix ``<g data-snapshot-node="i" data-snapshot-index
  data-snapshot-term>``; an entry a crash would lose (explicit persistence) has
  ``data-unsaved="true"``; a server with unsaved state ``data-unsaved="current_term
  voted_for log"``; once the cluster uses membership changes each server has
  ``data-member``, ``data-config="1 2 3"`` (and ``data-config-old`` in joint
  consensus), a learner ``data-learner="true"``, a leader handing over
  ``data-transfer-to``
- each partition group ``<g data-partition-group="k" data-members="1 2">``
- the banner ``<g data-safety="ok|violated" data-property=...>``

Only presentation attributes are used (no ``<style>``), so the picture looks
the same inline, in an ``<img>``, after nbconvert and on GitHub.
"""
from __future__ import annotations

import math
from html import escape

from ..core.describe import describe_message
from ..errors import UnknownMessage, UnknownNode
from .checks import check_max_log, is_whole
from .graph import cluster_graph
from .layout import BANNER_H, NODE_R, layout
from .loggrid import CELL_W, LOG_X, MAX_LOG, draw_log_grid, row_height
from .graph import ids_text
from .palette import CRASHED_FILL, FADED, MSG_COLOUR, MSG_DASH, ROLE_FILL, TERM_COLOURS, UNSAVED

_BOLD = ' font-weight="bold"'


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
#: Hatching for log entries a crash would lose (added to the SVG only when one is drawn).
_HATCH = (f'<defs><pattern id="rb-unsaved" width="5" height="5" patternUnits="userSpaceOnUse" '
          f'patternTransform="rotate(45)"><line x1="0" y1="0" x2="0" y2="5" stroke="{UNSAVED}" '
          f'stroke-width="1.2" stroke-opacity="0.45"/></pattern></defs>')
_FIELD = {"current_term": "term", "voted_for": "vote", "log": "log", "snapshot": "snapshot"}


def extra_lines(a, membership: bool) -> list:
    """The lines under a server beyond Figure 2: its configuration, whether it is a
    member, a learner, a transfer target, what a crash now would lose."""
    lines = []
    if membership:
        text = f"config {ids_text(a['members'])}"
        if a["members_old"] is not None:
            text += " (joint)"
        lines.append(text)
        flags = []
        if not a["member"]:
            flags.append("not a member")
        if a["learner"]:
            flags.append("catching up")
        if a["transfer_to"] is not None:
            flags.append(f"transfer → S{a['transfer_to']}")
        if flags:
            lines.append(" · ".join(flags))
    if a.get("unsaved"):
        lines.append("unsaved: " + ", ".join(_FIELD.get(f, f) for f in a["unsaved"]))
    return lines


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


def _server(out, i, a, x, y, selected, is_top_leader, membership=False):
    role = a["role"]
    crashed = a["crashed"]
    extra = extra_lines(a, membership)
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
    dim = crashed
    if membership:
        attrs += (f' data-member="{"true" if a["member"] else "false"}" '
                  f'data-config="{" ".join(map(str, a["members"]))}"')
        if a["members_old"] is not None:
            attrs += f' data-config-old="{" ".join(map(str, a["members_old"]))}"'
        if a["learner"]:
            attrs += ' data-learner="true"'
        if a["transfer_to"] is not None:
            attrs += f' data-transfer-to="{a["transfer_to"]}"'
        dim = dim or not a["member"]
    if a.get("unsaved"):
        attrs += f' data-unsaved="{" ".join(a["unsaved"])}"'
    out.append(f'<g {attrs}{FADED if dim else ""}>')
    vote = a["voted_for"]
    tip = (f"S{i}: {'crashed ' if crashed else ''}{role}, term {a['term']}, voted for "
           f"{'nobody' if vote is None else f'S{vote}'}, commit index {a['commit_index']}")
    if left is not None and not crashed:
        tip += f", election timer fires in {left} ticks"
    if extra:
        tip += "; " + "; ".join(extra)
    out.append(f'<title>{escape(tip)}</title>')
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
    below = y + NODE_R + (30 if line2 else 18) + 12
    for k, text in enumerate(extra):
        colour = UNSAVED if text.startswith("unsaved") else "#495057"
        out.append(f'<text data-extra="{k}" x="{x}" y="{below + 12 * k}" '
                   f'text-anchor="middle" font-size="10" fill="{colour}">{escape(text)}</text>')
    out.append('</g>')


def _cut_link(out, a, b, pos):
    """A cut link (a partial partition): a dashed red line between the two servers, crossed."""
    (x1, y1), (x2, y2) = pos[a], pos[b]
    # the cross sits a third of the way along, clear of the message labels near the middle
    mx, my = x1 + (x2 - x1) / 3, y1 + (y2 - y1) / 3
    out.append(f'<g data-cut="{a}-{b}"><title>the link between S{a} and S{b} is cut: messages '
               f'between them are lost; both still reach the other servers</title>'
               f'<line x1="{x1:.1f}" y1="{y1:.1f}" x2="{x2:.1f}" y2="{y2:.1f}" stroke="#c92a2a" '
               f'stroke-width="2" stroke-dasharray="6 4" opacity="0.7"/>'
               f'<circle cx="{mx:.1f}" cy="{my:.1f}" r="9" fill="#ffffff" stroke="#c92a2a" '
               f'stroke-width="2"/><text x="{mx:.1f}" y="{my + 4:.1f}" text-anchor="middle" '
               f'font-size="12" font-weight="bold" fill="#c92a2a">✕</text></g>')


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
                        else f" - will be lost: a partition or a cut link separates S{src} and S{dst}")
            out.append(f'<title>{escape(tip)}</title>')
            if sel:
                out.append(f'<circle cx="{px:.1f}" cy="{py:.1f}" r="14" fill="#ffe066" '
                           f'stroke="#f59f00" stroke-width="2"/>')
            pattern = "3 2" if lost else MSG_DASH.get(a["kind"])
            dash = f' stroke-dasharray="{pattern}"' if pattern else ""
            w = 3.5 if sel else 2.2
            out.append(f'<line x1="{px - ux * 8:.1f}" y1="{py - uy * 8:.1f}" x2="{px + ux * 8:.1f}" '
                       f'y2="{py + uy * 8:.1f}" stroke="{colour}" stroke-width="{w}"{dash} '
                       f'marker-end="url(#rb-arrow-{mid})"/>')
            label = a["label"] + (" ✕" if lost else "")
            out.append(f'<text x="{px + nx_ * 11:.1f}" y="{py + ny_ * 11 + 3:.1f}" text-anchor="middle" '
                       f'font-size="{10 if sel else 9}"{_BOLD if sel else ""} '
                       f'fill="{colour}">{label}</text></g>')



#: Legend entries of the message kinds beyond Figure 2 (shown only when one is in flight).
_EXTRA_KINDS = (("PreVote", "PV: pre-vote"), ("pre-vote granted", "PV yes"),
                ("pre-vote denied", "PV no"), ("InstallSnapshot", "snap n: InstallSnapshot"),
                ("InstallSnapshotReply", "snap ok n: its reply"), ("TimeoutNow", "TimeoutNow"))


def _legend(out, y, kinds=frozenset()):
    """Two lines: roles and log cells, then message colours (a third with the kinds beyond
    Figure 2 when one of them is in flight)."""
    extra = [(k, t) for k, t in _EXTRA_KINDS if k in kinds]
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
    if extra:
        y += 16
        x = 10
        for name, text in extra:
            colour = MSG_COLOUR[name]
            dash = f' stroke-dasharray="{MSG_DASH[name]}"' if name in MSG_DASH else ""
            out.append(f'<line x1="{x}" y1="{y}" x2="{x + 16}" y2="{y}" stroke="{colour}" '
                       f'stroke-width="2.2"{dash}/><text x="{x + 20}" y="{y + 4}">{text}</text>')
            x += 30 + 5.5 * len(text)
    out.append(f'<text x="10" y="{y + 18}">labels: RV RequestVote · vote yes/no · AE n: '
               f'AppendEntries carrying n entries (AE hb: a heartbeat) · ok m: success, match index m '
               f'· fail: log mismatch or stale term · hover any element for the whole story</text>')
    out.append('</g>')


def _check_selection(cluster, selected_node, selected_msg):
    if selected_node is not None and (not is_whole(selected_node) or selected_node not in cluster.nodes):
        raise UnknownNode(f"selected_node {selected_node!r} is not a server of this cluster "
                          f"(servers 1..{cluster.n}); pass a server id or None")
    if selected_msg is not None and (not is_whole(selected_msg) or selected_msg not in cluster.flight):
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
    check_max_log(max_log)
    g = cluster_graph(cluster) if graph is None else graph
    _check_selection(cluster, selected_node, selected_msg)
    n = g.graph["n"]
    lay = layout(n, g.graph["groups"])
    pos = lay["pos"]
    width = LOG_X + 44 + max_log * CELL_W + 34
    log_top = BANNER_H + 58
    row_h = row_height(n)
    log_bottom = log_top + n * row_h
    membership = bool(g.graph.get("membership"))
    kinds = {a["kind"] for _, _, a in g.edges(data=True)}
    extra_kinds = any(k in kinds for k, _ in _EXTRA_KINDS)
    lines = max((len(extra_lines(a, membership)) for _, a in g.nodes(data=True)), default=0)
    height = max(lay["bottom"] + 12 * lines, log_bottom + 20) + 50 + (16 if extra_kinds else 0)
    leader = g.graph["leader"]
    now = g.graph["now"]
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="Helvetica, Arial, sans-serif" '
           f'data-raftbook="cluster" data-time="{now}" data-leader="{"" if leader is None else leader}" '
           f'data-servers="{n}" data-in-flight="{g.number_of_edges()}" role="img" '
           f'style="max-width:100%;height:auto">',
           f'<title>Raft cluster of {n} servers at t={now}</title>', _MARKERS,
           f'<rect x="0" y="0" width="{width}" height="{height}" fill="#ffffff"/>']
    if any(a.get("unsaved_from") is not None for _, a in g.nodes(data=True)):
        out.append(_HATCH)
    violation = g.graph["violation"]
    _banner(out, violation, width)
    lead_txt = "no leader" if leader is None else f"leader S{leader} (term {g.nodes[leader]['term']})"
    part = "" if g.graph["groups"] is None else f" · partitioned into {len(g.graph['groups'])} groups"
    cuts = g.graph.get("cuts", ())
    if cuts:
        part += f" · {len(cuts)} link{'' if len(cuts) == 1 else 's'} cut"
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
    for a, b in cuts:
        _cut_link(out, a, b, pos)
    nodes = g.nodes
    for i in sorted(nodes):
        x, y = pos[i]
        _server(out, i, nodes[i], x, y, i == selected_node, i == leader, membership)
    _messages(out, g, pos, selected_msg)
    draw_log_grid(out, g, max_log, log_top)
    _legend(out, height - 40 - (16 if extra_kinds else 0), kinds)
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
