"""The minute schedule calls the renamed task, `run_next_job` (it runs one job; `run_jobs` said many)."""

from django.db import migrations

NAME = "mirage: recover and run generation jobs"


def point_at(func):
    def update(apps, schema_editor):
        apps.get_model("django_q", "Schedule").objects.filter(name=NAME).update(func=func)

    return update


class Migration(migrations.Migration):
    dependencies = [("generation", "0002_recovery_schedule")]

    operations = [
        migrations.RunPython(
            point_at("apps.generation.tasks.run_next_job"), point_at("apps.generation.tasks.run_jobs")
        )
    ]
