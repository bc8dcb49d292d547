"""Generate the Wireshark Lua dissector from ``analyzer.schema``.

``mip6-audit dissector`` renders the jinja2 templates shipped as package data
in ``dissector_templates`` into one self-contained Lua file (SHA-1, HMAC and
the keyfile reader included).  Every field, value string and layout in it
comes from the schema, so adding an option type to ``analyzer.schema``
changes the dissector without touching a template.
"""

from __future__ import annotations

import dataclasses
import difflib
import os
import shutil
import subprocess
import sys
from importlib import resources
from pathlib import Path
from typing import Dict, Iterable, List, Mapping, Optional, Sequence, Tuple

import jinja2

from . import crypto, decode, keys, schema

PROTO = "mip6audit"
TEMPLATE_PACKAGE = "dissector_templates"
MAIN_TEMPLATE = "mip6_audit.lua.j2"
OUTPUT_NAME = "mip6_audit.lua"
# The committed copy CI compares against, when running from a source tree.
COMMITTED = Path(__file__).resolve().parent.parent / "generated" / OUTPUT_NAME

EXIT_OK, EXIT_DIFFERS, EXIT_USAGE = 0, 1, 2

_UINT_BY_FMT = {"B": ("uint8", 8), "H": ("uint16", 16), "I": ("uint32", 32), "Q": ("uint64", 64)}


class SchemaError(Exception):
    """A schema entry the generator cannot express as a Wireshark field."""


def lua_string(text: str) -> str:
    """A double-quoted Lua string literal (ASCII, escapes for the rest)."""
    out = []
    for char in text.encode("utf-8"):
        if char in (0x22, 0x5C):
            out.append("\\" + chr(char))
        elif 0x20 <= char < 0x7F:
            out.append(chr(char))
        else:
            out.append("\\%03d" % char)
    return '"' + "".join(out) + '"'


def lua_value_string(values: Optional[Mapping[int, str]]) -> str:
    if not values:
        return "nil"
    return "{ " + ", ".join("[%d] = %s" % (code, lua_string(name)) for code, name in sorted(values.items())) + " }"


def _field_context(prefix: str, var_prefix: str, field: schema.Field, offset: Optional[int]) -> Dict[str, object]:
    """What the template needs to declare and add one schema field."""
    abbr = "%s.%s.%s" % (PROTO, prefix, field.name)
    var = "%s_%s" % (var_prefix, field.name)
    label = lua_string(field.label)
    size = field.size
    kind, encoding = "plain", None
    if field.display in (schema.DEC, schema.HEX, schema.FLAGS) and field.fmt in _UINT_BY_FMT:
        ctor, bits = _UINT_BY_FMT[field.fmt]
        base = "base.DEC" if field.display == schema.DEC else "base.HEX"
        declaration = "ProtoField.%s(%s, %s, %s, %s)" % (ctor, lua_string(abbr), label, base,
                                                         lua_value_string(field.values))
    elif field.display == schema.NTP and field.fmt == "Q":
        declaration = "ProtoField.absolute_time(%s, %s, base.UTC)" % (lua_string(abbr), label)
        kind, encoding = "packet_field", "ENC_TIME_NTP + ENC_BIG_ENDIAN"
    elif field.display == schema.IPV6 and field.fmt == "16s":
        declaration = "ProtoField.ipv6(%s, %s)" % (lua_string(abbr), label)
    elif field.display == schema.TEXT and field.fmt == schema.REST:
        declaration = "ProtoField.string(%s, %s)" % (lua_string(abbr), label)
        kind = "text"
    elif field.display == schema.BYTES:
        declaration = "ProtoField.bytes(%s, %s)" % (lua_string(abbr), label)
    else:
        raise SchemaError("%s: display %r with format %r has no Wireshark field type"
                          % (abbr, field.display, field.fmt))
    flags = []
    for mask, letter, description in field.flags:
        flags.append({
            "var": "%s_%s" % (var, letter.lower()),
            "declaration": "ProtoField.bool(%s, %s, %d, nil, 0x%X)" % (
                lua_string("%s.%s" % (abbr, letter.lower())), lua_string("%s (%s)" % (description, letter)),
                _UINT_BY_FMT[field.fmt][1], mask),
        })
    return {"name": field.name, "abbr": abbr, "var": var, "declaration": declaration, "size": size,
            "offset": offset, "kind": kind, "encoding": encoding, "flags": flags, "fmt": field.fmt}


def _fields_context(prefix: str, fields: Sequence[schema.Field], start: int) -> List[Dict[str, object]]:
    out, offset = [], start
    for field in fields:
        out.append(_field_context(prefix, prefix, field, offset))
        offset = None if field.size is None or offset is None else offset + field.size
    return out


def _header_fields(messages: Sequence[schema.MessageType]) -> Tuple[schema.Field, ...]:
    """The fixed header, with the MH Type named after the schema's messages."""
    names = {m.code: m.name for m in messages}
    return tuple(dataclasses.replace(f, values=names) if f.name == "mh_type" and f.values is None else f
                 for f in schema.MH_HEADER_FIELDS)


def _entry_context(entry, fields_start: int) -> Dict[str, object]:
    """What messages and options share: names, the field prefix, their fields."""
    prefix = entry.abbrev.lower()
    return {"code": entry.code, "abbrev": entry.abbrev, "prefix": prefix, "name": entry.name, "rfc": entry.rfc,
            "var": prefix, "abbr": "%s.%s" % (PROTO, prefix),
            "fields": _fields_context(prefix, entry.fields, fields_start)}


def build_context(messages: Iterable[schema.MessageType] = schema.MESSAGES,
                  options: Iterable[schema.OptionType] = schema.OPTIONS) -> Dict[str, object]:
    """The template context: the schema, flattened into what Lua needs."""
    messages, options = tuple(messages), tuple(options)
    message_context = [dict(_entry_context(m, schema.MH_FIXED_SIZE), options_offset=m.options_offset)
                       for m in messages]
    option_context = [dict(_entry_context(o, 0), align=o.align, exact_length=o.exact_length,
                           minimum_length=o.minimum_length, fixed_size=o.fixed_size) for o in options]
    abbrevs = [m["abbr"] for m in message_context] + [o["abbr"] for o in option_context]
    clash = sorted({a for a in abbrevs if abbrevs.count(a) > 1})
    if clash:
        raise SchemaError("message and option abbreviations clash in the dissector: %s" % ", ".join(clash))
    return {
        "proto": PROTO,
        "header_fields": _fields_context("mh", _header_fields(messages), 0),
        "messages": message_context,
        "options": option_context,
        "messages_by_code": {m["code"]: m for m in message_context},
        "options_by_code": {o["code"]: o for o in option_context},
        "checksum_offset": crypto.CHECKSUM_OFFSET,
        "ipv6": decode,
        "option_names": {o.code: o.name for o in options},
        "lua_string": lua_string,
        "lua_value_string": lua_value_string,
        "s": schema,
        "default_close_enough": keys.DEFAULT_CLOSE_ENOUGH,
        "replay_modes": keys.REPLAY_MODES,
    }


def _environment() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FunctionLoader(_load_template),
        undefined=jinja2.StrictUndefined,
        keep_trailing_newline=True,
        trim_blocks=True,
        lstrip_blocks=True,
        autoescape=False,
    )


def _load_template(name: str) -> Optional[str]:
    try:
        return resources.files(TEMPLATE_PACKAGE).joinpath(name).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None


def render(messages: Iterable[schema.MessageType] = schema.MESSAGES,
           options: Iterable[schema.OptionType] = schema.OPTIONS) -> str:
    """The whole dissector as Lua source."""
    return _environment().get_template(MAIN_TEMPLATE).render(**build_context(messages, options))


# ---------------------------------------------------------------- command line

def add_arguments(parser) -> None:
    parser.description = (
        "Render the Wireshark Lua dissector (protocol %s) from the option schema. "
        "Without options it is written to standard output." % PROTO)
    parser.add_argument("-o", "--output", metavar="FILE",
                        help="write the dissector to FILE instead of standard output "
                             "(developers: -o generated/%s refreshes the committed copy)" % OUTPUT_NAME)
    action = parser.add_mutually_exclusive_group()
    action.add_argument("--check", action="store_true",
                        help="exit 1 if the committed generated/%s (or -o FILE) differs from a fresh "
                             "render; CI runs this" % OUTPUT_NAME)
    action.add_argument("--install", action="store_true",
                        help="copy the dissector into your personal Wireshark Lua plugin folder "
                             "(as `tshark -G folders` reports it, else ~/.local/lib/wireshark/plugins)")
    parser.add_argument("--plugin-dir", metavar="DIR",
                        help="with --install: install into DIR instead")


def run(args) -> int:
    try:
        text = render()
    except SchemaError as exc:
        print("mip6-audit dissector: %s" % exc, file=sys.stderr)
        return EXIT_USAGE
    if args.check:
        return _check(text, Path(args.output) if args.output else COMMITTED)
    if args.install:
        return _install(text, args.plugin_dir)
    if args.plugin_dir:
        print("mip6-audit dissector: --plugin-dir only goes with --install", file=sys.stderr)
        return EXIT_USAGE
    if not args.output or args.output == "-":
        sys.stdout.write(text)
        return EXIT_OK
    try:
        _write(Path(args.output), text)
    except OSError as exc:
        print("mip6-audit dissector: cannot write %s: %s" % (args.output, exc.strerror or exc), file=sys.stderr)
        return EXIT_USAGE
    return EXIT_OK


def _write(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(text, encoding="utf-8")
    os.replace(temporary, path)


def _check(text: str, path: Path) -> int:
    try:
        committed = path.read_text(encoding="utf-8")
    except OSError as exc:
        print("mip6-audit dissector: cannot read %s: %s" % (path, exc.strerror or exc), file=sys.stderr)
        return EXIT_USAGE
    if committed == text:
        print("%s is up to date" % path)
        return EXIT_OK
    diff = difflib.unified_diff(committed.splitlines(True), text.splitlines(True),
                                "%s (committed)" % path, "%s (fresh render)" % path, n=2)
    sys.stdout.writelines(list(diff)[:200])
    print("%s is stale: regenerate it with `mip6-audit dissector -o %s`" % (path, path), file=sys.stderr)
    return EXIT_DIFFERS


def personal_plugin_dir() -> Path:
    """Wireshark's personal Lua plugin folder.

    Asks the installed tshark (`-G folders`), which knows its own layout;
    otherwise the documented default on Unix-like systems (Wireshark User's
    Guide, "Plugin folders"): ~/.local/lib/wireshark/plugins.
    """
    tshark = shutil.which("tshark")
    if tshark:
        try:
            listing = subprocess.run([tshark, "-G", "folders"], capture_output=True, text=True,
                                     timeout=30, check=False).stdout
        except (OSError, subprocess.SubprocessError):
            listing = ""
        for line in listing.splitlines():
            label, _, value = line.partition(":")
            if label.strip() == "Personal Lua Plugins" and value.strip():
                return Path(value.strip())
    return Path.home() / ".local" / "lib" / "wireshark" / "plugins"


def _legacy_plugin_dir() -> Path:
    config = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(config) / "wireshark" / "plugins"


def _install(text: str, plugin_dir: Optional[str]) -> int:
    target_dir = Path(plugin_dir).expanduser() if plugin_dir else personal_plugin_dir()
    target = target_dir / OUTPUT_NAME
    try:
        _write(target, text)
    except OSError as exc:
        print("mip6-audit dissector: cannot install into %s: %s" % (target_dir, exc.strerror or exc),
              file=sys.stderr)
        return EXIT_USAGE
    print("installed %s" % target)
    legacy = _legacy_plugin_dir() / OUTPUT_NAME
    if legacy.exists() and legacy.resolve() != target.resolve():
        print("note: an older copy is still in %s; Wireshark loads the one in %s" % (legacy, target_dir),
              file=sys.stderr)
    print("restart Wireshark (or Analyze > Reload Lua Plugins); set the keyfile with "
          "-o %s.keyfile:PATH or in Preferences > Protocols > MIP6AUDIT" % PROTO)
    return EXIT_OK
