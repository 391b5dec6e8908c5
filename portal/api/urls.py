"""Everything under /api/: each app's routes, the OpenAPI schema and its interactive docs."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView
from rest_framework.routers import DefaultRouter

from portal.api import views
from portal.notifications.api import NotificationViewSet, PreferencesView
from portal.security.api import TokenViewSet

app_name = "api"

router = DefaultRouter()
router.register("regions", views.RegionViewSet, basename="region")
router.register("industries", views.IndustryViewSet, basename="industry")
router.register("service-areas", views.ServiceAreaViewSet, basename="service-area")
router.register("specialties", views.SpecialtyViewSet, basename="specialty")
router.register("tokens", TokenViewSet, basename="token")
router.register("notifications", NotificationViewSet, basename="notification")

urlpatterns = [
    path("me/", views.MeView.as_view(), name="me"),
    path("notifications/preferences/", PreferencesView.as_view(), name="notification-preferences"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api:schema"), name="docs"),
    path("", include("enterprises.api.urls")),
    path("", include("enterprises.designations.api.urls")),
    path("", include("experts.api.urls")),
    path("", include("campaigns.api.urls")),
    path("", include("campaigns.cases.api.urls")),
    path("", include("campaigns.training.api.urls")),
    path("", include("campaigns.kpis.api.urls")),
    path("", include(router.urls)),
]
