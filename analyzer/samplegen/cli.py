"""``mip6-audit samples``: write scenario captures, their keyfiles and README.

    mip6-audit samples --list
    mip6-audit samples --out samples                      # every scenario + README.md
    mip6-audit samples --scenario tour --out /tmp/x
    mip6-audit samples --scenario bulk --mns 2000 --frames 1200000 --out /tmp/bench
"""

from __future__ import annotations

import argparse
import datetime
import os
import sys

from . import bulk, nodes, output, scenarios

EXIT_OK, EXIT_USAGE = 0, 2


def add_arguments(parser) -> None:
    parser.add_argument("--out", default="samples", metavar="DIR",
                        help="directory to write into (created if missing; default: samples)")
    parser.add_argument("--scenario", action="append", metavar="NAME",
                        help="a scenario to generate (repeatable; default: all but bulk, plus README.md)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (default 1); same seed, same bytes")
    parser.add_argument("--start", type=start_time, default=None, metavar="ISO8601",
                        help="capture start time, e.g. 2025-01-31T12:00:00Z (default %s, fixed so output "
                             "never depends on today)" % nodes.EPOCH_TEXT)
    parser.add_argument("--format", choices=("pcap", "pcapng", "both"), default="both",
                        help="capture file format (default both, where the scenario offers it)")
    parser.add_argument("--list", action="store_true", help="list the scenarios and exit")
    group = parser.add_argument_group("bulk scenario (benchmark captures)")
    group.add_argument("--mns", type=int, default=bulk.DEFAULT_MNS, help="mobile nodes (default %(default)s)")
    group.add_argument("--frames", type=int, default=bulk.DEFAULT_FRAMES, help="frames (default %(default)s)")
    group.add_argument("--faults", type=float, default=bulk.DEFAULT_FAULT_RATE,
                       help="share of exchanges with a replay, forgery or clock fault (default %(default)s)")


def start_time(text: str) -> int:
    """An ISO 8601 time (UTC unless it says otherwise) as Unix microseconds."""
    try:
        when = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise argparse.ArgumentTypeError("not an ISO 8601 time: %r" % text) from None
    if when.tzinfo is None:
        when = when.replace(tzinfo=datetime.timezone.utc)
    epoch = datetime.datetime(1970, 1, 1, tzinfo=datetime.timezone.utc)
    return (when - epoch) // datetime.timedelta(microseconds=1)


def run(args) -> int:
    start_us = nodes.EPOCH_US if args.start is None else args.start
    if args.list:
        for spec in scenarios.SCENARIOS.values():
            print("%-17s %s" % (spec.name, spec.title))
        print("%-17s %s" % (bulk.NAME, bulk.TITLE))
        return EXIT_OK
    names = args.scenario or list(scenarios.SCENARIOS)
    unknown = [n for n in names if n not in scenarios.SCENARIOS and n != bulk.NAME]
    if unknown:
        print("mip6-audit samples: error: unknown scenario %s (see --list)" % ", ".join(unknown), file=sys.stderr)
        return EXIT_USAGE
    formats = output.FORMATS if args.format == "both" else (args.format,)
    try:
        os.makedirs(args.out, exist_ok=True)
    except OSError as exc:
        print("mip6-audit samples: error: cannot create %s: %s" % (args.out, exc.strerror), file=sys.stderr)
        return EXIT_USAGE
    captures = []
    for name in names:
        if name == bulk.NAME:
            if args.mns < 1 or args.frames < 3 * args.mns:
                print("mip6-audit samples: error: bulk needs --mns >= 1 and --frames >= 3 x --mns", file=sys.stderr)
                return EXIT_USAGE
            for path in bulk.write(args.out, formats, mns=args.mns, frames=args.frames,
                                   fault_rate=args.faults, seed=args.seed, start_us=start_us):
                print(path)
            continue
        capture = scenarios.generate(name, args.seed, start_us)
        captures.append(capture)
        for path in output.write_scenario(capture, args.out, formats):
            print(path)
    if not args.scenario:
        path = os.path.join(args.out, "README.md")
        with open(path, "w", encoding="utf-8", newline="\n") as handle:
            handle.write(output.readme(captures, args.seed))
        print(path)
    return EXIT_OK
