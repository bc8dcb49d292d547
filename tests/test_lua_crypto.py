"""The dissector's pure-Lua SHA-1/HMAC and keyfile reader, under bare Lua 5.2 and 5.4.

Each runs with every way Wireshark (or a bare interpreter) provides bit
operations: bit32 (Lua 5.2, Wireshark 4.0-4.2), a signed `bit` like LuaBitOp
(the only one in Wireshark 4.4+), and none (the arithmetic fallback).
"""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from analyzer import keys
from tests.lua_rfc4285_captures import KEYFILE
from tests.lua_sections import COMBINATIONS, run_lua, section

# RFC 2202 section 3: (key, data, HMAC-SHA1) as printed in the RFC.
RFC2202 = [
    (b"\x0b" * 20, b"Hi There", "b617318655057264e28bc0b6fb378c8ef146be00"),
    (b"Jefe", b"what do ya want for nothing?", "effcdf6ae5eb2fa2d27416d5f184df9c259a7c79"),
    (b"\xaa" * 20, b"\xdd" * 50, "125d7342b9ac11cd91a39af48aa17b4f63f175d3"),
    (bytes(range(1, 26)), b"\xcd" * 50, "4c9007f4026250c6bc8414f9bf50c86c2d7235da"),
    (b"\x0c" * 20, b"Test With Truncation", "4c1a03424b55e07fe7f27be1d58bb9324a9a5a04"),
    (b"\xaa" * 80, b"Test Using Larger Than Block-Size Key - Hash Key First",
     "aa4ae5e15272d00e95705637ce8a3b55ed402112"),
    (b"\xaa" * 80, b"Test Using Larger Than Block-Size Key and Larger Than One Block-Size Data",
     "e8e99d0f45237d786d6bbaa7965c7808bbff1a91"),
]

# FIPS 180 examples plus lengths around the 55/56/64-octet padding edges.
SHA1_INPUTS = [b"", b"abc", b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq",
               b"a" * 55, b"a" * 56, b"a" * 63, b"a" * 64, b"a" * 65, bytes(range(256)) * 3]

CRYPTO_DRIVER = r"""
local function unhex(h) return (h:gsub("%x%x", function(p) return string.char(tonumber(p, 16)) end)) end
local function hex(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end
for line in io.lines(arg[1]) do
    local kind, a, b = line:match("^(%w+) (%x*) ?(%x*)$")
    if kind == "sha1" then print(hex(crypto.sha1(unhex(a))))
    elseif kind == "hmac" then print(hex(crypto.hmac_sha1(unhex(a), unhex(b))))
    elseif kind == "equal" then print(tostring(crypto.equal(unhex(a), unhex(b)))) end
end
"""


def test_rfc2202_vectors_match_python():
    for key, data, digest in RFC2202:
        assert hmac.new(key, data, hashlib.sha1).hexdigest() == digest


@pytest.mark.parametrize("interpreter,backend", COMBINATIONS)
def test_sha1_and_hmac_in_lua(tmp_path, interpreter, backend):
    cases = tmp_path / "cases.txt"
    lines, expected = [], []
    for key, data, digest in RFC2202:
        lines.append("hmac %s %s" % (key.hex(), data.hex()))
        expected.append(digest)
    for data in SHA1_INPUTS:
        lines.append("sha1 %s" % data.hex())
        expected.append(hashlib.sha1(data).hexdigest())
    for a, b, same in ((b"abc", b"abc", True), (b"abc", b"abd", False), (b"abc", b"ab", False), (b"", b"", True)):
        lines.append("equal %s %s" % (a.hex(), b.hex()))
        expected.append("true" if same else "false")
    cases.write_text("\n".join(lines) + "\n")
    output = run_lua(interpreter, backend, section("crypto") + CRYPTO_DRIVER, tmp_path, str(cases))
    assert output.split() == expected


KEYFILE_DRIVER = r"""
local function hex(s) return (s:gsub(".", function(c) return string.format("%02x", c:byte()) end)) end
local function number(x) if x == math.floor(x) then return string.format("%d", x) end return tostring(x) end
local store, problem = keyfile.load(arg[1])
if not store then print("ERROR " .. problem) return end
local parts = {}
for spi, sa in pairs(store.mn_ha) do
    parts[#parts + 1] = string.format('"mn_ha %s": ["%s", "%s", %s]', number(spi), hex(sa.key), sa.nai or "",
                                      sa.close_enough and number(sa.close_enough) or "null")
end
for nai, sa in pairs(store.mn_aaa) do
    parts[#parts + 1] = string.format('"mn_aaa %s": ["%s", "%s", %s]', nai, hex(sa.key), number(sa.spi),
                                      sa.close_enough and number(sa.close_enough) or "null")
end
parts[#parts + 1] = string.format('"policy": ["%s", %s, %s]', store.policy.replay, number(store.policy.close_enough),
                                  tostring(store.policy.require_mesg_id))
print("{" .. table.concat(parts, ", ") .. "}")
"""

GOOD_KEYFILES = {
    "scapy-captures": KEYFILE,
    "issue-2-example": """\
[policy]
replay = "timestamp"        # or "sequence"
close_enough = 7.5          # seconds
require_mesg_id = true      # HA mandates the replay-protection option
[[mn_ha]]                   # one per MN-HA mobility SA
spi = 4_097
key = "00:11:22:33:44:55:66:77:88:99:aa:bb:cc:dd:ee:ff"
nai = 'mn1@ims.example.net'
close_enough = 3
[[mn_ha]]
spi = 0x1002
key = "ffeeddccbbaa99887766554433221100"
[[mn_aaa]]
nai = "mn3@ims.example.net"
key = "5eed5eed5eed5eed5eed5eed5eed5eed5eed"
""",
}


def _python_view(path):
    store, _warnings = keys.load(str(path))

    def number(value):
        return int(value) if value is not None and value == int(value) else value

    view = {"policy": [store.policy.replay, number(store.policy.close_enough), store.policy.require_mesg_id]}
    for spi, sa in store.mn_ha.items():
        view["mn_ha %d" % spi] = [sa.key.material.hex(), sa.nai or "", number(sa.close_enough)]
    for nai, sa in store.mn_aaa.items():
        view["mn_aaa %s" % nai] = [sa.key.material.hex(), str(sa.spi), number(sa.close_enough)]
    return view


@pytest.mark.parametrize("interpreter,backend", [c for c in COMBINATIONS if c[1] == "arithmetic"])
@pytest.mark.parametrize("name", sorted(GOOD_KEYFILES))
def test_lua_keyfile_reader_reads_what_the_analyzer_reads(tmp_path, interpreter, backend, name):
    path = tmp_path / "keys.toml"
    path.write_text(GOOD_KEYFILES[name])
    output = run_lua(interpreter, backend, section("keyfile") + KEYFILE_DRIVER, tmp_path, str(path))
    assert json.loads(output) == _python_view(path)


BAD_KEYFILES = [
    ("[[mn_ha]]\nspi = 200\nkey = \"00112233445566778899aabbccddeeff\"\n", 2, "reserved"),
    ("[[mn_ha]]\nspi = 4097\nkey = \"0011\"\n", 3, "MN-HA key is 2 octets"),
    ("[[mn_ha]]\nspi = 4097\nkey = \"zz112233445566778899aabbccddeeff\"\n", 3, "hex digits"),
    ("[[mn_ha]]\nspi = 4097\nkey = \"00112233445566778899aabbccddeeff\"\n"
     "[[mn_ha]]\nspi = 4097\nkey = \"00112233445566778899aabbccddeeff\"\n", 5, "duplicate MN-HA SPI"),
    ("[[mn_aaa]]\nkey = \"00\"\n", 1, "no nai"),
    ("[policy]\nclose_enough = -1\n", 2, "close_enough"),
    ("[policy]\nreplay = \"never\"\n", 2, "replay"),
    ("[policy]\ncolour = 1\n", 2, "unknown policy key"),
    ("[extras]\n", 1, "unknown section"),
    ("[policy]\nreplay = \"timestamp\n", 2, "TOML syntax error"),
]


@pytest.mark.parametrize("text,line,reason", BAD_KEYFILES)
def test_lua_keyfile_errors_name_the_line_like_the_analyzer(tmp_path, text, line, reason):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    with pytest.raises(keys.KeyfileError) as python_error:
        keys.load(str(path))
    assert ":%d" % line in str(python_error.value) or "line %d" % line in str(python_error.value)
    output = run_lua("lua5.2", "bit32", section("keyfile") + KEYFILE_DRIVER, tmp_path, str(path))
    assert output.startswith("ERROR %s:%d: " % (path, line)), output
    assert reason in output
    assert "0011" not in output and "zz11" not in output  # key material never echoed
