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

from django.db import DatabaseError

from apps.generation.models import Job
from apps.generation.services import wake_worker
from apps.generation.worker import process_one

logger = logging.getLogger(__name__)


def run_next_job() -> str:
    job = process_one()
    if Job.objects.filter(status=Job.QUEUED).exists():
        wake_worker()
    return f"job {job.pk}: {job.status}" if job else "no queued job"


def on_worker_spawn(sender, proc_name: str, **kwargs) -> None:
    """django-q2's post_spawn signal, sent in each new worker process: a wake-up when work may wait."""
    try:
        if Job.objects.filter(status__in=(Job.QUEUED, Job.RUNNING)).exists():
            wake_worker()
    except DatabaseError:
        # Before `migrate`, or with the database away: the schedule wakes a worker later.
        logger.exception("looking for unfinished jobs failed in %s", proc_name)
