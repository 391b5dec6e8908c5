from django.urls import path

from experts import views

app_name = "experts"

urlpatterns = [
    path("", views.ExpertListView.as_view(), name="list"),
    path("new/", views.expert_new, name="new"),
    path("import/", views.expert_import, name="import"),
    path("<int:pk>/", views.expert_detail, name="detail"),
    path("<int:pk>/edit/", views.expert_edit, name="edit"),
]
