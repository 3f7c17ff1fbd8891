"""Jobs, generated images and descriptions as JSON, and what the API accepts to start a job."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from apps.corpus.models import Image
from apps.corpus.serializers import ImageSerializer
from apps.generation import selectors, services
from apps.generation.models import Job
from apps.generation.selectors import CitedSource, DescriptionView

# A URL that may be missing: null in JSON, never "" (which is no valid URI).
NULLABLE_URI = serializers.URLField(allow_null=True)


def _absolute(request, url: str) -> str:
    return request.build_absolute_uri(url) if request is not None else url


# --- requests ------------------------------------------------------------------------------------


class GenerateSerializer(serializers.Serializer):
    """The generation form's fields; the rules (ranges per mode, lengths) are the service's."""

    prompt = serializers.CharField(
        allow_blank=True,
        trim_whitespace=False,
        help_text=f"What the image should show (≤ {services.MAX_PROMPT_CHARS} characters)",
    )
    negative_prompt = serializers.CharField(
        required=False,
        allow_blank=True,
        trim_whitespace=False,
        default="",
        help_text="What it should not show",
    )
    mode = serializers.ChoiceField(choices=list(services.MODES), default=services.FAST)
    steps = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Fast: 4–8 (default 4). Quality: 25–50 (default 30).",
    )
    guidance = serializers.FloatField(
        required=False,
        allow_null=True,
        default=None,
        help_text="Fast: 1–3 (default 1.5). Quality: 5–9 (default 7.5).",
    )
    seed = serializers.IntegerField(
        required=False,
        allow_null=True,
        default=None,
        help_text=f"0–{services.MAX_SEED}; empty for a random one. The same seed gives the same image.",
    )
    count = serializers.IntegerField(
        default=1, help_text=f"Images to generate, 1–{services.MAX_COUNT} (seeds seed, seed+1, …)"
    )


class DescribeSerializer(serializers.Serializer):
    q = serializers.CharField(max_length=1000, allow_blank=True, help_text="Condition or finding")
    q2 = serializers.CharField(
        max_length=1000,
        required=False,
        allow_blank=True,
        default="",
        help_text="A second one to compare with (both are described side by side)",
    )
    k = serializers.IntegerField(
        min_value=selectors.K_RANGE[0],
        max_value=selectors.K_RANGE[1],
        default=selectors.DEFAULT_K,
        help_text="How many of the best-matching captions the model is given",
    )


class DescribeStartSerializer(DescribeSerializer):
    unless_weak = serializers.BooleanField(
        default=False,
        help_text="Start nothing (409) when the captions match the request only weakly, as the pages ask "
        "first; false writes the description anyway",
    )


# --- jobs ----------------------------------------------------------------------------------------


class ProgressSerializer(serializers.Serializer):
    current = serializers.IntegerField(source="progress_current")
    total = serializers.IntegerField(source="progress_total", help_text="0 while nothing is counted yet")
    percent = serializers.IntegerField()
    message = serializers.CharField(source="progress_message")


class GenerationParamsSerializer(serializers.Serializer):
    prompt = serializers.CharField()
    negative_prompt = serializers.CharField()
    mode = serializers.ChoiceField(choices=list(services.MODES))
    steps = serializers.IntegerField()
    guidance = serializers.FloatField()
    seed = serializers.IntegerField()
    count = serializers.IntegerField()


class DescriptionParamsSerializer(serializers.Serializer):
    queries = serializers.ListField(child=serializers.CharField())
    k = serializers.IntegerField()


class JobSerializer(serializers.ModelSerializer):
    """A job's state, as the job page shows it while it polls."""

    # A pattern, not an enum: the quizzes' "kind" enums have other values, and drf-spectacular's
    # enum components for a field name used with several choice sets collide (a schema warning).
    kind = serializers.SerializerMethodField()
    title = serializers.CharField(read_only=True, help_text="The prompt, or the queries described")
    progress = ProgressSerializer(source="*", read_only=True)
    generation = serializers.SerializerMethodField(help_text="A generation's parameters; null otherwise")
    description = serializers.SerializerMethodField(help_text="A description's queries; null otherwise")
    max_attempts = serializers.SerializerMethodField()
    can_cancel = serializers.BooleanField(read_only=True)
    error = serializers.SerializerMethodField(help_text="Why it failed; null unless it did")
    notices = serializers.ListField(
        child=serializers.CharField(),
        read_only=True,
        help_text="One-line explanations, e.g. what was cut from a prompt too long for the model",
    )
    queue_position = serializers.SerializerMethodField(
        help_text="Queued jobs (anyone's) submitted before this one; null unless queued"
    )
    worker_quiet_seconds = serializers.SerializerMethodField(
        help_text="Seconds since its worker last gave a sign of life; null unless running"
    )
    cached = serializers.SerializerMethodField(help_text="Answered from the description cache at once")
    seconds = serializers.SerializerMethodField(help_text="Model time of a finished generation")
    url = serializers.SerializerMethodField()
    result_url = serializers.SerializerMethodField(help_text="The result; null until the job has succeeded")
    page_url = serializers.SerializerMethodField()

    class Meta:
        model = Job
        fields = [
            "id",
            "kind",
            "status",
            "title",
            "generation",
            "description",
            "progress",
            "attempts",
            "max_attempts",
            "cancel_requested",
            "can_cancel",
            "error",
            "notices",
            "queue_position",
            "worker_quiet_seconds",
            "cached",
            "seconds",
            "created_at",
            "started_at",
            "finished_at",
            "url",
            "result_url",
            "page_url",
        ]
        read_only_fields = fields

    @extend_schema_field(
        {
            "type": "string",
            "pattern": f"^({'|'.join(kind for kind, _ in Job.KINDS)})$",
            "description": "generate (images) or describe (descriptions)",
        }
    )
    def get_kind(self, job: Job) -> str:
        return job.kind

    @extend_schema_field(GenerationParamsSerializer(allow_null=True))
    def get_generation(self, job: Job) -> dict | None:
        if job.kind != Job.GENERATE:
            return None
        return GenerationParamsSerializer(job.params).data

    @extend_schema_field(DescriptionParamsSerializer(allow_null=True))
    def get_description(self, job: Job) -> dict | None:
        if job.kind != Job.DESCRIBE:
            return None
        items = job.params.get("items", [])
        return {
            "queries": [item["query"] for item in items],
            "k": items[0]["k"] if items else selectors.DEFAULT_K,
        }

    def get_max_attempts(self, job: Job) -> int:
        return Job.MAX_ATTEMPTS

    @extend_schema_field(serializers.CharField(allow_null=True))
    def get_error(self, job: Job) -> str | None:
        return job.error or None

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_queue_position(self, job: Job) -> int | None:
        return selectors.jobs_ahead(job)

    @extend_schema_field(serializers.IntegerField(allow_null=True))
    def get_worker_quiet_seconds(self, job: Job) -> int | None:
        return selectors.job_quiet_seconds(job)

    def get_cached(self, job: Job) -> bool:
        return bool(job.result.get("cached", False))

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_seconds(self, job: Job) -> float | None:
        return job.result.get("seconds")

    @extend_schema_field(OpenApiTypes.URI)
    def get_url(self, job: Job) -> str:
        return _absolute(self.context.get("request"), reverse("api:generation-job", args=[job.pk]))

    @extend_schema_field(NULLABLE_URI)
    def get_result_url(self, job: Job) -> str | None:
        if job.status != Job.SUCCEEDED:
            return None
        return _absolute(self.context.get("request"), reverse("api:generation-job-result", args=[job.pk]))

    @extend_schema_field(OpenApiTypes.URI)
    def get_page_url(self, job: Job) -> str:
        return _absolute(self.context.get("request"), reverse("generation:job", args=[job.pk]))


# --- results -------------------------------------------------------------------------------------


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _float(value) -> float | None:
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


class GenerationMetadataSerializer(serializers.Serializer):
    """What was written into the PNG: how to make the same image again."""

    job = serializers.IntegerField(allow_null=True, help_text="Null when its job was deleted")
    index = serializers.IntegerField(help_text="Position in its batch, from 0")
    prompt = serializers.CharField(help_text="The prompt as the model used it (cut to its token limit)")
    negative_prompt = serializers.CharField()
    model = serializers.CharField(help_text="The image model's hub id or folder name")
    lora = serializers.CharField(allow_null=True, help_text="The LCM-LoRA adapter (fast mode); else null")
    mode = serializers.CharField()
    seed = serializers.IntegerField()
    steps = serializers.IntegerField(allow_null=True)
    guidance = serializers.FloatField(allow_null=True)
    size = serializers.CharField()
    created_at = serializers.CharField(help_text="When it was generated (ISO 8601)")


def generation_metadata(image: Image) -> dict | None:
    generated = getattr(image, "generation", None)
    if generated is None:
        return None
    meta = generated.metadata
    return {
        "job": generated.job_id,
        "index": generated.index,
        "prompt": meta.get("prompt", ""),
        "negative_prompt": meta.get("negative_prompt", ""),
        "model": meta.get("model", ""),
        "lora": meta.get("lora") or None,
        "mode": meta.get("mode", ""),
        "seed": generated.seed,
        "steps": _int(meta.get("steps")),
        "guidance": _float(meta.get("guidance")),
        "size": meta.get("size", ""),
        "created_at": meta.get("Creation Time", ""),
    }


class GeneratedImageSerializer(serializers.Serializer):
    image = ImageSerializer(source="*")
    generation = serializers.SerializerMethodField(help_text="Null for a synthetic image made elsewhere")

    @extend_schema_field(GenerationMetadataSerializer(allow_null=True))
    def get_generation(self, image: Image) -> dict | None:
        return generation_metadata(image)


class SourceSerializer(serializers.Serializer):
    """A caption the model was given, numbered as the answer cites it ("[2]")."""

    n = serializers.IntegerField()
    caption = serializers.CharField()
    image_id = serializers.IntegerField(allow_null=True, help_text="Null when you may no longer see it")
    page_url = serializers.SerializerMethodField()

    @extend_schema_field(NULLABLE_URI)
    def get_page_url(self, source) -> str | None:
        image_id = source["image_id"] if isinstance(source, dict) else source.image_id
        if image_id is None:
            return None
        return _absolute(self.context.get("request"), reverse("corpus:image_detail", args=[image_id]))


def cited_source(source: CitedSource) -> dict:
    return {
        "n": source.n,
        "caption": source.caption,
        "image_id": source.image.pk if source.image else None,
    }


class CitationsSerializer(serializers.Serializer):
    """How the answer cites the captions it was given (selectors.citation_check)."""

    cited_share = serializers.FloatField(
        allow_null=True, help_text="Sentences citing a caption it was given, of all (0–1); null if empty"
    )
    sentences = serializers.SerializerMethodField()
    cited_sentences = serializers.IntegerField()
    has_citations = serializers.BooleanField(help_text="False when the answer cites no caption at all")
    out_of_range = serializers.ListField(
        child=serializers.IntegerField(), help_text="Numbers it cites that none of its captions has"
    )
    uncited = serializers.ListField(
        child=serializers.CharField(), help_text="Its sentences citing no caption"
    )

    def get_sentences(self, check) -> int:
        return len(check.sentences)


class DescriptionSerializer(serializers.Serializer):
    query = serializers.CharField(source="description.query")
    answer = serializers.CharField(source="description.answer", help_text="Cites its sources as [n]")
    model = serializers.CharField(source="description.model_label", help_text="The model that answered")
    is_fallback = serializers.BooleanField(
        source="description.is_fallback",
        help_text="The configured model could not be loaded and the offline fallback answered",
    )
    k = serializers.IntegerField(source="description.k")
    new_tokens = serializers.IntegerField(source="description.new_tokens")
    seconds = serializers.FloatField(source="description.seconds")
    created_at = serializers.DateTimeField(source="description.created_at")
    sources = serializers.SerializerMethodField()
    prompt = serializers.CharField(source="description.prompt", help_text="Exactly what the model was given")
    citations = CitationsSerializer(source="check")
    weak = serializers.BooleanField(help_text="Its captions matched the request only weakly")

    @extend_schema_field(SourceSerializer(many=True))
    def get_sources(self, view: DescriptionView) -> list[dict]:
        sources = [cited_source(source) for source in view.sources]
        return SourceSerializer(sources, many=True, context=self.context).data


class JobResultSerializer(serializers.Serializer):
    job = JobSerializer()
    images = GeneratedImageSerializer(many=True, help_text="A generation's images you can still see")
    descriptions = DescriptionSerializer(many=True, help_text="A description job's answers, one per query")


class PreviewSerializer(serializers.Serializer):
    """The captions a description of `query` would be grounded in, as things stand now."""

    query = serializers.CharField()
    sources = SourceSerializer(many=True)
    weak = serializers.BooleanField(
        help_text="The captions match the request only weakly (the search's similarity floors): a "
        "description from them may describe other findings"
    )
    model = serializers.SerializerMethodField(
        help_text="The language model that would answer: the configured one, or the offline fallback"
    )

    def get_model(self, preview: dict) -> str:
        return selectors.model_availability().llm_label
