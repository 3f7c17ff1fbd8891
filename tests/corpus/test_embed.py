"""manage.py embed: vectors per space, COPY-loaded, resumable, with a partial HNSW index."""

from __future__ import annotations

import io

import numpy as np
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from apps.corpus.models import Embedding, EmbeddingSpace
from tests import factories

pytestmark = pytest.mark.django_db


def embed(*args: str) -> str:
    out = io.StringIO()
    call_command("embed", *args, stdout=out, stderr=io.StringIO())
    return out.getvalue()


def test_caption_space_embeds_every_entry_once_and_builds_its_index(settings):
    factories.images("Chest radiograph.", "Axial CT of the head.")
    factories.images("Metadata-only entry: knee MRI.", with_image=False)

    output = embed("--space", "caption")

    assert "caption: embedded 3, failed 0; index built" in output
    space = EmbeddingSpace.objects.get(name="caption")
    assert space.dim == 384 and space.indexed_at is not None
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [space.index_name])
        (indexdef,) = cursor.fetchone()
    assert "USING hnsw (((vector)::halfvec(384)) halfvec_cosine_ops)" in indexdef
    built_with = f"m='{settings.MIRAGE_HNSW_M}', ef_construction='{settings.MIRAGE_HNSW_EF_CONSTRUCTION}'"
    assert f"WITH ({built_with})" in indexdef and f"space_id = {space.pk}" in indexdef

    assert "caption: embedded 0, failed 0; index up to date" in embed("--space", "caption")
    factories.images("A new ultrasound of the liver.")
    assert "caption: embedded 1, failed 0" in embed("--space", "caption")
    assert Embedding.objects.filter(space=space).count() == 4


def test_stored_vectors_are_the_encoders_normalized_output():
    from apps.ml.encoders import load_encoder

    (image,) = factories.images("Lateral radiograph of the cervical spine.")
    embed("--space", "caption")
    space = EmbeddingSpace.objects.get(name="caption")
    stored = np.asarray(Embedding.objects.get(space=space, image=image).vector)
    expected = load_encoder(space.model).encode_texts([image.caption])[0]
    assert stored.shape == (384,)
    assert abs(float((stored * expected).sum()) - 1.0) < 1e-4


def test_the_nearest_neighbour_query_uses_the_spaces_hnsw_index():
    from apps.search.channels import nearest_images, neighbours
    from apps.search.filters import Filters, searchable_images

    factories.images(*[f"Caption number {n} of a chest film." for n in range(30)])
    embed("--space", "caption")
    space = EmbeddingSpace.objects.get(name="caption")
    among = searchable_images(filters=Filters(), require_file=False)
    vector = np.full(384, 0.05, dtype=np.float32)
    with connection.cursor() as cursor:
        cursor.execute("SET enable_seqscan = off")  # 30 rows: PostgreSQL would rather scan them all
        try:
            plan = neighbours(space=space, vector=vector, among=among)[:5].explain()
        finally:
            cursor.execute("RESET enable_seqscan")
    assert f"Index Scan using {space.index_name}" in plan
    assert "Order By: ((vector)::halfvec(384) <=> " in plan  # the index's own half-precision expression
    assert len(nearest_images(space=space, vector=vector, limit=5, among=among)) == 5


def index_definition(space: EmbeddingSpace) -> str:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexdef FROM pg_indexes WHERE indexname = %s", [space.index_name])
        return cursor.fetchone()[0]


def test_an_index_of_the_older_kind_is_rebuilt_by_the_migration_and_by_embed(settings):
    import importlib

    from apps.search.channels import nearest_images
    from apps.search.filters import Filters, searchable_images

    factories.images(*[f"Caption number {n} of a knee film." for n in range(20)])
    embed("--space", "caption")
    space = EmbeddingSpace.objects.get(name="caption")
    with connection.cursor() as cursor:  # what earlier versions built
        cursor.execute(f"DROP INDEX {space.index_name}")
        cursor.execute(
            f"CREATE INDEX {space.index_name} ON corpus_embedding USING hnsw ((vector::vector(384)) "
            f"vector_cosine_ops) WITH (m = 16, ef_construction = 64) WHERE space_id = {space.pk}"
        )
    migration = importlib.import_module("apps.corpus.migrations.0004_halfvec_space_indexes")

    migration.rebuild_space_indexes(None, None)

    assert "halfvec(384)) halfvec_cosine_ops" in index_definition(space)
    assert "caption: embedded 0, failed 0; index up to date" in embed("--space", "caption")
    settings.MIRAGE_HNSW_M = 8  # other build settings: the next embed rebuilds it
    assert "caption: embedded 0, failed 0; index built" in embed("--space", "caption")
    efc = settings.MIRAGE_HNSW_EF_CONSTRUCTION
    assert f"WITH (m='8', ef_construction='{efc}')" in index_definition(space)
    among = searchable_images(filters=Filters(), require_file=False)
    assert len(nearest_images(space=space, vector=np.full(384, 0.05, np.float32), limit=5, among=among)) == 5


def test_similarities_are_computed_on_the_full_precision_vectors():
    from apps.search.channels import nearest_images
    from apps.search.filters import Filters, searchable_images

    images = factories.images(*[f"Caption number {n} of a hand film." for n in range(12)])
    embed("--space", "caption")
    space = EmbeddingSpace.objects.get(name="caption")
    query = np.random.default_rng(3).normal(size=384).astype(np.float32)
    among = searchable_images(filters=Filters(), require_file=False)

    found = nearest_images(space=space, vector=query, limit=12, among=among)

    stored = {
        e.image_id: np.asarray(e.vector, dtype=np.float64) for e in Embedding.objects.filter(space=space)
    }
    q = query.astype(np.float64) / np.linalg.norm(query)
    for image_id, similarity in found:
        # half precision would be off by ~1e-3; float32 vectors agree to ~1e-7
        assert abs(similarity - float(stored[image_id] @ q / np.linalg.norm(stored[image_id]))) < 1e-5
    assert {pk for pk, _ in found} == {image.pk for image in images}


def test_unavailable_clip_model_is_a_clear_error_or_skipped_on_request():
    factories.images("Chest radiograph.")
    with pytest.raises(CommandError, match="clip: .*CLIP-ViT-L-14-448px-MedICaT-ROCO"):
        embed("--space", "clip")
    output = embed("--space", "clip", "--if-available")
    assert "clip: skipped" in output
    assert not EmbeddingSpace.objects.filter(name="clip").exists()


def test_clip_space_embeds_images_only_with_a_tiny_local_model(settings, tiny_clip_dir):
    settings.MIRAGE_CLIP_MODEL = str(tiny_clip_dir)
    factories.images("Chest radiograph.", "Axial CT of the head.")
    factories.images("Metadata-only entry.", with_image=False)

    output = embed("--space", "clip")

    assert "clip: embedded 2, failed 0; index built" in output
    space = EmbeddingSpace.objects.get(name="clip")
    assert space.target == "image" and space.dim == 32


def test_changing_the_model_of_a_space_asks_for_a_rebuild(settings, tiny_clip_dir, tmp_path):
    from tests.ml.tiny_models import build_tiny_open_clip

    factories.images("Chest radiograph.")
    settings.MIRAGE_CLIP_MODEL = str(tiny_clip_dir)
    embed("--space", "clip")
    settings.MIRAGE_CLIP_MODEL = str(build_tiny_open_clip(tmp_path / "other", embed_dim=16))
    with pytest.raises(CommandError, match="--rebuild"):
        embed("--space", "clip")
    assert "clip: embedded 1" in embed("--space", "clip", "--rebuild")
    assert EmbeddingSpace.objects.get(name="clip").dim == 16


def test_on_cpu_the_time_is_measured_and_a_long_run_needs_yes(settings, tiny_clip_dir, monkeypatch):
    from apps.generation.management.commands import embed as embed_command

    settings.MIRAGE_CLIP_MODEL = str(tiny_clip_dir)
    factories.images("Chest radiograph.", "Axial CT of the head.", "Knee MRI.")
    monkeypatch.setattr(embed_command, "CONFIRM_OVER_SECONDS", 0)  # any measured time is "long" now

    with pytest.raises(CommandError, match="--yes"):
        embed("--space", "clip")
    assert not Embedding.objects.exists()
    skipped = embed("--space", "clip", "--if-available")
    assert "clip: 3 to embed on cpu; measured" in skipped and "clip: not embedded now" in skipped
    assert not Embedding.objects.exists()

    output = embed("--space", "clip", "--yes")
    assert "clip: 3 to embed on cpu; measured" in output
    assert "clip: embedded 3, failed 0" in output


def test_loader_processes_give_the_encoders_own_vectors_and_report_an_unreadable_file(
    settings, tiny_clip_dir
):
    from apps.corpus import imaging
    from apps.ml.encoders import load_encoder

    settings.MIRAGE_CLIP_MODEL = str(tiny_clip_dir)
    good, broken = factories.images("Chest radiograph.", "Axial CT of the head.")
    with broken.file.open("wb") as handle:  # damaged on disk after the import
        handle.write(b"\xff\xd8\xff\xe0 not a jpeg any more")

    output = embed("--space", "clip", "--workers", "2", "--batch-size", "1")

    assert "clip: embedded 1, failed 1" in output
    space = EmbeddingSpace.objects.get(name="clip")
    stored = np.asarray(Embedding.objects.get(space=space, image=good).vector)
    with good.file.open("rb") as handle:
        picture = imaging.open_image_bytes(handle.read())
    expected = load_encoder(space.model).encode_images([picture])[0]
    assert float((stored * expected).sum()) == pytest.approx(1.0, abs=1e-4)
    assert not Embedding.objects.filter(image=broken).exists()
