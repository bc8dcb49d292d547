"""Stage 5: report events as text for people or JSON lines for programs.

jsonl carries everything the text shows; the field names are a public
contract (README, "Output").  Both reporters stream: an event is written as
soon as it is known, so ``tcpdump -w - | mip6-audit -`` shows findings live.
"""

from __future__ import annotations

import functools
import json
import time
from typing import Optional, TextIO

from . import schema
from .decode import Message, format_address
from .findings import SEVERITY_RANK
from .rules.context import ntp_to_unix


class _IsoClock:
    """ISO 8601 UTC from nanoseconds, with the whole-second part cached."""

    def __init__(self):
        self._second = None
        self._text = ""

    def __call__(self, ts_ns: int) -> str:
        second, fraction = divmod(ts_ns, 1_000_000_000)
        if second != self._second:
            self._second = second
            self._text = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
        if fraction % 1000:
            return "%s.%09dZ" % (self._text, fraction)
        return "%s.%06dZ" % (self._text, fraction // 1000)


def message_json(msg: Message, iso) -> dict:
    mh = msg.mh
    values = mh.values if mh is not None else {}
    replay = mh.option(schema.OPT_REPLAY) if mh is not None else None
    return {
        "event_type": "message", "capture": msg.capture, "pcap_cnt": msg.frame, "timestamp": iso(msg.ts_ns),
        "mh_type": mh.abbrev if mh is not None else None,
        "src": format_address(msg.src), "dst": format_address(msg.dst),
        "home_address": format_address(msg.home_address) if mh is not None else None,
        "care_of_address": format_address(msg.care_of_address) if mh is not None else None,
        "mn_id": msg.mn_id, "node": msg.node_id,
        "seq": values.get("seq"), "status": values.get("status"),
        "mesg_id": replay.values["timestamp"] if replay else None,
        "checksum": msg.checksum,
        "auth": [r.as_json() for r in msg.auth_results],
        "fragment": msg.fragment,
    }


def status_name(mh, status: int) -> str:
    """The status's name for this message type (BA and BE number theirs apart)."""
    for field in mh.spec.fields if mh.spec else ():
        if field.name == "status" and field.values:
            return field.values.get(status, "unassigned")
    return ""


def _json_dumps():
    """Record -> one UTF-8 line: orjson when installed (several times faster on
    long captures), else the standard library."""
    try:
        import orjson
    except ImportError:
        encode = json.JSONEncoder(separators=(",", ":"), ensure_ascii=False).encode
        return lambda record: (encode(record) + "\n").encode()
    return functools.partial(orjson.dumps, option=orjson.OPT_APPEND_NEWLINE)


# A reporter renders each event to a ``Rendered`` record, then writes it.  The
# two steps are apart so that --jobs workers can render in parallel and the
# parent only writes, in frame order, what they rendered (``analyzer.parallel``).
# (kind, frame, text, tail): a FINDING's line is text + "frame N: " + tail, the
# middle part only when the finding is not about the message just shown.
CAPTURE, MESSAGE, FINDING, LINE = 0, 1, 2, 3


class JsonlReporter:
    def __init__(self, out: TextIO, mn_filter: Optional[str] = None):
        self.out = out
        self.iso = _IsoClock()
        self.mn_filter = mn_filter
        self._dumps = _json_dumps()

    def render(self, kind: str, payload):
        if kind == "message":
            if self.mn_filter and payload.node_id != self.mn_filter and payload.mn_id != self.mn_filter:
                return None
            return (MESSAGE, payload.frame, self._dumps(message_json(payload, self.iso)).decode(), "")
        if kind == "finding":
            if self.mn_filter and payload.mn_id != self.mn_filter:
                return None
            return (FINDING, payload.frame, self._dumps(payload.as_json()).decode(), None)
        if self.mn_filter and kind == "exchange" and payload["mn_id"] != self.mn_filter:
            return None
        return (LINE, 0, self._dumps(payload).decode(), "")

    def write(self, rendered) -> None:
        self.out.write(rendered[2])

    def event(self, kind: str, payload) -> None:
        rendered = self.render(kind, payload)
        if rendered is not None:
            self.write(rendered)


SEVERITY_LABEL = {"info": "info", "warning": "WARNING", "error": "ERROR", "critical": "CRITICAL"}


class TextReporter:
    """A table of messages, each followed by what was found about it."""

    HEADER = "%7s  %-23s  %-5s %-26s %6s  %-22s %-10s %-22s %s" % (
        "frame", "time (UTC)", "type", "mobile node", "seq", "status", "ts skew", "auth", "checksum")
    # status column shows e.g. "146 MIPV6-AUTH-FAIL"; long RFC 6275 names are cut to fit

    def __init__(self, out: TextIO, mn_filter: Optional[str] = None, min_severity: str = "info"):
        self.out = out
        self.iso = _IsoClock()
        self.mn_filter = mn_filter
        self.min_rank = SEVERITY_RANK[min_severity]
        self._header_done = False
        self._last_frame = None

    def render(self, kind: str, payload):
        if kind == "capture":
            return (CAPTURE, 0, "== %s\n" % payload["capture"], "")
        if kind == "message":
            if self.mn_filter and payload.node_id != self.mn_filter and payload.mn_id != self.mn_filter:
                return None
            return (MESSAGE, payload.frame, self._message_line(payload) + "\n", "")
        if kind == "finding":
            if SEVERITY_RANK[payload.severity] < self.min_rank:
                return None
            if self.mn_filter and payload.mn_id != self.mn_filter:
                return None
            related = " (see frame %s)" % ", ".join(map(str, payload.related)) if payload.related else ""
            return (FINDING, payload.frame, "%7s  %-8s %s: " % ("", SEVERITY_LABEL[payload.severity], payload.code),
                    "%s%s [%s]\n" % (payload.message, related, payload.rule.rfc))
        if kind == "exchange":
            if self.mn_filter and payload["mn_id"] != self.mn_filter:
                return None
            if payload["ba"] is not None or payload["verdict"] == "unanswered":
                answer = ("BA %d" % payload["ba"]) if payload["ba"] is not None else "no BA"
                return (LINE, 0, "%7s  -> exchange BU %d / %s for %s: %s\n" % (
                    "", payload["bu"], answer, payload["mn_id"], payload["verdict"]), "")
            return None
        if kind == "summary":
            return (LINE, 0, self._summary(payload), "")
        return None

    def write(self, rendered) -> None:
        kind, frame, text, tail = rendered
        if kind == MESSAGE:
            if not self._header_done:
                self.out.write(self.HEADER + "\n")
                self._header_done = True
            self._last_frame = frame
            self.out.write(text)
        elif kind == FINDING:
            # A finding can arrive after later frames (an unanswered BU): say which frame it is about.
            self.out.write(text + ("" if frame == self._last_frame else "frame %d: " % frame) + tail)
        else:
            if kind == CAPTURE:
                self._header_done = False
            self.out.write(text)

    def event(self, kind: str, payload) -> None:
        rendered = self.render(kind, payload)
        if rendered is not None:
            self.write(rendered)

    def _message_line(self, msg: Message) -> str:
        mh = msg.mh
        values = mh.values if mh is not None else {}
        status = values.get("status")
        if status is None:
            status_text = ""
        elif mh.mh_type == schema.MH_BA and status < 128:
            status_text = "%d accepted" % status    # the full RFC 6275 names do not fit the column
        else:
            status_text = "%d %s" % (status, status_name(mh, status))
        skew = ""
        replay = mh.option(schema.OPT_REPLAY) if mh is not None else None
        if replay is not None:
            skew = "%+.3fs" % (ntp_to_unix(replay.values["timestamp"]) - msg.ts_ns / 1e9)
        auth = ", ".join("%s %s" % (r.subtype_name, r.result) for r in msg.auth_results) or "-"
        node = msg.node_id or msg.mn_id or (format_address(msg.home_address) if mh is not None else "-")
        kind = msg.abbrev if mh is not None else ("frag" if msg.fragment else "?")
        seq = values.get("seq")
        return "%7d  %-23s  %-5s %-26s %6s  %-22s %-10s %-22s %s" % (
            msg.frame, self.iso(msg.ts_ns)[:23], kind, node[:26], "" if seq is None else seq,
            status_text[:22], skew, auth, msg.checksum or "-")

    def _summary(self, summary: dict) -> str:
        lines = ["\n== summary"]
        write = lines.append
        write("frames read: %s" % ", ".join("%s %d" % kv for kv in summary["frames"].items()))
        write("mobility messages: %s" % (", ".join("%s %d" % kv for kv in summary["messages"].items()) or "none"))
        write("mobile nodes: %d" % summary["mobile_nodes"])
        if summary["authenticators"]:
            write("authenticators: %s" % ", ".join("%s %d" % kv for kv in sorted(summary["authenticators"].items())))
        if summary["exchanges"]:
            write("exchanges: %s" % ", ".join("%s %d" % kv for kv in summary["exchanges"].items()))
        severities = summary["findings_by_severity"]
        write("findings: %s" % ", ".join("%s %d" % (s, severities[s]) for s in severities))
        for code, count in summary["findings"].items():
            write("  %-26s %d" % (code, count))
        write("clock: timestamps judged against %s" % summary["clock"])
        for title, key in (("mobile node clock skew", "mn_clock_skew_seconds"),
                           ("home agent clock skew (from 144 answers)", "ha_clock_skew_seconds")):
            if summary[key]:
                write("%s (s, min / median / max):" % title)
                for who, stats in summary[key].items():
                    write("  %-40s %+.3f / %+.3f / %+.3f  (%d samples)" % (
                        who, stats["min"], stats["median"], stats["max"], stats["samples"]))
        return "\n".join(lines) + "\n"
