"""An independent builder of test captures: scapy for packets, struct for files.

Nothing here imports ``analyzer``: these bytes are the oracle the analyzer is
checked against, so they must not come from the code under test.  Packets are
built with scapy's own Mobility Header and IPv6 layers; the MH checksum and
the RFC 4285 authenticators are computed here from first principles (the
``cryptography`` package for HMAC-SHA1), never by scapy, whose checksum
re-check picks the wrong pseudo-header source when PadN precedes the Home
Address option (see the protocol notes).
"""

from __future__ import annotations

import io
import ipaddress
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from cryptography.hazmat.primitives import hashes, hmac
from scapy.layers.inet6 import (
    HAO,
    MIP6MH_BA,
    MIP6MH_BU,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrFragment,
    IPv6ExtHdrHopByHop,
    IPv6ExtHdrRouting,
    MIP6OptMNID,
    MIP6OptMsgAuth,
    MIP6OptReplayProtection,
    Pad1,
    PadN,
)
from scapy.layers.l2 import CookedLinux, CookedLinuxV2, Dot1AD, Dot1Q, Ether
from scapy.packet import Raw
from scapy.utils import PcapWriter

# Link-layer header types (tcpdump.org/linktypes.html).
LINKTYPE_NULL = 0
LINKTYPE_ETHERNET = 1
LINKTYPE_RAW = 101
LINKTYPE_LOOP = 108
LINKTYPE_LINUX_SLL = 113
LINKTYPE_IPV6 = 229
LINKTYPE_LINUX_SLL2 = 276

MH_PROTO = 135
MH_PROTO_OLD = 62
MH_CHECKSUM_AT = 4

HOME_ADDRESS = "2001:db8:100::11"
HOME_AGENT = "2001:db8:100::1"
CARE_OF = "2001:db8:200::5"
ALT_CARE_OF = "2001:db8:300::7"
MN_HA_SPI = 4097
MN_HA_KEY = bytes.fromhex("00112233445566778899aabbccddeeff")
MN_AAA_KEY = bytes.fromhex("5eed5eed5eed5eed5eed5eed5eed5eed")
NAI = "mn1@ims.example.net"


def packed(address: str) -> bytes:
    return ipaddress.IPv6Address(address).packed


# --- link layers -------------------------------------------------------------

def ethernet(ip6: bytes, vlans: Sequence[tuple[int, int]] = (), trailer: bytes = b"") -> bytes:
    """Ethernet II; ``vlans`` is [(tpid, vid)] outermost first (0x88A8 = 802.1ad)."""
    frame = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02")
    for tpid, vid in vlans:
        frame = frame / (Dot1AD(vlan=vid) if tpid == 0x88A8 else Dot1Q(vlan=vid))
    frame.lastlayer().type = 0x86DD
    return bytes(frame) + ip6 + trailer


def linux_sll(ip6: bytes) -> bytes:
    return bytes(CookedLinux(pkttype=0, lladdrtype=1, lladdrlen=6, src=b"\x02\0\0\0\0\x01\0\0", proto=0x86DD)) + ip6


def linux_sll2(ip6: bytes) -> bytes:
    return bytes(CookedLinuxV2(proto=0x86DD, ifindex=3, lladdrtype=1, pkttype=4, lladdrlen=6,
                               src=b"\x02\0\0\0\0\x01\0\0")) + ip6


def bsd_null(ip6: bytes, family: int = 24, byteorder: str = "little") -> bytes:
    """DLT_NULL: the address family in the capturing host's byte order."""
    return family.to_bytes(4, byteorder) + ip6


def bsd_loop(ip6: bytes, family: int = 24) -> bytes:
    """DLT_LOOP (OpenBSD): the address family always in network order."""
    return family.to_bytes(4, "big") + ip6


# (linktype, how to wrap an IPv6 packet, octets before the IPv6 header)
LINK_LAYERS = {
    "ethernet": (LINKTYPE_ETHERNET, ethernet, 14),
    "ethernet-802.1q": (LINKTYPE_ETHERNET, lambda p: ethernet(p, [(0x8100, 10)]), 18),
    "ethernet-qinq": (LINKTYPE_ETHERNET, lambda p: ethernet(p, [(0x88A8, 100), (0x8100, 10)]), 22),
    "linux-sll": (LINKTYPE_LINUX_SLL, linux_sll, 16),
    "linux-sll2": (LINKTYPE_LINUX_SLL2, linux_sll2, 20),
    "raw-101": (LINKTYPE_RAW, bytes, 0),
    "raw-ipv6-229": (LINKTYPE_IPV6, bytes, 0),
    "null-af24-le": (LINKTYPE_NULL, lambda p: bsd_null(p, 24, "little"), 4),
    "null-af28-le": (LINKTYPE_NULL, lambda p: bsd_null(p, 28, "little"), 4),
    "null-af30-le": (LINKTYPE_NULL, lambda p: bsd_null(p, 30, "little"), 4),
    "null-af24-be": (LINKTYPE_NULL, lambda p: bsd_null(p, 24, "big"), 4),
    "null-af28-be": (LINKTYPE_NULL, lambda p: bsd_null(p, 28, "big"), 4),
    "null-af30-be": (LINKTYPE_NULL, lambda p: bsd_null(p, 30, "big"), 4),
    "loop-af24": (LINKTYPE_LOOP, bsd_loop, 4),
}


# --- capture files -----------------------------------------------------------

@dataclass
class Record:
    """One frame to write: time in nanoseconds since the epoch, bytes, interface."""
    ts_ns: int
    data: bytes
    interface: int = 0
    orig_len: int | None = None


def pcap(records: Iterable[Record], linktype: int, nanoseconds: bool = False,
         big_endian: bool = False, snaplen: int = 262144) -> bytes:
    """A classic pcap file, written by scapy's PcapWriter."""
    out = io.BytesIO()
    write_pcap(out, records, linktype, nanoseconds, big_endian, snaplen)
    return out.getvalue()


def write_pcap(out, records: Iterable[Record], linktype: int, nanoseconds: bool = False,
               big_endian: bool = False, snaplen: int = 262144) -> None:
    """Stream a classic pcap to ``out`` (records may be a generator of any length)."""
    writer = PcapWriter(out, linktype=linktype, nano=nanoseconds, endianness=">" if big_endian else "<",
                        snaplen=snaplen, sync=False)
    writer.linktype = linktype  # scapy treats linktype 0 (DLT_NULL) as "guess"
    writer.write_header(None)
    tick = 1 if nanoseconds else 1000
    for rec in records:
        sec, rest = divmod(rec.ts_ns, 1_000_000_000)
        writer.write_packet(rec.data, sec=sec, usec=rest // tick,
                            wirelen=rec.orig_len if rec.orig_len is not None else len(rec.data))


@dataclass
class Interface:
    linktype: int
    # if_tsresol octet: 6 = µs (the default when absent), 9 = ns, 0x80|n = 2^-n.
    tsresol: int | None = None
    tsoffset: int = 0
    snaplen: int = 0

    @property
    def ticks_per_second(self) -> int:
        value = 6 if self.tsresol is None else self.tsresol
        return 2 ** (value & 0x7F) if value & 0x80 else 10 ** value


def _pad4(data: bytes) -> bytes:
    return data + b"\0" * (-len(data) % 4)


def _block(order: str, block_type: int, body: bytes) -> bytes:
    body = _pad4(body)
    length = len(body) + 12
    return struct.pack(order + "II", block_type, length) + body + struct.pack(order + "I", length)


def _options(order: str, options: list[tuple[int, bytes]]) -> bytes:
    if not options:
        return b""
    out = b"".join(struct.pack(order + "HH", code, len(value)) + _pad4(value) for code, value in options)
    return out + struct.pack(order + "HH", 0, 0)


def pcapng_section(interfaces: Sequence[Interface], records: Iterable[Record], big_endian: bool = False,
                   packet_block: str = "epb") -> bytes:
    """One pcapng section: SHB, an IDB per interface, then one EPB (or SPB/PB) per record."""
    order = ">" if big_endian else "<"
    shb_body = struct.pack(order + "IHHq", 0x1A2B3C4D, 1, 0, -1) + _options(order, [(4, b"tests/frames.py")])
    out = [_block(order, 0x0A0D0D0A, shb_body)]
    for iface in interfaces:
        opts = []
        if iface.tsresol is not None:
            opts.append((9, bytes([iface.tsresol])))
        if iface.tsoffset:
            opts.append((14, struct.pack(order + "q", iface.tsoffset)))
        opts.append((2, b"if%d" % len(out)))
        out.append(_block(order, 1, struct.pack(order + "HHI", iface.linktype, 0, iface.snaplen)
                          + _options(order, opts)))
    for rec in records:
        iface = interfaces[rec.interface]
        ticks = (rec.ts_ns // 1_000_000_000 - iface.tsoffset) * iface.ticks_per_second \
            + (rec.ts_ns % 1_000_000_000) * iface.ticks_per_second // 1_000_000_000
        orig_len = rec.orig_len if rec.orig_len is not None else len(rec.data)
        if packet_block == "epb":
            body = struct.pack(order + "IIIII", rec.interface, ticks >> 32, ticks & 0xFFFFFFFF,
                               len(rec.data), orig_len) + _pad4(rec.data) + _options(order, [(1, b"frame")])
            out.append(_block(order, 6, body))
        elif packet_block == "pb":  # obsolete Packet Block (interface id, drops count)
            body = struct.pack(order + "HHIIII", rec.interface, 0, ticks >> 32, ticks & 0xFFFFFFFF,
                               len(rec.data), orig_len) + rec.data
            out.append(_block(order, 2, body))
        else:  # Simple Packet Block: interface 0, no timestamp
            out.append(_block(order, 3, struct.pack(order + "I", orig_len) + rec.data))
    return b"".join(out)


# --- Mobility Header packets -------------------------------------------------

def internet_checksum(data: bytes) -> int:
    """RFC 1071, written out word by word."""
    if len(data) % 2:
        data += b"\0"
    total = 0
    for i in range(0, len(data), 2):
        total += int.from_bytes(data[i:i + 2], "big")
        total = (total & 0xFFFF) + (total >> 16)
    return 0xFFFF ^ total


def mh_checksum(pseudo_src: bytes, pseudo_dst: bytes, mh: bytes) -> int:
    """The MH checksum (RFC 6275 §6.1.1): IPv6 pseudo-header with next header 135."""
    zeroed = mh[:MH_CHECKSUM_AT] + b"\0\0" + mh[MH_CHECKSUM_AT + 2:]
    pseudo = pseudo_src + pseudo_dst + len(mh).to_bytes(4, "big") + b"\0\0\0" + bytes([MH_PROTO])
    return internet_checksum(pseudo + zeroed)


def with_checksum(mh: bytes, value: int) -> bytes:
    return mh[:MH_CHECKSUM_AT] + value.to_bytes(2, "big") + mh[MH_CHECKSUM_AT + 2:]


def hmac_sha1(key: bytes, data: bytes) -> bytes:
    mac = hmac.HMAC(key, hashes.SHA1())
    mac.update(data)
    return mac.finalize()


def sha1(data: bytes) -> bytes:
    digest = hashes.Hash(hashes.SHA1())
    digest.update(data)
    return digest.finalize()


def mobility_data(care_of: bytes, home: bytes, mh: bytes, spi_end: int) -> bytes:
    """RFC 4285 §5.1: care-of | home | MH up to and including the SPI, checksum 0."""
    return care_of + home + with_checksum(mh, 0)[:spi_end]


def option_offsets(mh: bytes) -> list[tuple[int, int]]:
    """(type, offset) of every mobility option in a BU or BA, as scapy dissects it."""
    layer = {5: MIP6MH_BU, 6: MIP6MH_BA}[mh[2]](mh)
    offset, found = 12, []
    for opt in layer.options:
        found.append((opt.otype, offset))
        offset += len(bytes(opt))
    return found


def sign(mh: bytes, care_of: str, home: str, mn_ha_key: bytes = MN_HA_KEY,
         mn_aaa_key: bytes = MN_AAA_KEY) -> bytes:
    """Fill every authentication option's authenticator, in option order.

    MN-HA is First(96, HMAC-SHA1(key, data)); MN-AAA is HMAC-SHA1(key,
    SHA1(data)) cut to the length on the wire.  Each later option's input
    covers the earlier ones already signed, as on the wire.
    """
    for otype, offset in option_offsets(mh):
        if otype != 9:
            continue
        length, subtype = mh[offset + 1], mh[offset + 2]
        spi_end = offset + 7
        data = mobility_data(packed(care_of), packed(home), mh, spi_end)
        full = hmac_sha1(mn_ha_key, data) if subtype == 1 else hmac_sha1(mn_aaa_key, sha1(data))
        size = length - 5
        mh = mh[:spi_end] + full[:size].ljust(size, b"\0") + mh[spi_end + size:]
    return mh


@dataclass
class Built:
    """An IPv6 packet and where its pieces sit, counted from the IPv6 header."""
    ip6: bytes
    mh: bytes
    mh_offset: int
    hao_offset: int | None = None
    rt2_offset: int | None = None
    extras: dict = field(default_factory=dict)


def ipv6_with_mh(mh: bytes, src: str, dst: str, *, home_address: str | None = None,
                 hao_padding: str = "padn", rt2: str | None = None, hop_by_hop: bool = False,
                 fragment: tuple[int, int] | None = None, next_header: int = MH_PROTO,
                 checksum: int | None = None) -> Built:
    """IPv6 + extension chain + ``mh``; the MH checksum computed here unless given.

    ``hao_padding``: "padn" puts a PadN before the Home Address option (8n+6),
    "pad1" four Pad1 options.  ``fragment`` is (offset in 8-octet units, M).
    """
    layers = []
    if hop_by_hop:
        layers.append(IPv6ExtHdrHopByHop(autopad=0, options=[PadN(optdata=b"\0" * 4)]))
    if rt2 is not None:
        layers.append(IPv6ExtHdrRouting(type=2, segleft=1, addresses=[rt2]))
    if home_address is not None:
        padding = [PadN(optdata=b"\0\0")] if hao_padding == "padn" else [Pad1()] * 4
        layers.append(IPv6ExtHdrDestOpt(autopad=0, options=padding + [HAO(hoa=home_address)]))
    if fragment is not None:
        layers.append(IPv6ExtHdrFragment(offset=fragment[0], m=fragment[1], id=0x1234))
    if checksum is None:
        checksum = mh_checksum(packed(home_address or src), packed(rt2 or dst), mh)
    mh = with_checksum(mh, checksum)
    packet = IPv6(src=src, dst=dst, hlim=64)
    offsets = {}
    position = 40
    for layer in layers:
        if isinstance(layer, IPv6ExtHdrRouting):
            offsets["rt2"] = position + 8
        if isinstance(layer, IPv6ExtHdrDestOpt):
            offsets["hao"] = position + 8  # the address, past type, length and the 6-octet padding
        position += len(bytes(layer))
        packet = packet / layer
    packet.lastlayer().nh = next_header
    ip6 = bytes(packet / Raw(mh))
    return Built(ip6, mh, position, offsets.get("hao"), offsets.get("rt2"))


def signed_bu(*, seq: int = 7, timestamp: int = 0xE8763A0080000000, home: str = HOME_ADDRESS,
              care_of: str = CARE_OF, signer_care_of: str | None = None, alt_coa: str | None = None,
              mn_ha: bool = True, mn_aaa: bool = False, mn_ha_spi: int = MN_HA_SPI, mn_aaa_spi: int = 3,
              mn_aaa_len: int = 20, nai: str = NAI, **keys) -> Built:
    """A BU from a visited link: HAO, MN-NAI, replay protection, MN-HA and/or MN-AAA."""
    from scapy.layers.inet6 import MIP6OptAltCoA  # local: only this builder needs it
    options = []
    if alt_coa is not None:
        options.append(MIP6OptAltCoA(acoa=alt_coa))
    options += [MIP6OptMNID(subtype=1, id=nai.encode()), MIP6OptReplayProtection(timestamp=timestamp)]
    if mn_ha:
        options.append(MIP6OptMsgAuth(subtype=1, mspi=mn_ha_spi, authdata=b"\0" * 12))
    if mn_aaa:
        options.append(MIP6OptMsgAuth(subtype=2, mspi=mn_aaa_spi, authdata=b"\0" * mn_aaa_len))
    mh = bytes(MIP6MH_BU(cksum=0, seq=seq, flags="AHK", mhtime=100, options=options))
    mh = sign(mh, signer_care_of or alt_coa or care_of, home, **keys)
    return ipv6_with_mh(mh, care_of, HOME_AGENT, home_address=home)


def signed_ba(*, seq: int = 7, status: int = 0, timestamp: int = 0xE8763A0080000000,
              home: str = HOME_ADDRESS, care_of: str = CARE_OF, mn_ha_spi: int = MN_HA_SPI, **keys) -> Built:
    """A BA from the HA to the care-of address, type 2 routing header naming the home address."""
    options = [MIP6OptReplayProtection(timestamp=timestamp),
               MIP6OptMsgAuth(subtype=1, mspi=mn_ha_spi, authdata=b"\0" * 12)]
    mh = bytes(MIP6MH_BA(cksum=0, status=status, flags=0x4, seq=seq, mhtime=100, options=options))
    mh = sign(mh, care_of, home, **keys)
    return ipv6_with_mh(mh, HOME_AGENT, care_of, rt2=home)


def gallery() -> list[tuple[int, bytes]]:
    """(linktype, frame) for every MH type and every schema option, over every link layer.

    Messages rotate through the link layers so one pcapng exercises them all;
    the signed BU/BA pairs carry HAO, type 2 routing header, MN-ID, replay
    protection and both authenticators.
    """
    from scapy.layers.inet6 import (  # local: only the gallery needs the rest of the zoo
        MIP6MH_BE,
        MIP6MH_BRR,
        MIP6MH_CoT,
        MIP6MH_CoTI,
        MIP6MH_Generic,
        MIP6MH_HoT,
        MIP6MH_HoTI,
        MIP6OptAltCoA,
        MIP6OptBindingAuthData,
        MIP6OptBRAdvice,
        MIP6OptNonceIndices,
        MIP6OptUnknown,
    )
    cookie, token = bytes.fromhex("0102030405060708"), bytes.fromhex("8877665544332211")
    plain = [
        MIP6MH_BRR(cksum=0),
        MIP6MH_HoTI(cksum=0, cookie=cookie),
        MIP6MH_CoTI(cksum=0, cookie=cookie),
        MIP6MH_HoT(cksum=0, index=513, cookie=cookie, token=token),
        MIP6MH_CoT(cksum=0, index=514, cookie=cookie, token=token),
        MIP6MH_BE(cksum=0, status=2, ha=HOME_ADDRESS),
        MIP6MH_BU(cksum=0, seq=65535, flags="AHLKMRP", mhtime=65535,
                  options=[MIP6OptAltCoA(acoa=ALT_CARE_OF), MIP6OptNonceIndices(olen=4, hni=7, coni=8),
                           MIP6OptBindingAuthData(olen=12, authenticator=0x0102030405060708090A0B0C),
                           MIP6OptUnknown(otype=60, odata=b"\x01\x02\x03")]),
        MIP6MH_BA(cksum=0, status=1, flags="KRP", seq=65535, mhtime=1,
                  options=[MIP6OptBRAdvice(rinter=600), Pad1(), PadN(optdata=b"\0" * 3)]),
        MIP6MH_Generic(mhtype=42, cksum=0, msg=b"\xaa" * 10),
    ]
    packets = [ipv6_with_mh(bytes(mh), CARE_OF, HOME_AGENT).ip6 for mh in plain]
    packets += [
        signed_bu(mn_aaa=True).ip6,
        signed_ba(status=0).ip6,
        signed_bu(seq=8, alt_coa=ALT_CARE_OF, mn_aaa=True, mn_aaa_len=12).ip6,
        signed_ba(seq=8, status=144).ip6,
        signed_ba(seq=8, status=145).ip6,
        signed_ba(seq=8, status=146).ip6,
        ipv6_with_mh(bytes(MIP6MH_BU(cksum=0, seq=9)), CARE_OF, HOME_AGENT, hop_by_hop=True,
                     home_address=HOME_ADDRESS, hao_padding="pad1").ip6,
    ]
    layers = list(LINK_LAYERS.values())
    return [(layers[i % len(layers)][0], layers[i % len(layers)][1](ip6)) for i, ip6 in enumerate(packets)]


def gallery_pcapng() -> bytes:
    """The gallery as one pcapng: an interface per link type, each with its own clock."""
    frames = gallery()
    linktypes = sorted({linktype for linktype, _ in frames})
    interfaces = [Interface(lt, tsresol=(6, 9, 0x80 | 20)[i % 3]) for i, lt in enumerate(linktypes)]
    records = [Record(1_700_000_000_000_000_000 + i * 250_000_000, data, linktypes.index(lt))
               for i, (lt, data) in enumerate(frames)]
    return pcapng_section(interfaces, records)
