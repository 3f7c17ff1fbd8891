"""`make run`'s last step: the web server and a django-q2 worker, together, until Ctrl-C.

This process stays attached to the embedded database while its children run, so the database
stops only after both have exited.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent


def main() -> int:
    from mirage_site.bootstrap import prepare

    prepare()  # starts (or attaches to) the embedded database and holds it while we run
    import django

    django.setup()

    from mirage_site.env import env_int, env_str

    host = env_str("MIRAGE_HOST", "127.0.0.1")
    port = env_int("MIRAGE_PORT", 8000, minimum=1, maximum=65535)
    web_workers = env_int("MIRAGE_WEB_WORKERS", 2, minimum=1, maximum=64)
    children = {
        "web": subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gunicorn",
                "mirage_site.wsgi",
                "--bind",
                f"{host}:{port}",
                "--workers",
                str(web_workers),
                "--timeout",
                "120",
            ],
            cwd=BASE_DIR,
        ),
        "worker": subprocess.Popen([sys.executable, "manage.py", "qcluster"], cwd=BASE_DIR),
    }
    stopping = False

    def stop(signum: int, frame: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)

    url = f"http://{host}:{port}/"
    announced = False
    exit_code = 0
    while not stopping:
        for name, child in children.items():
            if child.poll() is not None:
                print(f"MIRAGE: the {name} process exited ({child.returncode}); stopping.", flush=True)
                stopping, exit_code = True, 1
        if not announced and not stopping and _responds(url):
            print(f"\nMIRAGE is running at {url}  (Ctrl-C stops it)\n", flush=True)
            announced = True
        time.sleep(0.5)

    for child in children.values():
        if child.poll() is None:
            child.send_signal(signal.SIGTERM)
    deadline = time.monotonic() + 20
    for child in children.values():
        try:
            child.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    print("MIRAGE stopped.", flush=True)
    return exit_code


def _responds(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return response.status < 500
    except OSError:
        return False


if __name__ == "__main__":
    sys.exit(main())
