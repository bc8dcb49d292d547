"""The actors of a scenario: clocks, mobile nodes, a home agent, the script.

Time runs in integer microseconds of capture time (Unix epoch), so every
timestamp written is exact and reproducible.  Each node reads its own
``Clock``: the capture clock plus an offset that may drift.  The home agent
decides each answer as RFC 4285 and RFC 6275 prescribe, from the message it
received, its own SAs and its own clock; a scenario can override any part of
an answer to make a faulty home agent.
"""

from __future__ import annotations

import ipaddress
import random
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from .. import schema
from . import packets
from .packets import Auth, Damage, MobilityMessage, Option

US = 1_000_000
# 2024-05-14T09:00:00Z: every scenario starts here, so output never depends on today's date.
EPOCH_US = 1715677200 * US
EPOCH_TEXT = "2024-05-14T09:00:00Z"
FLAG_A = 0x8000   # BU Acknowledge
FLAG_H = 0x4000   # BU Home Registration
STATUS_ACCEPTED = 0
STATUS_SEQ_OUT_OF_WINDOW = 135
REJECTED = 128
SEQ_MODULUS = 1 << 16
NTP_SUBMICRO = (1 << 32) // US   # fraction steps below one microsecond, filled at random (RFC 4285 §6)

ROUTER_MAC = bytes.fromhex("020000000001")
HA_MAC = bytes.fromhex("020000000002")


def address(text: str) -> bytes:
    return ipaddress.IPv6Address(text).packed


def show(raw: bytes) -> str:
    return str(ipaddress.IPv6Address(raw))


def ntp_timestamp(unix_us: int, rng: random.Random) -> int:
    seconds, micro = divmod(unix_us, US)
    fraction = (micro << 32) // US + rng.randrange(NTP_SUBMICRO)
    return ((seconds + schema.NTP_UNIX_OFFSET) << 32) | fraction


def ntp_to_unix_us(timestamp: int) -> int:
    return ((timestamp >> 32) - schema.NTP_UNIX_OFFSET) * US + ((timestamp & 0xFFFFFFFF) * US >> 32)


def sequence_newer(new: int, old: int) -> bool:
    """RFC 6275 §9.5.1: newer when (new - old) mod 2**16 lies in 1..32767."""
    return 0 < (new - old) % SEQ_MODULUS < SEQ_MODULUS // 2


class Clock:
    """A node's time of day: capture time + offset + drift since the last setting."""

    def __init__(self, offset: float = 0.0, drift_ppm: float = 0.0):
        self.offset_us = round(offset * US)
        self.drift_ppm = drift_ppm
        self.anchor_us: Optional[int] = None   # drift counts from the first reading

    def now_us(self, t_us: int) -> int:
        if self.anchor_us is None:
            self.anchor_us = t_us
        return t_us + self.offset_us + round((t_us - self.anchor_us) * self.drift_ppm / US)

    def skew(self, t_us: int) -> float:
        return (self.now_us(t_us) - t_us) / US

    def set(self, t_us: int, node_time_us: int) -> None:
        """Step the clock so that it reads ``node_time_us`` at capture time ``t_us``."""
        self.offset_us = node_time_us - t_us
        self.anchor_us = t_us


@dataclass
class Policy:
    replay: str = "timestamp"
    close_enough: float = 7.0
    require_mesg_id: bool = True


@dataclass
class Frame:
    ts_us: int
    data: bytes
    label: str = ""
    message: Optional[MobilityMessage] = None   # the Mobility Header message it carries, if any


@dataclass
class MobileNode:
    script: "Script"
    index: int
    nai: str
    home: bytes
    spi: int
    key: bytes
    clock: Clock
    seq: int
    aaa_key: Optional[bytes] = None
    in_keyfile: bool = True           # the auditor holds this MN-HA SA
    replay: Optional[str] = None      # per-SA override of the policy

    @property
    def name(self) -> str:
        return self.nai.split("@")[0]

    def mn_ha(self) -> Auth:
        return Auth(schema.AUTH_SUBTYPE_MN_HA, self.spi, self.key)

    def mn_aaa(self, length: int = 20) -> Auth:
        return Auth(schema.AUTH_SUBTYPE_MN_AAA, schema.HMAC_SHA1_SPI, self.aaa_key, length)

    def nai_option(self) -> Option:
        return Option(schema.OPT_MN_ID, {"subtype": schema.MNID_SUBTYPE_NAI, "identifier": self.nai.encode()})

    def replay_option(self) -> Option:
        return self.script.replay_option(self.clock)

    def binding_update(self, care_of: Optional[bytes] = None, *, options=None, auths=None, ack: bool = True,
                       lifetime: int = 150, seq: Optional[int] = None, align: bool = True,
                       damage: Optional[Damage] = None, src: Optional[bytes] = None) -> MobilityMessage:
        """A home registration BU from ``care_of`` (None: from the home link, a deregistration
        when ``lifetime`` is 0).  ``options`` replaces the usual NAI, timestamp, MN-HA list."""
        if seq is None:
            self.seq = (self.seq + 1) % SEQ_MODULUS
            seq = self.seq
        if options is None:
            options = [self.nai_option(), self.replay_option()] + (auths if auths is not None else [self.mn_ha()])
        at_home = care_of is None
        bu = MobilityMessage(
            schema.MH_BU, {"seq": seq, "flags": (FLAG_A if ack else 0) | FLAG_H, "lifetime": lifetime},
            options, src=src or (self.home if at_home else care_of), dst=self.script.home_agent.address,
            home_address_option=None if at_home else self.home, align=align, damage=damage or Damage())
        return bu

    def send(self, bu: MobilityMessage, label: str = "") -> int:
        return self.script.emit_message(bu, to_home_agent=True, label=label or "BU from %s" % self.name)

    def register(self, care_of: Optional[bytes], *, label: str = "", answer: Optional[dict] = None,
                 **bu_options) -> Tuple[int, int]:
        """Send a BU and let the home agent answer it: (BU frame, BA frame) handles."""
        bu = self.binding_update(care_of, **bu_options)
        bu_handle = self.send(bu, label)
        return bu_handle, self.script.home_agent.answer(bu, **(answer or {}))

    def adjust_clock(self, ba: MobilityMessage) -> None:
        """After a 144, take the seconds from the echoed timestamp's high bits (RFC 4285 §6)."""
        echoed = ba.timestamp
        self.clock.set(self.script.t, ((echoed >> 32) - schema.NTP_UNIX_OFFSET) * US)


@dataclass
class HomeAgent:
    script: "Script"
    address: bytes
    clock: Clock = field(default_factory=Clock)
    accepted_timestamp: Dict[str, int] = field(default_factory=dict)
    accepted_seq: Dict[str, int] = field(default_factory=dict)

    def node_for(self, bu: MobilityMessage) -> Optional[MobileNode]:
        """Whose BU this claims to be: by NAI, else MN-HA SPI, else home address."""
        script = self.script
        mn = script.node_by_nai.get(bu.nai)
        for auth in bu.auths:
            if mn is None and auth.subtype == schema.AUTH_SUBTYPE_MN_HA:
                mn = script.node_by_spi.get(auth.spi)
        return mn or script.node_by_home.get(bu.home_address)

    def authentic(self, auth: Auth, mn: MobileNode) -> bool:
        if auth.forged is not None:
            return False
        if auth.subtype == schema.AUTH_SUBTYPE_MN_HA:
            return auth.spi == mn.spi and auth.key == mn.key
        if auth.subtype == schema.AUTH_SUBTYPE_MN_AAA:
            return auth.spi == schema.HMAC_SHA1_SPI and mn.aaa_key is not None and auth.key == mn.aaa_key
        return False

    def status_for(self, bu: MobilityMessage, mn: MobileNode) -> Optional[int]:
        """The status RFC 4285 §5.1.1 and §6 (and RFC 6275 §9.5.1) prescribe; None: drop silently."""
        subtypes = [a.subtype for a in bu.auths]
        if not subtypes:
            return None   # §5: no authentication option although an SA exists
        if schema.AUTH_SUBTYPE_MN_HA in subtypes and schema.AUTH_SUBTYPE_MN_AAA in subtypes and \
                subtypes.index(schema.AUTH_SUBTYPE_MN_HA) > subtypes.index(schema.AUTH_SUBTYPE_MN_AAA):
            return None   # §5: MN-HA after MN-AAA, "the HA MUST discard the message"
        if not all(self.authentic(a, mn) for a in bu.auths):
            return schema.STATUS_AUTH_FAIL
        policy = self.script.policy
        timestamp = bu.timestamp
        if timestamp is None and policy.require_mesg_id:
            return schema.STATUS_MESG_ID_REQD
        if (mn.replay or policy.replay) == "timestamp":
            if timestamp is not None:
                last = self.accepted_timestamp.get(mn.nai)
                skew = ntp_to_unix_us(timestamp) - self.clock.now_us(self.script.t)
                if abs(skew) > policy.close_enough * US or (last is not None and timestamp <= last):
                    return schema.STATUS_ID_MISMATCH
        else:
            last = self.accepted_seq.get(mn.nai)
            if last is not None and not sequence_newer(bu.fields["seq"], last):
                return STATUS_SEQ_OUT_OF_WINDOW
        return STATUS_ACCEPTED

    def answer(self, bu: MobilityMessage, *, delay: float = 0.0042, status: Optional[int] = None,
               echo: Optional[int] = None, mesg_id: bool = True, auth: bool = True, aaa_in_ba: bool = False,
               label: str = "") -> Optional[int]:
        """Send the BA for ``bu``: correct unless a keyword overrides part of it.
        None when the home agent rightly drops the BU without an answer."""
        script = self.script
        mn = self.node_for(bu)
        if status is None:
            status = self.status_for(bu, mn)
            if status is None:
                return None
        script.wait(delay)
        seq = bu.fields["seq"]
        if status == STATUS_SEQ_OUT_OF_WINDOW:
            seq = self.accepted_seq[mn.nai]   # RFC 6275 §9.5.1: the last accepted sequence number
        elif status < REJECTED:
            if bu.timestamp is not None:
                self.accepted_timestamp[mn.nai] = bu.timestamp
            self.accepted_seq[mn.nai] = seq
        options: List[packets.OptionItem] = []
        timestamp = bu.timestamp
        if timestamp is not None and mesg_id:
            if echo is None:
                echo = timestamp
                if status == schema.STATUS_ID_MISMATCH:
                    ha_seconds = self.clock.now_us(script.t) // US + schema.NTP_UNIX_OFFSET
                    echo = (ha_seconds << 32) | (timestamp & 0xFFFFFFFF)
            options.append(Option(schema.OPT_REPLAY, {"timestamp": echo}))
        if auth:
            options.append(mn.mn_ha())
        if aaa_in_ba:
            options.append(mn.mn_aaa())
        ba = MobilityMessage(
            schema.MH_BA, {"status": status, "seq": seq, "lifetime": bu.fields["lifetime"] if status < REJECTED else 0},
            options, src=self.address, dst=bu.src, routing_home=bu.home_address_option)
        script.last_ba = ba
        verdict = schema.BA_STATUS.get(status, str(status))
        return script.emit_message(ba, to_home_agent=False,
                                   label=label or "BA to %s: %d %s" % (mn.name, status, verdict))


class Script:
    """Collects the frames and expectations of one scenario as it is told."""

    def __init__(self, name: str, seed: int, policy: Optional[Policy] = None, start_us: int = EPOCH_US):
        self.name = name
        self.rng = random.Random("%s/%d" % (name, seed))
        self.t = start_us
        self.policy = policy or Policy()
        self.frames: List[Frame] = []
        self.expected: List[Tuple[str, int]] = []
        self.nodes: List[MobileNode] = []
        self.node_by_nai: Dict[str, MobileNode] = {}
        self.node_by_spi: Dict[int, MobileNode] = {}
        self.node_by_home: Dict[bytes, MobileNode] = {}
        self.home_agent = HomeAgent(self, address("2001:db8:100::1"))
        self.last_ba: Optional[MobilityMessage] = None

    def replay_option(self, clock: Optional[Clock] = None) -> Option:
        """A Replay Protection option stamped now by ``clock`` (default: the capture clock)."""
        now = self.t if clock is None else clock.now_us(self.t)
        return Option(schema.OPT_REPLAY, {"timestamp": ntp_timestamp(now, self.rng)})

    def wait(self, seconds: float) -> None:
        self.t += round(seconds * US)

    def mobile_node(self, *, clock: Optional[Clock] = None, aaa: bool = False, **overrides) -> MobileNode:
        index = len(self.nodes) + 1
        values = dict(index=index, nai="mn%d@%s.example.net" % (index, self.name),
                      home=address("2001:db8:100::%x" % (0x10 + index)), spi=4096 + index,
                      key=self.rng.randbytes(16), clock=clock or Clock(), seq=self.rng.randrange(SEQ_MODULUS),
                      aaa_key=self.rng.randbytes(16) if aaa else None)
        values.update(overrides)
        mn = MobileNode(self, **values)
        self.nodes.append(mn)
        self.node_by_nai[mn.nai] = mn
        self.node_by_spi[mn.spi] = mn
        self.node_by_home[mn.home] = mn
        return mn

    def care_of(self, network: int, mn: MobileNode) -> bytes:
        """The address ``mn`` forms on visited network ``network``."""
        return address("2001:db8:%x::%x" % (0xA000 + network, 0x10 + mn.index))

    def emit(self, data: bytes, label: str = "", message: Optional[MobilityMessage] = None,
             at: Optional[int] = None) -> int:
        self.frames.append(Frame(self.t if at is None else at, data, label, message))
        return len(self.frames) - 1

    def emit_message(self, msg: MobilityMessage, to_home_agent: bool, label: str) -> int:
        src_mac, dst_mac = (ROUTER_MAC, HA_MAC) if to_home_agent else (HA_MAC, ROUTER_MAC)
        return self.emit(packets.ethernet(src_mac, dst_mac, packets.ipv6_packet(msg)), label, msg)

    def replay(self, handle: int, label: str, src_mac: bytes = bytes.fromhex("02bad0000066")) -> int:
        """Send the exact IP packet of an earlier frame again, from another machine."""
        frame = self.frames[handle]
        return self.emit(packets.ethernet(src_mac, HA_MAC, frame.data[14:]), label, frame.message)

    def expect(self, code: str, handle: int) -> None:
        self.expected.append((code, handle))
