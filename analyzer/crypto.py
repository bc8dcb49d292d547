"""RFC 4285 authenticators and the Mobility Header checksum.

Shared by the verifier and the sample writer, so that what we check and what
we build can never drift apart.  HMAC-SHA1 comes from the standard library
(OpenSSL underneath); comparisons are constant-time.
"""

from __future__ import annotations

import hashlib
import hmac
import struct

from . import schema

CHECKSUM_OFFSET = 4  # octets into the Mobility Header


def mobility_data(care_of: bytes, home: bytes, mh: bytes, spi_end: int) -> bytes:
    """care-of address | home address | MH data up to and including the SPI,
    with the MH checksum zeroed (RFC 4285 §5.1, §5.2)."""
    return b"".join((care_of, home, mh[:CHECKSUM_OFFSET], b"\0\0", mh[CHECKSUM_OFFSET + 2:spi_end]))


def mn_ha_authenticator(key: bytes, data: bytes) -> bytes:
    """First(96, HMAC_SHA1(MN-HA key, Mobility Data))."""
    return hmac.new(key, data, hashlib.sha1).digest()[:schema.MN_HA_AUTH_LEN]


def mn_aaa_authenticator(key: bytes, data: bytes) -> bytes:
    """HMAC_SHA1(MN-AAA key, SHA1(Mobility Data)), untruncated (SPI 3)."""
    return hmac.new(key, hashlib.sha1(data).digest(), hashlib.sha1).digest()


def matches(expected: bytes, received: bytes) -> bool:
    return hmac.compare_digest(expected, received)


def internet_checksum(data: bytes) -> int:
    """One's-complement sum of 16-bit words, folded and inverted."""
    if len(data) % 2:
        data += b"\0"
    total = sum(struct.unpack("!%dH" % (len(data) // 2), data))
    while total >> 16:
        total = (total & 0xFFFF) + (total >> 16)
    return ~total & 0xFFFF


def mh_checksum(src: bytes, dst: bytes, next_header: int, mh: bytes) -> int:
    """Checksum over the IPv6 pseudo-header and the MH with its checksum zeroed."""
    pseudo = src + dst + struct.pack("!IxxxB", len(mh), next_header)
    return internet_checksum(pseudo + mh[:CHECKSUM_OFFSET] + b"\0\0" + mh[CHECKSUM_OFFSET + 2:])
