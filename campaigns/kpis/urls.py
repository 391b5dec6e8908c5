from django.urls import path

from campaigns.kpis import views

dashboard_patterns = (
    [
        path("", views.DashboardIndexView.as_view(), name="index"),
        path("<int:pk>/", views.campaign_dashboard, name="campaign"),
        path("<int:pk>/export/<str:fmt>/", views.dashboard_export, name="export"),
    ],
    "dashboards",
)
