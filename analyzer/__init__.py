"""mip6-audit: audit RFC 4285 Mobile IPv6 signalling in packet captures.

Pipeline, one module per stage:
capture (read frames) -> decode (IPv6 chain, Mobility Header via schema)
-> verify (checksum, authenticators) -> correlate (per-MN exchanges)
-> rules (RFC 4285 findings) -> report (text, jsonl).
"""

__version__ = "0.1.0"
