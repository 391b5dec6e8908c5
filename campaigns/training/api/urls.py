"""Routes of the training API, included inside the "api" namespace by portal/api/urls.py."""

from rest_framework.routers import SimpleRouter

from campaigns.training.api import views

router = SimpleRouter()
router.register("training-sessions", views.TrainingSessionViewSet, basename="training-session")

urlpatterns = router.urls
