"""A claimed job's lease, and the only writes its run may make.

The lease is the one sign that a job's worker is alive. A worker that claims a job takes a PostgreSQL
advisory lock keyed by the job's id, on a database connection of its own that it keeps for the run.
PostgreSQL releases that lock the moment the connection ends, which is what happens when the worker
process dies, is killed, or loses the database. A heartbeat thread touches the lease connection every
lease/4 seconds and the server drops it after `MIRAGE_JOB_LEASE_SECONDS` of silence, so a worker
machine that vanishes without closing its connections loses its leases too.

Never run twice at once: every write a run makes (progress, result) is conditional on the row still
naming that run (`worker`, `attempts`); a run that lost its lease stops at its next step and stores
nothing.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone

from apps.generation.models import Job

logger = logging.getLogger(__name__)

# First key of the two-key advisory lock ("MI"); the job id is the second.
LOCK_NAMESPACE = 0x4D49
# Progress is written at most this often (a token or a step can take milliseconds).
PROGRESS_INTERVAL = 0.25


class JobCancelled(Exception):
    """Its owner asked to cancel it; the run stops at the next step."""


class LeaseLost(Exception):
    """The row no longer names this run: it was given to another worker, so this one must stop."""


class JobFailed(Exception):
    """A failure the user can act on; the message is shown on the job page as it is."""


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


class Lease:
    """The advisory locks one worker holds, on a connection of its own, with a heartbeat thread."""

    def __init__(self) -> None:
        import psycopg

        self._conn = psycopg.connect(**connection.get_connection_params(), autocommit=True)
        try:
            self._conn.execute(f"SET idle_session_timeout = {settings.MIRAGE_JOB_LEASE_SECONDS * 1000}")
        except psycopg.errors.UndefinedObject:
            # PostgreSQL before 14: a vanished machine's leases end when the server's TCP keepalive
            # notices, not after the lease time. A dead process still releases them at once.
            logger.warning("this PostgreSQL has no idle_session_timeout; leases rely on TCP keepalive")
        self._stop = threading.Event()
        self._beat: threading.Thread | None = None

    def acquire(self, job_id: int) -> bool:
        row = self._conn.execute("SELECT pg_try_advisory_lock(%s, %s)", [LOCK_NAMESPACE, job_id]).fetchone()
        return bool(row[0])

    def start_heartbeat(self, job: Job) -> None:
        self._beat = threading.Thread(
            target=self._heartbeat, args=(job.pk, job.worker, job.attempts), daemon=True
        )
        self._beat.start()

    def _heartbeat(self, job_id: int, worker: str, attempt: int) -> None:
        interval = settings.MIRAGE_JOB_LEASE_SECONDS / 4
        while not self._stop.wait(interval):
            try:
                # SKIP LOCKED: the run itself may hold the row for a moment; a beat can wait for the next.
                self._conn.execute(
                    "UPDATE generation_job SET heartbeat_at = now() WHERE id = ("
                    "SELECT id FROM generation_job WHERE id = %s AND worker = %s AND attempts = %s "
                    "FOR UPDATE SKIP LOCKED)",
                    [job_id, worker, attempt],
                )
            except Exception:
                # A passing failure must not end the beats: the lease would lapse while the job runs.
                logger.exception("heartbeat for job %s failed", job_id)
                if self._conn.closed:
                    return

    def close(self) -> None:
        """Stop the heartbeat and end the connection, which releases every lock it held."""
        self._stop.set()
        if self._beat is not None:
            self._beat.join()
        self._conn.close()


def lease_held(job_id: int) -> bool:
    """Whether some connection holds the job's advisory lock, i.e. its worker is alive."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
            "AND classid = %s AND objid = %s AND objsubid = 2 "
            "AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))",
            [LOCK_NAMESPACE, job_id],
        )
        return bool(cursor.fetchone()[0])


class JobRun:
    """What a running job may do to its own row. Every write checks that the row still names this run."""

    def __init__(self, job: Job) -> None:
        self.job = job
        self._last_write = 0.0

    def _mine(self) -> QuerySet[Job]:
        return Job.objects.filter(
            pk=self.job.pk, worker=self.job.worker, attempts=self.job.attempts, status=Job.RUNNING
        )

    def progress(self, current: int, total: int, message: str, *, force: bool = False) -> None:
        """Record progress (throttled unless `force`); raises JobCancelled or LeaseLost to stop the run."""
        now = time.monotonic()
        if not force and current < total and now - self._last_write < PROGRESS_INTERVAL:
            return
        self._last_write = now
        updated = (
            self._mine()
            .filter(cancel_requested=False)
            .update(
                progress_current=current,
                progress_total=total,
                progress_message=message[:200],
                heartbeat_at=timezone.now(),
            )
        )
        if not updated:
            self._raise_why()
        self.job.progress_current, self.job.progress_total = current, total

    def notice(self, text: str) -> None:
        """A line for the job page (e.g. what was cut from a long prompt); kept across retries once."""
        if text not in self.job.notices:
            self.job.notices = [*self.job.notices, text]
            if not self._mine().update(notices=self.job.notices):
                self._raise_why()

    def _raise_why(self) -> None:
        if self._mine().filter(cancel_requested=True).exists():
            raise JobCancelled()
        raise LeaseLost()

    def end(self, status: str, error: str = "") -> None:
        self._mine().update(status=status, error=error, finished_at=timezone.now())

    def succeed(self, commit: Callable[[], dict]) -> None:
        """Store the results (`commit()` writes the rows) and mark the job done, in one transaction."""
        with transaction.atomic():
            job = self._mine().select_for_update().first()
            if job is None:
                raise LeaseLost()
            if job.cancel_requested:
                raise JobCancelled()
            job.result = commit()
            job.status, job.finished_at = Job.SUCCEEDED, timezone.now()
            job.progress_current, job.progress_message = job.progress_total, "done"
            job.save(
                update_fields=["result", "status", "finished_at", "progress_current", "progress_message"]
            )
