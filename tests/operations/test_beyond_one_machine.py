"""Beyond one machine: an installation whose database is a separate PostgreSQL reached over TCP (given
by DATABASE_URL, as a managed one is) and whose queue is Redis, with two worker clusters
(`manage.py qcluster`, one per GPU machine in production) sharing it. Jobs submitted through the service
a user's request goes through spread over both workers, each runs exactly once, and the embedded server
is never started.

The stand-ins are real servers on this machine: a second PostgreSQL (the embedded package's own
binaries) that listens on a loopback port only, with no unix socket and password authentication, and
Debian's `redis-server` on another port, with a password and no persistence.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import tempfile
import time
from pathlib import Path

import psutil
import pytest

from apps.operations.instance import Instance, free_port, postgres_bin, run_as_server_user
from tests.generation.conftest import QCluster, tiny_lora_dir, tiny_sd_dir  # noqa: F401 (fixtures)

pytestmark = pytest.mark.slow

JOBS = 10

SUBMIT = f"""
from apps.accounts.models import User
from apps.generation import services
ids = []
for n in range({JOBS}):
    student = User.objects.create_user(username=f"student{{n}}")
    prompt = f"chest x-ray with pneumothorax, case {{n}}"
    job = services.generation_submit(owner=student, prompt=prompt, seed=n)
    ids.append(job.pk)
print(ids)
"""


class TcpPostgres:
    """A PostgreSQL of its own, listening on 127.0.0.1:`port` only, user `mirage` with a password."""

    def __init__(self, root: Path) -> None:
        self.pgdata = root / "pgdata"
        self.port = free_port()
        self.password = secrets.token_urlsafe(16)
        self.url = f"postgres://mirage:{self.password}@127.0.0.1:{self.port}/mirage"
        self.pgdata.mkdir(mode=0o700)
        password_file = root / "password"
        password_file.write_text(self.password)
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root: the embedded server's user runs it
            for path in (self.pgdata, password_file):
                shutil.chown(path, "pgserver", "pgserver")
        run_as_server_user(
            [
                postgres_bin("initdb"),
                "--pgdata",
                str(self.pgdata),
                "--username=mirage",
                f"--pwfile={password_file}",
                "--auth=scram-sha-256",
                "--encoding=utf8",
                "--no-sync",
            ]
        )
        with (self.pgdata / "postgresql.conf").open("a") as conf:
            conf.write(
                f"listen_addresses = '127.0.0.1'\nport = {self.port}\nunix_socket_directories = ''\n"
                # A throw-away server: durability buys nothing here, and migrations run faster.
                "fsync = off\nsynchronous_commit = off\nfull_page_writes = off\n"
            )
        run_as_server_user(
            [postgres_bin("pg_ctl"), "-D", str(self.pgdata), "-l", str(self.pgdata / "log"), "-w", "start"]
        )
        with self.connect("postgres") as db:
            db.execute("CREATE DATABASE mirage")

    def connect(self, dbname: str = "mirage"):
        import psycopg

        return psycopg.connect(
            host="127.0.0.1",
            port=self.port,
            user="mirage",
            password=self.password,
            dbname=dbname,
            autocommit=True,
        )

    def stop(self) -> None:
        run_as_server_user([postgres_bin("pg_ctl"), "-D", str(self.pgdata), "-m", "immediate", "-w", "stop"])


class RedisServer:
    """Debian's redis-server on 127.0.0.1:`port`, with a password, keeping nothing on disk."""

    def __init__(self, root: Path) -> None:
        self.port = free_port()
        password = secrets.token_urlsafe(16)
        self.url = f"redis://:{password}@127.0.0.1:{self.port}/0"
        self.log = root / "redis.log"
        self.process = subprocess.Popen(
            [
                shutil.which("redis-server"),
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--requirepass",
                password,
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(root),
                "--logfile",
                str(self.log),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + 20
        while not (self.log.exists() and "Ready to accept connections" in self.log.read_text()):
            if self.process.poll() is not None or time.monotonic() > deadline:
                log = self.log.read_text() if self.log.exists() else ""
                raise RuntimeError(f"redis-server did not start:\n{log[-2000:]}")
            time.sleep(0.05)

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


@pytest.fixture
def root():
    # Outside pytest's numbered temporary folders (see test_database_outage.py); the server's user must
    # reach it.
    made = Path(tempfile.mkdtemp(prefix="mirage-two-machines-"))
    made.chmod(0o755)
    yield made
    shutil.rmtree(made, ignore_errors=True)


@pytest.fixture
def redis_server(root):
    if shutil.which("redis-server") is None:
        pytest.skip("Debian's redis-server is not installed (make test installs it as root)")
    server = RedisServer(root)
    yield server
    server.stop()


@pytest.fixture
def postgres(root):
    server = TcpPostgres(root)
    yield server
    server.stop()


def cluster_pids(cluster: QCluster) -> set[int]:
    """The cluster's processes: `manage.py qcluster`, its sentinel, pusher, monitor and worker."""
    main = psutil.Process(cluster.process.pid)
    return {main.pid, *(child.pid for child in main.children(recursive=True))}


def tcp_ports(pids: set[int], server_port: int) -> set[int]:
    """The local ports of the processes' open TCP connections to 127.0.0.1:`server_port`."""
    return {
        connection.laddr.port
        for pid in pids
        for connection in psutil.Process(pid).net_connections(kind="tcp")
        if connection.raddr
        and connection.raddr.ip == "127.0.0.1"
        and connection.raddr.port == server_port
        and connection.status == psutil.CONN_ESTABLISHED
    }


def test_two_workers_share_a_redis_queue_over_a_tcp_database_and_run_each_job_once(
    root,
    redis_server,
    postgres,
    tiny_sd_dir,  # noqa: F811
    tiny_lora_dir,  # noqa: F811
    capsys,
):
    started = time.monotonic()
    instance = Instance(
        root / "mirage",
        DATABASE_URL=postgres.url,
        REDIS_URL=redis_server.url,
        MIRAGE_DIFFUSION_MODEL=tiny_sd_dir,
        MIRAGE_DIFFUSION_LORA=tiny_lora_dir,
        MIRAGE_WORKERS="1",
        OMP_NUM_THREADS="1",
    )
    clusters = []
    try:
        instance.migrate()
        migrated = time.monotonic()
        clusters = [
            QCluster(env=instance.env, log=root / f"worker-{name}.log") for name in ("gpu-a", "gpu-b")
        ]
        for cluster in clusters:
            cluster.wait_ready()
        job_ids = json.loads(instance.shell(SUBMIT).strip().splitlines()[-1])
        submitted = time.monotonic()

        deadline = time.monotonic() + 180
        with postgres.connect() as db:
            while True:
                statuses = dict(
                    db.execute("SELECT id, status FROM generation_job WHERE id = ANY(%s)", [job_ids])
                )
                if all(status in {"succeeded", "failed", "cancelled"} for status in statuses.values()):
                    break
                assert time.monotonic() < deadline, f"jobs not finished: {statuses}"
                time.sleep(0.2)
        finished = time.monotonic()

        pids = [cluster_pids(cluster) for cluster in clusters]
        database_ports = [tcp_ports(tree, postgres.port) for tree in pids]
        redis_ports = [tcp_ports(tree, redis_server.port) for tree in pids]
        with postgres.connect() as db:
            jobs = db.execute(
                "SELECT id, status, attempts, worker, error FROM generation_job "
                "WHERE id = ANY(%s) ORDER BY id",
                [job_ids],
            ).fetchall()
            images = db.execute(
                "SELECT g.job_id, i.file FROM generation_generatedimage g "
                "JOIN corpus_image i ON i.id = g.image_id WHERE g.job_id = ANY(%s)",
                [job_ids],
            ).fetchall()
            clients = db.execute(
                "SELECT host(client_addr), client_port FROM pg_stat_activity WHERE datname = 'mirage'"
            ).fetchall()
            (sockets,) = db.execute("SHOW unix_socket_directories").fetchone()
        logs = [cluster.log.read_text() for cluster in clusters]
    finally:
        for cluster in clusters:
            cluster.stop()
        instance.close()

    # Every job succeeded, on its first and only attempt, and stored its one image once.
    assert len(jobs) == JOBS
    for job_id, status, attempts, _worker, error in jobs:
        assert (status, attempts) == ("succeeded", 1), (job_id, status, attempts, error)
    assert sorted(job_id for job_id, _ in images) == sorted(job_ids)
    media = instance.var / "media"
    assert len({file for _, file in images}) == JOBS
    assert all((media / file).is_file() for _, file in images)

    # Each job was started once, by one worker of one cluster: its log says so, and the worker the row
    # names is that cluster's process. Both clusters ran jobs.
    ran_by = []
    for job_id, _status, _attempts, worker, _error in jobs:
        pid = int(worker.rsplit(":", 1)[1])
        (cluster,) = [n for n, tree in enumerate(pids) if pid in tree]
        starts = [log.count(f"job {job_id} (generate) attempt ") for log in logs]
        assert starts[cluster] == 1 and sum(starts) == 1, (job_id, starts)
        assert f"job {job_id} (generate) attempt 1 starts on {worker}" in logs[cluster]
        ran_by.append(cluster)
    assert set(ran_by) == {0, 1}, ran_by

    # The data went over TCP: the server has no unix socket, and each cluster's processes hold
    # connections to it from 127.0.0.1 (seen from both ends) and to Redis. No embedded server started.
    assert sockets == ""
    from_loopback = {port for host, port in clients if host == "127.0.0.1"}
    for ports in database_ports:
        assert ports & from_loopback, (ports, clients)
    assert all(redis_ports), redis_ports
    assert not (instance.var / "pgdata").exists()

    with capsys.disabled():
        print(
            f"\n[two machines] migrate {migrated - started:.1f} s, workers ready and {JOBS} jobs submitted "
            f"{submitted - migrated:.1f} s, all run {finished - submitted:.1f} s; jobs per worker "
            f"{ran_by.count(0)} + {ran_by.count(1)}"
        )
