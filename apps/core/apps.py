from django.apps import AppConfig


class CoreConfig(AppConfig):
    """What every app shares: errors, the JSON error envelope, API authentication and throttling."""

    name = "apps.core"
    verbose_name = "Core"
