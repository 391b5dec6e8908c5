"""Routes of the key-designation API, included inside the "api" namespace by portal/api/urls.py."""

from rest_framework.routers import SimpleRouter

from enterprises.designations.api import views

router = SimpleRouter()
router.register("key-designations", views.KeyDesignationViewSet, basename="key-designation")

urlpatterns = router.urls
