"""`mip6-audit CAPTURE --explain FRAME`: one verdict traced down to its bytes.

The whole capture is audited (a BU's fate depends on what came before and
its BA on what comes after); the watched frame's message, its BU judgement
and the node's replay state are kept and printed here.  Key bytes are never
shown: only which SA or key entry was used.
"""

from __future__ import annotations

from typing import List, Optional, TextIO

from . import crypto, schema
from .decode import Message, format_address
from .findings import RULES, SCOPES
from .pipeline import audit
from .report import _IsoClock, message_json, status_name
from .rules.binding_update import format_ntp
from .rules.context import ntp_to_unix
from .verify import authenticated_input, expected_checksum


def explain(inputs, keys, options, frame: int, out: TextIO) -> int:
    from .correlate import Auditor
    auditor = Auditor(keys, options.clock_offset)
    findings = []
    exchanges = []
    for kind, payload in audit(inputs, keys, options, auditor):
        if kind == "finding" and (payload.frame == frame or frame in payload.related):
            findings.append(payload)
        elif kind == "exchange" and frame in (payload["bu"], payload["ba"]):
            exchanges.append(payload)
    watched = auditor.watched
    msg: Optional[Message] = watched.get("message")
    write = out.write
    if msg is None:
        frames = sum(auditor.frames_read.values())
        if frame < 1 or frame > frames:
            write("frame %d is not in the capture (it has %d frames)\n" % (frame, frames))
            return 2
        write("frame %d carries no Mobility Header; nothing to explain\n" % frame)
        for finding in findings:
            write("  %s %s: %s\n" % (finding.severity, finding.code, finding.message))
        return 0
    _header(msg, write)
    _fields(msg, write)
    if msg.mh is not None and msg.mh.checksum is not None:
        _checksum(msg, write)
    for result in msg.auth_results:
        _authenticator(msg, result, write)
    _judgement(msg, watched, write)
    _rules(msg, findings, write)
    for exchange in exchanges:
        write("\nexchange: BU %s / BA %s, status %s, verdict %s\n" % (
            exchange["bu"], exchange["ba"], exchange["status"], exchange["verdict"]))
        for defect in exchange["defects"]:
            write("  BU defect: %s\n" % defect)
    return 0


def _header(msg: Message, write) -> None:
    iso = _IsoClock()
    record = message_json(msg, iso)
    write("frame %d of %s, %s\n" % (msg.frame, msg.capture, record["timestamp"]))
    write("  %s, mobile node %s\n" % (msg.abbrev, msg.node_id or msg.mn_id or "unidentified"))


def _line(write, offset: int, length: int, name: str, value) -> None:
    write("  %6d  %4d  %-34s %s\n" % (offset, length, name, value))


def _fields(msg: Message, write) -> None:
    write("\nfields (offset and length in octets from the start of the frame):\n")
    write("  %6s  %4s  %-34s %s\n" % ("offset", "len", "field", "value"))
    ip = msg.ip_offset
    _line(write, ip + 8, 16, "IPv6 source", format_address(msg.src))
    _line(write, ip + 24, 16, "IPv6 destination", format_address(msg.dst))
    if msg.hao_offset is not None:
        _line(write, msg.hao_offset, 16, "Home Address option", format_address(msg.home_address_option))
    if msg.rt2_offset is not None:
        _line(write, msg.rt2_offset, 16, "type 2 routing header address", format_address(msg.rt2_address))
    mh = msg.mh
    if mh is None or msg.mh_offset is None:
        return
    base = msg.mh_offset
    offset = base
    header_values = dict(zip((f.name for f in schema.MH_HEADER_FIELDS),
                             (mh.payload_proto, mh.header_len, mh.mh_type, None, mh.checksum)))
    for field in schema.MH_HEADER_FIELDS:
        value = header_values.get(field.name)
        if value is not None:
            label = field.label if field.label.startswith("MH") else "MH " + field.label
            _line(write, offset, field.size, label.split(" (")[0], _show(field, value, mh))
        offset += field.size
    for field in (mh.spec.fields if mh.spec else ()):
        if field.name in mh.values:
            _line(write, offset, field.size, "%s %s" % (mh.abbrev, field.label),
                  _show(field, mh.values[field.name], mh))
        offset += field.size or 0
    for option in mh.options:
        start = base + option.offset
        if option.length is None:
            _line(write, start, 1, "option Pad1", "")
            continue
        _line(write, start, option.length + 2, "option %s" % option.name,
              "type %d, length %d%s" % (option.code, option.length,
                                         ", misaligned" if option.misaligned else ""))
        field_offset = start + 2
        for field in (option.spec.fields if option.spec else ()):
            if field.name not in option.values:
                continue
            size = field.size if field.size is not None else len(option.values[field.name])
            _line(write, field_offset, size, "  " + field.label, _show(field, option.values[field.name], mh))
            field_offset += size
        if option.problem:
            write("  %6s  %4s  %-34s problem: %s\n" % ("", "", "", option.problem))
    for offset, text in sorted(msg.problems):
        write("  problem at octet %d: %s\n" % (offset, text))


def _show(field, value, mh) -> str:
    if field.display == schema.IPV6:
        return format_address(value)
    if field.display == schema.NTP:
        return "%s = %.6f Unix" % (format_ntp(value), ntp_to_unix(value))
    if field.display == schema.TEXT:
        return repr(value.decode("utf-8", "replace"))
    if field.display == schema.BYTES:
        return value.hex() or "(empty)"
    if field.display == schema.FLAGS:
        letters = "".join(letter for mask, letter, _d in field.flags if value & mask)
        return "0x%x %s" % (value, letters or "(none)")
    if field.display == schema.HEX:
        return "0x%x" % value
    if field.values:
        return "%d (%s)" % (value, field.values.get(value, "unassigned"))
    if field.name == "status":
        return "%d (%s)" % (value, status_name(mh, value))
    return str(value)


def _hex_block(data: bytes, write, marks=()) -> None:
    for start in range(0, len(data), 16):
        chunk = data[start:start + 16]
        cells = []
        for i, byte in enumerate(chunk):
            cell = "%02x" % byte
            cells.append("[" + cell + "]" if start + i in marks else " " + cell + " ")
        write("    %04x %s\n" % (start, "".join(cells)))


def _checksum(msg: Message, write) -> None:
    mh = msg.mh
    src = msg.home_address_option or msg.src
    dst = msg.rt2_address or msg.dst
    write("\nchecksum: %s\n" % msg.checksum)
    write("  pseudo-header source      %s (%s)\n" % (format_address(src),
          "Home Address option" if msg.home_address_option else "IPv6 source"))
    write("  pseudo-header destination %s (%s)\n" % (format_address(dst),
          "type 2 routing header" if msg.rt2_address else "IPv6 destination"))
    write("  upper-layer length %s, next header %d in the pseudo-header (%d on the wire)\n"
          % (msg.upper_length, schema.MH_NEXT_HEADER, msg.next_header))
    computed = expected_checksum(msg)
    if computed is not None:
        write("  received 0x%04x, computed 0x%04x\n" % (mh.checksum, computed))


def _authenticator(msg: Message, result, write) -> None:
    option = result.option
    write("\nauthenticator: %s, SPI %d, option at MH octet %d: %s\n" % (
        result.subtype_name, result.spi, option.offset, result.result))
    write("  reason: %s\n" % result.reason)
    if result.key_source:
        write("  key: %s (key bytes are never shown)\n" % result.key_source)
    coa_source, home_source = _address_sources(msg)
    write("  care-of address %s  from %s\n" % (format_address(msg.care_of_address), coa_source))
    write("  home address    %s  from %s\n" % (format_address(msg.home_address), home_source))
    data = authenticated_input(msg, option)
    checksum_at = 32 + crypto.CHECKSUM_OFFSET
    write("  input (%d octets: CoA 0-15 | HoA 16-31 | MH 32-%d up to and including the SPI; "
          "[..] = checksum zeroed):\n" % (len(data), len(data) - 1))
    _hex_block(data, write, marks=(checksum_at, checksum_at + 1))
    if result.subtype == schema.AUTH_SUBTYPE_MN_AAA:
        write("  algorithm: HMAC-SHA1(MN-AAA key, SHA1(input)), compared over the %d octets sent\n"
              % len(option.values["authenticator"]))
    else:
        write("  algorithm: First(96, HMAC-SHA1(MN-HA key, input))\n")
    write("  received  %s\n" % option.values["authenticator"].hex())
    if result.computed is not None:
        write("  computed  %s\n" % result.computed.hex())


def _address_sources(msg: Message):
    if msg.mh.mh_type == schema.MH_BA:
        return ("the IPv6 destination address",
                "the type 2 routing header" if msg.rt2_address else "the IPv6 destination (no type 2 routing header)")
    if msg.mh.option(schema.OPT_ALTERNATE_COA) is not None:
        coa = "the Alternate Care-of Address option"
    else:
        coa = "the IPv6 source address"
    home = "the Home Address destination option" if msg.home_address_option else "the IPv6 source (sent from home)"
    return coa, home


def _judgement(msg: Message, watched: dict, write) -> None:
    before = watched.get("node_before")
    bu = watched.get("assessment")
    if before is not None:
        write("\nnode state before this frame: accepted timestamp %s (frame %s), accepted sequence %s "
              "(frame %s), last status %s\n" % (format_ntp(before["accepted_timestamp"]),
                                                before["accepted_timestamp_frame"], before["accepted_seq"],
                                                before["accepted_seq_frame"], before["last_status"]))
    if bu is not None:
        write("BU judgement: replay mode %s, close_enough %g s" % (bu.policy.replay, bu.policy.close_enough))
        if bu.skew is not None:
            write(", timestamp %+.3f s from the clock" % bu.skew)
        write("\n")
        for defect in bu.defects() or ["none: an RFC-conformant HA accepts it"]:
            write("  defect: %s\n" % defect)
    if "answers" in watched:
        answered = watched["answers"]
        write("answers: %s\n" % ("the BU of frame %d" % answered.frame if answered else "no BU in the capture"))


def _applicable_scopes(msg: Message) -> List[str]:
    if msg.problems:
        return ["message"]
    if msg.mh is None or not msg.mh.values:
        return ["message"]
    if msg.mh.mh_type == schema.MH_BU:
        return ["message", "bu", "unanswered"]
    if msg.mh.mh_type == schema.MH_BA:
        return ["message", "exchange", "ba-alone"]
    return ["message"]


def _rules(msg: Message, findings, write) -> None:
    write("\nrule verdicts:\n")
    fired = {}
    for finding in findings:
        fired.setdefault(finding.code, []).append(finding)
    scopes = _applicable_scopes(msg)
    for rule in sorted(RULES.values(), key=lambda r: (SCOPES.index(r.scope), r.code)):
        if rule.scope not in scopes and rule.code not in fired:
            continue
        hits = fired.get(rule.code, [])
        if not hits:
            write("  %-8s %-26s no finding [%s]: checks for %s\n" % ("pass", rule.code, rule.rfc, rule.summary))
        for hit in hits:
            where = "" if hit.frame == msg.frame else " (raised on frame %d)" % hit.frame
            write("  %-8s %-26s %s%s [%s]\n" % (hit.severity.upper(), rule.code, hit.message, where, rule.rfc))
