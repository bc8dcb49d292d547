"""Every third-party capture in the shared corpus, first module by module, then through the CLI.

Expectations come from SOURCES.md and from tcpdump's own expected output for
the same files (tests/*.out in the tcpdump repository), e.g. for
cve2015-0261-ipv6: "BU seq#=26471 ... (type-0x67: len=103)" and "header
length 8 is too small for type 6"; for mobility_opt_asan_4: "BU seq#=116 A
... (pad1)(pad1)(type-0x3c: len=19)".
"""

import pytest

from analyzer import decode, verify
from analyzer.capture import read_frames

BASE_TYPES = ["BRR", "HoTI", "CoTI", "HoT", "CoT", "BU", "BU", "BU", "BU", "BU", "BA", "BA", "BA", "BA", "BE", "BU"]

# file -> (frames, {frame: MH type}, frames that are MALFORMED, frames whose checksum is bad)
CORPUS = {
    "tcpdump-ipv6_mobility_1.pcap": (16, dict(enumerate(BASE_TYPES, 1)), set(), set(range(1, 17))),
    "tcpdump-ipv6-mobility-header-oobr.pcap": (1, {1: "BA"}, {1}, set()),
    "tcpdump-mobility_opt_asan.pcap": (2, {1: "BU", 2: "BU"}, {1, 2}, set()),
    "tcpdump-mobility_opt_asan_4.pcap": (1, {1: "BU"}, {1}, set()),
    "tcpdump-cve2015-0261-ipv6.pcap": (2, {1: "BU", 2: "BA"}, {1, 2}, set()),
    "zeek-mip6_bu.pcap": (1, {1: "BU"}, set(), set()),
    "zeek-mip6_back.pcap": (1, {1: "BA"}, set(), set()),
    "zeek-ipv6-mobile-hoa.pcap": (1, {}, set(), set()),
    "zeek-ipv6-mobile-routing.pcap": (1, {}, set(), set()),
}


def _decode_all(path):
    """{frame: verified Message}, and how many frames were read (to the end, or it raises)."""
    messages, count = {}, 0
    with open(path, "rb") as stream:
        for frame in read_frames(stream, path.name):
            count = frame.number
            msg = decode.decode_frame(path.name, frame.number, frame.ts_ns, frame.linktype, frame.data)
            if msg is not None:
                verify.verify_message(msg, None)
                messages[frame.number] = msg
    return messages, count


def test_table_covers_the_whole_corpus(corpus_dir):
    assert {p.name for p in corpus_dir.glob("*.pcap*")} == set(CORPUS)


@pytest.fixture(scope="module")
def decoded(corpus_dir):
    return {name: _decode_all(corpus_dir / name) for name in CORPUS}


@pytest.mark.parametrize("name", list(CORPUS))
def test_module_level_read_to_the_end_and_broken_frames_located(decoded, name):
    frames, types, malformed, bad_checksum = CORPUS[name]
    messages, count = decoded[name]
    assert count == frames
    assert {n: m.abbrev for n, m in messages.items()} == types
    assert {n for n, m in messages.items() if m.problems} == malformed
    assert {n for n, m in messages.items() if m.checksum == "invalid"} == bad_checksum
    for msg in messages.values():
        for offset, text in msg.problems:
            assert 0 <= offset <= msg.mh_offset + len(msg.mh.raw) and text


def _problems_at(msg):
    return {offset: text for offset, text in msg.problems}


def test_ipv6_mobility_1_values(decoded):
    messages, _ = decoded["tcpdump-ipv6_mobility_1.pcap"]
    assert all(m.mh.checksum == 0 and not m.problems for m in messages.values())
    bu = messages[6].mh
    assert bu.values == {"seq": 1000, "flags": 0x8000, "lifetime": 3600}
    assert [o.name for o in messages[10].mh.options] == [
        "Alternate Care-of Address", "Nonce Indices", "Binding Authorization Data", "PadN"]
    assert [o.code for o in messages[16].mh.options] == [0, 0, 0, 0]
    assert messages[12].mh.options[0].name == "Binding Refresh Advice"
    assert messages[15].mh.values["status"] == 1


def test_oobr_truncated_ba_under_next_header_62(decoded):
    (msg,) = decoded["tcpdump-ipv6-mobility-header-oobr.pcap"][0].values()
    assert msg.next_header == 62 and msg.mh_offset == 40
    problems = _problems_at(msg)
    assert "Payload Proto is 48" in problems[40]
    assert "392" in problems[41]
    assert msg.checksum == "unverified"


def test_opt_asan_bus_under_next_header_62(decoded):
    messages, _ = decoded["tcpdump-mobility_opt_asan.pcap"]
    for msg in messages.values():
        assert msg.next_header == 62
        assert msg.mh.values["seq"] == 116 and msg.mh.values["flags"] & 0x8000
    # frame 2: a PadN at MH octet 24 claims 238 octets
    assert "overruns" in _problems_at(messages[2])[14 + 40 + 24]


def test_opt_asan_4_unknown_option_60_is_raw(decoded):
    (msg,) = decoded["tcpdump-mobility_opt_asan_4.pcap"][0].values()
    unknown = [o for o in msg.mh.options if o.code == 60]
    assert [(o.offset, o.length, o.spec) for o in unknown] == [(14, 19, None)]
    assert [o.code for o in msg.mh.options[:2]] == [0, 0]  # tcpdump: (pad1)(pad1)
    assert "Nonce Indices" in _problems_at(msg)[msg.mh_offset + 35]


def test_cve_2015_0261_frames(decoded):
    messages, _ = decoded["tcpdump-cve2015-0261-ipv6.pcap"]
    bu, ba = messages[1], messages[2]
    assert bu.mh.values["seq"] == 26471
    assert (bu.mh.options[0].code, bu.mh.options[0].length) == (103, 103)
    assert "overruns" in _problems_at(bu)[bu.mh_offset + 117]
    assert "too short for a BA" in _problems_at(ba)[ba.mh_offset + 1]


def test_zeek_bu_and_ba_are_clean(decoded):
    (bu,) = decoded["zeek-mip6_bu.pcap"][0].values()
    (ba,) = decoded["zeek-mip6_back.pcap"][0].values()
    assert (bu.checksum, bu.mh.values["seq"], bu.problems) == ("valid", 37, [])
    assert (ba.checksum, ba.mh.values["seq"], ba.mh.values["status"], ba.problems) == ("valid", 42, 0, [])


# --- through the CLI ---------------------------------------------------------

@pytest.mark.parametrize("name", list(CORPUS))
def test_cli_reports_broken_frames_as_malformed_or_checksum_bad(run_cli, corpus_dir, name):
    frames, types, malformed, bad_checksum = CORPUS[name]
    result = run_cli(corpus_dir / name, "--format", "jsonl", "--fail-on", "error")
    assert "Traceback" not in result.err
    assert {e["pcap_cnt"] for e in result.findings("MALFORMED")} == malformed
    assert {e["pcap_cnt"] for e in result.findings("CHECKSUM_BAD")} == bad_checksum
    assert {e["pcap_cnt"]: e["mh_type"] for e in result.of_type("message")} == types
    assert result.findings("CAPTURE_TRUNCATED") == []
    summary = result.of_type("summary")[-1]
    assert summary["frames"] == {str(corpus_dir / name): frames}
    assert result.code == (1 if malformed or bad_checksum else 0)
    for finding in result.findings("MALFORMED"):
        assert finding["severity"] in ("error", "critical") and "octet" in finding["message"]


def test_cli_whole_corpus_in_one_run_text_and_jsonl(run_cli, corpus_dir):
    paths = [corpus_dir / name for name in CORPUS]
    text = run_cli(*paths)
    assert text.code == 1 and "Traceback" not in text.err and text.out
    jsonl = run_cli(*paths, "--format", "jsonl")
    assert jsonl.code == 1 and "Traceback" not in jsonl.err
    summary = jsonl.of_type("summary")[-1]
    assert summary["frames"] == {str(p): CORPUS[p.name][0] for p in paths}
    assert len(jsonl.of_type("message")) == sum(len(CORPUS[name][1]) for name in CORPUS)
