"""The widget in a real browser: bytes per click and click-to-picture time, old picture vs new.

Starts a throwaway JupyterLab (the browser tests' helpers: loopback only, its
own config) and Debian's Chromium through Playwright, opens a notebook with two
widgets on identical clusters, and clicks them as a student would:

- server SVG: the previous picture, the whole SVG rebuilt in the kernel and sent
  over the websocket after every click (``render_svg`` into an HTML widget);
- browser picture: ``rb.show(c)`` now: compact state once, then a diff per event,
  drawn by the ES module in the page.

For each it prints the median bytes the page receives per Tick click (every
websocket frame, all widgets of the click included), the median milliseconds
from the click to the new picture in the page, and the bytes per second while
Play runs at 10 ticks/s. Targets (issue 17): <= 4 KB per click with up to 20
messages in flight, <= 20 KB/s while playing, <= 40 ms per click for 5 servers,
<= 80 ms for 7 servers with 60 messages in flight.

    python bench/bench_browser.py            # 15 clicks per case
    python bench/bench_browser.py --quick    # 6 clicks per case
"""
from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.e2e.browser import find_chromium, launch_chromium  # noqa: E402
from tests.e2e.lab_server import JupyterLabServer  # noqa: E402
from tests.e2e.notebook_ui import Notebook, write_notebook  # noqa: E402

SETUP = """\
import ipywidgets as W
import raftbook as rb
from raftbook.view import render_svg

def cluster_with(n, messages):
    c = rb.Cluster(n, seed=7)
    c.run_until(lambda c: c.leader is not None, 1000)
    for k in range(3):
        c.propose(("set", f"k{k}", k))
        c.run(8)
    c.run(30)
    for env in c.in_flight:
        c.drop(env.id)
    while len(c.in_flight) < messages:
        c.propose(("set", "y", len(c.in_flight)))
    for env in c.in_flight[messages:]:
        c.drop(env.id)
    return c

class ServerSVG(rb.ClusterWidget):
    '''The widget as it was: the whole SVG from the kernel after every click.'''
    def __init__(self, c):
        self.old = W.HTML()
        super().__init__(c)
        self.picture.push = lambda *a, **k: None
        self.picture.layout.display = "none"
        self.tabs.children[0].children = (self.old,) + tuple(self.tabs.children[0].children)
        self.refresh()
    def refresh(self):
        super().refresh()
        if getattr(self, "old", None) is not None and (self.tabs.selected_index or 0) == 0:
            self.old.value = render_svg(self.cluster, self.selected_node, self.selected_msg,
                                        max_log=self.max_log)
"""

CASES = [(5, 0), (5, 20), (7, 60)]

# Click a button and resolve when the visible picture of this output shows time t+1.
_CLICK_JS = """
async ([out, kind]) => {
  const pic = () => [...out.querySelectorAll('svg[data-raftbook="cluster"]')].find(s => s.checkVisibility());
  const before = Number(pic().dataset.time);
  const button = [...out.querySelectorAll('button')].find(b => b.textContent.trim() === 'Tick');
  const t0 = performance.now();
  return await new Promise((resolve) => {
    const check = () => {
      const s = pic();
      if (s && Number(s.dataset.time) === before + 1) { obs.disconnect(); resolve(performance.now() - t0); }
    };
    const obs = new MutationObserver(check);
    obs.observe(out, {subtree: true, childList: true, attributes: true, attributeFilter: ['data-time']});
    button.click();
  });
}
"""


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer clicks")
    args = ap.parse_args(argv)
    clicks = 6 if args.quick else 15
    chromium = find_chromium()
    if chromium is None:
        sys.exit("no Chromium found (install Debian's chromium or set RAFTBOOK_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    cells = [SETUP]
    for n, m in CASES:
        cells.append(f"ServerSVG(cluster_with({n}, {m}))")
        cells.append(f"rb.show(cluster_with({n}, {m}))")
    cells.append("ServerSVG(cluster_with(5, 0))")
    cells.append("rb.show(cluster_with(5, 0))")
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        write_notebook(tmp / "root" / "bench.ipynb", cells)
        server = JupyterLabServer(tmp / "root", tmp / "home", log_path=tmp / "server.log")
        server.start()
        received = [0]
        try:
            with sync_playwright() as pw:
                browser = launch_chromium(pw, chromium, tmp / "chromium")
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.set_default_timeout(120_000)
                page.on("websocket", lambda ws: ws.on(
                    "framereceived", lambda f: received.__setitem__(
                        0, received[0] + len(f if isinstance(f, (bytes, str)) else f.get("payload", "")))))
                nb = Notebook(page, server, "bench.ipynb").open()
                nb.run_all()
                outputs = nb.panel.locator(".jp-OutputArea-output").filter(
                    has=page.get_by_role("button", name="Tick", exact=True))
                outputs.nth(2 * len(CASES) + 1).locator('svg[data-raftbook="cluster"] [data-node]').first.wait_for()
                rows = []
                for k, (n, m) in enumerate(CASES):
                    for j, name in enumerate(("server SVG", "browser picture")):
                        out = outputs.nth(2 * k + j)
                        out.scroll_into_view_if_needed()
                        handle = out.element_handle()
                        page.evaluate(_CLICK_JS, [handle, "Tick"])  # warm up
                        sizes, times = [], []
                        for _ in range(clicks):
                            before = received[0]
                            times.append(page.evaluate(_CLICK_JS, [handle, "Tick"]))
                            nb.wait_idle()
                            sizes.append(received[0] - before)
                        rows.append((n, m, name, statistics.median(sizes), statistics.median(times)))
                play = []
                for j, name in enumerate(("server SVG", "browser picture")):
                    out = outputs.nth(2 * len(CASES) + j)
                    out.scroll_into_view_if_needed()
                    out.get_by_role("button", name="Play", exact=True).click()
                    page.wait_for_timeout(1000)  # let it reach its pace
                    before = received[0]
                    page.wait_for_timeout(3000)  # the measurement window
                    play.append((name, (received[0] - before) / 3))
                    out.get_by_role("button", name="Pause", exact=True).click()
                    nb.wait_idle()
                browser.close()
        finally:
            server.stop()
    print(f"{'servers':>7} {'in flight':>9}  {'picture':<16} {'KB per click':>12} {'click-to-picture ms':>20}")
    for n, m, name, size, ms in rows:
        print(f"{n:>7} {m:>9}  {name:<16} {size / 1024:>12.1f} {ms:>20.1f}")
    print()
    for name, rate in play:
        print(f"Play at 10 ticks/s, 5 servers, {name}: {rate / 1024:.1f} KB/s")
    return rows, play


if __name__ == "__main__":
    main()
