from django.urls import path
from rest_framework.routers import SimpleRouter

from assignments.views import AssignmentViewSet, GradebookView, SubmissionViewSet

router = SimpleRouter(use_regex_path=False)
router.register("submissions", SubmissionViewSet, basename="submission")
router.register("", AssignmentViewSet, basename="assignment")

urlpatterns = [
    path("gradebook/", GradebookView.as_view(), name="gradebook"),
    *router.urls,
]
