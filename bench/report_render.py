"""Size and render time of the HTML report for N runs side by side.

    python bench/report_render.py RUN [RUN ...] --copies 10 --repeats 3

Builds one page from the given run folders (repeated to ``--copies`` columns), then reports
its size, the Python render time, and the time headless Chromium takes to load it and dump
the DOM (process start included, so an upper bound on the page's own render time).
"""
from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import tempfile
import time
from pathlib import Path

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("runs", nargs="+")
    ap.add_argument("--copies", type=int, default=10)
    ap.add_argument("--repeats", type=int, default=3)
    args = ap.parse_args()
    from oblivio.report.html import write_report
    runs = [args.runs[i % len(args.runs)] for i in range(args.copies)]
    with tempfile.TemporaryDirectory() as tmp:
        page = Path(tmp) / "report.html"
        t = []
        for _ in range(args.repeats):
            t0 = time.perf_counter()
            write_report(runs, page, overwrite=True)
            t.append(time.perf_counter() - t0)
        print(f"{args.copies} runs: {page.stat().st_size / 2**20:.2f} MB; "
              f"python render median {statistics.median(t):.2f}s "
              f"(min {min(t):.2f}, max {max(t):.2f})")
        chromium = shutil.which("chromium")
        if chromium is None:
            print("chromium not installed: browser time not measured")
            return
        b = []
        for i in range(args.repeats):
            t0 = time.perf_counter()
            subprocess.run([chromium, *FLAGS, f"--user-data-dir={tmp}/p{i}", "--dump-dom", page.as_uri()],
                           capture_output=True, check=True, timeout=120)
            b.append(time.perf_counter() - t0)
        print(f"chromium load + dump-dom (process start included): median {statistics.median(b):.2f}s "
              f"(min {min(b):.2f}, max {max(b):.2f})")


if __name__ == "__main__":
    main()
