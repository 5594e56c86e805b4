"""The narrated history: c.explain(), explain_text and explain_violation."""
from html import escape as html_escape

import pandas as pd
import pytest

import raftbook as rb
from raftbook.exercises.bugs import BUGS
from raftbook.explain import explain, explain_text, explain_violation


def manual_election():
    c = rb.Cluster(3, seed=0)
    c.timeout(1)                                                  # 0
    for env in [e for e in c.in_flight if e.type == "RequestVote"]:
        c.deliver(env.id)                                          # 1, 2
    for env in [e for e in c.in_flight if e.type == "RequestVoteReply"]:
        c.deliver(env.id)                                          # 3, 4
    c.run(20)                                                      # 5
    return c


@pytest.fixture(scope="module")
def election():
    return manual_election()


def test_one_row_per_reason_with_the_columns(election):
    c = election
    df = c.explain()
    assert isinstance(df, pd.DataFrame)
    assert {"seq", "time", "node", "event", "code", "sentence"} <= set(df.columns)
    assert len(df) == len(c.reasons())
    assert list(df["code"]) == [r.code for r in c.reasons()]
    first = df.iloc[0]
    assert (first["seq"], first["time"], first["node"], first["event"], first["code"]) == \
        (0, 0, 1, "timeout", "election_timeout")
    assert first["sentence"] == "S1 timed out in term 0: its election timer was fired by hand."
    # every row's seq points at the event whose reasons hold it
    for seq, code in zip(df["seq"], df["code"]):
        assert code in [r.code for r in c.history[seq].reasons]
    assert list(df["seq"]) == sorted(df["seq"])


def test_filters_by_node_kind_family_event_and_window(election):
    c = election
    s2 = c.explain(node=2)
    assert set(s2["node"]) == {2} and len(s2) == sum(r.node == 2 for r in c.reasons())
    assert set(c.explain(node=[2, 3])["node"]) == {2, 3}
    votes = c.explain(kind="vote")
    assert set(votes["code"]) == {"vote_requested", "vote_granted", "vote_received",
                                  "reply_ignored_stale"}
    assert set(c.explain(kind="vote_granted")["node"]) == {2, 3}
    assert set(c.explain(kind="deliver")["seq"]) == {1, 2, 3, 4}
    assert set(c.explain(kind=["commit", "election"])["code"]) >= {"commit_advanced", "became_leader",
                                                                    "election_started"}
    window = c.explain(start=1, end=3)
    assert set(window["seq"]) == {1, 2}
    assert set(c.explain(start=-1)["seq"]) == {5}
    both = c.explain(node=1, kind="commit", start=5)
    assert set(both["code"]) == {"commit_advanced", "applied"} and set(both["node"]) == {1}
    assert c.explain(node=3, kind="became_leader").empty


def test_bad_arguments_are_clear_errors_and_change_nothing(election):
    c = election
    before = (len(c.history), c.fingerprint())
    with pytest.raises(rb.UnknownNode, match="there is no server 9"):
        c.explain(node=9)
    with pytest.raises(rb.InvalidArgument, match="unknown kind 'votes'.*family"):
        c.explain(kind="votes")
    with pytest.raises(rb.InvalidArgument, match="start must be an event seq"):
        c.explain(start="3")
    with pytest.raises(rb.InvalidArgument):
        c.explain(node=[])
    with pytest.raises(rb.InvalidArgument, match="raftbook Cluster"):
        explain("not a cluster")
    with pytest.raises(rb.RaftbookError):
        explain_violation(c, last=0)
    with pytest.raises(rb.RaftbookError, match="SafetyViolation"):
        explain_violation(c, violation="oops")
    assert (len(c.history), c.fingerprint()) == before


def test_text_is_grouped_by_event_and_by_tick_inside_runs(election):
    text = explain_text(election)
    lines = text.splitlines()
    assert lines[0] == "#0 t=0 timeout: S1 timed out and started an election for term 1"
    assert lines[1] == "  S1 timed out in term 0: its election timer was fired by hand."
    assert "#1 t=0 deliver: delivered #1 RequestVote S1→S2 t1" in lines
    run_at = lines.index(next(line for line in lines if line.startswith("#5 t=0 run:")))
    assert lines[run_at + 1].startswith("  t=")            # a tick header
    assert lines[run_at + 2].startswith("    S")           # its reasons, indented under it
    assert explain_text(election, node=3, kind="became_leader") == "(no reasons match)"
    assert rb.explain_text is explain_text


def test_notebook_view_shows_whole_sentences(election):
    df = election.explain(kind="vote_granted")
    html = df._repr_html_()
    for sentence in df["sentence"]:
        assert html_escape(sentence, quote=False) in html   # not cut at 50 characters
    assert '<td style="text-align:left">S2</td>' in html and "fields" not in html
    assert "<td>" not in html and "<th>" not in html  # every cell reads from the left
    text = repr(df)
    assert all(s in text for s in df["sentence"])
    filtered = df[df["node"] == 2]
    assert isinstance(filtered, pd.DataFrame) and len(filtered) == 1
    assert repr(election.explain(node=3, kind="became_leader")) == "(no reasons match)"


@pytest.mark.parametrize("cols", [["sentence"], ["seq", "sentence"], ["node", "sentence"]])
def test_a_selection_of_columns_still_shows_whole_sentences_left_aligned(election, cols):
    df = election.explain()[cols]
    long = [s for s in df["sentence"] if len(s) > 60]
    assert long  # otherwise this test could not see a cut
    html, text = df._repr_html_(), repr(df)
    for sentence in long:
        assert html_escape(sentence, quote=False) in html and sentence in text
    assert "…" not in html and "..." not in text
    assert 'style="text-align:left">' + html_escape(long[0], quote=False) in html


def test_reasons_are_deterministic_and_survive_trace_and_replay(tmp_path):
    def campaign(c):
        c.run_until(lambda c: c.leader is not None, 400, drop_rate=0.1, duplicate_rate=0.1)
        c.propose(("set", "x", 1))
        c.partition({c.leader}, set(c.nodes) - {c.leader})
        c.run(60, drop_rate=0.1)
        c.heal()
        c.crash(1)
        c.run(60, duplicate_rate=0.2)
        c.restart(1)
        c.run(30)
        return c
    a, b = campaign(rb.Cluster(5, seed=7)), campaign(rb.Cluster(5, seed=7))
    assert a.reasons() == b.reasons()
    assert [e.network for e in a.history] == [e.network for e in b.history]
    path = tmp_path / "run.json"
    a.save_trace(path)
    replayed = rb.Cluster.load_trace(path)
    assert replayed.reasons() == a.reasons()
    assert replayed.explain().drop(columns=["fields"]).equals(a.explain().drop(columns=["fields"]))
    assert explain_text(replayed) == explain_text(a)
    # a cluster that kept no reasons is explained by replaying its history
    quiet = campaign(rb.Cluster(5, seed=7, record_reasons=False))
    assert quiet.reasons() == [] and quiet.history[-1].network == ()
    assert explain_text(quiet) == explain_text(a)
    # undo rewinds the reasons with the history
    n = len(a.reasons())
    a.undo()
    assert a.reasons() == b.reasons()[:len(a.reasons())] and len(a.reasons()) < n


# A student's vote rule that compares log lengths instead of last terms.
by_length = BUGS["up_to_date_by_length"].fn


def test_violation_quotes_the_vote_that_broke_the_rule():
    # S1..S3 committed (1, 3); S5 holds a longer log of older terms and asks for votes in term 4.
    committed = {"log": [1, 3], "current_term": 3, "commit_index": 2}
    c = rb.Cluster.from_state({1: committed, 2: committed, 3: committed,
                               5: {"log": [1, 2, 2], "current_term": 3}}, n=5,
                              handlers={"request_vote": by_length})
    c.timeout(5)
    for env in [e for e in c.in_flight if e.msg.dst in (2, 3)]:
        c.deliver(env.id)
    for env in [e for e in c.in_flight if e.type == "RequestVoteReply"]:
        c.deliver(env.id)
    v = c.violation
    assert v is not None and v.property == "leader_completeness"
    report = explain_violation(c)
    lines = report.splitlines()
    assert lines[0].startswith(str(v))
    assert ("! #1 t=0: S2 granted its vote in term 4 to S5 although its own log was more up to date: "
            "last term 3 > 2") in report
    assert "S3 granted its vote in term 4 to S5 although" in report
    assert "S5 won the election for term 4 with 3 votes (S2, S3, S5)" in report
    assert "Rule: Figure 2, RequestVote RPC, receiver rule 2" in report
    assert len([line for line in lines if line.startswith(" ! ") or line.startswith("   #")]) <= 8
    assert explain_violation(c, v, last=2).count("\n ") == 2
    assert rb.explain_violation is explain_violation


def test_violation_of_a_healthy_run_says_so(election):
    assert explain_violation(election) == "No safety property is broken in this run."


def test_violation_found_by_a_full_check_is_explained_too():
    c = rb.Cluster.from_state({1: {"log": [1], "commit_index": 1}, 2: {"log": [2], "current_term": 2}},
                              n=3, monitor=False)
    report = explain_violation(c)
    assert "broken" in report.splitlines()[0]


def test_frames_derived_from_an_explanation_show_as_usual(election):
    df = election.explain()
    counts = df.groupby("code").count()
    assert "vote_granted" in repr(counts) and "vote_granted" in counts._repr_html_()
    assert all(line == line.rstrip() for line in repr(df).splitlines())
