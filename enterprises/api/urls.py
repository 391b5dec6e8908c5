"""Routes of the registry API, included inside the "api" namespace by portal/api/urls.py."""

from rest_framework.routers import SimpleRouter

from enterprises.api import views

# A SimpleRouter: the portal's DefaultRouter already answers /api/ with the root view.
router = SimpleRouter()
router.register("enterprises", views.EnterpriseViewSet, basename="enterprise")
router.register("claims", views.ClaimViewSet, basename="claim")
router.register("needs", views.NeedViewSet, basename="need")
router.register("surveys", views.SurveyViewSet, basename="survey")

urlpatterns = router.urls
