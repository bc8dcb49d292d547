"""The schema-driven Mobility Header parser against messages scapy built.

Each message type and each option in the schema is built with scapy's
MIP6MH_* / MIP6Opt* classes and read back field by field.  Expected values
come from the scapy objects, not from our schema.
"""

import ipaddress

import pytest
from scapy.layers.inet6 import (
    MIP6MH_BA,
    MIP6MH_BE,
    MIP6MH_BRR,
    MIP6MH_BU,
    MIP6MH_CoT,
    MIP6MH_CoTI,
    MIP6MH_Generic,
    MIP6MH_HoT,
    MIP6MH_HoTI,
    MIP6OptAltCoA,
    MIP6OptBindingAuthData,
    MIP6OptBRAdvice,
    MIP6OptMNID,
    MIP6OptMsgAuth,
    MIP6OptNonceIndices,
    MIP6OptReplayProtection,
    MIP6OptUnknown,
    Pad1,
    PadN,
)

from analyzer import mobility, schema
from tests import frames as F

COOKIE = bytes.fromhex("0102030405060708")
TOKEN = bytes.fromhex("f0e0d0c0b0a09080")


def _parse(packet) -> mobility.MobilityHeader:
    raw = bytes(packet)
    mh = mobility.parse(raw)
    assert mh.raw == raw
    return mh


def _be(data: bytes) -> int:
    return int.from_bytes(data, "big")


MESSAGES = {
    "BRR": (MIP6MH_BRR(cksum=0x1234), lambda p: {"reserved2": 0}),
    "HoTI": (MIP6MH_HoTI(cksum=0x1234, cookie=COOKIE),
             lambda p: {"reserved2": 0, "home_init_cookie": _be(COOKIE)}),
    "CoTI": (MIP6MH_CoTI(cksum=0x1234, cookie=COOKIE),
             lambda p: {"reserved2": 0, "care_of_init_cookie": _be(COOKIE)}),
    "HoT": (MIP6MH_HoT(cksum=0x1234, index=0xBEEF, cookie=COOKIE, token=TOKEN),
            lambda p: {"home_nonce_index": p.index, "home_init_cookie": _be(COOKIE),
                       "home_keygen_token": _be(TOKEN)}),
    "CoT": (MIP6MH_CoT(cksum=0x1234, index=0x0102, cookie=COOKIE, token=TOKEN),
            lambda p: {"care_of_nonce_index": p.index, "care_of_init_cookie": _be(COOKIE),
                       "care_of_keygen_token": _be(TOKEN)}),
    # scapy's BU flag field is the top 7 bits of the 16-bit word, A first.
    "BU": (MIP6MH_BU(cksum=0x1234, seq=0xFFFE, flags="AHLKMRP", mhtime=0x1234),
           lambda p: {"seq": 0xFFFE, "flags": int(p.flags) << 9, "lifetime": 0x1234}),
    "BA": (MIP6MH_BA(cksum=0x1234, status=146, flags="KR", seq=513, mhtime=900),
           lambda p: {"status": 146, "flags": int(p.flags) << 5, "seq": 513, "lifetime": 900}),
    "BE": (MIP6MH_BE(cksum=0x1234, status=2, ha="2001:db8::99"),
           lambda p: {"status": 2, "reserved2": 0, "home_address": F.packed("2001:db8::99")}),
}


@pytest.mark.parametrize("abbrev", list(MESSAGES))
def test_each_message_type_field_by_field(abbrev):
    built, expected = MESSAGES[abbrev]
    packet = type(built)(bytes(built))  # re-dissected, so computed fields such as len are filled
    mh = _parse(packet)
    assert mh.problems == []
    assert mh.abbrev == abbrev and mh.mh_type == packet.mhtype
    assert (mh.payload_proto, mh.checksum) == (59, 0x1234)
    assert mh.declared_length == len(bytes(packet)) == (packet.len + 1) * 8
    assert mh.values == expected(packet)


def test_bu_flag_letters_land_on_rfc_bits():
    values = _parse(MIP6MH_BU(cksum=0, flags="AK")).values
    assert values["flags"] == 0x8000 | 0x1000


def test_ba_flag_letters_land_on_rfc_bits():
    values = _parse(MIP6MH_BA(cksum=0, flags="K")).values
    assert values["flags"] == 0x80


def _options_of(mh, code):
    return [o for o in mh.options if o.code == code]


# Every option in the schema, built by scapy.  scapy's defaults for Nonce
# Indices and Binding Authorization Data put Option Length 16 on 4 and 12
# octets of data, so the lengths are given explicitly.
OPTIONS = {
    "Pad1": (Pad1(), {}),
    "PadN": (PadN(optdata=b"\0\0\0"), {"padding": b"\0\0\0"}),
    "Binding Refresh Advice": (MIP6OptBRAdvice(rinter=300), {"refresh_interval": 300}),
    "Alternate Care-of Address": (MIP6OptAltCoA(acoa=F.ALT_CARE_OF), {"address": F.packed(F.ALT_CARE_OF)}),
    "Nonce Indices": (MIP6OptNonceIndices(olen=4, hni=0x1111, coni=0x2222),
                      {"home_nonce_index": 0x1111, "care_of_nonce_index": 0x2222}),
    "Binding Authorization Data": (MIP6OptBindingAuthData(olen=12, authenticator=0x0102030405060708090A0B0C),
                                   {"authenticator": bytes(range(1, 13))}),
    "Mobile Node Identifier": (MIP6OptMNID(subtype=1, id=b"mn1@ims.example.net"),
                               {"subtype": 1, "identifier": b"mn1@ims.example.net"}),
    "Mobility Message Authentication": (MIP6OptMsgAuth(subtype=2, mspi=3, authdata=bytes(range(20))),
                                        {"subtype": 2, "spi": 3, "authenticator": bytes(range(20))}),
    "Mobility Message Replay Protection": (MIP6OptReplayProtection(timestamp=0xE8763A0080000001),
                                           {"timestamp": 0xE8763A0080000001}),
}


def test_options_table_covers_the_schema():
    assert set(OPTIONS) == {o.name for o in schema.OPTIONS}


@pytest.mark.parametrize("name", list(OPTIONS))
@pytest.mark.parametrize("message", [MIP6MH_BU, MIP6MH_BA])
def test_each_option_field_by_field(name, message):
    option, expected = OPTIONS[name]
    packet = message(cksum=0, seq=9, options=[option])
    mh = _parse(packet)
    assert mh.problems == []
    code, wire = option.otype, bytes(option)
    # scapy adds its own Pad1/PadN for alignment; ours is the first one with our bytes.
    placed = [offset for otype, offset in F.option_offsets(bytes(packet))
              if otype == code and bytes(packet)[offset:offset + len(wire)] == wire][0]
    ours = [o for o in _options_of(mh, code) if o.offset == placed][0]
    assert ours.name == name
    assert ours.values == expected
    assert not ours.misaligned
    if code == schema.OPT_PAD1:
        assert ours.length is None
    else:
        assert ours.length == len(wire) - 2
        assert ours.raw == wire[2:]


def test_all_options_together_in_scapy_alignment():
    opts = [MIP6OptAltCoA(acoa=F.ALT_CARE_OF), MIP6OptNonceIndices(olen=4, hni=1, coni=2),
            MIP6OptBindingAuthData(olen=12, authenticator=5), MIP6OptBRAdvice(rinter=7),
            MIP6OptMNID(id=b"a@b"), MIP6OptReplayProtection(timestamp=42),
            MIP6OptMsgAuth(subtype=1, mspi=4097, authdata=b"x" * 12),
            MIP6OptMsgAuth(subtype=2, mspi=3, authdata=b"y" * 12)]
    packet = MIP6MH_BU(cksum=0, options=opts)
    mh = _parse(packet)
    assert mh.problems == []
    assert [(o.code, o.offset) for o in mh.options] == F.option_offsets(bytes(packet))
    assert not any(o.misaligned for o in mh.options)
    assert [o.values["subtype"] for o in mh.options_of(schema.OPT_AUTH)] == [1, 2]
    assert mh.option(schema.OPT_ALTERNATE_COA).values["address"] == ipaddress.IPv6Address(F.ALT_CARE_OF).packed


def test_misaligned_option_is_flagged_not_rejected():
    # Replay Protection wants 8n+2; right after the 12-octet BU it sits at 12.
    packet = MIP6MH_BU(cksum=0, autopad=0, options=[MIP6OptReplayProtection(timestamp=1), PadN(optdata=b"\0" * 8)])
    mh = _parse(packet)
    assert mh.problems == []
    replay = mh.option(schema.OPT_REPLAY)
    assert replay.offset == 12 and replay.misaligned
    assert replay.values == {"timestamp": 1}


@pytest.mark.parametrize("mh_type", [8, 9, 42, 255])
def test_unknown_mh_type_decodes_as_raw(mh_type):
    packet = MIP6MH_Generic(mhtype=mh_type, cksum=0xABCD, msg=b"\x01\x02" + b"\xee" * 8)
    mh = _parse(packet)
    assert mh.spec is None and mh.mh_type == mh_type
    assert mh.values == {} and mh.options == [] and mh.problems == []
    assert mh.abbrev == "MH%d" % mh_type
    assert mh.checksum == 0xABCD


@pytest.mark.parametrize("code", [6, 60, 103, 200])
def test_unknown_option_decodes_as_raw(code):
    packet = MIP6MH_BU(cksum=0, options=[MIP6OptUnknown(otype=code, odata=b"\x11\x22\x33")])
    mh = _parse(packet)
    unknown = mh.options[0]
    assert (unknown.code, unknown.offset, unknown.length, unknown.raw) == (code, 12, 3, b"\x11\x22\x33")
    assert unknown.spec is None and unknown.values == {}
    assert unknown.name == "Unknown option %d" % code
    assert mh.problems == []


def _problem_offsets(mh):
    return [offset for offset, _text in mh.problems]


def _bu_with(option_bytes: bytes) -> bytes:
    """A BU whose option area is exactly ``option_bytes`` (Header Len set to cover it)."""
    body = bytes(MIP6MH_BU(cksum=0, seq=1))[6:12] + option_bytes
    body += b"\0" * (-(len(body) + 6) % 8)
    return bytes([59, (len(body) + 6) // 8 - 1, 5, 0, 0, 0]) + body


def test_option_length_overrunning_the_header_is_a_problem_at_its_offset():
    raw = _bu_with(b"\x01\x00" + b"\x3c\x20" + b"\0" * 10)  # type 60 claims 32 octets, 10 remain
    mh = mobility.parse(raw)
    assert _problem_offsets(mh) == [14]
    assert "overruns" in mh.problems[0][1]
    assert [o.code for o in mh.options] == [1]


def test_option_type_without_room_for_length_is_a_problem():
    raw = bytes(MIP6MH_BRR(cksum=0))[:6] + b"\0\0" + b"\x01\x04\0\0\0\0\0\x0a"  # Header Len 1, last octet = type
    raw = raw[:1] + b"\x01" + raw[2:]
    mh = mobility.parse(raw)
    assert _problem_offsets(mh) == [15]


@pytest.mark.parametrize("option_bytes, offset, text", [
    (b"\x0a\x06" + b"\0" * 6, 12, "length 6, must be 8"),              # replay protection
    (b"\x09\x04\x01\0\0\x10", 12, "length 4, must be at least 5"),      # authentication without SPI
    (b"\x08\x01\x01", 12, "length 1, must be at least 2"),              # MN-ID without identifier
    (b"\x03\x08" + b"\0" * 8, 12, "length 8, must be 16"),              # Alternate CoA cut short
    (b"\x04\x10" + b"\0" * 16, 12, "length 16, must be 4"),             # scapy's default Nonce Indices
])
def test_known_option_with_wrong_length_is_a_problem(option_bytes, offset, text):
    mh = mobility.parse(_bu_with(option_bytes))
    assert _problem_offsets(mh) == [offset]
    assert text in mh.problems[0][1]
    bad = mh.options[0]
    assert bad.values == {} and bad.problem
    assert mh.option(option_bytes[0]) is None


def test_header_len_beyond_the_data_is_a_problem_at_octet_1():
    raw = bytes(MIP6MH_BU(cksum=0, seq=3, options=[MIP6OptReplayProtection(timestamp=5)]))
    mh = mobility.parse(raw[:16])
    assert mh.problems[0][0] == 1 and "Header Len" in mh.problems[0][1]
    assert mh.values["seq"] == 3


def test_header_len_too_short_for_the_type():
    raw = bytes([59, 0, 6, 0, 0, 0, 0, 0])  # a BA in 8 octets: its fixed fields need 12
    mh = mobility.parse(raw)
    assert mh.abbrev == "BA"
    assert 1 in _problem_offsets(mh) and 8 in _problem_offsets(mh)
    assert mh.values == {}


def test_octets_past_header_len_are_a_problem_where_they_start():
    raw = bytes(MIP6MH_BRR(cksum=0)) + b"\0" * 8
    mh = mobility.parse(raw)
    assert _problem_offsets(mh) == [8]


def test_payload_proto_other_than_59_is_a_problem():
    raw = bytearray(bytes(MIP6MH_BRR(cksum=0)))
    raw[0] = 17
    mh = mobility.parse(bytes(raw))
    assert _problem_offsets(mh) == [0]


@pytest.mark.parametrize("size", [0, 1, 3, 5])
def test_shorter_than_the_fixed_part(size):
    mh = mobility.parse(bytes(MIP6MH_BU(cksum=0))[:size])
    assert _problem_offsets(mh) == [0]
    assert mh.mh_type == (5 if size >= 3 else None)
