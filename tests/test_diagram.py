"""The space-time diagram: lines, dots and arrows of a scripted run, read back from the SVG."""
import xml.etree.ElementTree as ET

import pytest

import raftbook as rb
from raftbook.diagram import Diagram, spacetime, spacetime_svg

SVG = "{http://www.w3.org/2000/svg}"


def parse(svg):
    return ET.fromstring(svg)


def kind(root, k, **attrs):
    out = []
    for el in root.iter():
        if el.get("data-kind") != k:
            continue
        if all(el.get("data-" + a.replace("_", "-")) == str(v) for a, v in attrs.items()):
            out.append(el)
    return out


def by_msg(root):
    return {int(g.get("data-msg")): g for g in kind(root, "message")}


def scripted():
    """A manual run whose every message id is known (see the comments)."""
    c = rb.Cluster(3, seed=0)
    c.timeout(1)          # 0: RequestVote #1 -> S2, #2 -> S3
    c.deliver(1)          # 1: S2 votes: reply #3
    c.drop(2)             # 2: the network loses #2
    c.deliver(3)          # 3: S1 leads term 1: AppendEntries #4 -> S2, #5 -> S3
    c.duplicate(4)        # 4: copy #6 of #4
    c.deliver(4)          # 5: S2 appends: reply #7
    c.deliver(6)          # 6: the copy arrives: reply #8
    c.crash(3)            # 7
    c.deliver(5)          # 8: lost, S3 is crashed
    c.partition({1}, {2, 3})  # 9
    c.deliver(7)          # 10: lost to the partition
    c.heal()              # 11
    c.restart(3)          # 12
    c.run(12)             # 13: delivers #8, heartbeats, replies
    return c


@pytest.fixture(scope="module")
def run():
    c = scripted()
    return c, parse(spacetime_svg(c))


def test_one_line_and_label_per_server(run):
    c, root = run
    assert root.tag == SVG + "svg" and root.get("data-servers") == "3"
    lines = kind(root, "lifeline")
    assert sorted(int(e.get("data-server")) for e in lines) == [1, 2, 3]
    assert all(e.tag == SVG + "line" and e.get("x1") == e.get("x2") for e in lines)
    assert [e.text for e in kind(root, "server-label")] == ["S1", "S2", "S3"]
    xs = [float(e.get("x1")) for e in sorted(lines, key=lambda e: int(e.get("data-server")))]
    assert xs == sorted(xs)


def test_rows_one_per_manual_event_and_one_per_busy_tick(run):
    c, root = run
    rows = kind(root, "row")
    assert [int(r.get("data-event")) for r in rows[:13]] == list(range(13))
    run_rows = [r for r in rows if r.get("data-event") == "13"]
    busy = {t for t, *_ in c.history[13].network} | {r.time for r in c.history[13].reasons}
    assert sorted(int(r.get("data-time")) for r in run_rows) == sorted(busy)
    assert root.get("data-rows") == str(len(rows))
    ys = [float(r.get("y")) for r in rows]
    assert ys == sorted(ys)            # time runs down the page


def test_arrows_from_send_to_delivery_with_their_outcomes(run):
    c, root = run
    msgs = by_msg(root)
    expect = {1: ("RequestVote", 1, 2, "delivered", "0", "1"),
              2: ("RequestVote", 1, 3, "dropped", "0", "2"),
              3: ("RequestVoteReply", 2, 1, "delivered", "1", "3"),
              4: ("AppendEntries", 1, 2, "delivered", "3", "5"),
              5: ("AppendEntries", 1, 3, "lost_crash", "3", "8"),
              7: ("AppendEntriesReply", 2, 1, "lost_partition", "5", "10"),
              8: ("AppendEntriesReply", 2, 1, "delivered", "6", "13")}
    for mid, (typ, src, dst, outcome, sent, end) in expect.items():
        g = msgs[mid]
        assert (g.get("data-type"), int(g.get("data-src")), int(g.get("data-dst")),
                g.get("data-outcome"), g.get("data-sent-event"), g.get("data-end-event")) == \
            (typ, src, dst, outcome, sent, end), mid
    # the arrow runs from the sender's line at the send row to the receiver's at the delivery row
    lines = {int(e.get("data-server")): float(e.get("x1")) for e in kind(root, "lifeline")}
    rows = {int(r.get("data-event")): float(r.get("y")) + 9 for r in kind(root, "row")[:13]}
    arrow = kind(msgs[1], "arrow")[0]
    assert float(arrow.get("x1")) == lines[1] and float(arrow.get("y1")) == rows[0]
    assert lines[1] < float(arrow.get("x2")) <= lines[2] and rows[0] < float(arrow.get("y2")) <= rows[1]
    assert arrow.get("marker-end", "").startswith("url(#rbst-head-")
    # every message sent during the run is drawn, starting in the run
    sent_in_run = [mid for t, what, mid, *_ in c.history[13].network if what == "sent"]
    assert sent_in_run and all(msgs[m].get("data-sent-event") == "13" for m in sent_in_run)
    assert all(msgs[m].get("data-outcome") in rb.diagram.OUTCOMES for m in msgs)


def test_drop_cross_duplicate_double_and_lost_marks(run):
    c, root = run
    msgs = by_msg(root)
    assert len(kind(msgs[2], "drop-mark")) == 1 and not kind(root, "drop-mark", msg=1)
    copy = msgs[6]
    assert copy.get("data-copy-of") == "4"
    assert copy.get("data-sent-event") == "3"          # drawn from the original's send
    assert len(kind(copy, "arrow")) == 1 and len(kind(copy, "arrow-core")) == 1   # a double line
    assert kind(msgs[5], "lost-mark")[0].get("data-cause") == "crash"
    assert kind(msgs[7], "lost-mark")[0].get("data-cause") == "partition"
    assert msgs[3].find(SVG + "title").text.startswith("#3 RequestVoteReply S2→S1 t1 granted")


def test_dots_are_the_steps_servers_took(run):
    c, root = run
    dots = {(int(d.get("data-server")), int(d.get("data-event"))): d
            for d in kind(root, "dot") if d.get("data-event") != "13"}
    assert set(dots) == {(1, 0), (2, 1), (1, 3), (2, 5), (2, 6), (3, 7), (3, 12)}
    won = dots[(1, 3)]
    assert won.get("data-role") == "leader" and won.get("data-term") == "1"
    assert "became_leader" in won.get("data-codes").split()
    assert "S1 won the election for term 1" in won.find(SVG + "title").text
    assert dots[(1, 0)].get("data-role") == "candidate"
    assert "entries_already_present" in dots[(2, 6)].get("data-codes")
    assert dots[(3, 7)].get("data-role") == "crashed"


def test_leader_band_crash_restart_and_partition(run):
    c, root = run
    bands = kind(root, "leader-term")
    assert [(b.get("data-server"), b.get("data-term")) for b in bands] == [("1", "1")]
    assert len(kind(root, "crash", server=3, event=7)) == 1
    assert len(kind(root, "restart", server=3, event=12)) == 1
    assert len(kind(root, "down", server=3)) == 1
    part = kind(root, "partition")
    assert len(part) == 1 and part[0].get("data-groups") == "1|2,3" and part[0].get("data-event") == "9"
    rows = {int(r.get("data-event")): float(r.get("y")) + 9 for r in kind(root, "row")[:13]}
    assert float(part[0].get("y")) == rows[9]
    assert float(part[0].get("y")) + float(part[0].get("height")) == rows[11]


def test_every_drawn_element_says_what_it_is(run):
    c, root = run
    for el in root.iter():
        if el.tag != SVG + "title":
            assert el.get("data-kind"), ET.tostring(el)[:80]


def test_a_window_clips_messages_at_its_edges():
    c = scripted()
    root = parse(spacetime_svg(c, start=3, end=6))
    assert (root.get("data-start"), root.get("data-end")) == ("3", "6")
    assert {r.get("data-event") for r in kind(root, "row")} == {"3", "4", "5"}
    msgs = by_msg(root)
    assert 1 not in msgs and 2 not in msgs              # over before the window
    assert msgs[3].get("data-clipped") == "start"       # sent before, delivered inside
    assert msgs[5].get("data-clipped") == "end"         # sent inside, lost after
    assert msgs[4].get("data-clipped") is None
    assert 6 in msgs and 8 not in msgs
    assert kind(root, "leader-term")                    # S1 leads through the window
    assert not kind(root, "crash") and not kind(root, "partition")
    late = parse(spacetime_svg(c, start=-1))
    assert float(kind(late, "leader-term")[0].get("y")) < float(kind(late, "row")[0].get("y"))


def test_deterministic_and_the_same_without_recorded_reasons():
    def build(**kw):
        c = rb.Cluster(5, seed=4, **kw)
        c.run_until(lambda c: c.leader is not None, 300, drop_rate=0.1, duplicate_rate=0.1)
        c.propose(("set", "k", 1))
        c.run(40, drop_rate=0.1, duplicate_rate=0.1)
        return c
    a = spacetime_svg(build())
    assert a == spacetime_svg(build())
    assert a == spacetime_svg(build(record_reasons=False))
    root = parse(a)
    assert kind(root, "drop-mark") and any(g.get("data-copy-of") for g in kind(root, "message"))


def test_width_long_runs_and_bad_input():
    c = scripted()
    root = parse(spacetime_svg(c, width=900))
    assert root.get("width") == "900"
    narrow = parse(spacetime_svg(c, width=200))       # too narrow for summaries: they go
    assert not kind(narrow, "event-label") and kind(narrow, "lifeline")
    with pytest.raises(rb.InvalidArgument, match="too narrow"):
        spacetime_svg(c, width=80)
    with pytest.raises(rb.InvalidArgument, match="start must be an event seq"):
        spacetime_svg(c, start="3")
    with pytest.raises(rb.InvalidArgument):
        spacetime_svg(c, width="wide")
    with pytest.raises(rb.InvalidArgument):
        spacetime_svg(c, max_rows=0)
    with pytest.raises(rb.InvalidArgument, match="raftbook Cluster"):
        spacetime_svg(object())
    few = parse(spacetime_svg(c, max_rows=5))
    assert len(kind(few, "row")) == 5 and int(few.get("data-omitted-rows")) > 0
    assert kind(few, "omitted")[0].get("data-rows") == few.get("data-omitted-rows")
    empty = parse(spacetime_svg(rb.Cluster(3, seed=0)))
    assert kind(empty, "empty") and len(kind(empty, "lifeline")) == 3


def test_seven_servers_and_hundreds_of_rows_stay_well_formed():
    c = rb.Cluster(7, seed=2)
    c.run(250, drop_rate=0.05, duplicate_rate=0.05)
    root = parse(spacetime_svg(c))
    assert len(kind(root, "lifeline")) == 7 and len(kind(root, "row")) > 150
    assert len(kind(root, "message")) > 300


def test_diagram_object_renders_and_saves(tmp_path):
    c = scripted()
    d = spacetime(c, start=0, end=5)
    assert isinstance(d, Diagram) and isinstance(rb.spacetime(c), rb.Diagram)
    assert d._repr_svg_() == spacetime_svg(c, start=0, end=5) == str(d)
    assert d._repr_html_().startswith("<div") and d.svg in d._repr_html_()
    d.save(tmp_path / "run.svg")
    d.save(tmp_path / "run.html")
    parse((tmp_path / "run.svg").read_text(encoding="utf-8"))
    assert d.svg in (tmp_path / "run.html").read_text(encoding="utf-8")
    with pytest.raises(rb.InvalidArgument, match=".svg or .html"):
        d.save(tmp_path / "run.png")
