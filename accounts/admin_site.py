"""The Django admin site with the same failed-login limits as the API login (accounts.login_throttle)."""

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.http import HttpResponse

from accounts import login_throttle


class AdminSite(admin.AdminSite):
    def login(self, request, extra_context=None):
        if request.method != "POST":
            return super().login(request, extra_context)
        email = request.POST.get("username", "").strip().lower()
        # Counted before the password hash, as the API login does (accounts/login_throttle.py): a failure unless
        # it succeeds, and a successful admin login redirects with a staff user signed in.
        try:
            return login_throttle.throttled_login(
                request,
                email,
                lambda: super(AdminSite, self).login(request, extra_context),
                succeeded=lambda response: (
                    response.status_code == 302 and request.user.is_authenticated and request.user.is_staff
                ),
            )
        except login_throttle.LoginThrottled as throttled:
            response = HttpResponse("Too many failed logins. Try again later.", status=429, content_type="text/plain")
            response["Retry-After"] = str(throttled.retry_after)
            return response


class ThrottledAdminConfig(AdminConfig):
    """Replaces `django.contrib.admin` in INSTALLED_APPS so that `admin.site` is the site above."""

    default_site = "accounts.admin_site.AdminSite"
