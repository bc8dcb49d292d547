--------------------------------------------------------------------------------
-- mip6_audit.lua: Wireshark dissector for Mobile IPv6 signalling with RFC 4285
-- authentication (MN-HA / MN-AAA authenticators, NTP replay protection).
--
-- GENERATED FILE - do not edit.  Rendered by `mip6-audit dissector` from the
-- option schema in analyzer/schema.py through the jinja2 templates in
-- dissector_templates/.  Change those and regenerate.
--
-- Protocol "mip6audit" with fields mip6audit.<message>.<field> and
-- mip6audit.<option>.<field>, so it never clashes with the built-in "mipv6"
-- (mip6.*).  It takes IPv6 next header 135 (and the old 62) and then
-- hands the packet on to the built-in dissector too (preference
-- mip6audit.builtin_tree), so existing mip6.* filters keep working.
--
--   tshark -X lua_script:mip6_audit.lua -o mip6audit.keyfile:keys.toml -r capture.pcap
--
-- Needs Wireshark 4.0 or later (Lua 5.2 up to 4.2, Lua 5.4 from 4.4); no
-- external Lua modules.  See docs/wireshark.md.
--------------------------------------------------------------------------------

local mip6audit = Proto("mip6audit", "Mobile IPv6 with RFC 4285 authentication (mip6-audit)")

local byte, char, floor, format = string.byte, string.char, math.floor, string.format

-- Numbers from the schema ---------------------------------------------------------
local MH_FIXED_SIZE = 6
local NO_NEXT_HEADER = 59
local MH_NUMBERS = { [135] = true, [62] = true }
local MH_BU, MH_BA = 5, 6
local OPT_PAD1, OPT_PADN = 0, 1
local OPT_ALTERNATE_COA, OPT_MN_ID, OPT_AUTH, OPT_REPLAY = 3, 8, 9, 10
local MNID_SUBTYPE_NAI = 1
local AUTH_SUBTYPE_MN_HA, AUTH_SUBTYPE_MN_AAA = 1, 2
local AUTH_SUBTYPES = { [1] = "MN-HA", [2] = "MN-AAA" }
local HMAC_SHA1_SPI, RESERVED_SPI_LIMIT = 3, 256
local MN_HA_AUTH_LEN, MIN_MN_AAA_AUTH_LEN = 12, 12
local REJECTIONS = {
    [144] = "timestamp not accepted; the BA carries the HA's own clock in the high 32 bits (RFC 4285 6)",
    [145] = "the HA requires the Mobility Message Replay Protection option (RFC 4285 6)",
    [146] = "authentication failed at the HA; the MN SHOULD stop sending BUs to it (RFC 4285 5.3)",
}
local STATUS_ID_MISMATCH, STATUS_REJECTED_FROM = 144, 128
local BA_STATUS_NAMES = { [0] = "Binding Update accepted", [1] = "Accepted but prefix discovery necessary", [128] = "Reason unspecified", [129] = "Administratively prohibited", [130] = "Insufficient resources", [131] = "Home registration not supported", [132] = "Not home subnet", [133] = "Not home agent for this mobile node", [134] = "Duplicate Address Detection failed", [135] = "Sequence number out of window", [136] = "Expired home nonce index", [137] = "Expired care-of nonce index", [138] = "Expired nonces", [139] = "Registration type change disallowed", [144] = "MIPV6-ID-MISMATCH", [145] = "MIPV6-MESG-ID-REQD", [146] = "MIPV6-AUTH-FAIL" }
local NTP_UNIX_OFFSET = 2208988800
local CHECKSUM_OFFSET = 4
-- IPv6 extension headers walked to find the addresses (as analyzer/decode.py does).
local HOP_BY_HOP, ROUTING, FRAGMENT, AUTH_HEADER, DEST_OPTS = 0, 43, 44, 51, 60
local HOME_ADDRESS_OPTION = 201

-- Fields ----------------------------------------------------------------------------
local hf = {
    -- Mobility Header (RFC 6275 6.1.1)
    mh_payload_proto = ProtoField.uint8("mip6audit.mh.payload_proto", "Payload Proto", base.DEC, nil),
    mh_header_len = ProtoField.uint8("mip6audit.mh.header_len", "Header Len (8-octet units beyond the first 8)", base.DEC, nil),
    mh_mh_type = ProtoField.uint8("mip6audit.mh.mh_type", "MH Type", base.DEC, { [0] = "Binding Refresh Request", [1] = "Home Test Init", [2] = "Care-of Test Init", [3] = "Home Test", [4] = "Care-of Test", [5] = "Binding Update", [6] = "Binding Acknowledgement", [7] = "Binding Error" }),
    mh_reserved = ProtoField.uint8("mip6audit.mh.reserved", "Reserved", base.HEX, nil),
    mh_checksum = ProtoField.uint16("mip6audit.mh.checksum", "Checksum", base.HEX, nil),
    mh_checksum_status = ProtoField.uint8("mip6audit.mh.checksum.status", "Checksum Status", base.DEC, { [0] = "Bad", [1] = "Good", [2] = "Unverified" }),
    mh_checksum_calculated = ProtoField.uint16("mip6audit.mh.checksum.calculated", "Calculated Checksum", base.HEX),
    mh_data = ProtoField.bytes("mip6audit.mh.data", "Message Data"),
    option = ProtoField.none("mip6audit.option", "Mobility Option"),
    option_type = ProtoField.uint8("mip6audit.option.type", "Option Type", base.DEC, { [0] = "Pad1", [1] = "PadN", [2] = "Binding Refresh Advice", [3] = "Alternate Care-of Address", [4] = "Nonce Indices", [5] = "Binding Authorization Data", [8] = "Mobile Node Identifier", [9] = "Mobility Message Authentication", [10] = "Mobility Message Replay Protection" }),
    option_length = ProtoField.uint8("mip6audit.option.length", "Option Length", base.DEC),
    option_data = ProtoField.bytes("mip6audit.option.data", "Option Data"),

    -- Binding Refresh Request (RFC 6275 §6.1.2)
    brr = ProtoField.none("mip6audit.brr", "Binding Refresh Request"),
    brr_reserved2 = ProtoField.uint16("mip6audit.brr.reserved2", "Reserved", base.HEX, nil),

    -- Home Test Init (RFC 6275 §6.1.3)
    hoti = ProtoField.none("mip6audit.hoti", "Home Test Init"),
    hoti_reserved2 = ProtoField.uint16("mip6audit.hoti.reserved2", "Reserved", base.HEX, nil),
    hoti_home_init_cookie = ProtoField.uint64("mip6audit.hoti.home_init_cookie", "Home Init Cookie", base.HEX, nil),

    -- Care-of Test Init (RFC 6275 §6.1.4)
    coti = ProtoField.none("mip6audit.coti", "Care-of Test Init"),
    coti_reserved2 = ProtoField.uint16("mip6audit.coti.reserved2", "Reserved", base.HEX, nil),
    coti_care_of_init_cookie = ProtoField.uint64("mip6audit.coti.care_of_init_cookie", "Care-of Init Cookie", base.HEX, nil),

    -- Home Test (RFC 6275 §6.1.5)
    hot = ProtoField.none("mip6audit.hot", "Home Test"),
    hot_home_nonce_index = ProtoField.uint16("mip6audit.hot.home_nonce_index", "Home Nonce Index", base.DEC, nil),
    hot_home_init_cookie = ProtoField.uint64("mip6audit.hot.home_init_cookie", "Home Init Cookie", base.HEX, nil),
    hot_home_keygen_token = ProtoField.uint64("mip6audit.hot.home_keygen_token", "Home Keygen Token", base.HEX, nil),

    -- Care-of Test (RFC 6275 §6.1.6)
    cot = ProtoField.none("mip6audit.cot", "Care-of Test"),
    cot_care_of_nonce_index = ProtoField.uint16("mip6audit.cot.care_of_nonce_index", "Care-of Nonce Index", base.DEC, nil),
    cot_care_of_init_cookie = ProtoField.uint64("mip6audit.cot.care_of_init_cookie", "Care-of Init Cookie", base.HEX, nil),
    cot_care_of_keygen_token = ProtoField.uint64("mip6audit.cot.care_of_keygen_token", "Care-of Keygen Token", base.HEX, nil),

    -- Binding Update (RFC 6275 §6.1.7)
    bu = ProtoField.none("mip6audit.bu", "Binding Update"),
    bu_seq = ProtoField.uint16("mip6audit.bu.seq", "Sequence Number", base.DEC, nil),
    bu_flags = ProtoField.uint16("mip6audit.bu.flags", "Flags", base.HEX, nil),
    bu_flags_a = ProtoField.bool("mip6audit.bu.flags.a", "Acknowledge (A)", 16, nil, 0x8000),
    bu_flags_h = ProtoField.bool("mip6audit.bu.flags.h", "Home Registration (H)", 16, nil, 0x4000),
    bu_flags_l = ProtoField.bool("mip6audit.bu.flags.l", "Link-Local Address Compatibility (L)", 16, nil, 0x2000),
    bu_flags_k = ProtoField.bool("mip6audit.bu.flags.k", "Key Management Mobility Capability (K)", 16, nil, 0x1000),
    bu_flags_m = ProtoField.bool("mip6audit.bu.flags.m", "MAP Registration (M)", 16, nil, 0x800),
    bu_flags_r = ProtoField.bool("mip6audit.bu.flags.r", "Mobile Router (R)", 16, nil, 0x400),
    bu_flags_p = ProtoField.bool("mip6audit.bu.flags.p", "Proxy Registration (P)", 16, nil, 0x200),
    bu_flags_f = ProtoField.bool("mip6audit.bu.flags.f", "Forcing UDP Encapsulation (F)", 16, nil, 0x100),
    bu_flags_t = ProtoField.bool("mip6audit.bu.flags.t", "TLV-header Format (T)", 16, nil, 0x80),
    bu_flags_b = ProtoField.bool("mip6audit.bu.flags.b", "Bulk Binding Update (B)", 16, nil, 0x40),
    bu_lifetime = ProtoField.uint16("mip6audit.bu.lifetime", "Lifetime (4 s units)", base.DEC, nil),

    -- Binding Acknowledgement (RFC 6275 §6.1.8)
    ba = ProtoField.none("mip6audit.ba", "Binding Acknowledgement"),
    ba_status = ProtoField.uint8("mip6audit.ba.status", "Status", base.DEC, { [0] = "Binding Update accepted", [1] = "Accepted but prefix discovery necessary", [128] = "Reason unspecified", [129] = "Administratively prohibited", [130] = "Insufficient resources", [131] = "Home registration not supported", [132] = "Not home subnet", [133] = "Not home agent for this mobile node", [134] = "Duplicate Address Detection failed", [135] = "Sequence number out of window", [136] = "Expired home nonce index", [137] = "Expired care-of nonce index", [138] = "Expired nonces", [139] = "Registration type change disallowed", [144] = "MIPV6-ID-MISMATCH", [145] = "MIPV6-MESG-ID-REQD", [146] = "MIPV6-AUTH-FAIL" }),
    ba_flags = ProtoField.uint8("mip6audit.ba.flags", "Flags", base.HEX, nil),
    ba_flags_k = ProtoField.bool("mip6audit.ba.flags.k", "Key Management Mobility Capability (K)", 8, nil, 0x80),
    ba_flags_r = ProtoField.bool("mip6audit.ba.flags.r", "Mobile Router (R)", 8, nil, 0x40),
    ba_flags_p = ProtoField.bool("mip6audit.ba.flags.p", "Proxy Registration (P)", 8, nil, 0x20),
    ba_flags_t = ProtoField.bool("mip6audit.ba.flags.t", "TLV-header Format (T)", 8, nil, 0x10),
    ba_flags_b = ProtoField.bool("mip6audit.ba.flags.b", "Bulk Binding Update (B)", 8, nil, 0x8),
    ba_seq = ProtoField.uint16("mip6audit.ba.seq", "Sequence Number", base.DEC, nil),
    ba_lifetime = ProtoField.uint16("mip6audit.ba.lifetime", "Lifetime (4 s units)", base.DEC, nil),

    -- Binding Error (RFC 6275 §6.1.9)
    be = ProtoField.none("mip6audit.be", "Binding Error"),
    be_status = ProtoField.uint8("mip6audit.be.status", "Status", base.DEC, { [1] = "Unknown binding for Home Address destination option", [2] = "Unrecognized MH Type value" }),
    be_reserved2 = ProtoField.uint8("mip6audit.be.reserved2", "Reserved", base.HEX, nil),
    be_home_address = ProtoField.ipv6("mip6audit.be.home_address", "Home Address"),

    -- Pad1 option (RFC 6275 §6.2.2)
    pad1 = ProtoField.none("mip6audit.pad1", "Pad1"),

    -- PadN option (RFC 6275 §6.2.3)
    padn = ProtoField.none("mip6audit.padn", "PadN"),
    padn_padding = ProtoField.bytes("mip6audit.padn.padding", "Padding"),

    -- Binding Refresh Advice option (RFC 6275 §6.2.4)
    bra = ProtoField.none("mip6audit.bra", "Binding Refresh Advice"),
    bra_refresh_interval = ProtoField.uint16("mip6audit.bra.refresh_interval", "Refresh Interval (4 s units)", base.DEC, nil),

    -- Alternate Care-of Address option (RFC 6275 §6.2.5)
    altcoa = ProtoField.none("mip6audit.altcoa", "Alternate Care-of Address"),
    altcoa_address = ProtoField.ipv6("mip6audit.altcoa.address", "Alternate Care-of Address"),

    -- Nonce Indices option (RFC 6275 §6.2.6)
    nonce = ProtoField.none("mip6audit.nonce", "Nonce Indices"),
    nonce_home_nonce_index = ProtoField.uint16("mip6audit.nonce.home_nonce_index", "Home Nonce Index", base.DEC, nil),
    nonce_care_of_nonce_index = ProtoField.uint16("mip6audit.nonce.care_of_nonce_index", "Care-of Nonce Index", base.DEC, nil),

    -- Binding Authorization Data option (RFC 6275 §6.2.7)
    bad = ProtoField.none("mip6audit.bad", "Binding Authorization Data"),
    bad_authenticator = ProtoField.bytes("mip6audit.bad.authenticator", "Authenticator"),

    -- Mobile Node Identifier option (RFC 4283 §3)
    mnid = ProtoField.none("mip6audit.mnid", "Mobile Node Identifier"),
    mnid_subtype = ProtoField.uint8("mip6audit.mnid.subtype", "Subtype", base.DEC, { [1] = "NAI" }),
    mnid_identifier = ProtoField.string("mip6audit.mnid.identifier", "Identifier"),

    -- Mobility Message Authentication option (RFC 4285 §5)
    auth = ProtoField.none("mip6audit.auth", "Mobility Message Authentication"),
    auth_subtype = ProtoField.uint8("mip6audit.auth.subtype", "Subtype", base.DEC, { [1] = "MN-HA", [2] = "MN-AAA" }),
    auth_spi = ProtoField.uint32("mip6audit.auth.spi", "Mobility SPI", base.DEC, { [0] = "Reserved (not to be assigned)", [3] = "HMAC_SHA1_SPI", [5] = "Reserved for 3GPP2" }),
    auth_authenticator = ProtoField.bytes("mip6audit.auth.authenticator", "Authentication Data"),

    -- Mobility Message Replay Protection option (RFC 4285 §6)
    mesgid = ProtoField.none("mip6audit.mesgid", "Mobility Message Replay Protection"),
    mesgid_timestamp = ProtoField.absolute_time("mip6audit.mesgid.timestamp", "Timestamp", base.UTC),

    -- Verdicts
    auth_result = ProtoField.string("mip6audit.auth.result", "Verification"),
    auth_valid = ProtoField.bool("mip6audit.auth.valid", "Authenticator Valid"),
    auth_reason = ProtoField.string("mip6audit.auth.reason", "Reason"),
    mesgid_offset = ProtoField.double("mip6audit.mesgid.offset", "Timestamp minus Capture Time (s)"),
}
mip6audit.fields = hf

-- Expert infos ----------------------------------------------------------------------
local ef = {
    malformed = ProtoExpert.new("mip6audit.malformed", "Malformed Mobility Header", expert.group.MALFORMED, expert.severity.ERROR),
    misaligned = ProtoExpert.new("mip6audit.option.misaligned", "Mobility option breaks its alignment rule", expert.group.PROTOCOL, expert.severity.WARN),
    checksum_bad = ProtoExpert.new("mip6audit.checksum.bad", "Bad Mobility Header checksum", expert.group.CHECKSUM, expert.severity.ERROR),
    checksum_unverified = ProtoExpert.new("mip6audit.checksum.unverified", "Mobility Header checksum not verified", expert.group.CHECKSUM, expert.severity.NOTE),
    auth_invalid = ProtoExpert.new("mip6audit.auth.invalid", "Authenticator does not verify", expert.group.SECURITY, expert.severity.ERROR),
    auth_no_key = ProtoExpert.new("mip6audit.auth.no_key", "No key to verify the authenticator", expert.group.SECURITY, expert.severity.NOTE),
    auth_unsupported = ProtoExpert.new("mip6audit.auth.unsupported", "Authenticator of an unsupported kind", expert.group.SECURITY, expert.severity.WARN),
    auth_order = ProtoExpert.new("mip6audit.auth.order", "Authentication options out of order", expert.group.PROTOCOL, expert.severity.ERROR),
    auth_not_last = ProtoExpert.new("mip6audit.auth.not_last", "Lone MN-HA authentication option is not the last option", expert.group.PROTOCOL, expert.severity.WARN),
    auth_duplicate = ProtoExpert.new("mip6audit.auth.duplicate", "Two authentication options of the same subtype", expert.group.PROTOCOL, expert.severity.ERROR),
    auth_aaa_in_ba = ProtoExpert.new("mip6audit.auth.mn_aaa_in_ba", "MN-AAA authentication option in a Binding Acknowledgement", expert.group.PROTOCOL, expert.severity.ERROR),
    mesgid_skew = ProtoExpert.new("mip6audit.mesgid.skew", "Timestamp further than close_enough from the capture time", expert.group.SEQUENCE, expert.severity.WARN),
    mesgid_ha_clock = ProtoExpert.new("mip6audit.mesgid.ha_clock", "Timestamp carries the home agent's clock", expert.group.SEQUENCE, expert.severity.NOTE),
    rejected = ProtoExpert.new("mip6audit.ba.rejected", "Binding Update rejected (RFC 4285 status)", expert.group.RESPONSE_CODE, expert.severity.WARN),
    keyfile = ProtoExpert.new("mip6audit.keyfile.error", "Keyfile cannot be used", expert.group.DECRYPTION, expert.severity.WARN),
}
mip6audit.experts = ef

-- Preferences -----------------------------------------------------------------------
mip6audit.prefs.keyfile = Pref.string("Keyfile (TOML)", "",
    "The mip6-audit keyfile ([policy], [[mn_ha]], [[mn_aaa]]) whose keys verify the authenticators")
mip6audit.prefs.builtin_tree = Pref.bool("Also show the built-in Mobile IPv6 tree", true,
    "Hand each Mobility Header to Wireshark's own mipv6 dissector as well, so mip6.* fields stay available")

-- Layouts from the schema: offsets count from the start of the Mobility Header
-- for messages and from the option data (after type and length) for options.
local HEADER_FIELDS = {
    { name = "payload_proto", offset = 0, size = 1, hf = hf.mh_payload_proto },
    { name = "header_len", offset = 1, size = 1, hf = hf.mh_header_len },
    { name = "mh_type", offset = 2, size = 1, hf = hf.mh_mh_type },
    { name = "reserved", offset = 3, size = 1, hf = hf.mh_reserved },
    { name = "checksum", offset = 4, size = 2, hf = hf.mh_checksum },
}

local MESSAGES = {
    [0] = { abbrev = "BRR", name = "Binding Refresh Request", hf = hf.brr, options_offset = 8, fields = {
        { name = "reserved2", offset = 6, size = 2, kind = "plain", hf = hf.brr_reserved2 },
    } },
    [1] = { abbrev = "HoTI", name = "Home Test Init", hf = hf.hoti, options_offset = 16, fields = {
        { name = "reserved2", offset = 6, size = 2, kind = "plain", hf = hf.hoti_reserved2 },
        { name = "home_init_cookie", offset = 8, size = 8, kind = "plain", hf = hf.hoti_home_init_cookie },
    } },
    [2] = { abbrev = "CoTI", name = "Care-of Test Init", hf = hf.coti, options_offset = 16, fields = {
        { name = "reserved2", offset = 6, size = 2, kind = "plain", hf = hf.coti_reserved2 },
        { name = "care_of_init_cookie", offset = 8, size = 8, kind = "plain", hf = hf.coti_care_of_init_cookie },
    } },
    [3] = { abbrev = "HoT", name = "Home Test", hf = hf.hot, options_offset = 24, fields = {
        { name = "home_nonce_index", offset = 6, size = 2, kind = "plain", hf = hf.hot_home_nonce_index },
        { name = "home_init_cookie", offset = 8, size = 8, kind = "plain", hf = hf.hot_home_init_cookie },
        { name = "home_keygen_token", offset = 16, size = 8, kind = "plain", hf = hf.hot_home_keygen_token },
    } },
    [4] = { abbrev = "CoT", name = "Care-of Test", hf = hf.cot, options_offset = 24, fields = {
        { name = "care_of_nonce_index", offset = 6, size = 2, kind = "plain", hf = hf.cot_care_of_nonce_index },
        { name = "care_of_init_cookie", offset = 8, size = 8, kind = "plain", hf = hf.cot_care_of_init_cookie },
        { name = "care_of_keygen_token", offset = 16, size = 8, kind = "plain", hf = hf.cot_care_of_keygen_token },
    } },
    [5] = { abbrev = "BU", name = "Binding Update", hf = hf.bu, options_offset = 12, fields = {
        { name = "seq", offset = 6, size = 2, kind = "plain", hf = hf.bu_seq },
        { name = "flags", offset = 8, size = 2, kind = "plain", hf = hf.bu_flags, flags = { hf.bu_flags_a, hf.bu_flags_h, hf.bu_flags_l, hf.bu_flags_k, hf.bu_flags_m, hf.bu_flags_r, hf.bu_flags_p, hf.bu_flags_f, hf.bu_flags_t, hf.bu_flags_b } },
        { name = "lifetime", offset = 10, size = 2, kind = "plain", hf = hf.bu_lifetime },
    } },
    [6] = { abbrev = "BA", name = "Binding Acknowledgement", hf = hf.ba, options_offset = 12, fields = {
        { name = "status", offset = 6, size = 1, kind = "plain", hf = hf.ba_status },
        { name = "flags", offset = 7, size = 1, kind = "plain", hf = hf.ba_flags, flags = { hf.ba_flags_k, hf.ba_flags_r, hf.ba_flags_p, hf.ba_flags_t, hf.ba_flags_b } },
        { name = "seq", offset = 8, size = 2, kind = "plain", hf = hf.ba_seq },
        { name = "lifetime", offset = 10, size = 2, kind = "plain", hf = hf.ba_lifetime },
    } },
    [7] = { abbrev = "BE", name = "Binding Error", hf = hf.be, options_offset = 24, fields = {
        { name = "status", offset = 6, size = 1, kind = "plain", hf = hf.be_status },
        { name = "reserved2", offset = 7, size = 1, kind = "plain", hf = hf.be_reserved2 },
        { name = "home_address", offset = 8, size = 16, kind = "plain", hf = hf.be_home_address },
    } },
}

local OPTIONS = {
    [0] = { name = "Pad1", hf = hf.pad1, fixed_size = 0, minimum_length = 0, exact_length = 0, align = nil, fields = {
    } },
    [1] = { name = "PadN", hf = hf.padn, fixed_size = 0, minimum_length = 0, exact_length = nil, align = nil, fields = {
        { name = "padding", offset = 0, size = nil, kind = "plain", hf = hf.padn_padding },
    } },
    [2] = { name = "Binding Refresh Advice", hf = hf.bra, fixed_size = 2, minimum_length = 2, exact_length = 2, align = { 2, 0 }, fields = {
        { name = "refresh_interval", offset = 0, size = 2, kind = "plain", hf = hf.bra_refresh_interval },
    } },
    [3] = { name = "Alternate Care-of Address", hf = hf.altcoa, fixed_size = 16, minimum_length = 16, exact_length = 16, align = { 8, 6 }, fields = {
        { name = "address", offset = 0, size = 16, kind = "plain", hf = hf.altcoa_address },
    } },
    [4] = { name = "Nonce Indices", hf = hf.nonce, fixed_size = 4, minimum_length = 4, exact_length = 4, align = { 2, 0 }, fields = {
        { name = "home_nonce_index", offset = 0, size = 2, kind = "plain", hf = hf.nonce_home_nonce_index },
        { name = "care_of_nonce_index", offset = 2, size = 2, kind = "plain", hf = hf.nonce_care_of_nonce_index },
    } },
    [5] = { name = "Binding Authorization Data", hf = hf.bad, fixed_size = 0, minimum_length = 0, exact_length = nil, align = { 8, 2 }, fields = {
        { name = "authenticator", offset = 0, size = nil, kind = "plain", hf = hf.bad_authenticator },
    } },
    [8] = { name = "Mobile Node Identifier", hf = hf.mnid, fixed_size = 1, minimum_length = 2, exact_length = nil, align = nil, fields = {
        { name = "subtype", offset = 0, size = 1, kind = "plain", hf = hf.mnid_subtype },
        { name = "identifier", offset = 1, size = nil, kind = "text", hf = hf.mnid_identifier },
    } },
    [9] = { name = "Mobility Message Authentication", hf = hf.auth, fixed_size = 5, minimum_length = 5, exact_length = nil, align = { 4, 1 }, fields = {
        { name = "subtype", offset = 0, size = 1, kind = "plain", hf = hf.auth_subtype },
        { name = "spi", offset = 1, size = 4, kind = "plain", hf = hf.auth_spi },
        { name = "authenticator", offset = 5, size = nil, kind = "plain", hf = hf.auth_authenticator },
    } },
    [10] = { name = "Mobility Message Replay Protection", hf = hf.mesgid, fixed_size = 8, minimum_length = 8, exact_length = 8, align = { 8, 2 }, fields = {
        { name = "timestamp", offset = 0, size = 8, kind = "packet_field", hf = hf.mesgid_timestamp },
    } },
}

-- >>> crypto: SHA-1 (FIPS 180-4) and HMAC-SHA1 (RFC 2104) in plain Lua.
-- Wireshark has no hash API for Lua, so the authenticators are computed here.
-- Bit operations come from bit32 (Lua 5.2: Wireshark 4.0-4.2) or the `bit`
-- global (LuaBitOp, every Wireshark, the only one in 4.4+), else from plain
-- arithmetic so a bare interpreter runs it too.  No Lua 5.3 operators: the
-- file must parse under 5.2.  LuaBitOp returns signed numbers, so every sum
-- is reduced modulo 2^32 and the digest words are made unsigned at the end.
local crypto = (function()
    local TWO32 = 4294967296
    local byte, char, floor, concat = string.byte, string.char, math.floor, table.concat
    local band, bor, bxor

    local library = rawget(_G, "bit32") or rawget(_G, "bit")
    if library then
        band, bor, bxor = library.band, library.bor, library.bxor
    else
        -- Nibble tables: 16x16 results per operation, eight lookups per 32-bit word.
        local AND, OR, XOR = {}, {}, {}
        for a = 0, 15 do
            for b = 0, 15 do
                local r_and, r_or, r_xor, weight, x, y = 0, 0, 0, 1, a, b
                for _ = 1, 4 do
                    local p, q = x % 2, y % 2
                    if p == 1 and q == 1 then r_and = r_and + weight end
                    if p == 1 or q == 1 then r_or = r_or + weight end
                    if p ~= q then r_xor = r_xor + weight end
                    x, y, weight = (x - p) / 2, (y - q) / 2, weight * 2
                end
                AND[a * 16 + b], OR[a * 16 + b], XOR[a * 16 + b] = r_and, r_or, r_xor
            end
        end
        local function combine(table_, a, b)
            a, b = a % TWO32, b % TWO32
            local result, weight = 0, 1
            for _ = 1, 8 do
                local p, q = a % 16, b % 16
                result = result + table_[p * 16 + q] * weight
                a, b, weight = (a - p) / 16, (b - q) / 16, weight * 16
            end
            return result
        end
        band = function(a, b) return combine(AND, a, b) end
        bor = function(a, b) return combine(OR, a, b) end
        bxor = function(a, b) return combine(XOR, a, b) end
    end

    local function word_bytes(word)
        word = word % TWO32
        return char(floor(word / 16777216) % 256, floor(word / 65536) % 256, floor(word / 256) % 256, word % 256)
    end

    -- A Lua or C function call costs far more than arithmetic, so the rounds
    -- below are unrolled over plain locals, rotations are arithmetic
    -- (x % 2^(32-n) * 2^n + floor(x / 2^(32-n)), on unsigned words), and each
    -- round function takes two library calls:
    --   Ch(b, c, d)  = (b AND c) + (NOT b AND d)        disjoint bits, so + is OR
    --   Maj(b, c, d) = (b AND c) + (d AND (b XOR c)),   with b AND c = (b + c - (b XOR c)) / 2
    -- Every library result is reduced modulo 2^32: LuaBitOp's are signed.
    -- bit32.bxor takes any number of arguments; LuaBitOp's is only known to take two.
    local xor3, xor4
    if rawget(_G, "bit32") then
        xor3, xor4 = bxor, bxor
    else
        xor3 = function(a, b, c) return bxor(bxor(a, b), c) end
        xor4 = function(a, b, c, d) return bxor(bxor(a, b), bxor(c, d)) end
    end
    local MASK = TWO32 - 1
    local K1, K2, K3, K4 = 0x5A827999, 0x6ED9EBA1, 0x8F1BBCDC, 0xCA62C1D6

    -- One 64-octet block at `at` into the five-word state.
    local function compress(state, block, at)
        local o0, o1, o2, o3, o4, o5, o6, o7 = byte(block, at + 0, at + 7)
        local o8, o9, o10, o11, o12, o13, o14, o15 = byte(block, at + 8, at + 15)
        local o16, o17, o18, o19, o20, o21, o22, o23 = byte(block, at + 16, at + 23)
        local o24, o25, o26, o27, o28, o29, o30, o31 = byte(block, at + 24, at + 31)
        local o32, o33, o34, o35, o36, o37, o38, o39 = byte(block, at + 32, at + 39)
        local o40, o41, o42, o43, o44, o45, o46, o47 = byte(block, at + 40, at + 47)
        local o48, o49, o50, o51, o52, o53, o54, o55 = byte(block, at + 48, at + 55)
        local o56, o57, o58, o59, o60, o61, o62, o63 = byte(block, at + 56, at + 63)
        local w0 = o0 * 16777216 + o1 * 65536 + o2 * 256 + o3
        local w1 = o4 * 16777216 + o5 * 65536 + o6 * 256 + o7
        local w2 = o8 * 16777216 + o9 * 65536 + o10 * 256 + o11
        local w3 = o12 * 16777216 + o13 * 65536 + o14 * 256 + o15
        local w4 = o16 * 16777216 + o17 * 65536 + o18 * 256 + o19
        local w5 = o20 * 16777216 + o21 * 65536 + o22 * 256 + o23
        local w6 = o24 * 16777216 + o25 * 65536 + o26 * 256 + o27
        local w7 = o28 * 16777216 + o29 * 65536 + o30 * 256 + o31
        local w8 = o32 * 16777216 + o33 * 65536 + o34 * 256 + o35
        local w9 = o36 * 16777216 + o37 * 65536 + o38 * 256 + o39
        local w10 = o40 * 16777216 + o41 * 65536 + o42 * 256 + o43
        local w11 = o44 * 16777216 + o45 * 65536 + o46 * 256 + o47
        local w12 = o48 * 16777216 + o49 * 65536 + o50 * 256 + o51
        local w13 = o52 * 16777216 + o53 * 65536 + o54 * 256 + o55
        local w14 = o56 * 16777216 + o57 * 65536 + o58 * 256 + o59
        local w15 = o60 * 16777216 + o61 * 65536 + o62 * 256 + o63
        local a, b, c, d, e = state[1], state[2], state[3], state[4], state[5]
        local x
        -- Round t: the five names take turns, so no values are shuffled.
        e = (e + a % 134217728 * 32 + (a - a % 134217728) / 134217728 + band(b, c) % TWO32 + band(MASK - b, d) % TWO32 + K1 + w0) % TWO32
        b = b % 4 * 1073741824 + (b - b % 4) / 4
        d = (d + e % 134217728 * 32 + (e - e % 134217728) / 134217728 + band(a, b) % TWO32 + band(MASK - a, c) % TWO32 + K1 + w1) % TWO32
        a = a % 4 * 1073741824 + (a - a % 4) / 4
        c = (c + d % 134217728 * 32 + (d - d % 134217728) / 134217728 + band(e, a) % TWO32 + band(MASK - e, b) % TWO32 + K1 + w2) % TWO32
        e = e % 4 * 1073741824 + (e - e % 4) / 4
        b = (b + c % 134217728 * 32 + (c - c % 134217728) / 134217728 + band(d, e) % TWO32 + band(MASK - d, a) % TWO32 + K1 + w3) % TWO32
        d = d % 4 * 1073741824 + (d - d % 4) / 4
        a = (a + b % 134217728 * 32 + (b - b % 134217728) / 134217728 + band(c, d) % TWO32 + band(MASK - c, e) % TWO32 + K1 + w4) % TWO32
        c = c % 4 * 1073741824 + (c - c % 4) / 4
        e = (e + a % 134217728 * 32 + (a - a % 134217728) / 134217728 + band(b, c) % TWO32 + band(MASK - b, d) % TWO32 + K1 + w5) % TWO32
        b = b % 4 * 1073741824 + (b - b % 4) / 4
        d = (d + e % 134217728 * 32 + (e - e % 134217728) / 134217728 + band(a, b) % TWO32 + band(MASK - a, c) % TWO32 + K1 + w6) % TWO32
        a = a % 4 * 1073741824 + (a - a % 4) / 4
        c = (c + d % 134217728 * 32 + (d - d % 134217728) / 134217728 + band(e, a) % TWO32 + band(MASK - e, b) % TWO32 + K1 + w7) % TWO32
        e = e % 4 * 1073741824 + (e - e % 4) / 4
        b = (b + c % 134217728 * 32 + (c - c % 134217728) / 134217728 + band(d, e) % TWO32 + band(MASK - d, a) % TWO32 + K1 + w8) % TWO32
        d = d % 4 * 1073741824 + (d - d % 4) / 4
        a = (a + b % 134217728 * 32 + (b - b % 134217728) / 134217728 + band(c, d) % TWO32 + band(MASK - c, e) % TWO32 + K1 + w9) % TWO32
        c = c % 4 * 1073741824 + (c - c % 4) / 4
        e = (e + a % 134217728 * 32 + (a - a % 134217728) / 134217728 + band(b, c) % TWO32 + band(MASK - b, d) % TWO32 + K1 + w10) % TWO32
        b = b % 4 * 1073741824 + (b - b % 4) / 4
        d = (d + e % 134217728 * 32 + (e - e % 134217728) / 134217728 + band(a, b) % TWO32 + band(MASK - a, c) % TWO32 + K1 + w11) % TWO32
        a = a % 4 * 1073741824 + (a - a % 4) / 4
        c = (c + d % 134217728 * 32 + (d - d % 134217728) / 134217728 + band(e, a) % TWO32 + band(MASK - e, b) % TWO32 + K1 + w12) % TWO32
        e = e % 4 * 1073741824 + (e - e % 4) / 4
        b = (b + c % 134217728 * 32 + (c - c % 134217728) / 134217728 + band(d, e) % TWO32 + band(MASK - d, a) % TWO32 + K1 + w13) % TWO32
        d = d % 4 * 1073741824 + (d - d % 4) / 4
        a = (a + b % 134217728 * 32 + (b - b % 134217728) / 134217728 + band(c, d) % TWO32 + band(MASK - c, e) % TWO32 + K1 + w14) % TWO32
        c = c % 4 * 1073741824 + (c - c % 4) / 4
        e = (e + a % 134217728 * 32 + (a - a % 134217728) / 134217728 + band(b, c) % TWO32 + band(MASK - b, d) % TWO32 + K1 + w15) % TWO32
        b = b % 4 * 1073741824 + (b - b % 4) / 4
        x = xor4(w13, w8, w2, w0) % TWO32
        w0 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        d = (d + e % 134217728 * 32 + (e - e % 134217728) / 134217728 + band(a, b) % TWO32 + band(MASK - a, c) % TWO32 + K1 + w0) % TWO32
        a = a % 4 * 1073741824 + (a - a % 4) / 4
        x = xor4(w14, w9, w3, w1) % TWO32
        w1 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        c = (c + d % 134217728 * 32 + (d - d % 134217728) / 134217728 + band(e, a) % TWO32 + band(MASK - e, b) % TWO32 + K1 + w1) % TWO32
        e = e % 4 * 1073741824 + (e - e % 4) / 4
        x = xor4(w15, w10, w4, w2) % TWO32
        w2 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        b = (b + c % 134217728 * 32 + (c - c % 134217728) / 134217728 + band(d, e) % TWO32 + band(MASK - d, a) % TWO32 + K1 + w2) % TWO32
        d = d % 4 * 1073741824 + (d - d % 4) / 4
        x = xor4(w0, w11, w5, w3) % TWO32
        w3 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        a = (a + b % 134217728 * 32 + (b - b % 134217728) / 134217728 + band(c, d) % TWO32 + band(MASK - c, e) % TWO32 + K1 + w3) % TWO32
        c = c % 4 * 1073741824 + (c - c % 4) / 4
        x = xor4(w1, w12, w6, w4) % TWO32
        w4 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        e = (e + a % 134217728 * 32 + (a - a % 134217728) / 134217728 + xor3(b, c, d) % TWO32 + K2 + w4) % TWO32
        b = b % 4 * 1073741824 + (b - b % 4) / 4
        x = xor4(w2, w13, w7, w5) % TWO32
        w5 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        d = (d + e % 134217728 * 32 + (e - e % 134217728) / 134217728 + xor3(a, b, c) % TWO32 + K2 + w5) % TWO32
        a = a % 4 * 1073741824 + (a - a % 4) / 4
        x = xor4(w3, w14, w8, w6) % TWO32
        w6 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        c = (c + d % 134217728 * 32 + (d - d % 134217728) / 134217728 + xor3(e, a, b) % TWO32 + K2 + w6) % TWO32
        e = e % 4 * 1073741824 + (e - e % 4) / 4
        x = xor4(w4, w15, w9, w7) % TWO32
        w7 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        b = (b + c % 134217728 * 32 + (c - c % 134217728) / 134217728 + xor3(d, e, a) % TWO32 + K2 + w7) % TWO32
        d = d % 4 * 1073741824 + (d - d % 4) / 4
        x = xor4(w5, w0, w10, w8) % TWO32
        w8 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        a = (a + b % 134217728 * 32 + (b - b % 134217728) / 134217728 + xor3(c, d, e) % TWO32 + K2 + w8) % TWO32
        c = c % 4 * 1073741824 + (c - c % 4) / 4
        x = xor4(w6, w1, w11, w9) % TWO32
        w9 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        e = (e + a % 134217728 * 32 + (a - a % 134217728) / 134217728 + xor3(b, c, d) % TWO32 + K2 + w9) % TWO32
        b = b % 4 * 1073741824 + (b - b % 4) / 4
        x = xor4(w7, w2, w12, w10) % TWO32
        w10 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        d = (d + e % 134217728 * 32 + (e - e % 134217728) / 134217728 + xor3(a, b, c) % TWO32 + K2 + w10) % TWO32
        a = a % 4 * 1073741824 + (a - a % 4) / 4
        x = xor4(w8, w3, w13, w11) % TWO32
        w11 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        c = (c + d % 134217728 * 32 + (d - d % 134217728) / 134217728 + xor3(e, a, b) % TWO32 + K2 + w11) % TWO32
        e = e % 4 * 1073741824 + (e - e % 4) / 4
        x = xor4(w9, w4, w14, w12) % TWO32
        w12 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        b = (b + c % 134217728 * 32 + (c - c % 134217728) / 134217728 + xor3(d, e, a) % TWO32 + K2 + w12) % TWO32
        d = d % 4 * 1073741824 + (d - d % 4) / 4
        x = xor4(w10, w5, w15, w13) % TWO32
        w13 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        a = (a + b % 134217728 * 32 + (b - b % 134217728) / 134217728 + xor3(c, d, e) % TWO32 + K2 + w13) % TWO32
        c = c % 4 * 1073741824 + (c - c % 4) / 4
        x = xor4(w11, w6, w0, w14) % TWO32
        w14 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        e = (e + a % 134217728 * 32 + (a - a % 134217728) / 134217728 + xor3(b, c, d) % TWO32 + K2 + w14) % TWO32
        b = b % 4 * 1073741824 + (b - b % 4) / 4
        x = xor4(w12, w7, w1, w15) % TWO32
        w15 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        d = (d + e % 134217728 * 32 + (e - e % 134217728) / 134217728 + xor3(a, b, c) % TWO32 + K2 + w15) % TWO32
        a = a % 4 * 1073741824 + (a - a % 4) / 4
        x = xor4(w13, w8, w2, w0) % TWO32
        w0 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        c = (c + d % 134217728 * 32 + (d - d % 134217728) / 134217728 + xor3(e, a, b) % TWO32 + K2 + w0) % TWO32
        e = e % 4 * 1073741824 + (e - e % 4) / 4
        x = xor4(w14, w9, w3, w1) % TWO32
        w1 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        b = (b + c % 134217728 * 32 + (c - c % 134217728) / 134217728 + xor3(d, e, a) % TWO32 + K2 + w1) % TWO32
        d = d % 4 * 1073741824 + (d - d % 4) / 4
        x = xor4(w15, w10, w4, w2) % TWO32
        w2 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        a = (a + b % 134217728 * 32 + (b - b % 134217728) / 134217728 + xor3(c, d, e) % TWO32 + K2 + w2) % TWO32
        c = c % 4 * 1073741824 + (c - c % 4) / 4
        x = xor4(w0, w11, w5, w3) % TWO32
        w3 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        e = (e + a % 134217728 * 32 + (a - a % 134217728) / 134217728 + xor3(b, c, d) % TWO32 + K2 + w3) % TWO32
        b = b % 4 * 1073741824 + (b - b % 4) / 4
        x = xor4(w1, w12, w6, w4) % TWO32
        w4 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        d = (d + e % 134217728 * 32 + (e - e % 134217728) / 134217728 + xor3(a, b, c) % TWO32 + K2 + w4) % TWO32
        a = a % 4 * 1073741824 + (a - a % 4) / 4
        x = xor4(w2, w13, w7, w5) % TWO32
        w5 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        c = (c + d % 134217728 * 32 + (d - d % 134217728) / 134217728 + xor3(e, a, b) % TWO32 + K2 + w5) % TWO32
        e = e % 4 * 1073741824 + (e - e % 4) / 4
        x = xor4(w3, w14, w8, w6) % TWO32
        w6 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        b = (b + c % 134217728 * 32 + (c - c % 134217728) / 134217728 + xor3(d, e, a) % TWO32 + K2 + w6) % TWO32
        d = d % 4 * 1073741824 + (d - d % 4) / 4
        x = xor4(w4, w15, w9, w7) % TWO32
        w7 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        a = (a + b % 134217728 * 32 + (b - b % 134217728) / 134217728 + xor3(c, d, e) % TWO32 + K2 + w7) % TWO32
        c = c % 4 * 1073741824 + (c - c % 4) / 4
        x = xor4(w5, w0, w10, w8) % TWO32
        w8 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        x = bxor(b, c) % TWO32
        e = (e + a % 134217728 * 32 + (a - a % 134217728) / 134217728 + (b + c - x) / 2 + band(x, d) % TWO32 + K3 + w8) % TWO32
        b = b % 4 * 1073741824 + (b - b % 4) / 4
        x = xor4(w6, w1, w11, w9) % TWO32
        w9 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        x = bxor(a, b) % TWO32
        d = (d + e % 134217728 * 32 + (e - e % 134217728) / 134217728 + (a + b - x) / 2 + band(x, c) % TWO32 + K3 + w9) % TWO32
        a = a % 4 * 1073741824 + (a - a % 4) / 4
        x = xor4(w7, w2, w12, w10) % TWO32
        w10 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        x = bxor(e, a) % TWO32
        c = (c + d % 134217728 * 32 + (d - d % 134217728) / 134217728 + (e + a - x) / 2 + band(x, b) % TWO32 + K3 + w10) % TWO32
        e = e % 4 * 1073741824 + (e - e % 4) / 4
        x = xor4(w8, w3, w13, w11) % TWO32
        w11 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        x = bxor(d, e) % TWO32
        b = (b + c % 134217728 * 32 + (c - c % 134217728) / 134217728 + (d + e - x) / 2 + band(x, a) % TWO32 + K3 + w11) % TWO32
        d = d % 4 * 1073741824 + (d - d % 4) / 4
        x = xor4(w9, w4, w14, w12) % TWO32
        w12 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        x = bxor(c, d) % TWO32
        a = (a + b % 134217728 * 32 + (b - b % 134217728) / 134217728 + (c + d - x) / 2 + band(x, e) % TWO32 + K3 + w12) % TWO32
        c = c % 4 * 1073741824 + (c - c % 4) / 4
        x = xor4(w10, w5, w15, w13) % TWO32
        w13 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        x = bxor(b, c) % TWO32
        e = (e + a % 134217728 * 32 + (a - a % 134217728) / 134217728 + (b + c - x) / 2 + band(x, d) % TWO32 + K3 + w13) % TWO32
        b = b % 4 * 1073741824 + (b - b % 4) / 4
        x = xor4(w11, w6, w0, w14) % TWO32
        w14 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        x = bxor(a, b) % TWO32
        d = (d + e % 134217728 * 32 + (e - e % 134217728) / 134217728 + (a + b - x) / 2 + band(x, c) % TWO32 + K3 + w14) % TWO32
        a = a % 4 * 1073741824 + (a - a % 4) / 4
        x = xor4(w12, w7, w1, w15) % TWO32
        w15 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        x = bxor(e, a) % TWO32
        c = (c + d % 134217728 * 32 + (d - d % 134217728) / 134217728 + (e + a - x) / 2 + band(x, b) % TWO32 + K3 + w15) % TWO32
        e = e % 4 * 1073741824 + (e - e % 4) / 4
        x = xor4(w13, w8, w2, w0) % TWO32
        w0 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        x = bxor(d, e) % TWO32
        b = (b + c % 134217728 * 32 + (c - c % 134217728) / 134217728 + (d + e - x) / 2 + band(x, a) % TWO32 + K3 + w0) % TWO32
        d = d % 4 * 1073741824 + (d - d % 4) / 4
        x = xor4(w14, w9, w3, w1) % TWO32
        w1 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        x = bxor(c, d) % TWO32
        a = (a + b % 134217728 * 32 + (b - b % 134217728) / 134217728 + (c + d - x) / 2 + band(x, e) % TWO32 + K3 + w1) % TWO32
        c = c % 4 * 1073741824 + (c - c % 4) / 4
        x = xor4(w15, w10, w4, w2) % TWO32
        w2 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        x = bxor(b, c) % TWO32
        e = (e + a % 134217728 * 32 + (a - a % 134217728) / 134217728 + (b + c - x) / 2 + band(x, d) % TWO32 + K3 + w2) % TWO32
        b = b % 4 * 1073741824 + (b - b % 4) / 4
        x = xor4(w0, w11, w5, w3) % TWO32
        w3 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        x = bxor(a, b) % TWO32
        d = (d + e % 134217728 * 32 + (e - e % 134217728) / 134217728 + (a + b - x) / 2 + band(x, c) % TWO32 + K3 + w3) % TWO32
        a = a % 4 * 1073741824 + (a - a % 4) / 4
        x = xor4(w1, w12, w6, w4) % TWO32
        w4 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        x = bxor(e, a) % TWO32
        c = (c + d % 134217728 * 32 + (d - d % 134217728) / 134217728 + (e + a - x) / 2 + band(x, b) % TWO32 + K3 + w4) % TWO32
        e = e % 4 * 1073741824 + (e - e % 4) / 4
        x = xor4(w2, w13, w7, w5) % TWO32
        w5 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        x = bxor(d, e) % TWO32
        b = (b + c % 134217728 * 32 + (c - c % 134217728) / 134217728 + (d + e - x) / 2 + band(x, a) % TWO32 + K3 + w5) % TWO32
        d = d % 4 * 1073741824 + (d - d % 4) / 4
        x = xor4(w3, w14, w8, w6) % TWO32
        w6 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        x = bxor(c, d) % TWO32
        a = (a + b % 134217728 * 32 + (b - b % 134217728) / 134217728 + (c + d - x) / 2 + band(x, e) % TWO32 + K3 + w6) % TWO32
        c = c % 4 * 1073741824 + (c - c % 4) / 4
        x = xor4(w4, w15, w9, w7) % TWO32
        w7 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        x = bxor(b, c) % TWO32
        e = (e + a % 134217728 * 32 + (a - a % 134217728) / 134217728 + (b + c - x) / 2 + band(x, d) % TWO32 + K3 + w7) % TWO32
        b = b % 4 * 1073741824 + (b - b % 4) / 4
        x = xor4(w5, w0, w10, w8) % TWO32
        w8 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        x = bxor(a, b) % TWO32
        d = (d + e % 134217728 * 32 + (e - e % 134217728) / 134217728 + (a + b - x) / 2 + band(x, c) % TWO32 + K3 + w8) % TWO32
        a = a % 4 * 1073741824 + (a - a % 4) / 4
        x = xor4(w6, w1, w11, w9) % TWO32
        w9 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        x = bxor(e, a) % TWO32
        c = (c + d % 134217728 * 32 + (d - d % 134217728) / 134217728 + (e + a - x) / 2 + band(x, b) % TWO32 + K3 + w9) % TWO32
        e = e % 4 * 1073741824 + (e - e % 4) / 4
        x = xor4(w7, w2, w12, w10) % TWO32
        w10 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        x = bxor(d, e) % TWO32
        b = (b + c % 134217728 * 32 + (c - c % 134217728) / 134217728 + (d + e - x) / 2 + band(x, a) % TWO32 + K3 + w10) % TWO32
        d = d % 4 * 1073741824 + (d - d % 4) / 4
        x = xor4(w8, w3, w13, w11) % TWO32
        w11 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        x = bxor(c, d) % TWO32
        a = (a + b % 134217728 * 32 + (b - b % 134217728) / 134217728 + (c + d - x) / 2 + band(x, e) % TWO32 + K3 + w11) % TWO32
        c = c % 4 * 1073741824 + (c - c % 4) / 4
        x = xor4(w9, w4, w14, w12) % TWO32
        w12 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        e = (e + a % 134217728 * 32 + (a - a % 134217728) / 134217728 + xor3(b, c, d) % TWO32 + K4 + w12) % TWO32
        b = b % 4 * 1073741824 + (b - b % 4) / 4
        x = xor4(w10, w5, w15, w13) % TWO32
        w13 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        d = (d + e % 134217728 * 32 + (e - e % 134217728) / 134217728 + xor3(a, b, c) % TWO32 + K4 + w13) % TWO32
        a = a % 4 * 1073741824 + (a - a % 4) / 4
        x = xor4(w11, w6, w0, w14) % TWO32
        w14 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        c = (c + d % 134217728 * 32 + (d - d % 134217728) / 134217728 + xor3(e, a, b) % TWO32 + K4 + w14) % TWO32
        e = e % 4 * 1073741824 + (e - e % 4) / 4
        x = xor4(w12, w7, w1, w15) % TWO32
        w15 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        b = (b + c % 134217728 * 32 + (c - c % 134217728) / 134217728 + xor3(d, e, a) % TWO32 + K4 + w15) % TWO32
        d = d % 4 * 1073741824 + (d - d % 4) / 4
        x = xor4(w13, w8, w2, w0) % TWO32
        w0 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        a = (a + b % 134217728 * 32 + (b - b % 134217728) / 134217728 + xor3(c, d, e) % TWO32 + K4 + w0) % TWO32
        c = c % 4 * 1073741824 + (c - c % 4) / 4
        x = xor4(w14, w9, w3, w1) % TWO32
        w1 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        e = (e + a % 134217728 * 32 + (a - a % 134217728) / 134217728 + xor3(b, c, d) % TWO32 + K4 + w1) % TWO32
        b = b % 4 * 1073741824 + (b - b % 4) / 4
        x = xor4(w15, w10, w4, w2) % TWO32
        w2 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        d = (d + e % 134217728 * 32 + (e - e % 134217728) / 134217728 + xor3(a, b, c) % TWO32 + K4 + w2) % TWO32
        a = a % 4 * 1073741824 + (a - a % 4) / 4
        x = xor4(w0, w11, w5, w3) % TWO32
        w3 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        c = (c + d % 134217728 * 32 + (d - d % 134217728) / 134217728 + xor3(e, a, b) % TWO32 + K4 + w3) % TWO32
        e = e % 4 * 1073741824 + (e - e % 4) / 4
        x = xor4(w1, w12, w6, w4) % TWO32
        w4 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        b = (b + c % 134217728 * 32 + (c - c % 134217728) / 134217728 + xor3(d, e, a) % TWO32 + K4 + w4) % TWO32
        d = d % 4 * 1073741824 + (d - d % 4) / 4
        x = xor4(w2, w13, w7, w5) % TWO32
        w5 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        a = (a + b % 134217728 * 32 + (b - b % 134217728) / 134217728 + xor3(c, d, e) % TWO32 + K4 + w5) % TWO32
        c = c % 4 * 1073741824 + (c - c % 4) / 4
        x = xor4(w3, w14, w8, w6) % TWO32
        w6 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        e = (e + a % 134217728 * 32 + (a - a % 134217728) / 134217728 + xor3(b, c, d) % TWO32 + K4 + w6) % TWO32
        b = b % 4 * 1073741824 + (b - b % 4) / 4
        x = xor4(w4, w15, w9, w7) % TWO32
        w7 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        d = (d + e % 134217728 * 32 + (e - e % 134217728) / 134217728 + xor3(a, b, c) % TWO32 + K4 + w7) % TWO32
        a = a % 4 * 1073741824 + (a - a % 4) / 4
        x = xor4(w5, w0, w10, w8) % TWO32
        w8 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        c = (c + d % 134217728 * 32 + (d - d % 134217728) / 134217728 + xor3(e, a, b) % TWO32 + K4 + w8) % TWO32
        e = e % 4 * 1073741824 + (e - e % 4) / 4
        x = xor4(w6, w1, w11, w9) % TWO32
        w9 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        b = (b + c % 134217728 * 32 + (c - c % 134217728) / 134217728 + xor3(d, e, a) % TWO32 + K4 + w9) % TWO32
        d = d % 4 * 1073741824 + (d - d % 4) / 4
        x = xor4(w7, w2, w12, w10) % TWO32
        w10 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        a = (a + b % 134217728 * 32 + (b - b % 134217728) / 134217728 + xor3(c, d, e) % TWO32 + K4 + w10) % TWO32
        c = c % 4 * 1073741824 + (c - c % 4) / 4
        x = xor4(w8, w3, w13, w11) % TWO32
        w11 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        e = (e + a % 134217728 * 32 + (a - a % 134217728) / 134217728 + xor3(b, c, d) % TWO32 + K4 + w11) % TWO32
        b = b % 4 * 1073741824 + (b - b % 4) / 4
        x = xor4(w9, w4, w14, w12) % TWO32
        w12 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        d = (d + e % 134217728 * 32 + (e - e % 134217728) / 134217728 + xor3(a, b, c) % TWO32 + K4 + w12) % TWO32
        a = a % 4 * 1073741824 + (a - a % 4) / 4
        x = xor4(w10, w5, w15, w13) % TWO32
        w13 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        c = (c + d % 134217728 * 32 + (d - d % 134217728) / 134217728 + xor3(e, a, b) % TWO32 + K4 + w13) % TWO32
        e = e % 4 * 1073741824 + (e - e % 4) / 4
        x = xor4(w11, w6, w0, w14) % TWO32
        w14 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        b = (b + c % 134217728 * 32 + (c - c % 134217728) / 134217728 + xor3(d, e, a) % TWO32 + K4 + w14) % TWO32
        d = d % 4 * 1073741824 + (d - d % 4) / 4
        x = xor4(w12, w7, w1, w15) % TWO32
        w15 = x % 2147483648 * 2 + (x - x % 2147483648) / 2147483648
        a = (a + b % 134217728 * 32 + (b - b % 134217728) / 134217728 + xor3(c, d, e) % TWO32 + K4 + w15) % TWO32
        c = c % 4 * 1073741824 + (c - c % 4) / 4
        state[1] = (state[1] + a) % TWO32
        state[2] = (state[2] + b) % TWO32
        state[3] = (state[3] + c) % TWO32
        state[4] = (state[4] + d) % TWO32
        state[5] = (state[5] + e) % TWO32
    end

    local INITIAL = { 0x67452301, 0xEFCDAB89, 0x98BADCFE, 0x10325476, 0xC3D2E1F0 }

    -- SHA-1 of `message`, continuing from `state` after `done` octets already hashed.
    local function finish(state, done, message)
        local length = done + #message
        local tail = { message, "\128", string.rep("\0", (55 - length) % 64) }
        for shift = 7, 0, -1 do
            tail[#tail + 1] = char(floor(length * 8 / 256 ^ shift) % 256)
        end
        local padded = concat(tail)
        local h = { state[1], state[2], state[3], state[4], state[5] }
        for at = 1, #padded, 64 do
            compress(h, padded, at)
        end
        return word_bytes(h[1]) .. word_bytes(h[2]) .. word_bytes(h[3]) .. word_bytes(h[4]) .. word_bytes(h[5])
    end

    local function sha1(message)
        return finish(INITIAL, 0, message)
    end

    local BLOCK = 64
    local function keyed_state(key, pad)
        local out = {}
        for i = 1, BLOCK do
            out[i] = char(bxor(byte(key, i) or 0, pad) % 256)
        end
        local state = { INITIAL[1], INITIAL[2], INITIAL[3], INITIAL[4], INITIAL[5] }
        compress(state, concat(out), 1)
        return state
    end

    -- The key's inner and outer states are kept, so each message costs only
    -- its own blocks (keys are few and messages many).
    local keyed = {}
    local function hmac_sha1(key, message)
        if #key > BLOCK then key = sha1(key) end
        local states = keyed[key]
        if not states then
            states = { keyed_state(key, 0x36), keyed_state(key, 0x5C) }
            keyed[key] = states
        end
        return finish(states[2], BLOCK, finish(states[1], BLOCK, message))
    end

    -- Looks at every octet whatever the first difference, like hmac.compare_digest.
    local function equal(a, b)
        local difference = (#a == #b) and 0 or 1
        for i = 1, #a do
            difference = bor(difference, bxor(byte(a, i), byte(b, i) or 0))
        end
        return difference == 0
    end

    return { sha1 = sha1, hmac_sha1 = hmac_sha1, equal = equal }
end)()
-- <<< crypto

-- >>> keyfile: the analyzer's TOML keyfile (analyzer/keys.py), read in Lua.
-- Only the TOML the keyfile needs: [table], [[array of tables]], key = value
-- with basic or literal strings, integers, floats and booleans, # comments.
-- Anything else is reported with its line, never guessed at.  Key bytes are
-- never put into an error message.
local keyfile = (function()
    local RESERVED_SPI_LIMIT = 256
    local MN_HA_KEY_LEN = 16
    local HMAC_SHA1_SPI = 3
    local DEFAULT_CLOSE_ENOUGH = 7.0
    local REPLAY_MODES = { ["timestamp"] = true, ["sequence"] = true }
    local SECTIONS = { policy = "table", mn_ha = "array", mn_aaa = "array" }
    local POLICY_KEYS = { replay = true, close_enough = true, require_mesg_id = true }
    local SA_KEYS = { spi = true, key = true, nai = true, home_address = true, replay = true, close_enough = true }
    local ESCAPES = { b = "\b", t = "\t", n = "\n", f = "\f", r = "\r", ['"'] = '"', ["\\"] = "\\" }

    -- One value at the start of `text`; returns value, rest of the line (or nil, reason).
    local function parse_value(text)
        local first = text:sub(1, 1)
        if first == '"' then
            local out, i = {}, 2
            while i <= #text do
                local c = text:sub(i, i)
                if c == '"' then return table.concat(out), text:sub(i + 1) end
                if c == "\\" then
                    local escaped = ESCAPES[text:sub(i + 1, i + 1)]
                    if not escaped then return nil, "unsupported escape in string" end
                    out[#out + 1], i = escaped, i + 2
                else
                    out[#out + 1], i = c, i + 1
                end
            end
            return nil, "unterminated string"
        elseif first == "'" then
            local stop = text:find("'", 2, true)
            if not stop then return nil, "unterminated string" end
            return text:sub(2, stop - 1), text:sub(stop + 1)
        end
        local word, rest = text:match("^([%w_%.%+%-]+)(.*)$")
        if not word then return nil, "expected a value" end
        if word == "true" then return true, rest end
        if word == "false" then return false, rest end
        local digits = word:gsub("_", "")
        if digits:match("^[%+%-]?%d+$") then return tonumber(digits), rest end
        if digits:match("^0x%x+$") then return tonumber(digits:sub(3), 16), rest end
        if digits:match("^[%+%-]?%d+%.?%d*[eE]?[%+%-]?%d*$") and tonumber(digits) then
            return tonumber(digits) + 0.0, rest
        end
        return nil, "unsupported value " .. word
    end

    -- TOML text -> { sections = {name -> {kind, line, items | table}} }, where each
    -- table is { values = {...}, lines = {key -> line}, line = header line }.
    local function parse(text)
        local top = { values = {}, lines = {}, line = 1 }
        local sections = {}
        local current = top
        local number = 0
        for line in (text .. "\n"):gmatch("([^\n]*)\n") do
            number = number + 1
            local stripped = line:gsub("\r$", ""):match("^%s*(.-)%s*$")
            local header = stripped:gsub("%s*#.*$", "")
            if stripped == "" or stripped:sub(1, 1) == "#" then
                -- blank line or comment
            elseif stripped:sub(1, 2) == "[[" then
                local name = header:match("^%[%[%s*([%w_%-]+)%s*%]%]$")
                if not name then return nil, number, "unsupported table header" end
                if sections[name] and sections[name].kind ~= "array" then
                    return nil, number, name .. " is already a table"
                end
                sections[name] = sections[name] or { kind = "array", line = number, items = {} }
                current = { values = {}, lines = {}, line = number }
                table.insert(sections[name].items, current)
            elseif stripped:sub(1, 1) == "[" then
                local name = header:match("^%[%s*([%w_%-]+)%s*%]$")
                if not name then return nil, number, "unsupported table header" end
                if sections[name] then return nil, number, "table " .. name .. " defined twice" end
                current = { values = {}, lines = {}, line = number }
                sections[name] = { kind = "table", line = number, table = current }
            else
                local key, rest = stripped:match("^([%w_%-]+)%s*=%s*(.*)$")
                if not key then
                    key, rest = stripped:match('^"([^"]+)"%s*=%s*(.*)$')
                end
                if not key then return nil, number, "expected key = value" end
                local value, after = parse_value(rest)
                if value == nil then return nil, number, "TOML syntax error: " .. after end
                if not after:match("^%s*$") and not after:match("^%s*#") then
                    return nil, number, "TOML syntax error: unexpected text after the value"
                end
                if current.lines[key] then return nil, number, "key " .. key .. " defined twice" end
                current.values[key], current.lines[key] = value, number
                if current == top then sections[key] = { kind = "value", line = number } end
            end
        end
        return { sections = sections }
    end

    local function hex_key(value)
        if type(value) ~= "string" then return nil end
        local digits = value:gsub(":", "")
        if #digits == 0 or #digits % 2 == 1 or digits:find("%X") then return nil end
        return (digits:gsub("%x%x", function(pair) return string.char(tonumber(pair, 16)) end))
    end

    local function is_integer(value)
        return type(value) == "number" and value == math.floor(value)
    end

    local function close_enough(value)
        if type(value) ~= "number" or value <= 0 then return nil end
        return value + 0.0
    end

    -- Validated store: { policy = {...}, mn_ha = {[spi] = sa}, mn_aaa = {[nai] = sa} }, or nil, message.
    local function validate(document, path)
        local function fail(line, reason)
            return nil, string.format("%s:%d: %s", path, line, reason)
        end
        local sections = document.sections
        for name, section in pairs(sections) do
            if not SECTIONS[name] then
                return fail(section.line, "unknown section '" .. name .. "' (expected policy, mn_ha, mn_aaa)")
            end
            if section.kind ~= SECTIONS[name] then
                return fail(section.line, SECTIONS[name] == "array"
                            and name .. " must be an array of tables ([[" .. name .. "]])" or name .. " must be a table")
            end
        end
        local store = { policy = { replay = "timestamp", close_enough = DEFAULT_CLOSE_ENOUGH, require_mesg_id = false },
                        mn_ha = {}, mn_aaa = {} }
        if sections.policy then
            local values, lines = sections.policy.table.values, sections.policy.table.lines
            for key in pairs(values) do
                if not POLICY_KEYS[key] then return fail(lines[key], "unknown policy key '" .. key .. "'") end
            end
            if values.replay ~= nil then
                if not REPLAY_MODES[values.replay] then
                    return fail(lines.replay, "replay must be \"timestamp\" or \"sequence\"")
                end
                store.policy.replay = values.replay
            end
            if values.close_enough ~= nil then
                store.policy.close_enough = close_enough(values.close_enough)
                if not store.policy.close_enough then
                    return fail(lines.close_enough, "close_enough must be a positive number of seconds")
                end
            end
            if values.require_mesg_id ~= nil then
                if type(values.require_mesg_id) ~= "boolean" then
                    return fail(lines.require_mesg_id, "require_mesg_id must be true or false")
                end
                store.policy.require_mesg_id = values.require_mesg_id
            end
        end
        for _, section in ipairs({ "mn_ha", "mn_aaa" }) do
            for _, entry in ipairs(sections[section] and sections[section].items or {}) do
                local values, lines = entry.values, entry.lines
                for key in pairs(values) do
                    if not SA_KEYS[key] then return fail(lines[key], "unknown " .. section .. " key '" .. key .. "'") end
                end
                local spi = values.spi
                if section == "mn_aaa" and spi == nil then spi = HMAC_SHA1_SPI end
                if spi == nil then return fail(entry.line, "mn_ha entry has no spi") end
                if not is_integer(spi) or spi < 0 or spi >= 4294967296 then
                    return fail(lines.spi, "spi must be an integer")
                end
                if section == "mn_ha" and spi < RESERVED_SPI_LIMIT then
                    return fail(lines.spi, string.format("SPI %d is reserved (0-255, RFC 4285 5.1); an MN-HA SA needs 256 or more", spi))
                end
                if values.key == nil then return fail(entry.line, section .. " entry has no key") end
                local key = hex_key(values.key)
                if not key then return fail(lines.key, "key must be a string of hex digits (value not shown)") end
                if section == "mn_ha" and #key ~= MN_HA_KEY_LEN then
                    return fail(lines.key, string.format("MN-HA key is %d octets, must be %d (value not shown)", #key, MN_HA_KEY_LEN))
                end
                if values.nai ~= nil and (type(values.nai) ~= "string" or values.nai == "") then
                    return fail(lines.nai, "nai must be a non-empty string")
                end
                if values.replay ~= nil and not REPLAY_MODES[values.replay] then
                    return fail(lines.replay, "replay must be \"timestamp\" or \"sequence\"")
                end
                local own_close_enough = nil
                if values.close_enough ~= nil then
                    own_close_enough = close_enough(values.close_enough)
                    if not own_close_enough then
                        return fail(lines.close_enough, "close_enough must be a positive number of seconds")
                    end
                end
                local sa = { spi = spi, key = key, nai = values.nai, close_enough = own_close_enough }
                if section == "mn_ha" then
                    if store.mn_ha[spi] then return fail(lines.spi, string.format("duplicate MN-HA SPI %d", spi)) end
                    store.mn_ha[spi] = sa
                else
                    if values.nai == nil then return fail(entry.line, "mn_aaa entry has no nai") end
                    if store.mn_aaa[values.nai] then
                        return fail(lines.nai, "duplicate MN-AAA entry for NAI " .. values.nai)
                    end
                    store.mn_aaa[values.nai] = sa
                end
            end
        end
        return store
    end

    local function load(path)
        local handle, reason = io.open(path, "rb")
        if not handle then return nil, path .. ": cannot read keyfile: " .. tostring(reason) end
        local text = handle:read("*a") or ""
        handle:close()
        local document, line, problem = parse(text)
        if not document then return nil, string.format("%s:%d: %s", path, line, problem) end
        return validate(document, path)
    end

    return { load = load, parse = parse, validate = validate }
end)()
-- <<< keyfile

-- Keys ---------------------------------------------------------------------------------
-- Read again whenever the preference changes and on every (re)dissection pass
-- (init), so an edited keyfile takes effect on reload.
local keys = { path = nil, store = nil, problem = nil }
-- Authenticator verdicts by frame number, then by the option's place in the
-- frame.  The GUI dissects a frame again each time it is shown or the display
-- filter changes, and the HMAC is the dearest part; the verdict only depends
-- on the frame's octets and the keys, so it is kept until they are read
-- again.  Only frames seen before (pinfo.visited) are cached: a single pass,
-- like plain tshark, would pay for a table per frame and never read it.
local verdict_cache = {}

local function current_keys()
    local path = mip6audit.prefs.keyfile or ""
    if keys.path ~= path then
        keys.path = path
        verdict_cache = {}
        if path == "" then
            keys.store, keys.problem = nil, nil
        else
            keys.store, keys.problem = keyfile.load(path)
        end
    end
    return keys.store, keys.problem
end

function mip6audit.init()
    keys.path = nil
end

function mip6audit.prefs_changed()
    keys.path = nil
end

-- Octets and numbers ------------------------------------------------------------------
-- `raw` strings are 1-based; every offset in this file is 0-based like Wireshark's.
-- One string.byte call per number: calls, not arithmetic, are what cost in Lua.
local function uint_at(raw, offset, size)
    if size == 1 then return byte(raw, offset + 1) end
    if size == 2 then
        local b1, b2 = byte(raw, offset + 1, offset + 2)
        return b1 * 256 + b2
    end
    if size == 4 then
        local b1, b2, b3, b4 = byte(raw, offset + 1, offset + 4)
        return ((b1 * 256 + b2) * 256 + b3) * 256 + b4
    end
    local value = 0
    for i = offset + 1, offset + size do
        value = value * 256 + byte(raw, i)
    end
    return value
end

local function be32(value)
    return char(floor(value / 16777216) % 256, floor(value / 65536) % 256, floor(value / 256) % 256, value % 256)
end

-- RFC 1071 one's-complement sum of 16-bit words, folded and inverted.
local function internet_checksum(data)
    local sum = 0
    local length = #data
    local whole = length - length % 8
    for i = 1, whole, 8 do
        local h1, l1, h2, l2, h3, l3, h4, l4 = byte(data, i, i + 7)
        sum = sum + (h1 + h2 + h3 + h4) * 256 + l1 + l2 + l3 + l4
    end
    for i = whole + 1, length - 1, 2 do
        local high, low = byte(data, i, i + 1)
        sum = sum + high * 256 + low
    end
    if length % 2 == 1 then
        sum = sum + byte(data, length) * 256
    end
    while sum > 65535 do
        sum = sum % 65536 + floor(sum / 65536)
    end
    return 65535 - sum
end

-- The Mobility Header, parsed as analyzer/mobility.py does --------------------------
local function problem(list, offset, text)
    list[#list + 1] = { offset = offset, text = text }
end

local function decode_option(spec, raw, data_start, length)
    if spec.exact_length and length ~= spec.exact_length then
        return nil, format("length %d, must be %d", length, spec.exact_length)
    end
    if length < spec.minimum_length then
        return nil, format("length %d, must be at least %d", length, spec.minimum_length)
    end
    local values = {}
    for _, field in ipairs(spec.fields) do
        local start = data_start + field.offset
        if field.size == nil then
            values[field.name] = raw:sub(start + 1, data_start + length)
        elseif field.size <= 4 then
            values[field.name] = uint_at(raw, start, field.size)
        else
            values[field.name] = raw:sub(start + 1, start + field.size)
        end
    end
    return values
end

local function parse_options(mh, raw, offset, stop)
    while offset < stop do
        local code = byte(raw, offset + 1)
        local spec = OPTIONS[code]
        if code == OPT_PAD1 then
            mh.options[#mh.options + 1] = { code = code, spec = spec, offset = offset, length = nil, size = 1 }
            offset = offset + 1
        else
            if offset + 2 > stop then
                problem(mh.problems, offset, format("option %d at octet %d has no room for its length", code, offset))
                return
            end
            local length = byte(raw, offset + 2)
            local data_start = offset + 2
            if data_start + length > stop then
                problem(mh.problems, offset, format("option %s at octet %d: length %d overruns the header (%d octets left)",
                                                    spec and spec.name or tostring(code), offset, length, stop - data_start))
                return
            end
            local option = { code = code, spec = spec, offset = offset, length = length, size = 2 + length,
                             misaligned = spec and spec.align and offset % spec.align[1] ~= spec.align[2] }
            if spec then
                local why
                option.values, why = decode_option(spec, raw, data_start, length)
                if why then
                    option.problem = why
                    problem(mh.problems, offset, format("%s at octet %d: %s", spec.name, offset, why))
                end
            end
            mh.options[#mh.options + 1] = option
            offset = data_start + length
        end
    end
end

local function parse_mobility_header(raw)
    local mh = { options = {}, problems = {}, values = {} }
    local available = #raw
    if available < MH_FIXED_SIZE then
        problem(mh.problems, 0, format("Mobility Header truncated: %d octets, the fixed part needs %d", available, MH_FIXED_SIZE))
        if available >= 3 then
            mh.mh_type = byte(raw, 3)
            mh.spec = MESSAGES[mh.mh_type]
        end
        return mh
    end
    for _, field in ipairs(HEADER_FIELDS) do
        mh[field.name] = uint_at(raw, field.offset, field.size)
    end
    mh.spec = MESSAGES[mh.mh_type]
    local declared = (mh.header_len + 1) * 8
    mh.declared_length = declared
    if mh.payload_proto ~= NO_NEXT_HEADER then
        problem(mh.problems, 0, format("Payload Proto is %d, must be %d (RFC 6275 6.1.1)", mh.payload_proto, NO_NEXT_HEADER))
    end
    local stop = declared
    mh.data_end = math.min(declared, available)
    if declared > available then
        problem(mh.problems, 1, format("Header Len says %d octets but only %d are present", declared, available))
        stop = available
    elseif declared < available then
        problem(mh.problems, declared, format("%d octets follow the Mobility Header's declared end", available - declared))
    end
    local spec = mh.spec
    if not spec then
        return mh
    end
    local start = spec.options_offset
    if declared < start then
        problem(mh.problems, 1, format("Header Len says %d octets, too short for a %s (at least %d)", declared, spec.abbrev, start))
    end
    if #spec.fields > 0 then
        if stop < start then
            problem(mh.problems, stop, format("%s truncated before its fixed fields end at octet %d", spec.abbrev, start))
            mh.values = nil
            return mh
        end
        for _, field in ipairs(spec.fields) do
            if field.size <= 4 then
                mh.values[field.name] = uint_at(raw, field.offset, field.size)
            else
                mh.values[field.name] = raw:sub(field.offset + 1, field.offset + field.size)
            end
        end
    end
    parse_options(mh, raw, start, stop)
    return mh
end

-- The first decoded option of a type, like MobilityHeader.option().
local function first_option(mh, code)
    for _, option in ipairs(mh.options) do
        if option.code == code and option.values then return option end
    end
    return nil
end

-- Addresses from the IPv6 header chain --------------------------------------------------
-- Wireshark hands this dissector only the Mobility Header, but the checksum and
-- the authenticators cover addresses from the IPv6 header and its extension
-- headers (Home Address option, type 2 routing header).  Take the frame's
-- octets and walk the chain from the nearest IPv6 header before us, exactly as
-- analyzer/decode.py does; the walk must land on our first octet.
local frame_field = Field.new("frame")
local ipv6_source_field = Field.new("ipv6.src")

local function scan_destination_options(raw, offset, stop, found)
    while offset < stop do
        local option_type = byte(raw, offset + 1)
        if option_type == 0 then
            offset = offset + 1
        else
            if offset + 2 > stop then return end
            local length = byte(raw, offset + 2)
            if offset + 2 + length > stop then return end
            if option_type == HOME_ADDRESS_OPTION and length == 16 then
                found.home_address_option = raw:sub(offset + 3, offset + 18)
            end
            offset = offset + 2 + length
        end
    end
end

local EXTENSION_HEADERS = { [HOP_BY_HOP] = true, [ROUTING] = true, [AUTH_HEADER] = true, [DEST_OPTS] = true }

local function walk_chain(raw, ip, target)
    if #raw < ip + 40 or floor(byte(raw, ip + 1) / 16) ~= 6 then return nil end
    local found = { src = raw:sub(ip + 9, ip + 24), dst = raw:sub(ip + 25, ip + 40) }
    -- Where the IPv6 payload length says the packet ends (0: jumbogram, the frame's end).
    local payload_length = uint_at(raw, ip + 4, 2)
    found.payload_end = payload_length > 0 and ip + 40 + payload_length or #raw
    local next_header = byte(raw, ip + 7)
    local offset = ip + 40
    while offset < target do
        if not EXTENSION_HEADERS[next_header] or offset + 8 > #raw then return nil end
        local length
        if next_header == AUTH_HEADER then
            length = (byte(raw, offset + 2) + 2) * 4
        else
            length = (byte(raw, offset + 2) + 1) * 8
        end
        if offset + length > #raw then return nil end
        if next_header == DEST_OPTS then
            scan_destination_options(raw, offset + 2, offset + length, found)
        elseif next_header == ROUTING and byte(raw, offset + 3) == 2 and length == 24 then
            found.rt2_address = raw:sub(offset + 9, offset + 24)
        end
        next_header = byte(raw, offset + 1)
        offset = offset + length
    end
    if offset ~= target or not MH_NUMBERS[next_header] then return nil end
    found.next_header = next_header
    return found
end

local function enclosing_ipv6(here)
    local frame = frame_field()
    if not frame then return nil end
    local raw = frame.range:raw()
    local sources = { ipv6_source_field() }
    for i = #sources, 1, -1 do
        local ip = sources[i].offset - 8
        if ip >= 0 and ip < here then
            local found = walk_chain(raw, ip, here)
            if found then return found end
        end
    end
    return nil
end

-- Verification, as analyzer/verify.py -----------------------------------------------
local function home_address(mh, ip)
    if mh.mh_type == MH_BA then return ip.rt2_address or ip.dst end
    return ip.home_address_option or ip.src
end

local function care_of_address(mh, ip)
    if mh.mh_type == MH_BA then return ip.dst end
    local alternate = first_option(mh, OPT_ALTERNATE_COA)
    if alternate then return alternate.values.address end
    return ip.src
end

local function mh_with_zero_checksum(raw, stop)
    return raw:sub(1, CHECKSUM_OFFSET) .. "\0\0" .. raw:sub(CHECKSUM_OFFSET + 3, stop)
end

local function check_checksum(mh, raw, upper_length, ip)
    if mh.checksum == nil or #raw < upper_length then
        return "unverified", nil, "the Mobility Header is not captured whole"
    end
    if not ip then
        return "unverified", nil, "the IPv6 header carrying it could not be located (reassembled or tunnelled)"
    end
    local source = ip.home_address_option or ip.src
    local destination = ip.rt2_address or ip.dst
    local pseudo = source .. destination .. be32(upper_length) .. "\0\0\0" .. char(ip.next_header)
    local computed = internet_checksum(pseudo .. mh_with_zero_checksum(raw, upper_length))
    return computed == mh.checksum and "valid" or "invalid", computed
end

local function nai_of(mh)
    local option = first_option(mh, OPT_MN_ID)
    if option and option.values.subtype == MNID_SUBTYPE_NAI then return option.values.identifier end
    return nil
end

-- Returns result ("valid", "invalid", "no-key", "unsupported"), reason, security association.
local function check_authenticator(mh, raw, option, ip, store, nai)
    local values = option.values
    local subtype, spi, received = values.subtype, values.spi, values.authenticator
    local function mobility_data()
        local spi_end = option.offset + 2 + 1 + 4
        return care_of_address(mh, ip) .. home_address(mh, ip) .. mh_with_zero_checksum(raw, spi_end)
    end
    if subtype == AUTH_SUBTYPE_MN_HA then
        local sa = store and store.mn_ha[spi]
        if not sa then
            if spi < RESERVED_SPI_LIMIT then
                return "no-key", format("SPI %d is reserved and cannot index an MN-HA SA", spi)
            end
            return "no-key", format("no MN-HA SA with SPI %d in the keyfile", spi)
        end
        if not ip then return "no-key", "the IPv6 addresses it covers could not be located", sa end
        if #received ~= MN_HA_AUTH_LEN then
            return "invalid", format("authenticator is %d octets; MN-HA sends First(96) = 12", #received), sa
        end
        local computed = crypto.hmac_sha1(sa.key, mobility_data()):sub(1, MN_HA_AUTH_LEN)
        if crypto.equal(computed, received) then return "valid", "HMAC-SHA1 matches", sa end
        return "invalid", "HMAC-SHA1 differs", sa
    end
    if subtype == AUTH_SUBTYPE_MN_AAA then
        if spi ~= HMAC_SHA1_SPI then
            return "unsupported", format("MN-AAA SPI %d names no algorithm we know (only 3, HMAC_SHA1_SPI)", spi)
        end
        local sa = store and nai and store.mn_aaa[nai]
        if not sa then
            if nai == nil then return "no-key", "no MN-NAI option to look the MN-AAA key up by" end
            return "no-key", "no MN-AAA key for NAI " .. nai .. " in the keyfile"
        end
        if not ip then return "no-key", "the IPv6 addresses it covers could not be located", sa end
        if #received < MIN_MN_AAA_AUTH_LEN then
            return "invalid", format("authenticator is %d octets, shorter than 12", #received), sa
        end
        local computed = crypto.hmac_sha1(sa.key, crypto.sha1(mobility_data())):sub(1, #received)
        if crypto.equal(computed, received) then
            return "valid", format("HMAC-SHA1 over SHA1 matches (%d octets compared)", #received), sa
        end
        return "invalid", "HMAC-SHA1 over SHA1 differs", sa
    end
    return "unsupported", format("authentication subtype %d is not defined by RFC 4285", subtype)
end

local function cached_authenticator(pinfo, place, mh, raw, option, ip, store, nai)
    if not pinfo.visited then return check_authenticator(mh, raw, option, ip, store, nai) end
    local frame_number = pinfo.number
    local frame = verdict_cache[frame_number]
    if not frame then
        frame = {}
        verdict_cache[frame_number] = frame
    end
    -- An option starts within the 2048 octets a Header Len can declare.
    local key = place * 4096 + option.offset
    local verdict = frame[key]
    if not verdict then
        verdict = { check_authenticator(mh, raw, option, ip, store, nai) }
        frame[key] = verdict
    end
    return verdict[1], verdict[2], verdict[3]
end

-- RFC 4285 5, 5.1, 5.2: one option per subtype, MN-HA before MN-AAA, MN-AAA
-- last, a lone MN-HA last, no MN-AAA in a BA.  Padding after the last option
-- is allowed: the header must end on a multiple of 8 octets.
local function check_option_order(mh, add_expert)
    local seen, last_real = {}, nil
    for index, option in ipairs(mh.options) do
        if option.code ~= OPT_PAD1 and option.code ~= OPT_PADN then last_real = index end
    end
    local auth_count = 0
    for _, option in ipairs(mh.options) do
        if option.code == OPT_AUTH and option.values then auth_count = auth_count + 1 end
    end
    for index, option in ipairs(mh.options) do
        if option.code == OPT_AUTH and option.values then
            local subtype = option.values.subtype
            local name = AUTH_SUBTYPES[subtype] or format("subtype %d", subtype)
            if seen[subtype] then
                add_expert(option, ef.auth_duplicate, "Second " .. name .. " authentication option (RFC 4285 5: one per subtype)")
            end
            seen[subtype] = true
            if subtype == AUTH_SUBTYPE_MN_HA and seen[AUTH_SUBTYPE_MN_AAA] then
                add_expert(option, ef.auth_order, "MN-HA option after MN-AAA: the HA MUST discard the message (RFC 4285 5)")
            end
            if subtype == AUTH_SUBTYPE_MN_AAA and index ~= last_real then
                add_expert(option, ef.auth_order, "MN-AAA option is not the last option (RFC 4285 5.2)")
            end
            if subtype == AUTH_SUBTYPE_MN_HA and auth_count == 1 and index ~= last_real then
                add_expert(option, ef.auth_not_last, "The only authentication option is MN-HA and it is not the last option (RFC 4285 5.1)")
            end
            if subtype == AUTH_SUBTYPE_MN_AAA and mh.mh_type == MH_BA then
                add_expert(option, ef.auth_aaa_in_ba, "MN-AAA authentication option in a BA; a BA MUST NOT carry it (RFC 4285 5.2)")
            end
        end
    end
end

-- Tree ------------------------------------------------------------------------------------
local function add_field(tree, tvb, field, offset, size, captured)
    if size == nil or offset + size > captured then return nil end
    local range = tvb:range(offset, size)
    if field.kind == "packet_field" then
        return tree:add_packet_field(field.hf, range, ENC_TIME_NTP + ENC_BIG_ENDIAN)
    end
    local item = tree:add(field.hf, range)
    for _, flag in ipairs(field.flags or {}) do
        item:add(flag, range)
    end
    return item
end

local function ntp_seconds(raw8)
    return uint_at(raw8, 0, 4) + uint_at(raw8, 4, 4) / 4294967296
end

-- Each option's item and range are kept on the option, for the verdicts.
local function add_options(tree, tvb, mh, captured)
    for _, option in ipairs(mh.options) do
        local spec = option.spec
        local whole = tvb:range(option.offset, option.size)
        local item = tree:add(spec and spec.hf or hf.option, whole)
        if not spec then item:append_text(format(": unknown type %d", option.code)) end
        option.item, option.range = item, whole
        item:add(hf.option_type, tvb:range(option.offset, 1))
        if option.length ~= nil then
            item:add(hf.option_length, tvb:range(option.offset + 1, 1))
            local data_start = option.offset + 2
            if option.values then
                for _, field in ipairs(spec.fields) do
                    local size = field.size or (option.length - field.offset)
                    add_field(item, tvb, field, data_start + field.offset, size, captured)
                end
            elseif option.length > 0 then
                item:add(hf.option_data, tvb:range(data_start, option.length))
            end
        end
        if option.misaligned then
            item:add_proto_expert_info(ef.misaligned, format("%s at octet %d breaks its %dn+%d alignment",
                                                              spec.name, option.offset, spec.align[1], spec.align[2]))
        end
    end
end

local function describe(mh)
    local spec = mh.spec
    local text = spec and spec.name or format("Mobility Header type %s", tostring(mh.mh_type))
    if mh.values and mh.values.seq then text = text .. format(" seq=%d", mh.values.seq) end
    if mh.values and mh.values.status and mh.mh_type == MH_BA then text = text .. format(" status=%d", mh.values.status) end
    return text
end

-- The dissector ----------------------------------------------------------------------------
local ip_proto_table = DissectorTable.get("ip.proto")
local builtin_mipv6 = ip_proto_table:get_dissector(135)

function mip6audit.dissector(tvb, pinfo, root)
    local captured = tvb:len()
    local raw = captured > 0 and tvb:raw(0, captured) or ""
    local here = tvb:offset()
    local ip = enclosing_ipv6(here)
    -- The upper-layer length the IPv6 payload length promises, as the analyzer
    -- takes it; Wireshark clips its own to the frame when the two disagree.
    local upper_length = ip and ip.payload_end - here or tvb:reported_len()
    local tree = root:add(mip6audit, tvb:range(0, captured))
    local mh = parse_mobility_header(raw)
    local summary = describe(mh)
    tree:append_text(", " .. summary)

    for _, field in ipairs(HEADER_FIELDS) do
        -- Like the analyzer, a header cut short inside its fixed part only yields its type.
        if captured >= MH_FIXED_SIZE or field.name == "mh_type" then
            add_field(tree, tvb, field, field.offset, field.size, captured)
        end
    end
    local checksum_state, computed, why = check_checksum(mh, raw, upper_length, ip)
    if mh.checksum ~= nil then
        local range = tvb:range(CHECKSUM_OFFSET, 2)
        local status = tree:add(hf.mh_checksum_status, range, checksum_state == "valid" and 1 or checksum_state == "invalid" and 0 or 2)
        status:set_generated()
        if computed then
            tree:add(hf.mh_checksum_calculated, range, computed):set_generated()
        end
        if checksum_state == "invalid" then
            status:add_proto_expert_info(ef.checksum_bad, format("Bad checksum 0x%04x, should be 0x%04x", mh.checksum, computed))
        elseif checksum_state == "unverified" then
            status:add_proto_expert_info(ef.checksum_unverified, "Checksum not verified: " .. why)
        end
    end

    local spec = mh.spec
    local body = tree
    if spec and mh.declared_length and mh.values then
        body = tree:add(spec.hf, tvb:range(MH_FIXED_SIZE, math.max(mh.data_end, MH_FIXED_SIZE) - MH_FIXED_SIZE))
        for _, field in ipairs(spec.fields) do
            add_field(body, tvb, field, field.offset, field.size, captured)
        end
    elseif not spec and mh.data_end and mh.data_end > MH_FIXED_SIZE then
        tree:add(hf.mh_data, tvb:range(MH_FIXED_SIZE, mh.data_end - MH_FIXED_SIZE))
    end
    add_options(body, tvb, mh, captured)

    for _, found in ipairs(mh.problems) do
        if found.offset < captured then
            local problem_item = tree:add_tvb_expert_info(ef.malformed, tvb:range(found.offset, 1), found.text)
            problem_item:set_generated()
        else
            tree:add_proto_expert_info(ef.malformed, found.text)
        end
    end
    if captured < upper_length then
        tree:add_proto_expert_info(ef.malformed, format("frame captured %d of %d octets; the Mobility Header is cut off", captured, upper_length))
    end

    -- Authenticators
    local store, keyfile_problem = current_keys()
    if keyfile_problem then
        tree:add_proto_expert_info(ef.keyfile, keyfile_problem)
    end
    local nai = nai_of(mh)
    local verdicts, close_enough = {}, store and store.policy.close_enough or 7.0
    if mh.declared_length then
        for _, option in ipairs(mh.options) do
            if option.code == OPT_AUTH and option.values then
                local result, reason, sa = cached_authenticator(pinfo, here, mh, raw, option, ip, store, nai)
                if sa and sa.close_enough then close_enough = sa.close_enough end
                local item, range = option.item, option.range
                item:add(hf.auth_result, range, result):set_generated()
                item:add(hf.auth_reason, range, reason):set_generated()
                if result == "valid" or result == "invalid" then
                    item:add(hf.auth_valid, range, result == "valid"):set_generated()
                end
                local name = AUTH_SUBTYPES[option.values.subtype] or format("subtype %d", option.values.subtype)
                if result == "invalid" then
                    item:add_proto_expert_info(ef.auth_invalid, format("%s authenticator invalid: %s", name, reason))
                elseif result == "no-key" then
                    item:add_proto_expert_info(ef.auth_no_key, format("%s authenticator not verified: %s", name, reason))
                elseif result == "unsupported" then
                    item:add_proto_expert_info(ef.auth_unsupported, reason)
                end
                verdicts[#verdicts + 1] = name .. " " .. result
            end
        end
    end
    check_option_order(mh, function(option, expert_field, text)
        option.item:add_proto_expert_info(expert_field, text)
    end)

    -- Replay protection: distance of each timestamp from the capture clock
    for _, option in ipairs(mh.options) do
        if option.code == OPT_REPLAY and option.values then
            local item = option.item
            local offset = ntp_seconds(option.values.timestamp) - NTP_UNIX_OFFSET - pinfo.abs_ts
            item:add(hf.mesgid_offset, option.range, offset):set_generated()
            if mh.mh_type == MH_BA and mh.values and mh.values.status == STATUS_ID_MISMATCH then
                item:add_proto_expert_info(ef.mesgid_ha_clock, format(
                    "Status 144: the high 32 bits are the HA's clock, %.3f s from the capture clock", offset))
            elseif mh.mh_type == MH_BU and math.abs(offset) > close_enough then
                item:add_proto_expert_info(ef.mesgid_skew, format(
                    "Timestamp is %.3f s from the capture time; close_enough is %g s (RFC 4285 6)", offset, close_enough))
            end
        end
    end

    if mh.mh_type == MH_BA and mh.values and REJECTIONS[mh.values.status] then
        body:add_proto_expert_info(ef.rejected, format("Status %d %s: %s", mh.values.status,
                                                       BA_STATUS_NAMES[mh.values.status], REJECTIONS[mh.values.status]))
    end

    -- The built-in tree too, on the captured octets only: a cut-off packet then
    -- raises a catchable "malformed" error instead of unwinding through Lua.
    if mip6audit.prefs.builtin_tree and builtin_mipv6 and captured > 0 then
        local whole = captured < upper_length and tvb:range(0, captured):tvb() or tvb
        pcall(builtin_mipv6.call, builtin_mipv6, whole, pinfo, root)
    end

    pinfo.cols.protocol:set("MIPv6")
    if #verdicts > 0 then summary = summary .. " [" .. table.concat(verdicts, ", ") .. "]" end
    if checksum_state == "invalid" then summary = summary .. " [bad checksum]" end
    pinfo.cols.info:set(summary)
    return captured
end

ip_proto_table:add(135, mip6audit)
ip_proto_table:add(62, mip6audit)
