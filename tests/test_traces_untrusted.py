"""A trace file may come from anyone: it is data with limits, refused quickly when bad."""
from __future__ import annotations

import json
import threading

import pytest

import raftbook as rb
from raftbook.sim import trace as trace_mod


def _within(seconds, fn):
    """Call fn in a thread; fail (instead of hanging the suite) if it has not returned in time."""
    out = {}

    def go():
        try:
            out["value"] = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test
            out["error"] = exc

    t = threading.Thread(target=go, daemon=True)
    t.start()
    t.join(seconds)
    assert not t.is_alive(), f"still running after {seconds} s"
    if "error" in out:
        raise out["error"]
    return out.get("value")


@pytest.fixture(scope="module")
def good():
    c = rb.Cluster(3, seed=2)
    c.run_until(lambda c: c.leader is not None, 300)
    c.propose(("set", "a", 1))
    c.run(20)
    c.tick()
    return c.trace()


def _write(tmp_path, text, name="t.json"):
    p = tmp_path / name
    p.write_text(text, encoding="utf-8")
    return p


def _doc(good, events, final=True):
    doc = dict(good, events=events)
    if not final:
        doc.pop("final")
    return doc


# Each: a short description, then a function of the good trace giving the file's text.
BAD = {
    "one run of 10**12 ticks": lambda g: json.dumps(_doc(g, [{"kind": "run", "args": {
        "ticks": 10**12, "latency": [1, 3], "drop_rate": 0, "duplicate_rate": 0}}])),
    "a run_until that ran more than its max": lambda g: json.dumps(_doc(g, [{"kind": "run_until", "args": {
        "max_ticks": 5, "ticks": 10**9, "reached": True, "latency": [1, 3], "drop_rate": 0,
        "duplicate_rate": 0}}])),
    "a run_until whose reached is not a bool": lambda g: json.dumps(_doc(g, [{"kind": "run_until", "args": {
        "max_ticks": 5, "ticks": 3, "reached": "yes", "latency": [1, 3], "drop_rate": 0,
        "duplicate_rate": 0}}])),
    "a run_until over the tick limit": lambda g: json.dumps(_doc(g, [{"kind": "run_until", "args": {
        "max_ticks": 10**12, "ticks": 10**11, "reached": False, "latency": [1, 3], "drop_rate": 0,
        "duplicate_rate": 0}}])),
    "many runs adding up past the limit": lambda g: json.dumps(_doc(g, [{"kind": "run", "args": {
        "ticks": 9_000_000, "latency": [1, 3], "drop_rate": 0, "duplicate_rate": 0}}] * 3)),
    "deeply nested JSON": lambda g: '{"format": "raftbook-trace", "version": 1, "events": ' + "[" * 100_000
    + "]" * 100_000 + "}",
    "nested within the limits of json but not of traces": lambda g: json.dumps(_doc(g, [{
        "kind": "propose", "args": {"command": ["set", "k", [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}}])),
    "a 5000-digit number": lambda g: json.dumps(g)[:-1] + ', "x": ' + "9" * 5000 + "}",
    "a 1000-digit number": lambda g: json.dumps(dict(g, seed=10**999)),
    "a 1000-digit tick count": lambda g: json.dumps(_doc(g, [{"kind": "run", "args": {
        "ticks": 10**999, "latency": [1, 3], "drop_rate": 0, "duplicate_rate": 0}}])),
    "a huge latency": lambda g: json.dumps(_doc(g, [{"kind": "run", "args": {
        "ticks": 10, "latency": [1, 10**30], "drop_rate": 0, "duplicate_rate": 0}}])),
    "a NaN drop rate": lambda g: json.dumps(_doc(g, [{"kind": "run", "args": {
        "ticks": 10, "latency": [1, 3], "drop_rate": float("nan"), "duplicate_rate": 0}}])),
    "no final fingerprint": lambda g: json.dumps(_doc(g, g["events"], final=False)),
    "a wrong final fingerprint": lambda g: json.dumps(dict(g, final={"time": 0, "fingerprint": "0" * 16})),
    "a long string": lambda g: json.dumps(dict(g, handlers={"x" * 20_000: "y"})),
    "an unknown server in an event": lambda g: json.dumps(_doc(g, [{"kind": "crash", "args": {"node": 99}}])),
    "args of the wrong type": lambda g: json.dumps(_doc(g, [{"kind": "crash", "args": {"node": [1]}}])),
    "a missing arg": lambda g: json.dumps(_doc(g, [{"kind": "deliver", "args": {}}])),
    "initial with a bad key": lambda g: json.dumps(dict(g, initial={"x": {}})),
    "initial with a huge key": lambda g: json.dumps(dict(g, initial={"9" * 4000: {}})),
    "not UTF-8": None,
}


@pytest.mark.parametrize("name", sorted(BAD))
def test_a_bad_trace_is_a_trace_error_within_a_second(good, tmp_path, name):
    if BAD[name] is None:
        path = tmp_path / "t.json"
        path.write_bytes(b"\xff\xfe" + b"\x00" * 100)
    else:
        path = _write(tmp_path, BAD[name](good))
    with pytest.raises(rb.TraceError):
        _within(5, lambda: rb.Cluster.load_trace(path))


def test_an_oversized_file_is_refused_unread(good, tmp_path, monkeypatch):
    monkeypatch.setattr(trace_mod, "MAX_TRACE_BYTES", 1000)
    path = _write(tmp_path, json.dumps(good) + " " * 2000)
    with pytest.raises(rb.TraceError, match="larger than the limit"):
        rb.Cluster.load_trace(path)


def test_too_many_events_are_refused_before_replay(good, tmp_path, monkeypatch):
    monkeypatch.setattr(trace_mod, "MAX_TRACE_EVENTS", 50)
    path = _write(tmp_path, json.dumps(_doc(good, [{"kind": "tick", "args": {}}] * 51)))
    with pytest.raises(rb.TraceError, match="MAX_TRACE_EVENTS"):
        rb.Cluster.load_trace(path)


def test_duplicate_floods_load_in_bounded_time(good, tmp_path):
    c = rb.Cluster(3, seed=0)
    c.tick()
    for _ in range(200):
        c.timeout(1) if c.nodes[1].role != rb.Role.LEADER else None
        break
    c.run(3)
    ev = next(iter(c.flight))
    doc = c.trace()
    doc["events"] += [{"kind": "duplicate", "args": {"msg_id": ev}}] * 20_000
    doc.pop("final")
    path = _write(tmp_path, json.dumps(doc))
    d = _within(60, lambda: rb.Cluster.load_trace(path, require_final=False))
    assert len(d.flight) >= 20_000


def test_a_good_trace_still_loads_and_final_can_be_waived(good, tmp_path):
    path = _write(tmp_path, json.dumps(good))
    c = rb.Cluster.load_trace(path)
    assert c.fingerprint() == good["final"]["fingerprint"]
    bare = dict(good)
    bare.pop("final")
    path = _write(tmp_path, json.dumps(bare), "bare.json")
    with pytest.raises(rb.TraceError, match="final"):
        rb.Cluster.load_trace(path)
    assert rb.Cluster.load_trace(path, require_final=False).fingerprint() == c.fingerprint()
    assert rb.Cluster.from_trace(bare).fingerprint() == c.fingerprint()
    with pytest.raises(rb.TraceError, match="final"):
        rb.Cluster.from_trace(bare, require_final=True)


def test_run_until_replays_with_validated_args(good):
    c = rb.Cluster(3, seed=5)
    assert c.run_until(lambda c: c.leader is not None, 500)
    doc = c.trace()
    assert rb.Cluster.from_trace(doc).fingerprint() == c.fingerprint()
    doc["events"][0]["args"]["ticks"] = doc["events"][0]["args"]["max_ticks"] + 1
    with pytest.raises(rb.TraceError):
        rb.Cluster.from_trace(doc)
