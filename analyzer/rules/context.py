"""Facts the rules share: per-node state, the judged BU, and the context.

Everything here is sized by the number of mobile nodes, never by the number
of frames: a node keeps its replay bar, its last answers and a bounded window
of authenticators it has already sent.
"""

from __future__ import annotations

import hashlib
import random
from array import array
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Optional

from .. import schema
from ..keys import KeyStore, Policy, SecurityAssociation

SEEN_AUTHENTICATORS = 256   # replays of older BUs are still caught as stale
SKEW_SAMPLES = 257          # reservoir for the per-node median skew
PENDING_PER_NODE = 16       # BUs awaiting their BA


def ntp_to_unix(ntp: int) -> float:
    return (ntp >> 32) - schema.NTP_UNIX_OFFSET + (ntp & 0xFFFFFFFF) / 2 ** 32


def sequence_newer(new: int, old: int) -> bool:
    """RFC 6275 §9.5.1: newer when (new - old) mod 65536 lies in 1..32767."""
    return 0 < (new - old) % 65536 < 32768


class SkewStats:
    """min / max exactly, median from a deterministic bounded reservoir.

    The reservoir is allocated whole at the first sample, so a node costs the
    same memory after ten BUs as after ten thousand."""

    __slots__ = ("count", "low", "high", "samples", "_rng")

    def __init__(self, seed: int = 0):
        self.count = 0
        self.low = None
        self.high = None
        self.samples = None          # array of SKEW_SAMPLES doubles, the first min(count, SKEW_SAMPLES) used
        self._rng = random.Random(seed)

    def add(self, value: float) -> None:
        if self.samples is None:
            self.samples = array("d", bytes(8 * SKEW_SAMPLES))
        self.count += 1
        self.low = value if self.low is None else min(self.low, value)
        self.high = value if self.high is None else max(self.high, value)
        if self.count <= SKEW_SAMPLES:
            self.samples[self.count - 1] = value
        else:
            slot = self._rng.randrange(self.count)
            if slot < SKEW_SAMPLES:
                self.samples[slot] = value

    def as_json(self) -> dict:
        ordered = sorted(self.samples[:min(self.count, SKEW_SAMPLES)]) if self.samples is not None else []
        median = ordered[len(ordered) // 2] if ordered else None
        return {"samples": self.count, "min": _round(self.low), "median": _round(median),
                "max": _round(self.high), "median_exact": self.count <= SKEW_SAMPLES}


class SkewHistogram:
    """min / median / max over values kept to the millisecond the summary shows.

    Unlike the reservoir it merges exactly, so the home agents' skew is the
    same whether one process or several measured it; rounding is monotonic,
    so each statistic equals the exact one rounded."""

    __slots__ = ("counts",)

    def __init__(self):
        self.counts: Dict[float, int] = {}

    def add(self, value: float) -> None:
        key = round(value, 3)
        self.counts[key] = self.counts.get(key, 0) + 1

    def merge(self, other: "SkewHistogram") -> None:
        for key, count in other.counts.items():
            self.counts[key] = self.counts.get(key, 0) + count

    def as_json(self) -> dict:
        ordered = sorted(self.counts.items())
        total = sum(count for _value, count in ordered)
        median, seen = None, 0
        for value, count in ordered:
            seen += count
            if seen > total // 2:
                median = value
                break
        return {"samples": total, "min": ordered[0][0] if ordered else None, "median": median,
                "max": ordered[-1][0] if ordered else None, "median_exact": True}


class AuthenticatorWindow:
    """The last SEEN_AUTHENTICATORS distinct authenticators a node sent, each with
    the frame it was last seen in; the oldest is forgotten first.

    Two fixed buffers instead of a dict of bytes: memory is the same for every
    node from its first BU on, whatever the length of the capture.  Entries are
    kept oldest first in slots of a length octet and 20 octets (a longer
    authenticator is kept as its SHA-1, marked by length 255)."""

    SLOT = 21
    __slots__ = ("keys", "frames", "count", "size")

    def __init__(self, size: int = SEEN_AUTHENTICATORS):
        self.size = size
        self.keys = bytearray(size * self.SLOT)
        self.frames = array("q", bytes(8 * size))
        self.count = 0

    @staticmethod
    def _slot(authenticator: bytes) -> bytes:
        if len(authenticator) > AuthenticatorWindow.SLOT - 1:
            return b"\xff" + hashlib.sha1(authenticator).digest()
        return bytes((len(authenticator),)) + authenticator + bytes(AuthenticatorWindow.SLOT - 1 - len(authenticator))

    def _index(self, slot: bytes) -> int:
        end = self.count * self.SLOT
        found = self.keys.find(slot, 0, end)
        while found > 0 and found % self.SLOT:
            found = self.keys.find(slot, found + 1, end)
        return found // self.SLOT if found >= 0 else -1

    def get(self, authenticator: bytes) -> Optional[int]:
        index = self._index(self._slot(authenticator))
        return self.frames[index] if index >= 0 else None

    def __len__(self) -> int:
        return self.count

    def remember(self, authenticator: bytes, frame: int) -> None:
        slot = self._slot(authenticator)
        index = self._index(slot)
        if index < 0 and self.count < self.size:
            index = self.count
            self.count += 1
        elif index < 0:
            index = 0           # forget the oldest
        last, width = self.count - 1, self.SLOT
        # Entries after ``index`` move one slot towards the start; this one goes last.
        self.keys[index * width:last * width] = self.keys[(index + 1) * width:self.count * width]
        self.frames[index:last] = self.frames[index + 1:self.count]
        self.keys[last * width:self.count * width] = slot
        self.frames[last] = frame


def _round(value):
    return None if value is None else round(value, 3)


@dataclass
class BUAssessment:
    """What the analyzer concluded about one BU, kept until its BA arrives."""

    frame: int
    capture: str
    ts_ns: int
    seq: Optional[int]
    ack_requested: bool
    policy: Policy
    sa: Optional[SecurityAssociation]
    timestamp: Optional[int]                 # the 64-bit NTP value, or None
    has_auth: bool = False
    has_mn_ha: bool = False
    has_mn_aaa: bool = False
    auth_failed: bool = False                # some authenticator verified invalid
    auth_valid: bool = False                 # every authenticator verified valid
    skew: Optional[float] = None             # timestamp minus clock, seconds
    drifted: bool = False
    stale_against: Optional[int] = None      # frame whose accepted value this one fails
    duplicate_of: Optional[int] = None
    mesg_id_required_missing: bool = False
    sa_without_auth: bool = False
    checksum_bad: bool = False
    aaa_before_ha: bool = False
    authenticators: tuple = ()

    @property
    def discard_expected(self) -> bool:
        """An RFC-conformant HA drops this BU without an answer."""
        return self.checksum_bad or self.sa_without_auth or self.aaa_before_ha

    @property
    def timestamp_invalid(self) -> bool:
        return self.drifted or self.stale_against is not None or self.duplicate_of is not None

    def defects(self) -> List[str]:
        """Reasons an RFC-conformant HA must refuse this BU, most fundamental first."""
        found = []
        if self.checksum_bad:
            found.append("its Mobility Header checksum is wrong")
        if self.aaa_before_ha:
            found.append("its MN-HA option follows the MN-AAA option")
        if self.auth_failed:
            found.append("its authenticator is invalid")
        if self.sa_without_auth:
            found.append("it has no authentication option although an SA exists")
        if self.mesg_id_required_missing:
            found.append("it lacks the required replay-protection option")
        if self.duplicate_of is not None:
            found.append("it replays frame %d" % self.duplicate_of)
        elif self.stale_against is not None:
            found.append("it is not newer than the value accepted in frame %d" % self.stale_against)
        if self.drifted:
            found.append("its timestamp is %.1f s from the clock" % self.skew)
        return found

    def prescribed_status(self) -> Optional[int]:
        """The rejection RFC 4285 prescribes, or None when no code is prescribed."""
        if self.discard_expected:
            return None
        if self.auth_failed:
            return schema.STATUS_AUTH_FAIL
        if self.mesg_id_required_missing:
            return schema.STATUS_MESG_ID_REQD
        if self.timestamp is not None and self.policy.replay == "timestamp" and self.timestamp_invalid:
            return schema.STATUS_ID_MISMATCH
        return None


@dataclass
class NodeState:
    mn_id: str
    accepted_timestamp: Optional[int] = None
    accepted_timestamp_frame: Optional[int] = None
    accepted_seq: Optional[int] = None
    accepted_seq_frame: Optional[int] = None
    last_status: Optional[int] = None
    # (HA address, MN-side address the 146 went to) -> frame of that 146
    auth_fail_from: Dict[tuple, int] = field(default_factory=dict)
    mismatch_frame: Optional[int] = None     # the 144 the MN must now adjust to
    mismatch_ha_offset: Optional[float] = None
    pending: "OrderedDict[int, BUAssessment]" = field(default_factory=OrderedDict)
    seen: AuthenticatorWindow = field(default_factory=AuthenticatorWindow)   # authenticator -> frame
    skew: SkewStats = field(default_factory=SkewStats)

    def remember_authenticators(self, assessment: BUAssessment) -> None:
        for auth in assessment.authenticators:
            self.seen.remember(auth, assessment.frame)


@dataclass
class RuleContext:
    keys: Optional[KeyStore]
    clock_offset: float = 0.0
    explain: bool = False

    def clock(self, ts_ns: int) -> float:
        """The clock timestamps are judged against: capture time, shifted."""
        return ts_ns / 1e9 + self.clock_offset

    def sa_for(self, nai: Optional[str], home_address: Optional[bytes], spi: Optional[int] = None):
        if self.keys is None:
            return None
        if spi is not None:
            sa = self.keys.mn_ha_for_spi(spi)
            if sa is not None:
                return sa
        return self.keys.mn_ha_for_node(nai, home_address) or self.keys.mn_aaa_for_nai(nai)

    def policy_for(self, sa) -> Policy:
        if self.keys is None:
            return Policy()
        return self.keys.policy_for(sa)
