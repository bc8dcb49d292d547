"""Rules that judge a BU against the mobile node's history (RFC 4285 §5.3, §6)."""

from __future__ import annotations

from .. import schema
from ..findings import rule
from ..verify import INVALID, VALID
from .context import BUAssessment, NodeState, RuleContext, ntp_to_unix, sequence_newer

A_FLAG = 0x8000


def assess_bu(msg, node: NodeState, ctx: RuleContext) -> BUAssessment:
    """Everything the BU and exchange rules need to know about one BU."""
    mh = msg.mh
    values = mh.values
    auth_options = mh.options_of(schema.OPT_AUTH)
    subtypes = [o.values["subtype"] for o in auth_options]
    mn_ha_spi = None
    for option in auth_options:
        if option.values["subtype"] == schema.AUTH_SUBTYPE_MN_HA:
            mn_ha_spi = option.values["spi"]
            break
    sa = ctx.sa_for(msg.mn_id, msg.home_address, mn_ha_spi)
    policy = ctx.policy_for(sa)
    replay_option = mh.option(schema.OPT_REPLAY)
    results = [r.result for r in msg.auth_results]
    bu = BUAssessment(
        msg.frame, msg.capture, msg.ts_ns, values.get("seq"), bool(values.get("flags", 0) & A_FLAG), policy, sa,
        replay_option.values["timestamp"] if replay_option else None,
        has_auth=bool(auth_options),
        has_mn_ha=schema.AUTH_SUBTYPE_MN_HA in subtypes,
        has_mn_aaa=schema.AUTH_SUBTYPE_MN_AAA in subtypes,
        auth_failed=INVALID in results,
        auth_valid=bool(results) and results.count(VALID) == len(results),
        authenticators=tuple([bytes(o.values["authenticator"]) for o in auth_options]),
    )
    bu.sa_without_auth = not auth_options and sa is not None
    bu.checksum_bad = msg.checksum == INVALID
    bu.aaa_before_ha = (bu.has_mn_ha and bu.has_mn_aaa and subtypes.index(schema.AUTH_SUBTYPE_MN_HA)
                        > subtypes.index(schema.AUTH_SUBTYPE_MN_AAA))
    bu.mesg_id_required_missing = policy.require_mesg_id and replay_option is None
    for authenticator in bu.authenticators:
        seen_in = node.seen.get(authenticator)
        if seen_in is not None:
            bu.duplicate_of = seen_in
            break
    if policy.replay == "timestamp":
        if bu.timestamp is not None:
            bu.skew = ntp_to_unix(bu.timestamp) - ctx.clock(msg.ts_ns)
            bu.drifted = abs(bu.skew) > policy.close_enough
            if node.accepted_timestamp is not None and bu.timestamp <= node.accepted_timestamp:
                bu.stale_against = node.accepted_timestamp_frame
    elif bu.seq is not None and node.accepted_seq is not None and not sequence_newer(bu.seq, node.accepted_seq):
        bu.stale_against = node.accepted_seq_frame
    return bu


@rule("REPLAY_DUPLICATE", "error", "RFC 4285 §6, Appendix A",
      "a BU whose authenticator was already seen from this mobile node: a replay, or a packet captured twice", "bu")
def replay_duplicate(msg, bu: BUAssessment, node: NodeState, ctx: RuleContext):
    """The window of authenticators already sent by each mobile node is bounded (256 per node), so memory
    stays set by the number of nodes; an older replay still fails REPLAY_STALE. The finding replaces
    REPLAY_STALE on the same frame."""
    if bu.duplicate_of is not None:
        yield ("BU repeats the authenticator of frame %d: a replayed BU (or the same packet captured twice)"
               % bu.duplicate_of, (bu.duplicate_of,))


@rule("REPLAY_STALE", "error", "RFC 4285 §6; RFC 6275 §9.5.1",
      "a BU whose timestamp (or, in sequence mode, sequence number) is not newer than one the HA already accepted",
      "bu")
def replay_stale(msg, bu: BUAssessment, node: NodeState, ctx: RuleContext):
    """Timestamp mode: the 64-bit NTP timestamp must be greater than every timestamp the HA previously
    accepted for the node (answered with status below 128; a rejected BU never moves the bar). Sequence
    mode: the sequence number must be newer than the last accepted one, i.e. (new - old) mod 65536 in
    1..32767."""
    if bu.stale_against is None or bu.duplicate_of is not None:
        return
    if bu.policy.replay == "timestamp":
        yield ("timestamp %s is not greater than %s, accepted in frame %d"
               % (format_ntp(bu.timestamp), format_ntp(node.accepted_timestamp), bu.stale_against),
               (bu.stale_against,))
    else:
        yield ("sequence %d is not newer than %d, accepted in frame %d (RFC 6275 window)"
               % (bu.seq, node.accepted_seq, bu.stale_against), (bu.stale_against,))


@rule("CLOCK_DRIFT", "warning", "RFC 4285 §6",
      "a BU timestamp further than close_enough from the clock (capture time unless shifted)", "bu")
def clock_drift(msg, bu: BUAssessment, node: NodeState, ctx: RuleContext):
    """Timestamp mode only. The clock is the capture timestamp, shifted by `--clock-offset`; the skew is
    reported in seconds. `close_enough` comes from the SA, else the policy, else 7 s (RFC 4285 says it
    SHOULD be more than 3)."""
    if bu.drifted:
        yield ("timestamp is %+.3f s from the capture clock%s; close_enough is %g s"
               % (bu.skew, offset_note(ctx), bu.policy.close_enough))


@rule("MESG_ID_MISSING", "error", "RFC 4285 §6",
      "a BU without the replay-protection option although the HA's policy requires it", "bu")
def mesg_id_missing(msg, bu: BUAssessment, node: NodeState, ctx: RuleContext):
    """When the HA's policy (`require_mesg_id`) mandates the Mobility Message Replay Protection option, a BU
    without it is refused with 145 (MIPV6-MESG-ID-REQD)."""
    if bu.mesg_id_required_missing:
        yield "BU carries no Mobility Message Replay Protection option (10); policy requires it (expect status 145)"


@rule("MN_IGNORED_AUTH_FAIL", "warning", "RFC 4285 §5.3",
      "a mobile node that keeps sending BUs to a home agent after it answered MIPV6-AUTH-FAIL (146)", "bu")
def mn_ignored_auth_fail(msg, bu: BUAssessment, node: NodeState, ctx: RuleContext):
    """After a BA with 146 (MIPV6-AUTH-FAIL) the MN SHOULD stop sending BUs to that HA. Judged per home
    agent and per address the 146 was sent to, so a 146 answering a forger's BU does not count against the
    real MN."""
    refused = node.auth_fail_from.get((msg.dst, msg.src))
    if refused is not None:
        yield ("BU sent to the same HA from the address its 146 (MIPV6-AUTH-FAIL) went to in frame %d; "
               "the MN SHOULD stop" % refused,
               (refused,))


@rule("MN_TIMESTAMP_NOT_ADJUSTED", "error", "RFC 4285 §6",
      "after a MIPV6-ID-MISMATCH (144) the mobile node's next BU is still outside the window", "bu")
def mn_timestamp_not_adjusted(msg, bu: BUAssessment, node: NodeState, ctx: RuleContext):
    """A 144 (MIPV6-ID-MISMATCH) carries the HA's own seconds in the high 32 bits of the echoed timestamp;
    the MN MUST adjust and send its next BU with an acceptable timestamp. The HA's clock is estimated from
    that 144 (only when its low 32 bits match the BU's), and the next BU is judged against it."""
    if node.mismatch_frame is None or bu.timestamp is None:
        return
    ha_clock = ctx.clock(msg.ts_ns) + (node.mismatch_ha_offset or 0.0)
    off_by = ntp_to_unix(bu.timestamp) - ha_clock
    if abs(off_by) > bu.policy.close_enough:
        yield ("after the 144 in frame %d the MN's timestamp is still %+.3f s from the HA's clock "
               "(as revealed by that 144); close_enough is %g s" % (node.mismatch_frame, off_by,
                                                                    bu.policy.close_enough),
               (node.mismatch_frame,))


def format_ntp(value) -> str:
    if value is None:
        return "none"
    return "%d.%09d (0x%016x)" % ((value >> 32), (value & 0xFFFFFFFF) * 1_000_000_000 >> 32, value)


def offset_note(ctx: RuleContext) -> str:
    return " shifted by %+g s" % ctx.clock_offset if ctx.clock_offset else ""
