"""The keyfile: what loads, every located error, and that key bytes never leak."""

import os
import re
import textwrap

import pytest

from analyzer import keys
from tests import frames as F

KEY = "0badc0ffee0ddf00d0badc0ffee0ddf0"
AAA_KEY = "5eed5eed5eed5eed5eed5eed5eed5eed"

GOOD = """\
[policy]
replay = "timestamp"
close_enough = 7
require_mesg_id = true

[[mn_ha]]
spi = 4097
key = "{key}"
nai = "mn1@ims.example.net"
home_address = "2001:db8:100::11"

[[mn_ha]]
spi = 4098
key = "{key}"
replay = "sequence"
close_enough = 2.5

[[mn_aaa]]
nai = "mn3@ims.example.net"
spi = 3
key = "{aaa}"
"""


def _write(tmp_path, text, mode=0o600, name="keys.toml"):
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    os.chmod(path, mode)
    return path


def test_good_keyfile_loads(tmp_path):
    path = _write(tmp_path, GOOD.format(key=KEY, aaa=AAA_KEY))
    store, warnings = keys.load(str(path))
    assert warnings == []
    assert store.policy == keys.Policy("timestamp", 7.0, True)
    first, second = store.mn_ha[4097], store.mn_ha[4098]
    assert first.key.material == bytes.fromhex(KEY)
    assert (first.nai, first.home_address) == ("mn1@ims.example.net", F.packed("2001:db8:100::11"))
    assert store.policy_for(second) == keys.Policy("sequence", 2.5, True)
    assert store.policy_for(first) == store.policy
    assert store.mn_aaa_for_nai("mn3@ims.example.net").key.material == bytes.fromhex(AAA_KEY)
    assert store.mn_ha_for_node(None, F.packed("2001:db8:100::11")) is first
    assert KEY not in repr(store) and KEY not in str(first.key)


def test_defaults_without_policy(tmp_path):
    store, _ = keys.load(str(_write(tmp_path, '[[mn_ha]]\nspi = 300\nkey = "%s"\n' % KEY)))
    assert store.policy == keys.Policy("timestamp", 7.0, False)
    assert store.mn_aaa_for_nai(None) is None


# (keyfile text, line the error must name, words the reason must contain)
BAD = {
    "toml-syntax": ('[policy]\nreplay = "timestamp"\nclose_enough = = 7\n', 3, "TOML"),
    "toml-unquoted-key": ('[[mn_ha]]\nspi = 4097\nkey = %s\n' % KEY, 3, "TOML"),
    "short-key": ('[[mn_ha]]\nspi = 4097\nkey = "%s"\n' % KEY[:30], 3, "15 octets"),
    "long-key": ('[[mn_ha]]\nspi = 4097\n\nkey = "%s00"\n' % KEY, 4, "17 octets"),
    "non-hex-key": ('[[mn_ha]]\nspi = 4097\nkey = "%szz"\n' % KEY[:30], 3, "hex"),
    "odd-hex-key": ('[[mn_ha]]\nspi = 4097\nkey = "%s0"\n' % KEY, 3, "hex"),
    "key-not-string": ('[[mn_ha]]\nspi = 4097\nkey = 12345\n', 3, "hex"),
    "missing-key": ('[[mn_ha]]\nspi = 4097\n', 1, "no key"),
    "missing-spi": ('\n[[mn_ha]]\nkey = "%s"\n' % KEY, 2, "no spi"),
    "duplicate-spi": ('[[mn_ha]]\nspi = 4097\nkey = "%s"\n[[mn_ha]]\nkey = "%s"\nspi = 4097\n' % (KEY, KEY),
                      6, "duplicate"),
    "reserved-spi": ('[[mn_ha]]\nkey = "%s"\nspi = 3\n' % KEY, 3, "reserved"),
    "reserved-spi-255": ('[[mn_ha]]\nkey = "%s"\nspi = 255\n' % KEY, 3, "reserved"),
    "spi-string": ('[[mn_ha]]\nspi = "4097"\nkey = "%s"\n' % KEY, 2, "integer"),
    "spi-bool": ('[[mn_ha]]\nspi = true\nkey = "%s"\n' % KEY, 2, "integer"),
    "spi-too-big": ('[[mn_ha]]\nspi = 4294967296\nkey = "%s"\n' % KEY, 2, "integer"),
    "bad-address": ('[[mn_ha]]\nspi = 4097\nkey = "%s"\nhome_address = "2001:db8::zz"\n' % KEY, 4,
                    "not an IPv6 address"),
    "ipv4-address": ('[[mn_ha]]\nspi = 4097\nkey = "%s"\nhome_address = "192.0.2.1"\n' % KEY, 4,
                     "not an IPv6 address"),
    "unknown-sa-key": ('[[mn_ha]]\nspi = 4097\nkey = "%s"\nkye = 1\n' % KEY, 4, "unknown"),
    "unknown-policy-key": ('[policy]\nreplay = "timestamp"\nwindow = 7\n', 3, "unknown"),
    "unknown-section": ('[policy]\n[peers]\nx = 1\n', 2, "unknown section"),
    "replay-value": ('[policy]\n\nreplay = "never"\n', 3, "replay"),
    "close-enough-string": ('[policy]\nclose_enough = "7"\n', 2, "close_enough"),
    "close-enough-negative": ('[policy]\nclose_enough = -1\n', 2, "close_enough"),
    "require-mesg-id-string": ('[policy]\nrequire_mesg_id = "yes"\n', 2, "true or false"),
    "mn-ha-not-array": ('[mn_ha]\nspi = 4097\nkey = "%s"\n' % KEY, 1, "array of tables"),
    "nai-not-string": ('[[mn_aaa]]\nnai = 7\nkey = "%s"\n' % AAA_KEY, 2, "nai"),
    "mn-aaa-without-nai": ('[[mn_aaa]]\nspi = 3\nkey = "%s"\n' % AAA_KEY, 1, "no nai"),
    "duplicate-nai": ('[[mn_aaa]]\nnai = "a@b"\nkey = "%s"\n[[mn_aaa]]\nkey = "%s"\nnai = "a@b"\n'
                      % (AAA_KEY, AAA_KEY), 6, "duplicate"),
    "per-sa-close-enough": ('[[mn_ha]]\nspi = 4097\nkey = "%s"\nclose_enough = 0\n' % KEY, 4, "close_enough"),
    "inline-array-of-tables": ('# one SA\n\nmn_ha = [{spi = 3, key = "%s"}]\n[policy]\n' % KEY, 3, "reserved"),
    "second-entry-error": ('[[mn_ha]]\nspi = 4097\nkey = "%s"\n\n[[mn_ha]]\nspi = 4098\nkey = "%s"\n'
                           % (KEY, KEY[:8]), 7, "4 octets"),
}

# Any run of 8 or more hex digits taken from a key must not be printed.
KEY_FRAGMENTS = {k[i:i + 8] for k in (KEY, AAA_KEY) for i in range(0, len(k) - 7)}


def _assert_located(message: str, path, line: int, words: str):
    assert message.startswith("%s:%d: " % (path, line)), message
    assert words in message, message
    assert not any(fragment in message.lower() for fragment in KEY_FRAGMENTS), message


@pytest.mark.parametrize("case", list(BAD))
def test_bad_keyfile_is_file_line_reason_without_key_bytes(tmp_path, case):
    text, line, words = BAD[case]
    path = _write(tmp_path, text)
    with pytest.raises(keys.KeyfileError) as info:
        keys.load(str(path))
    _assert_located(str(info.value), path, line, words)


def test_keyfile_that_is_not_utf8(tmp_path):
    path = tmp_path / "keys.toml"
    path.write_bytes(b'[policy]\nreplay = "\xff"\n')
    with pytest.raises(keys.KeyfileError) as info:
        keys.load(str(path))
    assert str(info.value).startswith(str(path))


def test_missing_keyfile(tmp_path):
    with pytest.raises(keys.KeyfileError) as info:
        keys.load(str(tmp_path / "absent.toml"))
    assert "absent.toml" in str(info.value)


@pytest.mark.parametrize("mode, warned", [(0o600, False), (0o400, False), (0o640, True), (0o604, True)])
def test_warning_when_group_or_others_can_read(tmp_path, mode, warned):
    path = _write(tmp_path, GOOD.format(key=KEY, aaa=AAA_KEY), mode=mode)
    _store, warnings = keys.load(str(path))
    assert bool(warnings) == warned
    if warned:
        assert str(path) in warnings[0] and "readable" in warnings[0]
        assert not any(fragment in warnings[0] for fragment in KEY_FRAGMENTS)


@pytest.fixture
def tiny_capture(tmp_path):
    built = F.signed_bu()
    path = tmp_path / "one.pcap"
    path.write_bytes(F.pcap([F.Record(1_700_000_000_000_000_000, built.ip6)], F.LINKTYPE_IPV6))
    return path


@pytest.mark.parametrize("case", ["toml-syntax", "short-key", "non-hex-key", "duplicate-spi", "reserved-spi",
                                  "bad-address", "unknown-sa-key", "spi-string"])
def test_bad_keyfile_exits_2_through_the_cli(tmp_path, run_cli, tiny_capture, case):
    text, line, words = BAD[case]
    path = _write(tmp_path, text)
    for fmt in ("text", "jsonl"):
        result = run_cli(tiny_capture, "--keys", path, "--format", fmt)
        assert result.code == 2
        assert result.out == ""
        err_lines = result.err.strip().splitlines()
        assert len(err_lines) == 1 and "Traceback" not in result.err
        location = re.search(re.escape(str(path)) + r":\d+: .*", err_lines[0]).group(0)
        _assert_located(location, path, line, words)


def test_readable_keyfile_warns_on_stderr_through_the_cli(tmp_path, run_cli, tiny_capture):
    path = _write(tmp_path, GOOD.format(key=KEY, aaa=AAA_KEY), mode=0o644)
    result = run_cli(tiny_capture, "--keys", path, "--format", "jsonl")
    assert result.code in (0, 1)
    assert "readable by group or others" in result.err
    for fragment in KEY_FRAGMENTS:
        assert fragment not in result.out.lower() and fragment not in result.err.lower()
