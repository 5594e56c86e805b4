"""The cluster widget, headless: each button is exactly the cluster call it names.

Every action is checked against a twin cluster built the same way, on which the
test makes the named call directly: same history (kinds and arguments) and the
same fingerprint. Refused actions must show a clear message and change
nothing. Play is driven by a fake event loop, so nothing here depends on time.
"""
from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET

import pytest

import raftbook as rb
from raftbook.widgets import ClusterWidget, parse_groups, parse_value


def scene(n=5, seed=2) -> rb.Cluster:
    """A cluster with a leader, a committed command and heartbeats in flight."""
    c = rb.Cluster(n, seed=seed)
    assert c.run_until(lambda c: c.leader is not None, 1000)
    c.propose(("set", "a", 1))
    c.run(12)
    for _ in range(c.config.heartbeat_interval):
        c.tick()
    assert c.in_flight
    return c


def calls(c):
    return [(e.kind, e.args) for e in c.history]


def same(c, twin):
    assert calls(c) == calls(twin)
    assert c.fingerprint() == twin.fingerprint()


def servers(w) -> dict:
    root = ET.fromstring(w.picture.value)
    return {int(e.get("data-node")): e for e in root.iter() if e.get("data-node")}


def shown_messages(w) -> set:
    root = ET.fromstring(w.picture.value)
    return {int(e.get("data-msg")) for e in root.iter() if e.get("data-msg")}


@pytest.fixture
def pair():
    c, twin = scene(), scene()
    same(c, twin)
    return ClusterWidget(c), c, twin


def follower_of(c):
    return next(i for i, n in c.nodes.items() if i != c.leader and i not in c.crashed)


# -- each button does the call it names -------------------------------------------------

def test_tick_and_tick_n(pair):
    w, c, twin = pair
    w.buttons["Tick"].click()
    twin.tick()
    same(c, twin)
    w.n_ticks.value = 7
    w.buttons["Tick N"].click()
    for _ in range(7):
        twin.tick()
    same(c, twin)
    assert "c.tick()" in w.status.value and w.last_error is None
    assert servers(w)[1].get("data-term") == str(c.nodes[1].current_term)


def test_run_n_lets_the_network_deliver_and_tick_n_does_not(pair):
    w, c, twin = pair
    w.n_ticks.value = 30
    w.latency.value = (2, 4)
    w.drop_rate.value = 0.1
    waiting = {e.id for e in c.in_flight}
    assert waiting
    w.buttons["Run N"].click()
    twin.run(30, latency=(2, 4), drop_rate=0.1, duplicate_rate=0.0)
    same(c, twin)
    assert "c.run(30, latency=(2, 4), drop_rate=0.1" in w.status.value and w.last_error is None
    assert not waiting & {e.id for e in c.in_flight}  # every message then in flight has arrived
    waiting = {e.id for e in c.in_flight}
    assert waiting
    w.buttons["Tick N"].click()
    assert waiting <= {e.id for e in c.in_flight}  # ticking delivered nothing
    assert "no message" in w.buttons["Tick N"].tooltip and "deliver" in w.buttons["Run N"].tooltip


def test_timeout_crash_restart_act_on_the_selected_server(pair):
    w, c, twin = pair
    i = follower_of(c)
    w.server_select.value = i
    w.buttons["Timeout"].click()
    twin.timeout(i)
    same(c, twin)
    assert servers(w)[i].get("data-role") == "candidate"
    w.buttons["Crash"].click()
    twin.crash(i)
    same(c, twin)
    assert servers(w)[i].get("data-crashed") == "true"
    w.buttons["Restart"].click()
    twin.restart(i)
    same(c, twin)
    assert servers(w)[i].get("data-crashed") == "false"


@pytest.mark.parametrize("button", ["Deliver", "Drop", "Duplicate"])
def test_message_buttons_act_on_the_selected_message(pair, button):
    w, c, twin = pair
    mid = c.in_flight[1].id
    w.message_select.value = mid
    assert w.selected_msg == mid
    w.buttons[button].click()
    getattr(twin, button.lower())(mid)
    same(c, twin)
    assert shown_messages(w) == {e.id for e in c.in_flight}
    if button == "Duplicate":
        assert w.selected_msg == mid  # the original stays selected
    else:
        assert w.selected_msg is None and w.message_select.value == 0


def test_message_list_offers_every_message_in_flight(pair):
    w, c, _ = pair
    offered = [v for _, v in w.message_select.options if v]
    assert offered == [e.id for e in c.in_flight]
    c.partition({c.leader})
    w.refresh()
    labels = [label for label, v in w.message_select.options if v]
    assert any("will be lost" in label for label in labels)


def test_deliver_all_delivers_what_is_in_flight_oldest_first(pair):
    w, c, twin = pair
    ids = [e.id for e in twin.in_flight]
    w.buttons["Deliver all"].click()
    for i in ids:
        twin.deliver(i)
    same(c, twin)
    assert [a["msg_id"] for k, a in calls(c)[-len(ids):]] == ids


def test_deliver_all_stops_where_safety_breaks():
    c = rb.Cluster(3, seed=0, handlers={"request_vote": _grant_every_vote})
    w = ClusterWidget(c)
    c.timeout(1)
    c.timeout(2)
    for _ in range(10):
        offered = [e.id for e in c.in_flight]
        w.buttons["Deliver all"].click()
        if c.violation is not None:
            break
    assert c.violation is not None and c.violation.property == "election_safety"
    assert c.violation.event == len(c.history) - 1  # the last delivery broke it ...
    assert offered[-1] in {e.id for e in c.in_flight}  # ... and the rest were left alone
    assert "SAFETY VIOLATED (election_safety)" in w.status.value
    banner = next(e for e in ET.fromstring(w.picture.value).iter() if e.get("data-safety"))
    assert banner.get("data-property") == "election_safety"


def test_partition_and_heal(pair):
    w, c, twin = pair
    w.groups_text.value = "1, 2 | 3 4 5"
    w.buttons["Partition"].click()
    twin.partition({1, 2}, {3, 4, 5})
    same(c, twin)
    root = ET.fromstring(w.picture.value)
    assert len([e for e in root.iter() if e.get("data-partition-group")]) == 2
    assert servers(w)[1].get("data-group") == "1" and servers(w)[4].get("data-group") == "2"
    w.buttons["Heal"].click()
    twin.heal()
    same(c, twin)
    assert all(e.get("data-group") is None for e in servers(w).values())


@pytest.mark.parametrize("op,key,value,command", [
    ("set", "x", "5", ("set", "x", 5)),
    ("set", "name", '"ada"', ("set", "name", "ada")),
    ("set", "word", "hello", ("set", "word", "hello")),
    ("get", "a", "", ("get", "a")),
    ("delete", "a", "ignored", ("delete", "a")),
])
def test_propose_sends_the_form_command_to_the_leader(pair, op, key, value, command):
    w, c, twin = pair
    w.op.value, w.key.value, w.value.value = op, key, value
    w.buttons["Propose"].click()
    p = twin.propose(command)
    same(c, twin)
    assert c.proposals[-1].command == command
    assert f"index {p.index}" in w.status.value


def test_propose_to_a_named_server(pair):
    w, c, twin = pair
    w.target.value = c.leader
    w.buttons["Propose"].click()
    twin.propose(("set", "x", 1), node=twin.leader)
    same(c, twin)


def test_undo_button_is_c_undo(pair):
    w, c, twin = pair
    w.buttons["Tick"].click()
    twin.tick()
    w.buttons["Undo"].click()
    twin.undo()
    same(c, twin)


def test_reset_builds_a_new_cluster_of_the_chosen_size_and_seed(pair):
    w, old, _ = pair
    old_events = len(old.history)
    w.size.value, w.seed.value = 3, 9
    w.buttons["Reset"].click()
    assert w.cluster is not old and w.cluster.n == 3 and w.cluster.seed == 9
    assert w.cluster.history == [] and w.cluster.fingerprint() == rb.Cluster(3, seed=9).fingerprint()
    assert sorted(servers(w)) == [1, 2, 3]
    assert [v for _, v in w.server_select.options] == [1, 2, 3]
    assert [o[0] for o in w.size.options] == [f"{k} servers" for k in range(3, 8)]
    w.buttons["Tick"].click()
    assert calls(w.cluster) == [("tick", {})] and len(old.history) == old_events


def test_reset_keeps_a_scenario_start_and_the_handlers():
    start = {1: {"current_term": 2, "log": [1, 2]}, 2: {"current_term": 2, "log": [1]}}
    c = rb.Cluster.from_state(start, n=3, seed=1,
                              handlers={"request_vote": rb.reference_handlers["request_vote"]})
    c.tick()
    w = ClusterWidget(c)
    w.seed.value = 4
    w.buttons["Reset"].click()
    new = w.cluster
    assert new.seed == 4 and new.history == [] and new.handlers == c.handlers
    assert new.nodes[1].log.terms() == [1, 2] and new.nodes[3].log.terms() == []


# -- refused actions: a clear message, nothing changed ---------------------------------

def refused(w, button, *words):
    c = w.cluster
    before, n = c.fingerprint(), len(c.history)
    w.buttons[button].click()
    assert w.last_error is not None, f"{button} should have been refused"
    for word in words:
        assert word in w.last_error
    assert "⚠" in w.status.value and words[0] in w.status.value
    assert w.cluster.fingerprint() == before and len(w.cluster.history) == n
    return w.last_error


@pytest.mark.parametrize("button", ["Deliver", "Drop", "Duplicate"])
def test_no_message_selected(pair, button):
    w, _, _ = pair
    assert w.selected_msg is None
    refused(w, button, "no message selected", "in flight")


def test_bad_server_actions_are_refused(pair):
    w, c, _ = pair
    w.server_select.value = c.leader
    refused(w, "Timeout", "leader")
    refused(w, "Restart", "running")
    w.buttons["Crash"].click()
    assert w.last_error is None
    refused(w, "Crash", "already crashed")
    refused(w, "Timeout", "crashed")


def test_bad_partitions_and_heal_are_refused(pair):
    w, _, _ = pair
    w.groups_text.value = ""
    refused(w, "Partition", "type the groups")
    w.groups_text.value = "1, two | 3"
    refused(w, "Partition", "cannot read")
    w.groups_text.value = "1,2 | 2,3"
    refused(w, "Partition", "two groups")
    w.groups_text.value = "1,9"
    refused(w, "Partition", "no server 9")
    refused(w, "Heal", "not partitioned")


def test_bad_proposals_are_refused():
    w = ClusterWidget(rb.Cluster(3, seed=0))
    refused(w, "Propose", "no leader")
    w.cluster.timeout(1)
    w.target.value = 2
    refused(w, "Propose", "not the leader")
    w.target.value = 0  # the leader
    w.key.value = "  "
    refused(w, "Propose", "key")
    w.key.value, w.value.value = "x", ""
    refused(w, "Propose", "value")


def test_nothing_to_undo_and_no_later_state():
    w = ClusterWidget(rb.Cluster(3, seed=0))
    refused(w, "Undo", "nothing to undo")
    refused(w, "Latest", "already at the latest")
    refused(w, "Deliver all", "no messages are in flight")


def test_the_picture_and_details_follow_the_selection(pair):
    w, c, _ = pair
    env = c.in_flight[0]
    w.server_select.value = 3
    w.message_select.value = env.id
    assert servers(w)[3].get("data-selected") == "true"
    root = ET.fromstring(w.picture.value)
    assert [e.get("data-msg") for e in root.iter() if e.get("data-msg") and e.get("data-selected")] == \
        [str(env.id)]
    details = w.details.value
    node = c.nodes[3]
    for field in ("current_term", "voted_for", "log", "commit_index", "last_applied", "next_index",
                  "match_index", "election_timeout"):
        assert field in details
    assert "Server S3" in details and f"Message #{env.id}" in details
    for field in ("prev_log_index", "prev_log_term", "entries", "leader_commit", "sent_at"):
        assert field in details
    assert str(node.commit_index) in details


# -- history: undo, looking back and branching -------------------------------------------

def drive(w, steps):
    """Click a fixed mix of buttons, returning the fingerprint after each event."""
    c = w.cluster
    prints = [c.fingerprint()]
    for k in range(steps):
        if k % 3 == 2 and c.in_flight:
            w.message_select.value = c.in_flight[0].id
            w.buttons["Deliver"].click()
        else:
            w.buttons["Tick"].click()
        assert w.last_error is None
        prints.append(c.fingerprint())
    assert len(c.history) == steps
    return prints


def test_history_slider_shows_any_earlier_state_and_latest_comes_back():
    c = rb.Cluster(3, seed=1)
    w = ClusterWidget(c)
    prints = drive(w, 40)
    for m in (0, 7, 23, 39, 12):
        w.history_slider.value = m
        assert c.fingerprint() == prints[m] and len(c.history) == m
        assert w.viewing_past and w.history_slider.max == 40
        assert servers(w)[1].get("data-term") == str(c.nodes[1].current_term)
    w.buttons["Latest"].click()
    assert c.fingerprint() == prints[40] and len(c.history) == 40 and not w.viewing_past
    w.history_slider.value = 5
    w.history_slider.value = 40  # sliding to the end is the same as Latest
    assert c.fingerprint() == prints[40] and not w.viewing_past


def test_acting_in_the_past_branches_from_there():
    c = rb.Cluster(3, seed=1)
    w = ClusterWidget(c)
    drive(w, 30)
    w.history_slider.value = 10
    w.buttons["Tick"].click()
    assert len(c.history) == 11 and not w.viewing_past
    assert "branched" in w.status.value and "20 later events" in w.status.value
    twin = rb.Cluster(3, seed=1)
    for kind, args in calls(c)[:10]:
        twin._apply(kind, args)
    twin.tick()
    same(c, twin)
    assert w.history_slider.max == 11 and w.history_slider.value == 11


def test_undo_in_the_past_steps_back_and_keeps_the_latest():
    c = rb.Cluster(3, seed=1)
    w = ClusterWidget(c)
    prints = drive(w, 20)
    w.history_slider.value = 10
    w.buttons["Undo"].click()
    assert c.fingerprint() == prints[9] and w.viewing_past
    w.buttons["Latest"].click()
    assert c.fingerprint() == prints[20]


def test_events_made_outside_the_widget_while_in_the_past_end_the_kept_future():
    c = rb.Cluster(3, seed=1)
    w = ClusterWidget(c)
    drive(w, 12)
    w.history_slider.value = 4
    c.timeout(2)  # typed in another cell: a different fifth event
    w.refresh()
    assert not w.viewing_past and w.history_slider.max == 5 and w.buttons["Latest"].disabled
    assert calls(c)[-1] == ("timeout", {"node": 2})


def test_a_refused_action_in_the_past_does_not_discard_the_later_events():
    c = scene()
    w = ClusterWidget(c)
    total = len(c.history)
    w.history_slider.value = total - 3
    w.buttons["Deliver"].click()  # no message selected
    assert w.last_error and w.viewing_past
    w.buttons["Latest"].click()
    assert len(c.history) == total


# -- play and pause ------------------------------------------------------------------------

class FakeHandle:
    def __init__(self, loop, delay, fn):
        self.loop, self.delay, self.fn, self.cancelled = loop, delay, fn, False

    def cancel(self):
        self.cancelled = True


class FakeLoop:
    """An event loop that runs callbacks only when the test says so."""

    def __init__(self):
        self.handles = []

    def call_soon(self, fn):
        return self.call_later(0, fn)

    def call_later(self, delay, fn):
        h = FakeHandle(self, delay, fn)
        self.handles.append(h)
        return h

    def pending(self):
        return [h for h in self.handles if not h.cancelled and not getattr(h, "ran", False)]

    def run_one(self):
        (h,) = self.pending()
        h.ran = True
        h.fn()


def test_play_runs_one_frame_per_callback_and_pause_leaves_nothing_scheduled():
    c = scene()
    w = ClusterWidget(c, speed=50)
    loop = FakeLoop()
    w._get_loop = lambda: loop
    twin = scene()
    n = len(c.history)
    w.buttons["Play"].click()
    assert w.playing and w.buttons["Play"].description == "Pause"
    assert len(loop.pending()) == 1 and len(c.history) == n  # nothing ran yet
    per, interval = w.frame()
    assert (per, interval) == (5, 0.1)
    for _ in range(3):
        loop.run_one()
        twin.run(per, latency=(1, 3), drop_rate=0.0, duplicate_rate=0.0)
        same(c, twin)
        assert loop.pending()[0].delay == interval
    w.buttons["Play"].click()  # Pause
    assert not w.playing and w.buttons["Play"].description == "Play"
    assert loop.pending() == []
    assert len(c.history) == n + 3


def test_play_uses_the_network_settings_and_stops_on_a_safety_violation():
    c = rb.Cluster(3, seed=0, handlers={"request_vote": _grant_every_vote})
    w = ClusterWidget(c, speed=200, latency=(2, 4), drop_rate=0.1)
    loop = FakeLoop()
    w._get_loop = lambda: loop
    w.play()
    for _ in range(200):
        if not loop.pending():
            break
        loop.run_one()
    assert c.history[0].args == {"ticks": 20, "latency": [2, 4], "drop_rate": 0.1,
                                 "duplicate_rate": 0.0}
    assert c.violation is not None and not w.playing and loop.pending() == []
    assert "paused" in w.last_error and "election safety" in w.last_error
    w.play()  # refused while the violation stands
    assert not w.playing and "already violated" in w.last_error


def _grant_every_vote(node, msg):
    if msg.term > node.current_term:
        node.become_follower(msg.term)
    node.voted_for = msg.src
    return [rb.RequestVoteReply(node.id, msg.src, node.current_term, True)]


def test_moving_in_history_or_resetting_pauses():
    c = scene()
    w = ClusterWidget(c)
    loop = FakeLoop()
    w._get_loop = lambda: loop
    w.play()
    loop.run_one()
    w.history_slider.value = 2
    assert not w.playing and loop.pending() == []
    w.play()
    w.buttons["Reset"].click()
    assert not w.playing and loop.pending() == []


def test_play_on_a_real_event_loop_and_nothing_runs_while_paused():
    async def main():
        c = rb.Cluster(3, seed=3)
        w = ClusterWidget(c, speed=200)
        w.buttons["Play"].click()
        for _ in range(200):  # wait for frames without assuming how fast they come
            await asyncio.sleep(0.01)
            if len(c.history) >= 2:
                break
        assert len(c.history) >= 2 and all(e.kind == "run" for e in c.history)
        w.buttons["Play"].click()
        n = len(c.history)
        for _ in range(3):
            await asyncio.sleep(w.frame()[1])
        assert len(c.history) == n and not w.playing and w._timer is None
        return w
    asyncio.run(main())


def test_play_without_an_event_loop_explains_itself():
    w = ClusterWidget(rb.Cluster(3))
    w.buttons["Play"].click()
    assert not w.playing and "event loop" in w.last_error


# -- the other tabs ------------------------------------------------------------------------

def test_tables_tab(pair):
    w, c, _ = pair
    w.tabs.selected_index = 1
    html = w.tables.value
    for title in ("Logs side by side", "Servers", "Messages in flight", "Client proposals",
                  "Event history"):
        assert title in html
    w.buttons["Tick"].click()
    assert f"tick to t={c.now}" in w.tables.value


def test_explain_tab_filters_and_jumps_to_the_moment():
    c = scene()
    w = ClusterWidget(c)
    total = len(c.history)
    w.tabs.selected_index = 2
    assert len(w.explain_list.options) == min(len(c.explain()), 400)
    w.explain_node.value = 2
    labels = [label for label, _ in w.explain_list.options]
    assert labels and all(label.split("  ", 1)[1].startswith("S2 ") for label in labels)
    w.explain_kind.value = "vote"
    vote = [label for label, _ in w.explain_list.options]
    assert vote and len(vote) < len(labels) and all("vote" in label for label in vote)
    w.explain_list.value = 0
    seq = w._explain_seqs[0]
    assert len(c.history) == seq + 1 and w.viewing_past
    assert "data-node" in w.explain_picture.value
    assert len(w.explain_list.options) == len(vote)  # the list still covers the whole run
    w.buttons["Latest"].click()
    assert len(c.history) == total


def test_spacetime_tab(pair):
    w, c, _ = pair
    w.tabs.selected_index = 3
    root = ET.fromstring(w.spacetime.value)
    assert root.tag.endswith("svg")
    assert any(e.get("data-kind") for e in root.iter())


# -- helpers, construction, show ---------------------------------------------------------

def test_parse_groups_and_values():
    assert parse_groups("1,2 | 3,4,5") == [{1, 2}, {3, 4, 5}]
    assert parse_groups("S1 S2|S3") == [{1, 2}, {3}]
    assert parse_groups("{1, 2}") == [{1, 2}]
    with pytest.raises(rb.InvalidArgument):
        parse_groups("1 | ")
    assert parse_value("3") == 3 and parse_value("2.5") == 2.5 and parse_value("true") is True
    assert parse_value("null") is None and parse_value('"7"') == "7" and parse_value("abc") == "abc"
    assert parse_value("[1, 2]") == "[1, 2]"


def test_show_and_bad_arguments():
    w = rb.show()
    assert isinstance(w, rb.ClusterWidget) and w.cluster.n == 5
    c = rb.Cluster(4, seed=1)
    assert rb.show(c, max_log=5).cluster is c
    with pytest.raises(rb.InvalidArgument, match="Cluster"):
        rb.ClusterWidget("cluster")
    with pytest.raises(rb.InvalidArgument, match="speed"):
        rb.ClusterWidget(c, speed=3)
    with pytest.raises(rb.InvalidArgument, match="latency"):
        rb.ClusterWidget(c, latency=(0, 2))
    with pytest.raises(rb.InvalidArgument, match="max_log"):
        rb.ClusterWidget(c, max_log=0)
    labels = {b.description for b in w.buttons.values()}
    assert {"Tick", "Tick N", "Run N", "Timeout", "Deliver", "Drop", "Duplicate", "Deliver all", "Crash",
            "Restart", "Partition", "Heal", "Propose", "Undo", "Play", "Reset"} <= labels
    w.close()


def test_the_widget_follows_calls_made_outside_it(pair):
    w, c, _ = pair
    c.crash(1)
    w.refresh()
    assert servers(w)[1].get("data-crashed") == "true"
    assert w.history_slider.max == len(c.history) == w.history_slider.value


# -- the browser picture: compact state, diffs, and what its clicks and keys do ----------
def test_picture_state_diff_round_trip_is_small_and_exact():
    from raftbook.ui.state import apply_diff, picture_state, state_diff
    c = scene()
    old = picture_state(c)
    assert set(old["msgs"]) == {str(e.id) for e in c.in_flight}
    for step in (c.tick, lambda: c.deliver(c.in_flight[0].id), lambda: c.propose(("set", "b", 2)),
                 lambda: c.crash(follower_of(c)), lambda: c.partition({1, 2})):
        step()
        new = picture_state(c)
        diff = state_diff(old, new)
        assert apply_diff(old, diff) == new
        old = new
    c.tick()
    new = picture_state(c)
    import json
    assert len(json.dumps(state_diff(old, new))) < len(json.dumps(new)) / 4
    assert state_diff(new, new) == {}


def test_picture_clicks_are_the_buttons_calls(pair):
    w, c, twin = pair
    f = follower_of(c)
    w.front_act("Timeout", node=f)
    twin.timeout(f)
    same(c, twin)
    m = c.in_flight[0].id
    w.front_act("Deliver", msg=m)
    twin.deliver(m)
    w.front_act("Duplicate", msg=c.in_flight[0].id)
    twin.duplicate(twin.in_flight[0].id)
    w.front_act("Drop", msg=c.in_flight[-1].id)
    twin.drop(twin.in_flight[-1].id)
    same(c, twin)
    w.front_partition([[1, 2], [3, 4, 5]])
    twin.partition({1, 2}, {3, 4, 5})
    same(c, twin)
    w.front_act("Tick")
    twin.tick()
    same(c, twin)
    n = len(c.history)
    assert w.front_history(-1) and len(c.history) == n - 1 and w.viewing_past
    assert w.front_history(1) and len(c.history) == n and not w.viewing_past


def test_picture_refuses_bad_requests_clearly(pair):
    w, c, twin = pair
    before = calls(c)
    w.front_act("Launch")
    assert "unknown action" in w.last_error
    w.front_act("Timeout", node=99)
    assert "99" in w.last_error
    w.front_act("Deliver", msg=10_000)
    assert w.last_error
    w.front_partition("1,2")
    assert "groups" in w.last_error
    w.front_history(5)
    assert "-1 or +1" in w.last_error
    assert calls(c) == before


def test_picture_sends_a_diff_per_event_and_nothing_when_nothing_changed(pair):
    w, c, twin = pair
    pic = w.picture
    sent = []
    pic.send = lambda content, buffers=None: sent.append(content)
    w.buttons["Tick"].click()
    assert [m["kind"] for m in sent] == ["patch"] and sent[0]["diff"]["set"]["now"] == c.now
    sent.clear()
    w.refresh()
    assert sent == []
    pic._on_front(pic, {"kind": "hello"}, [])
    assert sent[-1]["kind"] == "full" and sent[-1]["state"]["now"] == c.now


def test_widget_output_carries_the_static_picture_for_nbconvert(pair):
    w, c, twin = pair
    data = w._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in data
    assert 'data-raftbook="cluster"' in data["text/html"] and "<svg" in data["text/html"]


def test_the_es_module_ships_inside_the_package():
    from raftbook.ui.widget.picture import STATIC, ClusterPicture
    js = (STATIC / "cluster.js").read_text()
    assert "export default" in js and "requestAnimationFrame" in js
    assert (STATIC / "cluster.css").is_file()
    assert ClusterPicture._esm  # anywidget read the file


# -- issue 17: one message per event, Reset, the Explain order, nothing cut off ---------
def _count_comm_messages(monkeypatch):
    import ipywidgets as W
    sent = []
    orig = W.Widget._send

    def spy(self, msg, buffers=None):
        sent.append((type(self).__name__, msg.get("method"), sorted(msg.get("state", {}))))
        return orig(self, msg, buffers)
    monkeypatch.setattr(W.Widget, "_send", spy)
    return sent


def test_each_event_is_one_comm_message_carrying_status_history_and_details(pair, monkeypatch):
    w, c, twin = pair
    sent = _count_comm_messages(monkeypatch)
    pic = w.picture
    got = []
    real = pic.send
    pic.send = lambda content, buffers=None: (got.append(content), real(content, buffers))
    for label in ("Tick", "Tick", "Timeout", "Deliver all", "Undo"):
        sent.clear()
        got.clear()
        w.buttons[label].click()
        assert [s[0] for s in sent] == ["ClusterPicture"], (label, sent)
        assert len(got) == 1 and got[0]["kind"] == "patch"
    ui = got[0]["ui"]
    assert "c.undo()" in ui["status"] and "error" not in ui  # unchanged values are not sent
    assert ui["hist"] == [len(c.history), len(c.history)]
    # The Python names still answer as before.
    assert "c.undo()" in w.status.value and w.history_slider.value == len(c.history)
    assert [v for _, v in w.message_select.options][1:] == [e.id for e in c.in_flight]
    # A refusal is one message too, with the reason, and changes nothing.
    sent.clear()
    got.clear()
    w.selected_msg = None
    w.buttons["Deliver"].click()
    assert [s[0] for s in sent] == ["ClusterPicture"] and got[-1]["ui"]["error"] is True
    assert "no message selected" in got[-1]["ui"]["status"]
    # Nothing changed: nothing is sent; the unchanged status is not sent again.
    sent.clear()
    w.refresh()
    assert sent == []


def test_details_travel_as_changed_rows_only(pair):
    w, c, twin = pair
    pic = w.picture
    got = []
    pic.send = lambda content, buffers=None: got.append(content)
    w.select(node=c.leader)
    ui = got[-1]["ui"]
    assert ui["dn"] == f"Server S{c.leader}: Figure 2 state" and ui["dn/role"] == "leader"
    f = follower_of(c)
    w.select(node=f)
    assert got[-1]["ui"]["dn/role"] == "follower"
    got.clear()
    w.buttons["Tick"].click()
    rows = {k for k in got[-1].get("ui", {}) if k.startswith("dn/")}
    assert rows and "dn/role" not in rows and "dn/current_term" not in rows  # only what changed


def test_play_sends_one_message_per_frame(monkeypatch):
    import raftbook.ui.widget.play as play
    c = rb.Cluster(5, seed=3)
    w = ClusterWidget(c)
    sent = _count_comm_messages(monkeypatch)

    class Loop:
        def __init__(self):
            self.pending = []

        def call_soon(self, fn):
            return self.call_later(0, fn)

        def call_later(self, _delay, fn):
            h = asyncio.TimerHandle(0, fn, (), asyncio.new_event_loop())
            self.pending.append(h)
            return h

    loop = Loop()
    w._get_loop = lambda: loop
    w.play()
    for _ in range(20):
        h = loop.pending.pop(0)
        sent.clear()
        h._run()
        assert [s[0] for s in sent] == ["ClusterPicture"], sent
    w.pause()
    assert play.MAX_FPS == 10


def test_reset_with_the_same_seed_keeps_the_students_cluster(pair):
    w, c, twin = pair
    assert w.seed.value == c.seed and w.size.value == c.n
    w.buttons["Tick"].click()
    w.buttons["Reset"].click()
    assert w.cluster is c and c.history == []
    assert c.fingerprint() == rb.Cluster(c.n, seed=c.seed).fingerprint()
    assert "same cluster" in w.status.value and "still drives it" in w.status.value
    w.buttons["Tick"].click()
    assert calls(c) == [("tick", {})]


def test_reset_that_needs_a_new_cluster_says_so(pair):
    w, c, twin = pair
    w.seed.value = c.seed + 1
    w.buttons["Reset"].click()
    assert w.cluster is not c
    assert "NEW cluster" in w.status.value and "c = widget.cluster" in w.status.value
    assert "still holds the old one" in w.status.value


def test_explain_list_newest_first(pair):
    w, c, twin = pair
    w.tabs.selected_index = 2
    oldest_first = [label for label, _ in w.explain_list.options]
    w.explain_newest.value = True
    newest_first = [label for label, _ in w.explain_list.options]
    assert newest_first == oldest_first[::-1] and len(newest_first) > 3
    # Picking the top line goes to the latest reason's event.
    last_seq = int(newest_first[0].split()[0][1:])
    w.explain_list.value = 0
    assert len(c.history) == last_seq + 1 or not w.viewing_past


def test_spacetime_tab_shows_every_event_sentence_whole(pair):
    w, c, twin = pair
    w.tabs.selected_index = 3
    html = w.spacetime_list.value
    shown = c.history[-w.spacetime_events.value:]
    assert shown and "…" not in html
    for ev in shown:
        from html import escape
        assert escape(f"{ev.kind}: {ev.summary}") in html
    assert w.spacetime_events.style.description_width == "initial"


def test_compact_button_and_picture_menu_are_c_compact(pair):
    w, c, twin = pair
    ld = c.leader
    assert c.nodes[ld].last_applied > 0
    w.server_select.value = ld
    w.buttons["Compact"].click()
    twin.compact(ld)
    same(c, twin)
    assert c.history[-1].kind == "compact" and c.nodes[ld].snapshot_index > 0
    root = ET.fromstring(w.picture.value)
    snap = c.nodes[ld].snapshot_index
    blocks = [e for e in root.iter() if e.get("data-snapshot-node") == str(ld)]
    assert [b.get("data-snapshot-index") for b in blocks] == [str(snap)]
    shown = {int(e.get("data-index")) for e in root.iter() if e.get("data-log-node") == str(ld)}
    assert shown == {e.index for e in c.nodes[ld].log}
    assert w.picture._rb_state["more"][str(ld)]["snap"] == [snap, c.nodes[ld].snapshot_term]
    # the same from the server's menu in the picture; nothing applied since: refused, unchanged
    f = follower_of(c)
    w.front_act("Compact", node=f)
    twin.compact(f)
    same(c, twin)
    events = len(c.history)
    w.front_act("Compact", node=f)
    assert len(c.history) == events and w.last_error is not None and "applied nothing" in str(w.last_error)
    same(c, twin)
    assert "Compact" in w.buttons and w.buttons["Compact"].tooltip.startswith("c.compact(")
