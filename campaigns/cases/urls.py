from django.urls import path

from campaigns.cases.views import cases, experts, visits

case_patterns = (
    [
        path("", cases.CaseListView.as_view(), name="list"),
        path("new/", cases.case_new, name="new"),
        path("<int:pk>/", cases.case_detail, name="detail"),
        path("<int:pk>/edit/", cases.case_edit, name="edit"),
        path("<int:pk>/transition/", cases.case_transition, name="transition"),
        path("<int:pk>/close/", cases.case_close, name="close"),
        path("<int:pk>/experts/", experts.case_experts, name="experts"),
        path("<int:pk>/experts/assign/", experts.case_assign, name="assign"),
        path("<int:pk>/experts/<int:expert_pk>/release/", experts.case_release, name="release"),
        path("<int:pk>/rate/", cases.case_rate, name="rate"),
        path("<int:pk>/visits/new/", visits.visit_new, name="visit-new"),
        path("for-need/<int:need_pk>/experts/", experts.need_experts, name="need-experts"),
    ],
    "cases",
)

visit_patterns = (
    [
        path("", visits.VisitListView.as_view(), name="list"),
        path("<int:pk>/", visits.visit_detail, name="detail"),
        path("<int:pk>/edit/", visits.visit_edit, name="edit"),
        path("attachments/<int:pk>/", visits.attachment_download, name="attachment"),
    ],
    "visits",
)
