#!/usr/bin/env python3
"""How much the generated Lua dissector slows tshark down (issue 4; target < 1.5x).

    python3 bench/dissector_overhead.py                 # 100 000-frame capture, print a table
    python3 bench/dissector_overhead.py --record        # also write bench/results-dissector.md
    python3 bench/dissector_overhead.py --frames 300000 --repeat 3

The large capture comes from the sample generator's bulk scenario
(``mip6-audit samples --scenario bulk``) and is cached under bench/cache/.
Without the generator, it is built by repeating the frames of samples/*.pcap
(dpkt writer).  Each mode runs tshark with the built-in dissector alone, then
with ours loaded (keyfile set, built-in chained as shipped); the best of
--repeat runs counts.
"""

from __future__ import annotations

import argparse
import datetime
import glob
import os
import platform
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


def timed(command) -> float:
    start = time.perf_counter()
    subprocess.run(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=True)
    return time.perf_counter() - start


def measure(capture: Path, keys: Path, lua: Path, repeat: int):
    tshark = shutil.which("tshark")
    ours = ["-X", "lua_script:%s" % lua, "-o", "%s.keyfile:%s" % (dissector.PROTO, keys)]
    rows = []
    for mode, extra in MODES.items():
        builtin_args = extra if extra is not None else ["-Y", "mipv6"]
        ours_args = extra if extra is not None else ["-Y", dissector.PROTO]
        builtin = min(timed([tshark, *builtin_args, "-r", str(capture)]) for _ in range(repeat))
        loaded = min(timed([tshark, *ours, *ours_args, "-r", str(capture)]) for _ in range(repeat))
        rows.append((mode, builtin, loaded, loaded / builtin))
        print("%-32s built-in %7.2f s   with mip6audit %7.2f s   x%.2f" % (mode, builtin, loaded, loaded / builtin),
              flush=True)
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
    args = parser.parse_args()
    if not shutil.which("tshark"):
        sys.exit("tshark not found")
    capture, keys = bulk_capture(args.frames, args.mns)
    lua = CACHE / dissector.OUTPUT_NAME
    lua.write_text(dissector.render())
    mh_frames = subprocess.run(["tshark", "-r", str(capture), "-Y", "mipv6", "-T", "fields", "-e", "frame.number"],
                               capture_output=True, text=True).stdout.count("\n")
    print("%s: %d frames, %d with a Mobility Header" % (capture.name, args.frames, mh_frames), flush=True)
    rows = measure(capture, keys, lua, args.repeat)
    if args.record:
        record(capture, args, mh_frames, rows)
    return 0


def record(capture, args, mh_frames, rows) -> None:
    lines = ["# Lua dissector overhead", "",
             "Generated by `python3 bench/dissector_overhead.py --record` on %s." % datetime.date.today(), "",
             "Capture: `%s` (%d frames, %d with a Mobility Header), best of %d run(s)."
             % (capture.name, args.frames, mh_frames, args.repeat), "",
             "| mode | built-in alone | with mip6audit | ratio |", "|---|---|---|---|"]
    for mode, builtin, loaded, ratio in rows:
        lines.append("| %s | %.2f s | %.2f s | %.2fx |" % (mode, builtin, loaded, ratio))
    lines += ["", "Machine:", "", "```", machine(), "```", ""]
    existing = RESULTS.read_text() if RESULTS.exists() else ""
    marker = "<!-- analysis -->"
    analysis = existing[existing.index(marker):] if marker in existing else marker + "\n"
    RESULTS.write_text("\n".join(lines) + "\n" + analysis)
    print("wrote %s" % RESULTS)


if __name__ == "__main__":
    sys.exit(main())
