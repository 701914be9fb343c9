from django.urls import path
from rest_framework.routers import SimpleRouter

from accounts import views

router = SimpleRouter(use_regex_path=False)
router.register("admin/users", views.AdminUserViewSet, basename="admin-users")

urlpatterns = [
    path("auth/login/", views.LoginView.as_view(), name="auth-login"),
    path("auth/logout/", views.LogoutView.as_view(), name="auth-logout"),
    path("auth/logout-all/", views.LogoutAllView.as_view(), name="auth-logout-all"),
    path("profile/me/", views.MeView.as_view(), name="profile-me"),
    path("profile/me/password/", views.PasswordChangeView.as_view(), name="profile-password"),
    *router.urls,
]
