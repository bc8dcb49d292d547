"""Run the self-contained parts of the generated dissector under a bare Lua.

The committed ``generated/mip6_audit.lua`` marks its SHA-1/HMAC and keyfile
sections with ``-- >>> name`` / ``-- <<< name``; these helpers cut a section
out, prepend a bit-library set-up and run it with lua5.2 or lua5.4.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

GENERATED = Path(__file__).resolve().parent.parent / "generated" / "mip6_audit.lua"

# How the bit operations are provided, per interpreter.  "signed-bit" mimics
# LuaBitOp (Wireshark's `bit` global), which returns signed 32-bit numbers.
BACKENDS = {
    "lua5.2": {
        "bit32": "bit = nil\n",
        "signed-bit": (
            "local b32 = bit32\n"
            "local function signed(x) if x >= 2147483648 then return x - 4294967296 end return x end\n"
            "bit = { band = function(...) return signed(b32.band(...)) end,\n"
            "        bor = function(...) return signed(b32.bor(...)) end,\n"
            "        bxor = function(...) return signed(b32.bxor(...)) end,\n"
            "        rol = function(x, n) return signed(b32.lrotate(x, n)) end }\n"
            "bit32 = nil\n"),
        "arithmetic": "bit32 = nil\nbit = nil\n",
    },
    "lua5.4": {
        # 5.4 operators would not parse under 5.2, so they live in a string here.
        "signed-bit": (
            "bit = load([[\n"
            "local function u(x) return math.tointeger(x % 4294967296) end\n"
            "local function s(x) x = x & 0xFFFFFFFF if x >= 0x80000000 then return x - 0x100000000 end return x end\n"
            "return { band = function(a, b) return s(u(a) & u(b)) end,\n"
            "         bor = function(a, b) return s(u(a) | u(b)) end,\n"
            "         bxor = function(a, b) return s(u(a) ~ u(b)) end,\n"
            "         rol = function(x, n) x = u(x) return s((x << n) | (x >> (32 - n))) end }\n"
            "]])()\n"),
        "arithmetic": "bit32 = nil\nbit = nil\n",
    },
}

COMBINATIONS = [(interpreter, backend) for interpreter, backends in BACKENDS.items() for backend in backends]


def section(name: str) -> str:
    text = GENERATED.read_text(encoding="utf-8")
    start = text.index("-- >>> %s" % name)
    end = text.index("-- <<< %s" % name)
    return text[start:end]


def run_lua(interpreter: str, backend: str, body: str, tmp_path: Path, *arguments: str) -> str:
    if not shutil.which(interpreter):
        pytest.skip("%s not installed (./run-tests installs it)" % interpreter)
    script = tmp_path / ("driver-%s-%s.lua" % (interpreter, backend))
    script.write_text(BACKENDS[interpreter][backend] + body, encoding="utf-8")
    result = subprocess.run([interpreter, str(script), *arguments], capture_output=True, timeout=120)
    assert result.returncode == 0, result.stderr.decode("utf-8", "replace")
    return result.stdout.decode("utf-8")
