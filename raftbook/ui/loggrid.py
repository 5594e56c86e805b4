"""The log grid beside the ring: one row per server, one cell per entry, coloured by term.

Only a window of indexes is drawn (:func:`log_window` chooses it so that where
logs differ stays in view); the Tables tab shows every entry. Indexes are the
entries' own: after compaction a log holds only the entries past its snapshot,
and one grey block stands for the compacted prefix ("snapshot ..5, term 2").
With explicit persistence, entries a crash would lose are marked unsaved.
"""
from __future__ import annotations

from html import escape

from .graph import entry_text
from .palette import FADED, SNAPSHOT_FILL, UNSAVED, term_colour

LOG_X = 515
CELL_W = 30
CELL_H = 28
MAX_LOG = 14


def row_height(n: int) -> int:
    """Height of one server's log row (rows are packed tighter above five servers)."""
    return CELL_H + 16 if n <= 5 else CELL_H + 13


def log_window(lengths, max_log: int) -> tuple:
    """The log indexes to draw, ``(start, end)``: the newest ``max_log``, unless a shorter log
    ends before them; then start just before where the shortest log ends, since where
    logs differ is what a student needs to see (longer rows say how many more follow)."""
    longest = max(lengths, default=0)
    shortest = min(lengths, default=0)
    start = max(1, min(longest - max_log + 1, shortest - 2))
    return start, min(max(longest, 1), start + max_log - 1)


def snapshot_text(index: int, term: int, width: float) -> str:
    """The snapshot block's label, as long as ``width`` pixels allow."""
    if width >= 110:
        return f"snapshot ..{index}, term {term}"
    if width >= 56:
        return f"snap ..{index} t{term}"
    return f"..{index}"


def _last_index(a) -> int:
    log = a["log"]
    return log[-1].index if log else a.get("snapshot_index", 0)


def draw_log_grid(out, g, max_log, top):
    """Append the grid's SVG to ``out`` below ``top``; returns where it ends."""
    n = g.graph["n"]
    lengths = [_last_index(a) for _, a in g.nodes(data=True)]
    longest = max(lengths, default=0)
    start, stop = log_window(lengths, max_log)
    leader = g.graph["leader"]
    lead = g.nodes[leader] if leader is not None else None
    row_h = row_height(n)
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
        last = _last_index(a)
        snap = a.get("snapshot_index", 0)
        commit = a["commit_index"]
        row = (f'data-log-row="{i}" data-commit-index="{commit}" data-last-index="{last}"')
        if snap:
            row += f' data-snapshot-index="{snap}"'
        unsaved_from = a.get("unsaved_from")
        if unsaved_from is not None:
            row += f' data-unsaved-from="{unsaved_from}"'
        nxt = mat = None
        if lead is not None and i != leader and i in lead["next_index"]:
            nxt, mat = lead["next_index"][i], lead["match_index"][i]
            row += f' data-next-index="{nxt}" data-match-index="{mat}"'
        out.append(f'<g {row}{FADED if a["crashed"] else ""}>')
        star = " ★" if i == leader else ""
        out.append(f'<text x="{LOG_X}" y="{y + CELL_H / 2}" font-size="12" font-weight="bold" '
                   f'fill="#212529">S{i}{star}</text>'
                   f'<text x="{LOG_X}" y="{y + CELL_H / 2 + 11}" font-size="9" fill="#495057">'
                   f'commit {commit}</text>')
        if snap >= start:
            k = min(snap, stop) - start + 1
            bw = k * CELL_W - 2
            term = a["snapshot_term"]
            out.append(f'<g data-snapshot-node="{i}" data-snapshot-index="{snap}" '
                       f'data-snapshot-term="{term}"><title>S{i}: snapshot of indexes 1..{snap} '
                       f'(last term {term}); the log holds index {snap + 1} on</title>'
                       f'<rect x="{x0 + 1}" y="{y}" width="{bw}" height="{CELL_H}" rx="3" '
                       f'fill="{SNAPSHOT_FILL}" stroke="#495057" stroke-width="1"/>'
                       f'<text x="{x0 + 1 + bw / 2}" y="{y + CELL_H / 2 + 3}" text-anchor="middle" '
                       f'font-size="9" fill="#212529">{escape(snapshot_text(snap, term, bw))}</text></g>')
        for e in log[max(0, start - snap - 1):max(0, stop - snap)]:
            cx = x0 + (e.index - start) * CELL_W
            committed = e.index <= commit
            col = term_colour(e.term)
            cmd = entry_text(e.command)
            lost = unsaved_from is not None and e.index >= unsaved_from
            mark = ' data-unsaved="true"' if lost else ""
            short = cmd if len(cmd) <= 5 else cmd[:4] + "…"
            if committed:
                rect = f'fill="{col}" stroke="#495057" stroke-width="1"'
            else:
                rect = f'fill="#ffffff" stroke="{col}" stroke-width="2" stroke-dasharray="3 2"'
            out.append(f'<g data-log-node="{i}" data-index="{e.index}" data-entry-term="{e.term}" '
                       f'data-committed="{"true" if committed else "false"}"'
                       f'{mark}>'
                       f'<title>S{i} index {e.index}, term {e.term}: {escape(cmd)}'
                       f'{" (committed)" if committed else " (not committed)"}'
                       f'{"; not saved: a crash now loses it" if lost else ""}</title>'
                       f'<rect x="{cx + 1}" y="{y}" width="{CELL_W - 2}" height="{CELL_H}" rx="3" {rect}/>'
                       + (f'<rect x="{cx + 1}" y="{y}" width="{CELL_W - 2}" height="{CELL_H}" rx="3" '
                          f'fill="url(#rb-unsaved)" stroke="{UNSAVED}" stroke-width="1.5" '
                          f'stroke-dasharray="2 2"/>' if lost else "") +
                       f'<text x="{cx + CELL_W / 2}" y="{y + 11}" text-anchor="middle" font-size="10" '
                       f'font-weight="bold" fill="#212529">{e.term}</text>'
                       f'<text x="{cx + CELL_W / 2}" y="{y + 23}" text-anchor="middle" font-size="8" '
                       f'fill="#343a40">{escape(short)}</text></g>')
        if last > stop:
            more = last - stop
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
