"""Fault campaigns with membership changes: servers added and removed at random times,
alongside partitions, crashes and forced timeouts, the safety monitor judging every event.

Set ``RAFTBOOK_MEMBERSHIP_CAMPAIGN_SEEDS`` (e.g. 2000) for a deeper search.
"""
import dataclasses
import os

import pytest

import raftbook as rb
from raftbook.search.campaigns import CAMPAIGN_CONFIG
from raftbook.search.faults import ALL_FAULTS, FAULTS, schedule

SEEDS = int(os.environ.get("RAFTBOOK_MEMBERSHIP_CAMPAIGN_SEEDS", "0")) or 60
RECONFIGURE = FAULTS + ("reconfigure",)


def test_reconfigure_is_asked_for_and_leaves_the_default_schedule_alone():
    assert "reconfigure" in ALL_FAULTS and "reconfigure" not in FAULTS
    plain = schedule(5, steps=200)
    assert not {a[0] for a in plain} & {"add_server", "remove_server"}
    kinds = {a[0] for a in schedule(5, steps=200, faults=RECONFIGURE)}
    assert {"add_server", "remove_server", "crash", "partition", "timeout"} <= kinds
    assert schedule(5, steps=200, faults=RECONFIGURE) == schedule(5, steps=200, faults=RECONFIGURE)


@pytest.mark.parametrize("n, members", [(4, None), (5, None), (5, 3)])
def test_reference_stays_safe_through_membership_changes(n, members):
    r = rb.campaign(SEEDS, n=n, faults=RECONFIGURE, members=members, steps=100, workers=1)
    t = r.table
    assert r.ok, t[~t["ok"]][["finding", "property", "detail"]].head().to_string()
    assert t["changes"].sum() > SEEDS      # changes happen, about two a seed
    assert t["refused"].sum() > 0          # and refused ones are skipped, not findings
    assert t["committed"].sum() > 0 and t["crashes"].sum() > 0 and t["partitions"].sum() > 0
    assert (t["members"] != " ".join(f"S{i}" for i in range(1, n + 1))).any()


def test_membership_campaign_table_is_the_same_on_one_and_two_workers():
    kw = dict(n=4, faults=RECONFIGURE, members=3, steps=80, minimize=0)
    one = rb.campaign(range(20, 36), workers=1, **kw).table.drop(columns="seconds")
    two = rb.campaign(range(20, 36), workers=2, **kw).table.drop(columns="seconds")
    assert one.equals(two)
    assert one["changes"].sum() > 0


def test_default_tables_have_no_membership_columns():
    t = rb.campaign(3, n=3, workers=1).table
    assert not {"changes", "refused", "members"} & set(t.columns)


def test_without_the_2015_fix_a_small_campaign_stays_safe_or_finds_the_bug():
    # Random campaigns rarely line up the 2015 bug (a new leader changing the configuration
    # before committing an entry of its term, while a server of the old one wins too): it is
    # not required here; rb.explore finds it (docs/membership.md). A finding must be that one.
    cfg = dataclasses.replace(CAMPAIGN_CONFIG, membership_fix=False)
    r = rb.campaign(30, n=4, faults=RECONFIGURE, config=cfg, steps=100, workers=1)
    for seed in r.failures:
        assert r.table.loc[seed, "property"] in ("leader_completeness", "state_machine_safety",
                                                 "log_matching", "election_safety")


@pytest.mark.parametrize("members", ["S1", {0, 1}, 0, 6, [], {"x"}, 2.5, True])
def test_bad_members_are_clear_errors(members):
    with pytest.raises(rb.RaftbookError, match="members"):
        rb.campaign(2, n=5, members=members, workers=1)


def test_unknown_fault_names_the_reconfigure_choice():
    with pytest.raises(rb.RaftbookError, match="reconfigure"):
        rb.campaign(2, faults=("meteor",))


def test_a_failing_run_that_changed_the_configuration_is_minimized_and_replays():
    from raftbook.exercises.bugs import BUGS
    bug = BUGS["second_vote_in_a_term"]
    handlers = {bug.handler: bug.fn}
    r = rb.campaign([0], n=4, handlers=handlers, faults=RECONFIGURE, members=3, workers=1)
    ex = r.counterexamples[0]
    assert ex.property == "election_safety" and len(ex.actions) < ex.original_actions
    assert any(a[0] in ("add_server", "remove_server") for a in ex.actions)
    assert ex.events is None   # kept as coarse actions, the last run split into ticks
    c = ex.cluster()
    assert c.violation is not None and c.violation.property == "election_safety"
    assert any(e.kind in ("add_server", "remove_server") for e in c.history)
