from django.urls import path

from campaigns.training import views

training_patterns = (
    [
        path("", views.TrainingListView.as_view(), name="list"),
        path("new/", views.training_new, name="new"),
        path("new/firm/", views.firm_check, name="firm-check"),
        path("import/", views.training_import_sheet, name="import"),
        path("<int:pk>/", views.training_detail, name="detail"),
    ],
    "training",
)
