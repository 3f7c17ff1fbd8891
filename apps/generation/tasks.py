"""django-q2 entry points. Thin: the work is in worker.py.

A django-q2 task here carries no job: `run_next_job` asks a worker to recover orphaned jobs and run
the next queued one (worker.process_one), so anything that queues it can only wake a worker, never
re-run a job behind its lease. The wake-ups:
- submitting a job (services.wake_worker, after the row is committed);
- `run_next_job` itself, while queued work is left (one task runs one job, so django-q2's timeout
  applies per job);
- a django-q2 worker process starting, e.g. replacing one that died mid-job: its job is recovered now
  rather than at the next minute;
- a schedule every minute (migrations 0002, 0003), for a worker on another machine that vanished
  while this cluster sat idle, and for a wake-up the broker lost.
"""

from __future__ import annotations

import logging
import time

from django.db import DatabaseError, InterfaceError, OperationalError, connection

from apps.generation.models import Job
from apps.generation.services import wake_worker
from apps.generation.worker import process_one

logger = logging.getLogger(__name__)

# How long a run cut short by a database outage waits for the database before leaving the job to the
# minute schedule.
DATABASE_WAIT_SECONDS = 600


def run_next_job() -> str:
    try:
        job = process_one()
    except (OperationalError, InterfaceError):
        # The database went away under a running job, which is left to be retried. Nothing runs without
        # the database: wait for it here and wake a worker the moment it is back (not at the schedule).
        if _wait_for_database():
            wake_worker()
        return "the database went away; a job it cut short is retried"
    if Job.objects.filter(status=Job.QUEUED).exists():
        wake_worker()
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
    """django-q2's post_spawn signal, sent in each new worker process: a wake-up when work may wait."""
    try:
        if Job.objects.filter(status__in=(Job.QUEUED, Job.RUNNING)).exists():
            wake_worker()
    except DatabaseError:
        # Before `migrate`, or with the database away: the schedule wakes a worker later.
        logger.exception("looking for unfinished jobs failed in %s", proc_name)
