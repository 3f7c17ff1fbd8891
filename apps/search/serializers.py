"""What the search API reads and answers; shared with the comparison API."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import ClassVar

from django.conf import settings
from rest_framework import serializers

from apps.corpus.modality import MODALITIES
from apps.corpus.serializers import ImageSerializer
from apps.search.filters import LICENCE_CHOICES, ORIGIN_CHOICES
from apps.search.params import MAX_K, MAX_PAGE, RANKINGS


class ParamsSerializer(serializers.Serializer):
    """The parameters of one API operation.

    The fields describe them: drf-spectacular turns them into the schema's parameters
    (`@extend_schema(parameters=[TheSerializer])`) or request body. Validating calls `parse`, the
    parser of `apps.search.params` that the pages call too, so that page and API accept and refuse
    the same input with the same message (a `QueryError`, answered by the API as a 4xx); the field
    arguments (ranges, choices) only describe what `parse` checks.
    """

    parse: ClassVar[Callable[[Mapping], dict]]

    def to_internal_value(self, data: Mapping) -> dict:
        return type(self).parse(data)


def query_field(help_text: str, *, required: bool = True) -> serializers.CharField:
    return serializers.CharField(
        required=required,
        allow_blank=not required,
        max_length=settings.MIRAGE_MAX_QUERY_CHARS,
        help_text=f"{help_text} (at most {settings.MIRAGE_MAX_QUERY_CHARS} characters)",
    )


def k_field(default: int = 20) -> serializers.IntegerField:
    return serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=MAX_K,
        help_text=f"Results per page, 1–{MAX_K} (default {default})",
    )


def page_field() -> serializers.IntegerField:
    return serializers.IntegerField(
        required=False, min_value=1, max_value=MAX_PAGE, help_text=f"Page, 1–{MAX_PAGE} (default 1)"
    )


class FilterParams(ParamsSerializer):
    """The filters every kind of search accepts (apps.search.filters.Filters)."""

    modality = serializers.ChoiceField(
        choices=list(MODALITIES), required=False, help_text="Only this modality"
    )
    licence = serializers.ChoiceField(
        choices=list(LICENCE_CHOICES), required=False, help_text="Licence filter (default any)"
    )
    dataset = serializers.CharField(required=False, help_text="Only this dataset (slug)")
    origin = serializers.ChoiceField(
        choices=list(ORIGIN_CHOICES), required=False, help_text="Real, synthetic or any (default any)"
    )


class RankedParams(FilterParams):
    """The filters and the ordering, for the searches that offer a choice of ranking."""

    ranking = serializers.ChoiceField(
        choices=list(RANKINGS),
        required=False,
        help_text="fused (default): CLIP, caption meaning and caption words above their similarity floors, "
        "fused by reciprocal rank; paper: exact CLIP cosine top-K, no fusion, no floor (409 when CLIP is "
        "not installed); reranked: the fused order with its first MIRAGE_RERANK_DEPTH results re-ranked by "
        "`description` (default: the query and the first three captions)",
    )
    description = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=settings.MIRAGE_MAX_QUERY_CHARS,
        help_text="With ranking=reranked: a description to re-rank by (e.g. one the language model wrote)",
    )


class ChannelHitSerializer(serializers.Serializer):
    rank = serializers.IntegerField()
    similarity = serializers.FloatField()


class SearchHitSerializer(serializers.Serializer):
    image = ImageSerializer()
    score = serializers.FloatField(
        help_text="Reciprocal-rank fusion score, 0–1 (1 = ranked first by every channel that ran): it orders "
        "the fused results; it is not a similarity (see `similarity`)."
    )
    similarity = serializers.FloatField(
        allow_null=True,
        help_text="The best cosine similarity among the embedding channels that found this image "
        "(what the page shows as a percentage); null when only caption words (full text) found it",
    )
    found_by = serializers.IntegerField(help_text="How many ways of searching (channels) found it")
    ways = serializers.IntegerField(help_text="How many ways of searching ran")
    rerank_similarity = serializers.FloatField(
        allow_null=True, help_text="With ranking=reranked: cosine similarity to the description"
    )
    channels = serializers.DictField(
        child=ChannelHitSerializer(),
        help_text="clip / caption / text → rank and similarity (cosine; ts_rank for text), above the floors",
    )


class SearchResultSerializer(serializers.Serializer):
    label = serializers.CharField()
    query = serializers.CharField()
    k = serializers.IntegerField()
    page = serializers.IntegerField()
    total = serializers.IntegerField()
    has_next = serializers.BooleanField()
    channels = serializers.ListField(child=serializers.CharField())
    ranking = serializers.ChoiceField(choices=list(RANKINGS), help_text="How the results are ordered")
    match = serializers.ChoiceField(
        choices=["good", "weak", "none"],
        help_text="none: nothing above the similarity floors; weak: no result was found by two ways of "
        "searching (or, with one channel, even the best is under its floor); good otherwise",
    )
    advice = serializers.CharField(help_text="What to try instead, for a weak or empty result; else empty")
    notices = serializers.ListField(child=serializers.CharField())
    hits = SearchHitSerializer(many=True)
