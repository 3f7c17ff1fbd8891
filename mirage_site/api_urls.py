"""The REST API under /api/: the schema and its viewers, and each app's own endpoints."""

from csp.decorators import csp_update
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

# Swagger UI styles its page from script: its styles (never scripts) may be inline.
inline_styles = csp_update({"style-src": ["'unsafe-inline'"]})
# Our own page around Swagger UI (templates/api/docs.html: language, site header, accessible colours).
docs = SpectacularSwaggerSplitView.as_view(url_name="api:schema", template_name="api/docs.html")

app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", inline_styles(docs), name="docs"),
    path("", include("apps.search.api_urls")),
    path("", include("apps.comparison.api_urls")),
    path("", include("apps.corpus.api_urls")),
    path("", include("apps.accounts.api_urls")),
    path("", include("apps.studysets.api_urls")),
    path("", include("apps.quizzes.api_urls")),
    path("", include("apps.moderation.api_urls")),
    path("", include("apps.generation.api_urls")),
]
