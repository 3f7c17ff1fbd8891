"""The job worker: claims one queued job, runs it, records its progress, and keeps a lease on it.

`process_one()` is the whole cycle for one job: what tests call directly, and what the django-q2 task
in tasks.py calls inside the real worker process.

The lease. A worker that claims a job takes a PostgreSQL advisory lock keyed by the job's id, on a
database connection of its own that it keeps for the run. PostgreSQL releases that lock the moment
the connection ends, which is what happens when the worker process dies, is killed, or loses the
database. `requeue_orphans()` finds running jobs whose lock nobody holds and queues them again, or,
after MAX_ATTEMPTS, marks them failed with the reason. A heartbeat thread touches the lease
connection every lease/4 seconds and the server drops it after `MIRAGE_JOB_LEASE_SECONDS` of silence,
so a worker machine that vanishes without closing its connections loses its leases too.

Never run twice at once: a job is claimed under a row lock together with its advisory lock, and every
write a run makes (progress, result) is conditional on the row still naming that run (`worker`,
`attempts`); a run that lost its lease stops at its next step and stores nothing.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections.abc import Callable

from django.conf import settings
from django.db import InterfaceError, OperationalError, connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django_q.exceptions import TimeoutException

from apps.core.errors import StorageFull
from apps.generation.models import Job
from apps.ml.describer import PromptTooLong
from apps.ml.encoders import ModelUnavailable

logger = logging.getLogger(__name__)

MAX_ATTEMPTS = 3
# First key of the two-key advisory lock ("MI"); the job id is the second.
LOCK_NAMESPACE = 0x4D49
# Progress is written at most this often (a token or a step can take milliseconds).
PROGRESS_INTERVAL = 0.25
CLAIM_BATCH = 5


class JobCancelled(Exception):
    """Its owner asked to cancel it; the run stops at the next step."""


class LeaseLost(Exception):
    """The row no longer names this run: it was given to another worker, so this one must stop."""


class JobFailed(Exception):
    """A failure the user can act on; the message is shown on the job page as it is."""


# Failures whose message is written for the user; anything else is logged with its traceback.
USER_FACING = (JobFailed, ModelUnavailable, PromptTooLong, StorageFull)


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


def requeue_orphans() -> list[Job]:
    """Running jobs whose worker is gone: queued again, or failed after MAX_ATTEMPTS, or cancelled if
    cancelling was asked for. Returns the jobs changed."""
    changed = []
    now = timezone.now()
    with transaction.atomic():
        # SKIP LOCKED: a row being claimed or finished right now belongs to a live worker.
        for job in Job.objects.select_for_update(skip_locked=True).filter(status=Job.RUNNING):
            if lease_held(job.pk):
                continue
            heard = job.heartbeat_at.strftime("%H:%M:%S UTC") if job.heartbeat_at else "never"
            why = f"its worker ({job.worker}, last heard from at {heard}) stopped while running it"
            if job.cancel_requested:
                job.status, job.finished_at = Job.CANCELLED, now
            elif job.attempts >= MAX_ATTEMPTS:
                job.status, job.finished_at = Job.FAILED, now
                job.error = f"Tried {job.attempts} times; each time {why}. It was not tried again."
            else:
                job.status = Job.QUEUED
                job.notices = [*job.notices, f"Attempt {job.attempts} did not finish: {why}. Retrying."]
                job.progress_current, job.progress_message = 0, "waiting to be retried"
            job.save(
                update_fields=[
                    "status",
                    "finished_at",
                    "error",
                    "notices",
                    "progress_current",
                    "progress_message",
                ]
            )
            logger.warning("job %s: %s; now %s", job.pk, why, job.status)
            changed.append(job)
    return changed


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


def _claim() -> tuple[Job, Lease] | None:
    if not Job.objects.filter(status=Job.QUEUED).exists():
        return None
    lease = Lease()
    try:
        with transaction.atomic():
            queued = Job.objects.select_for_update(skip_locked=True).filter(status=Job.QUEUED)
            for job in queued.order_by("created_at", "pk")[:CLAIM_BATCH]:
                # The advisory lock is taken while the row is still locked: no sweep can see the job
                # running without its lease.
                if not lease.acquire(job.pk):
                    continue
                now = timezone.now()
                job.status, job.worker, job.attempts = Job.RUNNING, worker_id(), job.attempts + 1
                job.started_at = job.heartbeat_at = now
                job.progress_current, job.progress_total, job.progress_message = 0, 0, "starting"
                job.save()
                return job, lease
    except BaseException:
        lease.close()
        raise
    lease.close()
    return None


def process_one() -> Job | None:
    """Recover orphaned jobs, then claim the oldest queued job and run it to its end. Returns the job as
    it finished, or None when nothing was queued."""
    requeue_orphans()
    claimed = _claim()
    if claimed is None:
        return None
    job, lease = claimed
    lease.start_heartbeat(job)
    try:
        _run(JobRun(job))
    finally:
        lease.close()
    job.refresh_from_db()
    return job


def _run(run: JobRun) -> None:
    from apps.generation.runners import RUNNERS

    job = run.job
    logger.info("job %s (%s) attempt %s starts on %s", job.pk, job.kind, job.attempts, job.worker)
    try:
        run.succeed(RUNNERS[job.kind](run))
    except JobCancelled:
        run.end(Job.CANCELLED)
    except LeaseLost:
        logger.warning("job %s: this worker lost its lease; another worker has it now", job.pk)
    except USER_FACING as exc:
        run.end(Job.FAILED, str(exc))
    except TimeoutException:
        run.end(
            Job.FAILED,
            "The job took longer than the worker's time limit (MIRAGE_JOB_TIMEOUT) and was stopped.",
        )
        raise
    except (OperationalError, InterfaceError):
        # The database went away mid-run: not the job's fault, and its row cannot be written now. The
        # lease ends with this attempt, so requeue_orphans() retries the job once the database is back.
        logger.warning("job %s: the database went away; the job will be retried", job.pk)
        raise
    except Exception as exc:
        logger.exception("job %s failed", job.pk)
        run.end(Job.FAILED, f"The job stopped on an unexpected error ({type(exc).__name__}: {exc}).")
