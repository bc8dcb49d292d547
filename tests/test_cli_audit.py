"""The audit command's issue-3 surface: exchanges, --explain, --mn, policy
overrides, `rules` and its documentation page."""

from __future__ import annotations

from pathlib import Path

import dpkt
import pytest
from test_rules import KEY, NAI, SPI, Story

from analyzer import rules_cli, schema
from analyzer.findings import RULES

ROOT = Path(__file__).resolve().parent.parent


def write_capture(story: Story, path: Path) -> Path:
    with open(path, "wb") as handle:
        writer = dpkt.pcap.Writer(handle, nano=True)
        for frame in story.frames:
            writer.writepkt(frame.data, ts=frame.ts_ns / 1e9)
    return path


@pytest.fixture
def keyfile(tmp_path):
    path = tmp_path / "keys.toml"
    path.write_text('[policy]\nreplay = "timestamp"\nclose_enough = 7\n'
                    '[[mn_ha]]\nspi = %d\nkey = "%s"\nnai = "%s"\n' % (SPI, KEY.hex(), NAI))
    path.chmod(0o600)
    return path


@pytest.fixture
def forged_accepted(tmp_path):
    """Frame 1-2 a clean exchange; frame 3-4 a forged BU the HA accepts."""
    story = Story()
    story.exchange(0, 1)
    story.exchange(30, 2, forged=bytes(range(12)))
    return write_capture(story, tmp_path / "forged.pcap")


def test_exchange_events_and_verdicts(run_cli, forged_accepted, keyfile):
    result = run_cli(forged_accepted, "--keys", keyfile, "--format", "jsonl")
    assert result.code == 1
    exchanges = result.of_type("exchange")
    assert [(e["bu"], e["ba"], e["verdict"]) for e in exchanges] == [(1, 2, "accepted"), (3, 4, "accepted-invalid")]
    assert exchanges[1]["mn_id"] == NAI and exchanges[1]["status"] == 0
    critical = result.findings("HA_ACCEPTED_INVALID")
    assert [(f["pcap_cnt"], f["related"], f["severity"]) for f in critical] == [(4, [3], "critical")]
    summary = result.of_type("summary")[0]
    assert summary["findings_by_severity"]["critical"] == 1
    assert summary["exchanges"] == {"accepted": 1, "accepted-invalid": 1}


def test_text_output_tells_the_story(run_cli, forged_accepted, keyfile):
    result = run_cli(forged_accepted, "--keys", keyfile)
    lines = result.out.splitlines()
    bu_line = next(i for i, line in enumerate(lines) if line.strip().startswith("3 "))
    assert "BU" in lines[bu_line] and NAI in lines[bu_line] and "MN-HA invalid" in lines[bu_line]
    assert "AUTH_INVALID" in lines[bu_line + 1]
    assert any("CRITICAL HA_ACCEPTED_INVALID" in line for line in lines)
    assert "exchange BU 3 / BA 4" in result.out and "== summary" in result.out


def test_fail_on_threshold(run_cli, forged_accepted, keyfile):
    assert run_cli(forged_accepted, "--keys", keyfile, "--fail-on", "never").code == 0
    assert run_cli(forged_accepted, "--keys", keyfile, "--fail-on", "critical").code == 1


def test_mn_filter_follows_one_node(run_cli, tmp_path, keyfile):
    story = Story()
    story.exchange(0, 1)
    other = story.bu(10, 5, nai="mn2@ims.example.net", auth=None)
    from analyzer.samplegen.packets import ipv6_packet
    story.add(10, ipv6_packet(other))
    path = write_capture(story, tmp_path / "two.pcap")
    result = run_cli(path, "--keys", keyfile, "--format", "jsonl", "--mn", "mn2@ims.example.net")
    messages = result.of_type("message")
    assert [m["pcap_cnt"] for m in messages] == [3]
    assert {f["mn_id"] for f in result.findings()} == {"mn2@ims.example.net"}


def test_policy_overrides_beat_the_keyfile(run_cli, tmp_path, keyfile):
    story = Story()
    story.send_bu(0, 1, skew=5)
    path = write_capture(story, tmp_path / "skew.pcap")
    assert not run_cli(path, "--keys", keyfile, "--format", "jsonl").findings("CLOCK_DRIFT")
    tight = run_cli(path, "--keys", keyfile, "--format", "jsonl", "--close-enough", "4")
    assert [f["pcap_cnt"] for f in tight.findings("CLOCK_DRIFT")] == [1]
    required = run_cli(path, "--keys", keyfile, "--format", "jsonl", "--require-mesg-id")
    assert not required.findings("MESG_ID_MISSING")   # it carries the option
    sequence = run_cli(path, "--keys", keyfile, "--format", "jsonl", "--replay", "sequence", "--close-enough", "4")
    assert not sequence.findings("CLOCK_DRIFT")       # timestamps are not judged in sequence mode


def test_explain_traces_an_authenticator_to_its_bytes(run_cli, forged_accepted, keyfile):
    result = run_cli(forged_accepted, "--keys", keyfile, "--explain", "3")
    out = result.out
    assert result.code == 0
    assert "authenticator: MN-HA, SPI %d" % SPI in out and ": invalid" in out
    assert "care-of address 2001:db8:beef::11  from the IPv6 source address" in out
    assert "home address    2001:db8:100::11  from the Home Address destination option" in out
    assert "[00][00]" in out                      # the zeroed checksum is marked in the input dump
    assert "received  000102030405060708090a0b" in out
    assert "computed  " in out
    assert KEY.hex() not in out                   # key bytes never appear
    assert "ERROR    AUTH_INVALID" in out
    assert "CRITICAL HA_ACCEPTED_INVALID" in out and "(raised on frame 4)" in out
    assert "pass     REPLAY_STALE" in out


def test_explain_ba_names_its_address_sources(run_cli, forged_accepted, keyfile):
    out = run_cli(forged_accepted, "--keys", keyfile, "--explain", "2").out
    assert "care-of address 2001:db8:beef::11  from the IPv6 destination address" in out
    assert "home address    2001:db8:100::11  from the type 2 routing header" in out
    assert "answers: the BU of frame 1" in out


def test_explain_of_a_frame_outside_the_capture(run_cli, forged_accepted, keyfile):
    result = run_cli(forged_accepted, "--keys", keyfile, "--explain", "99")
    assert result.code == 2 and "not in the capture" in result.out


def test_rules_lists_every_code(run_cli):
    out = run_cli("rules").out
    for code, rule in RULES.items():
        assert code in out and rule.rfc in out


def test_rules_page_is_in_sync():
    page = (ROOT / rules_cli.DOC_PAGE).read_text()
    assert page == rules_cli.markdown(), "regenerate: mip6-audit rules --format markdown > docs/rules.md"


def test_every_rule_cites_a_section():
    for rule in RULES.values():
        assert "§" in rule.rfc or rule.code == "CAPTURE_TRUNCATED", rule.code


def test_mesg_id_names_in_schema_match_the_rfc():
    assert schema.BA_STATUS[144] == "MIPV6-ID-MISMATCH"
    assert schema.BA_STATUS[145] == "MIPV6-MESG-ID-REQD"
    assert schema.BA_STATUS[146] == "MIPV6-AUTH-FAIL"
