"""Run benchmarks one after another (what `make bench` does) and keep each one's tables.

Each benchmark runs as `python bench/NAME.py [--quick]` in a process of its own; what it prints on
stdout (its tables) is shown as it comes and written to bench/results/NAME.md, or with --quick to
bench/results/quick/NAME.md, under a line saying when, how long and at which load it ran (this
machine is shared: absolute times drift with the load, ratios within one run hold). A benchmark that
fails does not stop the others; the run then ends with status 1.

    .venv/bin/python bench/run.py [--quick] [NAME ...]      # default: every bench/*.py
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

BENCH = Path(__file__).resolve().parent
NOT_BENCHMARKS = {"common", "run"}


def benchmarks() -> list[str]:
    """Every benchmark script in bench/ (the helpers left out)."""
    return sorted(p.stem for p in BENCH.glob("*.py") if p.stem not in NOT_BENCHMARKS)


def results_path(name: str, *, quick: bool) -> Path:
    return BENCH / "results" / ("quick" if quick else "") / f"{name}.md"


def load() -> str:
    return " / ".join(f"{x:.1f}" for x in os.getloadavg())


def run_one(name: str, *, quick: bool) -> tuple[int, float]:
    """Run one benchmark, echo and keep its stdout; (exit status, seconds)."""
    command = [sys.executable, str(BENCH / f"{name}.py"), *(["--quick"] if quick else [])]
    header = (
        f"<!-- {' '.join(['bench/' + name + '.py', *command[2:]])}; started "
        f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, load average {load()} (1/5/15 min) "
        f"on {os.cpu_count()} cores -->"
    )
    print(f"\n=== {name}{' (quick)' if quick else ''}", flush=True)
    started = time.perf_counter()
    lines = []
    with subprocess.Popen(command, cwd=BENCH.parent, stdout=subprocess.PIPE, text=True, bufsize=1) as child:
        for line in child.stdout:
            print(line, end="", flush=True)
            lines.append(line)
    seconds = time.perf_counter() - started
    footer = f"\n<!-- finished in {seconds:.0f} s, exit status {child.returncode}, load {load()} -->\n"
    path = results_path(name, quick=quick)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(header + "\n\n" + "".join(lines).strip() + "\n" + footer, encoding="utf-8")
    return child.returncode, seconds


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="each benchmark's quick version")
    parser.add_argument("names", nargs="*", help=f"default: all of {', '.join(benchmarks())}")
    args = parser.parse_args()
    if unknown := set(args.names) - set(benchmarks()):
        parser.error(f"no such benchmark: {', '.join(sorted(unknown))}")
    started = time.perf_counter()
    outcomes = {name: run_one(name, quick=args.quick) for name in args.names or benchmarks()}
    print("\n| benchmark | exit status | seconds | results |")
    print("| --- | --- | --- | --- |")
    for name, (status, seconds) in outcomes.items():
        where = results_path(name, quick=args.quick).relative_to(BENCH.parent)
        print(f"| {name} | {status} | {seconds:.0f} | {where} |")
    print(f"\nall: {time.perf_counter() - started:.0f} s, load average {load()} at the end")
    return 1 if any(status for status, _ in outcomes.values()) else 0


if __name__ == "__main__":
    sys.exit(main())
