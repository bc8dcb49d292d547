"""--jobs N gives byte-for-byte the output of --jobs 1 (issue 6).

Every capture in samples/ and every rule story of test_rules (trigger and near
miss), in text and jsonl; plus the partitioning rule that makes it possible:
a BU and the BA answering it always go to the same worker.
"""

from __future__ import annotations

from pathlib import Path

import dpkt
import pytest
from test_rules import AAA_KEY, CASES, HOA, KEY, NAI, SPI, Story

from analyzer import cli
from analyzer.decode import home_address_of, locate
from analyzer.parallel import owner

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = sorted(p for p in (ROOT / "samples").glob("*") if p.suffix in (".pcap", ".pcapng"))


def run(capture: Path, keys: Path, out: Path, *args) -> tuple:
    code = cli.main([str(capture), "--keys", str(keys), "-o", str(out), "--no-progress", *map(str, args)])
    return code, out.read_bytes()


def assert_jobs_agree(capture: Path, keys: Path, tmp_path: Path) -> None:
    for fmt in ("text", "jsonl"):
        one = run(capture, keys, tmp_path / ("one." + fmt), "--format", fmt, "--jobs", 1)
        for jobs in (2, 3):
            assert run(capture, keys, tmp_path / ("many." + fmt), "--format", fmt, "--jobs", jobs) == one, \
                (capture.name, fmt, jobs)


@pytest.mark.parametrize("capture", SAMPLES, ids=[p.name for p in SAMPLES])
def test_samples_same_output_with_jobs(capture, tmp_path):
    keys = capture.with_suffix(".keys.toml")
    if not keys.exists():
        pytest.skip("no keyfile next to %s" % capture.name)
    assert_jobs_agree(capture, keys, tmp_path)


def test_there_are_samples():
    assert len(SAMPLES) >= 4


@pytest.fixture
def story_keys(tmp_path):
    path = tmp_path / "keys.toml"
    path.write_text('[policy]\nreplay = "timestamp"\nclose_enough = 7\n'
                    '[[mn_ha]]\nspi = %d\nkey = "%s"\nnai = "%s"\nhome_address = "2001:db8:100::11"\n'
                    '[[mn_aaa]]\nnai = "%s"\nspi = 3\nkey = "%s"\n' % (SPI, KEY.hex(), NAI, NAI, AAA_KEY.hex()))
    path.chmod(0o600)
    return path


def write_story(story: Story, path: Path, cut: int = 0) -> Path:
    with open(path, "wb") as handle:
        writer = dpkt.pcap.Writer(handle, nano=True)
        for frame in story.frames:
            writer.writepkt(frame.data, ts=frame.ts_ns / 1e9)
    if cut:
        path.write_bytes(path.read_bytes()[:-cut])
    return path


@pytest.mark.parametrize("code", sorted(CASES))
def test_rule_stories_same_output_with_jobs(code, story_keys, tmp_path):
    trigger, near = CASES[code]
    for which, build in (("trigger", trigger), ("near", near)):
        built = build()
        story = built[0] if isinstance(built, tuple) else built
        capture = write_story(story, tmp_path / ("%s.pcap" % which), cut=10 if code == "CAPTURE_TRUNCATED" else 0)
        assert_jobs_agree(capture, story_keys, tmp_path)


def test_bu_and_its_ba_go_to_the_same_worker():
    story = Story()
    story.exchange(0, 1)
    bu, ba = (locate("s", f.number, f.ts_ns, f.linktype, f.data) for f in story.frames)
    assert home_address_of(bu, story.frames[0].data) == home_address_of(ba, story.frames[1].data) == HOA
    for jobs in (2, 3, 5):
        assert owner(bu, story.frames[0].data, jobs) == owner(ba, story.frames[1].data, jobs)


def test_samples_are_shared_between_workers():
    """Without this, the equality above would hold trivially."""
    from analyzer.capture import CaptureTruncated, read_frames
    owners = set()
    for capture in SAMPLES:
        with open(capture, "rb") as stream:
            try:
                for frame in read_frames(stream, capture.name):
                    msg = locate(capture.name, frame.number, frame.ts_ns, frame.linktype, frame.data)
                    if msg is not None and home_address_of(msg, frame.data) is not None:
                        owners.add(owner(msg, frame.data, 2))
            except CaptureTruncated:
                pass   # capture-edges ends inside a frame on purpose
    assert owners == {0, 1}


def test_standard_input_falls_back_to_one_job(run_cli, monkeypatch, story_keys, tmp_path):
    import io
    import sys
    story = Story()
    story.exchange(0, 1)
    data = write_story(story, tmp_path / "s.pcap").read_bytes()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    result = run_cli("-", "--keys", story_keys, "--jobs", "2", "--format", "jsonl", "--no-progress")
    assert result.code == 0
    assert "auditing with --jobs 1" in result.err
    assert [e["event_type"] for e in map(__import__("json").loads, result.out.splitlines())].count("message") == 2


def test_jobs_must_be_positive(run_cli, story_keys, tmp_path):
    story = Story()
    story.exchange(0, 1)
    result = run_cli(write_story(story, tmp_path / "s.pcap"), "--jobs", "0")
    assert result.code == 2 and "--jobs" in result.err


def test_authenticator_window_behaves_like_the_lru_dict_it_replaces():
    """Per-node state is what each worker keeps; the fixed-size window must
    remember exactly what an OrderedDict of the last N distinct authenticators would."""
    import random
    from collections import OrderedDict

    from analyzer.rules.context import AuthenticatorWindow
    rng = random.Random(3)
    for size in (1, 3, 8, 256):
        window, reference = AuthenticatorWindow(size), OrderedDict()
        pool = [bytes(rng.getrandbits(8) for _ in range(rng.choice((0, 12, 20, 21, 40)))) for _ in range(size * 3)]
        for frame in range(1, 1500):
            authenticator = rng.choice(pool)
            assert window.get(authenticator) == reference.get(authenticator)
            reference[authenticator] = frame
            reference.move_to_end(authenticator)
            while len(reference) > size:
                reference.popitem(last=False)
            window.remember(authenticator, frame)
            assert len(window) == len(reference)


def test_several_captures_same_output_with_jobs(story_keys, tmp_path):
    """Frame numbers restart in each capture; the merge orders by capture first,
    and BUs left unanswered in the first capture come out after the last one."""
    first, second = Story(), Story()
    first.exchange(0, 1)
    first.send_bu(10, 2)                  # unanswered
    second.exchange(0, 5, forged=bytes(12))
    second.send_ba(20, 9)                 # unmatched
    paths = [write_story(first, tmp_path / "a.pcap"), write_story(second, tmp_path / "b.pcap")]
    for fmt in ("text", "jsonl"):
        outputs = []
        for jobs in (1, 2):
            out = tmp_path / ("out%d.%s" % (jobs, fmt))
            cli.main([*map(str, paths), "--keys", str(story_keys), "-o", str(out), "--format", fmt,
                      "--jobs", str(jobs), "--no-progress"])
            outputs.append(out.read_bytes())
        assert outputs[0] == outputs[1]
        assert b"a.pcap" in outputs[0] and b"b.pcap" in outputs[0]


def test_one_mobile_node_same_output_with_jobs(tmp_path):
    """--mn filters in the workers, before the merge."""
    capture = ROOT / "samples" / "clean.pcap"
    if not capture.exists():
        pytest.skip("samples/clean.pcap not generated")
    keys = capture.with_suffix(".keys.toml")
    for fmt in ("text", "jsonl"):
        one = run(capture, keys, tmp_path / "one", "--format", fmt, "--mn", "alice@clean.example.net")
        two = run(capture, keys, tmp_path / "two", "--format", fmt, "--mn", "alice@clean.example.net", "--jobs", 2)
        everyone = run(capture, keys, tmp_path / "all", "--format", fmt)
        assert one == two and b"alice@clean.example.net" in one[1] and len(one[1]) < len(everyone[1])
