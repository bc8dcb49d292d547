"""The Mobility Header, declared once.

Everything that knows the wire format of a Mobility Header message or option
reads it from here: the Python parser (``analyzer.mobility``) compiles the
declarations below into ``struct`` layouts, and the Lua dissector generator
(``analyzer.dissector``) renders them into Wireshark fields.  Adding an option
type is one entry in ``OPTIONS`` plus its tests.

Field formats are ``struct`` codes in network order ('B', 'H', 'I', 'Q',
'8s', '16s') or ``REST`` for a variable-length tail that takes what is left.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from functools import cached_property
from typing import Mapping, Optional, Tuple

REST = "rest"

# Display hints shared by the Python report and the Lua generator.
DEC, HEX, IPV6, NTP, TEXT, BYTES, FLAGS = "dec", "hex", "ipv6", "ntp", "text", "bytes", "flags"

MH_NEXT_HEADER = 135
MH_NEXT_HEADER_OLD = 62  # pre-standard number still seen in old stacks and fuzz cases
NO_NEXT_HEADER = 59
NTP_UNIX_OFFSET = 2208988800


@dataclass(frozen=True)
class Field:
    name: str
    fmt: str
    label: str
    display: str = DEC
    values: Optional[Mapping[int, str]] = None
    # For flag words: (mask, letter, description) in wire order.
    flags: Tuple[Tuple[int, str, str], ...] = ()

    @cached_property
    def size(self) -> Optional[int]:
        return None if self.fmt == REST else struct.calcsize("!" + self.fmt)


@dataclass(frozen=True)
class MessageType:
    code: int
    abbrev: str
    name: str
    rfc: str
    fields: Tuple[Field, ...] = ()

    @cached_property
    def options_offset(self) -> int:
        """Octet where mobility options start, counted from the MH start."""
        return MH_FIXED_SIZE + sum(f.size for f in self.fields)


@dataclass(frozen=True)
class OptionType:
    code: int
    abbrev: str
    name: str
    rfc: str
    fields: Tuple[Field, ...] = ()
    # Alignment "xn+y": the type octet sits y octets past a multiple of x.
    align: Optional[Tuple[int, int]] = None
    # Smallest valid Option Length when a variable tail follows the fixed part.
    min_length: Optional[int] = None

    @cached_property
    def fixed_size(self) -> int:
        return sum(f.size for f in self.fields if f.size is not None)

    @cached_property
    def has_rest(self) -> bool:
        return bool(self.fields) and self.fields[-1].fmt == REST

    @cached_property
    def exact_length(self) -> Optional[int]:
        """The only valid Option Length, or None when a tail makes it vary."""
        return None if self.has_rest else self.fixed_size

    @cached_property
    def minimum_length(self) -> int:
        return self.min_length if self.min_length is not None else self.fixed_size


# The fixed part every Mobility Header starts with (RFC 6275 §6.1.1).
MH_HEADER_FIELDS: Tuple[Field, ...] = (
    Field("payload_proto", "B", "Payload Proto"),
    Field("header_len", "B", "Header Len (8-octet units beyond the first 8)"),
    Field("mh_type", "B", "MH Type"),
    Field("reserved", "B", "Reserved", HEX),
    Field("checksum", "H", "Checksum", HEX),
)
MH_FIXED_SIZE = sum(f.size for f in MH_HEADER_FIELDS)

BA_STATUS = {
    0: "Binding Update accepted",
    1: "Accepted but prefix discovery necessary",
    128: "Reason unspecified",
    129: "Administratively prohibited",
    130: "Insufficient resources",
    131: "Home registration not supported",
    132: "Not home subnet",
    133: "Not home agent for this mobile node",
    134: "Duplicate Address Detection failed",
    135: "Sequence number out of window",
    136: "Expired home nonce index",
    137: "Expired care-of nonce index",
    138: "Expired nonces",
    139: "Registration type change disallowed",
    144: "MIPV6-ID-MISMATCH",
    145: "MIPV6-MESG-ID-REQD",
    146: "MIPV6-AUTH-FAIL",
}
STATUS_ID_MISMATCH = 144
STATUS_MESG_ID_REQD = 145
STATUS_AUTH_FAIL = 146

BE_STATUS = {
    1: "Unknown binding for Home Address destination option",
    2: "Unrecognized MH Type value",
}

AUTH_SUBTYPES = {1: "MN-HA", 2: "MN-AAA"}
AUTH_SUBTYPE_MN_HA = 1
AUTH_SUBTYPE_MN_AAA = 2

# RFC 4285 §8: mobility SPIs 0-255 are reserved and name algorithms.
RESERVED_SPIS = {0: "Reserved (not to be assigned)", 3: "HMAC_SHA1_SPI", 5: "Reserved for 3GPP2"}
RESERVED_SPI_LIMIT = 256
HMAC_SHA1_SPI = 3

MNID_SUBTYPES = {1: "NAI"}
MNID_SUBTYPE_NAI = 1

MESSAGES: Tuple[MessageType, ...] = (
    MessageType(0, "BRR", "Binding Refresh Request", "RFC 6275 §6.1.2", (
        Field("reserved2", "H", "Reserved", HEX),
    )),
    MessageType(1, "HoTI", "Home Test Init", "RFC 6275 §6.1.3", (
        Field("reserved2", "H", "Reserved", HEX),
        Field("home_init_cookie", "Q", "Home Init Cookie", HEX),
    )),
    MessageType(2, "CoTI", "Care-of Test Init", "RFC 6275 §6.1.4", (
        Field("reserved2", "H", "Reserved", HEX),
        Field("care_of_init_cookie", "Q", "Care-of Init Cookie", HEX),
    )),
    MessageType(3, "HoT", "Home Test", "RFC 6275 §6.1.5", (
        Field("home_nonce_index", "H", "Home Nonce Index"),
        Field("home_init_cookie", "Q", "Home Init Cookie", HEX),
        Field("home_keygen_token", "Q", "Home Keygen Token", HEX),
    )),
    MessageType(4, "CoT", "Care-of Test", "RFC 6275 §6.1.6", (
        Field("care_of_nonce_index", "H", "Care-of Nonce Index"),
        Field("care_of_init_cookie", "Q", "Care-of Init Cookie", HEX),
        Field("care_of_keygen_token", "Q", "Care-of Keygen Token", HEX),
    )),
    MessageType(5, "BU", "Binding Update", "RFC 6275 §6.1.7", (
        Field("seq", "H", "Sequence Number"),
        Field("flags", "H", "Flags", FLAGS, flags=(
            (0x8000, "A", "Acknowledge"),
            (0x4000, "H", "Home Registration"),
            (0x2000, "L", "Link-Local Address Compatibility"),
            (0x1000, "K", "Key Management Mobility Capability"),
            (0x0800, "M", "MAP Registration"),
            (0x0400, "R", "Mobile Router"),
            (0x0200, "P", "Proxy Registration"),
            (0x0100, "F", "Forcing UDP Encapsulation"),
            (0x0080, "T", "TLV-header Format"),
            (0x0040, "B", "Bulk Binding Update"),
        )),
        Field("lifetime", "H", "Lifetime (4 s units)"),
    )),
    MessageType(6, "BA", "Binding Acknowledgement", "RFC 6275 §6.1.8", (
        Field("status", "B", "Status", DEC, BA_STATUS),
        Field("flags", "B", "Flags", FLAGS, flags=(
            (0x80, "K", "Key Management Mobility Capability"),
            (0x40, "R", "Mobile Router"),
            (0x20, "P", "Proxy Registration"),
            (0x10, "T", "TLV-header Format"),
            (0x08, "B", "Bulk Binding Update"),
        )),
        Field("seq", "H", "Sequence Number"),
        Field("lifetime", "H", "Lifetime (4 s units)"),
    )),
    MessageType(7, "BE", "Binding Error", "RFC 6275 §6.1.9", (
        Field("status", "B", "Status", DEC, BE_STATUS),
        Field("reserved2", "B", "Reserved", HEX),
        Field("home_address", "16s", "Home Address", IPV6),
    )),
)

OPT_PAD1 = 0
OPT_PADN = 1
OPT_ALTERNATE_COA = 3
OPT_MN_ID = 8
OPT_AUTH = 9
OPT_REPLAY = 10

OPTIONS: Tuple[OptionType, ...] = (
    # Pad1 is a lone type octet with no length; the parser special-cases it.
    OptionType(OPT_PAD1, "pad1", "Pad1", "RFC 6275 §6.2.2"),
    OptionType(OPT_PADN, "padn", "PadN", "RFC 6275 §6.2.3", (
        Field("padding", REST, "Padding", BYTES),
    )),
    OptionType(2, "bra", "Binding Refresh Advice", "RFC 6275 §6.2.4", (
        Field("refresh_interval", "H", "Refresh Interval (4 s units)"),
    ), align=(2, 0)),
    OptionType(OPT_ALTERNATE_COA, "altcoa", "Alternate Care-of Address", "RFC 6275 §6.2.5", (
        Field("address", "16s", "Alternate Care-of Address", IPV6),
    ), align=(8, 6)),
    OptionType(4, "nonce", "Nonce Indices", "RFC 6275 §6.2.6", (
        Field("home_nonce_index", "H", "Home Nonce Index"),
        Field("care_of_nonce_index", "H", "Care-of Nonce Index"),
    ), align=(2, 0)),
    OptionType(5, "bad", "Binding Authorization Data", "RFC 6275 §6.2.7", (
        Field("authenticator", REST, "Authenticator", BYTES),
    ), align=(8, 2)),
    OptionType(OPT_MN_ID, "mnid", "Mobile Node Identifier", "RFC 4283 §3", (
        Field("subtype", "B", "Subtype", DEC, MNID_SUBTYPES),
        Field("identifier", REST, "Identifier", TEXT),
    ), min_length=2),
    OptionType(OPT_AUTH, "auth", "Mobility Message Authentication", "RFC 4285 §5", (
        Field("subtype", "B", "Subtype", DEC, AUTH_SUBTYPES),
        Field("spi", "I", "Mobility SPI", DEC, RESERVED_SPIS),
        Field("authenticator", REST, "Authentication Data", BYTES),
    ), align=(4, 1), min_length=5),
    OptionType(OPT_REPLAY, "mesgid", "Mobility Message Replay Protection", "RFC 4285 §6", (
        Field("timestamp", "Q", "Timestamp", NTP),
    ), align=(8, 2)),
)

MESSAGES_BY_CODE: Mapping[int, MessageType] = {m.code: m for m in MESSAGES}
MESSAGES_BY_ABBREV: Mapping[str, MessageType] = {m.abbrev: m for m in MESSAGES}
OPTIONS_BY_CODE: Mapping[int, OptionType] = {o.code: o for o in OPTIONS}

MH_BU = MESSAGES_BY_ABBREV["BU"].code
MH_BA = MESSAGES_BY_ABBREV["BA"].code

# Minimum authenticator the notes accept for MN-AAA; MN-HA is exactly 96 bits.
MN_HA_AUTH_LEN = 12
MIN_MN_AAA_AUTH_LEN = 12
MN_HA_KEY_LEN = 16
