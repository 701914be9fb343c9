from django.urls import path, re_path
from rest_framework.routers import SimpleRouter

from scheduling import views

router = SimpleRouter(use_regex_path=False)
router.register("lessons", views.LessonViewSet, basename="lessons")

urlpatterns = [
    path("calendar/", views.CalendarView.as_view(), name="scheduling-calendar"),
    path("calendar/rotate/", views.CalendarRotateView.as_view(), name="scheduling-calendar-rotate"),
    re_path(r"^feed/(?P<secret>[0-9a-f]{1,128})\.ics$", views.CalendarFeedView.as_view(), name="scheduling-feed"),
    *router.urls,
]
