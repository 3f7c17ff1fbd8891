"""System checks run by `migrate` (and `check --database default`)."""

from django.core.checks import Error, register
from django.db import connections
from django.db.utils import OperationalError


@register("database")
def pgvector_available(app_configs, databases=None, **kwargs):
    errors = []
    for alias in databases or []:
        try:
            with connections[alias].cursor() as cursor:
                cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'vector'")
                available = cursor.fetchone() is not None
        except OperationalError as exc:
            errors.append(Error(f"Cannot connect to database {alias!r}: {exc}", id="corpus.E002"))
            continue
        if not available:
            host = connections[alias].settings_dict.get("HOST") or "localhost"
            errors.append(
                Error(
                    f"The PostgreSQL server at {host} lacks the pgvector extension ('vector'), "
                    "which MIRAGE needs for embeddings.",
                    hint="Install pgvector on that server (e.g. `apt install postgresql-NN-pgvector`) so "
                    "`CREATE EXTENSION vector` works, or unset DATABASE_URL to use the embedded PostgreSQL.",
                    id="corpus.E001",
                )
            )
    return errors
