from django.apps import AppConfig


class CorpusConfig(AppConfig):
    name = "apps.corpus"
    verbose_name = "Corpus"

    def ready(self) -> None:
        from apps.corpus import checks  # noqa: F401  (registers the checks)
