from django.urls import path

from campaigns import views, views_campaigns, views_dashboard, views_training, views_visits

app_name = "cases"

urlpatterns = [
    path("", views.CaseListView.as_view(), name="list"),
    path("new/", views.case_new, name="new"),
    path("<int:pk>/", views.case_detail, name="detail"),
    path("<int:pk>/edit/", views.case_edit, name="edit"),
    path("<int:pk>/transition/", views.case_transition, name="transition"),
    path("<int:pk>/close/", views.case_close, name="close"),
    path("<int:pk>/experts/", views.case_experts, name="experts"),
    path("<int:pk>/experts/assign/", views.case_assign, name="assign"),
    path("<int:pk>/experts/<int:expert_pk>/release/", views.case_release, name="release"),
    path("<int:pk>/rate/", views.case_rate, name="rate"),
    path("<int:pk>/visits/new/", views_visits.visit_new, name="visit-new"),
    path("for-need/<int:need_pk>/experts/", views.need_experts, name="need-experts"),
]

visit_patterns = (
    [
        path("", views_visits.VisitListView.as_view(), name="list"),
        path("<int:pk>/", views_visits.visit_detail, name="detail"),
        path("<int:pk>/edit/", views_visits.visit_edit, name="edit"),
        path("attachments/<int:pk>/", views_visits.attachment_download, name="attachment"),
    ],
    "visits",
)

training_patterns = (
    [
        path("", views_training.TrainingListView.as_view(), name="list"),
        path("new/", views_training.training_new, name="new"),
        path("new/firm/", views_training.firm_check, name="firm-check"),
        path("import/", views_training.training_import_sheet, name="import"),
        path("<int:pk>/", views_training.training_detail, name="detail"),
    ],
    "training",
)

campaign_patterns = (
    [
        path("", views_campaigns.CampaignListView.as_view(), name="list"),
        path("new/", views_campaigns.campaign_new, name="new"),
        path("<int:pk>/", views_campaigns.campaign_detail, name="detail"),
        path("<int:pk>/edit/", views_campaigns.campaign_edit, name="edit"),
        path("<int:pk>/targets/", views_campaigns.campaign_targets, name="targets"),
    ],
    "campaigns",
)

dashboard_patterns = (
    [
        path("", views_dashboard.DashboardIndexView.as_view(), name="index"),
        path("<int:pk>/", views_dashboard.campaign_dashboard, name="campaign"),
        path("<int:pk>/export/<str:fmt>/", views_dashboard.dashboard_export, name="export"),
    ],
    "dashboards",
)
