from django.urls import path
from rest_framework.routers import SimpleRouter

from materials import views

# The fixed prefixes (subjects/, enrollments/, progress/) come before the `<pk>/` routes of materials.
subjects = SimpleRouter(use_regex_path=False)
subjects.register("subjects", views.SubjectViewSet, basename="subject")
subjects.register("enrollments", views.EnrollmentViewSet, basename="enrollment")
materials = SimpleRouter(use_regex_path=False)
materials.register("", views.MaterialViewSet, basename="material")

urlpatterns = [
    *subjects.urls,
    path("progress/", views.ProgressDashboardView.as_view(), name="material-progress-dashboard"),
    *materials.urls,
]
