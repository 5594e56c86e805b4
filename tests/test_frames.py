"""Tables a student reads show every sentence whole and left-aligned (pandas cuts at 50)."""
import raftbook as rb


def _cluster_with_a_long_summary():
    c = rb.Cluster(5, seed=1)
    c.run_until(lambda c: c.leader is not None, 500)
    c.propose(("set", "a_rather_long_key_name", "and a value long enough to pass fifty"))
    c.run(10)
    return c


def test_events_show_every_summary_whole_in_text_and_html():
    c = _cluster_with_a_long_summary()
    events = c.events()
    long = [e.summary for e in c.history if len(e.summary) > 60]
    assert long, "the scenario must have a summary longer than pandas' 50-character cut"
    text, html = repr(events), events._repr_html_()
    for summary in long:
        assert summary in text
        assert summary.replace("'", "&#39;") in html or summary in html
    assert "…" not in text and "..." not in text
    assert '<td style="text-align:left">' in html


def test_explanations_show_whole_sentences_even_when_only_the_sentence_column_is_kept():
    c = _cluster_with_a_long_summary()
    table = c.explain(node=1)[["sentence"]]
    sentences = [s for s in table["sentence"] if len(s) > 60]
    assert sentences
    assert all(s in repr(table) for s in sentences)


def test_derived_frames_show_as_ordinary_dataframes():
    counts = _cluster_with_a_long_summary().events().groupby("kind").size()
    assert "run" in repr(counts)
