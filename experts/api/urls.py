"""Routes of the expert-pool API, included inside the "api" namespace by portal/api/urls.py."""

from rest_framework.routers import SimpleRouter

from experts.api import views

router = SimpleRouter()
router.register("experts", views.ExpertViewSet, basename="expert")

urlpatterns = router.urls
