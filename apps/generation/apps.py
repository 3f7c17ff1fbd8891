from django.apps import AppConfig


class GenerationConfig(AppConfig):
    name = "apps.generation"
    label = "generation"
    verbose_name = "Generation and descriptions"

    def ready(self) -> None:
        from django_q.signals import post_spawn

        from apps.generation.tasks import on_worker_spawn

        post_spawn.connect(on_worker_spawn, dispatch_uid="mirage-generation-wake-on-spawn")
