"""Every finding code: a story that triggers it at the right frame, and a
near miss that must not trigger it (issue 3).

Stories are built with the sample writer's packet layer and fed straight into
the pipeline; ``test_every_code_has_cases`` keeps this table complete.
"""

from __future__ import annotations

import ipaddress

import pytest

from analyzer import schema
from analyzer.capture import Frame
from analyzer.decode import DLT_EN10MB
from analyzer.findings import RULES
from analyzer.keys import parse_document
from analyzer.pipeline import AuditOptions, audit
from analyzer.samplegen.packets import (
    Auth,
    Damage,
    MobilityMessage,
    Option,
    RawOption,
    ethernet,
    fragmented_packets,
    ipv6_packet,
)

T0 = 1_700_000_000.0
KEY = bytes.fromhex("00112233445566778899aabbccddeeff")
AAA_KEY = bytes.fromhex("5eed5eed5eed5eed5eed5eed5eed5eed")
SPI = 4097
NAI = "mn1@ims.example.net"
HOA = ipaddress.IPv6Address("2001:db8:100::11").packed
COA = ipaddress.IPv6Address("2001:db8:beef::11").packed
HA = ipaddress.IPv6Address("2001:db8:100::1").packed
OTHER_HA = ipaddress.IPv6Address("2001:db8:200::1").packed
MAC_MN, MAC_HA = b"\x02\0\0\0\0\x11", b"\x02\0\0\0\0\x01"
A_FLAG, H_FLAG = 0x8000, 0x4000


def ntp(unix: float) -> int:
    seconds = int(unix)
    return (seconds + schema.NTP_UNIX_OFFSET) << 32 | int((unix - seconds) * 2 ** 32)


class Story:
    """A capture told message by message; ``findings()`` audits it."""

    def __init__(self, policy=None, mn_ha=True, mn_aaa=False, sa_nai=NAI):
        self.frames = []
        document = {"policy": policy or {"replay": "timestamp", "close_enough": 7}}
        if mn_ha:
            document["mn_ha"] = [{"spi": SPI, "key": KEY.hex(), "nai": sa_nai, "home_address": str(
                ipaddress.IPv6Address(HOA))}]
        if mn_aaa:
            document["mn_aaa"] = [{"nai": NAI, "spi": 3, "key": AAA_KEY.hex()}]
        self.keys = parse_document(document)

    def add(self, at: float, packet: bytes, to_ha=True) -> int:
        src, dst = (MAC_MN, MAC_HA) if to_ha else (MAC_HA, MAC_MN)
        self.frames.append(Frame(len(self.frames) + 1, int((T0 + at) * 1e9), DLT_EN10MB,
                                 ethernet(src, dst, packet), 0))
        return len(self.frames)

    def bu(self, at, seq, ts=None, skew=0.0, nai=NAI, auth="mn-ha", forged=None, replay=True, flags=A_FLAG | H_FLAG,
           ha=HA, extra_after_auth=(), damage=None, align=True, spi=SPI):
        options = []
        if nai:
            options.append(Option(schema.OPT_MN_ID, {"subtype": 1, "identifier": nai.encode()}))
        if replay:
            options.append(Option(schema.OPT_REPLAY, {"timestamp": ts if ts is not None else ntp(T0 + at + skew)}))
        if auth in ("mn-ha", "both"):
            options.append(Auth(schema.AUTH_SUBTYPE_MN_HA, spi, KEY, forged=forged))
        if auth in ("mn-aaa", "both"):
            options.append(Auth(schema.AUTH_SUBTYPE_MN_AAA, 3, AAA_KEY, length=12))
        options.extend(extra_after_auth)
        message = MobilityMessage(schema.MH_BU, {"seq": seq, "flags": flags, "lifetime": 100}, options,
                                  src=COA, dst=ha, home_address_option=HOA, align=align,
                                  damage=damage or Damage())
        return message

    def send_bu(self, at, seq, **kw) -> int:
        return self.add(at, ipv6_packet(self.bu(at, seq, **kw)))

    def send_ba(self, at, seq, status=0, echo=None, mn_ha=True, mn_aaa=False, ha=HA) -> int:
        options = []
        if echo is not None:
            options.append(Option(schema.OPT_REPLAY, {"timestamp": echo}))
        if mn_ha:
            options.append(Auth(schema.AUTH_SUBTYPE_MN_HA, SPI, KEY))
        if mn_aaa:
            options.append(Auth(schema.AUTH_SUBTYPE_MN_AAA, 3, AAA_KEY, length=12))
        message = MobilityMessage(schema.MH_BA, {"status": status, "flags": 0, "seq": seq, "lifetime": 100},
                                  options, src=ha, dst=COA, routing_home=HOA)
        return self.add(at, ipv6_packet(message), to_ha=False)

    def exchange(self, at, seq, status=0, **bu_kw):
        """A BU and the HA's answer echoing its timestamp; returns (bu frame, ba frame)."""
        bu = self.bu(at, seq, **bu_kw)
        bu_frame = self.add(at, ipv6_packet(bu))
        echo = bu.timestamp
        if echo is not None and status == schema.STATUS_ID_MISMATCH:
            echo = (ntp(T0 + at) & ~0xFFFFFFFF) | (echo & 0xFFFFFFFF)
        return bu_frame, self.send_ba(at + 0.01, seq, status, echo=echo)

    def events(self, **options):
        return list(audit([("story", iter(self.frames))], self.keys, AuditOptions(**options)))

    def findings(self, code=None):
        return [p for kind, p in self.events() if kind == "finding" and (code is None or p.code == code)]


# -- the cases: each returns (story, frame the finding must be on) -------------

def auth_invalid():
    s = Story()
    return s, s.send_bu(0, 1, forged=bytes(12))


def auth_invalid_near():
    s = Story()
    s.exchange(0, 1)
    return s


def auth_no_key():
    s = Story()
    return s, s.send_bu(0, 1, spi=5000)


def auth_no_key_near():
    s = Story()
    s.send_bu(0, 1)
    return s


def auth_unsupported():
    s = Story()
    bu = s.bu(0, 1, auth=None, extra_after_auth=[Auth(schema.AUTH_SUBTYPE_MN_AAA, 7, AAA_KEY, length=12)])
    return s, s.add(0, ipv6_packet(bu))


def auth_unsupported_near():
    s = Story(mn_aaa=True)
    s.send_bu(0, 1, auth="mn-aaa")
    return s


def checksum_bad():
    s = Story()
    return s, s.send_bu(0, 1, damage=Damage(checksum_xor=0x0101))


def checksum_bad_near():
    s = Story()  # Home Address option and type 2 routing header: pseudo-header uses the home address
    s.exchange(0, 1)
    return s


def malformed():
    s = Story()
    s.send_bu(0, 1)
    return s, s.send_bu(1, 2, damage=Damage(header_len_delta=3))


def malformed_near():
    s = Story()  # an unknown option with an honest length is decoded as raw, not broken
    s.send_bu(0, 1, extra_after_auth=(), nai=NAI)
    bu = s.bu(1, 2, auth=None)
    bu.options.insert(0, RawOption(bytes((200, 2, 0, 0))))
    s.add(1, ipv6_packet(bu))
    return s


def capture_truncated():
    s = Story()
    s.send_bu(0, 1)
    frame = s.send_bu(1, 2)
    last = s.frames[-1]
    s.frames[-1] = last._replace(data=last.data[:30])
    # the reader reports the cut; here the pipeline sees it as a CaptureTruncated
    return s, frame


def capture_truncated_near():
    s = Story()
    s.exchange(0, 1)
    return s


def fragmented():
    s = Story()
    s.send_bu(0, 1)
    first, second = fragmented_packets(s.bu(1, 2), 24, 7)
    return s, [s.add(1, first), s.add(1, second)]   # each fragment is reported


def fragmented_near():
    s = Story()
    s.exchange(0, 1)
    return s


def option_misaligned():
    s = Story()
    return s, s.send_bu(0, 1, align=False)


def option_misaligned_near():
    s = Story()
    s.send_bu(0, 1)
    return s


def auth_order():
    s = Story()
    trailing = [Option(schema.OPT_ALTERNATE_COA, {"address": COA})]
    return s, s.send_bu(0, 1, extra_after_auth=trailing)


def auth_order_near():
    s = Story(mn_aaa=True)  # MN-HA then MN-AAA last, padded to 8 octets afterwards: allowed
    s.exchange(0, 1, auth="both")
    return s


def auth_aaa_in_ba():
    s = Story(mn_aaa=True)
    s.send_bu(0, 1, auth="both")
    return s, s.send_ba(0.01, 1, echo=ntp(T0), mn_aaa=True)


def auth_aaa_in_ba_near():
    s = Story(mn_aaa=True)
    s.exchange(0, 1, auth="mn-aaa")
    return s


def mnid_missing():
    s = Story()
    return s, s.send_bu(0, 1, nai=None)


def mnid_missing_near():
    s = Story()  # a BA need not carry the NAI
    s.exchange(0, 1)
    return s


def auth_missing():
    s = Story()
    return s, s.send_bu(0, 1, auth=None)


def auth_missing_near():
    s = Story(mn_ha=False)  # no SA for this MN: an unauthenticated BU is not ours to judge
    s.send_bu(0, 1, auth=None, flags=H_FLAG)
    return s


def replay_duplicate():
    s = Story()
    packet = ipv6_packet(s.bu(0, 1))
    s.add(0, packet)
    s.send_ba(0.01, 1, echo=ntp(T0))
    return s, s.add(30, packet)


def replay_duplicate_near():
    s = Story()
    s.exchange(0, 1)
    s.exchange(30, 2)
    return s


def replay_stale():
    s = Story()
    s.exchange(10, 1)
    return s, s.send_bu(11, 2, ts=ntp(T0 + 9))   # within the window, but below the accepted value


def replay_stale_near():
    s = Story()  # a future timestamp rejected with 144 must not make the next, correct BU stale
    s.exchange(0, 1, status=schema.STATUS_ID_MISMATCH, skew=60)
    s.exchange(1, 2)
    return s


def replay_stale_sequence():
    s = Story(policy={"replay": "sequence"})
    s.exchange(0, 100)
    return s, s.send_bu(5, 90, replay=False)


def clock_drift():
    s = Story()
    return s, s.send_bu(0, 1, skew=20)


def clock_drift_near():
    s = Story()
    s.exchange(0, 1, skew=5)
    return s


def mesg_id_missing():
    s = Story(policy={"replay": "timestamp", "require_mesg_id": True})
    return s, s.send_bu(0, 1, replay=False)


def mesg_id_missing_near():
    s = Story(policy={"replay": "timestamp", "require_mesg_id": False})
    s.exchange(0, 1, replay=False)
    return s


def ha_accepted_invalid():
    s = Story()
    _bu, ba = s.exchange(0, 1, forged=bytes(12))
    return s, ba


def ha_accepted_invalid_near():
    s = Story()
    s.exchange(0, 1, forged=bytes(12), status=schema.STATUS_AUTH_FAIL)
    return s


def ha_wrong_status():
    s = Story()
    _bu, ba = s.exchange(0, 1, forged=bytes(12), status=schema.STATUS_ID_MISMATCH)
    return s, ba


def ha_wrong_status_near():
    s = Story()
    s.exchange(0, 1, skew=60, status=schema.STATUS_ID_MISMATCH)
    return s


def ba_timestamp_mismatch():
    s = Story()
    s.send_bu(0, 1)
    return s, s.send_ba(0.01, 1, echo=ntp(T0) + 1)


def ba_timestamp_mismatch_near():
    s = Story()  # 144: HA's own seconds in the high half, the BU's low half copied
    s.exchange(0, 1, skew=30, status=schema.STATUS_ID_MISMATCH)
    return s


def ba_mesg_id_missing():
    s = Story()
    s.send_bu(0, 1)
    return s, s.send_ba(0.01, 1, echo=None)


def ba_mesg_id_missing_near():
    s = Story()
    s.send_bu(0, 1, replay=False)
    s.send_ba(0.01, 1, echo=None)
    return s


def ba_auth_missing():
    s = Story()
    s.send_bu(0, 1)
    return s, s.send_ba(0.01, 1, echo=ntp(T0), mn_ha=False)


def ba_auth_missing_near():
    s = Story(mn_ha=False)  # the HA holds no MN-HA SA for this SPI
    s.send_bu(0, 1)
    s.send_ba(0.01, 1, echo=ntp(T0), mn_ha=False)
    return s


def mn_ignored_auth_fail():
    s = Story()
    s.exchange(0, 1, forged=bytes(12), status=schema.STATUS_AUTH_FAIL)
    return s, s.send_bu(5, 2)


def mn_ignored_auth_fail_near():
    s = Story()  # after a 146 the MN turns to another home agent
    s.exchange(0, 1, forged=bytes(12), status=schema.STATUS_AUTH_FAIL)
    s.send_bu(5, 2, ha=OTHER_HA)
    return s


def mn_timestamp_not_adjusted():
    s = Story()
    s.exchange(0, 1, skew=30, status=schema.STATUS_ID_MISMATCH)
    return s, s.send_bu(2, 2, skew=30)


def mn_timestamp_not_adjusted_near():
    s = Story()
    s.exchange(0, 1, skew=30, status=schema.STATUS_ID_MISMATCH)
    s.exchange(2, 2, skew=0.5)
    return s


def bu_unanswered():
    s = Story()
    return s, s.send_bu(0, 1)


def bu_unanswered_near():
    s = Story()
    s.send_bu(0, 1, flags=H_FLAG)   # no A flag: no BA is owed
    return s


def ba_unmatched():
    s = Story()
    return s, s.send_ba(0, 7, echo=ntp(T0))


def ba_unmatched_near():
    s = Story()
    s.exchange(0, 7)
    return s


CASES = {
    "AUTH_INVALID": (auth_invalid, auth_invalid_near),
    "AUTH_NO_KEY": (auth_no_key, auth_no_key_near),
    "AUTH_UNSUPPORTED": (auth_unsupported, auth_unsupported_near),
    "CHECKSUM_BAD": (checksum_bad, checksum_bad_near),
    "MALFORMED": (malformed, malformed_near),
    "CAPTURE_TRUNCATED": (capture_truncated, capture_truncated_near),
    "FRAGMENTED": (fragmented, fragmented_near),
    "OPTION_MISALIGNED": (option_misaligned, option_misaligned_near),
    "AUTH_ORDER": (auth_order, auth_order_near),
    "AUTH_AAA_IN_BA": (auth_aaa_in_ba, auth_aaa_in_ba_near),
    "MNID_MISSING": (mnid_missing, mnid_missing_near),
    "AUTH_MISSING": (auth_missing, auth_missing_near),
    "REPLAY_DUPLICATE": (replay_duplicate, replay_duplicate_near),
    "REPLAY_STALE": (replay_stale, replay_stale_near),
    "CLOCK_DRIFT": (clock_drift, clock_drift_near),
    "MESG_ID_MISSING": (mesg_id_missing, mesg_id_missing_near),
    "HA_ACCEPTED_INVALID": (ha_accepted_invalid, ha_accepted_invalid_near),
    "HA_WRONG_STATUS": (ha_wrong_status, ha_wrong_status_near),
    "BA_TIMESTAMP_MISMATCH": (ba_timestamp_mismatch, ba_timestamp_mismatch_near),
    "BA_MESG_ID_MISSING": (ba_mesg_id_missing, ba_mesg_id_missing_near),
    "BA_AUTH_MISSING": (ba_auth_missing, ba_auth_missing_near),
    "MN_IGNORED_AUTH_FAIL": (mn_ignored_auth_fail, mn_ignored_auth_fail_near),
    "MN_TIMESTAMP_NOT_ADJUSTED": (mn_timestamp_not_adjusted, mn_timestamp_not_adjusted_near),
    "BU_UNANSWERED": (bu_unanswered, bu_unanswered_near),
    "BA_UNMATCHED": (ba_unmatched, ba_unmatched_near),
}


def test_every_code_has_cases():
    assert set(CASES) == set(RULES)


def _frames_of(story, code):
    if code == "CAPTURE_TRUNCATED":
        return _truncated_frames(story)
    return [f.frame for f in story.findings(code)]


def _truncated_frames(story):
    from analyzer.capture import CaptureTruncated

    def frames():
        for frame in story.frames:
            if len(frame.data) < 60:
                raise CaptureTruncated(frame.number, "story: file ends inside frame %d" % frame.number)
            yield frame
    events = audit([("story", frames())], story.keys, AuditOptions())
    return [p.frame for kind, p in events if kind == "finding" and p.code == "CAPTURE_TRUNCATED"]


@pytest.mark.parametrize("code", sorted(CASES))
def test_trigger(code):
    story, frame = CASES[code][0]()
    assert _frames_of(story, code) == (frame if isinstance(frame, list) else [frame])


@pytest.mark.parametrize("code", sorted(CASES))
def test_near_miss(code):
    story = CASES[code][1]()
    assert _frames_of(story, code) == []


def test_sequence_mode_stale():
    story, frame = replay_stale_sequence()
    stale = story.findings("REPLAY_STALE")
    assert [f.frame for f in stale] == [frame]
    assert "sequence 90 is not newer than 100" in stale[0].message


def test_stale_is_not_drift():
    story, frame = replay_stale()
    assert story.findings("CLOCK_DRIFT") == []


def test_duplicate_replaces_stale_on_the_same_frame():
    story, frame = replay_duplicate()
    assert story.findings("REPLAY_STALE") == []
    assert story.findings("REPLAY_DUPLICATE")[0].related == (1,)


def test_accepted_invalid_is_critical_and_points_at_the_bu():
    story, ba = ha_accepted_invalid()
    (finding,) = story.findings("HA_ACCEPTED_INVALID")
    assert finding.severity == "critical" and finding.related == (1,)
    assert "authenticator is invalid" in finding.message


def test_clean_story_has_nothing_at_warning_or_above():
    s = Story()
    for i in range(20):
        s.exchange(i * 30.0, i + 1, skew=(i % 5) * 0.5 - 1)
    bad = [f for f in s.findings() if f.severity != "info"]
    assert bad == []
    exchanges = [p for kind, p in s.events() if kind == "exchange"]
    assert len(exchanges) == 20 and {e["verdict"] for e in exchanges} == {"accepted"}


def test_ha_skew_is_measured_from_144_answers():
    s = Story()
    s.exchange(0, 1, skew=30, status=schema.STATUS_ID_MISMATCH)
    summary = [p for kind, p in s.events() if kind == "summary"][0]
    (ha_skew,) = summary["ha_clock_skew_seconds"].values()
    assert abs(ha_skew["median"]) < 1.0
    assert summary["mn_clock_skew_seconds"][NAI]["max"] == pytest.approx(30, abs=0.01)


def test_clock_offset_moves_the_window():
    s = Story()
    s.send_bu(0, 1, skew=20)
    events = s.events(clock_offset=20)
    assert [p for kind, p in events if kind == "finding" and p.code == "CLOCK_DRIFT"] == []


def test_a_135_answer_pairs_with_the_stale_bu():
    s = Story(policy={"replay": "sequence"})
    s.exchange(0, 100, replay=False)
    stale = s.send_bu(5, 90, replay=False)
    answer = s.send_ba(5.01, 100, status=135)   # RFC 6275 §9.5.1: carries the last accepted sequence
    assert [f.code for f in s.findings() if f.code in ("BA_UNMATCHED", "BU_UNANSWERED")] == []
    exchanges = [p for kind, p in s.events() if kind == "exchange"]
    assert (exchanges[-1]["bu"], exchanges[-1]["ba"]) == (stale, answer)


def test_a_146_sent_to_a_forger_is_not_the_mobile_nodes_to_heed():
    s = Story()
    forged = s.bu(0, 1, forged=bytes(12))
    forged.src = ipaddress.IPv6Address("2001:db8:bad::66").packed   # the attacker's own address
    s.add(0, ipv6_packet(forged))
    message = s.bu(0.01, 1)
    reply = MobilityMessage(schema.MH_BA, {"status": schema.STATUS_AUTH_FAIL, "flags": 0, "seq": 1, "lifetime": 0},
                            [Option(schema.OPT_REPLAY, {"timestamp": forged.timestamp})],
                            src=HA, dst=forged.src, routing_home=HOA)
    s.add(0.01, ipv6_packet(reply), to_ha=False)
    s.add(5, ipv6_packet(s.bu(5, 2)))
    assert message is not None and s.findings("MN_IGNORED_AUTH_FAIL") == []


def test_a_144_with_the_wrong_low_half_reveals_no_home_agent_clock():
    s = Story()
    s.send_bu(0, 1, skew=30)
    s.send_ba(0.01, 1, status=schema.STATUS_ID_MISMATCH, echo=ntp(T0 + 2000) | 0x1234)   # low half not copied
    s.send_bu(2, 2, skew=30)
    summary = [p for kind, p in s.events() if kind == "summary"][0]
    assert summary["ha_clock_skew_seconds"] == {}
    assert s.findings("MN_TIMESTAMP_NOT_ADJUSTED") == []
    assert [f.frame for f in s.findings("BA_TIMESTAMP_MISMATCH")] == [2]


def test_sa_for_a_node_is_the_first_match_in_keyfile_order():
    keys = parse_document({"mn_ha": [
        {"spi": 300, "key": KEY.hex(), "nai": "a@x"},
        {"spi": 301, "key": KEY.hex(), "nai": "b@x", "home_address": "2001:db8::b"},
        {"spi": 302, "key": KEY.hex(), "nai": "c@x", "home_address": "2001:db8::c"},
    ]})
    home_c = ipaddress.IPv6Address("2001:db8::c").packed
    assert keys.mn_ha_for_node("c@x", home_c).spi == 302        # both keys name the same SA
    assert keys.mn_ha_for_node("a@x", home_c).spi == 300        # NAI's SA comes first
    assert keys.mn_ha_for_node(None, home_c).spi == 302
    assert keys.mn_ha_for_node("nobody@x", None) is None
