"""The corpus in the admin: an image list that stays fast at a million rows.

Nothing in it grows with the table: the page asks for 100 rows by primary key through an index
for each filter (`(field, id)`), and the paginator counts at most `COUNT_CAP` rows instead of the
whole (filtered) table — beyond that the list says "10000" and offers the first pages only.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.paginator import Paginator
from django.utils.functional import cached_property

from apps.corpus.models import Dataset, EmbeddingSpace, Image

COUNT_CAP = 10_000


class CappedCountPaginator(Paginator):
    """Counts at most COUNT_CAP rows (a LIMITed subquery), so a page never scans the whole table."""

    @cached_property
    def count(self) -> int:
        return self.object_list.order_by()[:COUNT_CAP].count()


@admin.register(Image)
class ImageAdmin(admin.ModelAdmin):
    list_display = ("external_id", "dataset", "modality", "licence", "moderation_state", "is_synthetic")
    list_filter = ("modality", "licence", "moderation_state", "is_synthetic", "dataset")
    list_select_related = ("dataset",)
    ordering = ("-id",)
    show_full_result_count = False
    paginator = CappedCountPaginator
    raw_id_fields = ("owner", "dataset")
    readonly_fields = ("search_vector", "sha256", "created_at", "updated_at")


@admin.register(Dataset)
class DatasetAdmin(admin.ModelAdmin):
    list_display = ("slug", "name", "url")


@admin.register(EmbeddingSpace)
class EmbeddingSpaceAdmin(admin.ModelAdmin):
    list_display = ("name", "model", "target", "dim", "indexed_at")
    readonly_fields = ("indexed_at",)
