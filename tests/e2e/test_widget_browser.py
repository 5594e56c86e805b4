"""The concept notebooks and the cluster widget, used in a real browser as a student would.

Each test opens a notebook in JupyterLab, runs all its cells, checks every
cluster picture, and then drives the notebook's ``rb.show(c)`` widget with
clicks. Where the widget starts from a known state (after Reset with a typed
seed), a twin cluster in this process makes the same calls through the API,
and after every click the picture must show exactly the twin's state: the
buttons do what the API does, and the browser shows it.
"""
from __future__ import annotations

import raftbook as rb

from .cluster_ui import ClusterWidgetUI
from .notebook_ui import Notebook

TOUR = "notebooks/00_tour.ipynb"
ELECTION = "notebooks/01_leader_election.ipynb"
ROLES = {"follower", "candidate", "leader"}


def open_and_run(page, server, relpath) -> Notebook:
    nb = Notebook(page, server, relpath).open()
    nb.run_all()
    return nb


def check_pictures(nb: Notebook) -> list[dict]:
    """Every cluster picture the notebook shows has all its servers with a role and a term."""
    pictures = nb.panel.locator('svg[data-raftbook="cluster"]')
    assert pictures.count() > 0, f"{nb.relpath} shows no cluster picture after running"
    found = []
    for k in range(pictures.count()):
        svg = pictures.nth(k)
        n = int(svg.get_attribute("data-servers"))
        servers = svg.locator("[data-node]")
        assert servers.count() == n, f"picture {k}: {servers.count()} servers drawn, expected {n}"
        info = {}
        for j in range(n):
            g = servers.nth(j)
            role, term = g.get_attribute("data-role"), g.get_attribute("data-term")
            assert role in ROLES, f"picture {k}: server {g.get_attribute('data-node')} role {role!r}"
            assert term is not None and term.isdigit(), f"picture {k}: term {term!r}"
            info[int(g.get_attribute("data-node"))] = (role, int(term))
        assert sorted(info) == list(range(1, n + 1))
        for m in svg.locator("[data-msg]").all():
            assert m.get_attribute("data-type") in (
                "RequestVote", "RequestVoteReply", "AppendEntries", "AppendEntriesReply")
            assert m.get_attribute("data-msg").isdigit()
        found.append(info)
    return found


def message_to(cluster, kind: str, dst: int) -> int:
    """The id of the in-flight message of this type bound for ``dst``."""
    return next(e.id for e in cluster.in_flight if type(e.msg).__name__ == kind and e.msg.dst == dst)


def deliver_oldest(w: ClusterWidgetUI, twin) -> dict:
    """Pick the oldest message in flight and click Deliver; the twin delivers it too."""
    oldest = twin.in_flight[0].id
    w.select_message(oldest)
    w.click("Deliver")
    twin.deliver(oldest)
    return w.wait_for_cluster(twin, f"delivering #{oldest}")


def same_picture(a: dict, b: dict) -> bool:
    """Two readings show the same cluster state (selection highlights aside)."""
    def strip(s):
        return {"time": s["time"], "leader": s["leader"], "log": s["log"],
                "nodes": {i: {k: v for k, v in n.items() if k != "selected"}
                          for i, n in s["nodes"].items()},
                "msgs": sorted((i, m["type"]) for i, m in s["msgs"].items())}
    return strip(a) == strip(b)


def deliver_all(w: ClusterWidgetUI, twin, what: str):
    """Click Deliver all; the twin delivers the same messages, oldest first."""
    w.click("Deliver all")
    for mid in [e.id for e in twin.in_flight]:
        twin.deliver(mid)
    return w.wait_for_cluster(twin, what)


def test_tour_notebook_and_widget_as_a_student(page, jupyter_lab, artifacts_dir):
    nb = open_and_run(page, jupyter_lab, TOUR)
    pictures = check_pictures(nb)
    # The tour's first picture is the brand-new cluster: five followers in term 0.
    assert pictures[0] == {i: ("follower", 0) for i in range(1, 6)}
    assert any(role == "leader" for p in pictures for role, _ in p.values()), \
        "the tour never shows a leader"

    w = ClusterWidgetUI.find(nb)
    # Start over from a seed of our choosing, as the widget's Reset offers.
    seed_box = w.root.get_by_label("seed", exact=True)
    seed_box.fill("7")
    seed_box.press("Enter")
    w.click("Reset")
    twin = rb.Cluster(5, seed=7)
    w.wait_for_cluster(twin, "Reset with seed 7")

    # Time passes: three ticks.
    for k in range(3):
        w.click("Tick")
        twin.tick()
        w.wait_for_cluster(twin, f"Tick {k + 1}")

    # S3's election timer fires: it becomes a candidate and asks everyone for votes.
    w.select_server(3)
    w.click("Timeout")
    twin.timeout(3)
    state = w.wait_for_cluster(twin, "Timeout on S3")
    assert state["nodes"]["3"]["role"] == "candidate" and state["nodes"]["3"]["term"] == 1
    assert sorted(m["type"] for m in state["msgs"].values()) == ["RequestVote"] * 4

    # Deliver the request to S1 (it votes for S3), drop the one to S2.
    to_s1 = message_to(twin, "RequestVote", 1)
    w.select_message(to_s1)
    w.click("Deliver")
    twin.deliver(to_s1)
    state = w.wait_for_cluster(twin, f"delivering #{to_s1}")
    assert to_s1 not in map(int, state["msgs"])
    assert state["nodes"]["1"]["voted_for"] == "3"
    to_s2 = message_to(twin, "RequestVote", 2)
    w.select_message(to_s2)
    w.click("Drop")
    twin.drop(to_s2)
    state = w.wait_for_cluster(twin, f"dropping #{to_s2}")
    assert str(to_s2) not in state["msgs"] and state["nodes"]["2"]["voted_for"] == ""

    # Deliver the oldest message, one at a time, until S3 has won.
    for _ in range(12):
        if twin.leader is not None:
            break
        state = deliver_oldest(w, twin)
    assert twin.leader == 3
    assert state["nodes"]["3"]["role"] == "leader" and state["leader"] == "3"

    # A client request: set x = 7, sent to the leader.
    w.fill("key", "x")
    w.fill('value: 1, "a", true', "7")
    w.click("Propose")
    p = twin.propose(("set", "x", 7))
    state = w.wait_for_cluster(twin, "Propose set x=7")
    cell = state["log"][f"3:{p.index}"]
    assert not cell["committed"] and "x=7" in cell["title"]
    for k in range(6):
        if twin.status(p) == "committed" and twin.nodes[3].commit_index >= p.index:
            break
        state = deliver_all(w, twin, f"Deliver all ({k + 1})")
    assert twin.status(p) == "committed"
    cell = state["log"][f"3:{p.index}"]
    assert cell["committed"] and "x=7" in cell["title"] and "(committed)" in cell["title"]

    # Crash the leader; S1 times out, and the messages are delivered one at a time
    # (those to the crashed S3 are lost) until S1 wins term 2.
    w.select_server(3)
    w.click("Crash")
    twin.crash(3)
    state = w.wait_for_cluster(twin, "Crash S3")
    assert state["nodes"]["3"]["crashed"] and state["leader"] == ""
    w.select_server(1)
    w.click("Timeout")
    twin.timeout(1)
    state = w.wait_for_cluster(twin, "Timeout on S1")
    for _ in range(12):
        if twin.leader is not None:
            break
        before_win = state
        state = deliver_oldest(w, twin)
    assert twin.leader == 1 and twin.nodes[1].current_term == 2
    assert state["nodes"]["1"]["role"] == "leader" and state["nodes"]["1"]["term"] == 2
    assert state["nodes"]["3"]["crashed"] and state["nodes"]["3"]["role"] == "leader"
    assert state["nodes"]["3"]["term"] == 1  # frozen as it was when it crashed
    w.screenshot(artifacts_dir / "tour-widget-new-leader.png")

    # Undo the winning delivery: S1 is a candidate again, as the picture showed before.
    w.click("Undo")
    twin.undo()
    state = w.wait_for_cluster(twin, "Undo")
    assert state["nodes"]["1"]["role"] == "candidate" and state["leader"] == ""
    assert same_picture(state, before_win)
    w.screenshot(artifacts_dir / "tour-widget-final.png")


def test_election_notebook_and_widget_as_a_student(page, jupyter_lab, artifacts_dir):
    nb = open_and_run(page, jupyter_lab, ELECTION)
    pictures = check_pictures(nb)
    # The split-vote scenario: two candidates in term 1, and nobody leads.
    assert any(sum(r == "candidate" for r, _ in p.values()) == 2
               and all(r != "leader" for r, _ in p.values()) for p in pictures), \
        "the election notebook never shows the split vote (two candidates, no leader)"

    w = ClusterWidgetUI.find(nb)
    state = w.read()
    old = state["leader"]
    assert old, "the election notebook's widget should open on a cluster with a leader"
    old_term = state["nodes"][old]["term"]

    # Crash the leader.
    w.select_server(int(old))
    w.click("Crash")
    state = w.wait_for({"leader": "", "nodes": {old: {"crashed": True}}}, f"Crash S{old}")

    # Deliver what is in flight, one message at a time, and Tick when nothing is,
    # until a follower's timer fires and it wins the election.
    before_win = None
    for _ in range(150):
        if state["leader"]:
            break
        before_win = state
        if state["msgs"]:
            oldest = min(map(int, state["msgs"]))
            w.select_message(oldest)
            w.click("Deliver")
            state = w.wait_for({"msgs": {"__absent__": [oldest]}}, f"delivering #{oldest}")
        else:
            w.click("Tick")
            state = w.wait_for({"time": state["time"] + 1}, "Tick")
    new = state["leader"]
    assert new and new != old, f"no new leader was elected after S{old} crashed: {state}"
    assert state["nodes"][new]["role"] == "leader" and state["nodes"][new]["term"] > old_term
    assert state["nodes"][old]["crashed"] and state["nodes"][old]["term"] == old_term
    running_leaders = [i for i, s in state["nodes"].items()
                       if s["role"] == "leader" and not s["crashed"]]
    assert running_leaders == [new], f"running leaders: {running_leaders}"
    w.screenshot(artifacts_dir / "election-widget-new-leader.png")

    # Undo the winning delivery: no leader again, exactly the picture before it.
    w.click("Undo")
    state = w.wait_for({"leader": ""}, "Undo")
    assert state["nodes"][new]["role"] == "candidate"
    assert same_picture(state, before_win)
    w.screenshot(artifacts_dir / "election-widget-final.png")
