from django.urls import path

from apps.studysets import views

app_name = "studysets"
urlpatterns = [
    path("", views.mine, name="mine"),
    path("new/", views.create, name="create"),
    path("public/", views.public, name="public"),
    path("save/", views.save_image, name="save_image"),
    path("<int:pk>/", views.detail, name="detail"),
    path("<int:pk>/shared/<str:token>/", views.detail, name="shared"),
    path("<int:pk>/export/", views.export, name="export"),
    path("<int:pk>/shared/<str:token>/export/", views.export, name="shared_export"),
    path("<int:pk>/copy/", views.copy, name="copy"),
    path("<int:pk>/edit/", views.edit, name="edit"),
    path("<int:pk>/renew-link/", views.renew_link, name="renew_link"),
    path("<int:pk>/delete/", views.delete, name="delete"),
    path("<int:pk>/items/<int:item_pk>/note/", views.item_note, name="item_note"),
    path("<int:pk>/items/<int:item_pk>/move/", views.item_move, name="item_move"),
    path("<int:pk>/items/<int:item_pk>/remove/", views.item_remove, name="item_remove"),
]
