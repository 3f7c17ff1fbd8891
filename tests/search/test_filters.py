"""Filters on every kind of search, and K results even when a filter keeps few images."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.management import call_command
from django.db import connection

from apps.corpus.embeddings import ensure_index, vector_literal
from apps.corpus.models import Dataset, EmbeddingSpace, Image
from apps.search.channels import nearest_images, neighbours
from apps.search.filters import Filters, searchable_images
from apps.search.params import QueryError, clean_filters
from apps.search.selectors import text_search
from tests import factories

pytestmark = pytest.mark.django_db


def test_a_filter_keeping_4_percent_of_the_corpus_still_returns_k_through_the_hnsw_index(settings):
    """1,000 entries, 40 of them ultrasound; the index is forced and ef_search kept tiny, so only the
    iterative index scan can find five matching neighbours. (With a filter this selective, PostgreSQL
    normally prefers an exact scan of the matching rows, which returns K as well.)"""
    dataset = Dataset.objects.create(slug="bulk", name="Bulk")
    rng = np.random.default_rng(7)
    Image.objects.bulk_create(
        Image(
            dataset=dataset,
            external_id=f"B{n}",
            caption=f"entry {n}",
            modality="ultrasound" if n % 25 == 0 else "ct",
        )
        for n in range(1000)
    )
    space = EmbeddingSpace.objects.create(name="bulk", model="random", target="caption", dim=16)
    pks = list(Image.objects.filter(dataset=dataset).values_list("pk", flat=True))
    copy_sql = "COPY corpus_embedding (image_id, space_id, vector) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(copy_sql) as copy:
        for pk in pks:
            copy.write_row((pk, space.pk, vector_literal(rng.normal(size=16).astype(np.float32))))
    ensure_index(space)
    settings.MIRAGE_HNSW_EF_SEARCH = 1
    query = rng.normal(size=16).astype(np.float32)
    among = searchable_images(filters=Filters(modality="ultrasound"), require_file=False)

    with connection.cursor() as cursor:
        # At this size PostgreSQL would rather scan exactly (also right); make it walk the HNSW index.
        cursor.execute("SET enable_seqscan = off")
        cursor.execute("SET enable_sort = off")
        try:
            found = nearest_images(space=space, vector=query, limit=5, among=among)
            # Without the iterative scan, the same index query finds fewer than K: the test can fail.
            cursor.execute("SET hnsw.ef_search = 5")
            cursor.execute("SET hnsw.iterative_scan = off")
            same_query = neighbours(space=space, vector=query, among=among)[:5]
            plan = same_query.explain()
            assert f"Index Scan using {space.index_name}" in plan
            assert "Order By: ((vector)::halfvec(16) <=> " in plan
            without_iteration = list(same_query)
        finally:
            cursor.execute("RESET enable_seqscan")
            cursor.execute("RESET enable_sort")
            cursor.execute("RESET hnsw.ef_search")
            cursor.execute("RESET hnsw.iterative_scan")

    assert len(found) == 5
    assert set(Image.objects.filter(pk__in=[pk for pk, _ in found]).values_list("modality", flat=True)) == {
        "ultrasound"
    }
    assert len(without_iteration) < 5


@pytest.mark.django_db(transaction=True)
def test_the_index_scans_settings_last_for_its_own_query_only(settings):
    """nearest_images sends its two SET LOCALs with the query (one round trip, one transaction): outside
    any transaction of ours, the connection's settings are PostgreSQL's defaults again afterwards."""
    factories.images("Chest radiograph.", "Axial CT of the head.", "Knee MRI.")
    call_command("embed", "--space", "caption", stdout=io.StringIO(), stderr=io.StringIO())
    space = EmbeddingSpace.objects.get(name="caption")
    settings.MIRAGE_HNSW_EF_SEARCH = 123
    query = np.ones(space.dim, dtype=np.float32) / np.sqrt(space.dim)

    found = nearest_images(space=space, vector=query, limit=3, among=searchable_images(filters=Filters()))

    assert len(found) == 3 and [s for _, s in found] == sorted((s for _, s in found), reverse=True)
    with connection.cursor() as cursor:
        cursor.execute("SHOW hnsw.ef_search")
        assert cursor.fetchone()[0] == "40"
        cursor.execute("SHOW hnsw.iterative_scan")
        assert cursor.fetchone()[0] == "off"


def test_filters_apply_to_text_search():
    factories.images("Chest radiograph, openly licensed.", licence_raw="CC BY")
    factories.images("Chest radiograph, non-commercial licence.", licence_raw="CC BY-NC")
    factories.images("Chest radiograph, no open licence.", licence_raw="NO-CC CODE")
    factories.images("Chest radiograph from another dataset.", slug="other")
    factories.images("Axial chest CT.", modality="ct")
    call_command("embed", "--space", "caption", stdout=io.StringIO(), stderr=io.StringIO())

    def captions(**filters):
        return {h.image.caption for h in text_search(query="chest", k=20, filters=Filters(**filters)).hits}

    assert captions(licence="open") == captions() - {"Chest radiograph, no open licence."}
    assert "Chest radiograph, non-commercial licence." not in captions(licence="commercial")
    assert captions(dataset="other") == {"Chest radiograph from another dataset."}
    assert captions(modality="ct") == {"Axial chest CT."}
    assert captions(origin="synthetic") == set()


def test_synthetic_filter_and_visibility_of_pending_generated_images():
    author, other = factories.user(), factories.user()
    real, generated = factories.images("Chest radiograph, real.", "Chest radiograph, generated.")
    Image.objects.filter(pk=generated.pk).update(
        is_synthetic=True, owner=author, moderation_state=Image.PENDING
    )
    call_command("embed", "--space", "caption", stdout=io.StringIO(), stderr=io.StringIO())

    def found(user, **filters):
        result = text_search(query="chest radiograph", k=10, filters=Filters(**filters), user=user)
        return {hit.image.pk for hit in result.hits}

    assert found(author) == {real.pk, generated.pk}
    assert found(author, origin="synthetic") == {generated.pk}
    assert found(author, origin="real") == {real.pk}
    assert found(other) == {real.pk}
    assert found(None) == {real.pk}


@pytest.mark.parametrize(
    "params, message",
    [
        ({"modality": "xray-vision"}, "Unknown modality"),
        ({"licence": "free"}, "Unknown licence filter"),
        ({"origin": "imagined"}, "Unknown origin"),
        ({"dataset": "nope"}, "Unknown dataset"),
    ],
)
def test_unknown_filter_values_are_refused_with_a_clear_message(params, message):
    with pytest.raises(QueryError, match=message):
        clean_filters(params)
