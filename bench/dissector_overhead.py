#!/usr/bin/env python3
"""How much the generated Lua dissector slows tshark down (issue 4; target < 1.5x).

    python3 bench/dissector_overhead.py                 # 100 000-frame capture, print a table
    python3 bench/dissector_overhead.py --record        # also write bench/results-dissector.md
    python3 bench/dissector_overhead.py --frames 300000 --repeat 3
    git show REV:generated/mip6_audit.lua > /tmp/old.lua
    python3 bench/dissector_overhead.py --repeat 3 --baseline /tmp/old.lua   # before/after in one run

The large capture comes from the sample generator's bulk scenario
(``mip6-audit samples --scenario bulk``) and is cached under bench/cache/.
Without the generator, it is built by repeating the frames of samples/*.pcap
(dpkt writer).  Each mode runs tshark with the built-in dissector alone, then
with ours loaded (keyfile set, built-in chained as shipped), and with the
--baseline copy when given; the runs of a mode are interleaved and the best of
--repeat counts.  Both wall-clock and CPU time (user + system of tshark) are
recorded: on a machine shared with other work the CPU time is the steadier.
"""

from __future__ import annotations

import argparse
import datetime
import glob
import os
import platform
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / "cache"
RESULTS = ROOT / "bench" / "results-dissector.md"
sys.path.insert(0, str(ROOT))

from analyzer import dissector  # noqa: E402

MODES = {
    "summary (tshark -r)": [],
    "full tree (tshark -V)": ["-V"],
    "filter (-Y mipv6 / mip6audit)": None,  # filled per side below
}


def bulk_capture(frames: int, mns: int) -> tuple:
    stem = "bulk-%dmn-%dframes" % (mns, frames)
    capture, keys = CACHE / (stem + ".pcap"), CACHE / (stem + ".keys.toml")
    if capture.exists() and keys.exists():
        return capture, keys
    CACHE.mkdir(parents=True, exist_ok=True)
    if not (ROOT / "analyzer" / "samplegen" / "bulk.py").exists():
        return replicated_capture(frames)
    subprocess.run([sys.executable, "-m", "analyzer.cli", "samples", "--scenario", "bulk", "--mns", str(mns),
                    "--frames", str(frames), "--format", "pcap", "--out", str(CACHE)], check=True, cwd=ROOT,
                   stdout=subprocess.DEVNULL)
    return capture, keys


def replicated_capture(frames: int) -> tuple:
    """Fallback: repeat every frame of the sample captures until ``frames``."""
    import dpkt

    from analyzer.capture import read_frames

    sources = sorted(glob.glob(str(ROOT / "samples" / "*.pcap")))
    if not sources:
        sys.exit("no samples/*.pcap to replicate and no sample generator; run `mip6-audit samples` first")
    pool = []
    for path in sources:
        with open(path, "rb") as handle:
            pool.extend(f for f in read_frames(handle, path) if f.linktype == 1)
    capture = CACHE / ("replicated-%dframes.pcap" % frames)
    with open(capture, "wb") as out:
        writer = dpkt.pcap.Writer(out, linktype=1)
        for index in range(frames):
            frame = pool[index % len(pool)]
            writer.writepkt(frame.data, ts=1_700_000_000 + index / 1000)
    keys = Path(sources[0]).with_suffix("").with_suffix(".keys.toml")
    return capture, keys


def timed(command) -> tuple:
    """(wall seconds, CPU seconds) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def measure(capture: Path, keys: Path, lua: Path, repeat: int, baseline: Path = None):
    """Per mode: {"built-in": (wall, cpu), "ours": ..., "baseline": ...}, best of ``repeat``."""
    tshark = shutil.which("tshark")
    loaded = {"ours": lua}
    if baseline:
        loaded["baseline"] = baseline
    rows = []
    for mode, extra in MODES.items():
        commands = {"built-in": [tshark, *(extra if extra is not None else ["-Y", "mipv6"]), "-r", str(capture)]}
        for name, script in loaded.items():
            commands[name] = [tshark, "-X", "lua_script:%s" % script, "-o", "%s.keyfile:%s" % (dissector.PROTO, keys),
                              *(extra if extra is not None else ["-Y", dissector.PROTO]), "-r", str(capture)]
        best = {name: (float("inf"), float("inf")) for name in commands}
        for _ in range(repeat):
            for name, command in commands.items():
                wall, cpu = timed(command)
                best[name] = (min(best[name][0], wall), min(best[name][1], cpu))
        rows.append((mode, best))
        print("%-32s %s" % (mode, "   ".join("%s %.2f s (cpu %.2f s) x%.2f" % (
            name, wall, cpu, wall / best["built-in"][0]) for name, (wall, cpu) in best.items())), flush=True)
    return rows


def machine() -> str:
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()[:10]
    tshark_version = subprocess.run(["tshark", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
    return "\n".join(["nproc: %d" % os.cpu_count(), *lscpu, tshark_version, "Python %s" % platform.python_version()])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--frames", type=int, default=100_000)
    parser.add_argument("--mns", type=int, default=200)
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--record", action="store_true", help="write bench/results-dissector.md")
    parser.add_argument("--baseline", type=Path, metavar="LUA",
                        help="also time this copy of the dissector (e.g. an older generated/mip6_audit.lua)")
    args = parser.parse_args()
    if not shutil.which("tshark"):
        sys.exit("tshark not found")
    capture, keys = bulk_capture(args.frames, args.mns)
    lua = CACHE / dissector.OUTPUT_NAME
    lua.write_text(dissector.render())
    mh_frames = subprocess.run(["tshark", "-r", str(capture), "-Y", "mipv6", "-T", "fields", "-e", "frame.number"],
                               capture_output=True, text=True).stdout.count("\n")
    print("%s: %d frames, %d with a Mobility Header" % (capture.name, args.frames, mh_frames), flush=True)
    rows = measure(capture, keys, lua, args.repeat, args.baseline)
    if args.record:
        record(capture, args, mh_frames, rows)
    return 0


def record(capture, args, mh_frames, rows) -> None:
    lines = ["# Lua dissector overhead", "",
             "Generated by `python3 bench/dissector_overhead.py --record` on %s." % datetime.date.today(), "",
             "Capture: `%s` (%d frames, %d with a Mobility Header), best of %d interleaved run(s);"
             % (capture.name, args.frames, mh_frames, args.repeat),
             "wall-clock time, CPU time (user + system) in brackets.", ""]
    names = list(rows[0][1])
    header = {"built-in": "built-in alone", "ours": "with mip6audit",
              "baseline": "with `%s`" % (args.baseline.name if args.baseline else "")}
    lines.append("| mode | " + " | ".join(header[name] for name in names) + " | ratio | ratio (CPU) |"
                 + (" ratio before |" if "baseline" in names else ""))
    lines.append("|---" * (len(names) + 3 + ("baseline" in names)) + "|")
    for mode, best in rows:
        builtin_wall, builtin_cpu = best["built-in"]
        cells = ["%.2f s (%.2f s)" % best[name] for name in names]
        cells.append("%.2fx" % (best["ours"][0] / builtin_wall))
        cells.append("%.2fx" % (best["ours"][1] / builtin_cpu))
        if "baseline" in best:
            cells.append("%.2fx" % (best["baseline"][0] / builtin_wall))
        lines.append("| %s | %s |" % (mode, " | ".join(cells)))
    lines += ["", "Machine:", "", "```", machine(), "```", ""]
    existing = RESULTS.read_text() if RESULTS.exists() else ""
    marker = "<!-- analysis -->"
    analysis = existing[existing.index(marker):] if marker in existing else marker + "\n"
    RESULTS.write_text("\n".join(lines) + "\n" + analysis)
    print("wrote %s" % RESULTS)


if __name__ == "__main__":
    sys.exit(main())
