"""Stage 4: follow each mobile node through time and apply the rules.

``Auditor.feed`` takes verified messages in frame order and returns events:
``("message", Message)``, ``("finding", Finding)``, ``("exchange", dict)``.
It pairs every BU with its BA, keeps per-node state (replay bar, last
answers, a bounded window of authenticators) and nothing per frame, so memory
grows with the number of mobile nodes, not with the length of the capture.
"""

from __future__ import annotations

from collections import Counter
from typing import Dict, List, Optional, Tuple

from . import rules as _rules  # noqa: F401  (registers every rule)
from . import schema
from .decode import Message, format_address
from .findings import RULES, SEVERITY_RANK, Finding, rules_in
from .keys import KeyStore
from .rules.binding_update import assess_bu
from .rules.context import PENDING_PER_NODE, BUAssessment, NodeState, RuleContext, SkewHistogram
from .rules.exchange import ACCEPTED_BELOW
from .rules.message import CAPTURE_TRUNCATED, MALFORMED, malformed_text
from .rules.message import checksum_bad as _checksum_bad

MESSAGE_RULES = rules_in("message")
MESSAGE_CHECKS = [(rule, rule.check) for rule in MESSAGE_RULES]   # bound once: looked up per message
checksum_bad = _checksum_bad.rule
BU_RULES = rules_in("bu")
EXCHANGE_RULES = rules_in("exchange")
BA_ALONE_RULES = rules_in("ba-alone")
UNANSWERED_RULES = rules_in("unanswered")

Event = Tuple[str, object]
STATUS_SEQUENCE_OUT_OF_WINDOW = 135


def first_mn_ha_spi(msg: Message) -> Optional[int]:
    for option in msg.mh.options_of(schema.OPT_AUTH):
        if option.values["subtype"] == schema.AUTH_SUBTYPE_MN_HA:
            return option.values["spi"]
    return None


class Auditor:
    def __init__(self, keys: Optional[KeyStore], clock_offset: float = 0.0):
        self.ctx = RuleContext(keys, clock_offset)
        self.nodes: Dict[str, NodeState] = {}
        self._by_spi: Dict[int, str] = {}
        self._by_home: Dict[bytes, str] = {}
        self.ha_skew: Dict[bytes, SkewHistogram] = {}
        self.capture_index: Dict[str, int] = {}   # capture name -> position on the command line
        self.message_counts: Counter = Counter()
        self.finding_counts: Counter = Counter()
        self.auth_counts: Counter = Counter()
        self.verdict_counts: Counter = Counter()
        self.checksum_counts: Counter = Counter()
        self.frames_read: Dict[str, int] = {}
        self.watch_frame: Optional[int] = None
        self.watched: dict = {}     # for --explain: the watched frame's message, BU judgement, node

    # -- identity ---------------------------------------------------------
    def node_for(self, msg: Message) -> NodeState:
        """NAI first, else the SA's SPI, else the home address (issue 3)."""
        spi = first_mn_ha_spi(msg)
        home = msg.home_address
        key = msg.mn_id
        if key is None and spi is not None:
            key = self._by_spi.get(spi)
        if key is None:
            key = self._by_home.get(home)
        if key is None:
            sa = self.ctx.sa_for(None, home, spi)
            if sa is not None and sa.nai:
                key = sa.nai
            elif spi is not None:
                key = "spi:%d" % spi
            else:
                key = "hoa:%s" % format_address(home)
        if spi is not None:
            self._by_spi.setdefault(spi, key)
        self._by_home.setdefault(home, key)
        node = self.nodes.get(key)
        if node is None:
            node = self.nodes[key] = NodeState(key)
        return node

    # -- the stream -------------------------------------------------------
    def feed(self, msg: Message) -> List[Event]:
        events: List[Event] = [("message", msg)]
        self.message_counts[msg.abbrev if msg.mh is not None else "fragment/broken"] += 1
        if msg.checksum:
            self.checksum_counts[msg.checksum] += 1
        for result in msg.auth_results:
            self.auth_counts[result.result] += 1
        mn_label = msg.mn_id
        if msg.problems:
            # A broken message is reported as such and judged no further: its
            # fields cannot be trusted, and a receiver discards it anyway.
            events.append(self._finding(MALFORMED, msg.capture, msg.frame, malformed_text(msg), (), mn_label))
            for out in checksum_bad.check(msg, self.ctx):
                events.append(self._finding_from(checksum_bad, msg.capture, msg.frame, out, mn_label))
            return events
        mh = msg.mh
        stateful = mh is not None and mh.values and mh.mh_type in (schema.MH_BU, schema.MH_BA)
        node = self.node_for(msg) if stateful else None
        if node is not None:
            mn_label = node.mn_id
            msg.node_id = node.mn_id
        if msg.frame == self.watch_frame and "message" not in self.watched:
            self.watched.update(message=msg, node=node, node_before=node and _snapshot(node))
        ctx = self.ctx
        for rule, check in MESSAGE_CHECKS:
            for out in check(msg, ctx):
                events.append(self._finding_from(rule, msg.capture, msg.frame, out, mn_label))
        if node is None:
            return events
        if mh.mh_type == schema.MH_BU:
            self._binding_update(msg, node, events)
        else:
            self._binding_ack(msg, node, events)
        return events

    def truncated(self, capture: str, frame: int, detail: str) -> List[Event]:
        return [self._finding(CAPTURE_TRUNCATED, capture, frame, detail, (), None)]

    def finish(self) -> List[Event]:
        """BUs still waiting at the end, judged in frame order (so that several
        processes, each holding some of the nodes, agree on the order)."""
        waiting = [(self.capture_index.get(bu.capture, 0), bu.frame, bu, node)
                   for node in self.nodes.values() for bu in node.pending.values()]
        waiting.sort(key=lambda item: item[:2])
        events: List[Event] = []
        for _capture, _frame, bu, node in waiting:
            self._unanswered(bu, node, events)
        for node in self.nodes.values():
            node.pending.clear()
        return events

    # -- BU and BA --------------------------------------------------------
    def _binding_update(self, msg: Message, node: NodeState, events: List[Event]) -> None:
        bu = assess_bu(msg, node, self.ctx)
        if self.watched.get("message") is msg:
            self.watched["assessment"] = bu
        for rule in BU_RULES:
            for out in rule.check(msg, bu, node, self.ctx):
                events.append(self._finding_from(rule, msg.capture, msg.frame, out, node.mn_id))
        # The MN has been judged on these; what it does next is judged afresh.
        node.auth_fail_from.pop((msg.dst, msg.src), None)
        node.mismatch_frame = None
        node.mismatch_ha_offset = None
        if bu.skew is not None:
            node.skew.add(bu.skew)
        node.remember_authenticators(bu)
        previous = node.pending.pop(bu.seq, None)
        if previous is not None:
            self._unanswered(previous, node, events)
        node.pending[bu.seq] = bu
        while len(node.pending) > PENDING_PER_NODE:
            _seq, oldest = node.pending.popitem(last=False)
            self._unanswered(oldest, node, events)

    def _match(self, msg: Message, node: NodeState) -> Optional[BUAssessment]:
        bu = node.pending.pop(msg.mh.values["seq"], None)
        if bu is not None:
            return bu
        if msg.mh.values["status"] == STATUS_SEQUENCE_OUT_OF_WINDOW and node.pending:
            # RFC 6275 §9.5.1: this answer carries the last accepted sequence
            # number, not the BU's; it answers the newest BU still waiting.
            return node.pending.popitem(last=True)[1]
        option = msg.mh.option(schema.OPT_REPLAY)
        if option is None:
            return None
        low = option.values["timestamp"] & 0xFFFFFFFF
        for seq, candidate in node.pending.items():
            if candidate.timestamp is not None and candidate.timestamp & 0xFFFFFFFF == low:
                return node.pending.pop(seq)
        return None

    def _binding_ack(self, msg: Message, node: NodeState, events: List[Event]) -> None:
        bu = self._match(msg, node)
        if self.watched.get("message") is msg:
            self.watched["answers"] = bu
        if bu is None:
            for rule in BA_ALONE_RULES:
                for out in rule.check(msg, node, self.ctx):
                    events.append(self._finding_from(rule, msg.capture, msg.frame, out, node.mn_id))
            return
        raised = []
        for rule in EXCHANGE_RULES:
            for out in rule.check(msg, bu, node, self.ctx):
                event = self._finding_from(rule, msg.capture, msg.frame, out, node.mn_id)
                raised.append(event[1])
                events.append(event)
        status = msg.mh.values["status"]
        self._record_answer(msg, bu, node, status)
        events.append(("exchange", self._exchange(bu, msg, node, status, raised)))

    def _record_answer(self, msg: Message, bu: BUAssessment, node: NodeState, status: int) -> None:
        node.last_status = status
        if status < ACCEPTED_BELOW:
            # Only an accepted BU moves the replay bar (RFC 4285 §6).
            if bu.timestamp is not None and (node.accepted_timestamp is None
                                             or bu.timestamp > node.accepted_timestamp):
                node.accepted_timestamp, node.accepted_timestamp_frame = bu.timestamp, bu.frame
            if bu.seq is not None:
                node.accepted_seq, node.accepted_seq_frame = bu.seq, bu.frame
        elif status == schema.STATUS_AUTH_FAIL:
            # Keyed by where the 146 went: a forger's 146 is not the MN's to heed.
            node.auth_fail_from[(msg.src, msg.dst)] = msg.frame
        elif status == schema.STATUS_ID_MISMATCH:
            option = msg.mh.option(schema.OPT_REPLAY)
            echoed = option.values["timestamp"] if option is not None else None
            # Only a 144 that copies the BU's low 32 bits can be matched by the MN
            # (RFC 4285 §6), and only then do its high 32 bits tell the HA's clock.
            if echoed is not None and bu.timestamp is not None and \
                    echoed & 0xFFFFFFFF == bu.timestamp & 0xFFFFFFFF:
                ha_seconds = (echoed >> 32) - schema.NTP_UNIX_OFFSET
                offset = ha_seconds - self.ctx.clock(msg.ts_ns)
                self.ha_skew.setdefault(msg.src, SkewHistogram()).add(offset)
                node.mismatch_frame = msg.frame
                node.mismatch_ha_offset = offset

    def _unanswered(self, bu: BUAssessment, node: NodeState, events: List[Event]) -> None:
        raised = []
        for rule in UNANSWERED_RULES:
            for out in rule.check(bu, node, self.ctx):
                event = self._finding_from(rule, bu.capture, bu.frame, out, node.mn_id)
                raised.append(event[1])
                events.append(event)
        events.append(("exchange", self._exchange(bu, None, node, None, raised)))

    def _exchange(self, bu: BUAssessment, ba: Optional[Message], node: NodeState,
                  status: Optional[int], raised: List[Finding]) -> dict:
        codes = [f.code for f in raised]
        if ba is None:
            if bu.discard_expected:
                verdict = "dropped-as-required"
            else:
                verdict = "unanswered" if bu.ack_requested else "no-ack-requested"
        elif "HA_ACCEPTED_INVALID" in codes:
            verdict = "accepted-invalid"
        elif any(SEVERITY_RANK[f.severity] >= SEVERITY_RANK["warning"] for f in raised):
            verdict = "nonconformant"
        elif status < ACCEPTED_BELOW:
            verdict = "accepted"
        else:
            verdict = "rejected-as-required" if bu.prescribed_status() == status else "rejected"
        self.verdict_counts[verdict] += 1
        return {"event_type": "exchange", "capture": bu.capture, "bu": bu.frame,
                "ba": ba.frame if ba is not None else None, "mn_id": node.mn_id, "seq": bu.seq,
                "status": status, "status_name": schema.BA_STATUS.get(status) if status is not None else None,
                "verdict": verdict, "defects": bu.defects(), "findings": codes}

    # -- findings ---------------------------------------------------------
    def _finding_from(self, rule, capture, frame, out, mn_id) -> Event:
        text, related = (out, ()) if isinstance(out, str) else out
        return self._finding(rule.rule if hasattr(rule, "rule") else rule, capture, frame, text, related, mn_id)

    def _finding(self, rule, capture, frame, text, related, mn_id) -> Event:
        self.finding_counts[rule.code] += 1
        return ("finding", Finding(rule, capture, frame, text, tuple(related), mn_id))

    # -- the summary ------------------------------------------------------
    def summary_parts(self) -> dict:
        """What the summary is made of, in a form several auditors' parts add up in."""
        return {"frames": dict(self.frames_read), "messages": self.message_counts,
                "checksums": self.checksum_counts, "authenticators": self.auth_counts,
                "exchanges": self.verdict_counts, "findings": self.finding_counts,
                "nodes": {key: node.skew.as_json() for key, node in self.nodes.items()},
                "ha_skew": self.ha_skew}

    def summary(self) -> dict:
        return build_summary([self.summary_parts()], self.ctx.clock_offset)


def build_summary(parts: List[dict], clock_offset: float) -> dict:
    """The final summary from one auditor's parts, or from several that each saw
    some of the mobile nodes (``--jobs``): counts add, nodes are disjoint, home
    agent skew histograms merge."""
    totals = {name: Counter() for name in ("messages", "checksums", "authenticators", "exchanges", "findings")}
    nodes: Dict[str, dict] = {}
    ha_skew: Dict[bytes, SkewHistogram] = {}
    for part in parts:
        for name, counter in totals.items():
            counter.update(part[name])
        nodes.update(part["nodes"])
        for ha, histogram in part["ha_skew"].items():
            ha_skew.setdefault(ha, SkewHistogram()).merge(histogram)
    by_severity: Counter = Counter()
    for code, count in totals["findings"].items():
        by_severity[RULES[code].severity] += count
    return {
        "event_type": "summary",
        "frames": dict(parts[0]["frames"]) if parts else {},
        "messages": dict(sorted(totals["messages"].items())),
        "checksums": dict(sorted(totals["checksums"].items())),
        "authenticators": dict(sorted(totals["authenticators"].items())),
        "exchanges": dict(sorted(totals["exchanges"].items())),
        "findings": dict(sorted(totals["findings"].items())),
        "findings_by_severity": {s: by_severity[s] for s in ("critical", "error", "warning", "info")},
        "mobile_nodes": len(nodes),
        "clock": "capture timestamps%s" % (" shifted by %+g s" % clock_offset if clock_offset else ""),
        "mn_clock_skew_seconds": {key: skew for key, skew in sorted(nodes.items()) if skew["samples"]},
        "ha_clock_skew_seconds": {format_address(ha): histogram.as_json()
                                  for ha, histogram in sorted(ha_skew.items())},
    }


def _snapshot(node: NodeState) -> dict:
    """The replay state a message was judged against, for --explain."""
    return {"accepted_timestamp": node.accepted_timestamp, "accepted_timestamp_frame": node.accepted_timestamp_frame,
            "accepted_seq": node.accepted_seq, "accepted_seq_frame": node.accepted_seq_frame,
            "last_status": node.last_status, "mismatch_frame": node.mismatch_frame,
            "auth_fail_from": dict(node.auth_fail_from), "pending": list(node.pending)}
