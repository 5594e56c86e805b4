"""Every "Try this" prompt of the concept notebooks, done as a student does it.

Each test runs a notebook's code cells up to its widget, builds the widget as
that cell does, then clicks through exactly the steps the prose gives (the
widget's own buttons, lists and tabs) and checks what the prose promises. If a
prompt's wording changes, its test must change with it: the wording is quoted
here, so a test fails when the prose it performs is gone.
"""
from __future__ import annotations

import contextlib
import io
import sys
from pathlib import Path

import matplotlib
import nbformat
import pytest

import raftbook as rb
from raftbook.widgets import ClusterWidget

matplotlib.use("Agg")

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"


def prose(stem: str) -> str:
    nb = nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4)
    return "\n".join(c.source for c in nb.cells if c.cell_type == "markdown")


def run_until_cell(stem: str, cell_source: str) -> dict:
    """Run the notebook's code cells before the one whose source is ``cell_source``."""
    nb = nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4)
    sys.path.insert(0, str(NOTEBOOKS))  # the notebooks import selfcheck from their folder
    try:
        ns: dict = {}
        for cell in nb.cells:
            if cell.cell_type != "code":
                continue
            if cell.source.strip() == cell_source:
                return ns
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(cell.source, f"{stem}.ipynb", "exec"), ns)  # noqa: S102
    finally:
        sys.path.remove(str(NOTEBOOKS))
    raise AssertionError(f"{stem} has no cell {cell_source!r}")


def widget_of(stem: str, cell_source: str) -> ClusterWidget:
    """The widget the notebook's cell ``cell_source`` shows, with the notebook's state."""
    ns = run_until_cell(stem, cell_source)
    last = cell_source.splitlines()[-1]
    if last.startswith("w = "):
        last = last[4:]
    exec(cell_source.replace(last, "_shown = " + last) if last != "w" else cell_source, ns)
    w = ns.get("_shown", ns.get("w"))
    assert isinstance(w, ClusterWidget)
    return w


def says(stem: str, *fragments: str) -> None:
    """The prompt still says what the test does."""
    text = " ".join(prose(stem).split())
    for fragment in fragments:
        assert " ".join(fragment.split()) in text, f"{stem} no longer says {fragment!r}"


def pick_message(w, text: str) -> int:
    """Pick the first message whose label in the Message list contains ``text``."""
    for label, value in w.message_select.options:
        if value and text in label:
            w.message_select.value = value
            return value
    raise AssertionError(f"no message {text!r} in the list: {w.message_select.options}")


def pick_server(w, i: int) -> None:
    w.server_select.value = i


def click(w, name: str) -> None:
    w.buttons[name].click()
    assert w.last_error is None, w.last_error


class FakeLoop:
    """Play's event loop, run by hand: one frame per ``run_one``."""

    def __init__(self):
        self.pending = []

    def call_later(self, delay, fn):
        handle = _Handle(fn)
        self.pending.append(handle)
        return handle

    call_soon = lambda self, fn: self.call_later(0, fn)  # noqa: E731

    def run_one(self):
        handle = next(h for h in self.pending if not h.cancelled)
        self.pending.remove(handle)
        handle.fn()


class _Handle:
    def __init__(self, fn):
        self.fn, self.cancelled = fn, False

    def cancel(self):
        self.cancelled = True


# -- 00 tour ------------------------------------------------------------------------------

def test_tour_commit_reaches_the_followers_after_a_heartbeat():
    says("00_tour", "Tick five times (one heartbeat interval) and deliver, and the ✓ marks "
                    "appear everywhere.")
    ns = run_until_cell("00_tour", "c.crash(1)\nc.run(60)\nprint(\"leader now:\", c.leader, "
                                   "\"in term\", c.nodes[c.leader].current_term)\nc")
    c = ns["c"]
    assert [n.commit_index for n in c.nodes.values()].count(2) == 1  # only the leader knows
    for _ in range(5):
        c.tick()
    ns["deliver_all"](c)
    assert all(n.commit_index == 2 for n in c.nodes.values())


def test_tour_try_this_in_the_widget():
    says("00_tour", "Click **Tick N** (N = 10) a few times and watch the timers run down.",
         "after a few clicks a follower's timer fires", "**Run N** moves time *and* lets the "
         "network deliver", "click it a few times and the cluster settles under one leader again",
         "Pick a follower with the **Server** buttons and click **Timeout**: it becomes a "
         "candidate.", "Pick a `RequestVote` in the **Message** list and **Drop** it, then "
         "**Deliver** another.", "Click **Undo** to take a step back, or drag the **History** "
         "slider", "Click **Play** to let the cluster run on its own; **Pause** to stop.",
         "Open the **Explain** tab", "**Space-time** for a diagram")
    w = widget_of("00_tour", "w = rb.show(c)\nw")
    c = w.cluster
    assert w.n_ticks.value == 10
    followers = {i for i, n in c.nodes.items() if n.role == rb.Role.FOLLOWER and i not in c.crashed}
    timers = {i: c.nodes[i].ticks_until_timeout for i in followers}
    flight = {e.id for e in c.in_flight}
    # 1. Tick N: the timers run down, nothing is delivered, and a follower's timer fires
    click(w, "Tick N")
    assert flight <= {e.id for e in c.in_flight}
    assert any(c.nodes[i].ticks_until_timeout < timers[i] or c.nodes[i].role != rb.Role.FOLLOWER
               for i in followers)
    fired = False
    for _ in range(3):
        fired = fired or any(c.nodes[i].role == rb.Role.CANDIDATE for i in followers)
        click(w, "Tick N")
    assert fired, "no follower's timer fired after a few clicks of Tick N"
    # ... Run N: the cluster settles under one leader
    for _ in range(5):
        click(w, "Run N")
    leader = c.leader
    assert leader is not None
    assert all(n.current_term == c.nodes[leader].current_term for n in c.nodes.values())
    assert [n.role for n in c.nodes.values()].count(rb.Role.LEADER) == 1
    # 2. a follower times out and becomes a candidate
    follower = next(i for i, n in c.nodes.items() if n.role == rb.Role.FOLLOWER)
    pick_server(w, follower)
    click(w, "Timeout")
    assert c.nodes[follower].role == rb.Role.CANDIDATE
    # 3. drop one RequestVote, deliver another
    dropped = pick_message(w, "RequestVote")
    click(w, "Drop")
    assert dropped not in c.flight
    delivered = pick_message(w, "RequestVote")
    click(w, "Deliver")
    assert delivered not in c.flight and c.history[-1].kind == "deliver"
    # 4. Undo takes a step back; the History slider shows the past
    n = len(c.history)
    click(w, "Undo")
    assert len(c.history) == n - 1 and delivered in c.flight
    w.history_slider.value = 3
    assert w.viewing_past and len(w.cluster.history) == 3
    click(w, "Latest")
    assert not w.viewing_past and len(c.history) == n - 1
    # 5. Play runs on its own; Pause stops
    loop = FakeLoop()
    w._get_loop = lambda: loop
    click(w, "Play")
    before = c.now
    loop.run_one()
    loop.run_one()
    assert c.now > before
    click(w, "Play")  # now labelled Pause
    assert w.buttons["Play"].description == "Play" and not any(not h.cancelled for h in loop.pending)
    # 6. the Explain and Space-time tabs
    w.tabs.selected_index = 2
    assert len(w.explain_list.options) > 0
    w.tabs.selected_index = 3
    assert "<svg" in w.spacetime.value


# -- 01 leader election ----------------------------------------------------------------------

def test_election_restart_s1_then_crash_the_new_leader():
    says("01_leader_election", "Restart S1 (pick S1, click **Restart**) and click **Run N**",
         "which term does S1 end up in, and why?",
         "crash the new leader (pick it, click **Crash**) and click **Run N** until there is "
         "a new leader")
    w = widget_of("01_leader_election", "rb.show(c)")
    c = w.cluster
    leader = c.leader
    term = c.nodes[leader].current_term
    assert 1 in c.crashed and c.nodes[1].current_term == term - 1
    pick_server(w, 1)
    click(w, "Restart")
    click(w, "Run N")
    s1 = c.nodes[1]
    assert s1.role == rb.Role.FOLLOWER and s1.current_term == term  # it follows the new leader
    assert list(s1.log) == list(c.nodes[leader].log)
    assert c.leader == leader
    pick_server(w, leader)
    click(w, "Crash")
    for _ in range(10):
        click(w, "Run N")
        if c.leader is not None:
            break
    assert c.leader is not None and c.leader != leader
    assert c.nodes[c.leader].current_term > term


def test_election_a_split_vote_by_hand():
    says("01_leader_election", "Click **Reset** for a fresh cluster",
         "**Deliver** S1's `RequestVote` to S3 and S2's to S4, and **Drop** both requests to S5",
         "click **Deliver all** twice", "Set N to 50 and click **Run N**")
    w = widget_of("01_leader_election", "rb.show(c)")
    click(w, "Reset")
    c = w.cluster
    assert c.history == [] and c.leader is None
    for i in (1, 2):
        pick_server(w, i)
        click(w, "Timeout")
    pick_message(w, "RequestVote S1→S3")
    click(w, "Deliver")
    pick_message(w, "RequestVote S2→S4")
    click(w, "Deliver")
    for src in (1, 2):
        pick_message(w, f"RequestVote S{src}→S5")
        click(w, "Drop")
    click(w, "Deliver all")
    click(w, "Deliver all")
    assert not c.in_flight and c.leader is None
    assert sorted(c.nodes[1].votes) == [1, 3] and sorted(c.nodes[2].votes) == [2, 4]
    w.n_ticks.value = 50
    click(w, "Run N")
    assert c.leader is not None and c.nodes[c.leader].current_term >= 2


def test_election_wider_and_narrower_timeout_ranges():
    says("01_leader_election", "add `(25, 26)` or `(15, 200)` to `ranges` and run the two cells "
                               "again")
    nb = nbformat.read(NOTEBOOKS / "01_leader_election.ipynb", as_version=4)
    ns = run_until_cell("01_leader_election", next(
        c.source for c in nb.cells if c.source.startswith("ax = summary")))
    cell = next(c.source for c in nb.cells if "ranges = [(20, 20)" in c.source)
    exec(cell.replace("(15, 60)]", "(15, 60), (25, 26), (15, 200)]"), ns)
    summary = ns["summary"]
    assert {"(25, 26)", "(15, 200)"} <= set(summary.index)
    assert summary.loc["(15, 200)", "elected"] == 20
    assert summary.loc["(15, 200)", "worst ticks"] > summary.loc["(15, 30)", "worst ticks"]


# -- 02 log replication -----------------------------------------------------------------------

def test_replication_try_this():
    says("02_log_replication", "**Timeout** S1, then click **Deliver all** until the Message "
         "list is empty", "**Propose** `set x 1`", "**Deliver** the `AppendEntries` to S2, then "
         "S2's reply", "is it committed yet?", "Deliver the `AppendEntries` to S3 and S3's reply. "
         "Now?", "**Restart** S4 and click **Run N** (N = 10): watch the leader catch S4 up.")
    w = widget_of("02_log_replication", "rb.show(rb.Cluster(n=5, seed=2))")
    c = w.cluster
    pick_server(w, 1)
    click(w, "Timeout")
    for _ in range(10):
        if not c.in_flight:
            break
        click(w, "Deliver all")
    assert not c.in_flight and c.leader == 1
    assert all(len(n.log) == 1 for n in c.nodes.values())
    assert (w.op.value, w.key.value, w.value.value) == ("set", "x", "1")
    click(w, "Propose")
    p = c.proposals[-1]
    pick_message(w, "AppendEntries S1→S2")
    click(w, "Deliver")
    pick_message(w, "AppendEntriesReply S2→S1")
    click(w, "Deliver")
    assert c.status(p) == "pending"
    w.tabs.selected_index = 1
    assert "pending" in w.tables.value
    pick_message(w, "AppendEntries S1→S3")
    click(w, "Deliver")
    pick_message(w, "AppendEntriesReply S3→S1")
    click(w, "Deliver")
    assert c.status(p) == "committed"
    assert "committed" in w.tables.value
    # 3. S4 misses commands, restarts, and the leader catches it up
    pick_server(w, 4)
    click(w, "Crash")
    for value in ("2", "3", "4"):
        w.value.value = value
        click(w, "Propose")
    click(w, "Deliver all")
    assert len(c.nodes[4].log) < len(c.nodes[1].log)
    click(w, "Restart")
    w.n_ticks.value = 10
    click(w, "Run N")
    assert list(c.nodes[4].log) == list(c.nodes[1].log)
    assert c.nodes[4].commit_index == c.nodes[1].commit_index == len(c.nodes[1].log)


# -- 03 terms ---------------------------------------------------------------------------------

def test_terms_crash_the_leader_then_restart_it():
    says("03_terms", "crash S3, the leader, and click **Run N** (N = 10) until there is a new "
         "leader. Which term is it?", "restart S3", "it kept its term and log but its commit "
         "index is 0", "Click **Run N** once more")
    w = widget_of("03_terms", "rb.show(p)")
    c = w.cluster
    assert c.leader == 3
    term, log = c.nodes[3].current_term, list(c.nodes[3].log)
    pick_server(w, 3)
    click(w, "Crash")
    for _ in range(10):
        click(w, "Run N")
        if c.leader is not None:
            break
    assert c.leader not in (None, 3) and c.nodes[c.leader].current_term == term + 1
    pick_server(w, 3)
    click(w, "Restart")
    s3 = c.nodes[3]
    assert (s3.current_term, list(s3.log), s3.commit_index) == (term, log, 0)
    w.tabs.selected_index = 1
    assert "commit_index" in w.tables.value
    click(w, "Run N")
    leader = c.nodes[c.leader]
    assert s3.current_term == leader.current_term and list(s3.log) == list(leader.log)
    assert s3.commit_index == leader.commit_index > 0


# -- 04 safety --------------------------------------------------------------------------------

def test_safety_look_back_at_the_bad_election():
    says("04_safety", "The checker caught it at the very step the bad leader won its election: "
         "the last step of the run.", "Drag the **History** slider back, step by step, to just "
         "before that step, when the bad leader was still a candidate", "open the **Explain** tab "
         "to see who voted for it and why", "look at the **Tables** tab",
         "Then click **Latest** to come back.")
    w = widget_of("04_safety", "rb.show(bad)")
    c = w.cluster
    total = len(c.history)
    assert c.violation is not None and c.violation.property in w.picture.value
    # the bad leader won in the last step
    won = [r.node for r in c.history[-1].reasons if r.code == "became_leader"]
    assert len(won) == 1
    bad_leader = won[0]
    for m in range(total - 1, total - 4, -1):  # back, step by step
        w.history_slider.value = m
        assert w.viewing_past and len(c.history) == m
    w.history_slider.value = total - 1  # just before the last step
    assert c.nodes[bad_leader].role == rb.Role.CANDIDATE and c.violation is None
    w.tabs.selected_index = 2
    labels = [label for label, _ in w.explain_list.options] if w.explain_list.options and \
        isinstance(w.explain_list.options[0], tuple) else [str(o) for o in w.explain_list.options]
    votes = [label for label in labels if f"vote in term {c.nodes[bad_leader].current_term} to "
             f"S{bad_leader}" in label]
    assert votes, labels[-10:]
    w.tabs.selected_index = 1
    assert f"S{bad_leader}" in w.tables.value
    click(w, "Latest")
    assert len(c.history) == total and c.violation is not None


# -- 05 log compaction ----------------------------------------------------------------------

def _cell_starting(stem: str, first_line: str) -> str:
    nb = nbformat.read(NOTEBOOKS / f"{stem}.ipynb", as_version=4)
    return next(c.source for c in nb.cells if c.cell_type == "code"
                and c.source.startswith(first_line))


def test_compaction_a_smaller_threshold_keeps_logs_shorter():
    says("05_log_compaction", "set `threshold = 5` in the cell above and run it again: no log "
                              "ever holds more than a handful of entries, yet every server still "
                              "ends with the same state machine.")
    cell = _cell_starting("05_log_compaction", "threshold = 20")
    ns = run_until_cell("05_log_compaction", cell.strip())
    exec(cell.replace("threshold = 20", "threshold = 5", 1), ns)  # noqa: S102
    plain, compacted = ns["plain"], ns["compacted"]
    assert max(compacted.sizes) <= 6 < min(plain.sizes[-10:])
    assert all(n.kv == plain.nodes[i].kv for i, n in compacted.nodes.items())


def test_compaction_a_stale_snapshot_is_ignored():
    says("05_log_compaction", "build `rb.scenarios.stale_snapshot()` and read the reasons of its "
                              "last event", "rule 5 makes S3 ignore it")
    c = rb.scenarios.stale_snapshot()
    assert [r.code for r in c.history[-1].reasons] == ["snapshot_ignored_stale"]
    assert c.history[-1].reasons[0].node == 3


def test_compaction_the_reference_vote_rule_survives_the_explorer():
    says("05_log_compaction", "in the `rb.explore` cell, replace "
                              "`{\"request_vote\": vote_without_saving}` by `{}` (the reference "
                              "rules) and run it again: no violation, in every reachable state.")
    cell = _cell_starting("05_log_compaction", "r = rb.explore(")
    ns = run_until_cell("05_log_compaction", cell.strip())
    with contextlib.redirect_stdout(io.StringIO()):
        exec(cell, ns)  # noqa: S102
    assert ns["r"].violation is not None
    fixed = cell.replace('{"request_vote": vote_without_saving}', "{}")
    assert fixed != cell
    with contextlib.redirect_stdout(io.StringIO()):
        exec(fixed, ns)  # noqa: S102
    assert ns["r"].ok and ns["r"].exhausted


# -- 06 changing the cluster ----------------------------------------------------------------

CLUSTER_06 = "06_changing_the_cluster"


def widget_06(cell_source: str) -> ClusterWidget:
    """The widget of a cell of notebook 06, skipping the two searches of section 3 when the
    cell comes after it (sections 4-6 build their clusters from scenarios of their own)."""
    nb = nbformat.read(NOTEBOOKS / f"{CLUSTER_06}.ipynb", as_version=4)
    searching, cells = False, []
    for cell in nb.cells:
        if cell.cell_type == "markdown" and cell.source.startswith("## "):
            searching = cell.source.startswith("## 3.")
        if cell.cell_type == "code" and cell.source.strip() == cell_source:
            break
        if cell.cell_type == "code" and not searching:
            cells.append(cell)
    else:
        raise AssertionError(f"{CLUSTER_06} has no cell {cell_source!r}")
    sys.path.insert(0, str(NOTEBOOKS))
    try:
        ns: dict = {}
        for cell in cells:
            with contextlib.redirect_stdout(io.StringIO()):
                exec(compile(cell.source, f"{CLUSTER_06}.ipynb", "exec"), ns)  # noqa: S102
    finally:
        sys.path.remove(str(NOTEBOOKS))
    last = cell_source.splitlines()[-1]
    exec(cell_source.replace(last, "_shown = " + last), ns)  # noqa: S102
    assert isinstance(ns["_shown"], ClusterWidget)
    return ns["_shown"]


def explain_labels(w) -> list[str]:
    w.tabs.selected_index = 2
    return [label for label, _ in w.explain_list.options]


def test_06_a_removed_server_starts_no_election():
    says(CLUSTER_06, "pick S1 and click **Timeout**: S1 is outside its configuration, so it "
         "starts no election (the **Explain** tab says why)", "crash the new leader (pick it, "
         "click **Crash**) and click **Run N** until there is a new leader", "three of the four "
         "members still run, a majority, and S1 never becomes a candidate")
    w = widget_06("rb.show(c)")
    c = w.cluster
    new = c.leader
    assert new not in (None, 1) and 1 not in c.members and c.nodes[1].role is rb.Role.FOLLOWER
    term = c.nodes[1].current_term
    pick_server(w, 1)
    click(w, "Timeout")
    assert c.nodes[1].role is rb.Role.FOLLOWER and c.nodes[1].current_term == term
    assert "election_skipped_not_member" in [r.code for r in c.history[-1].reasons]
    assert any("S1 did not start an election: it is not in its configuration" in label
               for label in explain_labels(w))
    start = len(c.history)
    pick_server(w, new)
    click(w, "Crash")
    for _ in range(10):
        click(w, "Run N")
        if c.leader is not None:
            break
    assert c.leader not in (None, 1, new)
    assert len(c.members) == 4 and len(c.members - c.crashed) == 3
    assert not [r for ev in c.history[start:] for r in ev.reasons
                if r.node == 1 and r.code == "election_started"]
    assert any(r.node == 1 and r.code == "election_skipped_not_member"
               for ev in c.history[start:] for r in ev.reasons)


def test_06_joint_consensus_needs_both_majorities():
    says(CLUSTER_06, "crash S4 and S5 (pick each, click **Crash**), set N to 100 and click "
         "**Run N**", "The joint entry reaches S1, S2 and S3, a majority of the old configuration, "
         "yet no commit index moves past 1", "restart S5 and click **Run N** again: the joint entry "
         "commits, S1 appends C_new = {S1, S4, S5} at index 3, and that commits too")
    w = widget_06("rb.show(joint)")
    c = w.cluster
    for i in (4, 5):
        pick_server(w, i)
        click(w, "Crash")
    w.n_ticks.value = 100
    click(w, "Run N")
    joint_entry = ("config", (1, 4, 5), (1, 2, 3))
    assert all(c.nodes[i].log[2].command == joint_entry for i in (1, 2, 3))
    assert all(n.commit_index <= 1 for n in c.nodes.values())
    pick_server(w, 5)
    click(w, "Restart")
    click(w, "Run N")
    s1 = c.nodes[1]
    assert s1.log[3].command == ("config", (1, 4, 5)) and s1.commit_index >= 3
    assert s1.members == {1, 4, 5} and s1.members_old is None and c.leader == 1


def test_06_the_2015_counterexample_in_the_widget():
    says(CLUSTER_06, "open the **Tables** tab: S1 and S2 are both leaders (of terms 3 and 2), and "
         "S2's commit index is 2", "open the **Explain** tab and find the sentence in which S2 "
         "advanced its commit index: how many servers did it count, and how many did it need?")
    w = widget_of(CLUSTER_06, "rb.show(bug)")
    c = w.cluster
    assert c.violation is not None and c.violation.property == "leader_completeness"
    w.tabs.selected_index = 1
    tables = w.tables.value
    assert "leader" in tables
    assert [(c.nodes[i].role, c.nodes[i].current_term) for i in (1, 2)] == \
        [(rb.Role.LEADER, 3), (rb.Role.LEADER, 2)]
    assert c.nodes[2].commit_index == 2
    found = [label for label in explain_labels(w) if "S2 advanced its commit index from 1 to 2" in label]
    assert found and "a majority (2 servers, 2 needed)" in found[0]  # the answer to question 4


def test_06_prevote_keeps_a_cut_off_follower_quiet():
    says(CLUSTER_06, "cut off another follower in the widget below (PreVote is on): type `2` in "
         "the groups box, click **Partition**, set N to 300 and click **Run N**", "In the "
         "**Tables** tab S2's term has not moved", "click **Heal** and **Run N** again: S4 still "
         "leads, in term 1")
    w = widget_06("rb.show(quiet)")
    c = w.cluster
    assert c.config.pre_vote and c.leader == 4 and c.nodes[4].current_term == 1
    term = c.nodes[2].current_term
    w.groups_text.value = "2"
    click(w, "Partition")
    assert not c.can_reach(2, 4)
    w.n_ticks.value = 300
    click(w, "Run N")
    assert c.nodes[2].current_term == term
    assert any(r.node == 2 and r.code == "pre_vote_started" for r in c.reasons())
    w.tabs.selected_index = 1
    assert "current_term" in w.tables.value
    click(w, "Heal")
    click(w, "Run N")
    assert c.leader == 4 and all(n.current_term == 1 for n in c.nodes.values())


def test_06_checkquorum_a_cut_off_leader_steps_down_and_refuses():
    says(CLUSTER_06, "set N to 10 and click **Run N** until S5 is no longer a leader: a few "
         "clicks; the **Explain** tab says why it stepped down", "pick S5 as the client's target "
         "(the last dropdown of the client row) and click **Propose**: it is refused, because S5 "
         "knows it is not the leader")
    w = widget_06("rb.show(rb.scenarios.leader_cut_off(check_quorum=True))")
    c = w.cluster
    assert c.nodes[5].role is rb.Role.LEADER and c.groups is not None
    w.n_ticks.value = 10
    clicks = 0
    while c.nodes[5].role is rb.Role.LEADER:
        click(w, "Run N")
        clicks += 1
        assert clicks <= 6, "S5 still leads after six clicks"
    assert any("S5" in label and "stepped down" in label for label in explain_labels(w))
    w.target.value = 5
    w.buttons["Propose"].click()
    assert w.last_error is not None and "not the leader" in w.last_error
    assert not c.proposals


def test_06_a_partial_partition_with_prevote_and_checkquorum():
    says(CLUSTER_06, "cut one more link: type `1,5` in the groups box and click **Cut** (or click "
         "S1 in the picture and choose **Cut S5**). Set N to 300 and click **Run N**. Now S5 "
         "reaches only S2, not a majority; S1, S3 and S4 hear from no leader, grant each other's "
         "pre-votes, and S1 leads term 2. Click **Heal** and **Run N** again: S1 stays leader, "
         "S5 follows it, and no term goes past 2.")
    w = widget_06("rb.show(rb.scenarios.partial_partition(pre_vote=True, check_quorum=True))")
    c = w.cluster
    assert c.leader == 5 and c.cuts == {(3, 5), (4, 5)} and c.nodes[5].current_term == 1
    w.groups_text.value = "1,5"
    click(w, "Cut")
    assert c.cuts == {(1, 5), (3, 5), (4, 5)}
    reach = [i for i in c.nodes if i != 5 and c.can_reach(5, i)]
    assert reach == [2]
    w.n_ticks.value = 300
    click(w, "Run N")
    assert c.leader == 1 and c.nodes[1].current_term == 2
    granted = {r.node for r in c.reasons() if r.code == "pre_vote_granted" and r.fields["candidate"] == 1}
    assert {3, 4} <= granted
    click(w, "Heal")
    assert not c.cuts
    click(w, "Run N")
    assert c.leader == 1 and c.nodes[5].role is rb.Role.FOLLOWER
    assert max(n.current_term for n in c.nodes.values()) == 2
    # the other way the prompt offers: the server's menu in the picture sends the same call
    w2 = widget_06("rb.show(rb.scenarios.partial_partition(pre_vote=True, check_quorum=True))")
    w2.picture._on_front(w2.picture, {"kind": "link", "a": 1, "b": 5, "cut": True}, [])
    assert w2.cluster.cuts == {(1, 5), (3, 5), (4, 5)}


def test_06_leader_transfer_in_the_widget():
    says(CLUSTER_06, "Click **Propose**: S2 refuses (the status line says why). Click **Run N** "
         "(N = 10): S1 is caught up and takes over. Click **Propose** again: now it goes to S1, "
         "the new leader.")
    w = widget_06("handover = rb.scenarios.lagging_transfer_target()\n"
                  "handover.transfer_leadership(1)\nrb.show(handover)")
    c = w.cluster
    assert c.leader == 2 and c.nodes[2].transfer_to == 1
    w.buttons["Propose"].click()
    assert w.last_error is not None and "handing leadership to S1" in w.last_error
    assert "handing leadership" in w.status.value
    assert w.n_ticks.value == 10
    click(w, "Run N")
    assert c.leader == 1
    click(w, "Propose")
    p = c.proposals[-1]
    assert p.node == 1
