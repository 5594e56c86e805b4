"""The simulated network: messages in flight, crashed servers, partitions and cut links.

It also owns the network's randomness: during an automatic run every message
draws its delivery time, and then its loss or duplication, here and nowhere
else, always in the same order, so a seed replays the same run bit for bit.
"""
from __future__ import annotations

import heapq
from array import array
from dataclasses import dataclass
from typing import Any

#: How a message in flight can be lost (as NETWORK_ACTIONS names them): the network
#: drops it, its receiver is crashed, a partition separates it from its sender, or the
#: single link between the two is cut (a partial partition).
DROPPED, LOST_CRASH, LOST_PARTITION, LOST_CUT = "dropped", "lost_crash", "lost_partition", "lost_cut"

#: A checkpoint of the messages in flight stores what changed since the previous one
#: (see Network.export); after this many such links in a row it stores them all again,
#: so loading one never walks a long chain.
FLIGHT_CHAIN = 32


def pack_rng_state(state):
    """A ``random.Random.getstate()`` in about 2.5 KB of bytes instead of 625 int objects (24 KB).

    Checkpoints keep one generator state per server and one for the network; packed,
    they cost a tenth. Any state this cannot pack exactly is kept as it is.
    """
    if (type(state) is tuple and len(state) == 3 and state[0] == 3 and state[2] is None
            and type(state[1]) is tuple and len(state[1]) == 625):
        try:
            return array("I", state[1]).tobytes()
        except OverflowError:  # not 32-bit words: not a state Random made
            return state
    return state


def unpack_rng_state(packed):
    """The ``random.Random.setstate()`` argument that :func:`pack_rng_state` packed."""
    if type(packed) is bytes:
        return (3, tuple(array("I", packed)), None)
    return packed


@dataclass(slots=True)
class Envelope:
    """A message in flight. ``deliver_at`` is set by automatic runs only."""

    id: int
    msg: Any
    sent_at: int
    deliver_at: int | None = None

    @property
    def type(self) -> str:
        return type(self.msg).__name__


class Network:
    """Which messages are in flight, who is crashed, how servers are split, and the run's draws.

    Message ids are unique and increasing for the life of a cluster. Outside an
    automatic run ``due`` is None and messages wait to be delivered by hand.
    """

    __slots__ = ("flight", "next_id", "crashed", "groups", "group_of", "cuts", "_cut", "rng",
                 "_randbelow", "due", "counts", "_lo", "_width", "_drop_rate", "_dup_rate", "_base", "_gone", "_below")

    def __init__(self, rng):
        self.flight: dict[int, Envelope] = {}
        self.next_id = 1
        self.crashed: set[int] = set()
        self.groups: tuple | None = None  # the partition, as a tuple of frozensets
        self.group_of: dict | None = None  # server id -> index of its group
        # A partial partition: links cut between two servers that may both still reach
        # others. ``cuts`` holds each cut link once as (low id, high id); ``_cut`` the
        # same links in both directions, for the delivery loop (None when none is cut).
        self.cuts: frozenset = frozenset()
        self._cut: frozenset | None = None
        self.rng = rng
        # lo + _randbelow(hi - lo + 1) is exactly what randint(lo, hi) draws, minus two calls.
        self._randbelow = getattr(rng, "_randbelow", None) or (lambda k: rng.randint(0, k - 1))
        self.due: list | None = None  # (deliver_at, id) heap of the current automatic run
        self.counts: list | None = None  # the current run's messages delivered, dropped, duplicated, lost
        self._lo = self._width = 1  # latency lo and hi - lo + 1 of the current run
        self._drop_rate = self._dup_rate = 0.0
        # What changed in flight since the last export or load: the export it started
        # from (None: none yet) and the ids taken out or replaced since. Envelopes are
        # never changed once an event ends (a rescheduled one is replaced by a copy),
        # so checkpoints share them and store only the change.
        self._base = None
        self._gone: set = set()
        self._below = 0  # ids below this were in the base export: only they need noting when gone

    # ------------------------------------------------------------------ reachability
    def can_reach(self, src: int, dst: int) -> bool:
        """Would a message from src to dst be delivered now (no partition or cut link, dst running)?"""
        if dst in self.crashed:
            return False
        if self._cut is not None and (src, dst) in self._cut:
            return False
        g = self.group_of
        return g is None or g[src] == g[dst]

    def partition(self, groups: tuple) -> None:
        """Split the servers into ``groups`` (already validated: every server in exactly one)."""
        self.groups = groups
        self.group_of = {i: k for k, g in enumerate(groups) for i in g}

    def heal(self) -> None:
        """Remove the partition and every cut link."""
        self.groups = None
        self.group_of = None
        self.set_cuts(frozenset())

    def set_cuts(self, cuts) -> None:
        """Cut exactly these links, each a (low, high) pair of server ids, both directions."""
        self.cuts = frozenset(cuts)
        self._cut = frozenset(p for a, b in self.cuts for p in ((a, b), (b, a))) or None

    # ------------------------------------------------------------------ messages
    def send(self, msgs, now: int, notes: list | None = None, sent: list | None = None) -> None:
        """Put messages in flight; during an automatic run each draws its delivery time.

        ``notes`` collects ``(time, "sent", id, msg, None)``; ``sent`` the new ids of
        messages sent by hand (an automatic run's event lists them in its notes only).
        """
        flight, mid = self.flight, self.next_id
        if self.due is None:
            for m in msgs:
                flight[mid] = Envelope(mid, m, now)
                if sent is not None:
                    sent.append(mid)
                if notes is not None:
                    notes.append((now, "sent", mid, m, None))
                mid += 1
            self.next_id = mid
            return
        timed = []
        for m in msgs:
            env = flight[mid] = Envelope(mid, m, now)
            timed.append(env)
            if notes is not None:
                notes.append((now, "sent", mid, m, None))
            mid += 1
        self.next_id = mid
        self._schedule(timed, now)

    def take(self, env: Envelope) -> str | None:
        """Take a message out of flight to deliver it: None if it arrives, else how it is lost."""
        del self.flight[env.id]
        if env.id < self._below:
            self._gone.add(env.id)
        msg = env.msg
        if msg.dst in self.crashed:
            return LOST_CRASH
        if self._cut is not None and (msg.src, msg.dst) in self._cut:
            return LOST_CUT
        return None if self.can_reach(msg.src, msg.dst) else LOST_PARTITION

    def drop(self, msg_id: int) -> Envelope:
        """The network loses one message in flight."""
        if msg_id < self._below:
            self._gone.add(msg_id)
        return self.flight.pop(msg_id)

    # ------------------------------------------------------------------ automatic runs
    def _schedule(self, envs, now: int) -> None:
        """Draw each message's latency (the one place it is drawn) and queue its delivery."""
        lo, width, draw, due, push = self._lo, self._width, self._randbelow, self.due, heapq.heappush
        for env in envs:
            at = env.deliver_at = now + lo + draw(width)
            push(due, (at, env.id))

    def start_run(self, options: dict, now: int) -> None:
        """Begin an automatic run with validated ``options`` (latency, drop_rate, duplicate_rate).

        Messages already in flight keep a delivery time still to come; the others
        (sent by hand, or due in the past) draw a new one, oldest first.
        """
        lo, hi = options["latency"]
        self._lo, self._width = lo, hi - lo + 1
        self._drop_rate, self._dup_rate = options["drop_rate"], options["duplicate_rate"]
        self.counts = [0, 0, 0, 0]
        due = self.due = []
        late = []
        flight = self.flight
        for env in flight.values():
            if env.deliver_at is None or env.deliver_at <= now:
                late.append(env)
            else:
                heapq.heappush(due, (env.deliver_at, env.id))
        if late:
            # Checkpoints share envelopes: a rescheduled message gets a new one (same place).
            late = [Envelope(e.id, e.msg, e.sent_at) for e in late]
            for e in late:
                flight[e.id] = e
            self._gone.update(e.id for e in late if e.id < self._below)
        self._schedule(late, now)

    def end_run(self) -> dict:
        """End the automatic run; returns its counts of messages delivered, dropped, duplicated, lost."""
        counts, self.due, self.counts = self.counts or [0, 0, 0, 0], None, None
        return dict(zip(("delivered", "dropped", "duplicated", "lost"), counts))

    def deliver_due(self, now: int, arrive, copy, note) -> None:
        """Take every message due by ``now`` out of flight, in delivery order, and carry out its fate.

        The network drops it (drawn first, when drop_rate is not 0: ``note(now,
        DROPPED, env)``), or maybe copies it (drawn next, when duplicate_rate is not
        0: ``copy(env)`` sends the copy) and then it arrives (``arrive(env)``) unless
        its receiver is crashed or cut off (``note(now, LOST_CRASH, LOST_CUT or LOST_PARTITION,
        env)``). Each receiver steps before the next message draws: its replies draw
        their latency from the same generator. ``counts`` adds up the fates.
        """
        due = self.due
        if not due or due[0][0] > now:
            return
        flight, pop = self.flight, heapq.heappop
        drop_rate, dup_rate, rnd = self._drop_rate, self._dup_rate, self.rng.random
        # Crashes, partitions and cuts never change during a run; can_reach, inlined (the hot path).
        crashed, group_of, cut = self.crashed, self.group_of, self._cut
        delivered = dropped = duplicated = lost = 0
        gone_add, below = self._gone.add, self._below
        while due and due[0][0] <= now:
            at, mid = pop(due)
            env = flight.get(mid)
            if env is None or env.deliver_at != at:
                continue  # delivered, dropped or rescheduled since it was queued
            del flight[mid]
            if mid < below:
                gone_add(mid)
            if drop_rate and rnd() < drop_rate:
                note(now, DROPPED, env)
                dropped += 1
                continue
            if dup_rate and rnd() < dup_rate:
                copy(env)
                duplicated += 1
            msg = env.msg
            if msg.dst in crashed:
                note(now, LOST_CRASH, env)
                lost += 1
            elif cut is not None and (msg.src, msg.dst) in cut:
                note(now, LOST_CUT, env)
                lost += 1
            elif group_of is not None and group_of[msg.src] != group_of[msg.dst]:
                note(now, LOST_PARTITION, env)
                lost += 1
            else:
                arrive(env)
                delivered += 1
        c = self.counts
        c[0] += delivered
        c[1] += dropped
        c[2] += duplicated
        c[3] += lost

    # ------------------------------------------------------------------ checkpoints
    def export(self) -> tuple:
        """The network's whole state as immutable data, for checkpoints and snapshots.

        The messages in flight are stored as a link to the previous export plus what
        changed since (ids gone, envelopes added), or in full every FLIGHT_CHAIN links,
        so a checkpoint costs what changed, not everything in flight.
        """
        return (self.next_id, self._export_flight(), frozenset(self.crashed), self.groups,
                pack_rng_state(self.rng.getstate()), self.cuts)

    def _export_flight(self):
        base, flight = self._base, self.flight
        if base is not None and base[0] < FLIGHT_CHAIN:
            depth, _, _, _, base_next = base
            gone = self._gone
            added = []
            for env in reversed(flight.values()):  # ids increase along the dict
                if env.id < base_next:
                    break
                added.append(env)
            added.reverse()
            replaced = tuple(flight[i] for i in sorted(gone) if i in flight and i < base_next)
            if len(gone) + len(added) < max(16, len(flight)):
                out = (depth + 1, base, frozenset(gone), replaced + tuple(added), self.next_id)
                self._base, self._gone, self._below = out, set(), self.next_id
                return out
        out = (0, None, frozenset(), tuple(flight.values()), self.next_id)
        self._base, self._gone, self._below = out, set(), self.next_id
        return out

    @staticmethod
    def _flight_of(link) -> dict:
        chain = []
        while link is not None:
            chain.append(link)
            link = link[1]
        flight: dict = {}
        for _, _, gone, added, _ in reversed(chain):
            for i in gone:
                flight.pop(i, None)
            for env in added:
                flight[env.id] = env
        # in id order, as sending made it (a replaced envelope keeps its place)
        return dict(sorted(flight.items())) if len(chain) > 1 else flight

    def load(self, state: tuple) -> None:
        self.next_id, flight, crashed, groups, rng_state = state[:5]
        self.flight = self._flight_of(flight)
        self._base, self._gone, self._below = flight, set(), flight[4]
        self.crashed = set(crashed)
        if groups is None:
            self.heal()
        else:
            self.partition(groups)
        self.set_cuts(state[5] if len(state) > 5 else frozenset())
        self.rng.setstate(unpack_rng_state(rng_state))
