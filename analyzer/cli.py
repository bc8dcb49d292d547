"""Command line: ``mip6-audit CAPTURE... [--keys FILE]`` and its subcommands.

Subcommands live in their own modules and expose ``add_arguments(parser)``
and ``run(args) -> int``; this module only dispatches, so each feature can be
imported (and tested) without the others.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from typing import List, Optional

# name -> (module, one-line help).  The audit itself is the default command.
SUBCOMMANDS = {
    "audit": ("analyzer.audit_cli", "audit captures (the default: `mip6-audit CAPTURE...`)"),
    "rules": ("analyzer.rules_cli", "list every finding code with severity and RFC section"),
    "dissector": ("analyzer.dissector", "generate (or install) the Wireshark Lua dissector"),
    "crosscheck": ("analyzer.crosscheck", "compare the Lua dissector in tshark with the analyzer, frame by frame"),
    "samples": ("analyzer.samplegen.cli", "generate test captures and keyfiles from scenarios"),
}

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # one line, exit 2, as for every other bad input
        self.exit(EXIT_USAGE, "%s: error: %s\n" % (self.prog, message))


def build_parser(name: str) -> argparse.ArgumentParser:
    module_name, help_text = SUBCOMMANDS[name]
    prog = "mip6-audit" if name == "audit" else "mip6-audit %s" % name
    parser = _Parser(prog=prog, description=help_text)
    importlib.import_module(module_name).add_arguments(parser)
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] in ("-h", "--help"):
        print(_overview())
        return EXIT_OK
    if argv and argv[0] == "--version":
        from . import __version__
        print("mip6-audit", __version__)
        return EXIT_OK
    name = argv.pop(0) if argv and argv[0] in SUBCOMMANDS else "audit"
    args = build_parser(name).parse_args(argv)
    module = importlib.import_module(SUBCOMMANDS[name][0])
    try:
        return module.run(args)
    except BrokenPipeError:  # `mip6-audit x.pcap | head` is a normal thing to do
        sys.stderr.close()
        return EXIT_OK
    except KeyboardInterrupt:
        return 130


def _overview() -> str:
    lines = ["usage: mip6-audit CAPTURE... [--keys FILE] [options]",
             "       mip6-audit SUBCOMMAND [options]", "", "subcommands:"]
    for name, (_module, help_text) in SUBCOMMANDS.items():
        lines.append("  %-11s %s" % (name, help_text))
    lines.append("")
    lines.append("`mip6-audit SUBCOMMAND --help` for each one's options.")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
