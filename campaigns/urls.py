from django.urls import path

from campaigns import views

campaign_patterns = (
    [
        path("", views.CampaignListView.as_view(), name="list"),
        path("new/", views.campaign_new, name="new"),
        path("<int:pk>/", views.campaign_detail, name="detail"),
        path("<int:pk>/edit/", views.campaign_edit, name="edit"),
        path("<int:pk>/targets/", views.campaign_targets, name="targets"),
        path("<int:pk>/entry/close/", views.campaign_entry_close, name="close-entry"),
        path("<int:pk>/entry/reopen/", views.campaign_entry_reopen, name="reopen-entry"),
        path("<int:pk>/import/cases/", views.campaign_import, {"kind": "cases"}, name="import-cases"),
        path("<int:pk>/import/surveys/", views.campaign_import, {"kind": "surveys"}, name="import-surveys"),
        path("<int:pk>/imports/<int:job_id>/", views.campaign_import_job, name="import-job"),
        path("<int:pk>/imports/<int:job_id>/progress/", views.campaign_import_job_progress, name="import-job-progress"),
        path("import/cases/template/", views.campaign_import_template, {"kind": "cases"},
             name="import-cases-template"),
        path("import/surveys/template/", views.campaign_import_template, {"kind": "surveys"},
             name="import-surveys-template"),
    ],
    "campaigns",
)
