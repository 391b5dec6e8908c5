"""Routes of the KPI snapshot API, included inside the "api" namespace by portal/api/urls.py."""

from rest_framework.routers import SimpleRouter

from campaigns.kpis.api import views

router = SimpleRouter()
router.register("kpi-snapshots", views.KpiSnapshotViewSet, basename="kpi-snapshot")

urlpatterns = router.urls
