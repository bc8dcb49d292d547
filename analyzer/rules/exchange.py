"""Rules that judge the home agent's answer to a BU (RFC 4285 §5.1.1, §5.2, §5.3, §6)."""

from __future__ import annotations

from .. import schema
from ..findings import rule
from .context import BUAssessment, NodeState, RuleContext

ACCEPTED_BELOW = 128


def status_text(status: int) -> str:
    return "%d (%s)" % (status, schema.BA_STATUS.get(status, "unassigned"))


def ba_timestamp(msg):
    option = msg.mh.option(schema.OPT_REPLAY)
    return option.values["timestamp"] if option else None


def ba_has_mn_ha(msg) -> bool:
    return any(o.values["subtype"] == schema.AUTH_SUBTYPE_MN_HA for o in msg.mh.options_of(schema.OPT_AUTH))


@rule("HA_ACCEPTED_INVALID", "critical", "RFC 4285 §5.1.1, §5.3, §6",
      "the HA accepted (status < 128) a BU it had to refuse: bad authenticator, stale, replayed or drifted "
      "timestamp, missing required option, or no authentication although an SA exists", "exchange")
def ha_accepted_invalid(msg, bu: BUAssessment, node: NodeState, ctx: RuleContext):
    """An RFC-conformant HA refuses a BU whose authenticator is invalid (146), whose timestamp is stale,
    replayed or outside the window (144), that lacks a required replay option (145), or that carries no
    authentication although an SA exists (silently discarded). Accepting one is how a forged or replayed
    registration succeeds."""
    status = msg.mh.values["status"]
    if status < ACCEPTED_BELOW and bu.defects():
        yield ("HA accepted the BU of frame %d with status %s although %s"
               % (bu.frame, status_text(status), "; ".join(bu.defects())), (bu.frame,))


@rule("HA_WRONG_STATUS", "error", "RFC 4285 §5.1.1, §5.3, §6",
      "a rejection, but not with the status code RFC 4285 prescribes (146 auth failure, 144 bad timestamp, "
      "145 missing replay option)", "exchange")
def ha_wrong_status(msg, bu: BUAssessment, node: NodeState, ctx: RuleContext):
    """Prescribed codes, most fundamental first: 146 for an authentication failure, 145 for a missing
    required replay option, 144 for a timestamp not accepted. Also wrong: 146 to a BU whose authenticators
    all verify, 145 to a BU that carries the option, 144 to a BU without a timestamp."""
    status = msg.mh.values["status"]
    if status < ACCEPTED_BELOW:
        return
    prescribed = bu.prescribed_status()
    if prescribed is not None and status != prescribed:
        yield ("HA answered the BU of frame %d with %s; RFC 4285 prescribes %s because %s"
               % (bu.frame, status_text(status), status_text(prescribed), bu.defects()[0]), (bu.frame,))
    elif prescribed is None:
        if status == schema.STATUS_AUTH_FAIL and bu.auth_valid:
            yield ("HA answered 146 (MIPV6-AUTH-FAIL) to the BU of frame %d whose authenticators all verify"
                   % bu.frame, (bu.frame,))
        elif status == schema.STATUS_MESG_ID_REQD and bu.timestamp is not None:
            yield ("HA answered 145 (MIPV6-MESG-ID-REQD) to the BU of frame %d, which carries the replay option"
                   % bu.frame, (bu.frame,))
        elif status == schema.STATUS_ID_MISMATCH and bu.timestamp is None:
            yield ("HA answered 144 (MIPV6-ID-MISMATCH) to the BU of frame %d, which carries no timestamp"
                   % bu.frame, (bu.frame,))


@rule("BA_TIMESTAMP_MISMATCH", "error", "RFC 4285 §6",
      "the BA's echoed timestamp differs from the BU's (all 64 bits; on 144 only the low 32 bits)", "exchange")
def ba_timestamp_mismatch(msg, bu: BUAssessment, node: NodeState, ctx: RuleContext):
    """On acceptance the HA copies all 64 bits of the BU's timestamp; on 144 it copies only the low 32 bits
    and supplies its own seconds in the high 32. An MN silently discards a BA whose echo does not match."""
    echoed = ba_timestamp(msg)
    if bu.timestamp is None or echoed is None:
        return
    if msg.mh.values["status"] == schema.STATUS_ID_MISMATCH:
        if echoed & 0xFFFFFFFF != bu.timestamp & 0xFFFFFFFF:
            yield ("144 answer copies low 32 bits 0x%08x; the BU of frame %d sent 0x%08x"
                   % (echoed & 0xFFFFFFFF, bu.frame, bu.timestamp & 0xFFFFFFFF), (bu.frame,))
    elif echoed != bu.timestamp:
        yield ("BA echoes timestamp 0x%016x; the BU of frame %d sent 0x%016x (the MN silently discards this BA)"
               % (echoed, bu.frame, bu.timestamp), (bu.frame,))


@rule("BA_MESG_ID_MISSING", "error", "RFC 4285 §6",
      "the BU carried a replay-protection option and the BA does not", "exchange")
def ba_mesg_id_missing(msg, bu: BUAssessment, node: NodeState, ctx: RuleContext):
    """When the HA receives the replay protection option in a BU it MUST include it in the BA."""
    if bu.timestamp is not None and ba_timestamp(msg) is None:
        yield ("BU of frame %d carried a replay-protection option; the BA MUST include one" % bu.frame,
               (bu.frame,))


@rule("BA_AUTH_MISSING", "error", "RFC 4285 §5.1.1, §5.2",
      "the BA lacks the MN-HA option although the BU carried MN-HA and the HA holds the SA, "
      "or the BU was an accepted MN-AAA registration", "exchange")
def ba_auth_missing(msg, bu: BUAssessment, node: NodeState, ctx: RuleContext):
    """The HA MUST include MN-HA in the BA when the BU carried MN-HA and the HA holds the SA (known from the
    keyfile); the answer to an MN-AAA registration MUST include MN-HA."""
    if ba_has_mn_ha(msg):
        return
    if bu.has_mn_ha and bu.sa is not None and bu.sa.kind == "mn_ha":
        yield ("BU of frame %d carried MN-HA and the HA holds SA %d; its BA MUST carry MN-HA"
               % (bu.frame, bu.sa.spi), (bu.frame,))
    elif bu.has_mn_aaa and msg.mh.values["status"] < ACCEPTED_BELOW:
        yield ("BU of frame %d registered with MN-AAA; the response MUST include MN-HA" % bu.frame, (bu.frame,))


@rule("BA_UNMATCHED", "warning", "RFC 6275 §6.1.8",
      "a BA for which the capture holds no BU (same MN, same sequence number)", "ba-alone")
def ba_unmatched(msg, node: NodeState, ctx: RuleContext):
    """Pairing: same mobile node and sequence number; failing that, the echoed timestamp's low 32 bits; a
    135 answer (which carries the last accepted sequence number) pairs with the node's newest waiting BU.
    Usually the BU came before the capture started."""
    yield "no BU with sequence %d from this mobile node in the capture" % msg.mh.values["seq"]


@rule("BU_UNANSWERED", "warning", "RFC 6275 §11.7.1",
      "a BU with the A flag set that got no BA in the capture (unless a conformant HA had to drop it silently: "
      "bad checksum, no authentication although an SA exists, MN-HA after MN-AAA)", "unanswered")
def bu_unanswered(bu: BUAssessment, node: NodeState, ctx: RuleContext):
    """Not raised when a conformant HA had to drop the BU silently (bad checksum, no authentication although
    an SA exists, MN-HA after MN-AAA): that exchange's verdict is dropped-as-required."""
    if bu.ack_requested and not bu.discard_expected:
        yield "BU (sequence %d, A flag set) got no BA in the capture; judged on its own" % bu.seq
