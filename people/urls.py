from django.urls import path
from rest_framework.routers import SimpleRouter

from people import views

router = SimpleRouter(use_regex_path=False)
router.register("admin/users", views.AdminUserViewSet, basename="admin-users")

urlpatterns = [
    path("profile/me/", views.MeView.as_view(), name="profile-me"),
    path("auth/password-reset/", views.PasswordResetRequestView.as_view(), name="auth-password-reset"),
    path("auth/password-reset/confirm/", views.PasswordResetConfirmView.as_view(), name="auth-password-reset-confirm"),
    *router.urls,
]
