"""RFC 4285 test captures built with scapy, independently of our own code.

Scapy builds the IPv6 chain, the Mobility Header, option alignment and the
MH checksum; the authenticators are computed here with ``hmac`` over the
inputs the notes' table names.  Nothing from ``analyzer`` is used, so the
captures can judge both the analyzer and the generated Lua dissector.
"""

from __future__ import annotations

import ipaddress
from pathlib import Path
from typing import List, Optional, Sequence, Tuple

from frames import hmac_sha1, mh_checksum, mobility_data, sha1  # the shared cryptography oracle
from scapy.layers.inet6 import (
    HAO,
    MIP6MH_BA,
    MIP6MH_BU,
    IPv6,
    IPv6ExtHdrDestOpt,
    IPv6ExtHdrRouting,
    MIP6OptAltCoA,
    MIP6OptMNID,
    MIP6OptMsgAuth,
    MIP6OptReplayProtection,
    PadN,
)
from scapy.layers.l2 import Ether
from scapy.utils import wrpcap

NTP_UNIX = 2208988800
T0 = 1_700_000_000  # frame times of the built captures

MN_HA_SPI = 4097
MN_HA_KEY = bytes.fromhex("00112233445566778899aabbccddeeff")
WRONG_KEY = bytes.fromhex("ffeeddccbbaa99887766554433221100")
NAI = "mn1@ims.example.net"
MN_AAA_NAI = "mn3@ims.example.net"
MN_AAA_KEY = bytes.fromhex("5eed5eed5eed5eed5eed5eed5eed5eed")
HMAC_SHA1_SPI = 3

HA = "2001:db8:100::1"
HOA = "2001:db8:100::11"
COA = "2001:db8:200::22"
ALT_COA = "2001:db8:300::33"

KEYFILE = """\
# keys for the scapy-built RFC 4285 captures
[policy]
replay = "timestamp"
close_enough = 7

[[mn_ha]]
spi = %d
key = "%s"
nai = "%s"
home_address = "%s"

[[mn_aaa]]
nai = "%s"
spi = 3
key = "%s"   # MN-AAA secret
""" % (MN_HA_SPI, MN_HA_KEY.hex(), NAI, HOA, MN_AAA_NAI, MN_AAA_KEY.hex())


def ntp(unix_seconds: float) -> int:
    seconds = int(unix_seconds)
    return ((seconds + NTP_UNIX) << 32) | int((unix_seconds - seconds) * (1 << 32))


def _packed(address: str) -> bytes:
    return ipaddress.IPv6Address(address).packed


def _mh_offset(frame: bytes) -> int:
    """Where the Mobility Header starts in an Ethernet/IPv6 frame."""
    offset, next_header = 14 + 40, frame[14 + 6]
    while next_header in (0, 43, 60):
        next_header, offset = frame[offset], offset + (frame[offset + 1] + 1) * 8
    return offset


def _auth_spi_end(mh: bytes, index: int) -> int:
    """End of the SPI field of the index-th authentication option."""
    offset, seen = 12, 0
    while offset < len(mh):
        if mh[offset] == 0:
            offset += 1
            continue
        if mh[offset] == 9:
            if seen == index:
                return offset + 7
            seen += 1
        offset += 2 + mh[offset + 1]
    raise ValueError("no authentication option %d" % index)


def _authenticator(kind: str, key: bytes, data: bytes, length: int) -> bytes:
    if kind == "mn-ha":
        return hmac_sha1(key, data)[:12]
    return hmac_sha1(key, sha1(data))[:length]


def _checksum(source: str, destination: str, mh: bytes) -> int:
    return mh_checksum(_packed(source), _packed(destination), mh)


def build(ip, mh, care_of: str, home: str, signers: Sequence[Optional[Tuple[str, bytes]]] = (),
          checksum_addresses: Optional[Tuple[str, str]] = None):
    """Fill each MIP6OptMsgAuth of ``mh`` in order with (kind, key), then let scapy
    compute the checksum.  ``care_of``/``home`` are the authenticator inputs."""
    auth_options = [opt for opt in mh.options if isinstance(opt, MIP6OptMsgAuth)]
    packet = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / ip / mh
    for index, (option, signer) in enumerate(zip(auth_options, signers)):
        if signer is None:
            continue
        frame = bytes(packet)
        raw_mh = frame[_mh_offset(frame):]
        spi_end = _auth_spi_end(raw_mh, index)
        data = mobility_data(_packed(care_of), _packed(home), raw_mh, spi_end)
        option.authdata = _authenticator(signer[0], signer[1], data, len(option.authdata))
        packet = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / ip / mh
    if checksum_addresses:
        # Scapy sums the care-of address when PadN precedes the Home Address
        # option (see the notes), so this checksum is computed here instead.
        frame = bytes(packet)
        mh.cksum = _checksum(*checksum_addresses, frame[_mh_offset(frame):])
        packet = Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / ip / mh
    return packet


def _bu(seq, options, source=COA, with_hao=True, checksum=None):
    chain = IPv6(src=source, dst=HA)
    if with_hao:
        chain = chain / IPv6ExtHdrDestOpt(options=[HAO(hoa=HOA)])
    return chain, MIP6MH_BU(seq=seq, flags="AH", mhtime=100, options=options, cksum=checksum)


def _ba(seq, status, options, checksum=None):
    chain = IPv6(src=HA, dst=COA) / IPv6ExtHdrRouting(type=2, segleft=1, addresses=[HOA])
    return chain, MIP6MH_BA(seq=seq, status=status, mhtime=100, options=options, cksum=checksum)


def scenarios() -> List[Tuple[str, object, dict]]:
    """(name, packet, what the verifier must say) for every built frame.

    ``expect`` maps 'auth' to the verdicts in option order and 'checksum' to
    valid/invalid.
    """
    out = []

    def add(name, ip_mh, care_of, home, signers, expect, when=T0, checksum_addresses=None):
        ip, mh = ip_mh
        packet = build(ip, mh, care_of, home, signers, checksum_addresses)
        packet.time = when + len(out)
        out.append((name, packet, expect))

    def mn_ha(length=12, spi=MN_HA_SPI):
        return MIP6OptMsgAuth(subtype=1, mspi=spi, authdata=b"\0" * length)

    def mn_aaa(length=20, spi=HMAC_SHA1_SPI):
        return MIP6OptMsgAuth(subtype=2, mspi=spi, authdata=b"\0" * length)

    def stamp(offset=0.25):
        return MIP6OptReplayProtection(timestamp=ntp(T0 + len(out) + offset))

    ok = ("mn-ha", MN_HA_KEY)
    add("bu-mn-ha-valid", _bu(10, [MIP6OptMNID(id=NAI.encode()), stamp(), mn_ha()]), COA, HOA, [ok],
        {"auth": ["valid"], "checksum": "valid"})
    add("ba-mn-ha-valid", _ba(10, 0, [stamp(), mn_ha()]), COA, HOA, [ok],
        {"auth": ["valid"], "checksum": "valid"})
    add("bu-wrong-key", _bu(11, [MIP6OptMNID(id=NAI.encode()), stamp(), mn_ha()]), COA, HOA,
        [("mn-ha", WRONG_KEY)], {"auth": ["invalid"], "checksum": "valid"})
    add("bu-unknown-spi", _bu(12, [stamp(), mn_ha(spi=9999)]), COA, HOA, [ok],
        {"auth": ["no-key"], "checksum": "valid"})
    add("bu-from-home", _bu(13, [MIP6OptMNID(id=NAI.encode()), mn_ha()], source=HOA, with_hao=False),
        HOA, HOA, [ok], {"auth": ["valid"], "checksum": "valid"})
    add("bu-alternate-coa", _bu(14, [MIP6OptAltCoA(acoa=ALT_COA), mn_ha()]), ALT_COA, HOA, [ok],
        {"auth": ["valid"], "checksum": "valid"})
    add("bu-mn-ha-and-mn-aaa", _bu(15, [MIP6OptMNID(id=MN_AAA_NAI.encode()), stamp(), mn_ha(), mn_aaa()]),
        COA, HOA, [ok, ("mn-aaa", MN_AAA_KEY)], {"auth": ["valid", "valid"], "checksum": "valid"})
    add("bu-mn-aaa-12-octets", _bu(16, [MIP6OptMNID(id=MN_AAA_NAI.encode()), mn_aaa(length=12)]),
        COA, HOA, [("mn-aaa", MN_AAA_KEY)], {"auth": ["valid"], "checksum": "valid"})
    add("bu-mn-aaa-spi-5", _bu(17, [MIP6OptMNID(id=MN_AAA_NAI.encode()), mn_aaa(spi=5)]),
        COA, HOA, [("mn-aaa", MN_AAA_KEY)], {"auth": ["unsupported"], "checksum": "valid"})
    add("bu-mn-aaa-before-mn-ha", _bu(18, [MIP6OptMNID(id=MN_AAA_NAI.encode()), mn_aaa(), mn_ha()]),
        COA, HOA, [("mn-aaa", MN_AAA_KEY), ok], {"auth": ["valid", "valid"], "checksum": "valid",
                                                 "experts": ["auth.order"]})
    add("bu-timestamp-skewed", _bu(19, [MIP6OptMNID(id=NAI.encode()), stamp(offset=60), mn_ha()]),
        COA, HOA, [ok], {"auth": ["valid"], "checksum": "valid", "experts": ["mesgid.skew"]})
    add("ba-auth-fail-bad-checksum", _ba(19, 146, [mn_ha()], checksum=0x1234), COA, HOA, [ok],
        {"auth": ["valid"], "checksum": "invalid", "experts": ["ba.rejected", "checksum.bad"]})
    add("ba-mn-aaa", _ba(20, 0, [mn_ha(), mn_aaa()]), COA, HOA, [ok, None],
        {"auth": ["valid", "no-key"], "checksum": "valid", "experts": ["auth.mn_aaa_in_ba"]})
    padded = IPv6(src=COA, dst=HA) / IPv6ExtHdrDestOpt(options=[PadN(optdata=b"\0\0"), HAO(hoa=HOA)])
    add("bu-padn-before-hao", (padded, MIP6MH_BU(seq=21, flags="AH", mhtime=100, options=[mn_ha()])),
        COA, HOA, [ok], {"auth": ["valid"], "checksum": "valid"}, checksum_addresses=(HOA, HA))
    return out


def write_capture(directory: Path, name: str = "rfc4285-scapy") -> Tuple[Path, Path, list]:
    """Write every scenario into one pcap plus its keyfile; returns paths and scenarios."""
    built = scenarios()
    capture = directory / (name + ".pcap")
    keys = directory / (name + ".toml")
    wrpcap(str(capture), [packet for _, packet, _ in built])
    keys.write_text(KEYFILE)
    keys.chmod(0o600)
    return capture, keys, built


