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
    ],
    "campaigns",
)
