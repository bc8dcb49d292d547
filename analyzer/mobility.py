"""Mobility Header parser, compiled from ``analyzer.schema``.

Nothing here knows a field by hand except the handful of names the verifier
and rules ask for; layouts, lengths and alignment come from the schema.
A message that breaks the wire rules still comes back, as far as it could be
read, with its problems listed (offset into the Mobility Header, text).
"""

from __future__ import annotations

import struct
from typing import Dict, List, Optional, Tuple

from . import schema

_HEADER = struct.Struct("!" + "".join(f.fmt for f in schema.MH_HEADER_FIELDS))


def _compile(fields) -> Tuple[Optional[struct.Struct], Tuple[str, ...], Optional[str]]:
    """(Struct for the fixed part, its field names, name of the REST tail)."""
    fixed = [f for f in fields if f.fmt != schema.REST]
    tail = [f.name for f in fields if f.fmt == schema.REST]
    layout = struct.Struct("!" + "".join(f.fmt for f in fixed)) if fixed else None
    return layout, tuple(f.name for f in fixed), (tail[0] if tail else None)


_MESSAGE_LAYOUTS = {m.code: _compile(m.fields) for m in schema.MESSAGES}
_OPTION_LAYOUTS = {o.code: _compile(o.fields) for o in schema.OPTIONS}


def _option_plan(spec: schema.OptionType):
    """Everything the option loop needs about one option type, in one lookup."""
    layout, names, tail = _OPTION_LAYOUTS[spec.code]
    align_x, align_y = spec.align or (None, None)
    return (spec, layout.unpack_from if layout is not None else None, names, tail,
            spec.exact_length, spec.minimum_length, spec.fixed_size, align_x, align_y)


_OPTION_PLANS = {o.code: _option_plan(o) for o in schema.OPTIONS if o.code != schema.OPT_PAD1}
_PAD1 = schema.OPTIONS_BY_CODE[schema.OPT_PAD1]
_NONE: List["MobilityOption"] = []


class MobilityOption:
    """One mobility option; ``offset`` is where its type octet sits in the MH."""

    __slots__ = ("code", "spec", "offset", "length", "values", "raw", "problem", "misaligned")

    def __init__(self, code, spec, offset, length, values, raw, problem=None, misaligned=False):
        self.code = code
        self.spec = spec
        self.offset = offset
        self.length = length          # the Option Length octet (None for Pad1)
        self.values = values          # decoded fields, {} when not decodable
        self.raw = raw                # option data after type and length
        self.problem = problem
        self.misaligned = misaligned

    @property
    def name(self) -> str:
        return self.spec.name if self.spec else "Unknown option %d" % self.code

    @property
    def end(self) -> int:
        return self.offset + (1 if self.length is None else 2 + self.length)

    def __repr__(self):
        return "MobilityOption(%s @%d len=%s)" % (self.name, self.offset, self.length)


class MobilityHeader:
    """A parsed Mobility Header.  ``raw`` is exactly the octets on the wire."""

    __slots__ = ("raw", "spec", "mh_type", "payload_proto", "header_len", "checksum",
                 "values", "options", "problems", "declared_length", "_by_code")

    def __init__(self, raw: bytes):
        self.raw = raw
        self.spec = None
        self.mh_type = None
        self.payload_proto = None
        self.header_len = None
        self.checksum = None
        self.values: Dict[str, object] = {}
        self.options: List[MobilityOption] = []
        self.problems: List[Tuple[int, str]] = []
        self.declared_length = None
        # code -> its decodable options in wire order, filled by the parser
        self._by_code: Dict[int, List[MobilityOption]] = {}

    @property
    def abbrev(self) -> str:
        if self.spec is not None:
            return self.spec.abbrev
        return "MH%s" % ("?" if self.mh_type is None else self.mh_type)

    def option(self, code: int) -> Optional[MobilityOption]:
        found = self._by_code.get(code)
        return found[0] if found else None

    def options_of(self, code: int) -> List[MobilityOption]:
        """The decodable options of one type, in wire order (a shared list: do not change it)."""
        return self._by_code.get(code, _NONE)

    def problem(self, offset: int, text: str) -> None:
        self.problems.append((offset, text))


def parse(raw: bytes) -> MobilityHeader:
    """Parse one Mobility Header from ``raw`` (the octets after the IPv6 chain)."""
    mh = MobilityHeader(raw)
    available = len(raw)
    if available < schema.MH_FIXED_SIZE:
        mh.problem(0, "Mobility Header truncated: %d octets, the fixed part needs %d"
                   % (available, schema.MH_FIXED_SIZE))
        if available >= 3:
            mh.mh_type = raw[2]
            mh.spec = schema.MESSAGES_BY_CODE.get(raw[2])
        return mh
    mh.payload_proto, mh.header_len, mh.mh_type, _reserved, mh.checksum = _HEADER.unpack_from(raw)
    mh.spec = spec = schema.MESSAGES_BY_CODE.get(mh.mh_type)
    declared = mh.declared_length = (mh.header_len + 1) * 8
    if mh.payload_proto != schema.NO_NEXT_HEADER:
        mh.problem(0, "Payload Proto is %d, must be %d (RFC 6275 §6.1.1)"
                   % (mh.payload_proto, schema.NO_NEXT_HEADER))
    end = declared
    if declared > available:
        mh.problem(1, "Header Len says %d octets but only %d are present" % (declared, available))
        end = available
    elif declared < available:
        mh.problem(declared, "%d octets follow the Mobility Header's declared end"
                   % (available - declared))
    if spec is None:
        return mh
    start = spec.options_offset
    if declared < start:
        mh.problem(1, "Header Len says %d octets, too short for a %s (at least %d)"
                   % (declared, spec.abbrev, start))
    layout, names, _tail = _MESSAGE_LAYOUTS[mh.mh_type]
    if layout is not None:
        if end < start:
            mh.problem(end, "%s truncated before its fixed fields end at octet %d"
                       % (spec.abbrev, start))
            return mh
        mh.values = dict(zip(names, layout.unpack_from(raw, schema.MH_FIXED_SIZE)))
    _parse_options(mh, raw, start, end)
    return mh


def _parse_options(mh: MobilityHeader, raw: bytes, offset: int, end: int) -> None:
    append = mh.options.append
    by_code = mh._by_code
    plans = _OPTION_PLANS
    while offset < end:
        code = raw[offset]
        if code == schema.OPT_PAD1:
            append(MobilityOption(code, _PAD1, offset, None, {}, b""))
            offset += 1
            continue
        if offset + 2 > end:
            mh.problem(offset, "option %d at octet %d has no room for its length" % (code, offset))
            return
        length = raw[offset + 1]
        data_start = offset + 2
        data_end = data_start + length
        plan = plans.get(code)
        if data_end > end:
            mh.problem(offset, "option %s at octet %d: length %d overruns the header (%d octets left)"
                       % (plan[0].name if plan else code, offset, length, end - data_start))
            return
        data = raw[data_start:data_end]
        if plan is None:
            append(MobilityOption(code, None, offset, length, {}, data))
            offset = data_end
            continue
        spec, unpack, names, tail, exact, minimum, fixed_size, align_x, align_y = plan
        problem = None
        if exact is not None and length != exact:
            values, problem = {}, "length %d, must be %d" % (length, exact)
        elif length < minimum:
            values, problem = {}, "length %d, must be at least %d" % (length, minimum)
        else:
            values = dict(zip(names, unpack(data))) if unpack is not None else {}
            if tail is not None:
                values[tail] = data[fixed_size:]
        option = MobilityOption(code, spec, offset, length, values, data, problem,
                                align_x is not None and offset % align_x != align_y)
        if problem:
            mh.problem(offset, "%s at octet %d: %s" % (spec.name, offset, problem))
        elif values:
            found = by_code.get(code)
            if found is None:
                by_code[code] = [option]
            else:
                found.append(option)
        append(option)
        offset = data_end
