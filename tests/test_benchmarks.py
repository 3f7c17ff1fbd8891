"""`make bench` runs every benchmark in bench/, `make bench QUICK=1` each one's quick version, and the
runner keeps each one's tables in bench/results/."""

from __future__ import annotations

import importlib.util
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def runner():
    spec = importlib.util.spec_from_file_location("bench_run", ROOT / "bench" / "run.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def bench_command(*make_args: str) -> list[str]:
    # -o: never reinstall the virtual environment for a dry run.
    out = subprocess.run(
        ["make", "-n", "-o", ".venv/.installed", "bench", *make_args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    (line,) = [line for line in out.splitlines() if "bench/run.py" in line]
    return line.split()


def test_make_bench_quick_runs_the_quick_version_of_every_benchmark():
    scripts = {p.stem for p in (ROOT / "bench").glob("*.py")} - {"common", "run"}
    assert len(scripts) >= 10 and set(runner().benchmarks()) == scripts

    quick = bench_command("QUICK=1")
    full = bench_command()

    assert quick[1:3] == ["bench/run.py", "--quick"] and set(quick[3:]) == scripts
    assert full[1] == "bench/run.py" and "--quick" not in full and set(full[2:]) == scripts


def test_every_benchmark_has_a_quick_version():
    for name in runner().benchmarks():
        assert '"--quick"' in (ROOT / "bench" / f"{name}.py").read_text(), f"bench/{name}.py has no --quick"


def test_the_runner_keeps_a_benchmarks_tables_and_says_when_it_failed(tmp_path, monkeypatch, capsys):
    run = runner()
    monkeypatch.setattr(run, "BENCH", tmp_path)
    (tmp_path / "tables.py").write_text(
        "import sys\n"
        "print('| what | ms |')\n"
        "print('| --- | --- |')\n"
        "print('| quick' if '--quick' in sys.argv else '| full', '| 1.5 |')\n"
    )
    (tmp_path / "broken.py").write_text("print('| half a table |')\nraise SystemExit(3)\n")

    assert run.run_one("tables", quick=True)[0] == 0
    assert run.run_one("broken", quick=False)[0] == 3

    kept = (tmp_path / "results" / "quick" / "tables.md").read_text()
    assert "| quick | 1.5 |" in kept and "load average" in kept and "exit status 0" in kept
    assert "| quick | 1.5 |" in capsys.readouterr().out  # shown as it runs, too
    broken = (tmp_path / "results" / "broken.md").read_text()
    assert "| half a table |" in broken and "exit status 3" in broken
