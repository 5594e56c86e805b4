"""The picture of one cluster state: its networkx model, its SVG and the tables.

Every check parses the SVG with xml.etree and reads the data-* attributes that
API.md promises (servers: data-node, data-role, data-term; messages: data-msg,
data-type) and the others the picture adds, then compares them with the
cluster itself.
"""
from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import raftbook as rb
from raftbook.tables import logs_table, messages_table, nodes_table, proposals_table
from raftbook.view import cluster_graph, layout, message_label, render_html, render_svg


def parse(svg: str) -> ET.Element:
    return ET.fromstring(svg)


def servers(root) -> dict:
    return {int(e.get("data-node")): e for e in root.iter() if e.get("data-node") is not None}


def messages(root) -> dict:
    return {int(e.get("data-msg")): e for e in root.iter() if e.get("data-msg") is not None}


def cells(root, node) -> dict:
    return {int(e.get("data-index")): e for e in root.iter() if e.get("data-log-node") == str(node)}


def elected(n=5, seed=1) -> rb.Cluster:
    c = rb.Cluster(n, seed=seed)
    assert c.run_until(lambda c: c.leader is not None, 1000)
    return c


def test_every_server_shows_its_role_term_and_vote():
    c = elected()
    c.timeout(next(i for i in c.nodes if i != c.leader))  # a candidate too
    root = parse(render_svg(c))
    nodes = servers(root)
    assert sorted(nodes) == [1, 2, 3, 4, 5]
    roles = {i: e.get("data-role") for i, e in nodes.items()}
    assert roles == {i: n.role.value for i, n in c.nodes.items()}
    assert "candidate" in roles.values() and "leader" in roles.values()
    for i, e in nodes.items():
        n = c.nodes[i]
        assert e.get("data-term") == str(n.current_term)
        assert e.get("data-voted-for") == ("" if n.voted_for is None else str(n.voted_for))
        assert e.get("data-crashed") == "false"
        left = n.ticks_until_timeout
        assert e.get("data-ticks-left") == ("" if left is None else str(left))
        assert f"S{i}" in "".join(e.itertext())
    assert root.get("data-leader") == str(c.leader)
    assert root.get("data-time") == str(c.now)


def test_crashed_server_is_greyed_and_keeps_its_frozen_state():
    c = elected()
    victim = c.leader
    term = c.nodes[victim].current_term
    c.crash(victim)
    e = servers(parse(render_svg(c)))[victim]
    assert e.get("data-crashed") == "true"
    assert e.get("data-role") == "leader" and e.get("data-term") == str(term)
    assert e.get("opacity") is not None
    assert "crashed" in "".join(e.itertext())


def test_messages_in_flight_carry_id_type_label_and_ends():
    c = rb.Cluster(3, seed=2)
    c.timeout(1)
    c.deliver(c.in_flight[0].id)  # a RequestVote arrives and is answered
    root = parse(render_svg(c))
    shown = messages(root)
    assert sorted(shown) == sorted(e.id for e in c.in_flight)
    for env in c.in_flight:
        e = shown[env.id]
        assert e.get("data-type") == type(env.msg).__name__
        assert e.get("data-src") == str(env.msg.src) and e.get("data-dst") == str(env.msg.dst)
        assert e.get("data-term") == str(env.msg.term)
        assert e.get("data-lost") == "false"
    types = {e.get("data-type") for e in shown.values()}
    assert types == {"RequestVote", "RequestVoteReply"}
    reply = next(e for e in shown.values() if e.get("data-type") == "RequestVoteReply")
    assert reply.get("data-label") == "vote yes"


def test_every_message_is_drawn_when_many_share_one_lane():
    c = elected(3, seed=4)
    for k in range(6):
        c.propose(("set", "x", k))
    lane = [e.id for e in c.in_flight if (e.msg.src, e.msg.dst) == (c.leader, c.nodes[c.leader].peers[0])]
    assert len(lane) >= 6
    shown = messages(parse(render_svg(c)))
    assert sorted(shown) == sorted(e.id for e in c.in_flight)
    labels = [shown[i].get("data-label") for i in lane]
    assert labels[-1] == f"AE {c.nodes[c.leader].log.last_index}"


def test_labels_tell_heartbeats_entries_and_replies_apart():
    assert message_label(rb.AppendEntries(1, 2, 1, 0, 0, (), 0)) == "AE hb"
    entries = (rb.Entry(1, 1, None), rb.Entry(2, 1, ("set", "x", 1)))
    assert message_label(rb.AppendEntries(1, 2, 1, 0, 0, entries, 0)) == "AE 2"
    assert message_label(rb.AppendEntriesReply(2, 1, 1, True, 2)) == "ok 2"
    assert message_label(rb.AppendEntriesReply(2, 1, 1, False)) == "fail"
    assert message_label(rb.RequestVoteReply(2, 1, 1, False)) == "vote no"
    assert message_label(rb.RequestVote(1, 2, 1, 0, 0)) == "RV"


def test_partition_groups_and_messages_it_will_lose():
    c = elected(5, seed=1)
    leader = c.leader
    others = [i for i in c.nodes if i != leader]
    c.partition({leader, others[0]})
    crashed = others[1]
    c.crash(crashed)
    for _ in range(c.config.heartbeat_interval):
        c.tick()  # the leader sends a round of heartbeats
    root = parse(render_svg(c))
    groups = [e for e in root.iter() if e.get("data-partition-group") is not None]
    assert [sorted(map(int, g.get("data-members").split())) for g in groups] == \
        [sorted(g) for g in c.groups]
    nodes = servers(root)
    for k, g in enumerate(c.groups, start=1):
        for i in g:
            assert nodes[i].get("data-group") == str(k)
    shown = messages(root)
    seen = set()
    for env in c.in_flight:
        m = env.msg
        want = "crashed" if m.dst in c.crashed else "false" if c.can_reach(m.src, m.dst) else "partition"
        assert shown[env.id].get("data-lost") == want
        seen.add(want)
    assert seen == {"crashed", "false", "partition"}
    # Two servers in one group are drawn nearer each other than to the other group.
    pos = layout(c.n, c.groups)["pos"]
    near = abs(complex(*pos[leader]) - complex(*pos[others[0]]))
    far = min(abs(complex(*pos[leader]) - complex(*pos[j])) for j in others[1:])
    assert near < far


def test_no_partition_draws_no_groups():
    root = parse(render_svg(rb.Cluster(3)))
    assert not [e for e in root.iter() if e.get("data-partition-group") is not None]
    assert all(e.get("data-group") is None for e in servers(root).values())


def test_log_grid_shows_terms_committed_entries_and_leader_indexes():
    c = elected(3, seed=4)
    c.propose(("set", "x", 1))
    c.run(15)
    p = c.propose(("set", "y", 2))
    c.tick()  # sent, not yet acknowledged: index 3 is uncommitted everywhere
    root = parse(render_svg(c))
    for i, node in c.nodes.items():
        got = cells(root, i)
        assert sorted(got) == [e.index for e in node.log]
        for e in node.log:
            cell = got[e.index]
            assert cell.get("data-entry-term") == str(e.term)
            assert cell.get("data-committed") == ("true" if e.index <= node.commit_index else "false")
    lead = c.nodes[c.leader]
    assert cells(root, c.leader)[p.index].get("data-committed") == "false"
    assert cells(root, c.leader)[p.index - 1].get("data-committed") == "true"
    rows = {int(e.get("data-log-row")): e for e in root.iter() if e.get("data-log-row")}
    for i, row in rows.items():
        assert row.get("data-commit-index") == str(c.nodes[i].commit_index)
        if i == c.leader:
            assert row.get("data-next-index") is None
        else:
            assert row.get("data-next-index") == str(lead.next_index[i])
            assert row.get("data-match-index") == str(lead.match_index[i])


def log_start(root) -> int:
    return int(next(e for e in root.iter() if e.get("data-log-start")).get("data-log-start"))


def test_long_logs_show_the_newest_indexes_aligned_across_servers():
    c = elected(3, seed=4)
    for k in range(20):
        c.propose(("set", "k", k))
    c.run(20)
    last = c.nodes[c.leader].log.last_index
    assert all(n.log.last_index == last for n in c.nodes.values())
    root = parse(render_svg(c, max_log=8))
    assert log_start(root) == last - 7
    for i in c.nodes:
        assert sorted(cells(root, i)) == list(range(last - 7, last + 1))


def test_a_lagging_log_pulls_the_window_back_to_where_logs_differ():
    c = elected(3, seed=4)
    c.run(20)
    lagging = follower = next(i for i in c.nodes if i != c.leader)
    c.crash(lagging)
    for k in range(20):
        c.propose(("set", "k", k))
    c.run(20)
    short = c.nodes[follower].log.last_index
    last = c.nodes[c.leader].log.last_index
    assert last - short > 8
    root = parse(render_svg(c, max_log=8))
    start = log_start(root)
    assert start == max(1, short - 2)
    assert sorted(cells(root, lagging)) == list(range(start, short + 1))
    assert sorted(cells(root, c.leader)) == list(range(start, start + 8))
    more = [int(e.get("data-more")) for e in root.iter() if e.get("data-more")]
    assert sorted(more) == sorted(n.log.last_index - (start + 7) for i, n in c.nodes.items() if i != lagging)


def test_selection_is_highlighted_and_bad_selection_is_refused():
    c = rb.Cluster(3, seed=0)
    c.timeout(2)
    mid = c.in_flight[1].id
    root = parse(render_svg(c, selected_node=3, selected_msg=mid))
    assert [i for i, e in servers(root).items() if e.get("data-selected")] == [3]
    assert [i for i, e in messages(root).items() if e.get("data-selected")] == [mid]
    with pytest.raises(rb.UnknownNode, match="not a server"):
        render_svg(c, selected_node=9)
    with pytest.raises(rb.UnknownMessage, match="not in flight"):
        render_svg(c, selected_msg=999)
    with pytest.raises(rb.InvalidArgument):
        render_svg(c, max_log=0)
    with pytest.raises(rb.InvalidArgument, match="Cluster"):
        render_svg("not a cluster")


def grant_every_vote(node, msg):
    """BROKEN request_vote: grants every request, even a second one in the same term."""
    if msg.term > node.current_term:
        node.become_follower(msg.term)
    node.voted_for = msg.src
    return [rb.RequestVoteReply(node.id, msg.src, node.current_term, True)]


def two_leaders() -> rb.Cluster:
    c = rb.Cluster(3, seed=0, handlers={"request_vote": grant_every_vote})
    c.timeout(1)
    c.timeout(2)
    for _ in range(6):
        for env in c.in_flight:
            if env.id in c._flight:
                c.deliver(env.id)
    return c


def test_safety_banner_is_green_while_safe_and_names_the_broken_property():
    ok = parse(render_svg(elected(3)))
    banner = next(e for e in ok.iter() if e.get("data-safety"))
    assert banner.get("data-safety") == "ok"
    c = two_leaders()
    with pytest.raises(rb.SafetyViolation):
        rb.check_safety(c)
    root = parse(render_svg(c))
    banner = next(e for e in root.iter() if e.get("data-safety"))
    assert banner.get("data-safety") == "violated"
    assert banner.get("data-property") == "election_safety"
    assert "election safety" in "".join(banner.itertext())


def test_text_from_users_is_escaped():
    c = elected(3)
    c.propose(("set", "a<b&c>\"'", "</svg><script>x</script>"))
    svg = render_svg(c)
    root = parse(svg)  # still well-formed XML
    assert "<script>" not in svg
    titles = " ".join("".join(e.itertext()) for e in root.iter() if e.get("data-log-node"))
    assert "a<b&c>" in titles


def test_the_graph_model_has_servers_as_nodes_and_messages_as_keyed_edges():
    c = elected(5)
    c.tick()
    g = cluster_graph(c)
    assert sorted(g.nodes) == [1, 2, 3, 4, 5]
    assert sorted(k for _, _, k in g.edges(keys=True)) == sorted(e.id for e in c.in_flight)
    for env in c.in_flight:
        a = g.edges[env.msg.src, env.msg.dst, env.id]
        assert a["msg"] == env.msg and a["type"] == type(env.msg).__name__
    assert g.nodes[c.leader]["role"] == "leader"
    assert g.graph["leader"] == c.leader and g.graph["violation"] is None


def test_rendering_is_deterministic_and_changes_nothing():
    c = elected(5)
    before = c.fingerprint()
    assert render_svg(c) == render_svg(c)
    assert c.fingerprint() == before and len(c.history) == len(elected(5).history)


def test_clusters_render_statically_for_nbconvert_and_github():
    c = elected(3)
    svg = c._repr_svg_()
    assert parse(svg).get("data-raftbook") == "cluster"
    html = c._repr_html_()
    assert html.startswith("<div") and "data-node=" in html
    assert ET.fromstring(render_html(c)).find(".//{http://www.w3.org/2000/svg}svg") is not None


# -- the picture follows any run --------------------------------------------------

ACTIONS = st.lists(st.tuples(st.sampled_from(["tick", "timeout", "deliver", "drop", "duplicate",
                                              "crash", "restart", "partition", "heal", "run"]),
                             st.integers(0, 10_000)), max_size=25)


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(actions=ACTIONS, n=st.integers(3, 7))
def test_the_svg_matches_the_cluster_after_any_events(actions, n):
    c = rb.Cluster(n, seed=5)
    for name, k in actions:
        try:
            if name in ("deliver", "drop", "duplicate"):
                if c.in_flight:
                    getattr(c, name)(c.in_flight[k % len(c.in_flight)].id)
            elif name in ("timeout", "crash", "restart"):
                getattr(c, name)(1 + k % n)
            elif name == "partition":
                c.partition({1 + k % n})
            elif name == "run":
                c.run(1 + k % 20)
            else:
                getattr(c, name)()
        except rb.RaftbookError:
            pass  # a refused call changes nothing; the picture must still match
    root = parse(render_svg(c))
    nodes = servers(root)
    assert {i: (e.get("data-role"), e.get("data-term"), e.get("data-crashed")) for i, e in nodes.items()} == \
        {i: (x.role.value, str(x.current_term), "true" if i in c.crashed else "false")
         for i, x in c.nodes.items()}
    assert sorted(messages(root)) == sorted(e.id for e in c.in_flight)
    start = log_start(root)
    for i, x in c.nodes.items():
        assert sorted(cells(root, i)) == list(range(start, min(x.log.last_index, start + 13) + 1))


# -- tables ----------------------------------------------------------------------------

def test_logs_table_puts_logs_side_by_side_with_commit_marks():
    c = elected(3, seed=4)
    c.propose(("set", "x", 1))
    c.run(15)
    c.crash(c.leader)
    df = logs_table(c)
    assert list(df.columns) == ["S1", "S2", "S3"]
    assert df.index.name == "index" and list(df.index) == list(range(1, len(df) + 1))
    for i, node in c.nodes.items():
        col = df[f"S{i}"]
        for e in node.log:
            assert col[e.index].startswith(f"t{e.term} ")
            assert col[e.index].endswith("✓") == (e.index <= node.commit_index)
    assert "x=1" in df.to_string()
    with pytest.raises(rb.InvalidArgument):
        logs_table(None)


def test_nodes_messages_and_proposals_tables():
    c = elected(3, seed=4)
    p = c.propose(("set", "x", 7))
    c.run(15)
    q = c.propose(("get", "x"))
    c.partition({c.leader})
    c.tick()
    nodes = nodes_table(c)
    assert list(nodes.index) == ["S1", "S2", "S3"]
    assert nodes.loc[f"S{c.leader}", "role"] == "leader"
    assert nodes.loc[f"S{c.leader}", "ticks_until_timeout"] is pd_na()
    assert set(nodes["group"]) == {1, 2}
    msgs = messages_table(c)
    assert list(msgs.index) == [e.id for e in c.in_flight]
    assert set(msgs["if delivered"]) == {"lost: partition"}
    props = proposals_table(c)
    assert list(props["status"]) == [c.status(p), c.status(q)] == ["committed", "pending"]
    assert props.loc[p.id, "result"] == 7


def pd_na():
    import pandas as pd
    return pd.NA


# ---------------------------------------------------------------- beyond Figure 2 (issues 15, 16)
SVG = "{http://www.w3.org/2000/svg}"


def lagging_after_compaction() -> rb.Cluster:
    """A leader that compacted its log while a follower was down, and the InstallSnapshot
    that brings the follower back in flight."""
    c = rb.Cluster(3, seed=1)
    assert c.run_until(lambda c: c.leader is not None, 1000)
    c.run(30)
    ld = c.leader
    f = next(i for i in c.nodes if i != ld)
    c.crash(f)
    for k in range(5):
        c.propose(("set", f"k{k}", k))
    c.run(40)
    c.propose(("set", "y", 9))
    c.compact(ld)
    for e in list(c.in_flight):
        c.drop(e.id)
    c.restart(f)
    for _ in range(50):
        c.tick()
        if any(e.type == "InstallSnapshot" for e in c.in_flight):
            break
        for e in list(c.in_flight):
            c.deliver(e.id)
    assert any(e.type == "InstallSnapshot" for e in c.in_flight)
    return c


def test_log_cells_carry_their_real_index_after_compaction():
    c = lagging_after_compaction()
    ld = c.leader
    node = c.nodes[ld]
    assert node.snapshot_index == 6 and [e.index for e in node.log] == [7]
    root = parse(render_svg(c))
    got = cells(root, ld)
    assert set(got) == {7}
    assert got[7].get("data-entry-term") == str(node.log[7].term)
    assert "y=9" in got[7].find(SVG + "title").text
    for i, n in c.nodes.items():
        assert set(cells(root, i)) == {e.index for e in n.log}
        row = next(e for e in root.iter() if e.get("data-log-row") == str(i))
        assert row.get("data-last-index") == str(n.log.last_index)
    # the compacted prefix is one block, labelled with its last index and term
    blocks = [e for e in root.iter() if e.get("data-snapshot-node") is not None]
    assert [b.get("data-snapshot-node") for b in blocks] == [str(ld)]
    b = blocks[0]
    assert b.get("data-snapshot-index") == "6" and b.get("data-snapshot-term") == str(node.snapshot_term)
    text = "".join(b.itertext())
    assert f"snapshot ..6, term {node.snapshot_term}" in text
    # a plain cluster draws no block
    plain = parse(render_svg(elected(3)))
    assert not [e for e in plain.iter() if e.get("data-snapshot-node") is not None]


def test_state_json_after_compaction_round_trips_and_keeps_real_indexes():
    from raftbook.ui.state import apply_diff, picture_state, state_diff
    c = lagging_after_compaction()
    ld = c.leader
    before = picture_state(c)
    assert before["more"][str(ld)]["snap"] == [6, c.nodes[ld].snapshot_term]
    # the log holds the entries after the snapshot: entry k has index snap + 1 + k
    assert before["logs"][str(ld)] == [[e.term, "y=9"] for e in c.nodes[ld].log]
    events = len(c.history)
    for e in list(c.in_flight):
        c.deliver(e.id)
    after = picture_state(c)
    f = next(i for i in c.nodes if i != ld and c.nodes[i].snapshot_index)
    assert after["more"][str(f)]["snap"][0] == 6
    assert apply_diff(before, state_diff(before, after)) == after
    c.goto(events)  # back before the follower installed the snapshot
    assert apply_diff(after, state_diff(after, before)) == picture_state(c) == before
    assert "more" in state_diff(after, before)
    # nothing beyond Figure 2: nothing more in the state
    assert picture_state(elected(3))["more"] == {}


def test_install_snapshot_and_the_kinds_beyond_figure_2_are_drawn_as_their_own():
    c = lagging_after_compaction()
    root = parse(render_svg(c))
    snap = next(e for e in c.in_flight if e.type == "InstallSnapshot")
    g = messages(root)[snap.id]
    assert g.get("data-type") == "InstallSnapshot" and g.get("data-label") == "snap 6"
    line = g.find(SVG + "line")
    assert line.get("stroke-dasharray") == "8 3" and "InstallSnapshot" in line.get("marker-end")
    assert "snap n: InstallSnapshot" in "".join(root.itertext())
    c.deliver(snap.id)
    reply = next(e for e in c.in_flight if e.type == "InstallSnapshotReply")
    assert messages(parse(render_svg(c)))[reply.id].get("data-label") == "snap ok 6"
    # a pre-vote round: PV, PV yes, drawn with their own dash; a plain RequestVote is not
    p = rb.Cluster(3, seed=1, config=rb.Config(pre_vote=True))
    p.timeout(1)
    for e in p.in_flight:
        assert e.msg.pre_vote
    ms = messages(parse(render_svg(p)))
    assert {m.get("data-label") for m in ms.values()} == {"PV"}
    assert {m.get("data-type") for m in ms.values()} == {"RequestVote"}
    assert all(m.find(SVG + "line").get("stroke-dasharray") for m in ms.values())
    for e in list(p.in_flight):
        p.deliver(e.id)
    assert {m.get("data-label") for m in messages(parse(render_svg(p))).values()} == {"PV yes"}
    q = rb.Cluster(3, seed=1)
    q.timeout(1)
    for m in messages(parse(render_svg(q))).values():
        assert m.get("data-label") == "RV"
        assert m.find(SVG + "line").get("stroke-dasharray") is None
    assert message_label(rb.TimeoutNow(1, 2, 3)) == "TimeoutNow"


def _forgetful_cluster():
    from raftbook.core import rules
    from raftbook.scenarios import vote_without_saving

    def append_without_saving(node, msg):
        node.persist = lambda: None
        try:
            return rules.handle_append_entries(node, msg)
        finally:
            del node.persist
    return rb.Cluster(3, seed=1, config=rb.Config(persistence="explicit"),
                      handlers={"append_entries": append_without_saving,
                                "request_vote": vote_without_saving})


def test_unsaved_state_is_marked_on_the_server_and_its_entries():
    c = _forgetful_cluster()
    c.timeout(1)
    while c.leader is None:
        for e in list(c.in_flight):
            c.deliver(e.id)
    c.propose(("set", "x", 1))
    for _ in range(c.config.heartbeat_interval):
        c.tick()
    f = next(e.msg.dst for e in c.in_flight if e.type == "AppendEntries" and e.msg.entries)
    for e in list(c.in_flight):
        if e.type == "AppendEntries" and e.msg.dst == f:
            c.deliver(e.id)
    node = c.nodes[f]
    assert "log" in node.unsaved and node.saved["last_index"] == 0
    root = parse(render_svg(c))
    s = servers(root)[f]
    assert s.get("data-unsaved") == " ".join(node.unsaved)
    assert any(t.startswith("unsaved: ") and "log" in t for t in s.itertext())
    marked = {k for k, e in cells(root, f).items() if e.get("data-unsaved") == "true"}
    assert marked == {e.index for e in node.log} and marked
    # the leader saved everything: no mark
    ld = c.leader
    assert c.nodes[ld].unsaved == [] and servers(root)[ld].get("data-unsaved") is None
    assert not [e for e in cells(root, ld).values() if e.get("data-unsaved")]
    from raftbook.ui.state import picture_state
    assert picture_state(c)["more"][str(f)]["unsaved_from"] == 1
    assert "unsaved" in nodes_table(c).columns


def test_members_learners_and_transfer_are_marked():
    c = rb.Cluster(4, seed=3, members={1, 2, 3})
    assert c.run_until(lambda c: c.leader is not None, 2000)
    c.propose(("set", "a", 1))
    c.run(30)
    ld = c.leader
    c.add_server(4)
    root = parse(render_svg(c))
    s = servers(root)
    assert s[4].get("data-member") == "false" and s[4].get("data-learner") == "true"
    assert s[4].get("opacity") == "0.55"
    text4 = list(s[4].itertext())
    assert "config {1,2,3}" in text4 and "not a member · catching up" in text4
    assert s[ld].get("data-member") == "true" and s[ld].get("data-config") == "1 2 3"
    assert c.run_until(lambda c: 4 in c.nodes[c.leader].members and c.nodes[4].members == c.members, 500)
    c.run(40)
    root = parse(render_svg(c))
    s = servers(root)
    assert all(s[i].get("data-member") == "true" for i in c.nodes)
    assert "config {1,2,3,4}" in list(s[4].itertext())
    # the configuration entry in the log grid
    cfg = [e for e in c.nodes[c.leader].log if isinstance(e.command, tuple) and e.command[0] == "config"]
    cell = cells(root, c.leader)[cfg[-1].index]
    assert "config {1,2,3,4}" in cell.find(SVG + "title").text
    assert "config {1,2,3,4}" in logs_table(c).loc[cfg[-1].index, f"S{c.leader}"]
    ld = c.leader
    to = next(i for i in c.nodes if i != ld)
    c.transfer_leadership(to)
    s = servers(parse(render_svg(c)))
    assert s[ld].get("data-transfer-to") == str(to)
    assert f"transfer → S{to}" in " ".join(s[ld].itertext())
    # a plain cluster has none of these
    plain = servers(parse(render_svg(elected(3))))
    assert all(e.get("data-member") is None and e.get("data-config") is None for e in plain.values())


def test_joint_configuration_is_marked_joint():
    c = rb.Cluster(4, seed=3, members={1, 2, 3}, config=rb.Config(membership="joint"))
    assert c.run_until(lambda c: c.leader is not None, 2000)
    c.propose(("set", "a", 1))
    c.run(30)
    c.change_members({1, 2, 4})
    assert c.run_until(lambda c: any(n.members_old is not None for n in c.nodes.values()), 500)
    root = parse(render_svg(c))
    joint = [e for e in servers(root).values() if e.get("data-config-old")]
    assert joint and all(any(t.endswith("(joint)") for t in e.itertext()) for e in joint)
