"""Background jobs (image generation, descriptions), their cached answers and generated-image provenance."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class Job(models.Model):
    """One unit of GPU work, from the request to its result. The worker moves it through

    queued → running → succeeded | failed | cancelled, and back to queued when the worker running it
    died, until MAX_ATTEMPTS runs have started. Only the worker that claimed it (`worker`, `attempts`)
    may write its progress or result.
    """

    # Runs a job may start in all: the first and two retries after a worker died under it.
    MAX_ATTEMPTS = 3

    GENERATE = "generate"
    DESCRIBE = "describe"
    EMBED = "embed"  # an embedding space over the corpus, queued by an admin (`manage.py embed --queue`)
    KINDS = [(GENERATE, "image generation"), (DESCRIBE, "description"), (EMBED, "corpus embedding")]

    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    STATUSES = [
        (QUEUED, "queued"),
        (RUNNING, "running"),
        (SUCCEEDED, "done"),
        (FAILED, "failed"),
        (CANCELLED, "cancelled"),
    ]
    FINISHED = (SUCCEEDED, FAILED, CANCELLED)

    kind = models.CharField(max_length=10, choices=KINDS)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="generation_jobs"
    )
    params = models.JSONField(default=dict)
    status = models.CharField(max_length=10, choices=STATUSES, default=QUEUED)
    progress_current = models.PositiveIntegerField(default=0)
    progress_total = models.PositiveIntegerField(default=0)
    progress_message = models.CharField(max_length=200, blank=True)
    notices = models.JSONField(default=list, blank=True)  # one-line explanations for the job page
    result = models.JSONField(default=dict, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=0)
    cancel_requested = models.BooleanField(default=False)
    worker = models.CharField(max_length=200, blank=True)  # host:pid of the process that claimed it
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True)  # last sign of life from its worker
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["status", "created_at"], name="generation_job_queue_idx"),
            models.Index(fields=["owner", "-created_at"], name="generation_job_owner_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} job {self.pk} ({self.status})"

    @property
    def is_finished(self) -> bool:
        return self.status in self.FINISHED

    @property
    def may_retry(self) -> bool:
        return self.attempts < self.MAX_ATTEMPTS

    @property
    def can_cancel(self) -> bool:
        return self.status in (self.QUEUED, self.RUNNING) and not self.cancel_requested

    @property
    def percent(self) -> int:
        if not self.progress_total:
            return 0
        return min(100, round(100 * self.progress_current / self.progress_total))

    @property
    def title(self) -> str:
        if self.kind == self.GENERATE:
            return self.params.get("prompt", "")
        if self.kind == self.EMBED:
            return f"the {self.params.get('space', '')} space"
        return " vs ".join(item["query"] for item in self.params.get("items", []))


class Description(models.Model):
    """A language model's answer for one query, cached per (query, model, k, captions)."""

    query = models.TextField()
    model = models.CharField(max_length=500)  # the spec that answered (the fallback's, when it did)
    model_label = models.CharField(max_length=200)
    k = models.PositiveSmallIntegerField()
    captions_key = models.CharField(max_length=64)  # sha256 of the cited (image id, caption) pairs
    sources = models.JSONField()  # [{"n": 1, "image_id": 7, "caption": "..."}, ...]
    prompt = models.TextField()  # exactly what the model was given
    answer = models.TextField()
    is_fallback = models.BooleanField(default=False)
    # Sentences citing a caption it was given, of all its sentences (selectors.citation_check); null
    # for an empty answer.
    cited_share = models.FloatField(null=True, blank=True)
    new_tokens = models.PositiveIntegerField(default=0)
    seconds = models.FloatField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["query", "model", "k", "captions_key"], name="description_unique_per_input"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.query} ({self.model_label}, k={self.k})"


class GeneratedImage(models.Model):
    """Where a synthetic corpus image came from: its job, seed and the metadata written into its PNG."""

    image = models.OneToOneField("corpus.Image", on_delete=models.CASCADE, related_name="generation")
    job = models.ForeignKey(Job, null=True, on_delete=models.SET_NULL, related_name="images")
    index = models.PositiveSmallIntegerField()  # position in its batch
    seed = models.BigIntegerField()
    metadata = models.JSONField()  # the PNG text chunks: prompt, models, seed, steps, guidance, time

    def __str__(self) -> str:
        return f"image {self.image_id} (job {self.job_id}, seed {self.seed})"
