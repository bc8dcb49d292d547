"""A progress line on standard error while a long capture is audited.

Shown when standard error is a terminal (``--progress`` / ``--no-progress``
force it): octets read of the total, frames per second and findings so far.
The capture reader reports once per buffer refill (about a megabyte), and the
line is redrawn at most every ``interval`` seconds, so it costs nothing
measurable.
"""

from __future__ import annotations

import os
import sys
import time
from typing import Callable, List, Optional, Sequence, TextIO


def capture_sizes(paths: Sequence[str]) -> List[Optional[int]]:
    """Each input's size in octets, None where it cannot be known (a pipe)."""
    sizes: List[Optional[int]] = []
    for path in paths:
        try:
            sizes.append(None if path == "-" else os.stat(path).st_size or None)
        except OSError:
            sizes.append(None)
    return sizes


def wanted(setting: Optional[bool], stream: TextIO = None) -> bool:
    """--progress / --no-progress, else whether standard error is a terminal."""
    if setting is not None:
        return setting
    stream = stream or sys.stderr
    return bool(getattr(stream, "isatty", lambda: False)())


class ReadCounter:
    """Octets and frames read so far over several captures read one after another.

    ``watcher(i)`` is the callback for capture i's reader; ``on_change`` is
    called with (octets, frames) after each report."""

    def __init__(self, count: int, on_change: Callable[[int, int], None]):
        self.octets = [0] * count
        self.frames = [0] * count
        self.on_change = on_change

    def watcher(self, index: int) -> Callable[[int, int], None]:
        def report(octets: int, frames: int) -> None:
            self.octets[index] = octets
            self.frames[index] = frames
            self.on_change(sum(self.octets), sum(self.frames))
        return report


class ProgressBar:
    WIDTH = 24

    def __init__(self, stream: TextIO, total_octets: Optional[int], interval: float = 0.25,
                 clock: Callable[[], float] = time.monotonic):
        self.stream = stream
        self.total = total_octets
        self.interval = interval
        self.clock = clock
        self.started = clock()
        self.next_draw = self.started + interval
        self.octets = 0
        self.frames = 0
        self.findings = 0

    def update(self, octets: int, frames: int) -> None:
        self.octets, self.frames = octets, frames
        now = self.clock()
        if now >= self.next_draw:
            self.next_draw = now + self.interval
            self._draw(now)

    def found(self, count: int = 1) -> None:
        self.findings += count

    def close(self) -> None:
        """Draw the final state and end the line, so later output starts clean."""
        self._draw(self.clock())
        self.stream.write("\n")
        self.stream.flush()

    def line(self, now: float) -> str:
        elapsed = max(now - self.started, 1e-9)
        rate = "%.0f frames/s" % (self.frames / elapsed)
        findings = "%d finding%s" % (self.findings, "" if self.findings == 1 else "s")
        read = _size(self.octets)
        if self.total:
            share = min(self.octets / self.total, 1.0)
            filled = int(share * self.WIDTH)
            bar = "[%s%s] %3.0f%% " % ("#" * filled, "." * (self.WIDTH - filled), share * 100)
            read = "%s of %s" % (read, _size(self.total))
        else:
            bar = ""
        return "%s%s, %d frames, %s, %s" % (bar, read, self.frames, rate, findings)

    def _draw(self, now: float) -> None:
        self.stream.write("\r" + self.line(now) + "\x1b[K")
        self.stream.flush()


def _size(octets: int) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if octets < 1024 or unit == "GB":
            return ("%d %s" if unit == "B" else "%.1f %s") % (octets, unit)
        octets /= 1024
    return "%d B" % octets
