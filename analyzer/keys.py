"""The keyfile: mobility security associations and the home agent's policy.

Key material lives only in ``Secret`` objects, whose text forms never show
the bytes, so no error message, log line or report can leak them.
"""

from __future__ import annotations

import ipaddress
import os
import re
import stat
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

try:
    import tomllib
except ModuleNotFoundError:  # Python < 3.11
    import tomli as tomllib  # type: ignore[no-redef]

from . import schema

REPLAY_MODES = ("timestamp", "sequence")
DEFAULT_CLOSE_ENOUGH = 7.0


class KeyfileError(Exception):
    """A keyfile problem, already phrased as 'file:line: reason'."""


class Secret:
    __slots__ = ("_material",)

    def __init__(self, material: bytes):
        self._material = material

    @property
    def material(self) -> bytes:
        return self._material

    def __repr__(self) -> str:
        return "Secret(<%d octets, hidden>)" % len(self._material)

    __str__ = __repr__


@dataclass(frozen=True)
class Policy:
    replay: str = "timestamp"
    close_enough: float = DEFAULT_CLOSE_ENOUGH
    require_mesg_id: bool = False


@dataclass(frozen=True)
class SecurityAssociation:
    kind: str                      # "mn_ha" or "mn_aaa"
    spi: int
    key: Secret = field(repr=False)
    nai: Optional[str] = None
    home_address: Optional[bytes] = None
    replay: Optional[str] = None
    close_enough: Optional[float] = None

    def policy(self, base: Policy) -> Policy:
        return Policy(self.replay or base.replay,
                      base.close_enough if self.close_enough is None else self.close_enough,
                      base.require_mesg_id)


@dataclass
class KeyStore:
    policy: Policy = field(default_factory=Policy)
    mn_ha: Dict[int, SecurityAssociation] = field(default_factory=dict)
    mn_aaa: Dict[str, SecurityAssociation] = field(default_factory=dict)
    source: Optional[str] = None
    _index: Optional[tuple] = field(default=None, repr=False, compare=False)

    def mn_ha_for_spi(self, spi: int) -> Optional[SecurityAssociation]:
        return self.mn_ha.get(spi)

    def mn_aaa_for_nai(self, nai: Optional[str]) -> Optional[SecurityAssociation]:
        return self.mn_aaa.get(nai) if nai else None

    def mn_ha_for_node(self, nai: Optional[str], home_address: Optional[bytes]) -> Optional[SecurityAssociation]:
        """The MN-HA SA the HA would hold for a mobile node, found by NAI or home
        address; the first such SA in keyfile order."""
        by_nai, by_home = self._node_index()
        found = [hit for hit in (by_nai.get(nai) if nai else None,
                                 by_home.get(home_address) if home_address else None) if hit]
        return min(found, key=lambda hit: hit[0])[1] if found else None

    def _node_index(self):
        # Built on first use: asked per message, it must not scan thousands of SAs.
        if self._index is None or self._index[0] != len(self.mn_ha):
            by_nai, by_home = {}, {}
            for position, sa in enumerate(self.mn_ha.values()):
                if sa.nai:
                    by_nai.setdefault(sa.nai, (position, sa))
                if sa.home_address:
                    by_home.setdefault(sa.home_address, (position, sa))
            self._index = (len(self.mn_ha), by_nai, by_home)
        return self._index[1], self._index[2]

    def policy_for(self, sa: Optional[SecurityAssociation]) -> Policy:
        return sa.policy(self.policy) if sa is not None else self.policy

    def with_policy(self, **overrides) -> "KeyStore":
        values = {k: v for k, v in overrides.items() if v is not None}
        if not values:
            return self
        current = self.policy
        policy = Policy(values.get("replay", current.replay),
                        values.get("close_enough", current.close_enough),
                        values.get("require_mesg_id", current.require_mesg_id))
        return KeyStore(policy, self.mn_ha, self.mn_aaa, self.source)


class _Locator:
    """Finds the line a table entry or key sits on, for located messages."""

    def __init__(self, text: str):
        self.lines = text.splitlines()
        self._headers: dict = {}   # (name, array?) -> header line numbers; one scan, not one per entry

    def table(self, name: str, index: Optional[int] = None) -> int:
        found = self._headers.get((name, index is not None))
        if found is None:
            pattern = re.compile(r"^\s*\[\[\s*%s\s*\]\]" % re.escape(name) if index is not None
                                 else r"^\s*\[\s*%s\s*\]" % re.escape(name))
            found = self._headers[name, index is not None] = [
                number for number, line in enumerate(self.lines, 1) if pattern.match(line)]
        position = 0 if index is None else index
        if position < len(found):
            return found[position]
        return self._assignment(name)

    def _assignment(self, name: str) -> int:
        """Where a table written inline (`mn_ha = [{...}]`) starts, else line 1."""
        if (name, "=") not in self._headers:
            pattern = re.compile(r"^\s*%s\s*=" % re.escape(name))
            self._headers[name, "="] = next(
                (number for number, line in enumerate(self.lines, 1) if pattern.match(line)), 1)
        return self._headers[name, "="]

    def key(self, table_line: int, key: str) -> int:
        pattern = re.compile(r"^\s*%s\s*=" % re.escape(key))
        for number in range(table_line, len(self.lines) + 1):
            line = self.lines[number - 1]
            if number > table_line and line.lstrip().startswith("["):
                break
            if pattern.match(line):
                return number
        return table_line


def load(path: str) -> Tuple[KeyStore, List[str]]:
    """Read a keyfile.  Returns the store and warnings; raises ``KeyfileError``."""
    try:
        with open(path, "rb") as handle:
            raw = handle.read()
        mode = os.stat(path).st_mode
    except OSError as exc:
        raise KeyfileError("%s: cannot read keyfile: %s" % (path, exc.strerror or exc)) from None
    warnings = []
    if mode & (stat.S_IRGRP | stat.S_IROTH):
        warnings.append("%s: keyfile is readable by group or others; chmod 600 it" % path)
    try:
        text = raw.decode("utf-8")
        document = tomllib.loads(text)
    except UnicodeDecodeError as exc:
        raise KeyfileError("%s: not UTF-8 text (octet %d)" % (path, exc.start)) from None
    except tomllib.TOMLDecodeError as exc:
        raise KeyfileError(_toml_message(path, exc)) from None
    return parse_document(document, path, text), warnings


def _toml_message(path: str, exc: Exception) -> str:
    """'file:line: reason', the form every other keyfile error takes."""
    message = str(exc)
    found = re.search(r"\(at line (\d+), column (\d+)\)", message)
    if found:
        reason = message[:found.start()].strip()
        return "%s:%s: TOML syntax error: %s (column %s)" % (path, found.group(1), reason, found.group(2))
    return "%s: TOML syntax error: %s" % (path, message)


def parse_document(document: dict, path: str = "<keyfile>", text: str = "") -> KeyStore:
    where = _Locator(text)

    def fail(line: int, reason: str):
        raise KeyfileError("%s:%d: %s" % (path, line, reason))

    unknown = set(document) - {"policy", "mn_ha", "mn_aaa"}
    if unknown:
        name = sorted(unknown)[0]
        fail(where.table(name) if isinstance(document[name], dict) else where.key(1, name),
             "unknown section %r (expected policy, mn_ha, mn_aaa)" % name)
    policy = _parse_policy(document.get("policy", {}), where, fail)
    store = KeyStore(policy=policy, source=path)
    for section in ("mn_ha", "mn_aaa"):
        entries = document.get(section, [])
        if not isinstance(entries, list):
            fail(where.table(section), "%s must be an array of tables ([[%s]])" % (section, section))
        for index, entry in enumerate(entries):
            line = where.table(section, index)
            sa = _parse_sa(section, entry, line, where, fail)
            if section == "mn_ha":
                if sa.spi in store.mn_ha:
                    fail(where.key(line, "spi"), "duplicate MN-HA SPI %d" % sa.spi)
                store.mn_ha[sa.spi] = sa
            else:
                if sa.nai in store.mn_aaa:
                    fail(where.key(line, "nai"), "duplicate MN-AAA entry for NAI %r" % sa.nai)
                store.mn_aaa[sa.nai] = sa
    return store


def _parse_policy(table, where, fail) -> Policy:
    line = where.table("policy")
    if not isinstance(table, dict):
        fail(line, "policy must be a table")
    allowed = {"replay", "close_enough", "require_mesg_id"}
    for key in table:
        if key not in allowed:
            fail(where.key(line, key), "unknown policy key %r (expected %s)" % (key, ", ".join(sorted(allowed))))
    replay = _replay(table.get("replay", "timestamp"), where.key(line, "replay"), fail)
    close = _close_enough(table.get("close_enough", DEFAULT_CLOSE_ENOUGH), where.key(line, "close_enough"), fail)
    require = table.get("require_mesg_id", False)
    if not isinstance(require, bool):
        fail(where.key(line, "require_mesg_id"), "require_mesg_id must be true or false")
    return Policy(replay, close, require)


def _replay(value, line, fail):
    if value not in REPLAY_MODES:
        fail(line, "replay must be \"timestamp\" or \"sequence\", not %r" % (value,))
    return value


def _close_enough(value, line, fail):
    if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
        fail(line, "close_enough must be a positive number of seconds")
    return float(value)


def _parse_sa(section, entry, line, where, fail) -> SecurityAssociation:
    if not isinstance(entry, dict):
        fail(line, "each %s entry must be a table" % section)
    allowed = {"spi", "key", "nai", "home_address", "replay", "close_enough"}
    for key in entry:
        if key not in allowed:
            fail(where.key(line, key), "unknown %s key %r (expected %s)" % (section, key, ", ".join(sorted(allowed))))
    if section == "mn_ha":
        if "spi" not in entry:
            fail(line, "mn_ha entry has no spi")
        spi = entry["spi"]
        if isinstance(spi, bool) or not isinstance(spi, int) or not 0 <= spi < 2 ** 32:
            fail(where.key(line, "spi"), "spi must be an integer from 256 to 4294967295")
        if spi < schema.RESERVED_SPI_LIMIT:
            fail(where.key(line, "spi"),
                 "SPI %d is reserved (0-255, RFC 4285 §5.1); an MN-HA SA needs 256 or more" % spi)
    else:
        spi = entry.get("spi", schema.HMAC_SHA1_SPI)
        if isinstance(spi, bool) or not isinstance(spi, int) or not 0 <= spi < 2 ** 32:
            fail(where.key(line, "spi"), "spi must be an integer (3 for HMAC_SHA1_SPI)")
    if "key" not in entry:
        fail(line, "%s entry has no key" % section)
    key = _key(entry["key"], section, where.key(line, "key"), fail)
    nai = entry.get("nai")
    if nai is not None and (not isinstance(nai, str) or not nai):
        fail(where.key(line, "nai"), "nai must be a non-empty string")
    if section == "mn_aaa" and nai is None:
        fail(line, "mn_aaa entry has no nai (the MN-AAA key is looked up by the MN's NAI)")
    home = entry.get("home_address")
    home_raw = None
    if home is not None:
        try:
            home_raw = ipaddress.IPv6Address(home).packed
        except (ipaddress.AddressValueError, ValueError, TypeError):
            fail(where.key(line, "home_address"), "home_address %r is not an IPv6 address" % (home,))
    replay = _replay(entry["replay"], where.key(line, "replay"), fail) if "replay" in entry else None
    close = (_close_enough(entry["close_enough"], where.key(line, "close_enough"), fail)
             if "close_enough" in entry else None)
    return SecurityAssociation(section, spi, key, nai, home_raw, replay, close)


def _key(value, section, line, fail) -> Secret:
    # Never echo the value: a near-miss key is still a key.
    if not isinstance(value, str) or not re.fullmatch(r"(?:[0-9a-fA-F]{2})+", value.replace(":", "")):
        fail(line, "key must be a string of hex digits (value not shown)")
    material = bytes.fromhex(value.replace(":", ""))
    if section == "mn_ha" and len(material) != schema.MN_HA_KEY_LEN:
        fail(line, "MN-HA key is %d octets, must be %d (RFC 4285 §5.1; value not shown)"
             % (len(material), schema.MN_HA_KEY_LEN))
    return Secret(material)
