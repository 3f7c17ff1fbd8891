import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


def adopt_tokens_of_the_former_api_app(apps, schema_editor):
    """Tokens were rows of `api_apitoken` before the shared parts moved from apps.api to apps.core."""
    connection = schema_editor.connection
    if "api_apitoken" not in connection.introspection.table_names():
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO core_apitoken (id, name, prefix, key_hash, created_at, last_used_at, revoked_at, user_id) "
            "SELECT id, name, prefix, key_hash, created_at, last_used_at, revoked_at, user_id FROM api_apitoken"
        )
        cursor.execute(
            "SELECT setval(pg_get_serial_sequence('core_apitoken', 'id'), "
            "COALESCE((SELECT MAX(id) FROM core_apitoken), 0) + 1, false)"
        )
        cursor.execute("DROP TABLE api_apitoken")
        cursor.execute("DELETE FROM django_migrations WHERE app = 'api'")


class Migration(migrations.Migration):
    initial = True

    dependencies = [
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ApiToken",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("name", models.CharField(max_length=100)),
                ("prefix", models.CharField(max_length=12)),
                ("key_hash", models.CharField(max_length=64, unique=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("last_used_at", models.DateTimeField(blank=True, null=True)),
                ("revoked_at", models.DateTimeField(blank=True, null=True)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="api_tokens",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
        ),
        migrations.RunPython(adopt_tokens_of_the_former_api_app, migrations.RunPython.noop),
    ]
