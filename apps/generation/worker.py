"""The job worker: recovers orphaned jobs, claims one queued job, runs it to its end.

`process_one()` is the whole cycle for one job: what tests call directly, and what the django-q2 task
in tasks.py calls inside the real worker process.

Recovery has one path: `recover_orphans()`, run at the start of every `process_one()`. A running job
whose lease (lease.py) nobody holds lost its worker; it is queued again, or, after `Job.MAX_ATTEMPTS`,
failed with the reason. Nothing else re-runs a job: django-q2's tasks carry no job, only a request to
run "the next one", so a re-delivered or duplicated task can do no more than claim through the lease.

Fair queue: a worker claims the queued job of the owner with the fewest jobs running, then the fewest
started within the last hour, then the oldest job; one account's batch cannot hold the others back.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.db import InterfaceError, OperationalError, transaction
from django.db.models import Count, IntegerField, OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone
from django_q.exceptions import TimeoutException

from apps.core.errors import StorageFull
from apps.generation.lease import JobCancelled, JobFailed, JobRun, Lease, LeaseLost, lease_held, worker_id
from apps.generation.models import Job
from apps.generation.runners import RUNNERS
from apps.generation.selectors import DESCRIBE_UNAVAILABLE, GENERATE_UNAVAILABLE
from apps.ml.describer import PromptTooLong
from apps.ml.specs import ModelUnavailable

logger = logging.getLogger(__name__)

CLAIM_BATCH = 5
# "Recently served", for the fair order: jobs an owner's runs started within this window.
FAIRNESS_WINDOW = timedelta(hours=1)
# Failures whose message is written for the user; anything else is logged, and its owner told plainly.
USER_FACING = (JobFailed, PromptTooLong, StorageFull)
MODEL_GONE = {
    Job.GENERATE: f"{GENERATE_UNAVAILABLE} The image model was not found when the job started.",
    Job.DESCRIBE: f"{DESCRIBE_UNAVAILABLE} The language model was not found when the job started.",
}
UNEXPECTED = (
    "The job stopped on an unexpected error in the worker. The details were logged for the "
    "administrators; trying again later may work."
)


def recover_orphans() -> list[Job]:
    """Running jobs whose worker is gone: queued again, or failed after Job.MAX_ATTEMPTS, or cancelled
    if cancelling was asked for. Returns the jobs changed. The only place a job is re-queued."""
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
            elif not job.may_retry:
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


def _owner_count(**filters) -> Coalesce:
    """How many of the row's owner's jobs match `filters`, as a subquery."""
    jobs = (
        Job.objects.filter(owner=OuterRef("owner"), **filters)
        .order_by()
        .values("owner")
        .annotate(n=Count("pk"))
        .values("n")
    )
    return Coalesce(Subquery(jobs, output_field=IntegerField()), Value(0))


def claim_next() -> tuple[Job, Lease] | None:
    """Claim the next queued job in fair order, under its lease; None when nothing is queued."""
    if not Job.objects.filter(status=Job.QUEUED).exists():
        return None
    lease = Lease()
    try:
        with transaction.atomic():
            queued = (
                Job.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(status=Job.QUEUED)
                .annotate(
                    owner_running=_owner_count(status=Job.RUNNING),
                    owner_recent=_owner_count(started_at__gte=timezone.now() - FAIRNESS_WINDOW),
                )
                .order_by("owner_running", "owner_recent", "created_at", "pk")
            )
            for job in queued[:CLAIM_BATCH]:
                # The advisory lock is taken while the row is still locked: no recovery can see the job
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
    """Recover orphaned jobs, then claim the next queued job and run it to its end. Returns the job as
    it finished, or None when nothing was queued."""
    recover_orphans()
    claimed = claim_next()
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
    except ModelUnavailable as exc:
        # The reason names model ids and commands: administrators read it in the log and in
        # `manage.py models check`; the job's owner reads one plain sentence.
        logger.warning("job %s: model unavailable: %s", job.pk, exc)
        # An embedding job is staff's own: they read the reason as it is.
        run.end(Job.FAILED, MODEL_GONE.get(job.kind, str(exc)))
    except TimeoutException:
        run.end(
            Job.FAILED,
            "The job took longer than the worker's time limit (MIRAGE_JOB_TIMEOUT) and was stopped.",
        )
        raise
    except (OperationalError, InterfaceError):
        # The database went away mid-run: not the job's fault, and its row cannot be written now. The
        # lease ends with this attempt, so recover_orphans() retries the job once the database is back.
        logger.warning("job %s: the database went away; the job will be retried", job.pk)
        raise
    except Exception:
        # An exception's text may name files, hosts or settings: it goes to the log, not to the owner.
        logger.exception("job %s failed", job.pk)
        run.end(Job.FAILED, UNEXPECTED)
