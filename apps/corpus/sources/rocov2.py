"""ROCOv2: `{train,valid,test}_captions.csv` (ID,Caption), `{train,valid,test}_concepts.csv` (ID,CUIs
separated by ";") and the images as `{train,valid,test}/ID.jpg`, all in one root folder.

The CSVs carry no licence or article per image, so those fields stay empty here.
"""

from __future__ import annotations

import re
from pathlib import Path

from apps.corpus.records import EntryRecord, ParseProblem
from apps.corpus.sources.roco import csv_rows

# file-name prefix -> split as the platform names it
_SPLITS = {"train": "train", "valid": "validation", "test": "test"}
# ids become image file names, so no path separators or spaces
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]*")
_CUI = re.compile(r"C\d+")


ROCOV2_DATASET = {
    "slug": "rocov2",
    "name": "ROCOv2",
    "description": "ROCO version 2: 79,789 PubMed Central images with captions and UMLS concepts.",
    "url": "https://zenodo.org/records/8333645",
}


def read_rocov2(root: Path) -> tuple[list[EntryRecord], list[ParseProblem]]:
    """All entries of a ROCOv2 root folder, and the rows that could not be read.

    A split whose captions CSV is missing is one problem (its entries are not read); FileNotFoundError
    when no split has one. Malformed rows are reported and skipped, everything else is read.
    """
    if not any((root / f"{prefix}_captions.csv").is_file() for prefix in _SPLITS):
        raise FileNotFoundError(f"no ROCOv2 data in {root}: expected train_captions.csv, valid_… or test_…")
    records: list[EntryRecord] = []
    problems: list[ParseProblem] = []
    for prefix, split in _SPLITS.items():
        captions = root / f"{prefix}_captions.csv"
        if not captions.is_file():
            problems.append(ParseProblem(str(captions), 0, f"file missing; the {split} split is not read"))
            continue
        entries = _read_captions(captions, root / prefix, split, problems)
        if entries:  # otherwise every concepts row would be reported as having no caption
            _read_concepts(root / f"{prefix}_concepts.csv", entries, problems)
        records.extend(entries.values())
    return records, problems


def _read_captions(
    path: Path, images: Path, split: str, problems: list[ParseProblem]
) -> dict[str, EntryRecord]:
    entries: dict[str, EntryRecord] = {}
    for number, row in csv_rows(path, problems, required={"id", "caption"}):
        entry_id, caption = row["id"].strip(), row["caption"].strip()
        if not _ID.fullmatch(entry_id):
            problems.append(ParseProblem(str(path), number, f"id {entry_id!r} is empty or not a plain name"))
        elif entry_id in entries:
            problems.append(ParseProblem(str(path), number, f"duplicate id {entry_id}"))
        elif not caption:
            problems.append(ParseProblem(str(path), number, f"empty caption for {entry_id}"))
        else:
            entries[entry_id] = EntryRecord(
                external_id=entry_id, caption=caption, split=split, image_path=images / f"{entry_id}.jpg"
            )
    return entries


def _read_concepts(path: Path, entries: dict[str, EntryRecord], problems: list[ParseProblem]) -> None:
    if not path.is_file():
        problems.append(ParseProblem(str(path), 0, "file missing; CUIs are left empty"))
        return
    for number, row in csv_rows(path, problems, required={"id", "cuis"}):
        entry_id = row["id"].strip()
        cuis = [cui.strip() for cui in row["cuis"].split(";") if cui.strip()]
        if entry_id not in entries:
            problems.append(ParseProblem(str(path), number, f"{entry_id!r} has no caption"))
        elif bad := [cui for cui in cuis if not _CUI.fullmatch(cui)]:
            problems.append(ParseProblem(str(path), number, f"not UMLS CUIs: {', '.join(bad)}"))
        else:
            entries[entry_id].cuis = cuis
