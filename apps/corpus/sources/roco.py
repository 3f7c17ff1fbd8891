"""ROCO (Radiology Objects in COntext): one split/category folder, and finding those folders.

The layout is `data/{train,validation,test}/{radiology,non-radiology}/`, each folder holding
tab-separated `captions.txt`, `keywords.txt`, `cuis.txt`, `semtypes.txt`, `dlinks.txt`, the CSV
`licences.txt`, and `images/ROCO_xxxxx.jpg`. The text-file helpers here are shared by the other sources.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterator
from pathlib import Path

from apps.corpus.records import EntryRecord, ParseProblem

# The dataset row every ROCO source shares (import_roco, and import_hf of ROCO-radiology): one entry
# per ROCO id, whichever source stored it first.
ROCO_DATASET = {
    "slug": "roco",
    "name": "ROCO",
    "description": (
        "Radiology Objects in COntext: figures and captions from PubMed Central open-access articles."
    ),
    "url": "https://github.com/razorx89/roco-dataset",
}

SPLITS = ("train", "validation", "test")
CATEGORIES = ("radiology", "non-radiology")
_SPLIT_NAMES = {
    "train": "train",
    "validation": "validation",
    "valid": "validation",
    "val": "validation",
    "test": "test",
}

_ID = re.compile(r"ROCO_\d+")
_PMC_ARCHIVE = re.compile(r"/(PMC\d+)\.tar\.gz\b")
_SEMTYPE_CODE = re.compile(r"T\d+")
# Entries by id while a folder is read; None marks an id whose caption line was rejected
Records = dict[str, EntryRecord | None]
# Bytes that are not UTF-8 come back as lone surrogates under errors="surrogateescape".
_UNDECODABLE = re.compile("[\udc80-\udcff]")


def text_lines(path: Path, problems: list[ParseProblem]) -> Iterator[tuple[int, str]]:
    """The non-blank lines of a UTF-8 text file, numbered from 1; undecodable lines become problems."""
    with path.open(encoding="utf-8-sig", errors="surrogateescape") as f:
        for number, line in enumerate(f, start=1):
            line = line.rstrip("\r\n")
            if _UNDECODABLE.search(line):
                problems.append(ParseProblem(str(path), number, "undecodable bytes (not UTF-8)"))
            elif line.strip():
                yield number, line


def csv_rows(
    path: Path, problems: list[ParseProblem], *, required: set[str]
) -> Iterator[tuple[int, dict[str, str]]]:
    """The rows of a CSV file with a header, as {lower-case column: value} with the row's first line number.

    A header lacking a required column is one problem and no rows; a row with the wrong number of
    fields or undecodable bytes is a problem and skipped. Quoted values may span lines.
    """
    with path.open(encoding="utf-8-sig", errors="surrogateescape", newline="") as f:
        reader = csv.reader(f)
        header = [name.strip().lower() for name in next(reader, [])]
        if missing := required - set(header):
            problems.append(
                ParseProblem(str(path), 1, f"header lacks column(s) {', '.join(sorted(missing))}")
            )
            return
        while True:
            start = reader.line_num + 1
            try:
                values = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                problems.append(ParseProblem(str(path), start, f"malformed CSV: {error}"))
                continue
            if not any(value.strip() for value in values):
                continue
            if any(_UNDECODABLE.search(value) for value in values):
                problems.append(ParseProblem(str(path), start, "undecodable bytes (not UTF-8)"))
            elif len(values) != len(header):
                problems.append(
                    ParseProblem(str(path), start, f"{len(values)} fields, expected {len(header)}")
                )
            else:
                yield start, dict(zip(header, values, strict=True))


def read_roco(
    folder: Path, *, split: str = "", category: str = ""
) -> tuple[list[EntryRecord], list[ParseProblem]]:
    """The entries of one ROCO split/category folder, and the lines that could not be read.

    captions.txt is required (FileNotFoundError without it); a missing side file is one problem.
    Malformed lines are reported and skipped, everything else is read.
    """
    captions = folder / "captions.txt"
    if not captions.is_file():
        raise FileNotFoundError(f"{captions} not found: a ROCO folder needs captions.txt")
    problems: list[ParseProblem] = []
    records: Records = {}  # lines about rejected ids (None) in the side files are skipped quietly
    for number, line in text_lines(captions, problems):
        fields = line.split("\t")
        entry_id = fields[0].strip()
        if _ID.fullmatch(entry_id) and entry_id not in records:
            records[entry_id] = None
        if len(fields) != 2:
            problems.append(
                ParseProblem(str(captions), number, f"{len(fields)} tab-separated fields, expected 2")
            )
        elif not _ID.fullmatch(entry_id):
            problems.append(ParseProblem(str(captions), number, f"id {entry_id!r} is not like ROCO_00020"))
        elif records[entry_id] is not None:
            problems.append(ParseProblem(str(captions), number, f"duplicate id {entry_id}"))
        elif not (caption := fields[1].strip()):
            problems.append(ParseProblem(str(captions), number, f"empty caption for {entry_id}"))
        else:
            records[entry_id] = EntryRecord(
                external_id=entry_id,
                caption=caption,
                split=split,
                category=category,
                image_path=folder / "images" / f"{entry_id}.jpg",
            )

    for _number, entry, values in _value_lines(folder / "keywords.txt", records, problems):
        entry.keywords = values
    for _number, entry, values in _value_lines(folder / "cuis.txt", records, problems):
        entry.cuis = values
    semtypes = folder / "semtypes.txt"
    for number, entry, values in _value_lines(semtypes, records, problems):
        if len(values) % 2 or not all(_SEMTYPE_CODE.fullmatch(code) for code in values[::2]):
            problems.append(ParseProblem(str(semtypes), number, "semantic types are not (code, name) pairs"))
        else:
            entry.semtypes = list(zip(values[::2], values[1::2], strict=True))
    _read_dlinks(folder / "dlinks.txt", records, problems)
    _read_licences(folder / "licences.txt", records, problems)

    entries = [entry for entry in records.values() if entry is not None]
    for entry in entries:
        if entry.pmc_id:
            entry.article_url = f"https://www.ncbi.nlm.nih.gov/pmc/articles/{entry.pmc_id}/"
    return entries, problems


def _entry(
    path: Path, number: int, entry_id: str, records: Records, problems: list[ParseProblem]
) -> EntryRecord | None:
    """The entry a side-file line is about; None (and a problem, unless its caption line was one) if none."""
    if not _ID.fullmatch(entry_id):
        problems.append(ParseProblem(str(path), number, f"id {entry_id!r} is not like ROCO_00020"))
    elif entry_id not in records:
        problems.append(ParseProblem(str(path), number, f"{entry_id} has no caption in captions.txt"))
    else:
        return records[entry_id]
    return None


def _entry_lines(
    path: Path, records: Records, problems: list[ParseProblem]
) -> Iterator[tuple[int, EntryRecord, list[str]]]:
    """(line number, entry, fields after the id) for each line of a tab-separated side file."""
    if not path.is_file():
        problems.append(ParseProblem(str(path), 0, "file missing; its field is left empty"))
        return
    for number, line in text_lines(path, problems):
        entry_id, *fields = line.split("\t")
        if entry := _entry(path, number, entry_id.strip(), records, problems):
            yield number, entry, fields


def _value_lines(
    path: Path, records: Records, problems: list[ParseProblem]
) -> Iterator[tuple[int, EntryRecord, list[str]]]:
    """Lines like `ID\\t\\tvalue\\tvalue…` (keywords, CUIs, semantic types): the non-empty values."""
    for number, entry, fields in _entry_lines(path, records, problems):
        if not fields:
            problems.append(ParseProblem(str(path), number, "no tab after the id"))
        else:
            yield number, entry, [value.strip() for value in fields if value.strip()]


def _read_dlinks(path: Path, records: Records, problems: list[ParseProblem]) -> None:
    """`ID\\twget -r ftp://…/PMC3970251.tar.gz -P /path/to/Dir\\tfile.jpg`: the article and the image name."""
    for number, entry, fields in _entry_lines(path, records, problems):
        if len(fields) != 2:
            problems.append(
                ParseProblem(str(path), number, f"{len(fields) + 1} tab-separated fields, expected 3")
            )
        elif not (archive := _PMC_ARCHIVE.search(fields[0])):
            problems.append(ParseProblem(str(path), number, "no PMC….tar.gz archive in the download command"))
        elif not fields[1].strip():
            problems.append(ParseProblem(str(path), number, "empty image file name"))
        else:
            entry.pmc_id, entry.image_name = archive.group(1), fields[1].strip()


def _read_licences(path: Path, records: Records, problems: list[ParseProblem]) -> None:
    """CSV `ROCO_ID,PMC_ID,CC`; PMC_ID is `PMC3970251_file.jpg`, used when dlinks.txt lacks the entry."""
    if not path.is_file():
        problems.append(
            ParseProblem(str(path), 0, "file missing; licences are left empty (not openly licensed)")
        )
        return
    for number, row in csv_rows(path, problems, required={"roco_id", "cc"}):
        if entry := _entry(path, number, row["roco_id"].strip(), records, problems):
            entry.licence_raw = row["cc"].strip()
            pmc_id, _, image_name = row.get("pmc_id", "").strip().partition("_")
            if not entry.pmc_id and re.fullmatch(r"PMC\d+", pmc_id):
                entry.pmc_id, entry.image_name = pmc_id, image_name


def find_roco_folders(path: Path, *, split: str | None, category: str | None) -> list[tuple[Path, str, str]]:
    """The ROCO split/category folders at `path`, as (folder, split, category).

    `path` may be the dataset root (holding data/), the data/ folder, a split folder or one
    split/category folder. A folder's split and category come from its own name and its parent's
    when those are the standard ones (also read out of names like "roco-validation-radiology"),
    otherwise from the `split` and `category` arguments, otherwise "". Given arguments also select:
    only folders of that split and category are returned. ValueError when none is found.
    """
    split = _SPLIT_NAMES.get(split, split) if split else None
    if not path.is_dir():
        raise ValueError(f"{path} is not a folder")
    if (path / "captions.txt").is_file():
        folders = [path]
    else:
        base = path / "data" if (path / "data").is_dir() else path
        folders = sorted(
            {p.parent for pattern in ("*/captions.txt", "*/*/captions.txt") for p in base.glob(pattern)}
        )
    if not folders:
        raise ValueError(
            f"no ROCO data in {path}: expected captions.txt there, or the layout "
            "data/{train,validation,test}/{radiology,non-radiology}/captions.txt"
        )
    found = []
    for folder in folders:
        folder_split, folder_category = _labels(folder)
        folder_split = folder_split or split or ""
        folder_category = folder_category or category or ""
        if (not split or folder_split == split) and (not category or folder_category == category):
            found.append((folder, folder_split, folder_category))
    if not found:
        raise ValueError(f"none of the ROCO folders in {path} is split {split!r}, category {category!r}")
    return sorted(found, key=lambda f: (_order(f[1], SPLITS), _order(f[2], CATEGORIES), str(f[0])))


def _labels(folder: Path) -> tuple[str, str]:
    """(split, category) read from standard folder names, "" where the names don't say."""
    words = re.split(r"[-_\s]+", folder.name.lower())
    joined = "-".join(words)
    category = "non-radiology" if "non-radiology" in joined or "nonradiology" in words else ""
    category = category or ("radiology" if "radiology" in words else "")
    split = _SPLIT_NAMES.get(folder.parent.name.lower(), "")
    split = split or next((_SPLIT_NAMES[w] for w in words if w in _SPLIT_NAMES), "")
    return split, category


def _order(value: str, known: tuple[str, ...]) -> int:
    return known.index(value) if value in known else len(known)
