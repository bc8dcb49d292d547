"""RFC 4285 authenticators and the Mobility Header checksum.

Shared by the verifier and the sample writer, so that what we check and what
we build can never drift apart.  HMAC-SHA1 comes from the standard library
(OpenSSL underneath); comparisons are constant-time.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import struct

from . import schema

CHECKSUM_OFFSET = 4  # octets into the Mobility Header
HMAC_BLOCK = 64      # SHA-1 block size
_IPAD = bytes(b ^ 0x36 for b in range(256))
_OPAD = bytes(b ^ 0x5C for b in range(256))


def mobility_data(care_of: bytes, home: bytes, mh: bytes, spi_end: int) -> bytes:
    """care-of address | home address | MH data up to and including the SPI,
    with the MH checksum zeroed (RFC 4285 §5.1, §5.2)."""
    return b"".join((care_of, home, mh[:CHECKSUM_OFFSET], b"\0\0", mh[CHECKSUM_OFFSET + 2:spi_end]))


@functools.lru_cache(maxsize=1 << 14)
def _hmac_sha1_pads(key: bytes):
    """SHA-1 states after the inner and outer HMAC pads (RFC 2104), once per key.

    OpenSSL 3 spends most of a one-shot HMAC of a short message setting the
    key up; resuming from these states makes each authenticator cost two
    plain SHA-1 finishes."""
    if len(key) > HMAC_BLOCK:
        key = hashlib.sha1(key).digest()
    key = key.ljust(HMAC_BLOCK, b"\0")
    return hashlib.sha1(key.translate(_IPAD)), hashlib.sha1(key.translate(_OPAD))


def hmac_sha1(key: bytes, data: bytes) -> bytes:
    inner_pad, outer_pad = _hmac_sha1_pads(key)
    inner = inner_pad.copy()
    inner.update(data)
    outer = outer_pad.copy()
    outer.update(inner.digest())
    return outer.digest()


def mn_ha_authenticator(key: bytes, data: bytes) -> bytes:
    """First(96, HMAC_SHA1(MN-HA key, Mobility Data))."""
    return hmac_sha1(key, data)[:schema.MN_HA_AUTH_LEN]


def mn_aaa_authenticator(key: bytes, data: bytes) -> bytes:
    """HMAC_SHA1(MN-AAA key, SHA1(Mobility Data)), untruncated (SPI 3)."""
    return hmac_sha1(key, hashlib.sha1(data).digest())


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
    """Checksum over the IPv6 pseudo-header and the MH with its checksum zeroed.

    Arithmetic shortcut, same result as ``internet_checksum`` over the
    concatenation: 2**16 = 1 (mod 0xFFFF), so the one's-complement sum of the
    16-bit words of a big-endian number is that number mod 0xFFFF (0 read as
    0xFFFF, since the pseudo-header's next header makes the sum non-zero).
    The checksum word sits on a word boundary, so zeroing it subtracts it."""
    length = len(mh)
    if length < CHECKSUM_OFFSET + 2:    # shorter than the checksum field: no shortcut
        pseudo = src + dst + struct.pack("!IxxxB", length, next_header)
        return internet_checksum(pseudo + mh[:CHECKSUM_OFFSET] + b"\0\0")
    body = int.from_bytes(mh, "big")
    if length % 2:
        body <<= 8      # the zero pad octet
    stored = mh[CHECKSUM_OFFSET] << 8 | mh[CHECKSUM_OFFSET + 1]
    total = (int.from_bytes(src, "big") + int.from_bytes(dst, "big") + length + next_header
             + body - stored) % 0xFFFF
    return ~(total or 0xFFFF) & 0xFFFF
