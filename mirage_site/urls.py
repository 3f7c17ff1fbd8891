from django.conf import settings
from django.contrib import admin
from django.templatetags.static import static
from django.urls import include, path, re_path
from django.views.generic import RedirectView

from apps.corpus.views import media_file

urlpatterns = [
    path("", include("apps.search.urls")),
    path("images/", include("apps.corpus.urls")),
    path("compare/", include("apps.comparison.urls")),
    path("generate/", include("apps.generation.urls")),
    path("map/", include("apps.atlas.urls")),
    path("accounts/", include("apps.accounts.urls")),
    path("studysets/", include("apps.studysets.urls")),
    path("quizzes/", include("apps.quizzes.urls")),
    path("moderation/", include("apps.moderation.urls")),
    path("api/", include("mirage_site.api_urls")),
    path("admin/", admin.site.urls),
    path("favicon.ico", RedirectView.as_view(url=static("favicon.svg"), permanent=True)),
]

if settings.MIRAGE_SERVE_MEDIA:
    # One-machine installs serve stored images themselves; larger ones put media on object storage.
    urlpatterns.append(re_path(r"^media/(?P<path>.*)$", media_file))

handler400 = "mirage_site.errors.bad_request"
handler403 = "mirage_site.errors.permission_denied"
handler404 = "mirage_site.errors.page_not_found"
handler500 = "mirage_site.errors.server_error"
