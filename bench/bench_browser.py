"""The widget in a real browser: bytes per click and click-to-picture time, old pictures vs new.

Starts a throwaway JupyterLab (the browser tests' helpers: loopback only, its
own config) and Debian's Chromium through Playwright, opens a notebook of
widgets on identical clusters, and clicks them as a student would:

- browser picture: ``rb.show(c)`` of this tree;
- with ``--before REV``, the same notebook again with the package as it was at
  git revision REV (extracted to a temporary directory and put first on the
  kernel's path), and there also the server SVG widget: the picture before it
  moved into the browser, the whole SVG rebuilt in the kernel and sent over the
  websocket after every click (``render_svg`` into an HTML widget). All in one
  run, so the numbers compare.

For each it prints the median bytes the page receives per Tick click (every
websocket frame, all widgets of the click included), the median milliseconds
from the click to the new picture in the page, the median time the page spent
drawing the picture (the browser picture only), and the bytes per second while
Play runs at 10 ticks/s. Targets (issue 17): <= 4 KB per click with up to 20
messages in flight, <= 20 KB/s while playing, <= 40 ms per click for 5 servers,
<= 80 ms for 7 servers with 60 messages in flight.

    python bench/bench_browser.py                        # 15 clicks per case
    python bench/bench_browser.py --quick                # 6 clicks per case
    python bench/bench_browser.py --quick --before REV   # also the package at REV
"""
from __future__ import annotations

import argparse
import statistics
import subprocess
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

def echo():
    '''The floor: a Tick button whose click only bumps a number in a tiny SVG (no cluster).'''
    t = [0]
    svg = '<svg data-raftbook="cluster" data-time="{}" width="12" height="12"><rect width="12" height="12"/></svg>'
    out = W.HTML(svg.format(0))
    b = W.Button(description="Tick")
    def click(_):
        t[0] += 1
        out.value = svg.format(t[0])
    b.on_click(click)
    return W.VBox([b, out])

class ServerSVG(rb.ClusterWidget):
    '''The widget as it was: the whole SVG from the kernel after every click (built on the
    package of --before, whose status line, history and message list were widgets of their own).'''
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
      if (s && Number(s.dataset.time) === before + 1) {
        obs.disconnect();
        const root = out.querySelector('.rb-root');
        resolve([performance.now() - t0, root && root.dataset.drawMs ? Number(root.dataset.drawMs) : null]);
      }
    };
    const obs = new MutationObserver(check);
    obs.observe(out, {subtree: true, childList: true, attributes: true, attributeFilter: ['data-time']});
    button.click();
  });
}
"""


def extract(rev: str, into: Path) -> Path:
    """The package as it was at git revision ``rev``, extracted under ``into``."""
    into.mkdir(parents=True)
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", rev, "raftbook"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def measure(page, server, name: str, clicks: int, received: list, with_svg: bool) -> tuple:
    """Open notebook ``name``, click each widget; (rows, play rows)."""
    nb = Notebook(page, server, name).open()
    nb.run_all()
    outputs = nb.panel.locator(".jp-OutputArea-output").filter(
        has=page.get_by_role("button", name="Tick", exact=True))
    per_case = 2 if with_svg else 1
    outputs.nth(per_case * (len(CASES) + 1) - 1).locator(
        'svg[data-raftbook="cluster"] [data-node]').first.wait_for()
    kinds = ("server SVG", "browser picture") if with_svg else ("browser picture",)
    rows, play = [], []
    for k, (n, m) in enumerate(CASES):
        for j, kind in enumerate(kinds):
            out = outputs.nth(per_case * k + j)
            out.scroll_into_view_if_needed()
            handle = out.element_handle()
            page.evaluate(_CLICK_JS, [handle, "Tick"])  # warm up
            nb.wait_idle()
            sizes, times, draws = [], [], []
            for _ in range(clicks):
                before = received[0]
                ms, draw = page.evaluate(_CLICK_JS, [handle, "Tick"])
                nb.wait_idle()
                sizes.append(received[0] - before)
                times.append(ms)
                if draw is not None:
                    draws.append(draw)
            rows.append((n, m, kind, statistics.median(sizes), statistics.median(times),
                         statistics.median(draws) if draws else None))
    if not with_svg:  # the floor: a click that changes one number in a tiny SVG widget
        out = outputs.nth(len(CASES) + 1)
        out.scroll_into_view_if_needed()
        handle = out.element_handle()
        times = []
        for _ in range(clicks + 1):
            times.append(page.evaluate(_CLICK_JS, [handle, "Tick"])[0])
            nb.wait_idle()
        rows.append((0, 0, "round trip only", None, statistics.median(times[1:]), None))
    for j, kind in enumerate(kinds):
        out = outputs.nth(per_case * len(CASES) + j)
        out.scroll_into_view_if_needed()
        out.get_by_role("button", name="Play", exact=True).click()
        page.wait_for_timeout(1000)  # let it reach its pace
        before = received[0]
        page.wait_for_timeout(3000)  # the measurement window
        play.append((kind, (received[0] - before) / 3))
        out.get_by_role("button", name="Pause", exact=True).click()
        nb.wait_idle()
    return rows, play


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true", help="fewer clicks")
    ap.add_argument("--before", metavar="REV", help="also measure the package at this git revision "
                    "(and the server SVG widget there)")
    args = ap.parse_args(argv)
    clicks = 6 if args.quick else 15
    chromium = find_chromium()
    if chromium is None:
        sys.exit("no Chromium found (install Debian's chromium or set RAFTBOOK_CHROMIUM)")
    from playwright.sync_api import sync_playwright

    def cells(with_svg, path=None):
        out = []
        if path is not None:
            out.append(f"import sys\nsys.path.insert(0, {str(path)!r})")
        out.append(SETUP)
        for n, m in CASES + [(5, 0)]:
            if with_svg:
                out.append(f"ServerSVG(cluster_with({n}, {m}))")
            out.append(f"rb.show(cluster_with({n}, {m}))")
        if not with_svg:
            out.append("echo()")
        return out

    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        write_notebook(tmp / "root" / "now.ipynb", cells(False))
        if args.before:
            old = extract(args.before, tmp / "before")
            write_notebook(tmp / "root" / "before.ipynb", cells(True, old))
        server = JupyterLabServer(tmp / "root", tmp / "home", log_path=tmp / "server.log")
        server.start()
        received = [0]
        results = []
        try:
            with sync_playwright() as pw:
                browser = launch_chromium(pw, chromium, tmp / "chromium")
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                page.set_default_timeout(120_000)
                page.on("websocket", lambda ws: ws.on(
                    "framereceived", lambda f: received.__setitem__(
                        0, received[0] + len(f if isinstance(f, (bytes, str)) else f.get("payload", "")))))
                if args.before:
                    rows, play = measure(page, server, "before.ipynb", clicks, received, True)
                    results.append((f"{args.before}", rows, play))
                rows, play = measure(page, server, "now.ipynb", clicks, received, False)
                results.append(("this tree", rows, play))
                browser.close()
        finally:
            server.stop()
    print(f"{'servers':>7} {'in flight':>9}  {'picture':<30} {'KB per click':>12} "
          f"{'click-to-picture ms':>20} {'draw ms':>8}")
    for n, m in CASES + [(0, 0)]:
        for where, rows, _ in results:
            for rn, rm, kind, size, ms, draw in rows:
                if (rn, rm) == (n, m):
                    d = "" if draw is None else f"{draw:.1f}"
                    kb = "" if size is None else f"{size / 1024:.1f}"
                    print(f"{n or '-':>7} {m if n else '-':>9}  {kind + ' (' + where + ')':<30} "
                          f"{kb:>12} {ms:>20.1f} {d:>8}")
    print()
    for where, _, play in results:
        for kind, rate in play:
            print(f"Play at 10 ticks/s, 5 servers, {kind} ({where}): {rate / 1024:.1f} KB/s")
    return results


if __name__ == "__main__":
    main()
