"""The picture's colours: by role, by message kind and by term.

One place for them so the SVG, its legend and any other drawing (a matplotlib
figure in a notebook, the course slides) agree on what a colour means.
"""
from __future__ import annotations

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
    "InstallSnapshot": "#7048e8",
    "InstallSnapshotReply": "#9775fa",
    "PreVote": "#e8590c",
    "pre-vote granted": "#66a80f",
    "pre-vote denied": "#e64980",
    "TimeoutNow": "#ae3ec9",
    "lost": "#9a9a9a",
}

#: Dash pattern of an arrow by kind (the rest are solid): kinds beyond Figure 2 are
#: told apart by their dash as well as their colour.
MSG_DASH = {"PreVote": "6 2 1 2", "pre-vote granted": "6 2 1 2", "pre-vote denied": "6 2 1 2",
            "InstallSnapshot": "8 3", "InstallSnapshotReply": "8 3", "TimeoutNow": "1 2"}
#: The block standing for a compacted log prefix, and the mark of unsaved state.
SNAPSHOT_FILL = "#dee2e6"
UNSAVED = "#c92a2a"

#: Term colours for log cells, cycled (term 1 is the first colour).
TERM_COLOURS = ("#74c0fc", "#ffa94d", "#b197fc", "#8ce99a", "#ff8787", "#ffe066",
                "#63e6be", "#f783ac", "#a9e34b", "#91a7ff")
#: SVG attribute that fades a crashed server and its log row.
FADED = ' opacity="0.55"'


def term_colour(term: int) -> str:
    """The colour of ``term`` in log grids (terms cycle through ten colours)."""
    return "#ffffff" if term <= 0 else TERM_COLOURS[(term - 1) % len(TERM_COLOURS)]
