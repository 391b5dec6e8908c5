from django.urls import path

from enterprises import views, views_transfer

app_name = "enterprises"

urlpatterns = [
    path("", views.EnterpriseListView.as_view(), name="list"),
    path("register/", views.enterprise_register, name="register"),
    path("register/check/", views.uscc_check, name="uscc-check"),
    path("claim/", views.enterprise_claim, name="claim"),
    path("import/", views_transfer.import_upload, name="import"),
    path("import/<int:pk>/", views_transfer.import_detail, name="import-detail"),
    path("import/<int:pk>/progress/", views_transfer.import_progress, name="import-progress"),
    path("export/<str:fmt>/", views_transfer.registry_export, name="export"),
    path("claims/", views.ClaimListView.as_view(), name="claims"),
    path("claims/<int:pk>/decide/", views.claim_decide, name="claim-decide"),
    path("<int:pk>/", views.enterprise_detail, name="detail"),
    path("<int:pk>/edit/", views.enterprise_edit, name="edit"),
    path("<int:pk>/certifications/new/", views.certification_add, name="certification-add"),
    path("<int:pk>/needs/new/", views.need_enter_received, name="need-enter"),
    path("<int:pk>/surveys/<str:kind>/", views.survey_answer, name="survey"),
]

need_patterns = (
    [
        path("", views.NeedListView.as_view(), name="list"),
        path("new/", views.need_new, name="new"),
        path("<int:pk>/", views.need_detail, name="detail"),
        path("<int:pk>/triage/", views.need_triage, name="triage"),
        path("attachments/<int:pk>/", views.attachment_download, name="attachment"),
    ],
    "needs",
)
