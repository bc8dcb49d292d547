"""Stage 2: decode frames down to the Mobility Header.

``decode_frame`` looks at raw bytes and answers ``None`` as early as it can
for the vast majority of frames that carry no Mobility Header, before any
object is built.  For the rest it walks the IPv6 extension header chain,
remembering what the verifier needs (Home Address option, type 2 routing
header) and where each piece sits in the frame, then parses the Mobility
Header with the schema-driven parser.
"""

from __future__ import annotations

import functools
import ipaddress
from socket import AF_INET6
from socket import inet_ntop as _inet_ntop
from typing import List, Optional, Tuple

from . import mobility, schema
from .capture import Prefilter

ETH_IPV6 = 0x86DD
VLAN_TAGS = (0x8100, 0x88A8, 0x9100)
AF_INET6_VALUES = (10, 24, 28, 30)  # Linux, NetBSD/OpenBSD, FreeBSD, Darwin

DLT_NULL = 0
DLT_EN10MB = 1
DLT_SLIP = 8          # BSD SLIP: 16-octet pseudo-header (tcpdump's SLIP_HDRLEN)
DLT_SLIP_BSDOS = 15
DLT_RAW_BSD = (12, 14)
DLT_RAW = 101
DLT_LOOP = 108
DLT_LINUX_SLL = 113
DLT_IPV6 = 229
DLT_LINUX_SLL2 = 276

LINKTYPE_NAMES = {
    DLT_NULL: "BSD loopback", DLT_EN10MB: "Ethernet", 12: "raw IP", 14: "raw IP",
    DLT_RAW: "raw IP", DLT_LOOP: "OpenBSD loopback", DLT_LINUX_SLL: "Linux cooked (SLL)",
    DLT_IPV6: "raw IPv6", DLT_LINUX_SLL2: "Linux cooked (SLL2)", DLT_SLIP: "SLIP", DLT_SLIP_BSDOS: "SLIP (BSD/OS)",
}

HOP_BY_HOP = 0
ROUTING = 43
FRAGMENT = 44
AUTH_HEADER = 51
DEST_OPTS = 60
MH_NUMBERS = (schema.MH_NEXT_HEADER, schema.MH_NEXT_HEADER_OLD)
HOME_ADDRESS_OPTION = 201
UPPER_LAYER_NOT_MH = frozenset(range(256)) - {HOP_BY_HOP, ROUTING, FRAGMENT, AUTH_HEADER,
                                              DEST_OPTS, *MH_NUMBERS}


# What the capture reader may drop from raw Ethernet octets before any object is
# built: an IPv6 packet whose first next header is an upper layer other than the
# Mobility Header, and anything that is not IPv6 or a VLAN tag around it.
MOBILITY_PREFILTER = Prefilter(
    linktype=DLT_EN10MB, ethertype=ETH_IPV6, pass_ethertypes=frozenset(VLAN_TAGS), min_length=14 + 40,
    version_offset=14, next_header_offset=14 + 6,
    reject_next_header=bytes(nh in UPPER_LAYER_NOT_MH for nh in range(256)))


@functools.lru_cache(maxsize=1 << 12)
def _ipv6_text(raw: bytes) -> str:
    return str(ipaddress.IPv6Address(raw))


_UNSPECIFIED_PREFIX = bytes(10)


def format_address(raw: Optional[bytes]) -> Optional[str]:
    if raw is None:
        return None
    # inet_ntop (C) writes what ipaddress writes (RFC 5952), except that it shows
    # addresses starting with 80 zero bits as IPv4-mapped/compatible: those go
    # the slow way.
    if raw[:10] == _UNSPECIFIED_PREFIX:
        return _ipv6_text(raw)
    return _inet_ntop(AF_INET6, raw)


class Message:
    """One frame that carries (or claims to carry) a Mobility Header.

    Addresses are 16-octet ``bytes``; every ``*_offset`` is counted from the
    first octet of the frame, so it can be found in Wireshark's byte pane.
    Verification results are filled in by ``analyzer.verify``.
    """

    __slots__ = ("capture", "frame", "ts_ns", "ip_offset", "src", "dst", "next_header",
                 "home_address_option", "hao_offset", "rt2_address", "rt2_offset",
                 "mh_offset", "upper_length", "mh", "fragment", "problems",
                 "checksum", "auth_results", "mn_id", "node_id")

    def __init__(self, capture, frame, ts_ns, ip_offset, src, dst):
        self.capture = capture
        self.frame = frame
        self.ts_ns = ts_ns
        self.ip_offset = ip_offset
        self.src = src
        self.dst = dst
        self.next_header = None
        self.home_address_option = None
        self.hao_offset = None
        self.rt2_address = None
        self.rt2_offset = None
        self.mh_offset = None
        self.upper_length = None      # octets of MH the IPv6 payload length promises
        self.mh: Optional[mobility.MobilityHeader] = None
        self.fragment = None          # "first" or "non-first" when fragmented
        self.problems: List[Tuple[int, str]] = []
        self.checksum = None          # "valid", "invalid" or "unverified"
        self.auth_results: list = []
        self.mn_id: Optional[str] = None     # the NAI the message carries
        self.node_id: Optional[str] = None   # who the correlator decided sent or receives it

    # Addresses the RFC 4285 authenticator and the checksum are built from.
    @property
    def home_address(self) -> bytes:
        if self.mh is not None and self.mh.mh_type == schema.MH_BA:
            return self.rt2_address or self.dst
        return self.home_address_option or self.src

    @property
    def care_of_address(self) -> bytes:
        if self.mh is not None and self.mh.mh_type == schema.MH_BA:
            return self.dst
        alt = self.mh.option(schema.OPT_ALTERNATE_COA) if self.mh is not None else None
        if alt is not None:
            return alt.values["address"]
        return self.src

    @property
    def abbrev(self) -> str:
        return self.mh.abbrev if self.mh is not None else "MH"

    def problem(self, offset: int, text: str) -> None:
        self.problems.append((offset, text))


def _ipv6_offset(linktype: int, data: bytes) -> int:
    """Offset of an IPv6 header in the frame, or -1 when there is none."""
    if linktype == DLT_EN10MB:
        if len(data) < 14:
            return -1
        ethertype = (data[12] << 8) | data[13]
        offset = 14
        while ethertype in VLAN_TAGS and len(data) >= offset + 4:
            ethertype = (data[offset + 2] << 8) | data[offset + 3]
            offset += 4
        return offset if ethertype == ETH_IPV6 else -1
    if linktype == DLT_LINUX_SLL:
        return 16 if len(data) >= 16 and data[14:16] == b"\x86\xdd" else -1
    if linktype == DLT_LINUX_SLL2:
        return 20 if len(data) >= 20 and data[0:2] == b"\x86\xdd" else -1
    if linktype == DLT_RAW or linktype == DLT_IPV6 or linktype in DLT_RAW_BSD:
        return 0 if data and data[0] >> 4 == 6 else -1
    if linktype == DLT_SLIP or linktype == DLT_SLIP_BSDOS:
        return 16 if len(data) > 16 and data[16] >> 4 == 6 else -1
    if linktype == DLT_NULL or linktype == DLT_LOOP:
        if len(data) < 4:
            return -1
        family = int.from_bytes(data[:4], "big")
        if linktype == DLT_NULL and family not in AF_INET6_VALUES:
            family = int.from_bytes(data[:4], "little")
        return 4 if family in AF_INET6_VALUES else -1
    return -1


def decode_frame(capture: str, number: int, ts_ns: int, linktype: int, data: bytes) -> Optional[Message]:
    """A ``Message`` for a frame with a Mobility Header (or a broken chain), else None."""
    msg = locate(capture, number, ts_ns, linktype, data)
    if msg is not None and msg.mh_offset is not None:
        parse_mobility_header(msg, data)
    return msg


def locate(capture: str, number: int, ts_ns: int, linktype: int, data: bytes) -> Optional[Message]:
    """The IPv6 chain walked up to the Mobility Header, which is left unparsed
    (``mh_offset`` says where it starts; None for a fragment or a broken chain)."""
    ip = _ipv6_offset(linktype, data)
    if ip < 0 or len(data) < ip + 40 or data[ip] >> 4 != 6:
        return None
    next_header = data[ip + 6]
    if next_header in UPPER_LAYER_NOT_MH:
        return None
    return _walk_chain(capture, number, ts_ns, data, ip, next_header)


def home_address_of(msg: Message, data: bytes) -> Optional[bytes]:
    """``Message.home_address`` read before the Mobility Header is parsed (None
    for a fragment or a broken chain): what ties a BU to its BA."""
    offset = msg.mh_offset
    if offset is None or msg.problems:
        return None
    if len(data) > offset + 2 and data[offset + 2] == schema.MH_BA:
        return msg.rt2_address or msg.dst
    return msg.home_address_option or msg.src


def parse_mobility_header(msg: Message, data: bytes) -> None:
    offset = msg.mh_offset
    end = offset + msg.upper_length
    if end > len(data):
        msg.problem(len(data), "frame captured %d of %d octets; the Mobility Header is cut off"
                    % (len(data), end))
        end = len(data)
    mh = msg.mh = mobility.parse(data[offset:end])
    for mh_offset, text in mh.problems:
        msg.problem(offset + mh_offset, text)


def _walk_chain(capture, number, ts_ns, data, ip, next_header) -> Optional[Message]:
    msg = Message(capture, number, ts_ns, ip, data[ip + 8:ip + 24], data[ip + 24:ip + 40])
    payload_length = (data[ip + 4] << 8) | data[ip + 5]
    end = ip + 40 + payload_length if payload_length else len(data)
    captured_end = min(end, len(data))
    offset = ip + 40
    while next_header not in MH_NUMBERS:
        if next_header in UPPER_LAYER_NOT_MH:
            return msg if msg.problems else None
        if offset + 8 > captured_end:
            msg.problem(offset, "IPv6 extension header %d at octet %d is cut off" % (next_header, offset))
            return msg
        if next_header == FRAGMENT:
            frag_field = (data[offset + 2] << 8) | data[offset + 3]
            inner = data[offset]
            if frag_field & 0xFFF9 == 0:
                # Offset 0 and M clear: an atomic fragment (RFC 6946) is a whole packet.
                next_header = inner
                offset += 8
                continue
            if inner not in MH_NUMBERS:
                return None
            msg.next_header = inner
            msg.fragment = "non-first" if frag_field >> 3 else "first"
            return msg
        length = (data[offset + 1] + 2) * 4 if next_header == AUTH_HEADER else (data[offset + 1] + 1) * 8
        if offset + length > captured_end:
            msg.problem(offset, "IPv6 extension header %d at octet %d says %d octets; only %d remain"
                        % (next_header, offset, length, captured_end - offset))
            return msg
        if next_header == DEST_OPTS:
            _scan_destination_options(msg, data, offset + 2, offset + length)
        elif next_header == ROUTING and data[offset + 2] == 2:
            if length != 24:
                msg.problem(offset, "type 2 routing header at octet %d is %d octets, must be 24" % (offset, length))
            else:
                msg.rt2_offset = offset + 8
                msg.rt2_address = data[offset + 8:offset + 24]
        next_header = data[offset]
        offset += length
    msg.next_header = next_header
    msg.mh_offset = offset
    msg.upper_length = end - offset
    return msg


def _scan_destination_options(msg: Message, data: bytes, offset: int, end: int) -> None:
    while offset < end:
        opt_type = data[offset]
        if opt_type == 0:  # Pad1
            offset += 1
            continue
        if offset + 2 > end:
            msg.problem(offset, "destination option at octet %d has no room for its length" % offset)
            return
        length = data[offset + 1]
        if offset + 2 + length > end:
            msg.problem(offset, "destination option %d at octet %d overruns its header" % (opt_type, offset))
            return
        if opt_type == HOME_ADDRESS_OPTION:
            if length != 16:
                msg.problem(offset, "Home Address option at octet %d has length %d, must be 16"
                            % (offset, length))
            else:
                msg.hao_offset = offset + 2
                msg.home_address_option = data[offset + 2:offset + 18]
        offset += 2 + length
