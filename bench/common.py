"""What every benchmark shares: a database of its own on the embedded server (or DATABASE_URL's)."""

from __future__ import annotations

import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def bench_database(name: str, *, fresh: bool = False) -> None:
    """Start (or attach to) the database server, create database `name` on it (dropped first when
    `fresh`), and point this process and its children at it through MIRAGE_DB_NAME; the developer's
    own data is never touched."""
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "mirage_site.settings")
    import psycopg

    from mirage_site.bootstrap import prepare

    prepare()
    with psycopg.connect(
        host=os.environ["MIRAGE_DB_SOCKET"],
        port=os.environ["MIRAGE_DB_PORT"],
        user="postgres",
        dbname="postgres",
        autocommit=True,
    ) as admin:
        if fresh:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        if not admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            admin.execute(f'CREATE DATABASE "{name}"')
    os.environ["MIRAGE_DB_NAME"] = name
