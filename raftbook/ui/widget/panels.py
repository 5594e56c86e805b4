"""What the widget's tabs show, as HTML strings: the details panel, the tables and the space-time diagram.

Each function reads the cluster and returns markup; the widget decides when
(only the open tab is redrawn). The Tables tab needs pandas, so it is imported
when that tab is first opened, not when the widget is.
"""
from __future__ import annotations

from dataclasses import fields
from html import escape

from ...core.describe import command_text
from ...explain.diagram import spacetime_svg


#: One style sheet for every details table (scoped by class), so each row is bare markup
#: and a redraw sends a third of what inline styles cost.
_DETAILS_CSS = ("<style>.rb-details{display:flex;gap:24px;flex-wrap:wrap;font-size:12px}"
                ".rb-details table{border-collapse:collapse;border:none;font-size:12px}"
                ".rb-details tr{border:none}.rb-details td{text-align:left;padding:0 10px 0 0;"
                "border:none;line-height:1.35;vertical-align:top}"
                ".rb-details td:first-child{color:var(--jp-ui-font-color2,#495057)}"
                ".rb-details td+td{font-family:monospace;max-width:520px;overflow-wrap:anywhere}"
                "</style>")


def table(title, rows) -> str:
    """A two-column key/value table with a bold title (styled by the details style sheet)."""
    body = "".join(f"<tr><td>{escape(str(k))}</td><td>{escape(str(v))}</td></tr>" for k, v in rows)
    return f"<div><b>{escape(title)}</b><table>{body}</table></div>"


def _server_rows(c, i):
    node = c.nodes[i]
    st = node.state()
    rows = [("status", "crashed (state frozen)" if i in c.crashed else "running")]
    for k, v in st.items():
        if k == "log":
            v = " ".join(f"{idx}:t{t}:{command_text(cmd)}" for idx, t, cmd in v) or "(empty)"
        elif k in ("next_index", "match_index"):
            v = ", ".join(f"S{p}→{x}" for p, x in v.items()) or "(only on a leader)"
        elif k in ("voted_for", "leader_id"):
            v = "None" if v is None else f"S{v}"
        rows.append((k, v))
    rows.append(("ticks_until_timeout", node.ticks_until_timeout))
    rows.append(("votes (this term)", ", ".join(f"S{v}" for v in sorted(node.votes)) or "none"))
    return rows


def _message_rows(c, env):
    m = env.msg
    rows = [("envelope id", env.id), ("type", type(m).__name__)]
    for f in fields(m):
        v = getattr(m, f.name)
        if f.name == "entries":
            v = " ".join(f"{e.index}:t{e.term}:{command_text(e.command)}" for e in v) or \
                "() (a heartbeat)"
        elif f.name in ("src", "dst"):
            v = f"S{v}"
        rows.append((f.name, v))
    rows.append(("sent_at", env.sent_at))
    if m.dst in c.crashed:
        fate = f"lost: S{m.dst} is crashed"
    elif not c.can_reach(m.src, m.dst):
        fate = "lost: a partition separates the two servers"
    else:
        fate = f"arrives at S{m.dst}"
    rows.append(("if delivered now", fate))
    return rows


def details_html(c, selected_node, selected_msg) -> str:
    """The selected server's Figure 2 state and the selected message, side by side."""
    parts = [_DETAILS_CSS, '<div class="rb-details">']
    if selected_node is not None:
        parts.append(table(f"Server S{selected_node}: Figure 2 state", _server_rows(c, selected_node)))
    if selected_msg is not None:
        env = c.flight[selected_msg]
        parts.append(table(f"Message #{env.id}", _message_rows(c, env)))
    parts.append("</div>")
    return "".join(parts)


def details_ui(c, selected_node, selected_msg) -> dict:
    """The details table as flat keys for the page (see ``ClusterWidget.ui_info``)."""
    out: dict = {}
    tables = []
    if selected_node is not None:
        tables.append(("dn", f"Server S{selected_node}: Figure 2 state", _server_rows(c, selected_node)))
    if selected_msg is not None:
        env = c.flight[selected_msg]
        tables.append(("dm", f"Message #{env.id}", _message_rows(c, env)))
    for key, title, rows in tables:
        out[key] = title
        out[key + "_k"] = [str(k) for k, _v in rows]
        for k, v in rows:
            out[f"{key}/{k}"] = str(v)
    return out


def tables_html(c) -> str:
    """The Tables tab: logs, servers, messages, proposals and the event history."""
    import pandas as pd

    from ..tables import logs_table, messages_table, nodes_table, proposals_table

    with pd.option_context("display.max_colwidth", 80):
        parts = [
            "<h4>Logs side by side (✓ committed on that server)</h4>", logs_table(c).to_html(),
            "<h4>Servers</h4>", nodes_table(c).to_html(),
            "<h4>Messages in flight</h4>", messages_table(c).to_html(),
            "<h4>Client proposals</h4>", proposals_table(c).to_html(),
            "<h4>Event history (c.events())</h4>", c.events().to_html(max_rows=500),
        ]
    return '<div style="font-size:12px">' + "".join(parts) + "</div>"


def spacetime_html(c, last_events: int) -> str:
    """The space-time diagram of the last ``last_events`` events."""
    return spacetime_svg(c, start=max(0, len(c.history) - last_events))


def spacetime_list_html(c, last_events: int) -> str:
    """Each event of the space-time diagram as its whole sentence.

    The diagram's right-hand column shortens long event texts to fit; this
    list, shown under it, gives every one in full (the same ``kind: summary``),
    so nothing a student needs is cut off.
    """
    start = max(0, len(c.history) - last_events)
    items = "".join(f'<li data-event="{seq}"><span style="color:var(--jp-ui-font-color2,#4b5563)">'
                    f"#{seq} t={ev.time}</span> {escape(f'{ev.kind}: {ev.summary}')}</li>"
                    for seq, ev in enumerate(c.history[start:], start))
    if not items:
        return ""
    return ('<div style="font-size:12px;margin-top:8px"><b>The events in the diagram</b>'
            '<ol style="list-style:none;padding-left:0;margin:4px 0;line-height:1.45">'
            f"{items}</ol></div>")
