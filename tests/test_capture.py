"""Reading captures: every file format, standard input, and files cut short.

The files come from tests/frames.py (scapy's PcapWriter for pcap, struct for
pcapng), never from the analyzer's own writer.
"""

import io
import os
import struct
import threading

import pytest

from analyzer.capture import CaptureError, CaptureTruncated, read_frames
from tests import frames as F

# Timestamps with sub-microsecond digits, so µs files must round them away.
T0 = 1_700_000_000_123_456_789


def _records(count=3, size=60):
    return [F.Record(T0 + i * 1_500_000_250, bytes([i]) * (size + i)) for i in range(count)]


def _read(data: bytes, name="test.pcap"):
    return list(read_frames(io.BytesIO(data), name))


@pytest.mark.parametrize("nanoseconds", [False, True], ids=["usec", "nsec"])
@pytest.mark.parametrize("big_endian", [False, True], ids=["le", "be"])
def test_pcap_formats(nanoseconds, big_endian):
    records = _records()
    data = F.pcap(records, F.LINKTYPE_ETHERNET, nanoseconds=nanoseconds, big_endian=big_endian)
    got = _read(data)
    assert [f.number for f in got] == [1, 2, 3]
    for frame, rec in zip(got, records):
        expected_ts = rec.ts_ns if nanoseconds else rec.ts_ns // 1000 * 1000
        assert frame.ts_ns == expected_ts
        assert frame.linktype == F.LINKTYPE_ETHERNET
        assert frame.data == rec.data
        assert frame.orig_len == len(rec.data)


def test_pcap_keeps_original_length_of_snapped_frames():
    rec = F.Record(T0, b"\x60" * 64, orig_len=1500)
    (frame,) = _read(F.pcap([rec], F.LINKTYPE_RAW, snaplen=64))
    assert (len(frame.data), frame.orig_len) == (64, 1500)


@pytest.mark.parametrize("linktype", [F.LINKTYPE_NULL, F.LINKTYPE_ETHERNET, F.LINKTYPE_RAW, F.LINKTYPE_LOOP,
                                      F.LINKTYPE_LINUX_SLL, F.LINKTYPE_IPV6, F.LINKTYPE_LINUX_SLL2])
def test_pcap_link_type_is_passed_through(linktype):
    (frame,) = _read(F.pcap(_records(1), linktype))
    assert frame.linktype == linktype


INTERFACES = [
    F.Interface(F.LINKTYPE_ETHERNET),                        # no if_tsresol: microseconds
    F.Interface(F.LINKTYPE_IPV6, tsresol=9),                 # nanoseconds
    F.Interface(F.LINKTYPE_LINUX_SLL2, tsresol=0x80 | 20),   # 2^-20 s
    F.Interface(F.LINKTYPE_NULL, tsresol=3, tsoffset=1000),  # milliseconds, shifted clock
]


def _expected_ns(rec, iface):
    """What a reader must make of ``rec.ts_ns`` after it went through ``iface``'s resolution."""
    ticks_per_s = iface.ticks_per_second
    whole, frac = divmod(rec.ts_ns, 1_000_000_000)
    return whole * 1_000_000_000 + (frac * ticks_per_s // 1_000_000_000) * 1_000_000_000 // ticks_per_s


@pytest.mark.parametrize("big_endian", [False, True], ids=["le", "be"])
def test_pcapng_each_interface_has_its_own_link_type_and_clock(big_endian):
    records = [F.Record(T0 + i * 7_777_777, bytes([0x60 + i]) * 50, interface=i % len(INTERFACES))
               for i in range(9)]
    got = _read(F.pcapng_section(INTERFACES, records, big_endian=big_endian), "t.pcapng")
    assert [f.number for f in got] == list(range(1, 10))
    for frame, rec in zip(got, records):
        iface = INTERFACES[rec.interface]
        assert frame.linktype == iface.linktype
        assert frame.ts_ns == _expected_ns(rec, iface)
        assert frame.data == rec.data


def test_pcapng_frame_numbers_continue_across_sections():
    first = F.pcapng_section(INTERFACES[:2], [F.Record(T0, b"a" * 40, 1), F.Record(T0, b"b" * 41, 0)])
    # The second section describes its interfaces afresh: index 0 is now SLL2.
    second = F.pcapng_section([INTERFACES[2], INTERFACES[0]], [F.Record(T0, b"c" * 42, 0)], big_endian=True)
    got = _read(first + second, "t.pcapng")
    assert [(f.number, f.linktype, f.data[:1]) for f in got] == [
        (1, F.LINKTYPE_IPV6, b"a"), (2, F.LINKTYPE_ETHERNET, b"b"), (3, F.LINKTYPE_LINUX_SLL2, b"c")]


@pytest.mark.parametrize("block", ["pb", "spb"])
def test_pcapng_packet_and_simple_packet_blocks(block):
    records = [F.Record(T0, b"\x60" * 45), F.Record(T0 + 10**9, b"\x61" * 46)]
    got = _read(F.pcapng_section([F.Interface(F.LINKTYPE_RAW, tsresol=9)], records, packet_block=block))
    assert [(f.number, f.linktype, f.data) for f in got] == [(1, F.LINKTYPE_RAW, records[0].data),
                                                             (2, F.LINKTYPE_RAW, records[1].data)]
    if block == "pb":
        assert [f.ts_ns for f in got] == [r.ts_ns for r in records]


def test_pcapng_snapped_frame_keeps_original_length():
    got = _read(F.pcapng_section([F.Interface(F.LINKTYPE_RAW)], [F.Record(T0, b"\x60" * 41, orig_len=9000)]))
    assert (got[0].data, got[0].orig_len) == (b"\x60" * 41, 9000)


@pytest.mark.parametrize("cut_into_last", [4, 10, 30, 60, 80])
def test_pcapng_cut_inside_last_block_reads_whole_frames_then_reports(cut_into_last):
    records = [F.Record(T0, bytes([0x60 + i]) * 50, i % 2) for i in range(3)]
    whole = F.pcapng_section(INTERFACES[:2], records)
    last_block = struct.unpack("<I", whole[-4:])[0]
    frames, error = _read_until_truncated(whole[:len(whole) - last_block + cut_into_last])
    assert [f.number for f in frames] == [1, 2]
    assert error.frame_number == 3


def _read_until_truncated(data: bytes):
    frames = []
    with pytest.raises(CaptureTruncated) as info:
        frames.extend(read_frames(io.BytesIO(data), "cut.cap"))  # keeps what came before the raise
    return frames, info.value


@pytest.mark.parametrize("cut_into_third", [1, 15, 16, 17, 40])
def test_pcap_cut_mid_record_reads_to_last_whole_frame(cut_into_third):
    data = F.pcap(_records(3), F.LINKTYPE_ETHERNET)
    third_starts = 24 + (16 + 60) + (16 + 61)
    frames, error = _read_until_truncated(data[:third_starts + cut_into_third])
    assert [f.number for f in frames] == [1, 2]
    assert error.frame_number == 3
    assert "cut.cap" in str(error) and "3" in str(error)


def test_pcap_cut_between_records_is_not_truncated():
    data = F.pcap(_records(3), F.LINKTYPE_ETHERNET)
    assert [f.number for f in _read(data[:24 + 16 + 60])] == [1]


@pytest.mark.parametrize("content", [b"", b"\xd4\xc3", b"hello world, not a capture", b"\xd4\xc3\xb2\xa1\x02\x00"],
                         ids=["empty", "two-octets", "text", "header-cut"])
def test_not_a_capture_is_a_capture_error(content):
    with pytest.raises(CaptureError) as info:
        _read(content, "junk.bin")
    assert "junk.bin" in str(info.value)


def _pipe_with_writer(chunks, wait_for=None, timeout=5.0):
    """A real pipe (no seek, short reads) fed by a thread; ``wait_for`` pauses it mid-way."""
    read_fd, write_fd = os.pipe()
    state = {"waited": None}

    def feed():
        with os.fdopen(write_fd, "wb", buffering=0) as out:
            for index, chunk in enumerate(chunks):
                if wait_for is not None and index == wait_for[0]:
                    state["waited"] = wait_for[1].wait(timeout)
                out.write(chunk)

    thread = threading.Thread(target=feed, daemon=True)
    thread.start()
    return os.fdopen(read_fd, "rb"), thread, state


def test_reads_from_a_pipe_in_small_pieces():
    data = F.pcapng_section(INTERFACES, [F.Record(T0, b"\x60" * 70, i % 4) for i in range(6)])
    chunks = [data[i:i + 7] for i in range(0, len(data), 7)]
    stream, thread, _ = _pipe_with_writer(chunks)
    with stream:
        got = list(read_frames(stream, "-"))
    thread.join(5)
    assert [f.number for f in got] == [1, 2, 3, 4, 5, 6]
    assert [f.linktype for f in got] == [i.linktype for i in INTERFACES] + [INTERFACES[0].linktype,
                                                                             INTERFACES[1].linktype]


@pytest.mark.parametrize("fmt", ["pcap", "pcapng"])
def test_pipe_yields_each_frame_before_the_writer_finishes(fmt):
    """`tcpdump -w - | mip6-audit -`: a frame must come out as soon as it is whole."""
    records = _records(2)
    if fmt == "pcap":
        data = F.pcap(records, F.LINKTYPE_RAW)
        first_end = 24 + 16 + 60
    else:
        data = F.pcapng_section([F.Interface(F.LINKTYPE_RAW)], records)
        first_end = len(F.pcapng_section([F.Interface(F.LINKTYPE_RAW)], records[:1]))
    first_seen = threading.Event()
    stream, thread, state = _pipe_with_writer([data[:first_end], data[first_end:]], wait_for=(1, first_seen))
    got = []
    with stream:
        for frame in read_frames(stream, "-"):
            got.append(frame.number)
            first_seen.set()
    thread.join(5)
    assert got == [1, 2]
    assert state["waited"] is True, "frame 1 was only delivered after the writer closed the pipe"


def test_pipe_cut_mid_frame_is_truncated_after_whole_frames():
    data = F.pcap(_records(3), F.LINKTYPE_ETHERNET)
    stream, thread, _ = _pipe_with_writer([data[:-5]])
    frames = []
    with stream, pytest.raises(CaptureTruncated) as info:
        for frame in read_frames(stream, "-"):
            frames.append(frame.number)
    thread.join(5)
    assert frames == [1, 2] and info.value.frame_number == 3


def test_pcap_link_type_fcs_bits_are_masked():
    data = bytearray(F.pcap(_records(1), F.LINKTYPE_ETHERNET))
    # FCS length 4 in the top nibble, with its "present" bit 26 (libpcap LT_FCS_LENGTH)
    data[20:24] = (4 << 28 | 1 << 26 | F.LINKTYPE_ETHERNET).to_bytes(4, "little")
    assert _read(bytes(data))[0].linktype == F.LINKTYPE_ETHERNET


def test_pcapng_interface_with_damaged_options_keeps_its_link_type():
    good = F.pcapng_section([F.Interface(F.LINKTYPE_IPV6, tsresol=9)], [F.Record(T0, b"\x60" * 40)])
    shb_len = struct.unpack("<I", good[4:8])[0]
    idb_len = struct.unpack("<I", good[shb_len + 4:shb_len + 8])[0]
    idb = bytearray(good[shb_len:shb_len + idb_len])
    idb[16:18] = b"\xff\x00"  # first option (if_tsresol) now claims 255 octets
    got = _read(good[:shb_len] + bytes(idb) + good[shb_len + idb_len:])
    assert [(f.number, f.linktype, f.data) for f in got] == [(1, F.LINKTYPE_IPV6, b"\x60" * 40)]
