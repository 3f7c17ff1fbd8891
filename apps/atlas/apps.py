from django.apps import AppConfig


class AtlasConfig(AppConfig):
    name = "apps.atlas"
    verbose_name = "Atlas (map of the latent space)"
