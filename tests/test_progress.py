"""The progress line (issue 6): throttled, on standard error only when wanted."""

from __future__ import annotations

import io

import dpkt
from test_rules import KEY, NAI, SPI, Story

from analyzer.progress import ProgressBar, ReadCounter, capture_sizes, wanted


class FakeClock:
    def __init__(self):
        self.now = 100.0

    def __call__(self):
        return self.now


class Terminal(io.StringIO):
    def isatty(self):
        return True


def test_redraws_at_most_once_per_interval():
    clock, stream = FakeClock(), io.StringIO()
    bar = ProgressBar(stream, total_octets=4 << 20, interval=0.25, clock=clock)
    for step in range(10):          # ten reports within 0.2 s: no redraw yet
        clock.now += 0.02
        bar.update(step << 10, step * 10)
    assert stream.getvalue() == ""
    clock.now += 0.1
    bar.update(2 << 20, 1000)
    assert stream.getvalue().count("\r") == 1
    bar.update(3 << 20, 1500)       # same instant: throttled
    assert stream.getvalue().count("\r") == 1


def test_line_shows_share_rate_and_findings():
    clock = FakeClock()
    bar = ProgressBar(io.StringIO(), total_octets=4 << 20, clock=clock)
    clock.now += 2.0
    bar.octets, bar.frames = 1 << 20, 5000
    bar.found()
    bar.found()
    line = bar.line(clock.now)
    assert "25%" in line and "1.0 MB of 4.0 MB" in line
    assert "2500 frames/s" in line and "2 findings" in line


def test_unknown_total_shows_octets_without_a_bar():
    clock = FakeClock()
    bar = ProgressBar(io.StringIO(), total_octets=None, clock=clock)
    clock.now += 1
    bar.octets, bar.frames = 2048, 10
    line = bar.line(clock.now)
    assert "%" not in line and "2.0 KB" in line and "10 frames" in line


def test_close_ends_the_line():
    stream = io.StringIO()
    ProgressBar(stream, total_octets=10).close()
    assert stream.getvalue().startswith("\r") and stream.getvalue().endswith("\n")


def test_read_counter_adds_captures_read_one_after_another():
    seen = []
    counter = ReadCounter(2, lambda octets, frames: seen.append((octets, frames)))
    counter.watcher(0)(1000, 10)
    counter.watcher(1)(500, 3)
    assert seen[-1] == (1500, 13)


def test_shown_on_a_terminal_unless_told_otherwise():
    assert wanted(None, Terminal()) is True
    assert wanted(None, io.StringIO()) is False
    assert wanted(True, io.StringIO()) is True
    assert wanted(False, Terminal()) is False


def test_sizes_of_files_and_pipes(tmp_path):
    path = tmp_path / "x.pcap"
    path.write_bytes(b"1234")
    assert capture_sizes([str(path), "-", str(tmp_path / "missing")]) == [4, None, None]


def _capture(tmp_path):
    story = Story()
    story.exchange(0, 1)
    story.send_bu(5, 2, forged=bytes(12))
    path = tmp_path / "s.pcap"
    with open(path, "wb") as handle:
        writer = dpkt.pcap.Writer(handle, nano=True)
        for frame in story.frames:
            writer.writepkt(frame.data, ts=frame.ts_ns / 1e9)
    keys = tmp_path / "keys.toml"
    keys.write_text('[[mn_ha]]\nspi = %d\nkey = "%s"\nnai = "%s"\n' % (SPI, KEY.hex(), NAI))
    keys.chmod(0o600)
    return path, keys


def test_cli_silent_when_stderr_is_not_a_terminal(run_cli, tmp_path):
    path, keys = _capture(tmp_path)
    result = run_cli(path, "--keys", keys, "-o", tmp_path / "out.txt")
    assert result.code == 1 and result.err == ""


def test_cli_progress_forced(run_cli, tmp_path):
    path, keys = _capture(tmp_path)
    for jobs in ("1", "2"):
        result = run_cli(path, "--keys", keys, "-o", tmp_path / "out.txt", "--progress", "--jobs", jobs)
        final = result.err.rstrip("\n").split("\r")[-1]
        size = path.stat().st_size
        assert "100%" in final and "%d B of %d B" % (size, size) in final, final
        assert "3 frames" in final and "finding" in final
        assert result.err.endswith("\n")
