"""The audit pipeline, stage by stage, as one stream of events.

read capture -> decode -> verify -> correlate exchanges and apply rules -> events
The report stage consumes the events (``analyzer.report``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterator, List, Optional, Sequence, Tuple

from .capture import CaptureTruncated, open_capture, read_frames
from .correlate import Auditor, Event
from .decode import MOBILITY_PREFILTER, decode_frame
from .keys import KeyStore
from .verify import verify_message


@dataclass
class AuditOptions:
    clock_offset: float = 0.0
    watch_frame: Optional[int] = None   # keep the details of this frame for --explain


def capture_name(path: str) -> str:
    return "<stdin>" if path == "-" else path


def open_inputs(paths: Sequence[str], watchers: Optional[Sequence] = None) -> List[Tuple[str, Iterator]]:
    """Open every capture before the first frame is read, so an unreadable one
    is reported (exit 2) before any output.  Raises ``CaptureError``.

    Frames that cannot carry a Mobility Header are dropped by the reader
    (``MOBILITY_PREFILTER``) and only counted.  ``watchers[i]`` is called with
    (octets read, frames read) as capture i is read (the progress bar)."""
    opened = []
    for index, path in enumerate(paths):
        name = capture_name(path)
        watcher = watchers[index] if watchers else None
        opened.append((name, read_frames(open_capture(path), name, MOBILITY_PREFILTER, watcher)))
    return opened


def audit(inputs: List[Tuple[str, Iterator]], keys: Optional[KeyStore],
          options: AuditOptions, auditor: Optional[Auditor] = None) -> Iterator[Event]:
    """Every event of the audit, in frame order, ending with ("summary", dict)."""
    auditor = auditor or Auditor(keys, options.clock_offset)
    auditor.watch_frame = options.watch_frame
    for index, (name, frames) in enumerate(inputs):
        auditor.capture_index.setdefault(name, index)
        count = 0
        yield ("capture", {"event_type": "capture", "capture": name})
        try:
            for number, ts_ns, linktype, data, _orig_len in frames:
                count = number
                msg = decode_frame(name, number, ts_ns, linktype, data)
                if msg is None:
                    continue
                verify_message(msg, keys)
                yield from auditor.feed(msg)
        except CaptureTruncated as cut:
            yield from auditor.truncated(name, cut.frame_number, cut.detail)
        # A prefiltering reader counts the frames it dropped too.
        auditor.frames_read[name] = getattr(frames, "frames_read", count)
    yield from auditor.finish()
    yield ("summary", auditor.summary())
