"""django-q2 entry points. Thin: the work is in worker.py.

How the worker is driven:
- submitting a job queues a `run_jobs` task (after the row is committed);
- `run_jobs` recovers orphaned jobs, runs the oldest queued job, and queues itself again while work
  is left, so one task runs one job and django-q2's timeout applies per job;
- every django-q2 worker process that starts (at start-up, or replacing one that died mid-job)
  recovers orphaned jobs at once and queues a run for them;
- a schedule runs `run_jobs` every minute (migration 0002), for a worker on another machine that
  vanished while this cluster sat idle.
"""

from __future__ import annotations

import logging
import time

from django.db import DatabaseError, InterfaceError, OperationalError, connection

from apps.generation.models import Job
from apps.generation.worker import process_one, requeue_orphans

logger = logging.getLogger(__name__)

TASK = "apps.generation.tasks.run_jobs"
TASK_GROUP = "mirage-jobs"
# How long a run cut short by a database outage waits for the database before leaving the job to the
# minute schedule.
DATABASE_WAIT_SECONDS = 600


def enqueue_run() -> None:
    from django_q.tasks import async_task

    try:
        async_task(TASK, group=TASK_GROUP)
    except Exception:
        # The job row is already stored; the minute schedule runs it when the broker is back.
        logger.exception("could not queue a worker run; the schedule will pick the job up")


def run_jobs() -> str:
    try:
        job = process_one()
    except (OperationalError, InterfaceError):
        # The database went away under a running job, which is left to be retried. Nothing runs without
        # the database: wait for it here and queue the retry the moment it is back (not at the schedule).
        if _wait_for_database():
            enqueue_run()
        return "the database went away; a job it cut short is retried"
    if Job.objects.filter(status=Job.QUEUED).exists():
        enqueue_run()
    return f"job {job.pk}: {job.status}" if job else "no queued job"


def _wait_for_database(seconds: int = DATABASE_WAIT_SECONDS) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        connection.close()
        try:
            connection.ensure_connection()
            return True
        except DatabaseError:
            time.sleep(1)
    return False


def on_worker_spawn(sender, proc_name: str, **kwargs) -> None:
    """django-q2's post_spawn signal, sent in each new worker process."""
    try:
        if requeue_orphans() or Job.objects.filter(status=Job.QUEUED).exists():
            enqueue_run()
    except DatabaseError:
        # Before `migrate`, or with the database away: the next run or the schedule tries again.
        logger.exception("recovering orphaned jobs failed in %s", proc_name)
