"""The URL root: every app's pages under their prefixes, the API, accounts and admin."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path

from campaigns.cases.urls import case_patterns, visit_patterns
from campaigns.kpis.urls import dashboard_patterns
from campaigns.training.urls import training_patterns
from campaigns.urls import campaign_patterns
from enterprises.designations.urls import designation_patterns
from enterprises.urls import need_patterns
from portal import views as account_views
from portal.shell import views

regions_patterns = (
    [
        path("", views.RegionListView.as_view(), name="list"),
        path("lookup/", views.region_lookup, name="lookup"),
        path("<str:code>/", views.RegionDetailView.as_view(), name="detail"),
    ],
    "regions",
)

urlpatterns = [
    path("", views.home, name="home"),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("accounts/password/", auth_views.PasswordChangeView.as_view(), name="password_change"),
    path("accounts/password/done/", auth_views.PasswordChangeDoneView.as_view(), name="password_change_done"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/signup/", account_views.signup, name="signup"),
    path("accounts/security/", include("portal.security.urls")),
    path("notifications/", include("portal.notifications.urls")),
    path("regions/", include(regions_patterns)),
    path("enterprises/", include("enterprises.urls")),
    path("needs/", include(need_patterns)),
    path("key-designations/", include(designation_patterns)),
    path("experts/", include("experts.urls")),
    path("campaigns/", include(campaign_patterns)),
    path("cases/", include(case_patterns)),
    path("visits/", include(visit_patterns)),
    path("training/", include(training_patterns)),
    path("dashboards/", include(dashboard_patterns)),
    path("api/", include("portal.api.urls")),
    path("admin/", admin.site.urls),
]
