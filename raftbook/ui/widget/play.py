"""Play and Pause: automatic mode on the kernel's event loop, one timer callback per frame.

Only while playing is anything scheduled: paused or idle, no callback is
pending and nothing runs. Each frame is one ``c.run(k, ...)`` through the
widget's action runner, so a refused run or a safety violation pauses with the
reason in the status line.
"""
from __future__ import annotations

import asyncio
from html import escape

from ...errors import InvalidState, RaftbookError

#: Play speeds offered, in ticks per second of wall-clock time.
SPEEDS = (1, 2, 5, 10, 20, 50, 100, 200)
#: At most this many frames (redraws) per second while playing.
MAX_FPS = 10


def running_loop():
    """The running event loop (a notebook kernel runs one); Play needs it."""
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        raise InvalidState("Play needs a running event loop, as in a Jupyter kernel; outside "
                           "one, use Tick N or c.run(ticks) instead") from None


class Player:
    """The play loop of one widget: its pending frame, and the loop it runs on."""

    def __init__(self, widget):
        self.widget = widget
        self.timer = None    # the pending frame callback while playing
        self.loop = None
        self.in_frame = False  # True while a frame runs (the next one is not scheduled yet)

    @property
    def playing(self) -> bool:
        return self.timer is not None or self.in_frame

    def frame(self):
        """(ticks per frame, seconds between frames) for the chosen speed."""
        tps = self.widget.speed.value
        per = max(1, round(tps / MAX_FPS))
        return per, per / tps

    def toggle(self):
        if self.playing:
            self.widget._say("paused: nothing runs until you press Play again")
            self.pause()
            return False
        return self.play()

    def play(self):
        w = self.widget
        if self.playing:
            return True
        try:
            loop = w._get_loop()
        except RaftbookError as exc:
            w._error(exc)
            return False
        if w.cluster.violation is not None:
            w._error("safety is already violated; Undo or move back in the history before playing")
            return False
        self.loop = loop
        with w.buttons["Play"].hold_sync():  # one message for both
            w.buttons["Play"].description = "Pause"
            w.buttons["Play"].button_style = "warning"
        self.timer = loop.call_soon(self._frame)
        w._say("playing: press Pause to stop")
        w.refresh()
        return True

    def pause(self):
        was = self.timer is not None or self.in_frame
        if self.timer is not None:
            self.timer.cancel()
        self.timer = None
        self.in_frame = False
        button = self.widget.buttons["Play"]
        if button.description != "Play":  # one message for both, and none when already so
            with button.hold_sync():
                button.description = "Play"
                button.button_style = "success"
        if was:  # the message list (not rebuilt while playing) and the picture catch up
            self.widget.refresh()

    def _frame(self):
        self.timer = None
        self.in_frame = True
        w = self.widget
        per, interval = w.frame()
        lo, hi = w.latency.value
        c = w.cluster
        ok = w._act(f"c.run({per}, latency=({lo}, {hi}), drop_rate={w.drop_rate.value:g}, "
                    f"duplicate_rate={w.duplicate_rate.value:g})",
                    lambda: c.run(per, latency=(lo, hi), drop_rate=w.drop_rate.value,
                                  duplicate_rate=w.duplicate_rate.value))
        if not self.in_frame:  # paused by what the frame did
            return
        if not ok:
            self.pause()
            return
        if c.violation is not None:
            w._say(f"⚠ paused: {escape(str(c.violation))}", error=True)
            w.last_error = f"paused: {c.violation}"
            self.pause()
            return
        self.in_frame = False
        if w.buttons["Play"].description == "Pause":  # not paused meanwhile
            self.timer = self.loop.call_later(interval, self._frame)
