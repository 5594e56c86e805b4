"""Python-side values of the controls the browser draws from the picture's own messages.

The status line, the history slider and its label, the Message list and the
details table are drawn in the page by ``static/cluster.js`` from the state the
picture receives (one message per event). Their Python names stay what they
were (``w.status.value``, ``w.history_slider.value``, ``w.message_select.options``,
...) so code and tests keep reading and setting them, but they are plain
traitlets objects, not widgets: assigning them sends nothing to the browser.
Setting ``value`` still notifies observers, as the widgets did, so
``w.history_slider.value = 5`` travels in the history and
``w.message_select.value = 17`` selects message 17.
"""
from __future__ import annotations

import traitlets as T


class Shown(T.HasTraits):
    """A text the browser shows (its HTML in ``value``)."""

    value = T.Unicode("")
    description = T.Unicode("")


class Slider(T.HasTraits):
    """The history slider's position: ``value`` between ``min`` and ``max``."""

    value = T.Int(0)
    min = T.Int(0)
    max = T.Int(0)
    description = T.Unicode("")
    disabled = T.Bool(False)

    @T.validate("value")
    def _clamp(self, proposal):
        return max(self.min, min(self.max, proposal["value"]))


class Choice(T.HasTraits):
    """A drop-down list: ``options`` as (label, value) pairs; ``value`` must be one of them."""

    options = T.List()
    value = T.Any(None)
    description = T.Unicode("")
    disabled = T.Bool(False)

    @T.validate("value")
    def _known(self, proposal):
        v = proposal["value"]
        if self.options and v not in [o[1] for o in self.options]:
            raise T.TraitError(f"Invalid selection: value not found: {v!r}")
        return v

    @property
    def label(self):
        """The label of the chosen option (None if none is chosen)."""
        return next((o[0] for o in self.options if o[1] == self.value), None)
