"""What search keeps: instructors' judgements of a result's relevance to a query."""

from __future__ import annotations

from django.conf import settings
from django.db import models


class RelevanceRating(models.Model):
    """One rater's grade of one image for one query: the expert judgements the paper lacked, exported
    as TREC qrels and scored by `evaluate_retrieval --qrels` (nDCG@10, P@10)."""

    NOT_RELEVANT, PARTLY, RELEVANT = 0, 1, 2
    GRADES = [(NOT_RELEVANT, "Not relevant"), (PARTLY, "Partly relevant"), (RELEVANT, "Relevant")]

    query = models.CharField(max_length=1000)  # normalised: `apps.search.services.normalise_query`
    image = models.ForeignKey("corpus.Image", on_delete=models.CASCADE, related_name="relevance_ratings")
    rater = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="relevance_ratings"
    )
    grade = models.PositiveSmallIntegerField(choices=GRADES)
    created = models.DateTimeField(auto_now_add=True)
    updated = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["query", "image", "rater"], name="one_rating_per_query_image_rater"
            )
        ]
        ordering = ["query", "image_id", "rater_id"]

    def __str__(self) -> str:
        return f"{self.query!r} · image {self.image_id} · {self.get_grade_display()}"
