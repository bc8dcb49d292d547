"""Stage 3: verify what can be checked on one message alone.

Fills ``Message.checksum``, ``Message.mn_id`` and ``Message.auth_results``.
Each ``AuthResult`` keeps the exact input it was computed over, so the
forensic trace (``--explain``) can show the bytes behind the verdict.
"""

from __future__ import annotations

from typing import Optional

from . import crypto, schema
from .decode import Message
from .keys import KeyStore

VALID, INVALID, NO_KEY, UNSUPPORTED = "valid", "invalid", "no-key", "unsupported"


class AuthResult:
    __slots__ = ("option", "subtype", "spi", "result", "reason", "computed", "key_source")

    def __init__(self, option, subtype, spi, result, reason, computed=None, key_source=None):
        self.option = option
        self.subtype = subtype
        self.spi = spi
        self.result = result
        self.reason = reason
        self.computed = computed        # the authenticator we expected (never the key)
        self.key_source = key_source    # "MN-HA SPI 4097", "MN-AAA NAI mn@x": names, no bytes

    @property
    def subtype_name(self) -> str:
        return schema.AUTH_SUBTYPES.get(self.subtype, "subtype %d" % self.subtype)

    def as_json(self) -> dict:
        return {"subtype": self.subtype_name, "spi": self.spi, "result": self.result}


def verify_message(msg: Message, keys: Optional[KeyStore]) -> None:
    mh = msg.mh
    if mh is None:
        return
    nai_option = mh.option(schema.OPT_MN_ID)
    if nai_option is not None and nai_option.values["subtype"] == schema.MNID_SUBTYPE_NAI:
        msg.mn_id = nai_option.values["identifier"].decode("utf-8", "replace")
    msg.checksum = check_checksum(msg)
    if mh.declared_length is None:
        return
    for option in mh.options_of(schema.OPT_AUTH):
        msg.auth_results.append(check_authenticator(msg, option, keys))


def expected_checksum(msg: Message) -> Optional[int]:
    """The checksum the MH should carry, or None when it was not captured whole."""
    mh = msg.mh
    if mh.checksum is None or msg.upper_length is None or len(mh.raw) < msg.upper_length:
        return None
    # The pseudo-header says 135 even when the IPv6 header used the old number 62
    # (RFC 6275 §6.1.1; protocol notes).
    return crypto.mh_checksum(msg.home_address_option or msg.src, msg.rt2_address or msg.dst,
                              schema.MH_NEXT_HEADER, mh.raw[:msg.upper_length])


def check_checksum(msg: Message) -> str:
    expected = expected_checksum(msg)
    if expected is None:
        return "unverified"
    return VALID if expected == msg.mh.checksum else INVALID


def authenticated_input(msg: Message, option) -> bytes:
    """The Mobility Data an authentication option covers (notes: 'Which bytes')."""
    spi_end = option.offset + 2 + 1 + 4
    return crypto.mobility_data(msg.care_of_address, msg.home_address, msg.mh.raw, spi_end)


def check_authenticator(msg: Message, option, keys: Optional[KeyStore]) -> AuthResult:
    subtype = option.values["subtype"]
    spi = option.values["spi"]
    received = option.values["authenticator"]
    if subtype == schema.AUTH_SUBTYPE_MN_HA:
        sa = keys.mn_ha_for_spi(spi) if keys else None
        if sa is None:
            reason = ("SPI %d is reserved and cannot index an MN-HA SA" % spi
                      if spi < schema.RESERVED_SPI_LIMIT else "no MN-HA SA with SPI %d in the keyfile" % spi)
            return AuthResult(option, subtype, spi, NO_KEY, reason)
        computed = crypto.mn_ha_authenticator(sa.key.material, authenticated_input(msg, option))
        source = "MN-HA SA, SPI %d" % spi
        if len(received) != schema.MN_HA_AUTH_LEN:
            return AuthResult(option, subtype, spi, INVALID, "authenticator is %d octets; MN-HA sends First(96) = 12"
                              % len(received), computed, source)
        if crypto.matches(computed, received):
            return AuthResult(option, subtype, spi, VALID, "HMAC-SHA1 matches", computed, source)
        return AuthResult(option, subtype, spi, INVALID, "HMAC-SHA1 differs", computed, source)
    if subtype == schema.AUTH_SUBTYPE_MN_AAA:
        if spi != schema.HMAC_SHA1_SPI:
            return AuthResult(option, subtype, spi, UNSUPPORTED,
                              "MN-AAA SPI %d names no algorithm we know (only 3, HMAC_SHA1_SPI)" % spi)
        sa = keys.mn_aaa_for_nai(msg.mn_id) if keys else None
        if sa is None:
            reason = ("no MN-NAI option to look the MN-AAA key up by" if msg.mn_id is None
                      else "no MN-AAA key for NAI %s in the keyfile" % msg.mn_id)
            return AuthResult(option, subtype, spi, NO_KEY, reason)
        full = crypto.mn_aaa_authenticator(sa.key.material, authenticated_input(msg, option))
        source = "MN-AAA key of NAI %s" % msg.mn_id
        if len(received) < schema.MIN_MN_AAA_AUTH_LEN:
            return AuthResult(option, subtype, spi, INVALID, "authenticator is %d octets, shorter than 12"
                              % len(received), full, source)
        computed = full[:len(received)]
        if crypto.matches(computed, received):
            return AuthResult(option, subtype, spi, VALID, "HMAC-SHA1 over SHA1 matches (%d octets compared)"
                              % len(received), computed, source)
        return AuthResult(option, subtype, spi, INVALID, "HMAC-SHA1 over SHA1 differs", computed, source)
    return AuthResult(option, subtype, spi, UNSUPPORTED,
                      "authentication subtype %d is not defined by RFC 4285" % subtype)
