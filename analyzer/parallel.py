"""``--jobs N``: the audit spread over N worker processes, output unchanged.

Every worker reads every capture itself (reading is cheap next to auditing),
lets the prefilter drop what carries no Mobility Header, walks the IPv6 chain
of the rest, and fully audits only the frames it owns: those whose mobile
node's home address (``decode.home_address_of``: the Home Address option of a
BU, the type 2 routing header of a BA) hashes to it.  One node's BUs and BAs
thus always meet in the same worker, with the same state they would have in a
single process.  A frame with no usable home address (a fragment, a broken
chain) touches no per-node state and goes to worker ``frame % N``.

Workers render their events with the same reporter as ``--jobs 1`` and send
``(key, rendered)`` pairs in batches; the key orders events exactly as one
process emits them (capture, frame being audited, position within it; events
at the end of the capture after all frames, by the BU's frame).  The parent
merges the sorted streams, writes them, and adds the workers' summary parts
together (``correlate.build_summary``).

Limit: node identity must follow the home address.  A node that changes its
home address while keeping its NAI or SPI, or an HA that answers to the care-of
address without a type 2 routing header (so the BA names no home address), is
tied together by NAI or SPI with --jobs 1 but may be split across workers by
--jobs N (a BU_UNANSWERED plus a BA_UNMATCHED instead of one exchange).  Keying
on the SPI instead would need every worker to parse every Mobility Header.
"""

from __future__ import annotations

import heapq
import multiprocessing
import traceback
import zlib
from typing import Iterator, List, Optional, Sequence

from .capture import CaptureError, CaptureTruncated, open_capture, read_frames
from .correlate import Auditor, build_summary
from .decode import MOBILITY_PREFILTER, home_address_of, locate, parse_mobility_header
from .keys import KeyStore
from .pipeline import AuditOptions, capture_name
from .progress import ReadCounter
from .report import FINDING
from .verify import verify_message

BATCH = 2048
FRAME_BITS = 40             # frame numbers below 2**40
SEQ_BITS = 24               # events per frame (and end-of-capture events per worker) below 2**24
TRUNCATED_FRAME = (1 << FRAME_BITS) - 1


def order_key(capture_index: int, frame: int, seq: int) -> int:
    return (capture_index << FRAME_BITS | frame) << SEQ_BITS | seq


def owner(msg, data: bytes, jobs: int) -> int:
    home = home_address_of(msg, data)
    return (zlib.crc32(home) if home is not None else msg.frame) % jobs


def _audit_share(index: int, jobs: int, paths: Sequence[str], keys: Optional[KeyStore], options: AuditOptions,
                 render, send, watcher_for) -> dict:
    """Worker ``index``'s audit; sends batches of (key, rendered); returns its summary parts."""
    auditor = Auditor(keys, options.clock_offset)
    batch: list = []
    for capture_index, path in enumerate(paths):
        name = capture_name(path)
        auditor.capture_index.setdefault(name, capture_index)
        reader = read_frames(open_capture(path), name, MOBILITY_PREFILTER, watcher_for(capture_index))
        try:
            for number, ts_ns, linktype, data, _orig_len in reader:
                msg = locate(name, number, ts_ns, linktype, data)
                if msg is None or owner(msg, data, jobs) != index:
                    continue
                if msg.mh_offset is not None:
                    parse_mobility_header(msg, data)
                verify_message(msg, keys)
                base = order_key(capture_index, number, 0)
                for seq, (kind, payload) in enumerate(auditor.feed(msg)):
                    rendered = render(kind, payload)
                    if rendered is not None:
                        batch.append((base | seq, rendered))
                if len(batch) >= BATCH:
                    send(batch)
                    batch = []
        except CaptureTruncated as cut:
            if index == 0:     # every worker saw it; one reports it
                for seq, (kind, payload) in enumerate(auditor.truncated(name, cut.frame_number, cut.detail)):
                    batch.append((order_key(capture_index, TRUNCATED_FRAME, seq), render(kind, payload)))
        auditor.frames_read[name] = reader.frames_read
    finish_base = len(paths)
    for seq, (kind, payload) in enumerate(auditor.finish()):
        capture, frame = (payload.capture, payload.frame) if kind == "finding" else (payload["capture"],
                                                                                    payload["bu"])
        rendered = render(kind, payload)
        if rendered is not None:
            batch.append((order_key(finish_base + auditor.capture_index.get(capture, 0), frame, seq), rendered))
    send(batch)
    return auditor.summary_parts()


def _worker(index, jobs, paths, keys, options, make_reporter, connection, shared_progress) -> None:
    try:
        reporter = make_reporter()
        if shared_progress is not None:
            def publish(octets, frames):
                shared_progress[0], shared_progress[1] = octets, frames
            counter = ReadCounter(len(paths), publish)
            watcher_for = counter.watcher
        else:
            def watcher_for(_index):
                return None
        parts = _audit_share(index, jobs, paths, keys, options, reporter.render, connection.send, watcher_for)
        connection.send(("done", parts))
    except CaptureError as exc:
        connection.send(("capture-error", str(exc)))
    except BaseException:  # noqa: BLE001  (the parent re-raises it with the worker's traceback)
        connection.send(("error", traceback.format_exc()))
    finally:
        connection.close()


class WorkerFailed(RuntimeError):
    pass


def _receive(connection, parts: List[dict]) -> Iterator[tuple]:
    while True:
        message = connection.recv()
        if isinstance(message, list):
            yield from message
        elif message[0] == "done":
            parts.append(message[1])
            return
        elif message[0] == "capture-error":
            raise CaptureError(message[1])
        else:
            raise WorkerFailed("an audit worker failed:\n%s" % message[1])


def audit_parallel(paths: Sequence[str], keys: Optional[KeyStore], options: AuditOptions, jobs: int,
                   make_reporter, reporter, progress=None) -> dict:
    """Audit ``paths`` with ``jobs`` workers, writing through ``reporter`` (whose
    twin ``make_reporter()`` renders in each worker); returns the summary, which
    the caller writes."""
    context = multiprocessing.get_context("fork" if "fork" in multiprocessing.get_all_start_methods() else None)
    shared = context.Array("q", 2, lock=False) if progress is not None else None
    workers, streams, parts = [], [], []
    try:
        for index in range(jobs):
            receiving, sending = context.Pipe(duplex=False)
            process = context.Process(target=_worker, daemon=True, args=(
                index, jobs, paths, keys, options, make_reporter, sending, shared if index == 0 else None))
            process.start()
            sending.close()
            workers.append(process)
            streams.append(_receive(receiving, parts))
        captures = [(order_key(i, 0, 0), reporter.render("capture", {"event_type": "capture",
                                                                     "capture": capture_name(path)}))
                    for i, path in enumerate(paths)]
        write = reporter.write
        seen = 0
        for _key, rendered in heapq.merge(iter(captures), *streams):
            write(rendered)
            if progress is not None:
                if rendered[0] == FINDING:
                    progress.found()
                seen += 1
                if not seen % 1024:
                    progress.update(shared[0], shared[1])
        if progress is not None:
            progress.update(shared[0], shared[1])
    finally:
        for process in workers:
            process.join(timeout=0 if len(parts) < jobs else None)
            if process.is_alive():
                process.terminate()
    return build_summary(parts, options.clock_offset)
