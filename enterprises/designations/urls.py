from django.urls import path

from enterprises.designations import views

designation_patterns = (
    [
        path("", views.KeyDesignationListView.as_view(), name="list"),
        path("<int:pk>/remove/", views.designation_remove, name="remove"),
    ],
    "designations",
)
