"""`mip6-audit CAPTURE... --keys K`: exit codes, the jsonl contract, stdin, bad and cut-off input.

Captures are built by tests/frames.py (scapy + struct), keys written here.
"""

import os
import subprocess
import sys
import threading

import pytest

from tests import frames as F

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
# As a user's shell would run it: PYTHONUNBUFFERED (set in some CI images) would hide buffering.
USER_ENV = {k: v for k, v in os.environ.items() if k != "PYTHONUNBUFFERED"}


def _cli_subprocess(*args):
    return subprocess.Popen([sys.executable, "-m", "analyzer.cli", *map(str, args)], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=REPO, env=USER_ENV)


T0 = 1_700_000_000  # 2023-11-14T22:13:20Z
NTP_T0 = (T0 + 2208988800) << 32

KEYFILE = """\
[policy]
replay = "timestamp"
require_mesg_id = true
[[mn_ha]]
spi = {spi}
key = "{ha}"
nai = "{nai}"
home_address = "{home}"
[[mn_aaa]]
nai = "{nai}"
key = "{aaa}"
"""


def _keyfile(tmp_path, ha_key=F.MN_HA_KEY, name="keys.toml"):
    path = tmp_path / name
    path.write_text(KEYFILE.format(spi=F.MN_HA_SPI, ha=ha_key.hex(), nai=F.NAI, home=F.HOME_ADDRESS,
                                   aaa=F.MN_AAA_KEY.hex()))
    os.chmod(path, 0o600)
    return path


def _exchange_pcap(seq=10):
    """A BU (MN-HA + MN-AAA) and its accepting BA, 5 ms apart, on Ethernet."""
    bu = F.signed_bu(seq=seq, timestamp=NTP_T0, mn_aaa=True)
    ba = F.signed_ba(seq=seq, status=0, timestamp=NTP_T0)
    return F.pcap([F.Record(T0 * 10**9, F.ethernet(bu.ip6)),
                   F.Record(T0 * 10**9 + 5_000_000, F.ethernet(ba.ip6))], F.LINKTYPE_ETHERNET)


@pytest.fixture
def clean(tmp_path):
    path = tmp_path / "clean.pcap"
    path.write_bytes(_exchange_pcap())
    return path, _keyfile(tmp_path)


def test_clean_exchange_exits_0_with_contract_fields(run_cli, clean):
    capture, keyfile = clean
    result = run_cli(capture, "--keys", keyfile, "--format", "jsonl")
    assert result.code == 0, result.out
    assert result.findings() == []
    bu, ba = result.of_type("message")
    assert bu == {**bu, **{
        "pcap_cnt": 1, "timestamp": "2023-11-14T22:13:20.000000Z", "mh_type": "BU",
        "src": F.CARE_OF, "dst": F.HOME_AGENT, "home_address": F.HOME_ADDRESS, "care_of_address": F.CARE_OF,
        "mn_id": F.NAI, "seq": 10, "status": None, "mesg_id": NTP_T0, "checksum": "valid",
        "auth": [{"subtype": "MN-HA", "spi": F.MN_HA_SPI, "result": "valid"},
                 {"subtype": "MN-AAA", "spi": 3, "result": "valid"}]}}
    assert ba == {**ba, **{
        "pcap_cnt": 2, "timestamp": "2023-11-14T22:13:20.005000Z", "mh_type": "BA",
        "src": F.HOME_AGENT, "dst": F.CARE_OF, "home_address": F.HOME_ADDRESS, "care_of_address": F.CARE_OF,
        "mn_id": None, "seq": 10, "status": 0, "mesg_id": NTP_T0, "checksum": "valid",
        "auth": [{"subtype": "MN-HA", "spi": F.MN_HA_SPI, "result": "valid"}]}}
    (exchange,) = result.of_type("exchange")
    assert (exchange["bu"], exchange["ba"], exchange["mn_id"], exchange["status"]) == (1, 2, F.NAI, 0)
    assert result.events[-1]["event_type"] == "summary"


def test_text_format_is_the_default(run_cli, clean):
    capture, keyfile = clean
    result = run_cli(capture, "--keys", keyfile)
    assert result.code == 0
    assert "BU" in result.out and "MN-HA valid" in result.out and "{" not in result.out.splitlines()[1]


def test_wrong_key_gives_auth_invalid_and_exit_1(run_cli, clean, tmp_path):
    capture, _ = clean
    keyfile = _keyfile(tmp_path, ha_key=b"\x42" * 16, name="wrong.toml")
    result = run_cli(capture, "--keys", keyfile, "--format", "jsonl")
    assert result.code == 1
    assert {f["pcap_cnt"] for f in result.findings("AUTH_INVALID")} == {1, 2}
    for finding in result.findings():
        assert set(finding) >= {"code", "severity", "pcap_cnt", "related", "mn_id", "rfc", "message"}
    bu = result.of_type("message")[0]
    assert [a["result"] for a in bu["auth"]] == ["invalid", "valid"]


def test_without_keys_authenticators_are_no_key(run_cli, clean):
    capture, _ = clean
    result = run_cli(capture, "--format", "jsonl")
    assert {f["pcap_cnt"] for f in result.findings("AUTH_NO_KEY")} >= {1}
    assert {a["result"] for m in result.of_type("message") for a in m["auth"]} == {"no-key"}


@pytest.mark.parametrize("fail_on, code", [(None, 1), ("warning", 1), ("error", 0), ("critical", 0),
                                           ("never", 0), ("info", 1)])
def test_fail_on_thresholds_on_a_warning_only_capture(run_cli, corpus_dir, fail_on, code):
    args = [corpus_dir / "zeek-mip6_bu.pcap", "--format", "jsonl"]
    if fail_on:
        args += ["--fail-on", fail_on]
    result = run_cli(*args)
    severities = {f["severity"] for f in result.findings()}
    assert severities == {"warning"}  # what makes the thresholds meaningful
    assert result.code == code


@pytest.mark.parametrize("fail_on, code", [("error", 1), ("critical", 0)])
def test_fail_on_with_checksum_errors(run_cli, corpus_dir, fail_on, code):
    result = run_cli(corpus_dir / "tcpdump-ipv6_mobility_1.pcap", "--format", "jsonl", "--fail-on", fail_on)
    assert len(result.findings("CHECKSUM_BAD")) == 16
    assert result.code == code


def test_several_files_in_one_run(run_cli, clean, corpus_dir):
    capture, keyfile = clean
    other = corpus_dir / "zeek-mip6_back.pcap"
    result = run_cli(capture, other, capture, "--keys", keyfile, "--format", "jsonl")
    messages = [(m["capture"], m["pcap_cnt"], m["mh_type"]) for m in result.of_type("message")]
    assert messages == [(str(capture), 1, "BU"), (str(capture), 2, "BA"), (str(other), 1, "BA"),
                        (str(capture), 1, "BU"), (str(capture), 2, "BA")]
    assert result.of_type("summary")[-1]["frames"][str(other)] == 1


def _not_a_capture(tmp_path):
    path = tmp_path / "notes.txt"
    path.write_text("this is not a capture\n")
    return path


@pytest.mark.parametrize("make_args", [
    lambda tmp: [tmp / "missing.pcap"],
    lambda tmp: [_not_a_capture(tmp)],
    lambda tmp: [tmp],  # a directory
], ids=["missing", "not-a-capture", "directory"])
def test_unreadable_capture_exits_2_with_one_line(run_cli, tmp_path, make_args):
    result = run_cli(*make_args(tmp_path))
    assert result.code == 2
    assert result.out == ""
    assert len(result.err.strip().splitlines()) == 1 and "Traceback" not in result.err


@pytest.mark.parametrize("args", [["--format", "xml", "x.pcap"], ["x.pcap", "--no-such-option"], [],
                                  ["x.pcap", "--fail-on", "sometimes"]],
                         ids=["bad-format", "bad-option", "no-capture", "bad-fail-on"])
def test_usage_error_exits_2_with_one_line(args):
    proc = _cli_subprocess(*args)
    out, err = proc.communicate(b"", timeout=60)
    assert proc.returncode == 2
    assert out == b"" and len(err.strip().splitlines()) == 1 and b"Traceback" not in err


def test_unreadable_second_file_fails_before_any_output(run_cli, clean, tmp_path):
    capture, keyfile = clean
    result = run_cli(capture, _not_a_capture(tmp_path), "--keys", keyfile, "--format", "jsonl")
    assert (result.code, result.out) == (2, "")
    assert "notes.txt" in result.err and len(result.err.strip().splitlines()) == 1


def test_truncated_capture_is_reported_not_fatal(run_cli, clean, tmp_path, corpus_dir):
    capture, keyfile = clean
    cut = tmp_path / "cut.pcap"
    cut.write_bytes(capture.read_bytes()[:-20])  # inside frame 2
    after = corpus_dir / "zeek-mip6_bu.pcap"
    result = run_cli(cut, after, "--keys", keyfile, "--format", "jsonl")
    assert [(m["capture"], m["pcap_cnt"]) for m in result.of_type("message")] == [(str(cut), 1), (str(after), 1)]
    (truncated,) = result.findings("CAPTURE_TRUNCATED")
    assert truncated["pcap_cnt"] == 2
    assert result.code == 1 and "Traceback" not in result.err
    assert run_cli(cut, "--keys", keyfile, "--fail-on", "error").code == 0




def test_stdin_dash_gives_the_same_report_as_the_file(clean):
    capture, keyfile = clean
    proc = _cli_subprocess("-", "--keys", keyfile, "--format", "jsonl")
    out, err = proc.communicate(capture.read_bytes(), timeout=60)
    from_file = subprocess.run([sys.executable, "-m", "analyzer.cli", capture, "--keys", keyfile, "--format",
                                "jsonl"], capture_output=True, cwd=REPO, env=USER_ENV)
    assert proc.returncode == from_file.returncode == 0, err
    assert out.replace(b'"<stdin>"', b'"%s"' % str(capture).encode()) == from_file.stdout


def test_stdin_streams_each_message_before_input_ends(clean):
    """`tcpdump -w - | mip6-audit -`: frame 1's message must come out while stdin is still open."""
    capture, keyfile = clean
    data = capture.read_bytes()
    first_frame_end = 24 + 16 + len(F.ethernet(F.signed_bu(seq=10, timestamp=NTP_T0, mn_aaa=True).ip6))
    proc = _cli_subprocess("-", "--keys", keyfile, "--format", "jsonl")
    lines = []
    reader = threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, b"")), daemon=True)
    reader.start()
    proc.stdin.write(data[:first_frame_end])
    proc.stdin.flush()
    deadline = threading.Event()
    for _ in range(40):
        if any(b'"event_type":"message"' in line for line in lines):
            break
        deadline.wait(0.05)
    streamed = list(lines)
    proc.stdin.write(data[first_frame_end:])
    proc.stdin.close()
    proc.wait(timeout=60)
    reader.join(10)
    assert any(b'"pcap_cnt":1' in line for line in streamed), "frame 1 only reported after stdin closed"
    assert proc.returncode == 0


def test_stdin_cut_off_is_reported_not_fatal(clean):
    capture, keyfile = clean
    proc = _cli_subprocess("-", "--keys", keyfile, "--format", "jsonl")
    out, err = proc.communicate(capture.read_bytes()[:-7], timeout=60)
    assert proc.returncode == 1 and b"Traceback" not in err
    assert b'"code":"CAPTURE_TRUNCATED"' in out.replace(b" ", b"")
