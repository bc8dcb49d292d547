"""Wire bytes of Mobility Header signalling, for the sample generator.

Layouts, codes and alignment come from ``analyzer.schema``; the checksum and
authenticators from ``analyzer.crypto``, the same functions the verifier uses.
A ``MobilityMessage`` describes a message by meaning (fields, options, the
addresses around it); ``ipv6_packet`` turns it into an IPv6 packet, laying
the options out with the alignment padding RFC 6275 §6.2 asks for and
filling in authenticators and checksum last, over the final bytes.
Deliberate damage (``Damage``) is applied before those, so a malformed
message still carries a checksum and authenticators that match its bytes.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Union

from .. import crypto, schema
from ..decode import DEST_OPTS, ETH_IPV6, FRAGMENT, HOME_ADDRESS_OPTION, ROUTING

IPV6_OPT_PADN = 1        # PadN in IPv6 destination options (RFC 8200 §4.2)
HAO_ALIGN = (8, 6)       # Home Address option alignment (RFC 6275 §6.3)
RT2_TYPE = 2             # type 2 routing header (RFC 6275 §6.4)
IPV6_HEADER = struct.Struct("!IHBB16s16s")
AUTH_FIXED = 1 + 4       # subtype and SPI precede the authenticator


@dataclass
class Option:
    """A mobility option by schema code and field values."""
    code: int
    values: Dict[str, object] = field(default_factory=dict)

    def data(self) -> bytes:
        return pack_fields(schema.OPTIONS_BY_CODE[self.code].fields, self.values)


@dataclass
class Auth:
    """A Mobility Message Authentication option (RFC 4285 §5).

    The authenticator is computed over the finished message with ``key``,
    unless ``forged`` gives the octets to send instead.
    """
    subtype: int
    spi: int
    key: bytes
    length: Optional[int] = None
    forged: Optional[bytes] = None
    code = schema.OPT_AUTH

    @property
    def authenticator_length(self) -> int:
        if self.forged is not None:
            return len(self.forged)
        if self.length is not None:
            return self.length
        return schema.MN_HA_AUTH_LEN if self.subtype == schema.AUTH_SUBTYPE_MN_HA else 20

    def data(self) -> bytes:
        return struct.pack("!BI", self.subtype, self.spi) + bytes(self.authenticator_length)

    def authenticator(self, mobility_data: bytes) -> bytes:
        if self.forged is not None:
            return self.forged
        if self.subtype == schema.AUTH_SUBTYPE_MN_AAA:
            return crypto.mn_aaa_authenticator(self.key, mobility_data)[:self.authenticator_length]
        return crypto.mn_ha_authenticator(self.key, mobility_data)


@dataclass
class RawOption:
    """Octets placed exactly as given, without alignment: for broken options."""
    octets: bytes


OptionItem = Union[Option, Auth, RawOption]


@dataclass
class Damage:
    """Ways a message may be deliberately broken on the wire."""
    payload_proto: Optional[int] = None    # instead of 59
    header_len_delta: int = 0              # Header Len lies by this many 8-octet units
    checksum_xor: int = 0                  # flips checksum bits after computing it
    ip_length_delta: int = 0               # IPv6 Payload Length lies by this many octets
    hao_length: Optional[int] = None       # Home Address option length octet
    truncate_mh: Optional[int] = None      # keep only this many MH octets on the wire


@dataclass
class MobilityMessage:
    mh_type: int
    fields: Dict[str, int]
    options: List[OptionItem]
    src: bytes
    dst: bytes
    home_address_option: Optional[bytes] = None   # BU from a visited link
    routing_home: Optional[bytes] = None          # BA to a visited link
    align: bool = True
    damage: Damage = field(default_factory=Damage)

    def option_values(self, code: int) -> Optional[Dict[str, object]]:
        for item in self.options:
            if isinstance(item, Option) and item.code == code:
                return item.values
        return None

    @property
    def auths(self) -> List[Auth]:
        return [item for item in self.options if isinstance(item, Auth)]

    @property
    def timestamp(self) -> Optional[int]:
        values = self.option_values(schema.OPT_REPLAY)
        return None if values is None else values["timestamp"]

    @property
    def nai(self) -> Optional[str]:
        values = self.option_values(schema.OPT_MN_ID)
        return None if values is None else values["identifier"].decode()

    # The authenticator inputs, per the table in the protocol notes.
    @property
    def care_of_address(self) -> bytes:
        if self.mh_type == schema.MH_BA:
            return self.dst
        alternate = self.option_values(schema.OPT_ALTERNATE_COA)
        return alternate["address"] if alternate else self.src

    @property
    def home_address(self) -> bytes:
        if self.mh_type == schema.MH_BA:
            return self.routing_home or self.dst
        return self.home_address_option or self.src


def pack_fields(fields: Sequence[schema.Field], values: Dict[str, object]) -> bytes:
    """Fields in wire order; a missing fixed field is zero, a REST tail is bytes."""
    out = []
    for f in fields:
        value = values.get(f.name, b"" if f.fmt == schema.REST else 0)
        out.append(value if f.fmt == schema.REST else struct.pack("!" + f.fmt, value))
    return b"".join(out)


def mobility_padding(size: int) -> bytes:
    """Pad1 for one octet, PadN for more (RFC 6275 §6.2.2, §6.2.3)."""
    if size <= 0:
        return b""
    if size == 1:
        return bytes((schema.OPT_PAD1,))
    return bytes((schema.OPT_PADN, size - 2)) + bytes(size - 2)


def encode_mobility_header(msg: MobilityMessage) -> bytes:
    spec = schema.MESSAGES_BY_CODE[msg.mh_type]
    body = pack_fields(spec.fields, msg.fields)
    offset = schema.MH_FIXED_SIZE + len(body)
    options = bytearray()
    auth_slots = []
    for item in msg.options:
        if isinstance(item, RawOption):
            options += item.octets
            continue
        align = schema.OPTIONS_BY_CODE[item.code].align
        if msg.align and align:
            options += mobility_padding((align[1] - (offset + len(options))) % align[0])
        data = item.data()
        if isinstance(item, Auth):
            auth_slots.append((offset + len(options), item))
        options += bytes((item.code, len(data))) + data
    options += mobility_padding(-(offset + len(options)) % 8)
    total = offset + len(options)
    damage = msg.damage
    payload_proto = schema.NO_NEXT_HEADER if damage.payload_proto is None else damage.payload_proto
    header_len = total // 8 - 1 + damage.header_len_delta
    header = pack_fields(schema.MH_HEADER_FIELDS, {
        "payload_proto": payload_proto, "header_len": header_len, "mh_type": msg.mh_type})
    mh = bytearray(header + body + options)
    for option_offset, auth in auth_slots:
        spi_end = option_offset + 2 + AUTH_FIXED
        data = crypto.mobility_data(msg.care_of_address, msg.home_address, bytes(mh), spi_end)
        mh[spi_end:spi_end + auth.authenticator_length] = auth.authenticator(data)
    pseudo_src = msg.home_address_option or msg.src
    pseudo_dst = msg.routing_home or msg.dst
    checksum = crypto.mh_checksum(pseudo_src, pseudo_dst, schema.MH_NEXT_HEADER, bytes(mh)) ^ damage.checksum_xor
    struct.pack_into("!H", mh, crypto.CHECKSUM_OFFSET, checksum)
    return bytes(mh)


def home_address_destination_options(home: bytes, next_header: int, hao_length: Optional[int] = None) -> bytes:
    """A destination options header holding only the Home Address option, aligned 8n+6."""
    start = 2
    pad = (HAO_ALIGN[1] - start) % HAO_ALIGN[0]
    padding = bytes((IPV6_OPT_PADN, pad - 2)) + bytes(pad - 2)
    length = 16 if hao_length is None else hao_length
    body = padding + bytes((HOME_ADDRESS_OPTION, length)) + home
    return bytes((next_header, (start + len(body)) // 8 - 1)) + body


def type2_routing_header(home: bytes, next_header: int) -> bytes:
    return bytes((next_header, 2, RT2_TYPE, 1)) + bytes(4) + home


def fragment_header(next_header: int, offset_units: int, more: bool, identification: int) -> bytes:
    return struct.pack("!BBHI", next_header, 0, (offset_units << 3) | int(more), identification)


def ipv6_header(src: bytes, dst: bytes, next_header: int, payload_length: int, hop_limit: int = 64) -> bytes:
    return IPV6_HEADER.pack(6 << 28, payload_length, next_header, hop_limit, src, dst)


def _extension_chain(msg: MobilityMessage, next_header: int):
    """(extension headers, their first next-header value) in RFC 6275 order:
    Home Address destination options, then the type 2 routing header."""
    chain = b""
    if msg.routing_home is not None:
        chain = type2_routing_header(msg.routing_home, next_header)
        next_header = ROUTING
    if msg.home_address_option is not None:
        chain = home_address_destination_options(msg.home_address_option, next_header, msg.damage.hao_length) + chain
        next_header = DEST_OPTS
    return chain, next_header


def ipv6_packet(msg: MobilityMessage, hop_limit: int = 64) -> bytes:
    """The IPv6 packet carrying ``msg``: header, extension headers, Mobility Header."""
    mh = encode_mobility_header(msg)
    damage = msg.damage
    if damage.truncate_mh is not None:
        mh = mh[:damage.truncate_mh]
    chain, next_header = _extension_chain(msg, schema.MH_NEXT_HEADER)
    payload_length = len(chain) + len(mh) + damage.ip_length_delta
    return ipv6_header(msg.src, msg.dst, next_header, payload_length, hop_limit) + chain + mh


def fragmented_packets(msg: MobilityMessage, first_size: int, identification: int) -> List[bytes]:
    """``msg`` in two IPv6 fragments.  The Home Address option stays in the
    unfragmentable part, before the Fragment Header (RFC 6275 §6.3)."""
    mh = encode_mobility_header(msg)
    chain, next_header = _extension_chain(msg, FRAGMENT)
    first_size -= first_size % 8
    pieces = ((0, mh[:first_size], True), (first_size // 8, mh[first_size:], False))
    out = []
    for units, piece, more in pieces:
        header = fragment_header(schema.MH_NEXT_HEADER, units, more, identification)
        payload = chain + header + piece
        out.append(ipv6_header(msg.src, msg.dst, next_header, len(payload)) + payload)
    return out


def ethernet(src_mac: bytes, dst_mac: bytes, payload: bytes, ethertype: int = ETH_IPV6) -> bytes:
    return dst_mac + src_mac + struct.pack("!H", ethertype) + payload
