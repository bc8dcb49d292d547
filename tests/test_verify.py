"""MH checksum and RFC 4285 authenticators, positive and negative.

Every expected value is computed in tests/frames.py from first principles:
the checksum by RFC 1071 over the pseudo-header the notes prescribe, the
authenticators with the `cryptography` package's HMAC-SHA1.
"""

import pytest
from scapy.layers.inet6 import MIP6MH_BA, MIP6MH_BU, MIP6OptMNID, MIP6OptMsgAuth, MIP6OptReplayProtection

from analyzer import decode, keys, verify
from tests import frames as F

MN_AAA_NAI = F.NAI


@pytest.fixture(scope="module")
def keystore():
    return keys.parse_document({
        "mn_ha": [{"spi": F.MN_HA_SPI, "key": F.MN_HA_KEY.hex(), "nai": F.NAI}],
        "mn_aaa": [{"nai": MN_AAA_NAI, "spi": 3, "key": F.MN_AAA_KEY.hex()}],
    })


def _verified(built: F.Built, keystore=None, linktype=F.LINKTYPE_IPV6):
    msg = decode.decode_frame("t.pcap", 1, 0, linktype, built.ip6 if isinstance(built, F.Built) else built)
    verify.verify_message(msg, keystore)
    return msg


def _results(msg):
    return [(r.subtype, r.spi, r.result) for r in msg.auth_results]


# --- checksum ----------------------------------------------------------------

def _bu_mh():
    return bytes(MIP6MH_BU(cksum=0, seq=77, flags="AHK", mhtime=5,
                           options=[MIP6OptReplayProtection(timestamp=99)]))


@pytest.mark.parametrize("hao_padding", ["padn", "pad1"])
def test_checksum_with_home_address_option_uses_home_address_as_source(hao_padding):
    built = F.ipv6_with_mh(_bu_mh(), F.CARE_OF, F.HOME_AGENT, home_address=F.HOME_ADDRESS,
                           hao_padding=hao_padding)
    assert _verified(built).checksum == "valid"


def test_checksum_over_care_of_source_is_wrong_when_home_address_option_present():
    mh = _bu_mh()
    care_of_sum = F.mh_checksum(F.packed(F.CARE_OF), F.packed(F.HOME_AGENT), mh)
    assert care_of_sum != F.mh_checksum(F.packed(F.HOME_ADDRESS), F.packed(F.HOME_AGENT), mh)
    built = F.ipv6_with_mh(mh, F.CARE_OF, F.HOME_AGENT, home_address=F.HOME_ADDRESS, checksum=care_of_sum)
    assert _verified(built).checksum == "invalid"


def test_checksum_with_type_2_routing_header_uses_home_address_as_destination():
    mh = bytes(MIP6MH_BA(cksum=0, status=0, seq=77, mhtime=5))
    built = F.ipv6_with_mh(mh, F.HOME_AGENT, F.CARE_OF, rt2=F.HOME_ADDRESS)
    assert _verified(built).checksum == "valid"
    wrong = F.mh_checksum(F.packed(F.HOME_AGENT), F.packed(F.CARE_OF), mh)
    built = F.ipv6_with_mh(mh, F.HOME_AGENT, F.CARE_OF, rt2=F.HOME_ADDRESS, checksum=wrong)
    assert _verified(built).checksum == "invalid"


def test_checksum_without_mobility_extensions_uses_plain_addresses():
    built = F.ipv6_with_mh(_bu_mh(), F.HOME_ADDRESS, F.HOME_AGENT, hop_by_hop=True)
    assert _verified(built).checksum == "valid"


@pytest.mark.parametrize("position", [6, 8, 15])
def test_checksum_detects_a_flipped_bit(position):
    good = F.ipv6_with_mh(_bu_mh(), F.CARE_OF, F.HOME_AGENT, home_address=F.HOME_ADDRESS)
    data = bytearray(good.ip6)
    data[good.mh_offset + position] ^= 0x01
    assert _verified(bytes(data)).checksum == "invalid"


def test_zero_checksum_is_invalid():
    built = F.ipv6_with_mh(_bu_mh(), F.CARE_OF, F.HOME_AGENT, checksum=0)
    assert _verified(built).checksum == "invalid"


def test_checksum_pseudo_header_says_135_even_for_old_next_header_62():
    """RFC 6275 §6.1.1 and the notes: the pseudo-header's next header is 135."""
    built = F.ipv6_with_mh(_bu_mh(), F.CARE_OF, F.HOME_AGENT, next_header=F.MH_PROTO_OLD)
    msg = _verified(built)
    assert msg.next_header == 62 and msg.checksum == "valid"


def test_checksum_of_a_cut_off_header_is_unverified():
    built = F.ipv6_with_mh(_bu_mh(), F.CARE_OF, F.HOME_AGENT)
    assert _verified(built.ip6[:-4]).checksum == "unverified"


def test_checksum_over_ethernet_ignores_the_trailer():
    built = F.ipv6_with_mh(_bu_mh(), F.CARE_OF, F.HOME_AGENT, home_address=F.HOME_ADDRESS)
    frame = F.ethernet(built.ip6, trailer=b"\x01\x02\x03\x04")
    assert _verified(frame, linktype=F.LINKTYPE_ETHERNET).checksum == "valid"


# --- MN-HA -------------------------------------------------------------------

def test_mn_ha_valid_on_bu(keystore):
    msg = _verified(F.signed_bu(), keystore)
    assert msg.checksum == "valid"
    assert _results(msg) == [(1, F.MN_HA_SPI, "valid")]
    assert msg.mn_id == F.NAI
    assert msg.auth_results[0].as_json() == {"subtype": "MN-HA", "spi": F.MN_HA_SPI, "result": "valid"}


def test_mn_ha_computed_value_is_the_oracles(keystore):
    built = F.signed_bu()
    msg = _verified(built, keystore)
    option = msg.auth_results[0].option
    assert msg.auth_results[0].computed == option.values["authenticator"] == built.mh[option.offset + 7:][:12]


def test_mn_ha_valid_on_ba_with_routing_header(keystore):
    msg = _verified(F.signed_ba(status=0), keystore)
    assert msg.checksum == "valid"
    assert _results(msg) == [(1, F.MN_HA_SPI, "valid")]


def test_mn_ha_wrong_key_is_invalid(keystore):
    msg = _verified(F.signed_bu(mn_ha_key=b"\x01" * 16), keystore)
    assert msg.checksum == "valid"
    assert _results(msg) == [(1, F.MN_HA_SPI, "invalid")]


def _flip_and_fix_checksum(built: F.Built, mh_position: int, home=F.HOME_ADDRESS, dst=F.HOME_AGENT) -> bytes:
    mh = bytearray(built.mh)
    mh[mh_position] ^= 0x80
    mh = F.with_checksum(bytes(mh), F.mh_checksum(F.packed(home), F.packed(dst), bytes(mh)))
    return built.ip6[:built.mh_offset] + mh


def test_mn_ha_flipped_bit_in_covered_data_is_invalid(keystore):
    built = F.signed_bu()
    msg = _verified(_flip_and_fix_checksum(built, 6), keystore)  # sequence number
    assert msg.checksum == "valid"
    assert _results(msg) == [(1, F.MN_HA_SPI, "invalid")]


def test_mn_ha_flipped_bit_in_authenticator_is_invalid(keystore):
    built = F.signed_bu()
    auth_at = [offset for otype, offset in F.option_offsets(built.mh) if otype == 9][0]
    msg = _verified(_flip_and_fix_checksum(built, auth_at + 7 + 11), keystore)
    assert _results(msg) == [(1, F.MN_HA_SPI, "invalid")]


def test_mn_ha_covers_the_care_of_address(keystore):
    built = F.signed_bu(signer_care_of="2001:db8:999::1")
    assert _results(_verified(built, keystore)) == [(1, F.MN_HA_SPI, "invalid")]


def test_mn_ha_with_alternate_care_of_address_uses_it(keystore):
    built = F.signed_bu(alt_coa=F.ALT_CARE_OF)  # signed over the Alternate CoA
    msg = _verified(built, keystore)
    assert msg.care_of_address == F.packed(F.ALT_CARE_OF)
    assert _results(msg) == [(1, F.MN_HA_SPI, "valid")]


def test_mn_ha_signed_over_source_when_alternate_care_of_address_present_is_invalid(keystore):
    built = F.signed_bu(alt_coa=F.ALT_CARE_OF, signer_care_of=F.CARE_OF)
    assert _results(_verified(built, keystore)) == [(1, F.MN_HA_SPI, "invalid")]


def test_mn_ha_bu_sent_from_home_uses_source_for_both_addresses(keystore):
    options = [MIP6OptReplayProtection(timestamp=5),
               MIP6OptMsgAuth(subtype=1, mspi=F.MN_HA_SPI, authdata=b"\0" * 12)]
    mh = bytes(MIP6MH_BU(cksum=0, seq=1, flags="AH", mhtime=9, options=options))
    mh = F.sign(mh, F.HOME_ADDRESS, F.HOME_ADDRESS)
    built = F.ipv6_with_mh(mh, F.HOME_ADDRESS, F.HOME_AGENT)
    msg = _verified(built, keystore)
    assert msg.checksum == "valid"
    assert _results(msg) == [(1, F.MN_HA_SPI, "valid")]


def test_mn_ha_unknown_spi_is_no_key(keystore):
    msg = _verified(F.signed_bu(mn_ha_spi=9999), keystore)
    assert _results(msg) == [(1, 9999, "no-key")]
    assert "9999" in msg.auth_results[0].reason


@pytest.mark.parametrize("spi", [0, 3, 5, 255])
def test_mn_ha_reserved_spi_is_no_key_and_says_reserved(keystore, spi):
    msg = _verified(F.signed_bu(mn_ha_spi=spi), keystore)
    assert _results(msg) == [(1, spi, "no-key")]
    assert "reserved" in msg.auth_results[0].reason


def test_without_keyfile_every_authenticator_is_no_key():
    msg = _verified(F.signed_bu(mn_aaa=True), None)
    assert [r.result for r in msg.auth_results] == ["no-key", "no-key"]


def test_mn_ha_authenticator_of_wrong_length_is_invalid(keystore):
    built = F.signed_bu()
    options = [MIP6OptMNID(id=F.NAI.encode()), MIP6OptMsgAuth(subtype=1, mspi=F.MN_HA_SPI, authdata=b"\0" * 16)]
    mh = F.sign(bytes(MIP6MH_BU(cksum=0, seq=1, options=options)), F.CARE_OF, F.HOME_ADDRESS)
    built = F.ipv6_with_mh(mh, F.CARE_OF, F.HOME_AGENT, home_address=F.HOME_ADDRESS)
    msg = _verified(built, keystore)
    assert _results(msg) == [(1, F.MN_HA_SPI, "invalid")]
    assert "16" in msg.auth_results[0].reason


# --- MN-AAA ------------------------------------------------------------------

@pytest.mark.parametrize("length", [20, 12, 16])
def test_mn_aaa_full_and_truncated_forms_are_valid(keystore, length):
    msg = _verified(F.signed_bu(mn_ha=False, mn_aaa=True, mn_aaa_len=length), keystore)
    assert msg.checksum == "valid"
    assert _results(msg) == [(2, 3, "valid")]


@pytest.mark.parametrize("length", [11, 4, 0])
def test_mn_aaa_shorter_than_12_is_invalid(keystore, length):
    msg = _verified(F.signed_bu(mn_ha=False, mn_aaa=True, mn_aaa_len=length), keystore)
    assert _results(msg) == [(2, 3, "invalid")]
    assert "12" in msg.auth_results[0].reason


def test_mn_aaa_wrong_key_is_invalid(keystore):
    msg = _verified(F.signed_bu(mn_ha=False, mn_aaa=True, mn_aaa_key=b"\x02" * 16), keystore)
    assert _results(msg) == [(2, 3, "invalid")]


def test_mn_aaa_is_hmac_over_sha1_not_plain_hmac(keystore):
    """A signer that skips the inner SHA1 must not pass."""
    built = F.signed_bu(mn_ha=False, mn_aaa=True)
    auth_at = [offset for otype, offset in F.option_offsets(built.mh) if otype == 9][0]
    data = F.mobility_data(F.packed(F.CARE_OF), F.packed(F.HOME_ADDRESS), built.mh, auth_at + 7)
    mh = built.mh[:auth_at + 7] + F.hmac_sha1(F.MN_AAA_KEY, data) + built.mh[auth_at + 27:]
    mh = F.with_checksum(mh, F.mh_checksum(F.packed(F.HOME_ADDRESS), F.packed(F.HOME_AGENT), mh))
    msg = _verified(built.ip6[:built.mh_offset] + mh, keystore)
    assert msg.checksum == "valid"
    assert _results(msg) == [(2, 3, "invalid")]


@pytest.mark.parametrize("spi", [1, 5, 256, 4097])
def test_mn_aaa_spi_other_than_3_is_unsupported(keystore, spi):
    msg = _verified(F.signed_bu(mn_ha=False, mn_aaa=True, mn_aaa_spi=spi), keystore)
    assert _results(msg) == [(2, spi, "unsupported")]


def test_mn_aaa_unknown_nai_is_no_key(keystore):
    msg = _verified(F.signed_bu(mn_ha=False, mn_aaa=True, nai="stranger@example.org"), keystore)
    assert _results(msg) == [(2, 3, "no-key")]
    assert "stranger@example.org" in msg.auth_results[0].reason


def test_mn_aaa_without_mn_identifier_is_no_key(keystore):
    options = [MIP6OptMsgAuth(subtype=2, mspi=3, authdata=b"\0" * 12)]
    mh = F.sign(bytes(MIP6MH_BU(cksum=0, seq=1, options=options)), F.CARE_OF, F.HOME_ADDRESS)
    built = F.ipv6_with_mh(mh, F.CARE_OF, F.HOME_AGENT, home_address=F.HOME_ADDRESS)
    msg = _verified(built, keystore)
    assert msg.mn_id is None
    assert _results(msg) == [(2, 3, "no-key")]


def test_both_options_valid_and_mn_aaa_covers_the_mn_ha_option(keystore):
    built = F.signed_bu(mn_aaa=True)
    assert _results(_verified(built, keystore)) == [(1, F.MN_HA_SPI, "valid"), (2, 3, "valid")]
    # Re-sign MN-HA with another key but leave MN-AAA as it was: both must fail,
    # because the MN-AAA input runs through the whole MN-HA option.
    resigned = F.sign(built.mh, F.CARE_OF, F.HOME_ADDRESS, mn_ha_key=b"\x07" * 16)
    auth = [offset for otype, offset in F.option_offsets(built.mh) if otype == 9]
    mixed = resigned[:auth[1]] + built.mh[auth[1]:]
    mixed = F.with_checksum(mixed, F.mh_checksum(F.packed(F.HOME_ADDRESS), F.packed(F.HOME_AGENT), mixed))
    msg = _verified(built.ip6[:built.mh_offset] + mixed, keystore)
    assert _results(msg) == [(1, F.MN_HA_SPI, "invalid"), (2, 3, "invalid")]


def test_unknown_auth_subtype_is_unsupported(keystore):
    options = [MIP6OptMsgAuth(subtype=7, mspi=4097, authdata=b"\0" * 12)]
    mh = bytes(MIP6MH_BU(cksum=0, seq=1, options=options))
    msg = _verified(F.ipv6_with_mh(mh, F.CARE_OF, F.HOME_AGENT), keystore)
    assert _results(msg) == [(7, 4097, "unsupported")]


def test_malformed_auth_option_is_not_verified_and_does_not_crash(keystore):
    raw = bytes([59, 2, 5, 0, 0, 0, 0, 1, 0, 0, 0, 1]) + bytes([9, 3, 1, 0, 0]) + b"\0" * 7
    msg = _verified(F.ipv6_with_mh(raw, F.CARE_OF, F.HOME_AGENT), keystore)
    assert msg.auth_results == []
    assert any("at least 5" in text for _offset, text in msg.problems)
