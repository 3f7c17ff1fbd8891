"""Plain records that importers produce and the import service stores.

No Django imports here: parsers (ROCO, ROCOv2, folders, the sample corpus) build these,
`apps.corpus.services.import_records` turns them into rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from PIL import Image


@dataclass
class EntryRecord:
    """One corpus entry as read from a source, before it is stored."""

    external_id: str  # e.g. "ROCO_00020"; unique within a dataset
    caption: str
    split: str = ""  # train / validation / test, or "" when the source has none
    category: str = ""  # ROCO's radiology / non-radiology
    keywords: list[str] = field(default_factory=list)
    cuis: list[str] = field(default_factory=list)
    semtypes: list[tuple[str, str]] = field(
        default_factory=list
    )  # (code, name), e.g. ("T060", "Diagnostic Procedure")
    licence_raw: str = ""  # verbatim, e.g. "CC BY", "NO-CC CODE"
    licence: str = ""  # a value of apps.corpus.licences.LICENCES when the source says; "" = from licence_raw
    pmc_id: str = ""  # e.g. "PMC3970251"
    article_url: str = ""
    modality: str = ""  # a value of apps.corpus.modality.MODALITIES when the source says; "" = derive it
    attribution: str = ""  # who made the image and where it comes from, in words
    source_url: str = ""  # where the image itself comes from when it is not a PMC article
    image_name: str = ""  # file name as the source lists it
    image_path: Path | None = None  # where the image file should be; may not exist (metadata-only entry)
    render: Callable[[], Image.Image] | None = None  # builds the image in memory (DICOM/NIfTI/sample data)
    image_bytes: bytes | None = None  # the image file's content, when the source holds it (parquet)
    origin: str = ""  # where the entry was read, for problem reports (e.g. "shard.parquet row 12")
    # The metadata fields this source knows (names of Image fields); None = all of them. A re-import
    # updates only these on a stored entry, so a caption-only source never erases a licence or keywords
    # that another source (ROCO's metadata files) stored.
    known_fields: frozenset[str] | None = None


@dataclass
class ParseProblem:
    """A line or file that could not be read; reported to the user and skipped."""

    file: str
    line: int  # 1-based; 0 when the problem is with the whole file
    reason: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.reason}"
