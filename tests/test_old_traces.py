"""Traces saved by the first round's package (before the layout change) still load and replay."""
from pathlib import Path

import raftbook as rb

DATA = Path(__file__).parent / "data"


def test_a_first_round_trace_replays_to_its_recorded_state():
    # Saved by the first round: election, a proposal, drops, a leader crash, hand deliveries,
    # a duplicate, a partition and its healing. Loading verifies the recorded fingerprint.
    c = rb.Cluster.load_trace(DATA / "trace_round1.json")
    assert c.fingerprint() == "699fd56d91185b47"
    assert len(c.history) == 13
    assert [e.kind for e in c.history][:3] == ["run_until", "propose", "run"]
    rb.check_safety(c, full=True)
