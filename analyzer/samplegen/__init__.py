"""Deterministic Mobile IPv6 scenario generator (``mip6-audit samples``).

``packets`` writes the wire bytes (Ethernet, IPv6 with Home Address option or
type 2 routing header, Mobility Header with aligned options, checksum and
RFC 4285 authenticators), ``nodes`` models mobile nodes, home agents and their
clocks, ``traffic`` makes the unrelated frames around them, ``scenarios``
tells the stories and what the analyzer must find in each, ``output`` writes
pcap/pcapng, keyfiles and the README table, and ``bulk`` streams the large
benchmark capture.  Same scenario and seed give byte-identical files.
"""
