"""Time travel: the history slider, the latest state kept aside, and branching from the past.

Moving the slider back keeps the latest state as a snapshot, so a student can
look around and come back ("Latest"); acting while in the past branches from
there, and the status line says how many later events were discarded.
"""
from __future__ import annotations

from html import escape

from ..checks import is_whole


class TimeTravel:
    """Where a widget is in its cluster's history, and the latest state while it looks back."""

    def __init__(self, widget):
        self.widget = widget
        self.future = None   # snapshot of the latest state, kept while looking at the past

    @property
    def active(self) -> bool:
        """True while an earlier state is shown (the latest is kept aside)."""
        return self.future is not None

    def latest_history(self):
        """The events of the latest state, also while looking at the past."""
        return self.future.history if self.future is not None else self.widget.cluster.history

    def kept(self):
        """How many events the kept latest state has, or None when not looking back."""
        return len(self.future.history) if self.future is not None else None

    def forget(self):
        self.future = None

    def travel(self, m: int) -> bool:
        """Show the state after the first ``m`` events; the latest state is kept until you act."""
        w = self.widget
        w.pause()
        c = w.cluster
        total = len(self.latest_history())
        if not is_whole(m) or not 0 <= m <= total:
            w._error(f"the history has events 0..{total}; got {m!r}")
            return False
        if self.future is None:
            if m == total:
                return True
            self.future = c.snapshot()
        else:
            c.restore(self.future)
            if m == total:
                self.future = None
                w._say("back at the latest state")
                w.refresh()
                return True
        c.goto(m)
        later = total - m
        w._say(f"looking at the state after event {m} of {total} (t={c.now}). Act now to branch "
               f"from here (the {later} later event{'s' if later != 1 else ''} would be "
               f"discarded), or press Latest to go back.")
        w.refresh()
        return True

    def back_to_latest(self):
        """Return to the latest state after moving back in the history."""
        w = self.widget
        if self.future is None:
            w._error("already at the latest state")
            return None
        w.cluster.restore(self.future)
        self.future = None
        w.last_error = None
        w._say(f"back to the latest state: {len(w.cluster.history)} events, t={w.cluster.now}")
        w.refresh()
        return True

    def branch(self, kept, here: int) -> str:
        """After an action taken ``here`` events in: drop the kept state; the note says what was lost.

        ``kept`` is :meth:`kept` from before the action.
        """
        if kept is None:
            return ""
        dropped = kept - here
        note = ""
        if dropped > 0:
            note = (f"\n(branched: the {dropped} later event{'s' if dropped != 1 else ''} "
                    f"you had moved back over {'were' if dropped != 1 else 'was'} discarded)")
        self.future = None
        return note

    def on_latest(self, fn):
        """``fn()`` evaluated on the latest state, the shown state put back afterwards."""
        c = self.widget.cluster
        if self.future is None:
            return fn()
        here = c.snapshot()
        c.restore(self.future)
        try:
            return fn()
        finally:
            c.restore(here)

    def forget_if_stale(self):
        """Drop the kept latest state if the cluster was changed outside the widget meanwhile.

        The run is deterministic, so the kept history still applies as long as
        every event since the point we moved back to is the same call.
        """
        fut = self.future
        if fut is None:
            return
        now, kept = self.widget.cluster.history, fut.history
        m = len(now)
        if m >= len(kept) or any((now[k].kind, now[k].args) != (kept[k].kind, kept[k].args)
                                 for k in range(max(0, m - 8), m)):
            self.future = None

    def sync(self):
        """Bring the slider, its label and the Latest button up to date (controls are quiet)."""
        w = self.widget
        c = w.cluster
        total = len(self.latest_history())
        sl = w.history_slider
        if sl.max < total:  # (the slider is Python-side only: nothing is sent from here)
            sl.max = total
        sl.value = len(c.history)
        sl.max = total
        m = len(c.history)
        if m == 0:
            text = "the start: no events yet"
        else:
            text = f"after event {m}: {escape(c.history[m - 1].summary)}"
        if self.future is not None:
            text = f"<b>past</b> ({total - m} later kept) · " + text
        w.history_label.value = text
        w.buttons["Latest"].disabled = self.future is None
