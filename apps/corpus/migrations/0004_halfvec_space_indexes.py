"""Rebuild each embedding space's HNSW index as the searches now need it: on the halfvec cast, with
the configured build parameters (`apps.corpus.embeddings.space_index`). The searches order by that cast,
so an index of the older kind (`vector(dim)`, m 16) no longer serves them. On a large corpus this takes
as long as the index build (minutes per 100k vectors on a CPU); searches keep answering meanwhile,
by exact scans. A fresh database has no spaces yet, so nothing is built."""

from django.db import migrations


def rebuild_space_indexes(apps, schema_editor):
    # The current code on purpose: the index must be the one the current searches order by. Only the
    # columns that every version of the table has are read.
    from apps.corpus.embeddings import ensure_index
    from apps.corpus.models import EmbeddingSpace

    for space in EmbeddingSpace.objects.only("pk", "dim").order_by("pk"):
        ensure_index(space)


class Migration(migrations.Migration):
    dependencies = [("corpus", "0003_filter_indexes_with_id")]

    operations = [migrations.RunPython(rebuild_space_indexes, migrations.RunPython.noop)]
