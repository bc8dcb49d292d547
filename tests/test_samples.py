"""The committed samples: generated exactly, analysed as documented, and
matched by an independent (scapy + cryptography) builder."""

from __future__ import annotations

import filecmp
import os
import subprocess
from pathlib import Path

import pytest
import samplegen_scapy
from scapy.utils import rdpcap

from analyzer import cli, findings, mobility, rules, schema  # noqa: F401  (rules: registers every code)
from analyzer.capture import read_frames
from analyzer.decode import decode_frame
from analyzer.samplegen import bulk, output, scenarios

SAMPLES = Path(__file__).resolve().parent.parent / "samples"

SAMPLE_FILES = [(name, fmt) for name, spec in scenarios.SCENARIOS.items() for fmt in spec.formats]
LOUD = findings.SEVERITY_RANK["warning"]

@pytest.fixture(scope="module")
def generated(tmp_path_factory):
    out = tmp_path_factory.mktemp("samples")
    assert cli.main(["samples", "--out", str(out)]) == 0
    return out


def _findings(run_cli, name, fmt):
    result = run_cli(SAMPLES / ("%s.%s" % (name, fmt)), "--keys", SAMPLES / ("%s.keys.toml" % name),
                     "--format", "jsonl")
    return result, result.findings()


def test_committed_samples_are_exactly_what_the_generator_makes(generated, capsys):
    capsys.readouterr()
    committed = sorted(p for p in os.listdir(SAMPLES) if not p.startswith("."))
    made = sorted(os.listdir(generated))
    assert committed == made, "regenerate with `mip6-audit samples --out samples`"
    _, mismatch, errors = filecmp.cmpfiles(SAMPLES, generated, made, shallow=False)
    assert mismatch == [] and errors == [], "regenerate with `mip6-audit samples --out samples`"


def test_same_seed_same_bytes_other_seed_other_bytes():
    first = output.capture_bytes(scenarios.generate("tour", 7), "pcapng")
    assert output.capture_bytes(scenarios.generate("tour", 7), "pcapng") == first
    assert output.capture_bytes(scenarios.generate("tour", 8), "pcapng") != first


def test_start_time_moves_the_whole_story(run_cli, tmp_path):
    made = run_cli("samples", "--scenario", "tour", "--start", "2025-01-31T12:00:00Z", "--out", tmp_path)
    assert made.code == 0
    with open(tmp_path / "tour.pcapng", "rb") as handle:
        frames = list(read_frames(handle))
    shift = (1738324800 - 1715677200) * 10 ** 9
    assert [f.ts_ns - shift for f in frames] == [f.ts_us * 1000 for f in scenarios.generate("tour").frames]
    audit = run_cli(tmp_path / "tour.pcapng", "--keys", tmp_path / "tour.keys.toml", "--format", "jsonl")
    assert {(f["code"], f["pcap_cnt"]) for f in audit.findings()} == set(scenarios.generate("tour").expected)
    with pytest.raises(SystemExit) as bad:
        run_cli("samples", "--start", "yesterday")
    assert bad.value.code == 2


@pytest.mark.parametrize("name,fmt", SAMPLE_FILES)
def test_analyzer_reports_the_documented_findings_and_nothing_else(run_cli, name, fmt):
    capture = scenarios.generate(name)
    result, found = _findings(run_cli, name, fmt)
    got = {(f["code"], f["pcap_cnt"]) for f in found}
    missing = {e for e in capture.expected if e not in got}
    extra = sorted((f["code"], f["pcap_cnt"], f["message"]) for f in found
                   if findings.SEVERITY_RANK[f["severity"]] >= LOUD
                   and (f["code"], f["pcap_cnt"]) not in capture.expected)
    assert not missing, "documented but not reported: %s" % sorted(missing)
    assert not extra, "reported but not documented: %s" % extra
    loud = any(findings.RULES[code].severity != "info" for code, _ in capture.expected)
    assert result.code == (1 if loud else 0)


def test_every_finding_code_is_shown_by_some_sample():
    shown = {code for name in scenarios.SCENARIOS for code, _ in scenarios.generate(name).expected}
    assert set(findings.RULES) - shown == set()
    assert shown - set(findings.RULES) == set(), "a scenario expects a code the analyzer does not know"


def test_tour_is_small_and_tells_the_story():
    tour = scenarios.generate("tour")
    codes = {code for code, _ in tour.expected}
    assert {"REPLAY_DUPLICATE", "AUTH_INVALID", "HA_ACCEPTED_INVALID"} <= codes
    assert len(tour.frames) <= 60
    assert (SAMPLES / "tour.pcapng").is_file() and (SAMPLES / "tour.keys.toml").is_file()


def test_quiet_samples_hold_the_near_misses():
    """Padding after the last authentication option (sequence mode: no timestamp before MN-HA),
    a 20-octet MN-AAA, a BU from home, an Alternate CoA: present, and (by the test above) not flagged."""
    seen = set()
    for name in ("clean", "aaa-bootstrap", "sequence"):
        for frame in scenarios.generate(name).frames:
            msg = frame.message
            if msg is None or msg.mh_type != schema.MH_BU:
                continue
            mh = mobility.parse(frame.data[14 + 40 + (24 if msg.home_address_option else 0):])
            auths = [i for i, o in enumerate(mh.options) if o.code == schema.OPT_AUTH]
            if auths and any(o.code in (schema.OPT_PAD1, schema.OPT_PADN) for o in mh.options[auths[-1] + 1:]):
                seen.add("padding after the last authentication option")
            if any(len(o.values.get("authenticator", b"")) == 20 for o in mh.options):
                seen.add("20-octet MN-AAA")
            if msg.home_address_option is None:
                seen.add("BU from home")
            if mh.option(schema.OPT_ALTERNATE_COA):
                seen.add("Alternate CoA")
    assert len(seen) == 4, seen


@pytest.mark.parametrize("name", ["tour", "forged", "ha-echo", "aaa-bootstrap", "sequence"])
def test_scapy_built_sample_gets_the_same_verdicts(run_cli, tmp_path, name):
    capture = scenarios.generate(name)
    rebuilt = tmp_path / ("%s.pcap" % name)
    samplegen_scapy.write_capture(capture, rebuilt)
    keys = SAMPLES / ("%s.keys.toml" % name)
    ours = run_cli(SAMPLES / ("%s.%s" % (name, capture.scenario.formats[0])), "--keys", keys, "--format", "jsonl")
    theirs = run_cli(rebuilt, "--keys", keys, "--format", "jsonl")

    def verdicts(result):
        keep = ("event_type", "pcap_cnt", "mh_type", "seq", "status", "mesg_id", "checksum", "auth", "mn_id",
                "home_address", "care_of_address", "code", "bu", "ba", "verdict")
        return [{k: e.get(k) for k in keep} for e in result.events if e["event_type"] != "summary"]

    assert verdicts(theirs) == verdicts(ours)
    assert theirs.code == ours.code
    # Both builders follow the same RFC layout rules, so the signalling is byte-identical too.
    for packet, frame in zip(rdpcap(str(rebuilt)), capture.frames):
        if frame.message is not None:
            assert bytes(packet) == frame.data


def test_list_and_unknown_scenario(run_cli):
    listed = run_cli("samples", "--list")
    assert listed.code == 0
    assert all(name in listed.out for name in list(scenarios.SCENARIOS) + [bulk.NAME])
    wrong = run_cli("samples", "--scenario", "nope", "--out", "/nonexistent-dir-is-not-created")
    assert wrong.code == 2 and "unknown scenario nope" in wrong.err


def test_keyfile_is_private(generated):
    assert os.stat(generated / "tour.keys.toml").st_mode & 0o077 == 0


def test_bulk_streams_exact_counts_in_time_order(tmp_path, run_cli):
    made = run_cli("samples", "--scenario", "bulk", "--mns", "30", "--frames", "3000", "--faults", "0.05",
                   "--out", tmp_path, "--seed", "3")
    assert made.code == 0
    stem = tmp_path / bulk.file_stem(30, 3000, 3)
    pcap = stem.with_suffix(".pcap")
    with open(pcap, "rb") as handle:
        frames = list(read_frames(handle))
    assert len(frames) == 3000
    assert all(a.ts_ns <= b.ts_ns for a, b in zip(frames, frames[1:]))
    signalling = sum(1 for f in frames if decode_frame("b", f.number, f.ts_ns, f.linktype, f.data) is not None)
    assert signalling == 1000
    audit = run_cli(pcap, "--keys", stem.with_suffix(".keys.toml"), "--format", "jsonl")
    codes = {f["code"] for f in audit.findings()}
    faults = {"AUTH_INVALID", "REPLAY_DUPLICATE", "CLOCK_DRIFT", "REPLAY_STALE"}   # forgery, replay, clock jump
    # Bulk forgeries come from an address no MN uses, one per victim; an attacker forging twice
    # for one victim sends again from where its 146 went, which the capture cannot tell from the MN.
    assert codes <= faults | {"MN_IGNORED_AUTH_FAIL"}, codes
    assert faults <= codes
    again = tmp_path / "again"
    run_cli("samples", "--scenario", "bulk", "--mns", "30", "--frames", "3000", "--faults", "0.05",
            "--out", again, "--seed", "3", "--format", "pcap")
    assert (again / pcap.name).read_bytes() == pcap.read_bytes()


@pytest.mark.tshark
def test_tshark_reads_the_tour_as_mobile_ipv6():
    tour = scenarios.generate("tour")
    out = subprocess.run(["tshark", "-r", str(SAMPLES / "tour.pcapng"), "-Y", "mipv6", "-T", "fields",
                          "-e", "frame.number"], capture_output=True, text=True, check=True).stdout.split()
    assert [int(n) for n in out] == [i for i, f in enumerate(tour.frames, 1) if f.message is not None]
