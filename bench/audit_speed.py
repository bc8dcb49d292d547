"""How fast is a full audit next to merely reading the capture? (issue 6)

    python3 bench/audit_speed.py                 # 1.2M frames and the 4x capture; writes bench/results.md

Builds (once, cached in bench/cache/) the bulk benchmark captures with the
sample generator (``mip6-audit samples --scenario bulk``): 2,000 mobile nodes
handing over about once a minute, one third BU/BA, the rest unrelated IPv4/IPv6
UDP/TCP; and a variant 4x as long.  Then measures, side by side, each command
in its own wrapper process (so its peak RSS is its own), medians of --reps runs:

- the full audit: ``mip6-audit F --keys K --format jsonl -o /dev/null``
  (every MAC verified, every rule on) with --jobs 1 and --jobs 2;
- the floor: dpkt's bare ``pcap.Reader`` iteration over the same file;
- tshark's built-in dissector extracting the mobility fields (one run: it
  takes minutes), with a fresh HOME so no personal Lua plugin is loaded.

Memory: the peak RSS of the largest process (``ru_maxrss`` of the wrapper's
children, exact), and the peak of the proportional set size summed over the
process tree (sampled every 20 ms from /proc), so --jobs 2 counts the parent
and both workers without counting the pages they share twice.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / "cache"
RESULTS = ROOT / "bench" / "results.md"
NOTES_MARK = "<!-- notes: kept when the script rewrites this file -->"

TSHARK_FIELDS = ("frame.number", "mip6.mhtype", "mip6.bu.seqnr", "mip6.ba.status", "mip6.ba.seqnr",
                 "mip6.mnid.identifier", "mip6.mseg_id.timestamp", "mip6.auth.subtype",
                 "mip6.auth.mobility_spi", "mip6.auth.auth_data", "ipv6.opt.mipv6.home_address",
                 "ipv6.routing.mipv6.home_address", "mip6.csum")

DPKT_LOOP = "import dpkt,sys\nn=0\nfor ts, buf in dpkt.pcap.Reader(open(sys.argv[1], 'rb')):\n    n += 1\n"


# -- measuring one command ------------------------------------------------------------

def _memory_kb(pid: int) -> int:
    """A process's proportional set size (shared pages split between sharers, so
    forked --jobs workers are not counted twice), else its resident set."""
    for path, field in (("/proc/%d/smaps_rollup" % pid, "Pss:"), ("/proc/%d/status" % pid, "VmRSS:")):
        try:
            with open(path) as lines:
                for line in lines:
                    if line.startswith(field):
                        return int(line.split()[1])
        except OSError:
            continue
    return 0


def _tree_rss_kb(pid: int) -> int:
    """Memory of a process and all its descendants, in KiB (0 once gone)."""
    total = 0
    stack = [pid]
    while stack:
        current = stack.pop()
        total += _memory_kb(current)
        try:
            with open("/proc/%d/task/%d/children" % (current, current)) as children:
                stack.extend(int(child) for child in children.read().split())
        except (OSError, ValueError):
            continue
    return total


def measure_here(command, stdout_path: str, env=None) -> dict:
    """Run one command from this (fresh) process; wall time, CPU and peak RSS."""
    with open(stdout_path, "wb") as out:
        started = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=subprocess.PIPE, env=env)
        peak = 0
        while process.poll() is None:
            peak = max(peak, _tree_rss_kb(process.pid))
            time.sleep(0.02)
        wall = time.perf_counter() - started
        error = process.stderr.read().decode(errors="replace")
    import resource
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    # ru_maxrss: the largest single process (exact); tree: the sampled sum of PSS over parent and workers.
    return {"wall": wall, "cpu": usage.ru_utime + usage.ru_stime, "rss_kb": usage.ru_maxrss,
            "tree_kb": peak, "code": process.returncode, "stderr": error[-2000:]}


def measure(command, stdout_path: str = os.devnull, env=None) -> dict:
    """``measure_here`` in its own wrapper process, so RUSAGE_CHILDREN is this command's alone."""
    wrapper = [sys.executable, str(Path(__file__).resolve()), "--measure-one", json.dumps(
        {"command": command, "stdout": stdout_path, "env": env})]
    result = subprocess.run(wrapper, capture_output=True, text=True, check=True)
    return json.loads(result.stdout)


# -- the captures -------------------------------------------------------------------

def bulk_capture(frames: int, mns: int, rebuild: bool) -> tuple:
    stem = CACHE / ("bulk-%dmn-%dframes" % (mns, frames))
    capture, keys = stem.with_suffix(".pcap"), stem.with_suffix(".keys.toml")
    if rebuild or not (capture.exists() and keys.exists()):
        CACHE.mkdir(parents=True, exist_ok=True)
        print("building %s (sample generator, bulk scenario) ..." % capture.name, flush=True)
        subprocess.run([sys.executable, "-m", "analyzer.cli", "samples", "--scenario", "bulk", "--mns", str(mns),
                        "--frames", str(frames), "--format", "pcap", "--out", str(CACHE)],
                       cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    return capture, keys


def capture_facts(capture: Path) -> dict:
    """Frames and Mobility Header messages, from the audit's own summary."""
    with tempfile.NamedTemporaryFile("r", suffix=".jsonl") as out:
        subprocess.run([sys.executable, "-m", "analyzer.cli", str(capture), "--format", "jsonl", "-o", out.name,
                        "--jobs", "2", "--no-progress"], cwd=ROOT, check=False)
        summary = json.loads(out.read().splitlines()[-1])
    return {"frames": sum(summary["frames"].values()), "messages": sum(summary["messages"].values()),
            "octets": capture.stat().st_size}


# -- the runs -------------------------------------------------------------------------

def audit_command(capture: Path, keys: Path, jobs: int) -> list:
    return [sys.executable, "-m", "analyzer.cli", str(capture), "--keys", str(keys), "--format", "jsonl",
            "-o", os.devnull, "--jobs", str(jobs), "--no-progress"]


def tshark_command(capture: Path) -> list:
    fields = []
    for field in TSHARK_FIELDS:
        fields += ["-e", field]
    return ["tshark", "-r", str(capture), "-Y", "mipv6", "-T", "fields", *fields]


def median_of(runs: list) -> dict:
    return {"wall": statistics.median(r["wall"] for r in runs), "cpu": statistics.median(r["cpu"] for r in runs),
            "rss_kb": max(r["rss_kb"] for r in runs), "tree_kb": max(r["tree_kb"] for r in runs),
            "runs": len(runs), "walls": [round(r["wall"], 2) for r in runs],
            "load": statistics.median(r["load"] for r in runs)}


def bench_capture(capture: Path, keys: Path, reps: int, jobs_list, tshark: bool) -> dict:
    results = {}
    plans = [("dpkt", [sys.executable, "-c", DPKT_LOOP, str(capture)], reps)]
    plans += [("audit-j%d" % jobs, audit_command(capture, keys, jobs), reps) for jobs in jobs_list]
    for rep in range(reps):          # interleaved, so that a busy moment hits every command alike
        for name, command, wanted_reps in plans:
            if rep < wanted_reps:
                print("  %s run %d ..." % (name, rep + 1), end="", flush=True)
                load = os.getloadavg()[0]
                run = measure(command)
                run["load"] = load
                if run["code"] not in (0, 1):
                    raise SystemExit("%s failed (exit %s):\n%s" % (name, run["code"], run["stderr"]))
                print(" %.2f s, %d MB" % (run["wall"], run["rss_kb"] // 1024), flush=True)
                results.setdefault(name, []).append(run)
    if tshark:
        home = tempfile.mkdtemp(prefix="bench-tshark-home-")
        env = dict(os.environ, HOME=home, XDG_CONFIG_HOME=home)
        print("  tshark (one run) ...", end="", flush=True)
        load = os.getloadavg()[0]
        run = measure(tshark_command(capture), env=env)
        run["load"] = load
        if run["code"] != 0:
            raise SystemExit("tshark failed:\n%s" % run["stderr"])
        print(" %.1f s, %d MB" % (run["wall"], run["rss_kb"] // 1024), flush=True)
        results["tshark"] = [run]
    return {name: median_of(runs) for name, runs in results.items()}


# -- the report -------------------------------------------------------------------------

def machine() -> str:
    model = ""
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines():
            if line.startswith("Model name:"):
                model = line.split(":", 1)[1].strip()
    except OSError:
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return "%d CPUs (nproc), %s, Python %s, %s; load average %.1f at the end" % (
        os.cpu_count() or 0, model or platform.processor(), platform.python_version(), platform.system(), load)


def commit() -> str:
    try:
        return subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True,
                              text=True).stdout.strip()
    except OSError:
        return "?"


def table(label: str, facts: dict, measured: dict) -> list:
    floor = measured["dpkt"]["wall"]
    lines = ["### %s: %d frames, %d mobility messages, %.0f MB" % (
        label, facts["frames"], facts["messages"], facts["octets"] / 1e6), "",
        "| command | median wall (s) | CPU (s) | runs | x dpkt floor | peak RSS, largest process (MB) "
        "| peak PSS, all processes (MB) | per frame (us) | load average before |",
        "|---|---|---|---|---|---|---|---|---|"]
    for name in sorted(measured, key=lambda n: measured[n]["wall"]):
        m = measured[name]
        lines.append("| %s | %.2f %s | %.2f | %d | %.2f | %.0f | %.0f | %.2f | %.1f |" % (
            name, m["wall"], "(%s)" % ", ".join(map(str, m["walls"])) if m["runs"] > 1 else "", m["cpu"],
            m["runs"], m["wall"] / floor, m["rss_kb"] / 1024, m["tree_kb"] / 1024, m["wall"] / facts["frames"] * 1e6,
            m["load"]))
    lines.append("")
    return lines


def report(args, one: dict, four) -> str:
    facts1, measured1 = one
    lines = ["# Audit speed (issue 6)", "",
             "Written by `python3 bench/audit_speed.py%s` on %s UTC, commit %s." % (
                 " " + " ".join(sys.argv[1:]) if sys.argv[1:] else "",
                 datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M"), commit()),
             "Machine: %s." % machine(), "",
             "Captures: the sample generator's bulk scenario (`mip6-audit samples --scenario bulk --mns %d`), "
             "cached in bench/cache/. The audit: `mip6-audit F --keys K --format jsonl -o /dev/null` (every MAC "
             "verified, every rule on). The floor: dpkt's bare `pcap.Reader` loop. tshark: `%s` (one run)." % (
                 args.mns, " ".join(tshark_command(Path("F")))), ""]
    lines += table("1x", facts1, measured1)
    best = min((n for n in measured1 if n.startswith("audit")), key=lambda n: measured1[n]["wall"])
    floor = measured1["dpkt"]["wall"]
    lines.append("Targets on the 1x capture (best audit: %s):" % best)
    lines.append("")
    lines.append("- audit / dpkt floor: %.2f (target <= 1.5)" % (measured1[best]["wall"] / floor))
    if "tshark" in measured1:
        lines.append("- tshark / audit: %.1f (target >= 30)" % (measured1["tshark"]["wall"] / measured1[best]["wall"]))
    lines.append("- peak RSS: %.0f MB largest process, %.0f MB all processes together (target < 200)" % (
        measured1[best]["rss_kb"] / 1024, measured1[best]["tree_kb"] / 1024))
    if four is not None:
        facts4, measured4 = four
        lines += [""] + table("4x", facts4, measured4)
        lines.append("Scaling from 1x to 4x:")
        lines.append("")
        for name in sorted(n for n in measured4 if n in measured1):
            lines.append("- %s: time x%.2f for x%.2f frames; peak RSS %+.1f%%, all processes %+.1f%% "
                         "(target <= +10%%)" % (
                             name, measured4[name]["wall"] / measured1[name]["wall"],
                             facts4["frames"] / facts1["frames"],
                             (measured4[name]["rss_kb"] / measured1[name]["rss_kb"] - 1) * 100,
                             (measured4[name]["tree_kb"] / measured1[name]["tree_kb"] - 1) * 100))
    lines.append("")
    return "\n".join(lines)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--frames", type=int, default=1_200_000, help="frames in the 1x capture (default 1.2M)")
    parser.add_argument("--mns", type=int, default=2000, help="mobile nodes (default 2000)")
    parser.add_argument("--reps", type=int, default=3, help="runs of each command on the 1x capture (median)")
    parser.add_argument("--reps-4x", type=int, default=1, help="runs of each command on the 4x capture")
    parser.add_argument("--jobs", default="1,2", help="--jobs values to measure (default 1,2)")
    parser.add_argument("--no-4x", action="store_true", help="skip the 4x capture")
    parser.add_argument("--no-tshark", action="store_true", help="skip tshark (about a minute on 1.2M frames)")
    parser.add_argument("--rebuild", action="store_true", help="rebuild the cached captures")
    parser.add_argument("--output", default=str(RESULTS), help="results file (default bench/results.md)")
    parser.add_argument("--measure-one", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.measure_one:
        spec = json.loads(args.measure_one)
        print(json.dumps(measure_here(spec["command"], spec["stdout"], spec["env"])))
        return 0
    jobs_list = [int(j) for j in args.jobs.split(",")]
    capture, keys = bulk_capture(args.frames, args.mns, args.rebuild)
    print("%s:" % capture.name, flush=True)
    one = (capture_facts(capture), bench_capture(capture, keys, args.reps, jobs_list, not args.no_tshark))
    four = None
    if not args.no_4x:
        capture4, keys4 = bulk_capture(args.frames * 4, args.mns, args.rebuild)
        print("%s:" % capture4.name, flush=True)
        four = (capture_facts(capture4), bench_capture(capture4, keys4, args.reps_4x, jobs_list, False))
    text = report(args, one, four)
    output = Path(args.output)
    previous = output.read_text() if output.exists() else ""
    if NOTES_MARK in previous:      # hand-written analysis (profiles before and after) stays
        text += "\n" + previous[previous.index(NOTES_MARK):]
    output.write_text(text)
    print("\n" + text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
