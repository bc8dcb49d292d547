"""The large benchmark capture (issue 6), streamed straight to disk.

``mip6-audit samples --scenario bulk --mns 2000 --frames 1200000 --out DIR``
writes ``DIR/bulk-<mns>mn-<frames>.pcap`` (and ``.pcapng``) plus the keyfile.
One third of the frames are BU/BA: every mobile node refreshes or hands over
about once a minute; the rest is unrelated IPv4/IPv6 UDP/TCP drawn from a pool.
A small share of exchanges (``--faults``) carries a replay, a forged BU or a
clock jump with its 144 dance, so the rules have something to find.

Memory stays flat: frames leave through a reorder heap that holds only the
few milliseconds between a BU and its BA, and per-node state is a handful of
fields, so the 4x capture costs the same memory as the 1x one.
"""

from __future__ import annotations

import heapq
import os
from typing import Iterable, List, Tuple

from . import output, traffic
from .nodes import EPOCH_US, US, Clock, Script
from .scenarios import forged_mn_ha, keyfile_text

NAME = "bulk"
TITLE = ("Benchmark capture streamed to disk: --mns nodes handing over about once a minute, one third BU/BA, "
         "the rest unrelated traffic; --faults adds replays, forgeries and clock jumps.")
DEFAULT_MNS = 2000
DEFAULT_FRAMES = 1_200_000
DEFAULT_FAULT_RATE = 0.001
VISITED_NETWORKS = 64
MEAN_INTERVAL = 60.0       # seconds between one node's BUs
POOL_SIZE = 8192           # distinct unrelated frames, reused with fresh timestamps
REPLAY, FORGERY, CLOCK_JUMP = "replay", "forgery", "clock jump"


class StreamScript(Script):
    """A Script whose frames go to a reorder heap instead of a list."""

    def __init__(self, seed: int, start_us: int = EPOCH_US):
        super().__init__(NAME, seed, start_us=start_us)
        self.pending: List[Tuple[int, int, bytes]] = []
        self.counter = 0
        self.signalling = 0
        self.last_frame = b""

    def emit(self, data, label="", message=None, at=None) -> int:
        self.counter += 1
        if message is not None:
            self.signalling += 1
        self.last_frame = data
        heapq.heappush(self.pending, (self.t if at is None else at, self.counter, data))
        return self.counter

    def flush_until(self, t_us: int) -> Iterable[Tuple[int, bytes]]:
        pending = self.pending
        while pending and pending[0][0] <= t_us:
            ts, _, data = heapq.heappop(pending)
            yield ts, data


def stream_frames(script: StreamScript, mns: int, total: int, fault_rate: float) -> Iterable[Tuple[int, bytes]]:
    """(timestamp µs, frame) in time order, exactly ``total`` of them."""
    rng = script.rng
    nodes = [script.mobile_node(nai="mn%d@bulk.example.net" % (i + 1), clock=Clock(rng.uniform(-2, 2),
                                rng.uniform(-20, 20))) for i in range(mns)]
    pool = traffic.Background(rng, [(script.home_agent.address, script.care_of(1, mn), mn.home)
                                    for mn in nodes[:64]]).pool(POOL_SIZE)
    signalling_target = total // 3
    # (time, tie-break, node index, action): the next thing each node does.
    agenda = [(script.t + round(rng.uniform(0, MEAN_INTERVAL) * US), i, i, "bu") for i in range(mns)]
    heapq.heapify(agenda)
    network = [0] * mns
    written = unrelated = 0
    last_t = script.t
    tie = mns
    while agenda and script.signalling < signalling_target:
        t, _, index, action = heapq.heappop(agenda)
        # Unrelated frames fill the gap so that they stay two thirds of what is written.
        due = 2 * script.signalling - unrelated
        if due > 0:
            for gap_t in sorted(rng.randrange(last_t, t) for _ in range(due)) if t > last_t else [t] * due:
                heapq.heappush(script.pending, (gap_t, 0, pool[rng.randrange(POOL_SIZE)]))
            unrelated += due
        for item in script.flush_until(t):
            written += 1
            yield item
        last_t = script.t = t
        mn = nodes[index]
        if action in ("bu", "retry"):
            if action == "bu" and rng.random() < 0.5:
                network[index] = rng.randrange(1, VISITED_NETWORKS + 1)
            fault = None
            if action == "bu" and rng.random() < fault_rate:
                fault = rng.choice((REPLAY, FORGERY, CLOCK_JUMP))
            if fault == CLOCK_JUMP:
                mn.clock.set(t, mn.clock.now_us(t) + rng.choice((-1, 1)) * rng.randrange(20, 120) * US)
            bu = mn.binding_update(script.care_of(network[index], mn))
            mn.send(bu)
            bu_bytes = script.last_frame
            script.home_agent.answer(bu)
            if fault == CLOCK_JUMP:
                mn.adjust_clock(script.last_ba)
                tie += 1
                heapq.heappush(agenda, (t + US // 2, tie, index, "retry"))
                continue
            if fault == REPLAY:
                tie += 1
                heapq.heappush(agenda, (t + 2 * US, tie, index, ("replay", bu_bytes, bu)))
            elif fault == FORGERY:
                tie += 1
                heapq.heappush(agenda, (t + 3 * US, tie, index, "forgery"))
        elif action == "forgery":
            forged = mn.binding_update(script.care_of(VISITED_NETWORKS + 1, mn), seq=(mn.seq + 1) % 65536,
                                       options=[mn.nai_option(), script.replay_option(), forged_mn_ha(script, mn)])
            script.emit_message(forged, to_home_agent=True, label="forged BU")
            script.home_agent.answer(forged)
            continue
        else:
            _, bu_bytes, bu = action
            script.emit(bu_bytes, message=bu)
            script.home_agent.answer(bu)
            continue
        tie += 1
        heapq.heappush(agenda, (t + round(rng.uniform(0.5, 1.5) * MEAN_INTERVAL * US), tie, index, "bu"))
    for item in script.flush_until(1 << 62):
        if written == total:
            return
        written += 1
        yield item
        last_t = item[0]
    while written < total:
        last_t += rng.randrange(100, 5000)
        written += 1
        yield last_t, pool[rng.randrange(POOL_SIZE)]


def file_stem(mns: int, total: int, seed: int) -> str:
    return "bulk-%dmn-%dframes%s" % (mns, total, "" if seed == 1 else "-seed%d" % seed)


def write(directory: str, formats: Iterable[str], *, mns: int, frames: int, fault_rate: float, seed: int,
          start_us: int = EPOCH_US) -> List[str]:
    """Stream the capture to every format at once; write the keyfile; return the paths."""
    stem = os.path.join(directory, file_stem(mns, frames, seed))
    script = StreamScript(seed, start_us)
    handles = [open("%s.%s" % (stem, fmt), "wb") for fmt in formats]
    try:
        writers = [output.CaptureWriter(handle, fmt) for handle, fmt in zip(handles, formats)]
        for ts_us, data in stream_frames(script, mns, frames, fault_rate):
            for writer in writers:
                writer.write(ts_us, data)
    finally:
        for handle in handles:
            handle.close()
    paths = [handle.name for handle in handles]
    paths.append(output.write_keyfile(stem + ".keys.toml", keyfile_text(script)))
    return paths
