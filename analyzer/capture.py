"""Stage 1: read capture files into frames.

Yields ``Frame`` tuples ``(number, ts_ns, linktype, data)`` one at a time, so a
capture of any size streams.  Classic pcap (µs and ns, either byte order) and
pcapng (every section and interface, each with its own link type and time
resolution) are read from a file or from a pipe: the format is told from the
first four octets and nothing ever seeks.

dpkt parses the rare metadata blocks (pcap file header, pcapng Interface
Description Blocks and their options); the per-frame loop is plain ``struct``
because it is the hot path.  We do not use dpkt's readers for frames: its pcap
reader hands back a cut-off last frame as if it were whole, and its pcapng
reader applies the first interface's link type and clock to every packet.
"""

from __future__ import annotations

import struct
import sys
from typing import BinaryIO, Iterator, NamedTuple, Optional

import dpkt
from dpkt import pcapng as dpkt_pcapng

CHUNK = 1 << 20
MAX_FRAME = 1 << 28  # a record longer than this means the file is corrupt

PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", 1000),        # µs, little-endian
    b"\xa1\xb2\xc3\xd4": (">", 1000),        # µs, big-endian
    b"\x4d\x3c\xb2\xa1": ("<", 1),           # ns, little-endian
    b"\xa1\xb2\x3c\x4d": (">", 1),           # ns, big-endian
}
PCAPNG_SHB = b"\x0a\x0d\x0d\x0a"

BT_IDB = 1
BT_PB = 2
BT_SPB = 3
BT_EPB = 6
BT_SHB = 0x0A0D0D0A


class Frame(NamedTuple):
    number: int      # 1-based, equal to Wireshark's frame.number
    ts_ns: int       # capture time, nanoseconds since the Unix epoch
    linktype: int
    data: bytes
    orig_len: int


class CaptureError(Exception):
    """The input is not a capture we can read at all (exit 2)."""


class CaptureTruncated(Exception):
    """Raised after the last whole frame when the file stops mid-record."""

    def __init__(self, frame_number: int, detail: str):
        super().__init__(detail)
        self.frame_number = frame_number
        self.detail = detail


class _Buffer:
    """Forward-only reader over a stream that never seeks."""

    __slots__ = ("stream", "data", "pos", "consumed", "frames", "watcher")

    def __init__(self, stream: BinaryIO, initial: bytes = b"", watcher=None):
        self.stream = stream
        self.data = initial
        self.pos = 0
        self.consumed = 0  # octets before self.data[0]
        self.frames = 0    # frames read so far, kept up to date by the readers at each refill
        self.watcher = watcher   # called as watcher(octets read, frames read) once per refill

    def take(self, size: int) -> Optional[bytes]:
        """Exactly ``size`` octets, or fewer only at end of input."""
        end = self.pos + size
        if end > len(self.data):
            self._refill(size)
            end = self.pos + size
        chunk = self.data[self.pos:end]
        self.pos += len(chunk)
        return chunk

    def _refill(self, want: int) -> None:
        rest = self.data[self.pos:]
        self.consumed += self.pos
        parts = [rest]
        have = len(rest)
        # read1: take what a pipe has now instead of blocking until CHUNK octets
        # arrive, so `tcpdump -w - | mip6-audit -` sees each frame as it is written.
        read = getattr(self.stream, "read1", self.stream.read)
        while have < want:
            block = read(max(CHUNK, want - have))
            if not block:
                break
            parts.append(block)
            have += len(block)
        self.data = b"".join(parts)
        self.pos = 0
        if self.watcher is not None:
            self.watcher(self.consumed + len(self.data), self.frames)

    @property
    def offset(self) -> int:
        return self.consumed + self.pos


def open_capture(path: str) -> BinaryIO:
    """Open a path, or standard input for '-'."""
    if path == "-":
        return sys.stdin.buffer
    try:
        return open(path, "rb")
    except OSError as exc:
        raise CaptureError("%s: cannot open: %s" % (path, exc.strerror or exc)) from None


class Prefilter(NamedTuple):
    """A cheap first test on raw Ethernet frames, run before any object is built.

    The decoder supplies it (``analyzer.decode.MOBILITY_PREFILTER``); frames
    it rejects are counted but never handed out."""
    linktype: int                 # the link type it applies to (Ethernet)
    ethertype: int                # frames of this ethertype are tested further
    pass_ethertypes: frozenset    # these go to the decoder untested (VLAN tags)
    min_length: int               # shorter frames of ``ethertype`` cannot match
    version_offset: int           # octet whose high nibble must be 6
    next_header_offset: int       # octet looked up in ``reject_next_header``
    reject_next_header: bytes     # 256 flags: non-zero means no Mobility Header can follow


class CaptureReader:
    """The frames of one capture, in file order.

    Iterating yields ``Frame`` tuples (only the ones a ``Prefilter`` keeps);
    ``frames_read`` counts every frame read so far, kept or not, and
    ``octets_read`` the input consumed.  Raises ``CaptureTruncated`` after the
    last whole frame when the file ends inside a record.
    """

    def __init__(self, stream: BinaryIO, name: str, prefilter: Optional[Prefilter] = None, watcher=None):
        magic = stream.read(4)
        if len(magic) < 4:
            raise CaptureError("%s: not a capture file (only %d octets)" % (name, len(magic)))
        self._buffer = _Buffer(stream, magic, watcher)
        if magic in PCAP_MAGICS:
            self._frames = _read_pcap(self._buffer, name, prefilter)
        elif magic == PCAPNG_SHB:
            self._frames = _read_pcapng(self._buffer, name, prefilter)
        else:
            raise CaptureError("%s: not a pcap or pcapng file (starts with %s)" % (name, magic.hex()))
        self.name = name

    def __iter__(self) -> Iterator[Frame]:
        return self._frames

    def close(self) -> None:
        self._buffer.stream.close()

    def __next__(self) -> Frame:
        return next(self._frames)

    @property
    def frames_read(self) -> int:
        return self._buffer.frames

    @property
    def octets_read(self) -> int:
        return self._buffer.offset


def read_frames(stream: BinaryIO, name: str = "<capture>", prefilter: Optional[Prefilter] = None,
                watcher=None) -> CaptureReader:
    """Every frame of one capture, in file order (see ``CaptureReader``).

    Raises ``CaptureError`` before the first frame when the input is not pcap
    or pcapng, and ``CaptureTruncated`` after the last whole frame when the
    file ends inside a record.
    """
    return CaptureReader(stream, name, prefilter, watcher)


def _keeps(prefilter: Optional[Prefilter], linktype: int):
    """The prefilter when it applies to this link type, else None."""
    return prefilter if prefilter is not None and prefilter.linktype == linktype else None


def _read_pcap(buf: _Buffer, name: str, prefilter: Optional[Prefilter]) -> Iterator[Frame]:
    header = buf.take(24)
    if len(header) < 24:
        raise CaptureError("%s: pcap file header cut short" % name)
    order, ns_per_tick = PCAP_MAGICS[header[:4]]
    file_header = dpkt.pcap.LEFileHdr(header) if order == "<" else dpkt.pcap.FileHdr(header)
    linktype = file_header.linktype & 0xFFFF  # bits 16-31: FCS length, its P flag, reserved
    unpack = struct.Struct(order + "IIII").unpack_from
    keep = _keeps(prefilter, linktype)
    if keep is not None:
        ethertype_hi, ethertype_lo = keep.ethertype >> 8, keep.ethertype & 0xFF
        passed, min_length, reject = keep.pass_ethertypes, keep.min_length, keep.reject_next_header
        version_at, next_header_at = keep.version_offset, keep.next_header_offset
    number = 0
    data, pos = buf.data, buf.pos
    size = len(data)
    try:
        while True:
            # The hot loop: every whole record already in the buffer, no call per frame.
            while pos + 16 <= size:
                sec, frac, caplen, orig_len = unpack(data, pos)
                start = pos + 16
                end = start + caplen
                if end > size or caplen > MAX_FRAME:
                    break
                pos = end
                number += 1
                if keep is not None:
                    if caplen < 14:
                        continue
                    if data[start + 12] == ethertype_hi and data[start + 13] == ethertype_lo:
                        if (caplen < min_length or data[start + version_at] >> 4 != 6
                                or reject[data[start + next_header_at]]):
                            continue
                    elif (data[start + 12] << 8 | data[start + 13]) not in passed:
                        continue
                yield Frame(number, sec * 1_000_000_000 + frac * ns_per_tick, linktype, data[start:end], orig_len)
            buf.pos, buf.frames = pos, number
            if size - pos < 16:
                buf._refill(16)
                data, pos = buf.data, 0
                size = len(data)
                if size == 0:
                    return
                if size < 16:
                    raise CaptureTruncated(number + 1, "%s: file ends inside the record header of frame %d"
                                           % (name, number + 1))
                continue
            caplen = unpack(data, pos)[2]
            if caplen > MAX_FRAME:
                raise CaptureTruncated(number + 1, "%s: frame %d claims %d octets; the rest of the file is unreadable"
                                       % (name, number + 1, caplen))
            buf._refill(16 + caplen)
            data, pos = buf.data, 0
            size = len(data)
            if size < 16 + caplen:
                raise CaptureTruncated(number + 1, "%s: file ends inside frame %d (%d of %d octets)"
                                       % (name, number + 1, size - 16, caplen))
    finally:
        buf.frames = number


class _Interface(NamedTuple):
    linktype: int
    ticks_per_second: int
    offset_seconds: int


def _interface(block: bytes, little: bool) -> _Interface:
    idb_class = dpkt_pcapng.InterfaceDescriptionBlockLE if little else dpkt_pcapng.InterfaceDescriptionBlock
    try:
        idb = idb_class(block)
        options = idb.opts
    except (dpkt.UnpackError, struct.error, ValueError):
        # Damaged options: keep the fixed part, which is all we strictly need.
        idb = None
        options = []
    linktype = idb.linktype if idb is not None else struct.unpack_from("<H" if little else ">H", block, 8)[0]
    ticks, offset = 1_000_000, 0
    for opt in options:
        if opt.code == dpkt_pcapng.PCAPNG_OPT_IF_TSRESOL and opt.data:
            value = opt.data[0]
            ticks = 2 ** (value & 0x7F) if value & 0x80 else 10 ** (value & 0x7F)
        elif opt.code == dpkt_pcapng.PCAPNG_OPT_IF_TSOFFSET and len(opt.data) >= 8:
            offset = struct.unpack("<q" if little else ">q", opt.data[:8])[0]
    return _Interface(linktype, ticks, offset)


def _ts_ns(ticks: int, iface: _Interface) -> int:
    if iface.ticks_per_second == 1_000_000_000:
        ns = ticks
    elif 1_000_000_000 % iface.ticks_per_second == 0:
        ns = ticks * (1_000_000_000 // iface.ticks_per_second)
    else:
        ns = ticks * 1_000_000_000 // iface.ticks_per_second
    return ns + iface.offset_seconds * 1_000_000_000


def _prefilter_rejects(keep: Prefilter, data: bytes) -> bool:
    """The pcap loop's inline test, as a function for the rarer pcapng files."""
    if len(data) < 14:
        return True
    ethertype = data[12] << 8 | data[13]
    if ethertype == keep.ethertype:
        return (len(data) < keep.min_length or data[keep.version_offset] >> 4 != 6
                or bool(keep.reject_next_header[data[keep.next_header_offset]]))
    return ethertype not in keep.pass_ethertypes


def _read_pcapng(buf: _Buffer, name: str, prefilter: Optional[Prefilter]) -> Iterator[Frame]:
    little = True
    interfaces: list = []
    number = 0
    while True:
        head = buf.take(8)
        if not head:
            return
        if len(head) < 8:
            raise CaptureTruncated(number + 1, "%s: file ends inside a block header at offset %d"
                                   % (name, buf.offset - len(head)))
        if head[:4] == PCAPNG_SHB:
            bom = buf.take(4)
            if bom == b"\x4d\x3c\x2b\x1a":
                little = True
            elif bom == b"\x1a\x2b\x3c\x4d":
                little = False
            else:
                raise CaptureError("%s: pcapng section at offset %d has no byte-order magic"
                                   % (name, buf.offset - 12))
            length = struct.unpack("<I" if little else ">I", head[4:])[0]
            if length < 28 or length % 4 or length > MAX_FRAME:
                raise CaptureError("%s: pcapng section header at offset %d has length %d"
                                   % (name, buf.offset - 12, length))
            if len(buf.take(length - 12)) < length - 12:
                raise CaptureTruncated(number + 1, "%s: file ends inside a section header" % name)
            interfaces = []
            continue
        btype, length = struct.unpack("<II" if little else ">II", head)
        if length < 12 or length % 4 or length > MAX_FRAME:
            raise CaptureTruncated(number + 1, "%s: block at offset %d has impossible length %d; the rest is unreadable"
                                   % (name, buf.offset - 8, length))
        body = buf.take(length - 8)
        if len(body) < length - 8:
            what = "frame %d" % (number + 1) if btype in (BT_EPB, BT_SPB, BT_PB) else "a block"
            raise CaptureTruncated(number + 1, "%s: file ends inside %s (%d of %d octets)"
                                   % (name, what, len(body) + 8, length))
        if btype == BT_EPB or btype == BT_PB:
            number = buf.frames = number + 1
            fmt = ("<" if little else ">") + ("IIIII" if btype == BT_EPB else "HHIIII")
            if btype == BT_EPB:
                iface_id, ts_hi, ts_lo, caplen, orig_len = struct.unpack_from(fmt, body)
            else:
                iface_id, _drops, ts_hi, ts_lo, caplen, orig_len = struct.unpack_from(fmt, body)
            if iface_id >= len(interfaces):
                raise CaptureTruncated(number, "%s: frame %d names interface %d, which was never described"
                                       % (name, number, iface_id))
            iface = interfaces[iface_id]
            caplen = min(caplen, len(body) - 24)
            data = body[20:20 + caplen]
            keep = _keeps(prefilter, iface.linktype)
            if keep is None or not _prefilter_rejects(keep, data):
                yield Frame(number, _ts_ns((ts_hi << 32) | ts_lo, iface), iface.linktype, data, orig_len)
        elif btype == BT_SPB:
            number = buf.frames = number + 1
            if not interfaces:
                raise CaptureTruncated(number, "%s: frame %d comes before any interface" % (name, number))
            orig_len = struct.unpack_from("<I" if little else ">I", body)[0]
            caplen = min(orig_len, len(body) - 8)
            data = body[4:4 + caplen]
            keep = _keeps(prefilter, interfaces[0].linktype)
            if keep is None or not _prefilter_rejects(keep, data):
                yield Frame(number, 0, interfaces[0].linktype, data, orig_len)
        elif btype == BT_IDB:
            interfaces.append(_interface(head + body, little))
