from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularRedocView, SpectacularSwaggerView

from apps.api import views
from apps.comparison.api import CompareView
from apps.search.api import ArithmeticView, ImageDetailView, ImageSearchView, SearchView, SimilarView

app_name = "api"
urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="api:schema"), name="docs"),
    path("redoc/", SpectacularRedocView.as_view(url_name="api:schema"), name="redoc"),
    path("search/", SearchView.as_view(), name="search"),
    path("search/image/", ImageSearchView.as_view(), name="search_image"),
    path("search/arithmetic/", ArithmeticView.as_view(), name="search_arithmetic"),
    path("compare/", CompareView.as_view(), name="compare"),
    path("images/<int:pk>/", ImageDetailView.as_view(), name="image"),
    path("images/<int:pk>/similar/", SimilarView.as_view(), name="image_similar"),
    path("models/", views.ModelStatusView.as_view(), name="models"),
    path("tokens/", views.TokenListView.as_view(), name="tokens"),
    path("tokens/<int:pk>/", views.TokenDetailView.as_view(), name="token"),
    path("tokens/manage/", views.tokens_page, name="tokens_page"),
    path("tokens/manage/<int:pk>/revoke/", views.token_revoke_page, name="token_revoke_page"),
    path("", include("apps.accounts.api_urls")),
    path("", include("apps.studysets.api_urls")),
    path("", include("apps.quizzes.api_urls")),
    path("", include("apps.moderation.api_urls")),
    path("", include("apps.generation.api_urls")),
]
