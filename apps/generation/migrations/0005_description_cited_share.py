from django.db import migrations, models


def fill_cited_share(apps, schema_editor):
    """Descriptions stored before the check get their share from the same function as new ones."""
    from apps.generation.selectors import citation_check

    Description = apps.get_model("generation", "Description")
    for description in Description.objects.filter(cited_share__isnull=True).iterator():
        share = citation_check(answer=description.answer, sources=len(description.sources)).cited_share
        if share is not None:
            Description.objects.filter(pk=description.pk).update(cited_share=share)


class Migration(migrations.Migration):
    dependencies = [
        ("generation", "0004_embedding_jobs"),
    ]

    operations = [
        migrations.AddField(
            model_name="description",
            name="cited_share",
            field=models.FloatField(blank=True, null=True),
        ),
        migrations.RunPython(fill_cited_share, migrations.RunPython.noop),
    ]
