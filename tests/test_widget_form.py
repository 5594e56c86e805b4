"""The widget's text boxes refuse junk with a clear error and leave the cluster as it was."""
import pytest

import raftbook as rb
from raftbook.ui.widget.form import MAX_TEXT, parse_groups, parse_value


@pytest.mark.parametrize("text, words", [
    ("[" * 5000 + "]" * 5000, "characters"),
    ("9" * 50, "digits"),
    ("1e999", "finite"),
    ("x" * (MAX_TEXT + 1), "characters"),
])
def test_junk_values_are_refused_with_a_reason(text, words):
    with pytest.raises(rb.RaftbookError, match=words):
        parse_value(text)


@pytest.mark.parametrize("text, value", [("12", 12), ("-5", -5), ("2.5", 2.5), ('"x"', "x"),
                                         ("abc", "abc"), ("true", True), ("[1, 2]", "[1, 2]")])
def test_ordinary_values_read_as_before(text, value):
    assert parse_value(text) == value


def test_a_pasted_wall_of_groups_is_refused():
    with pytest.raises(rb.RaftbookError, match="characters"):
        parse_groups("1,2 | 3" * 200)
    assert parse_groups("1,2 | 3") == [{1, 2}, {3}]


def test_the_widget_shows_the_refusal_and_changes_nothing():
    c = rb.Cluster(3, seed=1)
    c.run_until(lambda c: c.leader is not None, 500)
    w = rb.ClusterWidget(c)
    before = (c.fingerprint(), len(c.history))
    w.key.value, w.value.value = "x", "[" * 300
    w.buttons["Propose"].click()
    assert (c.fingerprint(), len(c.history)) == before
    assert w.last_error and "characters" in w.last_error
