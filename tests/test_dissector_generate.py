"""The Lua dissector generator: deterministic, schema-driven, valid Lua 5.2 and 5.4."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest

from analyzer import cli, dissector, schema

LUA_COMPILERS = ["luac5.2", "luac5.4"]

# Globals the generated file may read: Wireshark's Lua API and the standard library.
ALLOWED_GLOBALS = {
    "Proto", "ProtoField", "ProtoExpert", "Field", "Pref", "DissectorTable", "expert", "base",
    "ENC_TIME_NTP", "ENC_BIG_ENDIAN", "string", "math", "table", "io", "tostring", "tonumber",
    "ipairs", "pairs", "type", "rawget", "_G", "pcall",
}

EXTRA_OPTION = schema.OptionType(42, "trial", "Trial Option", "RFC 0000 §1", (
    schema.Field("level", "B", "Trial Level", schema.DEC, {1: "first", 2: "second"}),
    schema.Field("token", "I", "Trial Token", schema.HEX),
    schema.Field("blob", schema.REST, "Trial Blob", schema.BYTES),
), align=(4, 2), min_length=5)


@pytest.fixture(scope="module")
def rendered() -> str:
    return dissector.render()


def test_committed_copy_is_fresh(capsys):
    assert cli.main(["dissector", "--check"]) == 0, capsys.readouterr().out


def test_render_is_deterministic(rendered):
    assert dissector.render() == rendered


def test_header_says_generated_and_from_what(rendered):
    head = rendered[:1200]
    assert "GENERATED FILE" in head and "analyzer/schema.py" in head and "dissector_templates/" in head


@pytest.mark.parametrize("compiler", LUA_COMPILERS)
def test_parses_as_lua(tmp_path, rendered, compiler):
    if not shutil.which(compiler):
        pytest.skip("%s not installed (./run-tests installs it)" % compiler)
    path = tmp_path / "mip6_audit.lua"
    path.write_text(rendered)
    result = subprocess.run([compiler, "-p", str(path)], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def _global_accesses(rendered, tmp_path):
    """(set, read) global names, from the Lua 5.2 bytecode listing."""
    if not shutil.which("luac5.2"):
        pytest.skip("luac5.2 not installed")
    path = tmp_path / "mip6_audit.lua"
    path.write_text(rendered)
    listing = subprocess.run(["luac5.2", "-l", "-p", str(path)], capture_output=True, text=True, check=True).stdout
    sets = set(re.findall(r"SETTABUP\s.*; _ENV \"(\w+)\"", listing))
    reads = set(re.findall(r"GETTABUP\s.*; _ENV \"(\w+)\"", listing))
    return sets, reads


def test_defines_no_globals_and_reads_only_the_api(rendered, tmp_path):
    sets, reads = _global_accesses(rendered, tmp_path)
    assert sets == set()
    assert reads <= ALLOWED_GLOBALS, reads - ALLOWED_GLOBALS


def test_no_lua_53_operators_outside_strings(rendered):
    code = re.sub(r'"(?:[^"\\\n]|\\.)*"|--[^\n]*', "", rendered)
    for operator in ("//", "<<", ">>", " & ", " | ", " ~ "):
        assert operator not in code, operator


def test_every_schema_field_is_a_wireshark_field(rendered):
    for message in schema.MESSAGES:
        prefix = message.abbrev.lower()
        assert '"mip6audit.%s"' % prefix in rendered
        for field in message.fields:
            assert '"mip6audit.%s.%s"' % (prefix, field.name) in rendered
            for _mask, letter, _description in field.flags:
                assert '"mip6audit.%s.%s.%s"' % (prefix, field.name, letter.lower()) in rendered
    for option in schema.OPTIONS:
        assert '"mip6audit.%s"' % option.abbrev.lower() in rendered
        for field in option.fields:
            assert '"mip6audit.%s.%s"' % (option.abbrev.lower(), field.name) in rendered
    for code, name in schema.BA_STATUS.items():
        assert "[%d] = %s" % (code, dissector.lua_string(name)) in rendered
    assert 'ProtoField.absolute_time("mip6audit.mesgid.timestamp"' in rendered
    assert "ENC_TIME_NTP" in rendered


def test_never_uses_the_builtin_field_names(rendered):
    declared = re.findall(r'Proto(?:Field\.\w+|Expert\.new)\("([^"]+)"', rendered)
    assert declared and all(name.startswith("mip6audit.") for name in declared)


def test_an_added_option_changes_the_dissector_without_a_template_edit():
    plain = dissector.render()
    extended = dissector.render(options=schema.OPTIONS + (EXTRA_OPTION,))
    assert plain != extended
    assert 'ProtoField.none("mip6audit.trial", "Trial Option")' in extended
    assert 'ProtoField.uint8("mip6audit.trial.level", "Trial Level", base.DEC, { [1] = "first", [2] = "second" })' \
        in extended
    assert 'ProtoField.uint32("mip6audit.trial.token", "Trial Token", base.HEX, nil)' in extended
    assert 'ProtoField.bytes("mip6audit.trial.blob", "Trial Blob")' in extended
    assert '[42] = { name = "Trial Option", hf = hf.trial, fixed_size = 5, minimum_length = 5, exact_length = nil,' \
        ' align = { 4, 2 }' in extended
    assert '[42] = "Trial Option"' in extended  # the option type's value string


def test_a_field_wireshark_cannot_show_is_refused():
    odd = schema.OptionType(43, "odd", "Odd", "none", (schema.Field("when", "I", "When", schema.NTP),))
    with pytest.raises(dissector.SchemaError, match="mip6audit.odd.when"):
        dissector.render(options=schema.OPTIONS + (odd,))


def test_clashing_abbreviations_are_refused():
    twin = schema.OptionType(44, "bu", "Twin", "none", ())
    with pytest.raises(dissector.SchemaError, match="mip6audit.bu"):
        dissector.render(options=schema.OPTIONS + (twin,))


def test_lua_string_escapes():
    assert dissector.lua_string('a"b\\c') == '"a\\"b\\\\c"'
    assert dissector.lua_string("§") == '"\\194\\167"'


def test_check_reports_a_stale_file(tmp_path, capsys):
    stale = tmp_path / "stale.lua"
    stale.write_text(dissector.render().replace("Binding Update", "Binding Upd4te", 1))
    assert cli.main(["dissector", "--check", "-o", str(stale)]) == 1
    assert "Upd4te" in capsys.readouterr().out


def test_output_file_and_stdout(tmp_path, capsys, rendered):
    target = tmp_path / "out" / "x.lua"
    assert cli.main(["dissector", "-o", str(target)]) == 0
    assert target.read_text() == rendered
    assert cli.main(["dissector"]) == 0
    assert capsys.readouterr().out == rendered


def test_install_into_a_plugin_folder(tmp_path, capsys, rendered):
    assert cli.main(["dissector", "--install", "--plugin-dir", str(tmp_path / "plugins")]) == 0
    assert (tmp_path / "plugins" / "mip6_audit.lua").read_text() == rendered
    assert "installed" in capsys.readouterr().out


def test_personal_plugin_folder_follows_wireshark():
    folder = dissector.personal_plugin_dir()
    assert folder.name == "plugins" and "wireshark" in str(folder)


def test_unwritable_output_is_a_clear_error(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("")
    assert cli.main(["dissector", "-o", str(blocker / "x.lua")]) == 2
    assert "cannot write" in capsys.readouterr().err
