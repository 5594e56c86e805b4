"""The browser-drawn cluster picture, used directly: click servers and arrows, type keys, play.

The notebook holds ``rb.show(c)`` on a cluster built here the same way (the
twin); after every click or key the picture must show exactly the twin's
state, so what the picture does is what the API does. Then a busy cluster at
a laptop's size: no label overlaps another (element bounding boxes), every
arrow shows its id, the smallest text is readable, and the dark theme is dark.
"""
from __future__ import annotations

import re

import raftbook as rb

from .cluster_ui import ClusterWidgetUI
from .notebook_ui import Notebook, write_notebook

LAPTOP = {"width": 1280, "height": 720}

SIMPLE = ["import raftbook as rb\nc = rb.Cluster(5, seed=7)\nw = rb.show(c)\nw"]

BUSY_CODE = """\
import raftbook as rb
def busy():
    c = rb.Cluster(7, seed=7)
    c.run_until(lambda c: c.leader is not None, 1000)
    for e in c.in_flight:
        c.drop(e.id)
    for k in range(8):
        c.propose(("set", f"key{k}", k))
    for i in [e.id for e in c.in_flight][::2]:
        c.deliver(i)
    for i in [i for i in c.nodes if i != c.leader][:2]:
        c.timeout(i)
    for e in c.in_flight[60:]:
        c.drop(e.id)
    return c
"""
BUSY = [BUSY_CODE + "c = busy()\nassert len(c.in_flight) == 60\nrb.show(c)"]


def busy():
    scope: dict = {}
    exec(BUSY_CODE, scope)
    return scope["busy"]()


def open_widget(page, server, lab_root, name, cells) -> tuple[Notebook, ClusterWidgetUI]:
    write_notebook(lab_root / "e2e" / f"{name}.ipynb", cells)
    nb = Notebook(page, server, f"e2e/{name}.ipynb").open()
    nb.run_all()
    return nb, ClusterWidgetUI.find(nb)


def pop_button(w: ClusterWidgetUI, label: str):
    return w.root.locator(".rb-pop").get_by_role("button", name=label, exact=True)


def click_server(w: ClusterWidgetUI, i: int, action: str) -> None:
    w.root.locator(f'svg [data-node="{i}"] .rb-body').click()
    pop_button(w, action).click()


def click_message(w: ClusterWidgetUI, msg_id: int, action: str) -> None:
    w.root.locator(f'svg [data-msg="{msg_id}"] [data-label-box] rect').click()
    pop_button(w, action).click()


def to(cluster, kind: str, dst: int) -> int:
    return next(e.id for e in cluster.in_flight if e.type == kind and e.msg.dst == dst)


def test_click_servers_and_arrows_keys_and_partition(page, jupyter_lab, lab_root, artifacts_dir):
    nb, w = open_widget(page, jupyter_lab, lab_root, "picture_clicks", SIMPLE)
    twin = rb.Cluster(5, seed=7)
    w.wait_for_cluster(twin, "opening")
    assert w.root.locator(".rb-pic:not(.rb-part)").count() == 1, "the picture is not the browser-drawn one"
    assert w.root.locator(".rb-part").count() == 4, "the status, history, message list and details"

    click_server(w, 3, "Timeout")
    twin.timeout(3)
    state = w.wait_for_cluster(twin, "Timeout in S3's menu")
    assert state["nodes"]["3"]["role"] == "candidate"

    # Every arrow shows its id, and the ids are those of the Message list.
    labels = {int(b.get_attribute("data-label-box")): b.text_content()
              for b in w.root.locator("svg [data-label-box]").all()}
    listed = {int(m.group(1)) for o in w.message_options() if (m := re.match(r"#(\d+) ", o))}
    assert set(labels) == listed == {e.id for e in twin.in_flight}
    assert all(text.startswith(f"#{i} RV") for i, text in labels.items()), labels

    m1 = to(twin, "RequestVote", 1)
    click_message(w, m1, "Deliver")
    twin.deliver(m1)
    state = w.wait_for_cluster(twin, f"Deliver in #{m1}'s menu")
    assert state["nodes"]["1"]["voted_for"] == "3"
    m2 = to(twin, "RequestVote", 2)
    click_message(w, m2, "Drop")
    twin.drop(m2)
    w.wait_for_cluster(twin, f"Drop in #{m2}'s menu")
    m4 = to(twin, "RequestVote", 4)
    click_message(w, m4, "Duplicate")
    twin.duplicate(m4)
    w.wait_for_cluster(twin, f"Duplicate in #{m4}'s menu")

    # Keyboard: focus the picture, then t (Tick), u (Undo), [ and ] (history), d (deliver).
    root = w.root.locator(".rb-root")
    root.focus()
    page.keyboard.press("t")
    twin.tick()
    w.wait_for_cluster(twin, "key t")
    root.focus()
    page.keyboard.press("u")
    twin.undo()
    w.wait_for_cluster(twin, "key u")
    latest = twin.snapshot()
    root.focus()
    page.keyboard.press("[")
    twin.goto(len(twin.history) - 1)
    w.wait_for_cluster(twin, "key [")
    root.focus()
    page.keyboard.press("]")
    twin.restore(latest)
    w.wait_for_cluster(twin, "key ]")
    m5 = to(twin, "RequestVote", 5)
    w.root.locator(f'svg [data-msg="{m5}"] [data-label-box] rect').click()
    w.wait_for({"msgs": {str(m5): {"selected": True}}}, f"picking #{m5}")
    page.keyboard.press("Escape")
    root.focus()
    page.keyboard.press("d")
    twin.deliver(m5)
    w.wait_for_cluster(twin, "key d")

    # Keyboard only: Tab to a server, Enter opens its actions, each with an accessible name.
    server = w.root.locator('svg [data-node="2"]')
    assert "S2" in server.get_attribute("aria-label")
    server.focus()
    page.keyboard.press("Enter")
    assert pop_button(w, "Crash").is_visible()
    page.keyboard.press("Escape")

    # A partition picked in the picture: S1 and S2 into group 2, the rest stay in group 1.
    click_server(w, 1, "Group 2")
    click_server(w, 2, "Group 2")
    w.root.get_by_role("button", name="Apply partition").click()
    twin.partition({3, 4, 5}, {1, 2})
    w.wait_for_cluster(twin, "a partition picked in the picture")
    groups = w.root.locator("svg [data-partition-group]")
    groups.nth(1).wait_for(state="attached", timeout=15_000)  # the group rings may come a frame later
    assert sorted(g.get_attribute("data-members") for g in groups.all()) == ["1 2", "3 4 5"]
    w.screenshot(artifacts_dir / "picture-clicks-partition.png")


def test_play_moves_messages_and_pause_schedules_nothing(page, jupyter_lab, lab_root, artifacts_dir):
    nb, w = open_widget(page, jupyter_lab, lab_root, "picture_play", SIMPLE)
    root = w.root.locator(".rb-root")
    assert root.get_attribute("data-animating") == "false"
    frames0 = int(root.get_attribute("data-frames"))
    w.click("Play")
    # Messages travel: animation frames run while time runs.
    page.wait_for_function("([el, n]) => Number(el.dataset.frames) > n + 20",
                           arg=[root.element_handle(), frames0])
    w.click("Pause")
    page.wait_for_function("(el) => el.dataset.animating === 'false'", arg=root.element_handle())
    time_paused = w.read()["time"]
    frames = int(root.get_attribute("data-frames"))
    # Paused: over a whole second no frame is drawn and the kernel sends nothing new.
    page.wait_for_timeout(1000)  # a measurement of idleness, not a wait for the page
    assert int(root.get_attribute("data-frames")) == frames
    assert root.get_attribute("data-animating") == "false"
    assert w.read()["time"] == time_paused


def _overlaps(boxes):
    bad = []
    for a in range(len(boxes)):
        for b in range(a + 1, len(boxes)):
            p, q = boxes[a], boxes[b]
            if (p["x"] < q["x"] + q["w"] - 0.5 and q["x"] < p["x"] + p["w"] - 0.5
                    and p["y"] < q["y"] + q["h"] - 0.5 and q["y"] < p["y"] + p["h"] - 0.5):
                bad.append((p["what"], q["what"]))
    return bad


_BOXES_JS = """
(root) => {
  const svg = root.querySelector('svg[data-raftbook="cluster"]');
  const box = (el, what) => { const r = el.getBoundingClientRect();
    return {x: r.x, y: r.y, w: r.width, h: r.height, what}; };
  const out = [];
  for (const el of svg.querySelectorAll('[data-label-box] rect'))
    out.push(box(el, 'msg ' + el.parentNode.dataset.labelBox));
  for (const el of svg.querySelectorAll('.rb-label'))
    out.push(box(el, 'server text ' + el.textContent));
  for (const el of svg.querySelectorAll('.rb-body'))
    out.push(box(el, 'server ' + el.parentNode.dataset.node));
  return out;
}
"""

_SMALLEST_TEXT_JS = """
(root) => {
  const svg = root.querySelector('svg[data-raftbook="cluster"]');
  const scale = svg.getBoundingClientRect().width / svg.viewBox.baseVal.width;
  const sizes = [...svg.querySelectorAll('text')].filter(t => t.textContent.trim())
    .map(t => parseFloat(getComputedStyle(t).fontSize) * scale);
  return {smallest: Math.min(...sizes), fits: svg.getBoundingClientRect().width <= root.getBoundingClientRect().width + 1};
}
"""


def test_busy_cluster_reads_on_a_laptop_light_and_dark(page, jupyter_lab, lab_root, artifacts_dir):
    page.set_viewport_size(LAPTOP)
    nb, w = open_widget(page, jupyter_lab, lab_root, "picture_busy", BUSY)
    twin = busy()
    w.wait_for_cluster(twin, "opening the busy cluster", logs=False)  # a window of the logs
    boxes = w.root.evaluate(_BOXES_JS)
    assert sum(b["what"].startswith("msg") for b in boxes) == 60
    assert _overlaps(boxes) == []
    text = w.root.evaluate(_SMALLEST_TEXT_JS)
    assert text["fits"], "the picture is wider than its cell"
    assert text["smallest"] >= 11, f"the smallest text in the picture is {text['smallest']:.1f} px"
    # Messages between the same pair fan out: no two arrows share a path.
    paths = w.root.locator("svg [data-arrow]").evaluate_all("els => els.map(e => e.getAttribute('d'))")
    assert len(set(paths)) == len(paths) == 60
    w.root.locator(".rb-root").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "picture-busy-light-1280x720.png"))
    nb.menu("Settings", "Theme", "JupyterLab Dark")
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'")
    page.locator("#jupyterlab-splash").wait_for(state="detached")
    # Text is light on the dark page (JupyterLab's own variables), not a white slab.
    ink = w.root.evaluate("(r) => getComputedStyle(r.querySelector('svg text.rb-t1')).fill")
    rgb = [int(x) for x in re.findall(r"\d+", ink)[:3]]
    assert sum(rgb) > 3 * 150, f"text in the dark theme is {ink}"
    w.root.locator(".rb-root").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "picture-busy-dark-1280x720.png"))
    # The parts drawn around the picture follow the theme too: light text on a dark status line.
    status = w.root.locator(".rb-status")
    status.scroll_into_view_if_needed()
    ink = status.evaluate("(e) => getComputedStyle(e).color")
    assert sum(int(x) for x in re.findall(r"\d+", ink)[:3]) > 3 * 150, f"status text in dark: {ink}"
    page.screenshot(path=str(artifacts_dir / "widget-controls-dark-1280x720.png"))
    nb.menu("Settings", "Theme", "JupyterLab Light")
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'true'")


_PACE_JS = """
async (root) => {
  // For ~6 s, on every animation frame, read where each moving label is on its arrow
  // (data-t) and its latency; the rate is the distance covered per millisecond.
  const rates = {};
  let prev = null;
  const end = performance.now() + 6000;
  const read = () => {
    const out = new Map();
    const svg = root.querySelector('svg[data-raftbook="cluster"]');
    if (!svg) return out;
    for (const el of svg.querySelectorAll('[data-label-box], [data-ghost]')) {
      const lat = el.dataset.latency || el.parentNode.dataset.latency;
      if (!lat || el.dataset.t === undefined) continue;
      const key = (el.dataset.labelBox ? 'm' : 'g') + (el.dataset.labelBox || el.dataset.ghost);
      out.set(key, [Number(lat), Number(el.dataset.t)]);
    }
    return out;
  };
  while (performance.now() < end) {
    await new Promise((r) => requestAnimationFrame(r));
    const now = {at: performance.now(), draws: root.dataset.draws, vals: read()};
    if (prev && prev.draws === now.draws && now.at > prev.at) {
      for (const [k, [lat, t]] of now.vals) {
        const p = prev.vals.get(k);
        if (p && t > p[1]) (rates[lat] = rates[lat] || []).push((t - p[1]) / (now.at - prev.at));
      }
    }
    prev = now;
  }
  const med = (xs) => { xs.sort((a, b) => a - b); return xs[Math.floor(xs.length / 2)]; };
  return Object.fromEntries(Object.entries(rates).map(([k, xs]) => [k, [med(xs), xs.length]]));
}
"""


def test_each_message_moves_at_the_pace_its_latency_sets(page, jupyter_lab, lab_root):
    nb, w = open_widget(page, jupyter_lab, lab_root, "picture_pace", SIMPLE)
    root = w.root.locator(".rb-root")
    w.click("Play")  # latency 1..3 ticks, 10 ticks a second
    rates = root.evaluate(_PACE_JS)
    w.click("Pause")
    page.wait_for_function("(el) => el.dataset.animating === 'false'", arg=root.element_handle())
    assert "1" in rates and "3" in rates, f"no moving messages of latency 1 and 3 seen: {rates}"
    assert rates["1"][1] >= 3 and rates["3"][1] >= 3, rates
    # A message with latency 3 covers its arrow in three ticks, one with latency 1 in one.
    assert rates["1"][0] > 1.8 * rates["3"][0], f"arrow fraction per ms by latency: {rates}"


_CUT_LABELS_JS = """
(root) => [...root.querySelectorAll('.widget-label, .widget-label-basic, label, .rb-hist-label')]
  .filter((e) => e.checkVisibility() && e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1)
  .map((e) => e.textContent)
"""


_NEWEST_ON_TOP_JS = r"""
(root) => {
  const seqs = [...root.querySelectorAll('.widget-select select option')]
    .map((o) => Number((o.textContent.match(/#(\d+)/) || [0, -1])[1]));
  return seqs.length > 1 && seqs[0] > seqs[seqs.length - 1];
}
"""


def test_no_label_is_cut_off_and_controls_stay_put(page, jupyter_lab, lab_root, artifacts_dir):
    page.set_viewport_size(LAPTOP)
    nb, w = open_widget(page, jupyter_lab, lab_root, "picture_labels", SIMPLE)
    twin = rb.Cluster(5, seed=7)
    assert w.root.evaluate(_CUT_LABELS_JS) == []
    pic = w.root.locator(".rb-root")
    top = pic.bounding_box()["y"]
    # Status lines and history labels of different lengths: nothing below them moves.
    steps = [("Tick", lambda: twin.tick()), ("Timeout", lambda: twin.timeout(3)),
             ("Undo", lambda: twin.undo()), ("Tick", lambda: twin.tick()),
             ("Timeout", lambda: twin.timeout(3)),
             ("Deliver all", lambda: [twin.deliver(e.id) for e in list(twin.in_flight)])]
    w.select_server(3)
    for label, call in steps:
        w.click(label)
        call()
        w.wait_for_cluster(twin, label)
        assert pic.bounding_box()["y"] == top, f"the picture moved after {label}"
    status = w.root.locator(".rb-status")
    assert "c.deliver(i)" in status.inner_text()
    # The other tabs: every label whole, and every event's sentence under the diagram.
    for tab in ("Explain", "Space-time"):
        w.root.get_by_role("tab", name=tab).click()
        w.root.get_by_text("newest first" if tab == "Explain" else "The events in the diagram").wait_for()
        assert w.root.evaluate(_CUT_LABELS_JS) == [], tab
    listing = w.root.locator("li[data-event]")
    assert listing.count() == len(twin.history)
    texts = [t.replace("\xa0", " ") for t in listing.all_inner_texts()]
    for ev, text in zip(twin.history, texts):
        assert text.endswith(f"{ev.kind}: {ev.summary}"), (text, ev.summary)
    w.screenshot(artifacts_dir / "widget-spacetime-list.png")
    w.root.get_by_role("tab", name="Explain").click()
    w.root.get_by_text("newest first").click()
    # Newest first: the top line is the latest reason.
    page.wait_for_function(_NEWEST_ON_TOP_JS, arg=w.root.element_handle())


# A leader that compacted its log while a follower was down; its InstallSnapshot in flight.
COMPACTED_CODE = """\
import raftbook as rb
def compacted():
    c = rb.Cluster(3, seed=1)
    c.run_until(lambda c: c.leader is not None, 1000)
    c.run(30)
    f = next(i for i in c.nodes if i != c.leader)
    c.crash(f)
    for k in range(5):
        c.propose(("set", f"k{k}", k))
    c.run(40)
    c.propose(("set", "y", 9))
    c.compact(c.leader)
    for e in list(c.in_flight):
        c.drop(e.id)
    c.restart(f)
    for _ in range(50):
        c.tick()
        if any(e.type == "InstallSnapshot" for e in c.in_flight):
            break
        for e in list(c.in_flight):
            c.deliver(e.id)
    return c
"""
COMPACTED = [COMPACTED_CODE + "c = compacted()\nw = rb.show(c)\nw"]


def compacted():
    scope: dict = {}
    exec(COMPACTED_CODE, scope)
    return scope["compacted"]()


def test_compaction_and_install_snapshot_are_drawn_with_real_indexes(page, jupyter_lab, lab_root,
                                                                    artifacts_dir):
    page.set_viewport_size(LAPTOP)
    nb, w = open_widget(page, jupyter_lab, lab_root, "picture_compaction", COMPACTED)
    twin = compacted()
    ld = twin.leader
    snap = twin.nodes[ld].snapshot_index
    assert snap == 6 and [e.index for e in twin.nodes[ld].log] == [7]
    # exactly the twin's cells, each at its own index (the leader holds index 7 only)
    state = w.wait_for_cluster(twin, "opening a compacted cluster")
    assert [k for k in state["log"] if k.startswith(f"{ld}:")] == [f"{ld}:7"]
    block = w.root.locator(f'svg [data-snapshot-node="{ld}"]')
    assert block.get_attribute("data-snapshot-index") == "6"
    assert block.locator("text").text_content() == "snapshot ..6, term 1"
    install = next(e for e in twin.in_flight if e.type == "InstallSnapshot")
    pill = w.root.locator(f'svg [data-msg="{install.id}"]')
    assert pill.get_attribute("data-type") == "InstallSnapshot"
    assert pill.get_attribute("data-kind") == "InstallSnapshot"
    assert "snap 6" in pill.locator("[data-label-box]").text_content()
    arrow = w.root.locator(f'svg [data-arrow="{install.id}"]')
    assert "rb-k-snap" in arrow.get_attribute("class")
    w.root.locator(".rb-root").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "picture-compaction-1280x720.png"))

    # The follower installs it: its log starts after the snapshot too.
    click_message(w, install.id, "Deliver")
    twin.deliver(install.id)
    w.wait_for_cluster(twin, "delivering the InstallSnapshot")
    f = install.msg.dst
    assert w.root.locator(f'svg [data-snapshot-node="{f}"]').get_attribute("data-snapshot-index") == "6"

    # Compact in a server's menu is c.compact: S3 applied 1..6 and folds them into a snapshot.
    other = next(i for i in twin.nodes if i not in (ld, f))
    click_server(w, other, "Compact")
    twin.compact(other)
    w.wait_for_cluster(twin, f"Compact in S{other}'s menu")
    assert w.root.locator(f'svg [data-snapshot-node="{other}"]').get_attribute("data-snapshot-index") == \
        str(twin.nodes[other].snapshot_index)
    w.root.locator(".rb-root").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "picture-compaction-after-1280x720.png"))


PARTIAL = ["import raftbook as rb\n"
           "c = rb.scenarios.partial_partition(pre_vote=True, check_quorum=True)\nw = rb.show(c)\nw"]


def cut_links(w: ClusterWidgetUI) -> list[str]:
    return sorted(g.get_attribute("data-cut") for g in w.root.locator("svg [data-cut]").all())


def test_cut_links_are_drawn_and_cut_or_restored_from_a_servers_menu(page, jupyter_lab, lab_root,
                                                                     artifacts_dir):
    page.set_viewport_size(LAPTOP)
    nb, w = open_widget(page, jupyter_lab, lab_root, "picture_partial", PARTIAL)
    twin = rb.scenarios.partial_partition(pre_vote=True, check_quorum=True)
    w.wait_for_cluster(twin, "opening a partial partition")
    assert cut_links(w) == ["3-5", "4-5"]
    assert "2 links cut" in w.root.locator("svg [data-safety]").text_content()
    # S1's menu offers one button per other server: Cut S5 cuts that link only.
    click_server(w, 1, "Cut S5")
    twin.cut(1, 5)
    w.wait_for_cluster(twin, "Cut S5 in S1's menu")
    w.root.locator('svg [data-cut="1-5"]').wait_for(state="attached", timeout=15_000)
    assert cut_links(w) == ["1-5", "3-5", "4-5"]
    w.root.locator(".rb-root").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "picture-cut-links-light-1280x720.png"))
    # From S5's side the same link reads Restore S1.
    click_server(w, 5, "Restore S1")
    twin.heal(1, 5)
    w.wait_for_cluster(twin, "Restore S1 in S5's menu")
    w.root.locator('svg [data-cut="1-5"]').wait_for(state="detached", timeout=15_000)
    assert cut_links(w) == ["3-5", "4-5"]
    nb.menu("Settings", "Theme", "JupyterLab Dark")
    page.wait_for_function("() => document.body.dataset.jpThemeLight === 'false'")
    page.locator("#jupyterlab-splash").wait_for(state="detached")
    stroke = w.root.evaluate("(r) => getComputedStyle(r.querySelector('svg .rb-cut')).stroke")
    assert stroke not in ("none", ""), stroke
    w.root.locator(".rb-root").scroll_into_view_if_needed()
    page.screenshot(path=str(artifacts_dir / "picture-cut-links-dark-1280x720.png"))
