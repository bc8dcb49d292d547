"""Rules that judge one message on its own."""

from __future__ import annotations

from .. import schema
from ..decode import format_address
from ..findings import declare, rule
from ..verify import INVALID, NO_KEY, UNSUPPORTED

MALFORMED = declare("MALFORMED", "error", "RFC 6275 §6.1, §6.2",
                    "a frame whose IPv6 chain or Mobility Header breaks its own length or format rules",
                    "message",
                    "Truncation, lengths that overrun (IPv6 extension headers, Header Len, option lengths), a "
                    "Payload Proto other than 59, a header too short for its type, an option whose length its "
                    "type forbids. The message names each problem with its octet offset in the frame. A broken "
                    "message is judged no further (no exchange, no replay state): its fields cannot be trusted "
                    "and a receiver discards it; the run goes on with the next frame.")
CAPTURE_TRUNCATED = declare("CAPTURE_TRUNCATED", "warning", "pcap/pcapng format",
                            "the capture file ends inside a frame; everything before it was read", "capture",
                            "Reported at the frame that is cut off (pcap record header or data, pcapng block); "
                            "the audit of every whole frame before it stands, and the run ends normally.")

PADDING = (schema.OPT_PAD1, schema.OPT_PADN)


def malformed_text(msg) -> str:
    return "; ".join("octet %d: %s" % (offset, text) for offset, text in sorted(msg.problems))


@rule("FRAGMENTED", "info", "RFC 8200 §4.5",
      "a Mobility Header in a fragmented packet; fragments are reported, not reassembled", "message")
def fragmented(msg, ctx):
    """The Fragment header says the next header is a Mobility Header. A non-first fragment holds only the
    tail of the message and cannot be parsed; a first fragment cannot be verified without the rest. Each
    fragment is reported; none is reassembled. Atomic fragments (offset 0, no more fragments) are whole and
    audited normally."""
    if msg.fragment:
        yield "%s fragment of a packet carrying a Mobility Header; not reassembled, not verified" % msg.fragment


@rule("CHECKSUM_BAD", "error", "RFC 6275 §6.1.1",
      "the Mobility Header checksum does not match (a receiver silently discards the message)", "message")
def checksum_bad(msg, ctx):
    """Recomputed over the IPv6 pseudo-header (source: the Home Address option's address when present, else
    the IPv6 source; destination: the type 2 routing header's address when present, else the IPv6
    destination; next header 135 even when the packet used the old number 62) and the Mobility Header with
    its checksum field zeroed. A receiver discards such a message silently, so a BU with a bad checksum is
    not expected to be answered."""
    if msg.checksum == INVALID:
        yield "%s checksum 0x%04x is wrong (pseudo-header source %s, destination %s)" % (
            msg.abbrev, msg.mh.checksum, format_address(msg.home_address_option or msg.src),
            format_address(msg.rt2_address or msg.dst))


@rule("AUTH_INVALID", "error", "RFC 4285 §5.1, §5.2",
      "an authenticator that does not match the one computed with the keyfile's key", "message")
def auth_invalid(msg, ctx):
    """MN-HA: First(96, HMAC-SHA1(MN-HA key, care-of address | home address | MH up to and including the
    SPI, checksum zeroed)), key chosen by SPI. MN-AAA with SPI 3: HMAC-SHA1(MN-AAA key, SHA1(same input)),
    key chosen by the MN's NAI, compared over the octets on the wire (an authenticator shorter than 12
    octets is invalid). Which addresses went in is shown by `--explain FRAME`."""
    for result in msg.auth_results:
        if result.result == INVALID:
            yield "%s authenticator (SPI %d) in %s is invalid: %s" % (
                result.subtype_name, result.spi, msg.abbrev, result.reason)


@rule("AUTH_NO_KEY", "info", "RFC 4285 §5.1.1",
      "an authenticator that cannot be checked: no SA for its SPI or NAI in the keyfile", "message")
def auth_no_key(msg, ctx):
    """The keyfile has no MN-HA SA with this SPI (SPIs 0-255 are reserved and never index one), or no MN-AAA
    key for the NAI the message carries, or the message carries no NAI to look the MN-AAA key up by. Add the
    SA to verify it."""
    for result in msg.auth_results:
        if result.result == NO_KEY:
            yield "%s authenticator (SPI %d) not verified: %s" % (result.subtype_name, result.spi, result.reason)


@rule("AUTH_UNSUPPORTED", "info", "RFC 4285 §5.2, §8",
      "an authentication option whose subtype or MN-AAA SPI names an algorithm RFC 4285 does not define", "message")
def auth_unsupported(msg, ctx):
    """Only MN-HA (subtype 1) and MN-AAA (subtype 2) are defined, and for MN-AAA only SPI 3 (HMAC_SHA1_SPI)
    names an algorithm; anything else cannot be verified."""
    for result in msg.auth_results:
        if result.result == UNSUPPORTED:
            yield "%s (SPI %d) not verified: %s" % (result.subtype_name, result.spi, result.reason)


@rule("OPTION_MISALIGNED", "info", "RFC 6275 §6.2",
      "a mobility option placed against its alignment requirement (xn+y)", "message")
def option_misaligned(msg, ctx):
    """RFC 6275 gives each option an alignment (the Authentication option 4n+1, Replay Protection 8n+2,
    Alternate Care-of Address 8n+6, ...), counted from the start of the Mobility Header. Senders are to pad
    with Pad1/PadN to meet it."""
    for option in msg.mh.options if msg.mh else ():
        if option.misaligned:
            x, y = option.spec.align
            yield "%s at octet %d of the Mobility Header breaks its alignment %dn+%d" % (
                option.spec.name, option.offset, x, y)


@rule("AUTH_ORDER", "error", "RFC 4285 §5, §5.1, §5.2",
      "authentication options out of order: MN-HA not last when alone, MN-AAA not last, MN-HA after MN-AAA, "
      "or two options of one subtype", "message")
def auth_order(msg, ctx):
    """Only one option of each subtype may appear; when both are present MN-HA comes first (else the HA MUST
    discard the message); MN-AAA must be the last option; a lone MN-HA must be the last option. Pad1/PadN
    after the last authentication option, which pads the header to a multiple of 8 octets, does not count."""
    if msg.mh is None:
        return
    options = msg.mh.options
    auths = [(i, o) for i, o in enumerate(options) if o.code == schema.OPT_AUTH and o.values]
    if not auths:
        return
    subtypes = [o.values["subtype"] for _i, o in auths]
    for subtype in set(subtypes):
        if subtypes.count(subtype) > 1:
            yield "%d %s authentication options; only one of a subtype is allowed (§5)" % (
                subtypes.count(subtype), schema.AUTH_SUBTYPES.get(subtype, "subtype %d" % subtype))
    if schema.AUTH_SUBTYPE_MN_HA in subtypes and schema.AUTH_SUBTYPE_MN_AAA in subtypes:
        if subtypes.index(schema.AUTH_SUBTYPE_MN_HA) > subtypes.index(schema.AUTH_SUBTYPE_MN_AAA):
            yield "MN-HA follows MN-AAA; MN-HA must come first, else the HA MUST discard the message (§5)"
    last_index, last = auths[-1]
    trailing = [o for o in options[last_index + 1:] if o.code not in PADDING]
    if trailing:
        yield "%s option at octet %d is followed by %s; it must be the last option (%s)" % (
            schema.AUTH_SUBTYPES.get(last.values["subtype"], "authentication"), last.offset,
            ", ".join(o.name for o in trailing),
            "§5.2" if last.values["subtype"] == schema.AUTH_SUBTYPE_MN_AAA else "§5.1")


@rule("AUTH_AAA_IN_BA", "error", "RFC 4285 §5.2",
      "a BA carrying an MN-AAA authentication option (BAs are authenticated with MN-HA only)", "message")
def auth_aaa_in_ba(msg, ctx):
    """MN-AAA authenticates the MN to the AAA server; the BA that answers is authenticated with MN-HA and
    MUST NOT carry MN-AAA."""
    if msg.mh is not None and msg.mh.mh_type == schema.MH_BA:
        for option in msg.mh.options_of(schema.OPT_AUTH):
            if option.values["subtype"] == schema.AUTH_SUBTYPE_MN_AAA:
                yield "BA carries an MN-AAA option at octet %d; the response MUST NOT include it" % option.offset


@rule("MNID_MISSING", "warning", "RFC 4285 §4",
      "a BU without the MN-NAI mobility option the MN MUST use to identify itself", "message")
def mnid_missing(msg, ctx):
    """The MN MUST identify itself with the MN-NAI mobility option (RFC 4283, subtype 1) when authenticating
    with the HA; without it the MN-AAA key cannot be looked up either."""
    if msg.mh is not None and msg.mh.mh_type == schema.MH_BU and msg.mh.values and msg.mn_id is None:
        yield "BU carries no Mobile Node Identifier option with an NAI (option 8, subtype 1)"


@rule("AUTH_MISSING", "error", "RFC 4285 §5",
      "a BU or BA without an authentication option although the keyfile holds an SA for the mobile node",
      "message")
def auth_missing(msg, ctx):
    """A receiver configured for the authentication option, or holding an SA for the peer, should silently
    discard a BU or BA that lacks it. The SA is found by the message's NAI or home address (MN-HA), or an
    MN-AAA entry for its NAI."""
    mh = msg.mh
    if mh is None or not mh.values or mh.mh_type not in (schema.MH_BU, schema.MH_BA):
        return
    if mh.options_of(schema.OPT_AUTH):
        return
    sa = ctx.sa_for(msg.mn_id, msg.home_address)
    if sa is not None:
        who = ("NAI %s" % sa.nai) if sa.nai else ("home address %s" % format_address(sa.home_address))
        yield "%s has no authentication option, yet the keyfile holds an %s SA for %s; the receiver should " \
              "silently discard it" % (mh.abbrev, "MN-HA" if sa.kind == "mn_ha" else "MN-AAA", who)
