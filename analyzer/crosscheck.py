"""``mip6-audit crosscheck CAPTURE --keys FILE``: the Lua dissector against the analyzer.

Runs tshark with the generated dissector through pyshark (PDML), and compares
frame by frame every field and verdict it shows with what the analyzer
decodes and verifies in the same frame.  Fields are matched by name and by
position in the frame, so two options of one type never get mixed up.
Exit 0 when they agree, 1 when they differ (or the dissector raised a Lua
error), 2 on bad input.
"""

from __future__ import annotations

import math
import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from . import dissector, schema
from .capture import CaptureError, CaptureTruncated, open_capture, read_frames
from .decode import Message, decode_frame
from .keys import KeyfileError, KeyStore, load
from .verify import verify_message

EXIT_AGREE, EXIT_DIFFER, EXIT_USAGE = 0, 1, 2
PREFIX = dissector.PROTO + "."
BUILTIN_PREFIX = "mip6."
CHECKSUM_STATUS = {"invalid": 0, "valid": 1, "unverified": 2}
MALFORMED = PREFIX + "malformed"
OFFSET_TOLERANCE = 1e-3  # seconds; Wireshark's frame time is a double

# How a value is read back from PDML: generated items carry their value in
# `show` (their `value` is the octets under them); decoded ones in `value`.
INT, BYTES, BOOL, TEXT, FLOAT, PRESENT = "int", "bytes", "bool", "text", "float", "present"


@dataclass(frozen=True)
class Expected:
    kind: str
    value: object


@dataclass(frozen=True)
class Shown:
    """One field as tshark showed it."""
    name: str
    pos: int
    size: int
    show: str
    raw: str


@dataclass
class Difference:
    frame: int
    field: str
    pos: Optional[int]
    analyzer: object
    dissector: object

    def __str__(self) -> str:
        where = "%s @ %d" % (self.field, self.pos) if self.pos is not None else self.field
        if self.dissector is None:
            return "frame %d: %s: only the analyzer has it (%r)" % (self.frame, where, self.analyzer)
        if self.analyzer is None:
            return "frame %d: %s: only the dissector has it (%r)" % (self.frame, where, self.dissector)
        return "frame %d: %s: analyzer %r, dissector %r" % (self.frame, where, self.analyzer, self.dissector)


@dataclass
class Result:
    capture: str
    compared: List[int] = field(default_factory=list)
    differences: List[Difference] = field(default_factory=list)
    skipped: Dict[int, str] = field(default_factory=dict)
    lua_errors: Dict[int, List[str]] = field(default_factory=dict)
    # Everything tshark showed, by frame: ours and the built-in mipv6 dissector's.
    dissector_fields: Dict[int, List[Shown]] = field(default_factory=dict)
    builtin_fields: Dict[int, List[Shown]] = field(default_factory=dict)
    messages: Dict[int, Message] = field(default_factory=dict)
    truncated: Optional[str] = None

    @property
    def agree(self) -> bool:
        return not self.differences and not self.lua_errors


class CrosscheckError(Exception):
    """Bad input or no tshark: exit 2 with this message."""


# ------------------------------------------------------------ the analyzer's side

def analyzer_messages(capture: str, keys: Optional[KeyStore]) -> Tuple[Dict[int, Message], Optional[str]]:
    messages, truncated = {}, None
    stream = open_capture(capture)
    try:
        for frame in read_frames(stream, capture):
            msg = decode_frame(capture, frame.number, frame.ts_ns, frame.linktype, frame.data)
            if msg is not None:
                verify_message(msg, keys)
                messages[frame.number] = msg
    except CaptureTruncated as exc:
        truncated = exc.detail
    finally:
        stream.close()
    return messages, truncated


def _value_kind(spec_field: schema.Field) -> str:
    if spec_field.fmt in ("B", "H", "I", "Q"):
        return INT
    return BYTES


def _add_fields(expected, prefix, fields, values, base):
    """Schema fields of a message or option; ``base`` is the frame offset of offset 0."""
    offset = base
    for spec_field in fields:
        if spec_field.name not in values:
            break
        value = values[spec_field.name]
        name = "%s%s.%s" % (PREFIX, prefix, spec_field.name)
        if isinstance(value, str):
            value = value.encode("utf-8")
        expected[(name, offset)] = Expected(_value_kind(spec_field), value)
        for mask, letter, _description in spec_field.flags:
            expected[("%s.%s" % (name, letter.lower()), offset)] = Expected(BOOL, bool(value & mask))
        if spec_field.size is not None:
            offset += spec_field.size


def expected_fields(msg: Message) -> Dict[Tuple[str, int], Expected]:
    """What the dissector must show for one analyzer message, keyed by (field, frame offset)."""
    mh, base = msg.mh, msg.mh_offset
    expected: Dict[Tuple[str, int], Expected] = {}
    if mh.payload_proto is not None:
        header_values = {"payload_proto": mh.payload_proto, "header_len": mh.header_len, "mh_type": mh.mh_type,
                         "reserved": mh.raw[3], "checksum": mh.checksum}
        _add_fields(expected, "mh", schema.MH_HEADER_FIELDS, header_values, base)
        expected[(PREFIX + "mh.checksum.status", base + 4)] = Expected(INT, CHECKSUM_STATUS[msg.checksum])
    elif mh.mh_type is not None:
        expected[(PREFIX + "mh.mh_type", base + 2)] = Expected(INT, mh.mh_type)
    if mh.spec is None and mh.declared_length and min(mh.declared_length, len(mh.raw)) > schema.MH_FIXED_SIZE:
        message_data = mh.raw[schema.MH_FIXED_SIZE:mh.declared_length]
        expected[(PREFIX + "mh.data", base + schema.MH_FIXED_SIZE)] = Expected(BYTES, message_data)
    if mh.spec is not None and mh.values:
        prefix = mh.spec.abbrev.lower()
        expected[(PREFIX + prefix, base + schema.MH_FIXED_SIZE)] = Expected(PRESENT, None)
        _add_fields(expected, prefix, mh.spec.fields, mh.values, base + schema.MH_FIXED_SIZE)
    for option in mh.options:
        at = base + option.offset
        expected[(PREFIX + (option.spec.abbrev.lower() if option.spec else "option"), at)] = Expected(PRESENT, None)
        expected[(PREFIX + "option.type", at)] = Expected(INT, option.code)
        if option.length is None:
            continue
        expected[(PREFIX + "option.length", at + 1)] = Expected(INT, option.length)
        if option.values:
            _add_fields(expected, option.spec.abbrev.lower(), option.spec.fields, option.values, at + 2)
        elif option.length:
            expected[(PREFIX + "option.data", at + 2)] = Expected(BYTES, option.raw)
    for result in msg.auth_results:
        at = base + result.option.offset
        expected[(PREFIX + "auth.result", at)] = Expected(TEXT, result.result)
        if result.result in ("valid", "invalid"):
            expected[(PREFIX + "auth.valid", at)] = Expected(BOOL, result.result == "valid")
    for option in mh.options_of(schema.OPT_REPLAY):
        stamp = option.values["timestamp"]
        seconds = (stamp >> 32) + (stamp & 0xFFFFFFFF) / 2 ** 32 - schema.NTP_UNIX_OFFSET
        expected[(PREFIX + "mesgid.offset", base + option.offset)] = Expected(FLOAT, seconds - msg.ts_ns / 1e9)
    return expected


def expected_malformed(msg: Message) -> int:
    """Problems inside the Mobility Header (the dissector never sees the chain before it)."""
    return sum(1 for offset, _text in msg.problems if offset >= msg.mh_offset)


# ------------------------------------------------------------ tshark's side

def _shown(layer_field) -> Shown:
    return Shown(layer_field.name, int(layer_field.pos or 0), int(layer_field.size or 0),
                 layer_field.show or "", layer_field.raw_value or "")


def _layer_fields(layer) -> List[Shown]:
    out = []
    for name in layer.field_names:
        container = layer.get_field(name)
        if container is not None:
            out.extend(_shown(f) for f in container.all_fields)
    return out


def _read_back(kind: str, shown: Shown):
    try:
        if kind == INT:
            return int(shown.raw, 16) if shown.raw else int(shown.show, 0)
        if kind == BYTES:
            return bytes.fromhex(shown.raw)
        if kind == BOOL:
            return shown.show in ("1", "True", "true")
        if kind == FLOAT:
            return float(shown.show)
    except ValueError:
        return shown.show
    return shown.show if kind == TEXT else None


GENERATED_INTS = {PREFIX + "mh.checksum.status"}


def _is_expert(item: Shown) -> bool:
    """PDML gives an expert info's own field no position and no size; every
    decoded field of ours sits after an IPv6 header, never at octet 0."""
    return item.pos == 0 and item.size == 0 and not item.show


def _same(expected: Expected, actual) -> bool:
    if expected.kind == FLOAT:
        return isinstance(actual, float) and math.isclose(actual, expected.value, abs_tol=OFFSET_TOLERANCE)
    return actual == expected.value


def compare_frame(number: int, msg: Message, shown: List[Shown]) -> List[Difference]:
    expected = expected_fields(msg)
    actual: Dict[Tuple[str, int], Shown] = {}
    malformed = 0
    for item in shown:
        if item.name == MALFORMED:
            malformed += 1
        elif item.name.startswith(PREFIX) and item.name not in IGNORED and not _is_expert(item):
            actual.setdefault((item.name, item.pos), item)
    differences = []
    for key, wanted in expected.items():
        item = actual.pop(key, None)
        if item is None:
            differences.append(Difference(number, key[0], key[1], wanted.value, None))
            continue
        kind = INT if key[0] in GENERATED_INTS else wanted.kind
        got = int(item.show) if key[0] in GENERATED_INTS and item.show.isdigit() else _read_back(kind, item)
        if not _same(wanted, got):
            differences.append(Difference(number, key[0], key[1], wanted.value, got))
    for (name, pos), item in sorted(actual.items(), key=lambda pair: (pair[0][1], pair[0][0])):
        differences.append(Difference(number, name, pos, None, item.show or item.raw))
    if malformed != expected_malformed(msg):
        differences.append(Difference(number, MALFORMED + " (count)", None, expected_malformed(msg), malformed))
    return differences


# Shown by the dissector but with no counterpart in the analyzer's decode:
# explanations, the calculated checksum and expert-info plumbing.
IGNORED = {PREFIX + "auth.reason", PREFIX + "mh.checksum.calculated"}


def run_tshark(capture: str, lua: str, keys_path: Optional[str], tshark: Optional[str]):
    """Yield (frame number, packet) for every IPv6 frame tshark dissects."""
    import pyshark  # imported here: only this command needs it

    prefs = {"ipv6.defragment": "FALSE"}
    if keys_path:
        prefs[dissector.PROTO + ".keyfile"] = keys_path
    capture_reader = pyshark.FileCapture(
        capture, keep_packets=False, display_filter="ipv6 or %s or _ws.lua.error" % dissector.PROTO,
        override_prefs=prefs, custom_parameters=["-X", "lua_script:" + lua], tshark_path=tshark)
    try:
        for packet in capture_reader:
            yield int(packet.number), packet
    finally:
        try:
            capture_reader.close()
        finally:
            # pyshark 0.6 closes again from __del__ and re-raises tshark's exit
            # status (2 for a capture cut short); the first report is enough.
            capture_reader._running_processes.clear()


def _lua_errors(packet) -> List[str]:
    errors = []
    for layer in packet.layers:
        container = layer.get_field("_ws.lua.error")
        if container is not None:
            errors.extend(f.showname or f.show for f in container.all_fields)
    return errors


def crosscheck(capture: str, keys_path: Optional[str] = None, lua: Optional[str] = None,
               tshark: Optional[str] = None) -> Result:
    tshark = tshark or shutil.which("tshark")
    if not tshark:
        raise CrosscheckError("tshark not found: install Wireshark's tshark (Debian: apt-get install tshark)")
    keys = None
    if keys_path:
        try:
            keys, _warnings = load(keys_path)
        except KeyfileError as exc:
            raise CrosscheckError(str(exc)) from None
        keys_path = os.path.abspath(keys_path)
    try:
        messages, truncated = analyzer_messages(capture, keys)
    except CaptureError as exc:
        raise CrosscheckError(str(exc)) from None
    result = Result(capture, messages=messages, truncated=truncated)
    with tempfile.TemporaryDirectory(prefix="mip6-crosscheck-") as workdir:
        if lua is None:
            lua = os.path.join(workdir, dissector.OUTPUT_NAME)
            with open(lua, "w", encoding="utf-8") as handle:
                handle.write(dissector.render())
        seen = set()
        try:
            for number, packet in run_tshark(os.path.abspath(capture), os.path.abspath(lua), keys_path, tshark):
                _collect(result, number, packet, seen)
        except Exception as exc:  # pyshark reports tshark failures as its own exception types
            if truncated is None:
                raise CrosscheckError("%s: tshark failed: %s" % (capture, exc)) from None
    for number, msg in messages.items():
        if number not in seen and msg.mh is not None and not msg.fragment:
            result.skipped[number] = "tshark decoded no IPv6 header here (a link type Wireshark does not read?)"
    return result


def _collect(result: Result, number: int, packet, seen: set) -> None:
    seen.add(number)
    errors = _lua_errors(packet)
    if errors:
        result.lua_errors[number] = errors
    ours = packet.get_multiple_layers(dissector.PROTO)
    shown = [item for layer in ours for item in _layer_fields(layer)]
    # PDML nests the built-in mipv6 tree inside ipv6, so pyshark files its fields there.
    builtin = [item for layer in packet.layers if layer.layer_name != dissector.PROTO
               for item in _layer_fields(layer) if item.name.startswith(BUILTIN_PREFIX)]
    if shown:
        result.dissector_fields[number] = shown
    if builtin:
        result.builtin_fields[number] = builtin
    msg = result.messages.get(number)
    if msg is not None and msg.fragment:
        result.skipped[number] = "IPv6 fragment: the analyzer reports fragments and does not reassemble them"
        return
    if msg is None or msg.mh is None:
        if shown:
            if any(layer.layer_name == "icmpv6" for layer in packet.layers):
                result.skipped[number] = ("Mobility Header quoted inside an ICMPv6 error; "
                                          "the analyzer reads the outer chain only")
            else:
                result.differences.append(Difference(number, dissector.PROTO, None, None, "a Mobility Header"))
        return
    if not shown and any(layer.layer_name == "_ws.malformed" for layer in packet.layers):
        result.skipped[number] = ("Wireshark stopped at a malformed IPv6 header before the Mobility Header; "
                                  "the analyzer reads on")
        return
    result.compared.append(number)
    if not shown:
        result.differences.append(Difference(number, dissector.PROTO, None, "a Mobility Header", None))
        return
    result.differences.extend(compare_frame(number, msg, shown))


# ------------------------------------------------------------ command line

def add_arguments(parser) -> None:
    parser.description = (
        "Run tshark with the generated Lua dissector (through pyshark) on CAPTURE and compare, frame by "
        "frame, every field and verdict with the analyzer's own decode. Exit 0 when they agree, 1 when "
        "they differ, 2 on bad input.")
    parser.add_argument("capture", metavar="CAPTURE", help="pcap or pcapng file")
    parser.add_argument("--keys", metavar="FILE", help="keyfile (TOML) for both sides; without it every "
                        "authenticator is 'no-key' on both")
    parser.add_argument("--dissector", metavar="LUA", help="Lua dissector to load (default: a fresh render "
                        "of the current schema)")
    parser.add_argument("--tshark", metavar="PATH", help="tshark binary (default: the one on PATH)")


def run(args) -> int:
    try:
        result = crosscheck(args.capture, args.keys, args.dissector, args.tshark)
    except CrosscheckError as exc:
        print("mip6-audit crosscheck: %s" % exc, file=sys.stderr)
        return EXIT_USAGE
    print(report(result))
    return EXIT_AGREE if result.agree else EXIT_DIFFER


def report(result: Result) -> str:
    lines = []
    for number in sorted(result.lua_errors):
        for text in result.lua_errors[number]:
            lines.append("frame %d: %s" % (number, text))
    lines.extend(str(d) for d in sorted(result.differences, key=lambda d: (d.frame, d.pos or 0, d.field)))
    for number in sorted(result.skipped):
        lines.append("frame %d: not compared: %s" % (number, result.skipped[number]))
    if result.truncated:
        lines.append("note: %s" % result.truncated)
    verdict = "agree" if result.agree else "DIFFER"
    lines.append("%s: %d frame(s) with a Mobility Header compared, %d difference(s), %d Lua error(s): %s"
                 % (result.capture, len(result.compared), len(result.differences), len(result.lua_errors), verdict))
    return "\n".join(lines)
