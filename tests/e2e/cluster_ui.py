"""The raftbook cluster widget as a student meets it in the browser.

:class:`ClusterWidgetUI` finds one ``rb.show(c)`` output in a notebook, clicks
its buttons, picks servers and messages, and reads the cluster picture back
from the SVG's ``data-*`` attributes (the stable contract of
``raftbook/view.py``): servers ``data-node``/``data-role``/``data-term``/
``data-crashed``, messages ``data-msg``/``data-type``, log cells
``data-log-node``/``data-index``/``data-entry-term``/``data-committed``.

Every action waits for the picture it should produce (or for the widget's
own warning line), never for a fixed time.
"""
from __future__ import annotations

import json
import re

from .browser import ACTION_TIMEOUT_MS

# The picture on the visible tab (the Explain tab holds a second, hidden one).
_READ_JS = """
(root) => {
  const svg = [...root.querySelectorAll('svg[data-raftbook="cluster"]')]
      .find(s => s.checkVisibility());
  if (!svg) return null;
  const nodes = {}, msgs = {}, log = {};
  for (const g of svg.querySelectorAll('[data-node]')) {
    nodes[g.dataset.node] = {role: g.dataset.role, term: Number(g.dataset.term),
                             crashed: g.dataset.crashed === 'true',
                             voted_for: g.dataset.votedFor,
                             commit_index: Number(g.dataset.commitIndex),
                             selected: g.dataset.selected === 'true'};
  }
  for (const g of svg.querySelectorAll('[data-msg]')) {
    msgs[g.dataset.msg] = {type: g.dataset.type, selected: g.dataset.selected === 'true'};
  }
  for (const g of svg.querySelectorAll('[data-log-node]')) {
    const t = g.querySelector('title');
    log[g.dataset.logNode + ':' + g.dataset.index] = {
      term: Number(g.dataset.entryTerm), committed: g.dataset.committed === 'true',
      title: t ? t.textContent : ''};
  }
  const warn = [...root.querySelectorAll('.rb-status, .widget-html')]
      .map(e => e.innerText).find(t => t.includes('\u26a0'));
  return {time: Number(svg.dataset.time), leader: svg.dataset.leader, nodes, msgs, log,
          warning: warn || null};
}
"""

# True once the picture contains ``want`` (a sub-dict of what _READ_JS returns),
# or once the widget shows a warning (the caller then reports it).
_MATCH_JS = """
([root, want]) => {
  const read = %s;
  const got = read(root);
  if (!got) return false;
  if (got.warning) return true;
  const sub = (w, g) => {
    if (Array.isArray(w)) return false;
    if (w === null || typeof w !== 'object') return w === g;
    if (g === null || typeof g !== 'object') return false;
    if (w.__exact_keys__ && Object.keys(g).length !== w.__exact_keys__) return false;
    return Object.keys(w).every(k => k.startsWith('__') || sub(w[k], g[k]));
  };
  const gone = (want.msgs && want.msgs.__absent__) || [];
  if (gone.some(id => String(id) in got.msgs)) return false;
  return sub(want, got);
}
""" % _READ_JS


def expected_picture(cluster, *, logs: bool = True) -> dict:
    """What the picture must show for ``cluster`` (a raftbook Cluster in this process).

    Servers (role, term, crashed, vote, commit index), exactly the messages in
    flight (id and type), and each log entry's term and committed flag.
    """
    nodes = {str(i): {"role": n.role.value, "term": n.current_term, "crashed": i in cluster.crashed,
                      "voted_for": "" if n.voted_for is None else str(n.voted_for),
                      "commit_index": n.commit_index}
             for i, n in cluster.nodes.items()}
    msgs = {str(e.id): {"type": type(e.msg).__name__} for e in cluster.in_flight}
    msgs["__exact_keys__"] = len(cluster.in_flight)
    want = {"time": cluster.now, "leader": "" if cluster.leader is None else str(cluster.leader),
            "nodes": nodes, "msgs": msgs}
    if logs:
        want["log"] = {f"{i}:{e.index}": {"term": e.term, "committed": e.index <= n.commit_index}
                       for i, n in cluster.nodes.items() for e in n.log}
        want["log"]["__exact_keys__"] = sum(len(list(n.log)) for n in cluster.nodes.values())
    return want


class ClusterWidgetUI:
    """One cluster widget output in an open notebook."""

    def __init__(self, page, output):
        self.page = page
        self.root = output

    @classmethod
    def find(cls, nb, index: int = 0) -> "ClusterWidgetUI":
        """The ``index``-th output of the notebook that holds a cluster widget (with a Tick button)."""
        outputs = nb.panel.locator(".jp-OutputArea-output").filter(
            has=nb.page.get_by_role("button", name="Tick", exact=True))
        out = outputs.nth(index)
        out.locator('svg[data-raftbook="cluster"] [data-node]').first.wait_for()
        out.scroll_into_view_if_needed()
        return cls(nb.page, out)

    # ------------------------------------------------------------------ reading
    def read(self) -> dict:
        """The picture now: servers, messages, log cells, and the widget's warning if any."""
        state = self.root.evaluate(_READ_JS)
        assert state is not None, "the cluster widget shows no picture"
        return state

    def wait_for(self, want: dict, what: str, timeout_ms: int = ACTION_TIMEOUT_MS) -> dict:
        """Wait until the picture contains ``want``; fail with the difference (or the warning).

        ``want`` is a sub-dict of :meth:`read`'s answer; in a dict,
        ``"__exact_keys__": n`` also requires exactly n keys, and
        ``want["msgs"]["__absent__"]`` lists message ids that must be gone.
        """
        try:
            self.page.wait_for_function(_MATCH_JS, arg=[self.root.element_handle(), want],
                                        timeout=timeout_ms)
        except Exception as exc:
            got = self.read()
            raise AssertionError(f"after {what}, the picture never showed what was expected.\n"
                                 f"expected (subset): {json.dumps(want, sort_keys=True)}\n"
                                 f"shown:             {json.dumps(got, sort_keys=True)}") from exc
        got = self.read()
        assert got["warning"] is None, f"after {what}, the widget warned: {got['warning']}"
        return got

    def wait_for_cluster(self, cluster, what: str, *, logs: bool = True) -> dict:
        """Wait until the picture shows exactly the state of ``cluster`` (a mirror run here)."""
        return self.wait_for(expected_picture(cluster, logs=logs), what)

    def warning(self) -> str | None:
        return self.read()["warning"]

    # ------------------------------------------------------------------ acting
    def button(self, label: str):
        return self.root.get_by_role("button", name=label, exact=True)

    def click(self, label: str) -> None:
        """Click the button labelled ``label`` (the caller waits for its effect)."""
        self.button(label).click()

    def select_server(self, i: int) -> None:
        """Pick server ``i`` with the Server buttons; wait until the picture highlights it."""
        self.button(f"S{i}").click()
        self.wait_for({"nodes": {str(i): {"selected": True}}}, f"picking S{i}")

    def _message_list(self):
        return self.root.locator("select").filter(
            has=self.page.locator("option", has_text=re.compile(r"pick.a.message")))

    def message_options(self) -> list[str]:
        """The Message list's entries (ipywidgets shows spaces as no-break spaces)."""
        return [o.replace("\xa0", " ")
                for o in self._message_list().locator("option").all_inner_texts()]

    def select_message(self, msg_id: int) -> str:
        """Pick message ``msg_id`` in the Message list; wait until the picture highlights it."""
        options = self.message_options()
        index = next((k for k, o in enumerate(options) if o.startswith(f"#{msg_id} ")), None)
        assert index is not None, f"message #{msg_id} is not in the Message list: {options}"
        self._message_list().select_option(index=index)
        label = options[index]
        self.wait_for({"msgs": {str(msg_id): {"selected": True}}}, f"picking message #{msg_id}")
        return label

    def fill(self, placeholder: str, text: str) -> None:
        """Type into the text box with this placeholder (as a student would)."""
        box = self.root.get_by_placeholder(placeholder, exact=True)
        box.fill(text)
        box.press("Enter")  # ipywidgets Text sends its value on Enter or blur

    def screenshot(self, path) -> None:
        """Save a picture of the whole widget (controls, status line and cluster picture)."""
        self.root.screenshot(path=str(path))
