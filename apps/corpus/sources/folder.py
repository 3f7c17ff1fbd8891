"""Any folder of images (PNG, JPEG, DICOM) with a captions file, CSV or JSON lines.

Each row names a `file` (relative to the folder, may be nested) and its `caption`; optional
`modality` (a MODALITIES value or label), `licence` (verbatim, normalized later), `source` (a URL,
or in words who made the image) and `keywords` (separated by ";", or a JSON list).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from pathlib import Path, PurePosixPath

from apps.corpus.modality import MODALITIES
from apps.corpus.records import EntryRecord, ParseProblem
from apps.corpus.sources.roco import csv_rows, text_lines

IMAGE_SUFFIXES = frozenset({".png", ".jpg", ".jpeg", ".dcm"})
_MODALITY_NAMES = {name.lower(): value for value, label in MODALITIES.items() for name in (value, label)}


def read_folder(folder: Path, captions_file: Path) -> tuple[list[EntryRecord], list[ParseProblem]]:
    """The entries a captions file lists for images in `folder`, and the rows that could not be read.

    The format follows the extension: .csv, or .jsonl / .json (one JSON object per line). A row is
    reported and skipped when its file is missing, outside the folder or not PNG/JPEG/DICOM, its
    caption is empty, or its modality is not one of MODALITIES.
    """
    problems: list[ParseProblem] = []
    suffix = captions_file.suffix.lower()
    if suffix == ".csv":
        rows = csv_rows(captions_file, problems, required={"file", "caption"})
    elif suffix in {".jsonl", ".json"}:
        rows = _json_lines(captions_file, problems)
    else:
        raise ValueError(f"{captions_file}: captions must be .csv or .jsonl (JSON lines), not {suffix!r}")
    records: dict[str, EntryRecord] = {}
    for number, row in rows:
        try:
            record = _record(folder, row)
        except ValueError as error:
            problems.append(ParseProblem(str(captions_file), number, str(error)))
            continue
        if record.external_id in records:
            problems.append(ParseProblem(str(captions_file), number, f"duplicate id {record.external_id}"))
        else:
            records[record.external_id] = record
    return list(records.values()), problems


def _record(folder: Path, row: Mapping[str, object]) -> EntryRecord:
    """The entry one row describes; ValueError saying what is wrong with the row."""
    file, caption = _text(row, "file"), _text(row, "caption")
    relative = PurePosixPath(file.replace("\\", "/"))
    if not file:
        raise ValueError("empty file name")
    if relative.is_absolute() or ".." in relative.parts:
        raise ValueError(f"{file!r} is not inside the image folder")
    if relative.suffix.lower() not in IMAGE_SUFFIXES:
        raise ValueError(f"{file!r} is not a PNG, JPEG or DICOM (.dcm) file")
    if not (folder / relative).is_file():
        raise ValueError(f"{file!r} not found in {folder}")
    if not caption:
        raise ValueError(f"empty caption for {file!r}")
    modality = _text(row, "modality")
    if modality and modality.lower() not in _MODALITY_NAMES:
        raise ValueError(f"unknown modality {modality!r}; use one of {', '.join(MODALITIES)}")
    keywords = row.get("keywords") or []
    if isinstance(keywords, str):
        keywords = keywords.split(";")
    if not isinstance(keywords, list) or not all(isinstance(k, str) for k in keywords):
        raise ValueError("keywords must be text separated by ';' or a list of text")
    source = _text(row, "source")
    is_url = source.startswith(("http://", "https://"))
    return EntryRecord(
        external_id=str(relative.with_suffix("")),
        caption=caption,
        keywords=[k.strip() for k in keywords if k.strip()],
        licence_raw=_text(row, "licence"),
        modality=_MODALITY_NAMES.get(modality.lower(), ""),
        attribution="" if is_url else source,
        source_url=source if is_url else "",
        image_name=relative.name,
        image_path=folder / relative,
    )


def _text(row: Mapping[str, object], key: str) -> str:
    value = row.get(key) or ""
    if not isinstance(value, str):
        raise ValueError(f"{key} must be text, not {type(value).__name__}")
    return value.strip()


def _json_lines(path: Path, problems: list[ParseProblem]) -> Iterator[tuple[int, Mapping[str, object]]]:
    """One JSON object per line, with lower-cased keys."""
    for number, line in text_lines(path, problems):
        try:
            row = json.loads(line)
        except json.JSONDecodeError as error:
            problems.append(ParseProblem(str(path), number, f"not JSON: {error.msg}"))
            continue
        if isinstance(row, dict):
            yield number, {key.lower(): value for key, value in row.items()}
        else:
            problems.append(ParseProblem(str(path), number, "not a JSON object"))
