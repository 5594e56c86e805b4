"""A space-time (Lamport) diagram of a run, drawn as SVG.

One vertical line per server, time running down the page. Each row is one
event of the history (a tick of an automatic run gets a row of its own when
something happened in it). A dot is a step a server took; an arrow is a message
from the step that sent it to the step that received it. A dropped message
ends in a cross, a message lost to a partition ends at a bar, one lost to a
crashed server at a ring; a duplicated message is drawn twice, the copy as a
double line. Leader terms are bands along the leader's line, crashes are
crosses with a dashed line until the restart, partitions are shaded.

Every element carries ``data-*`` attributes (``data-kind`` always; then
``data-server``, ``data-event``, ``data-msg``, ``data-type``, ``data-outcome``,
``data-term`` ...) so tests, browsers and the widget can find them. Hover a
dot or an arrow for the reasons and the message in plain English.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from xml.sax.saxutils import escape

from ..errors import InvalidArgument
from ..core.describe import describe_message
from .narrate import reasoned_history
from .reasons import explain_reason

_RUN_KINDS = ("run", "run_until")
_LEFT = 70          # room for row labels
_RIGHT = 250        # room for event summaries
_HEAD = 44          # server names
_ROW = 18           # height of one row
_DOT = 4            # dot radius
_MIN_COL = 36       # narrowest readable column

_COLOURS = {"RequestVote": "#dd6b20", "RequestVoteReply": "#dd6b20",
            "AppendEntries": "#2b6cb0", "AppendEntriesReply": "#2b6cb0", "heartbeat": "#7fa7d9"}
_ROLE_FILL = {"follower": "#a0aec0", "candidate": "#dd6b20", "leader": "#2f855a", "crashed": "#1a202c"}
_STATE_CODES = frozenset({"became_leader", "election_started", "term_adopted", "stepped_down",
                          "crashed", "restarted"})
OUTCOMES = ("delivered", "dropped", "lost_crash", "lost_partition", "lost_cut", "in_flight")


@dataclass
class _Msg:
    id: int
    msg: object
    sent: tuple          # row key of the send
    sent_time: int
    end: tuple | None = None
    end_time: int | None = None
    outcome: str = "in_flight"
    copy_of: int | None = None
    origin: tuple | None = None    # where the arrow starts: the send, or the original's for a copy


def _attrs(**kw) -> str:
    out = []
    for k, v in kw.items():
        if v is None:
            continue
        name = k.rstrip("_").replace("_", "-")
        out.append(f'{name}="{escape(str(v), {chr(34): "&quot;"})}"')
    return " ".join(out)


def _el(tag, title=None, **kw) -> str:
    a = _attrs(**kw)
    if title is None:
        return f"<{tag} {a}/>"
    return f"<{tag} {a}><title>{escape(title)}</title></{tag}>"


def _fmt(x) -> str:
    return f"{x:.1f}".rstrip("0").rstrip(".")


def _msg_colour(msg):
    name = type(msg).__name__
    if name == "AppendEntries" and not msg.entries:
        return _COLOURS["heartbeat"]
    return _COLOURS.get(name, "#4a5568")


class Diagram:
    """An SVG picture that shows itself in a notebook and saves as .svg or .html."""

    def __init__(self, svg: str, title: str = "space-time diagram"):
        self.svg = svg
        self.title = title

    def _repr_svg_(self):
        return self.svg

    def _repr_html_(self):
        return f'<div class="raftbook-diagram" style="overflow:auto;max-height:720px">{self.svg}</div>'

    def __str__(self):
        return self.svg

    def __repr__(self):
        return f"<Diagram {self.title}: {len(self.svg)} characters of SVG>"

    def save(self, path) -> None:
        """Write the picture: ``.svg`` as it is, ``.html`` as a small standalone page."""
        path = Path(path)
        if path.suffix.lower() == ".svg":
            text = '<?xml version="1.0" encoding="UTF-8"?>\n' + self.svg
        elif path.suffix.lower() in (".html", ".htm"):
            text = (f"<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>{escape(self.title)}"
                    f"</title></head><body>\n{self.svg}\n</body></html>")
        else:
            raise InvalidArgument(f"save the diagram as .svg or .html; got {path.name!r}")
        path.write_text(text + "\n", encoding="utf-8")


def spacetime(cluster, start=None, end=None, width=None, *, max_rows: int = 600) -> Diagram:
    """The space-time diagram of ``c.history[start:end]`` as a :class:`Diagram`."""
    return Diagram(spacetime_svg(cluster, start, end, width, max_rows=max_rows),
                   title=f"raftbook space-time diagram (seed {cluster.seed})")


def spacetime_svg(cluster, start=None, end=None, width=None, *, max_rows: int = 600) -> str:
    """A Lamport space-time diagram of the run, or of the events ``c.history[start:end]``, as SVG.

    ``width`` is the picture's width in pixels (None: about 100 per server plus
    the labels). When the window holds more than ``max_rows`` rows, the last
    ``max_rows`` are drawn and a note says how many came before; choose a
    window with ``start``/``end`` to see those.
    """
    history = reasoned_history(cluster)
    for name, v in (("start", start), ("end", end)):
        if v is not None and (not isinstance(v, int) or isinstance(v, bool)):
            raise InvalidArgument(f"{name} must be an event seq (a whole number, as in c.history[seq]) "
                                  f"or None; got {v!r}")
    if isinstance(max_rows, bool) or not isinstance(max_rows, int) or max_rows < 1:
        raise InvalidArgument(f"max_rows must be a whole number >= 1; got {max_rows!r}")
    n = cluster.n
    left, right = _LEFT, _RIGHT
    if width is None:
        col = 100 if n <= 5 else 84
        width = left + right + col * n
    else:
        if isinstance(width, bool) or not isinstance(width, (int, float)):
            raise InvalidArgument(f"width is a number of pixels or None; got {width!r}")
        if width < left + right + _MIN_COL * n:
            right = 0
        col = (width - left - right) / n
        if col < _MIN_COL:
            raise InvalidArgument(f"width {width} is too narrow for {n} servers: give at least "
                                  f"{left + _MIN_COL * n} pixels (or None for the default)")
    seqs = range(len(history))[start:end]
    return _Drawing(cluster, history, seqs, width, col, left, right, max_rows).svg()


class _Layout:
    """Reads one window of history into rows, messages and marks, placed on the page."""

    def __init__(self, cluster, history, seqs, width, col, left, right, max_rows):
        self.c = cluster
        self.history = history
        self.n = cluster.n
        self.width = width
        self.col = col
        self.left = left
        self.right = right
        self.window = (seqs.start, seqs.stop) if len(seqs) else (0, 0)
        rows = []
        self.row_label = {}
        for seq in seqs:
            ev = history[seq]
            if ev.kind in _RUN_KINDS:
                ticks = sorted({r.time for r in ev.reasons} | {rec[0] for rec in ev.network})
                if ticks:
                    rows.extend((seq, t) for t in ticks)
                    continue
            rows.append((seq, -1))
        self.omitted = max(0, len(rows) - max_rows)
        rows = rows[self.omitted:]
        self.rows = rows
        self.y0 = _HEAD + 16 + (14 if self.omitted else 0)
        self.row_y = {k: self.y0 + i * _ROW for i, k in enumerate(rows)}
        self.first = rows[0] if rows else None
        self.last = rows[-1] if rows else None
        self.top = _HEAD + 4
        self.bottom = (self.y0 + (len(rows) - 1) * _ROW if rows else self.y0) + 14

    # -- geometry ----------------------------------------------------------------
    def x(self, server):
        return self.left + self.col * (server - 0.5)

    def y(self, key):
        """The y of a row key; keys before the window go to the top, after it to the bottom."""
        y = self.row_y.get(key)
        if y is not None:
            return y
        if self.first is None or key < self.first:
            return self.top
        return self.bottom

    def where(self, key):
        """-1 before the drawn rows, 0 inside, 1 after."""
        if key is None:
            return 1
        if self.first is None:
            return -1 if key[0] < self.window[0] else 1
        if key < self.first:
            return -1
        if key > self.last:
            return 1
        return 0

    # -- what happened ------------------------------------------------------------
    def messages(self):
        """The messages the drawn rows show (sent before their end, not over before their start)."""
        first, last = self.first, self.last
        if first is None:
            return {}
        pending = {}   # in flight: id -> [msg, sent key, sent time, origin key, copy of]
        shown = {}
        for ev in self.history:
            if not ev.network:
                continue
            run = ev.kind in _RUN_KINDS
            seq = ev.seq
            for t, what, mid, msg, ref in ev.network:
                key = (seq, t if run else -1)
                if what == "sent":
                    if key <= last:
                        pending[mid] = [msg, key, t, key, None]
                elif what == "duplicated":
                    p = pending.get(mid)
                    if p is not None:
                        orig = pending.get(ref)
                        p[3], p[4] = (orig[1] if orig is not None else p[1]), ref
                else:
                    p = pending.pop(mid, None)
                    if p is None or key < first:   # sent after, or over before, the drawn rows
                        continue
                    shown[mid] = _Msg(mid, p[0], p[1], p[2], key, t, what, p[4], p[3])
        for mid, p in pending.items():
            shown[mid] = _Msg(mid, p[0], p[1], p[2], None, None, "in_flight", p[4], p[3])
        return dict(sorted(shown.items()))

    def timeline(self):
        """Dots, leader bands, down intervals and partitions, from the reasons and events."""
        role = {i: "follower" for i in range(1, self.n + 1)}
        initial = self.c.initial or {}
        term = {i: (initial.get(i) or {}).get("current_term", 0) for i in range(1, self.n + 1)}
        bands, downs, parts = [], [], []
        open_band, open_down, open_part = {}, {}, None
        dots = {}
        first_seq = self.first[0] if self.first is not None else None
        for ev in self.history[:self.window[1]]:
            seq = ev.seq
            run = ev.kind in _RUN_KINDS
            drawn = first_seq is not None and seq >= first_seq   # may have rows in the picture
            if ev.kind == "partition" or (ev.kind == "heal" and not ev.args):  # not one link
                ekey = (seq, -1)
                if open_part is not None:
                    parts.append((open_part[0], open_part[1], ekey, open_part[2]))
                    open_part = None
                if ev.kind == "partition":
                    open_part = (ev.args["groups"], ekey, seq)
            for r in ev.reasons:
                code = r.code
                if code in _STATE_CODES:
                    i = r.node
                    key = (seq, r.time if run else -1)
                    if code == "became_leader":
                        role[i] = "leader"
                        open_band[i] = (r.fields["term"], key)
                    elif code == "election_started":
                        role[i] = "candidate"
                        term[i] = r.fields["term"]
                    elif code == "term_adopted":
                        term[i] = r.fields["new_term"]
                    elif code == "stepped_down" or code == "crashed":
                        if i in open_band:
                            t0, k0 = open_band.pop(i)
                            bands.append((i, t0, k0, key))
                        if code == "crashed":
                            role[i] = "crashed"
                            open_down[i] = key
                        else:
                            role[i] = "follower"
                    elif code == "restarted":
                        role[i] = "follower"
                        if i in open_down:
                            downs.append((i, open_down.pop(i), key))
                if not drawn or code.startswith("message_"):
                    continue
                key = (seq, r.time if run else -1)
                if key in self.row_y:
                    i = r.node
                    d = dots.setdefault((key, i), {"lines": [], "codes": []})
                    d["lines"].append(explain_reason(r))
                    d["codes"].append(code)
                    d["role"], d["term"], d["event"], d["time"] = role[i], term[i], seq, r.time
            if not drawn:
                continue
            copies = {rec[2] for rec in ev.network if rec[1] == "duplicated"}
            for t, what, mid, msg, ref in ev.network:
                key = (seq, t if run else -1)
                if key not in self.row_y or mid in copies:
                    continue
                if what == "delivered":
                    i, line = msg.dst, f"received #{mid} {describe_message(msg)}"
                elif what == "sent":
                    i, line = msg.src, f"sent #{mid} {describe_message(msg)}"
                else:
                    continue
                d = dots.setdefault((key, i), {"lines": [], "codes": []})
                d["lines"].append(line)
                d.setdefault("role", role[i])
                d.setdefault("term", term[i])
                d["event"], d["time"] = seq, t
        for i, (t0, k0) in open_band.items():
            bands.append((i, t0, k0, None))
        for i, k0 in open_down.items():
            downs.append((i, k0, None))
        if open_part is not None:
            parts.append((open_part[0], open_part[1], None, open_part[2]))
        return dots, bands, downs, parts



class _Drawing(_Layout):
    """Writes a laid-out diagram as SVG text."""

    def svg(self) -> str:
        out = []
        height = self.bottom + 40
        w = _fmt(self.width)
        out.append(f'<svg xmlns="http://www.w3.org/2000/svg" width="{w}" height="{height}" '
                   f'viewBox="0 0 {w} {height}" font-family="Helvetica, Arial, sans-serif" '
                   f'font-size="11" class="raftbook-spacetime" '
                   + _attrs(data_kind="spacetime", data_servers=self.n, data_rows=len(self.rows),
                            data_start=self.window[0], data_end=self.window[1],
                            data_omitted_rows=self.omitted) + ">")
        out.append(self._defs())
        out.append(_el("rect", x=0, y=0, width=w, height=height, fill="white", data_kind="background"))
        dots, bands, downs, parts = self.timeline()
        out += self._rows()
        out += self._partitions(parts)
        out += self._bands(bands)
        out += self._lifelines(downs)
        out += self._messages(self.messages())
        out += self._dots(dots)
        out += self._legend(height)
        out.append("</svg>")
        return "\n".join(out)

    def _defs(self):
        marks = []
        for name, colour in (("rv", _COLOURS["RequestVote"]), ("ae", _COLOURS["AppendEntries"]),
                             ("hb", _COLOURS["heartbeat"]), ("other", "#4a5568")):
            marks.append(f'<marker id="rbst-head-{name}" viewBox="0 0 8 8" refX="7" refY="4" '
                         f'markerWidth="7" markerHeight="7" markerUnits="userSpaceOnUse" '
                         f'orient="auto-start-reverse" '
                         f'data-kind="marker"><path d="M0,0 L8,4 L0,8 z" fill="{colour}" '
                         f'data-kind="marker-head"/></marker>')
        return '<defs data-kind="defs">' + "".join(marks) + "</defs>"

    def _rows(self):
        out = []
        label_x = self.left - 6
        right_x = self.left + self.col * self.n + 10
        prev_seq = None
        shade = False
        for key in self.rows:
            seq, t = key
            ev = self.history[seq]
            y = self.row_y[key]
            if seq != prev_seq:
                shade = not shade
            time = ev.time if t < 0 else t
            out.append(_el("rect", x=0, y=_fmt(y - _ROW / 2), width=_fmt(self.width), height=_ROW,
                           fill="#f7fafc" if shade else "none", data_kind="row", data_event=seq,
                           data_time=time, data_event_kind=ev.kind))
            label = f"#{seq} t={time}" if t < 0 else (f"#{seq} t={t}" if seq != prev_seq else f"t={t}")
            out.append(f'<text x="{label_x}" y="{_fmt(y + 4)}" text-anchor="end" fill="#4a5568" '
                       + _attrs(data_kind="row-label", data_event=seq, data_time=time)
                       + f">{escape(label)}</text>")
            if self.right and seq != prev_seq:
                summary = f"{ev.kind}: {ev.summary}"
                short = summary if len(summary) <= 42 else summary[:41] + "…"
                out.append(f'<text x="{_fmt(right_x)}" y="{_fmt(y + 4)}" fill="#2d3748" '
                           + _attrs(data_kind="event-label", data_event=seq)
                           + f"><title>{escape(summary)}</title>{escape(short)}</text>")
            prev_seq = seq
        if self.omitted:
            out.append(f'<text x="{self.left}" y="{_HEAD + 14}" fill="#9c4221" '
                       + _attrs(data_kind="omitted", data_rows=self.omitted)
                       + f">{self.omitted} earlier rows not drawn: pass start= (an event seq) to see them</text>")
        for i in range(1, self.n + 1):
            out.append(f'<text x="{_fmt(self.x(i))}" y="{_HEAD - 14}" text-anchor="middle" '
                       f'font-size="13" font-weight="bold" fill="#1a202c" '
                       + _attrs(data_kind="server-label", data_server=i) + f">S{i}</text>")
        if not self.rows:
            out.append(f'<text x="{self.left}" y="{self.y0}" fill="#4a5568" '
                       + _attrs(data_kind="empty") + ">no events in this window</text>")
        return out

    def _partitions(self, parts):
        out = []
        x0 = self.left
        x1 = self.left + self.col * self.n
        for groups, k0, k1, seq in parts:
            if self.where(k0) == 1 or (k1 is not None and self.where(k1) == -1):
                continue
            y0 = self.y(k0)
            y1 = self.bottom if k1 is None else self.y(k1)
            desc = " | ".join("{" + ", ".join(f"S{i}" for i in g) + "}" for g in groups)
            out.append(_el("rect", title=f"partition {desc}", x=x0, y=_fmt(y0), width=_fmt(x1 - x0),
                           height=_fmt(max(y1 - y0, 2)), fill="#ecc94b", fill_opacity="0.14",
                           stroke="#d69e2e", stroke_dasharray="4 3", data_kind="partition",
                           data_groups="|".join(",".join(str(i) for i in g) for g in groups),
                           data_event=seq))
            out.append(f'<text x="{x0 + 4}" y="{_fmt(y0 + 12)}" fill="#975a16" font-size="10" '
                       f'stroke="white" stroke-width="3" paint-order="stroke" '
                       + _attrs(data_kind="partition-label", data_event=seq)
                       + f">partition {escape(desc)}</text>")
        return out

    def _bands(self, bands):
        out = []
        for i, t, k0, k1 in bands:
            if self.where(k0) == 1 or (k1 is not None and self.where(k1) == -1):
                continue
            y0 = self.y(k0)
            y1 = self.bottom if k1 is None else self.y(k1)
            x = self.x(i)
            out.append(_el("rect", title=f"S{i} leader of term {t}", x=_fmt(x - 8), y=_fmt(y0),
                           width=16, height=_fmt(max(y1 - y0, 2)), rx=5, fill="#2f855a",
                           fill_opacity="0.22", data_kind="leader-term", data_server=i, data_term=t))
            out.append(f'<text x="{_fmt(x + 10)}" y="{_fmt(y0 + 10)}" fill="#276749" font-size="10" '
                       f'stroke="white" stroke-width="3" paint-order="stroke" '
                       + _attrs(data_kind="term-label", data_server=i, data_term=t)
                       + f">leader T{t}</text>")
        return out

    def _lifelines(self, downs):
        out = []
        for i in range(1, self.n + 1):
            x = _fmt(self.x(i))
            out.append(_el("line", x1=x, y1=self.top, x2=x, y2=self.bottom, stroke="#718096",
                           stroke_width="1.5", data_kind="lifeline", data_server=i))
        for i, k0, k1 in downs:
            if self.where(k0) == 1 or (k1 is not None and self.where(k1) == -1):
                continue
            x = _fmt(self.x(i))
            y0 = self.y(k0)
            y1 = self.bottom if k1 is None else self.y(k1)
            out.append(f'<g {_attrs(data_kind="down", data_server=i)}>'
                       + _el("line", x1=x, y1=_fmt(y0), x2=x, y2=_fmt(y1), stroke="white", stroke_width="4",
                             data_kind="down-gap", data_server=i)
                       + _el("line", x1=x, y1=_fmt(y0), x2=x, y2=_fmt(y1), stroke="#a0aec0",
                             stroke_width="1.5", stroke_dasharray="2 4", data_kind="down-line",
                             data_server=i) + "</g>")
            if self.where(k0) == 0:
                cx, cy, s = self.x(i), y0, 6
                out.append(_el("path", title=f"S{i} crashed", d=f"M{_fmt(cx - s)},{_fmt(cy - s)} "
                               f"L{_fmt(cx + s)},{_fmt(cy + s)} M{_fmt(cx + s)},{_fmt(cy - s)} "
                               f"L{_fmt(cx - s)},{_fmt(cy + s)}", stroke="#c53030", stroke_width="2.5",
                               data_kind="crash", data_server=i, data_event=k0[0]))
            if k1 is not None and self.where(k1) == 0:
                cx, cy = self.x(i), y1
                out.append(_el("path", title=f"S{i} restarted", d=f"M{_fmt(cx - 6)},{_fmt(cy + 5)} "
                               f"L{_fmt(cx)},{_fmt(cy - 6)} L{_fmt(cx + 6)},{_fmt(cy + 5)} z",
                               fill="#38a169", stroke="white", data_kind="restart", data_server=i,
                               data_event=k1[0]))
        return out

    def _messages(self, msgs):
        out = []
        for m in msgs.values():
            origin = m.origin or m.sent
            ws, we = self.where(origin), self.where(m.end)
            if ws == 1 or we == -1:
                continue
            out.append(self._arrow(m, origin, ws, we))
        return out

    def _arrow(self, m, origin, ws, we):
        msg = m.msg
        kind = type(msg).__name__
        x1, x2 = self.x(msg.src), self.x(msg.dst)
        colour = _msg_colour(msg)
        head = {"RequestVote": "rv", "RequestVoteReply": "rv", "AppendEntries": "ae",
                "AppendEntriesReply": "ae"}.get(kind, "other")
        if head == "ae" and kind == "AppendEntries" and not msg.entries:
            head = "hb"
        y1 = self.y(origin)
        if ws == -1:       # sent before the window: start half way, at the top
            x1 = (x1 + x2) / 2
        clipped = []
        if ws == -1:
            clipped.append("start")
        outcome = m.outcome
        if we == 1:        # ends after the window (or is still in flight)
            clipped.append("end")
            ex, ey = (self.x(msg.src) + x2) / 2 if ws != -1 else x2, self.bottom
        elif outcome == "dropped":
            ex, ey = (self.x(msg.src) + x2) / 2, self.y(m.end)
        else:
            ex, ey = x2, self.y(m.end)
        # stop short of the receiving dot so the head shows
        dx, dy = ex - x1, ey - y1
        length = max((dx * dx + dy * dy) ** 0.5, 1e-9)
        shorten = _DOT + 1 if (we == 0 and outcome == "delivered") else (
            9 if outcome in ("lost_partition", "lost_cut") and we == 0 else 0)
        if we == 0 and outcome == "lost_crash":
            shorten = 5
        lx, ly = ex - dx / length * shorten, ey - dy / length * shorten
        dashed = "4 3" if kind.endswith("Reply") else None
        if we == 1 and outcome == "in_flight":
            dashed = "1 3"
        width = "1" if head == "hb" else "1.6"
        sent_ev = origin[0]
        end_ev = m.end[0] if m.end is not None else None
        title = f"#{m.id} {describe_message(msg)}: sent at t={m.sent_time}"
        title += {"delivered": f", delivered at t={m.end_time}",
                  "dropped": f", dropped by the network at t={m.end_time}",
                  "lost_crash": f", lost at t={m.end_time}: S{msg.dst} was crashed",
                  "lost_partition": f", lost at t={m.end_time}: a partition separated S{msg.src} and S{msg.dst}",
                  "lost_cut": f", lost at t={m.end_time}: the link between S{msg.src} and S{msg.dst} was cut",
                  "in_flight": ", still in flight"}[outcome]
        if m.copy_of is not None:
            title += f" (a duplicate of #{m.copy_of})"
        g_attrs = _attrs(data_kind="message", data_msg=m.id, data_type=kind, data_src=msg.src,
                         data_dst=msg.dst, data_term=msg.term, data_outcome=outcome,
                         data_sent_event=sent_ev, data_end_event=end_ev,
                         data_sent_time=m.sent_time, data_end_time=m.end_time,
                         data_copy_of=m.copy_of, data_heartbeat="1" if head == "hb" else None,
                         data_clipped=",".join(clipped) or None)
        parts = [f"<g {g_attrs}><title>{escape(title)}</title>"]
        line = dict(x1=_fmt(x1), y1=_fmt(y1), x2=_fmt(lx), y2=_fmt(ly))
        marker = f"url(#rbst-head-{head})" if outcome == "delivered" and we == 0 else None
        if m.copy_of is not None:  # a duplicate: a double line
            parts.append(_el("line", **line, stroke=colour, stroke_width="4.5", stroke_dasharray=dashed,
                             data_kind="arrow", data_msg=m.id))
            parts.append(_el("line", **line, stroke="white", stroke_width="1.8", data_kind="arrow-core",
                             data_msg=m.id))
            if marker:
                parts.append(_el("line", x1=_fmt(lx - dx / length * 2), y1=_fmt(ly - dy / length * 2),
                                 x2=_fmt(lx), y2=_fmt(ly), stroke=colour, stroke_width="1.6",
                                 marker_end=marker, data_kind="arrow-head", data_msg=m.id))
        else:
            parts.append(_el("line", **line, stroke=colour, stroke_width=width, stroke_dasharray=dashed,
                             marker_end=marker, data_kind="arrow", data_msg=m.id))
        if we == 0 and outcome == "dropped":
            s = 5
            parts.append(_el("path", d=f"M{_fmt(ex - s)},{_fmt(ey - s)} L{_fmt(ex + s)},{_fmt(ey + s)} "
                             f"M{_fmt(ex + s)},{_fmt(ey - s)} L{_fmt(ex - s)},{_fmt(ey + s)}",
                             stroke="#c53030", stroke_width="2.2", data_kind="drop-mark", data_msg=m.id))
        elif we == 0 and outcome in ("lost_partition", "lost_cut"):
            # a short bar across the arrow, where the partition (or the cut link) stopped it
            nx, ny = -dy / length, dx / length
            parts.append(_el("line", x1=_fmt(lx + nx * 6), y1=_fmt(ly + ny * 6), x2=_fmt(lx - nx * 6),
                             y2=_fmt(ly - ny * 6), stroke="#b7791f", stroke_width="3",
                             data_kind="lost-mark", data_cause="cut" if outcome == "lost_cut" else "partition",
                             data_msg=m.id))
        elif we == 0 and outcome == "lost_crash":
            parts.append(_el("circle", cx=_fmt(ex), cy=_fmt(ey), r=5, fill="white", stroke="#c53030",
                             stroke_width="2", data_kind="lost-mark", data_cause="crash", data_msg=m.id))
        parts.append("</g>")
        return "".join(parts)

    def _dots(self, dots):
        out = []
        for (key, i), d in sorted(dots.items()):
            y = self.row_y[key]
            role = d.get("role", "follower")
            title = f"S{i} at t={d['time']} (event #{d['event']}, {role}, term {d.get('term', 0)}):\n" \
                + "\n".join(d["lines"])
            out.append(_el("circle", title=title, cx=_fmt(self.x(i)), cy=_fmt(y), r=_DOT,
                           fill=_ROLE_FILL.get(role, "#a0aec0"), stroke="white", stroke_width="1",
                           data_kind="dot", data_server=i, data_event=d["event"], data_time=d["time"],
                           data_role=role, data_term=d.get("term", 0),
                           data_codes=" ".join(d["codes"]) or None))
        return out

    def _legend(self, height):
        y = height - 16
        items = [("RequestVote", _COLOURS["RequestVote"], None), ("vote reply", _COLOURS["RequestVote"], "4 3"),
                 ("AppendEntries", _COLOURS["AppendEntries"], None), ("heartbeat", _COLOURS["heartbeat"], None),
                 ("append reply", _COLOURS["AppendEntries"], "4 3")]
        out = [f'<g {_attrs(data_kind="legend")} font-size="10" fill="#4a5568">']
        x = 8
        for label, colour, dash in items:
            out.append(_el("line", x1=x, y1=y, x2=x + 18, y2=y, stroke=colour, stroke_width="2",
                           stroke_dasharray=dash, data_kind="legend-line"))
            out.append(f'<text x="{x + 22}" y="{y + 4}" data-kind="legend-label">{label}</text>')
            x += 30 + 6 * len(label)
        out.append(f'<text x="{x}" y="{y + 4}" data-kind="legend-label">✕ dropped  ⊢ lost to a partition  ○ lost to a crash  '
                   f'═ duplicate</text>')
        out.append("</g>")
        return out
