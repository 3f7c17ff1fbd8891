"""What each hostile query upload costs: answer, time and peak-memory growth, one child process.

The files are the ones tests/search/test_hostile_uploads.py builds (small on disk, huge in what they
declare); each goes through apps.search.params.picture_from_upload, the function the page and
the API call. Growth is the rise of the child's peak resident memory (VmHWM, reset before each file)
above what it held with the file read.

    .venv/bin/python bench/hostile_uploads.py [--root OTHER_CHECKOUT] [--skip SUBSTRING ...] [--quick]

--root measures another checkout (say, main before a change) with the same files.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mirage_site.settings")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=ROOT, help="checkout whose code decodes the files")
    parser.add_argument("--skip", nargs="*", default=[], help="leave out attacks whose name has this")
    # Every attack is refused within a second or two, so the quick version is the whole run.
    parser.add_argument("--quick", action="store_true", help="the same run: it takes seconds")
    args = parser.parse_args()

    import django

    django.setup()
    from tests.search.test_hostile_uploads import HOSTILE, measure

    with tempfile.TemporaryDirectory() as folder:
        paths = {}
        for attack, (name, build, _) in HOSTILE.items():
            if any(word in attack for word in args.skip):
                continue
            paths[attack] = Path(folder) / name
            paths[attack].write_bytes(build())
        outcomes = measure(list(paths.values()), root=args.root)
        print(f"code: {args.root}\n")
        print("| attack | on disk | answer | time (ms) | memory growth (MB) |")
        print("|---|---:|---:|---:|---:|")
        for attack, path in paths.items():
            outcome = outcomes[path]
            size = path.stat().st_size / 1024
            print(
                f"| {attack} | {size:,.0f} kB | {outcome['status']} | {outcome['seconds'] * 1000:,.0f} | "
                f"{outcome['growth_mb']:,.0f} |"
            )


if __name__ == "__main__":
    main()
