"""From link-layer frame to Message: every link type and the IPv6 extension chain.

Frames are built by tests/frames.py on scapy; offsets in the expectations are
the builder's, counted from the first octet of the frame.
"""

import tracemalloc

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.inet6 import HAO, MIP6MH_BA, MIP6MH_BRR, MIP6MH_BU, IPv6, IPv6ExtHdrDestOpt, IPv6ExtHdrRouting, PadN
from scapy.layers.ipsec import AH
from scapy.layers.l2 import ARP, Ether
from scapy.packet import Raw

from analyzer import decode, verify
from analyzer.capture import read_frames
from tests import frames as F


def _decode(linktype, data, number=1):
    return decode.decode_frame("t.pcap", number, 123, linktype, data)


@pytest.fixture(scope="module")
def bu():
    return F.signed_bu()


@pytest.mark.parametrize("link", list(F.LINK_LAYERS))
def test_every_link_type_reaches_the_mobility_header(link, bu):
    linktype, wrap, ip_offset = F.LINK_LAYERS[link]
    msg = _decode(linktype, wrap(bu.ip6))
    assert msg is not None
    assert msg.problems == []
    assert msg.ip_offset == ip_offset
    assert msg.mh_offset == ip_offset + bu.mh_offset
    assert msg.hao_offset == ip_offset + bu.hao_offset
    assert (msg.src, msg.dst) == (F.packed(F.CARE_OF), F.packed(F.HOME_AGENT))
    assert msg.home_address_option == F.packed(F.HOME_ADDRESS)
    assert msg.next_header == F.MH_PROTO
    assert msg.mh.raw == bu.mh and msg.mh.abbrev == "BU"
    assert (msg.frame, msg.capture, msg.ts_ns) == (1, "t.pcap", 123)


def test_ethernet_trailer_is_not_part_of_the_mobility_header(bu):
    msg = _decode(F.LINKTYPE_ETHERNET, F.ethernet(bu.ip6, trailer=b"\xde\xad\xbe\xef"))
    assert msg.problems == [] and msg.mh.raw == bu.mh
    assert msg.upper_length == len(bu.mh)


@pytest.mark.parametrize("linktype, data", [
    (F.LINKTYPE_ETHERNET, bytes(Ether() / IP(dst="192.0.2.1") / UDP())),
    (F.LINKTYPE_ETHERNET, bytes(Ether() / ARP())),
    (F.LINKTYPE_ETHERNET, bytes(Ether() / IPv6(dst="2001:db8::1") / UDP(dport=53))),
    (F.LINKTYPE_RAW, bytes(IP(dst="192.0.2.1") / UDP())),
    (F.LINKTYPE_NULL, F.bsd_null(bytes(IP() / UDP()), family=2)),
    (F.LINKTYPE_LOOP, (24).to_bytes(4, "little") + bytes(IPv6() / UDP())),  # DLT_LOOP is big-endian only
    (F.LINKTYPE_LINUX_SLL, bytes.fromhex("0000000100060200000000010000") + b"\x08\x00" + bytes(IP() / UDP())),
    (147, b"\x60" * 80),  # a DLT_USER link type we know nothing about
    (F.LINKTYPE_IPV6, b"\x60\x00"),  # shorter than an IPv6 header
])
def test_frames_without_a_mobility_header_are_none(linktype, data):
    assert _decode(linktype, data) is None


def test_udp_behind_home_address_option_is_none():
    data = bytes(IPv6(src=F.CARE_OF, dst=F.HOME_AGENT)
                 / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0\0"), HAO(hoa=F.HOME_ADDRESS)]) / UDP())
    assert _decode(F.LINKTYPE_IPV6, data) is None


def _bare_bu(**chain) -> F.Built:
    mh = bytes(MIP6MH_BU(cksum=0, seq=5, flags="AH", mhtime=10))
    return F.ipv6_with_mh(mh, F.CARE_OF, F.HOME_AGENT, **chain)


@pytest.mark.parametrize("hao_padding", ["padn", "pad1"])
def test_hop_by_hop_then_destination_options_with_home_address(hao_padding):
    built = _bare_bu(hop_by_hop=True, home_address=F.HOME_ADDRESS, hao_padding=hao_padding)
    assert built.ip6[6] == 0 and built.ip6[40] == 60  # the chain really is HBH -> DestOpt -> MH
    msg = _decode(F.LINKTYPE_RAW, built.ip6)
    assert msg.problems == []
    assert msg.home_address_option == F.packed(F.HOME_ADDRESS)
    assert msg.hao_offset == built.hao_offset == 56
    assert msg.mh_offset == built.mh_offset == 72
    assert msg.home_address == F.packed(F.HOME_ADDRESS) and msg.care_of_address == F.packed(F.CARE_OF)


def test_type_2_routing_header_on_a_ba():
    mh = bytes(MIP6MH_BA(cksum=0, status=0, seq=5))
    built = F.ipv6_with_mh(mh, F.HOME_AGENT, F.CARE_OF, rt2=F.HOME_ADDRESS)
    msg = _decode(F.LINKTYPE_RAW, built.ip6)
    assert msg.problems == []
    assert msg.rt2_address == F.packed(F.HOME_ADDRESS)
    assert msg.rt2_offset == built.rt2_offset == 48
    assert msg.home_address == F.packed(F.HOME_ADDRESS) and msg.care_of_address == F.packed(F.CARE_OF)


def test_authentication_header_in_the_chain():
    mh = bytes(MIP6MH_BU(cksum=0, seq=5))
    mh = F.with_checksum(mh, F.mh_checksum(F.packed(F.CARE_OF), F.packed(F.HOME_AGENT), mh))
    # 24-octet AH: Payload Len counts 4-octet units minus 2 (RFC 4302), scapy leaves it 0.
    data = bytes(IPv6(src=F.CARE_OF, dst=F.HOME_AGENT) / AH(nh=135, payloadlen=4, spi=256, seq=1, icv=b"\0" * 12)
                 / Raw(mh))
    msg = _decode(F.LINKTYPE_IPV6, data)
    assert msg.problems == [] and msg.mh_offset == 64 and msg.mh.values["seq"] == 5


def test_type_2_routing_header_of_wrong_size_is_a_problem():
    mh = bytes(MIP6MH_BA(cksum=0, status=0, seq=5))
    data = bytes(IPv6(src=F.HOME_AGENT, dst=F.CARE_OF)
                 / IPv6ExtHdrRouting(type=2, segleft=2, addresses=[F.HOME_ADDRESS, F.ALT_CARE_OF], nh=135)
                 / Raw(mh))
    msg = _decode(F.LINKTYPE_IPV6, data)
    assert msg.rt2_address is None
    assert [offset for offset, _ in msg.problems] == [40]
    assert msg.mh.abbrev == "BA"


def test_old_next_header_62():
    built = _bare_bu(next_header=F.MH_PROTO_OLD)
    msg = _decode(F.LINKTYPE_RAW, built.ip6)
    assert msg.next_header == 62 and msg.mh.abbrev == "BU" and msg.problems == []


@pytest.mark.parametrize("offset, more", [(1, 0), (3, 1)])
def test_non_first_fragment_is_reported_not_parsed(offset, more):
    built = _bare_bu(fragment=(offset, more))
    msg = _decode(F.LINKTYPE_RAW, built.ip6)
    assert msg.fragment == "non-first"
    assert msg.mh is None
    assert msg.next_header == F.MH_PROTO


def test_first_fragment_is_reported():
    msg = _decode(F.LINKTYPE_RAW, _bare_bu(fragment=(0, 1)).ip6)
    assert msg.fragment == "first"


def test_atomic_fragment_is_a_whole_packet():
    """Offset 0 and M=0 (RFC 6946): nothing is missing, so the MH must be parsed."""
    built = _bare_bu(fragment=(0, 0), home_address=F.HOME_ADDRESS)
    msg = _decode(F.LINKTYPE_RAW, built.ip6)
    assert msg.mh is not None and msg.mh.values["seq"] == 5
    assert msg.mh_offset == built.mh_offset
    assert msg.problems == []


def test_fragment_of_something_else_is_none():
    data = bytearray(_bare_bu(fragment=(2, 0)).ip6)
    data[40] = 17  # IPv6 -> Fragment -> UDP
    assert _decode(F.LINKTYPE_RAW, bytes(data)) is None


def test_extension_header_cut_off_is_a_problem_at_its_offset():
    built = _bare_bu(hop_by_hop=True, home_address=F.HOME_ADDRESS)
    msg = _decode(F.LINKTYPE_RAW, built.ip6[:40 + 8 + 10])  # inside the destination options header
    assert msg.mh is None
    assert [offset for offset, _ in msg.problems] == [48]


def test_extension_header_length_beyond_frame_is_a_problem():
    built = _bare_bu(home_address=F.HOME_ADDRESS)
    data = bytearray(built.ip6)
    data[41] = 20  # Hdr Ext Len: 168 octets
    msg = _decode(F.LINKTYPE_RAW, bytes(data))
    assert [offset for offset, _ in msg.problems] == [40]


def test_home_address_option_with_wrong_length():
    built = _bare_bu(home_address=F.HOME_ADDRESS)
    data = bytearray(built.ip6)
    # PadN(2) then a HAO: make it claim 14 octets and put a PadN(0) after it.
    data[47] = 14
    data[62:64] = b"\x01\x00"
    msg = _decode(F.LINKTYPE_RAW, bytes(data))
    assert msg.home_address_option is None
    assert [offset for offset, _ in msg.problems] == [46]


def test_frame_cut_inside_the_mobility_header():
    built = F.signed_bu()
    data = F.ethernet(built.ip6)[:-10]
    msg = _decode(F.LINKTYPE_ETHERNET, data)
    offsets = [offset for offset, _ in msg.problems]
    assert offsets[0] == len(data)  # "frame captured N of M octets"
    assert 14 + built.mh_offset + 1 in offsets  # Header Len says more than is there


def test_brr_on_sll2_with_vlan_free_ethertype():
    built = F.ipv6_with_mh(bytes(MIP6MH_BRR(cksum=0)), F.HOME_AGENT, F.HOME_ADDRESS)
    msg = _decode(F.LINKTYPE_LINUX_SLL2, F.linux_sll2(built.ip6))
    assert msg.mh.abbrev == "BRR" and msg.mh_offset == 20 + 40


def _peak_bytes_decoding(path) -> int:
    """tracemalloc peak while every frame of ``path`` goes through read_frames, decode and verify."""
    tracemalloc.start()
    try:
        with open(path, "rb") as stream:
            for frame in read_frames(stream, path.name):
                msg = decode.decode_frame(path.name, frame.number, frame.ts_ns, frame.linktype, frame.data)
                verify.verify_message(msg, None)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


@pytest.mark.slow
def test_decode_path_memory_stays_flat(tmp_path):
    """8x the frames must not need more memory: nothing accumulates per frame."""
    # The Ethernet trailer makes frames big (cheap to decode, ~1.4 kB each), so even the
    # small capture (~2.8 MB) spans several of the reader's 1 MiB chunks.
    frame = F.ethernet(F.signed_bu(mn_aaa=True).ip6, trailer=b"\0" * 1200)
    small_count = 2_000
    peaks = {}
    for count in (small_count, 8 * small_count):
        path = tmp_path / ("%d.pcap" % count)
        with open(path, "wb") as out:
            F.write_pcap(out, (F.Record(i * 1000, frame) for i in range(count)), F.LINKTYPE_ETHERNET)
        peaks[count] = _peak_bytes_decoding(path)
        path.unlink()
    small, large = peaks[small_count], peaks[8 * small_count]
    print("decode path peak: %d frames %d bytes, %d frames %d bytes" % (small_count, small, 8 * small_count, large))
    assert large < small * 1.25 + 256 * 1024, "peak %d bytes for %d frames vs %d for %d" % (
        large, 8 * small_count, small, small_count)
