"""Routes of the campaign API, included inside the "api" namespace by portal/api/urls.py."""

from rest_framework.routers import SimpleRouter

from campaigns.api import views

router = SimpleRouter()
router.register("campaigns", views.CampaignViewSet, basename="campaign")

urlpatterns = router.urls
