"""An independent builder for the sample scenarios: scapy lays out the packets
(padding, lengths, MH checksum), ``cryptography`` computes the authenticators.

It reads only the meaning of each message (addresses, fields, option values,
keys) from the scenario, never the generator's bytes, so a sample built here
and the committed one must earn the same verdicts from the analyzer.
"""

from __future__ import annotations

import ipaddress
from decimal import Decimal

from frames import hmac_sha1, sha1  # the lead's independent `cryptography` HMAC helpers
from scapy.layers.inet6 import (
    HAO,
    MIP6MH_BA,
    MIP6MH_BU,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrRouting,
    MIP6OptAltCoA,
    MIP6OptMNID,
    MIP6OptMsgAuth,
    MIP6OptReplayProtection,
)
from scapy.layers.l2 import Ether
from scapy.utils import PcapWriter

BU, BA = 5, 6                          # RFC 6275 MH types
ALT_COA, MN_ID, AUTH, REPLAY = 3, 8, 9, 10
MN_AAA = 2


def _text(raw: bytes) -> str:
    return str(ipaddress.IPv6Address(raw))


def _options(msg):
    out = []
    for item in msg.options:
        code = item.code
        if code == AUTH:
            out.append(MIP6OptMsgAuth(subtype=item.subtype, mspi=item.spi,
                                      authdata=bytes(item.authenticator_length)))
        elif code == MN_ID:
            out.append(MIP6OptMNID(subtype=item.values["subtype"], id=item.values["identifier"]))
        elif code == REPLAY:
            out.append(MIP6OptReplayProtection(timestamp=item.values["timestamp"]))
        elif code == ALT_COA:
            out.append(MIP6OptAltCoA(acoa=_text(item.values["address"])))
        else:
            raise ValueError("no scapy mapping for option %d" % code)
    return out


def _mobility_header(msg):
    fields = msg.fields
    if msg.mh_type == BU:
        flags = ("A" if fields["flags"] & 0x8000 else "") + ("H" if fields["flags"] & 0x4000 else "")
        return MIP6MH_BU(seq=fields["seq"], flags=flags, mhtime=fields["lifetime"], options=_options(msg))
    return MIP6MH_BA(status=fields["status"], flags=0, seq=fields["seq"], mhtime=fields["lifetime"],
                     options=_options(msg))


def _auth_inputs(msg):
    """(care-of, home) as the protocol notes' table says, from the message's meaning."""
    if msg.mh_type == BA:
        return msg.dst, msg.routing_home or msg.dst
    care_of = msg.src
    for item in msg.options:
        if item.code == ALT_COA:
            care_of = item.values["address"]
    return care_of, msg.home_address_option or msg.src


def _auth_offsets(mh: bytes):
    """Octet offsets of the authentication options in a Mobility Header."""
    offset, end, found = 12, len(mh), []
    while offset < end:
        if mh[offset] == 0:
            offset += 1
            continue
        if mh[offset] == AUTH:
            found.append(offset)
        offset += 2 + mh[offset + 1]
    return found


def ipv6_packet(msg):
    """The scapy packet for one scenario message, authenticators filled in."""
    ip = IPv6(src=_text(msg.src), dst=_text(msg.dst), hlim=64)
    if msg.home_address_option is not None:
        ip = ip / IPv6ExtHdrDestOpt(options=[HAO(hoa=_text(msg.home_address_option))])
    if msg.routing_home is not None:
        ip = ip / IPv6ExtHdrRouting(type=2, segleft=1, addresses=[_text(msg.routing_home)])
    packet = ip / _mobility_header(msg)
    mh = packet[MIP6MH_BA if msg.mh_type == BA else MIP6MH_BU]
    care_of, home = _auth_inputs(msg)
    auth_options = [o for o in mh.options if isinstance(o, MIP6OptMsgAuth)]
    auth_items = [item for item in msg.options if item.code == AUTH]
    for index, (option, item) in enumerate(zip(auth_options, auth_items)):
        raw = bytes(mh)
        spi_end = _auth_offsets(raw)[index] + 7
        data = care_of + home + raw[:4] + b"\0\0" + raw[6:spi_end]
        if item.forged is not None:
            option.authdata = item.forged
        elif item.subtype == MN_AAA:
            option.authdata = hmac_sha1(item.key, sha1(data))[:item.authenticator_length]
        else:
            option.authdata = hmac_sha1(item.key, data)[:12]
        mh.cksum = None
    return packet


def write_capture(capture, path) -> None:
    """The scenario's frames, signalling rebuilt by scapy, the rest copied."""
    writer = PcapWriter(str(path), linktype=1, sync=True)
    try:
        for frame in capture.frames:
            if frame.message is None:
                packet = Ether(frame.data)
            else:
                packet = Ether(dst=frame.data[0:6], src=frame.data[6:12]) / ipv6_packet(frame.message)
            packet.time = Decimal(frame.ts_us) / 1_000_000
            writer.write(packet)
    finally:
        writer.close()
