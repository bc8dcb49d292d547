"""`mip6-audit CAPTURE... [--keys FILE]`: the audit itself."""

from __future__ import annotations

import argparse
import functools
import sys

from .capture import CaptureError
from .findings import SEVERITIES, SEVERITY_RANK
from .keys import REPLAY_MODES, KeyfileError, load
from .pipeline import AuditOptions, audit, open_inputs
from .progress import ProgressBar, ReadCounter, capture_sizes, wanted
from .report import FINDING, JsonlReporter, TextReporter

EXIT_OK, EXIT_FINDINGS, EXIT_USAGE = 0, 1, 2


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("captures", nargs="+", metavar="CAPTURE",
                        help="pcap or pcapng files; '-' reads standard input (e.g. tcpdump -w - | mip6-audit -)")
    parser.add_argument("--keys", metavar="FILE", help="TOML keyfile with MN-HA SAs, MN-AAA keys and policy")
    parser.add_argument("--format", choices=("text", "jsonl"), default="text",
                        help="text for people (default) or one JSON object per line")
    parser.add_argument("-o", "--output", metavar="FILE", help="write the report here instead of standard output")
    parser.add_argument("--fail-on", choices=SEVERITIES + ("never",), default="warning",
                        help="exit 1 when a finding at or above this severity is raised (default: warning)")
    parser.add_argument("--explain", type=int, metavar="FRAME",
                        help="trace one frame down to its bytes: fields, authenticator inputs, rule verdicts")
    parser.add_argument("--mn", metavar="ID", help="only show this mobile node (its NAI, or spi:N / hoa:ADDR)")
    parser.add_argument("--jobs", "-j", type=int, default=1, metavar="N",
                        help="audit with N processes, each taking a share of the mobile nodes; the output is "
                             "the same as with 1 (default 1; standard input is always read by one)")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                        help="show progress on standard error (default: when it is a terminal)")
    policy = parser.add_argument_group("policy (overrides the keyfile's [policy])")
    policy.add_argument("--replay", choices=REPLAY_MODES, help="replay protection the HA uses")
    policy.add_argument("--close-enough", type=float, metavar="SECONDS",
                        help="timestamp window in seconds (RFC 4285 default 7)")
    policy.add_argument("--require-mesg-id", action=argparse.BooleanOptionalAction, default=None,
                        help="the HA mandates the replay-protection option")
    policy.add_argument("--clock-offset", type=float, default=0.0, metavar="SECONDS",
                        help="shift the capture clock by this much before judging timestamps")


def run(args: argparse.Namespace) -> int:
    keys = None
    if args.keys:
        try:
            keys, warnings = load(args.keys)
        except KeyfileError as exc:
            return _fail(str(exc))
        for warning in warnings:
            print("mip6-audit: warning: %s" % warning, file=sys.stderr)
    if args.close_enough is not None and args.close_enough <= 0:
        return _fail("--close-enough must be a positive number of seconds")
    if keys is not None or any(v is not None for v in (args.replay, args.close_enough, args.require_mesg_id)):
        from .keys import KeyStore
        keys = (keys or KeyStore()).with_policy(replay=args.replay, close_enough=args.close_enough,
                                               require_mesg_id=args.require_mesg_id)
    if args.explain is not None and len(args.captures) != 1:
        return _fail("--explain needs exactly one capture")
    if args.jobs < 1:
        return _fail("--jobs must be 1 or more")
    jobs = args.jobs if args.explain is None else 1
    if jobs > 1 and "-" in args.captures:
        print("mip6-audit: note: standard input can be read only once; auditing with --jobs 1", file=sys.stderr)
        jobs = 1
    bar = None
    if args.explain is None and wanted(args.progress):
        sizes = capture_sizes(args.captures)
        bar = ProgressBar(sys.stderr, None if None in sizes else sum(sizes))
    counter = ReadCounter(len(args.captures), bar.update) if bar is not None and jobs == 1 else None
    try:
        inputs = open_inputs(args.captures, [counter.watcher(i) for i in range(len(args.captures))]
                             if counter else None)
    except CaptureError as exc:
        return _fail(str(exc))
    options = AuditOptions(clock_offset=args.clock_offset, watch_frame=args.explain)
    out = open(args.output, "w", encoding="utf-8") if args.output else sys.stdout
    try:
        if args.explain is not None:
            from .explain import explain
            return explain(inputs, keys, options, args.explain, out)
        make_reporter = functools.partial(JsonlReporter if args.format == "jsonl" else TextReporter, None, args.mn)
        reporter = make_reporter()
        reporter.out = out
        if jobs == 1:
            summary = _audit(inputs, keys, options, reporter, bar, live="-" in args.captures)
        else:
            for _name, reader in inputs:
                reader.close()     # each worker opens the files itself
            from .parallel import audit_parallel
            summary = audit_parallel(args.captures, keys, options, jobs, make_reporter, reporter, bar)
            reporter.event("summary", summary)
        out.flush()
    except CaptureError as exc:   # a header broken past the first octets
        return _fail(str(exc))
    finally:
        if bar is not None:
            bar.close()
        if out is not sys.stdout:
            out.close()
    by_severity = summary["findings_by_severity"]
    worst = max((SEVERITY_RANK[s] for s, count in by_severity.items() if count), default=-1)
    if args.fail_on != "never" and worst >= SEVERITY_RANK[args.fail_on]:
        return EXIT_FINDINGS
    return EXIT_OK


def _audit(inputs, keys, options, reporter, bar, live: bool) -> dict:
    """The audit in this process; returns the summary (already written)."""
    render, write, out = reporter.render, reporter.write, reporter.out
    summary = {}
    for kind, payload in audit(inputs, keys, options):
        rendered = render(kind, payload)
        if rendered is not None:
            write(rendered)
            if bar is not None and rendered[0] == FINDING:
                bar.found()
        if kind == "summary":
            summary = payload
        # Reading a pipe means someone is watching live: push each event out at once.
        if live:
            out.flush()
    return summary


def _fail(message: str) -> int:
    print("mip6-audit: %s" % message, file=sys.stderr)
    return EXIT_USAGE
