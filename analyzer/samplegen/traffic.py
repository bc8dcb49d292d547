"""Unrelated traffic interleaved with the signalling: IPv4 and IPv6, UDP and TCP.

Built with dpkt, which fills in lengths and checksums, so tshark shows these
frames as ordinary healthy traffic.  Also tunnelled data between the home agent
and a care-of address (IPv6 in IPv6), which shares addresses with the signalling
but carries no Mobility Header.
"""

from __future__ import annotations

import ipaddress
import random
from typing import List, Optional, Sequence, Tuple

import dpkt
from dpkt import ip as dpkt_ip
from dpkt import ip6 as dpkt_ip6
from dpkt import tcp as dpkt_tcp
from dpkt import udp as dpkt_udp

from . import packets
from .nodes import HA_MAC, ROUTER_MAC

ETH_IPV4 = dpkt.ethernet.ETH_TYPE_IP
IPPROTO_IPV6 = 41
KINDS = ("udp4", "tcp4", "udp6", "tcp6")


def _v4(text: str) -> bytes:
    return ipaddress.IPv4Address(text).packed


def _v6(text: str) -> bytes:
    return ipaddress.IPv6Address(text).packed


NAMES = ("www.example.com", "ntp.example.org", "mail.example.net", "ims.example.net")


def _dns(rng: random.Random) -> bytes:
    query = dpkt.dns.DNS(id=rng.randrange(65536), qd=[dpkt.dns.DNS.Q(name=rng.choice(NAMES))])
    query.op = dpkt.dns.DNS_RD
    return bytes(query)


def _transport(kind: str, rng: random.Random):
    if kind.startswith("udp") and rng.random() < 0.4:
        payload = _dns(rng)
        return dpkt_udp.UDP(sport=rng.randrange(1024, 65536), dport=53, data=payload, ulen=8 + len(payload))
    # Random payload only where tshark expects opaque bytes (TLS, QUIC, SSH), so it reads as healthy.
    payload = rng.randbytes(rng.choice((0, 0, 36, 64, 120, 512)))
    if kind.startswith("udp"):
        return dpkt_udp.UDP(sport=rng.randrange(1024, 65536), dport=443, data=payload, ulen=8 + len(payload))
    flags = dpkt_tcp.TH_ACK | (dpkt_tcp.TH_PUSH if payload else 0)
    return dpkt_tcp.TCP(sport=rng.randrange(1024, 65536), dport=rng.choice((22, 443)),
                        seq=rng.getrandbits(32), ack=rng.getrandbits(32), flags=flags,
                        win=rng.choice((502, 4096, 65535)), data=payload)


def _ipv6(src: bytes, dst: bytes, upper, next_header: int) -> bytes:
    packet = dpkt_ip6.IP6(src=src, dst=dst, nxt=next_header, hlim=64, data=upper, plen=len(bytes(upper)))
    return bytes(packet)


class Background:
    """Makes one unrelated frame at a time from a seeded random source."""

    def __init__(self, rng: random.Random, tunnels: Sequence[Tuple[bytes, bytes, bytes]] = ()):
        self.rng = rng
        self.tunnels = list(tunnels)   # (home agent, care-of address, home address)
        self.v4_hosts = [_v4("192.0.2.%d" % n) for n in range(10, 40)]
        self.v4_servers = [_v4(a) for a in ("198.51.100.53", "203.0.113.80", "203.0.113.44")]
        self.v6_hosts = [_v6("2001:db8:100::%x" % n) for n in range(0x100, 0x120)]
        self.v6_servers = [_v6(a) for a in ("2001:db8:ffff::53", "2001:db8:ffff::80", "2001:db8:eeee::1")]

    def frame(self) -> bytes:
        rng = self.rng
        kinds = KINDS + (("tunnel",) if self.tunnels else ())
        kind = rng.choice(kinds)
        outbound = rng.random() < 0.5
        if kind == "tunnel":
            home_agent, care_of, home = rng.choice(self.tunnels)
            inner = _ipv6(rng.choice(self.v6_servers), home, _transport("udp6", rng), dpkt_ip.IP_PROTO_UDP)
            packet = bytes(dpkt_ip6.IP6(src=home_agent, dst=care_of, nxt=IPPROTO_IPV6, hlim=64,
                                        data=inner, plen=len(inner)))
            return packets.ethernet(HA_MAC, ROUTER_MAC, packet)
        upper = _transport(kind, rng)
        proto = dpkt_ip.IP_PROTO_UDP if kind.startswith("udp") else dpkt_ip.IP_PROTO_TCP
        if kind.endswith("4"):
            host, server = rng.choice(self.v4_hosts), rng.choice(self.v4_servers)
            src, dst = (host, server) if outbound else (server, host)
            packet = dpkt_ip.IP(src=src, dst=dst, p=proto, ttl=64, id=rng.randrange(65536), data=upper)
            packet.len = len(packet.pack_hdr()) + len(bytes(upper))
            return packets.ethernet(ROUTER_MAC, HA_MAC, bytes(packet), ETH_IPV4)
        host, server = rng.choice(self.v6_hosts), rng.choice(self.v6_servers)
        src, dst = (host, server) if outbound else (server, host)
        return packets.ethernet(ROUTER_MAC, HA_MAC, _ipv6(src, dst, upper, proto))

    def pool(self, size: int) -> List[bytes]:
        return [self.frame() for _ in range(size)]


def sprinkle(count: int, start_us: int, end_us: int, rng: random.Random,
             background: Optional[Background] = None) -> List[Tuple[int, bytes]]:
    """``count`` unrelated frames at random times in [start_us, end_us]."""
    background = background or Background(rng)
    times = sorted(rng.randrange(start_us, end_us + 1) for _ in range(count))
    return [(t, background.frame()) for t in times]
