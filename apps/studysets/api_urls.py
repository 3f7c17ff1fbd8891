"""This app's REST endpoints; included under /api/ by mirage_site/api_urls.py."""

from django.urls import path

from apps.studysets import api

urlpatterns = [
    path("studysets/", api.StudySetListView.as_view(), name="studysets-list"),
    path("studysets/public/", api.PublicStudySetListView.as_view(), name="studysets-public"),
    path("studysets/<int:pk>/", api.StudySetDetailView.as_view(), name="studysets-detail"),
    path("studysets/<int:pk>/items/", api.StudySetItemsView.as_view(), name="studysets-items"),
    path("studysets/<int:pk>/items/<int:item_pk>/", api.StudySetItemView.as_view(), name="studysets-item"),
    path(
        "studysets/<int:pk>/items/<int:item_pk>/move/",
        api.StudySetItemMoveView.as_view(),
        name="studysets-item-move",
    ),
    path("studysets/<int:pk>/copy/", api.StudySetCopyView.as_view(), name="studysets-copy"),
    path("studysets/<int:pk>/renew-link/", api.StudySetRenewLinkView.as_view(), name="studysets-renew-link"),
    path("studysets/<int:pk>/export/", api.StudySetExportView.as_view(), name="studysets-export"),
]
