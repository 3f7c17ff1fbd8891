"""Media files against the rows that name them: files without rows, rows without files.

Every FileField of every installed model counts (found through the app registry), so a model added
later is checked without changes here. Only local media (FileSystemStorage) can be listed.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from django.apps import apps
from django.core.files.storage import FileSystemStorage, default_storage
from django.db import models

from apps.core.errors import UserError


@dataclass(frozen=True)
class MissingFile:
    model: str  # app_label.ModelName
    pk: object
    field: str
    name: str

    def __str__(self) -> str:
        return f"{self.model} #{self.pk} {self.field}: {self.name}"


@dataclass
class MediaReport:
    files: int = 0  # files found under the media root
    referenced: int = 0  # distinct names that rows point at
    orphans: list[str] = field(default_factory=list)  # files no row names (relative to the media root)
    missing: list[MissingFile] = field(default_factory=list)  # rows naming a file that is not there

    @property
    def clean(self) -> bool:
        return not self.orphans and not self.missing


def file_fields() -> list[tuple[type[models.Model], models.FileField]]:
    """Every FileField (ImageField included) of every installed model, concrete models only."""
    return [
        (model, f)
        for model in apps.get_models()
        if not model._meta.proxy
        for f in model._meta.concrete_fields
        if isinstance(f, models.FileField)
    ]


def media_root() -> Path:
    if not isinstance(default_storage, FileSystemStorage):
        raise UserError("Media are not on this machine's file system (object storage); check them there.")
    return Path(default_storage.location)


def media_files(root: Path) -> set[str]:
    """Relative POSIX names of every file under `root`, as FileFields store them."""
    names = set()
    for folder, _dirs, files in os.walk(root):
        for name in files:
            names.add((Path(folder) / name).relative_to(root).as_posix())
    return names


def media_check() -> MediaReport:
    root = media_root()
    on_disk = media_files(root) if root.exists() else set()
    referenced: set[str] = set()
    report = MediaReport(files=len(on_disk))
    for model, f in file_fields():
        rows = model._base_manager.exclude(**{f"{f.attname}__isnull": True}).exclude(**{f.attname: ""})
        for pk, name in rows.values_list("pk", f.attname).iterator():
            referenced.add(name)
            if name not in on_disk:
                report.missing.append(MissingFile(model._meta.label, pk, f.name, name))
    report.referenced = len(referenced)
    report.orphans = sorted(on_disk - referenced)
    return report


def media_remove_orphans(*, orphans: list[str]) -> int:
    """Delete files no row names (never rows). Each is checked again just before it goes, so a file an
    import stored since the check was made is kept. Returns how many were removed."""
    root = media_root()
    still_referenced = set()
    for model, f in file_fields():
        still_referenced |= set(
            model._base_manager.filter(**{f"{f.attname}__in": orphans}).values_list(f.attname, flat=True)
        )
    removed = 0
    for name in orphans:
        path = root / name
        if name in still_referenced or not path.is_file():
            continue
        path.unlink()
        removed += 1
        # Leave no empty folder behind (images/ab/ once its last file is gone); the root stays.
        parent = path.parent
        while parent != root and not any(parent.iterdir()):
            parent.rmdir()
            parent = parent.parent
    return removed
