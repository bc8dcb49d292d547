"""Findings and the rule catalogue they come from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Dict, Optional, Tuple

SEVERITIES = ("info", "warning", "error", "critical")
SEVERITY_RANK = {name: rank for rank, name in enumerate(SEVERITIES)}

# What a rule looks at, in the order the engine meets them.
SCOPES = (
    "capture",      # the file itself (cut short)
    "message",      # one message, on its own
    "bu",           # a BU judged against what the MN and HA did before
    "exchange",     # a BA judged against the BU it answers
    "ba-alone",     # a BA with no BU in the capture
    "unanswered",   # a BU still waiting at the end
)


@dataclass(frozen=True)
class Rule:
    code: str
    severity: str
    rfc: str
    summary: str
    scope: str
    check: Optional[Callable] = None
    detail: str = ""

    @property
    def explanation(self) -> str:
        """The longer text for docs/rules.md: the check's docstring, or the declared detail."""
        return " ".join((self.detail or (self.check.__doc__ if self.check else "") or "").split())

    @property
    def doc_anchor(self) -> str:
        return self.code.lower().replace("_", "-")


class Finding:
    __slots__ = ("rule", "capture", "frame", "related", "mn_id", "message")

    def __init__(self, rule: Rule, capture: str, frame: int, message: str,
                 related: Tuple[int, ...] = (), mn_id: Optional[str] = None):
        self.rule = rule
        self.capture = capture
        self.frame = frame
        self.related = related
        self.mn_id = mn_id
        self.message = message

    @property
    def code(self) -> str:
        return self.rule.code

    @property
    def severity(self) -> str:
        return self.rule.severity

    def as_json(self) -> dict:
        return {"event_type": "finding", "code": self.rule.code, "severity": self.rule.severity,
                "capture": self.capture, "pcap_cnt": self.frame, "related": list(self.related),
                "mn_id": self.mn_id, "rfc": self.rule.rfc, "message": self.message}

    def __repr__(self):
        return "Finding(%s @%s:%d)" % (self.rule.code, self.capture, self.frame)


RULES: Dict[str, Rule] = {}


def rule(code: str, severity: str, rfc: str, summary: str, scope: str):
    """Register a check.  The function yields the text of each finding it raises
    (or ``(text, related_frames)``); yielding nothing means the rule passed."""
    assert severity in SEVERITIES and scope in SCOPES, (code, severity, scope)

    def register(check):
        if code in RULES:
            raise ValueError("rule %s registered twice" % code)
        RULES[code] = Rule(code, severity, rfc, summary, scope, check)
        check.rule = RULES[code]
        return check
    return register


def declare(code: str, severity: str, rfc: str, summary: str, scope: str, detail: str = "") -> Rule:
    """A finding raised by the pipeline itself rather than by a check function."""
    RULES[code] = Rule(code, severity, rfc, summary, scope, detail=detail)
    return RULES[code]


def rules_in(scope: str):
    return [r for r in RULES.values() if r.scope == scope and r.check is not None]
