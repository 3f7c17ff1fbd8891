from django.apps import AppConfig


class StudysetsConfig(AppConfig):
    name = "apps.studysets"
    verbose_name = "Study sets"
