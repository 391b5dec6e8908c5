"""Routes of the case and visit API, included inside the "api" namespace by portal/api/urls.py."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from campaigns.cases.api import views

router = SimpleRouter()
router.register("cases", views.CaseViewSet, basename="case")
router.register("visits", views.VisitViewSet, basename="visit")

urlpatterns = [
    # Matching for a need lives here, beside the cases it leads to, not in the registry's NeedViewSet.
    path("needs/<int:pk>/suggestions/", views.NeedSuggestionsView.as_view(), name="need-suggestions"),
    *router.urls,
]
